"""Benchmark 2 of the delivery engine: delivering under Slack's limits, with faults.

The emulator (in its own process) allows LIMIT chat.postMessage calls a minute across the
workspace and answers 429 with Retry-After above it, and fails a share of calls with HTTP 500 —
half of them (``--fail-after-share``) after the message was posted, so that only the answer is
lost and sending again would make a duplicate. Sprout, configured with the same published limit,
delivers one lesson to N learners; every 500 sends it to look for the message in Slack first,
at Slack's Tier 3 pace for conversations.history. (The emulator enforces no tier here: the count
of copies is read back through conversations.history afterwards, thousands of calls.)

    python benchmarks/rate_limits.py [--learners 1000] [--limit 1200] [--fail-share 0.05] [--fail-after-share 0.5]

Targets: at least 90% of the allowed rate; every message delivered; none sent twice.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

from _common import copies_per_learner, database, emulator_process, enroll, sprout_env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=1200, help="chat.postMessage calls a minute the workspace allows")
    parser.add_argument("--fail-share", type=float, default=0.05)
    parser.add_argument("--fail-after-share", type=float, default=0.5,
                        help="share of the 500s that come after the message was posted")
    parser.add_argument("--database-url", help="PostgreSQL URL (a fresh schema is used); default: SQLite file")
    args = parser.parse_args()
    n = args.learners

    import app
    from learning.clock import SimulatedClock

    extra = ["--rate-limit", str(args.limit), "--rate-burst", "10", "--fail-share", str(args.fail_share),
             "--fail-after-share", str(args.fail_after_share), "--rate-tiers", "none"]
    with emulator_process(n, *extra) as api_url, database(args.database_url) as database_url:
        enroll(database_url, n)
        # Sprout paces evenly (a burst of 2); the burst Slack allows absorbs network jitter instead of 429s.
        env = sprout_env(database_url, api_url, SLACK_RATE_PER_MINUTE=str(args.limit), SLACK_RATE_BURST="2")
        settings = app.load_settings(env, dotenv=None)
        sprout = app.build(settings, clock=SimulatedClock(datetime(2026, 11, 30, 9, 30, tzinfo=UTC), running=True))
        try:
            sprout.plan()
            started = time.perf_counter()
            result = sprout.dispatcher.drain(timeout=3600)
            elapsed = time.perf_counter() - started
            counts = sprout.store.outbox_counts()
        finally:
            sprout.close()
        copies = copies_per_learner(api_url, n)

    lost = sum(1 for c in copies.values() if c == 0)
    duplicates = sum(max(0, c - 1) for c in copies.values())
    achieved = n / elapsed * 60
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"one lesson to {n} learners under a workspace limit of {args.limit}/min "
          f"with {args.fail_share:.0%} of calls failing with HTTP 500, {args.fail_after_share:.0%} of those "
          f"after posting ({backend})")
    print(f"  achieved rate        {achieved:8.0f} msg/min  ({elapsed:.1f} s)")
    print(f"  share of the limit   {achieved / args.limit:8.1%}       target ≥ 90%")
    print(f"  lost                 {lost:8d}       target 0")
    print(f"  duplicates           {duplicates:8d}       target 0")
    print(f"  429s answered        {result.rate_limited:8d}")
    print(f"  retries after 5xx    {result.retried:8d}   outbox: {counts}")
    print(f"  looked up in Slack   {result.looked_up:8d}   (after a 500, before sending again)")
    return 0 if lost == 0 and duplicates == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
