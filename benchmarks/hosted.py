"""A hosted Sprout's cost per workspace: start-up time, memory and threads of ``python app.py run`` serving
N installed workspaces, beside the same command serving one workspace with a bot token.

    python benchmarks/hosted.py [--workspaces 50] [--database-url postgresql+psycopg://…]

The workspaces are emulators behind one Web API address (sandbox.cloud), installed by writing their
installations into slack-sdk's installation store, as the OAuth flow would. Figures are of the Sprout
process only (read from /proc); no message is sent.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

from _common import ROOT, database, free_port

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


def serve(env: dict[str, str], port: int) -> tuple[float, dict[str, int], float]:
    """Start ``app.py run``; seconds until it says it listens, its memory and threads then, seconds to stop."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "app.py", "run", "--host", "127.0.0.1", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stdout.readline()
        ready = time.perf_counter() - started
        if "listening" not in banner:
            raise SystemExit(f"run did not start: {banner}{process.stderr.read()}")
        time.sleep(3)  # the first planning and sending jobs have run
        status = proc_status(process.pid)
        stopping = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
        return ready, status, time.perf_counter() - stopping
    finally:
        if process.poll() is None:
            process.kill()


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
        many = serve({**base, "DATABASE_URL": database_url, "SLACK_CLIENT_ID": CLIENT_ID,
                      "SLACK_CLIENT_SECRET": "bench-secret",
                      "SPROUT_SECRET_KEY": "8Jd0cS5Kpm0DzZtQm8pA7pN1VvO6d9Qe1m3iWfTbq2E="}, free_port())

    n = args.workspaces
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"python app.py run: one workspace with a bot token, then hosted with {n} installed ({backend})")
    print(f"  {'':26}{'one workspace':>16}{f'{n} workspaces':>16}{'per extra workspace':>22}")
    print(f"  {'ready to serve':26}{one[0]:14.1f} s{many[0]:14.1f} s{(many[0] - one[0]) / (n - 1) * 1000:18.0f} ms")
    for key, label in (("VmRSS", "memory (RSS)"), ("VmHWM", "peak memory")):
        a, b = one[1][key] / 1024, many[1][key] / 1024
        print(f"  {label:26}{a:13.0f} MB{b:13.0f} MB{(b - a) / (n - 1):19.1f} MB")
    a, b = one[1]["Threads"], many[1]["Threads"]
    print(f"  {'threads':26}{a:16d}{b:16d}{(b - a) / (n - 1):22.1f}")
    print(f"  {'SIGTERM to exit':26}{one[2]:14.1f} s{many[2]:14.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
