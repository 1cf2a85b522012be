"""Benchmarks 1 and 3 of the delivery engine: fan-out overhead and memory.

One lesson to N enrolled learners through ``python app.py tick``, against the emulator (in its
own process, no rate limit), beside a bare sequential slack-sdk ``chat_postMessage`` loop sending
the same N already-rendered messages to the same emulator in the same run.

    python benchmarks/fanout.py [--learners 10000] [--database-url postgresql+psycopg://…]

Targets: Sprout at least as fast as the bare loop; at most 2 ms of Sprout CPU per delivery;
peak RSS of the Sprout process under 250 MB.
"""

from __future__ import annotations

import argparse
import logging
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime

from _common import ROOT, TOKEN, copies_per_learner, database, emulator_process, enroll, sprout_env, user_id

AT = "2026-11-30T09:30:00Z"


def rendered_lesson():
    """The message Sprout sends, rendered once (the bare loop gets it for free)."""
    from bot.blocks import lesson_message
    from content_packs.loader import BUNDLED_DIR, load_packs
    from db.store import DeliveryState

    pack = load_packs(BUNDLED_DIR).packs["security-basics"]
    lesson = pack.lessons[0]
    now = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
    state = DeliveryState(id=1, learner_id=1, slack_user_id="U", learner_name="", pack_id=pack.id,
                          lesson_id=lesson.id, pack_version=pack.version, kind="scheduled", status="queued",
                          due_at=now, sent_at=None, channel_id=None, message_ts=None)
    return lesson_message(pack, lesson, state)


def bare_loop(api_url: str, learners: int) -> float:
    from slack_sdk import WebClient

    from bot.library_logging import settle_library_logging

    # As Sprout runs: slack-sdk formats no debug lines it would drop (bot/library_logging.py).
    settle_library_logging(logging.WARNING)
    message = rendered_lesson()
    client = WebClient(token=TOKEN, base_url=api_url)
    started = time.perf_counter()
    for i in range(1, learners + 1):
        client.chat_postMessage(channel=user_id(i), text=message.text, blocks=message.blocks)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--database-url", help="PostgreSQL URL (a fresh schema is used); default: SQLite file")
    parser.add_argument("--senders", type=int, default=8)
    args = parser.parse_args()
    n = args.learners

    with emulator_process(n, "--rate-tiers", "none") as api_url, database(args.database_url) as database_url:
        enroll(database_url, n)
        # The bare loop runs before Sprout and again after it, and the two are averaged: on a shared machine
        # the speed drifts by a tenth within a minute, which one baseline run would put into the ratio.
        bare_before = bare_loop(api_url, n)

        env = sprout_env(database_url, api_url, SLACK_RATE_PER_MINUTE="10000000", SLACK_RATE_BURST="10000",
                         SPROUT_SENDERS=str(args.senders))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "app.py", "tick", "--at", AT], cwd=ROOT, env=env,
                                capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            return 1
        bare_after = bare_loop(api_url, n)
        baseline = (bare_before + bare_after) / 2
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        peak_mb = after.ru_maxrss / 1024

        stamps: list[float] = []
        copies = copies_per_learner(api_url, n, stamps)  # the bare loop's messages carry no metadata
        lost = sum(1 for c in copies.values() if c == 0)
        duplicates = sum(max(0, c - 1) for c in copies.values())
        fan_out = max(stamps) - min(stamps) if len(stamps) > 1 else float("nan")

    backend = "postgresql" if args.database_url else "sqlite"
    print(f"fan-out of one lesson to {n} learners ({backend}, {args.senders} senders, emulator in its own process)")
    print(f"  bare slack-sdk loop      {n / baseline:8.0f} msg/s   ({baseline:.1f} s: the mean of "
          f"{n / bare_before:.0f} msg/s before Sprout and {n / bare_after:.0f} after)")
    print(f"  sprout fan-out           {n / fan_out:8.0f} msg/s   ({fan_out:.1f} s from the first message to the last)")
    print(f"  ratio sprout / bare      {baseline / fan_out:8.2f}       target ≥ 1.00")
    print(f"  sprout tick, end to end  {n / elapsed:8.0f} msg/s   ({elapsed:.1f} s: process start, migrations check, "
          f"planning {n} deliveries, fan-out; ratio {baseline / elapsed:.2f})")
    print(f"  sprout CPU per delivery  {cpu / n * 1000:8.2f} ms    target ≤ 2 ms (start-up included)")
    print(f"  sprout peak RSS          {peak_mb:8.0f} MB    target < 250 MB")
    print(f"  lost / duplicate copies  {lost} / {duplicates}")
    print(f"  tick said: {result.stdout.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
