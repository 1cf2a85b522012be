"""Shared pieces of the benchmarks: an emulator in its own process, a database, a roster."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "xoxb-benchmark"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def user_id(i: int) -> str:
    return f"U0DEMO{i:04d}"  # the emulator's --demo-users ids, from 1


@contextmanager
def emulator_process(users: int, *extra: str):
    """The Slack emulator in a process of its own, so its CPU is not Sprout's."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.emulator", "--port", str(port), "--bot-token", TOKEN,
         "--demo-users", str(users), *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}/api/"
    _EMULATOR_PIDS[url] = process.pid
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start: {process.stderr.read()}") from None
            time.sleep(0.1)
    try:
        yield url
    finally:
        _EMULATOR_PIDS.pop(url, None)
        process.terminate()
        process.wait(timeout=10)


_EMULATOR_PIDS: dict[str, int] = {}


def emulator_rss_mb(api_url: str) -> float:
    """The resident memory of the emulator process serving ``api_url`` (it keeps every message it is sent)."""
    with open(f"/proc/{_EMULATOR_PIDS[api_url]}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def emulator_cpu_s(api_url: str) -> float:
    """CPU seconds (user and system) the emulator process serving ``api_url`` has used so far."""
    with open(f"/proc/{_EMULATOR_PIDS[api_url]}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def database(url: str | None):
    """A fresh SQLite file, or a fresh schema in the PostgreSQL database ``url`` names."""
    if not url:
        with tempfile.TemporaryDirectory(prefix="sprout-bench-") as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in url else "?"
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        from db.workspaces import drop_schema

        drop_schema(admin, schema)  # and a hosted Sprout's workspaces' schemas beside it
        admin.dispose()


def enroll(database_url: str, learners: int, pack: str = "security-basics", tz: str = "UTC") -> None:
    from db.engine import make_engine
    from db.migrate import upgrade
    from db.store import Store
    from learning.roster import parse_roster

    engine = make_engine(database_url)
    upgrade(engine)
    csv = "slack_user_id,name,timezone,packs\n" + "".join(
        f"{user_id(i)},Learner {i},{tz},{pack}\n" for i in range(1, learners + 1)
    )
    Store(engine).import_roster(parse_roster(csv, known_packs={pack}).rows, datetime(2026, 11, 29, tzinfo=UTC))
    engine.dispose()


def sprout_env(database_url: str, api_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update({"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "bench",
                "SLACK_API_URL": api_url, "REMINDER_AFTER_HOURS": "0", **extra})
    return env


def copies_per_learner(api_url: str, learners: int, stamps: list[float] | None = None) -> dict[str, int]:
    """How many Sprout lessons each learner holds, read back through the Web API as a person would see them.

    ``stamps`` collects the Slack timestamps of those messages (when the emulator received them)."""
    from slack_sdk import WebClient

    client = WebClient(token=TOKEN, base_url=api_url)
    counts = {}
    for i in range(1, learners + 1):
        channel = client.conversations_open(users=user_id(i))["channel"]["id"]
        n = 0
        cursor = None
        while True:
            page = client.conversations_history(channel=channel, limit=200, cursor=cursor, include_all_metadata=True)
            ours = [m for m in page["messages"] if (m.get("metadata") or {}).get("event_type") == "sprout_delivery"]
            n += len(ours)
            if stamps is not None:
                stamps.extend(float(m["ts"]) for m in ours)
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        counts[user_id(i)] = n
    return counts


class Results:
    """What a benchmark prints, kept: each run is appended to ``benchmarks/results/<name>.txt`` with the
    commit, the date, the machine and the command line, and ends with its targets judged, which also decide
    the exit code. Several runs in one file are what a range in the README is taken from."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[str] = []
        self.targets: list[tuple[str, bool]] = []

    def say(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    def target(self, description: str, ok: bool) -> bool:
        self.targets.append((description, bool(ok)))
        return ok

    def finish(self) -> int:
        failed = [d for d, ok in self.targets if not ok]
        self.say("targets:")
        for description, ok in self.targets:
            self.say(f"  {'PASS' if ok else 'FAIL'}  {description}")
        self.say(f"verdict: {'FAIL' if failed else 'PASS'} ({len(self.targets) - len(failed)}/{len(self.targets)})")
        folder = ROOT / "benchmarks" / "results"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"{self.name}.txt").open("a", encoding="utf-8") as out:
            out.write(f"=== {' '.join(['python', *sys.argv])}\n")
            out.write(f"{machine()}\n")
            out.write("\n".join(self.lines) + "\n\n")
        return 1 if failed else 0


def machine() -> str:
    """The commit (``+dirty`` with uncommitted changes), the date and the machine, for a results file."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    # The results files themselves do not count: a second run after the first has appended is the same code.
    if git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!benchmarks/results"):
        commit += "+dirty"
    memory_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    except OSError:
        pass
    return (f"commit {commit} · {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} · {os.cpu_count()} CPUs · "
            f"{memory_kib / 1024 / 1024:.0f} GiB · Python {sys.version.split()[0]}")
