"""Benchmark of a roster that names people by email: `python app.py roster import` resolving 10,000 emails
with users.lookupByEmail against the emulator, which holds that method to Slack's Tier 3 (50 a minute,
bursts of a minute's allowance), then the same file again (every email known: no call).

Slack's Tier 3 is 50 calls a minute, so 10,000 new emails take 200 minutes for real. To measure the pacing
in one sitting, ``--speedup`` shortens the emulator's minute (``set_rate_limit(..., minute=60/speedup)``):
its limit stays "50 a minute", a minute lasting 60/speedup real seconds, and Sprout is told the same
figure in real minutes (SLACK_LOOKUP_RATE_PER_MINUTE = 50 × speedup). ``--real-rows`` adds a short run at
the real Tier 3 rate, unshortened.

    python benchmarks/roster_email.py [--rows 10000] [--speedup 50] [--real-rows 120] [--database-url …]

Targets: within the limit (no 429 storm: under 1% of calls answered 429), at least 80% of the limit
while looking up, every row imported, the second import makes no call.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, TOKEN, Results, database

from sandbox.emulator import SlackEmulator

TIER_3 = 50
SUMMARY = re.compile(r": (\d+) added, (\d+) updated, (\d+) new enrollments")


def write_roster(path: Path, rows: int, offset: int = 0) -> None:
    lines = ["email,name,role,manager_email,team,timezone,packs"]
    for i in range(offset, offset + rows):
        manager = "" if i % 8 == 0 else f"person.{i - i % 8}@example.com"
        lines.append(f"person.{i}@example.com,Person {i},{'manager' if not manager else 'learner'},{manager},"
                     f"Team {i // 400},Europe/Berlin,security-basics")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_import(database_url: str, api_url: str, path: Path, per_minute: float) -> tuple[float, str, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update({"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "bench",
                "SLACK_API_URL": api_url, "SLACK_LOOKUP_RATE_PER_MINUTE": f"{per_minute:g}"})
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "app.py", "roster", "import", str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    return time.perf_counter() - started, (done.stdout + done.stderr).strip(), done.returncode


def lookup_rate(emulator: SlackEmulator, since: int) -> tuple[int, int, float]:
    """(calls, 429s, calls a minute from the first to the last) of users.lookupByEmail after ``since``."""
    calls = emulator.calls("users.lookupByEmail")[since:]
    limited = sum(1 for c in calls if c["http_status"] == 429)
    answered = [c["at"] for c in calls if c["http_status"] == 200]
    span = answered[-1] - answered[0] if len(answered) > 1 else 0.0
    return len(calls), limited, (len(answered) - 1) / span * 60 if span else 0.0


def case(r: Results, emulator: SlackEmulator, database_url: str, rows: int, speedup: float, offset: int,
         backend: str, folder: Path) -> None:
    emulator.set_rate_limit("users.lookupByEmail", TIER_3, minute=60 / speedup)
    limit = TIER_3 * speedup  # calls a real minute
    path = folder / f"roster-{offset}.csv"
    write_roster(path, rows, offset)
    before = len(emulator.calls("users.lookupByEmail"))
    elapsed, out, code = run_import(database_url, emulator.api_url, path, limit)
    calls, limited, rate = lookup_rate(emulator, before)
    match = SUMMARY.search(out)
    added = int(match.group(1)) if match else -1
    label = f"{rows} emails, Tier 3 ({TIER_3}/min)" + (f" with the minute shortened ×{speedup:g}" if speedup != 1 else
                                                       ", real time")
    r.say(f"[{label}] {backend}")
    r.say(f"  first import          {elapsed:8.1f} s   {added} added (exit {code})")
    r.say(f"  look-ups              {calls:8d}      429s answered: {limited} ({limited / max(calls, 1):.1%})")
    r.say(f"  rate while looking up {rate:8.0f} /min   limit {limit:.0f} /min = {rate / limit:.1%} of it "
          f"(= {rate / speedup:.1f} a Slack minute)")
    again_before = len(emulator.calls("users.lookupByEmail"))
    again, out2, code2 = run_import(database_url, emulator.api_url, path, limit)
    again_calls = len(emulator.calls("users.lookupByEmail")) - again_before
    r.say(f"  second import         {again:8.1f} s   {again_calls} look-ups (every email known); "
          f"{out2.splitlines()[-1] if out2 else ''}")
    r.target(f"{label}: every row imported ({backend})", code == 0 and added == rows)
    r.target(f"{label}: within the limit, no 429 storm (< 1% of calls) ({backend})",
             rate <= limit * 1.02 and limited < 0.01 * max(calls, 1))
    r.target(f"{label}: ≥ 80% of the limit while looking up ({backend})", rate >= 0.8 * limit)
    r.target(f"{label}: the second import makes no call ({backend})", code2 == 0 and again_calls == 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--speedup", type=float, default=50.0, help="real seconds in the emulator's minute: 60/this")
    parser.add_argument("--real-rows", type=int, default=120, help="rows of the unshortened run (0: none)")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    r = Results("roster_email")
    backend = "postgresql" if args.database_url else "sqlite"
    total = args.rows + args.real_rows
    with SlackEmulator(bot_token=TOKEN, rate_tiers=None) as emulator, tempfile.TemporaryDirectory() as folder:
        for i in range(total):
            emulator.add_user(f"U0P{i:06d}", name=f"person{i}", real_name=f"Person {i}",
                              email=f"person.{i}@example.com")
        with database(args.database_url) as database_url:
            case(r, emulator, database_url, args.rows, args.speedup, 0, backend, Path(folder))
            if args.real_rows:
                case(r, emulator, database_url, args.real_rows, 1, args.rows, backend, Path(folder))
    r.say(f"  at Slack's real Tier 3 ({TIER_3}/min), {args.rows} new emails take about "
          f"{args.rows / TIER_3:.0f} minutes of look-ups; only the first import pays (known emails need no call)")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
