"""A hosted Sprout's cost per workspace: start-up time, memory and threads of ``python app.py run`` serving
N installed workspaces, beside the same command serving one workspace with a bot token.

    python benchmarks/hosted.py [--workspaces 50] [--database-url postgresql+psycopg://…]

The workspaces are emulators behind one Web API address (sandbox.cloud), installed by writing their
installations into slack-sdk's installation store, as the OAuth flow would. Figures are of the Sprout
process only (read from /proc); no message is sent. Memory and threads are sampled once every workspace's
first scheduler jobs (planning, sending, the redraw at start, forgetting old event ids) have run, as
``/healthz`` says (``first_jobs_waiting``: 0), not at a guess.

Targets (the README's "within seconds" for a SIGTERM; the others at the README's measured figures, with a
margin for a shared machine): each extra workspace costs at most 0.4 s to be ready and at most 6 MB of
memory; every workspace's first jobs run within a minute of the banner; SIGTERM to exit within 10 s. A second
start on the same database (a restart, every schema already current: one ``SELECT`` each, no Alembic) costs at
most 0.1 s per extra workspace.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime

from _common import ROOT, Results, database, free_port

CLIENT_ID = "1111111111.2222222222"


def install(database_url: str, teams: list[str]) -> None:
    from slack_sdk.oauth.installation_store import Installation
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    from db.engine import make_engine
    from db.migrate import upgrade

    engine = make_engine(database_url)
    upgrade(engine)
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=engine)
    for team in teams:
        store.save(Installation(app_id="A0SPROUT", team_id=team, team_name=team, bot_token=f"xoxb-{team.lower()}",
                                bot_id=f"B{team[1:]}", bot_user_id=f"U{team[1:]}", bot_scopes="chat:write",
                                user_id="U0ADMIN", installed_at=datetime.now(UTC).timestamp()))
    engine.dispose()


def proc_status(pid: int) -> dict[str, int]:
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                fields[key] = int(value.split()[0])
    return fields


@dataclass
class Served:
    ready: float  # seconds from the start until it says it listens
    settled: float  # ... until /healthz says every first job has run (nan if it never did)
    status: dict[str, int]  # VmRSS, VmHWM, Threads then
    stopping: float  # seconds from SIGTERM to exit


def first_jobs_waiting(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            return json.loads(answer.read()).get("first_jobs_waiting")
    except OSError:
        return None


def serve(env: dict[str, str], port: int, *, settle_within: float = 60) -> Served:
    """Start ``app.py run``, wait until every workspace's first jobs have run, sample it, stop it."""
    # Its log to a file: a pipe nobody reads fills (64 KiB) and blocks the process in mid-start.
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in the finally below, after the process
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "app.py", "run", "--host", "127.0.0.1", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        banner = process.stdout.readline()
        ready = time.perf_counter() - started
        if "listening" not in banner:
            log.seek(0)
            raise SystemExit(f"run did not start: {banner}{log.read()}")
        settled = float("nan")
        deadline = time.perf_counter() + settle_within
        while time.perf_counter() < deadline and process.poll() is None:
            if first_jobs_waiting(port) == 0:
                settled = time.perf_counter() - started
                break
            time.sleep(0.1)  # how often to ask, not a guess at when the jobs are done
        status = proc_status(process.pid)
        stopping = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
        return Served(ready, settled, status, time.perf_counter() - stopping)
    finally:
        if process.poll() is None:
            process.kill()
        log.close()


def main() -> int:
    from sandbox.cloud import SlackCloud
    from sandbox.emulator import SlackEmulator

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=50)
    parser.add_argument("--database-url", help="PostgreSQL URL (a fresh schema is used); default: SQLite file")
    args = parser.parse_args()
    teams = [f"T{i:07d}" for i in range(1, args.workspaces + 1)]

    with SlackCloud(client_id=CLIENT_ID) as cloud, database(args.database_url) as database_url:
        for team in teams:
            cloud.add_workspace(SlackEmulator(bot_token=f"xoxb-{team.lower()}", team_id=team, team_name=team))
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
        base.update({"SLACK_SIGNING_SECRET": "bench", "SLACK_API_URL": cloud.api_url, "REMINDER_AFTER_HOURS": "0"})

        one = serve({**base, "DATABASE_URL": database_url, "SLACK_BOT_TOKEN": f"xoxb-{teams[0].lower()}"},
                    free_port())
        install(database_url, teams)
        hosted_env = {**base, "DATABASE_URL": database_url, "SLACK_CLIENT_ID": CLIENT_ID,
                      "SLACK_CLIENT_SECRET": "bench-secret",
                      "SPROUT_SECRET_KEY": "8Jd0cS5Kpm0DzZtQm8pA7pN1VvO6d9Qe1m3iWfTbq2E="}
        many = serve(hosted_env, free_port())  # the first start: every workspace's schema is made
        again = serve(hosted_env, free_port())  # a restart, the usual case: every schema is already current

    n = args.workspaces
    backend = "postgresql" if args.database_url else "sqlite"
    r = Results("hosted")
    r.say(f"python app.py run: one workspace with a bot token, then hosted with {n} installed ({backend}, "
          f"load average {os.getloadavg()[0]:.2f}); sampled once /healthz says every first job has run")
    r.say(f"  {'':26}{'one workspace':>16}{f'{n} workspaces':>16}{'per extra workspace':>22}")
    per_ready = (many.ready - one.ready) / (n - 1)
    r.say(f"  {'ready to serve':26}{one.ready:14.1f} s{many.ready:14.1f} s{per_ready * 1000:18.0f} ms")
    r.say(f"  {'ready to serve, restarted':26}{'':16}{again.ready:14.1f} s"
          f"{(again.ready - one.ready) / (n - 1) * 1000:18.0f} ms   (the schemas already current)")
    r.say(f"  {'first jobs all run':26}{one.settled:14.1f} s{many.settled:14.1f} s"
          f"{(many.settled - one.settled) / (n - 1) * 1000:18.0f} ms")
    per_mb = {}
    for key, label in (("VmRSS", "memory (RSS)"), ("VmHWM", "peak memory")):
        a, b = one.status[key] / 1024, many.status[key] / 1024
        per_mb[key] = (b - a) / (n - 1)
        r.say(f"  {label:26}{a:13.0f} MB{b:13.0f} MB{per_mb[key]:19.1f} MB")
    a, b = one.status["Threads"], many.status["Threads"]
    r.say(f"  {'threads':26}{a:16d}{b:16d}{(b - a) / (n - 1):22.1f}")
    r.say(f"  {'SIGTERM to exit':26}{one.stopping:14.1f} s{many.stopping:14.1f} s")
    r.target("every workspace's first jobs run within a minute of the banner (one and hosted)",
             one.settled == one.settled and many.settled == many.settled)
    r.target("ready to serve: at most 0.4 s per extra workspace", per_ready <= 0.4)
    r.target("ready to serve after a restart: at most 0.1 s per extra workspace",
             (again.ready - one.ready) / (n - 1) <= 0.1)
    r.target("memory (RSS) after the first jobs: at most 6 MB per extra workspace", per_mb["VmRSS"] <= 6)
    r.target("SIGTERM to exit within 10 s (one and hosted)", max(one.stopping, many.stopping) <= 10)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
