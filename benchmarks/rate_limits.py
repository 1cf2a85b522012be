"""Benchmark 2 of the delivery engine: delivering under Slack's limits, with faults.

The emulator (in its own process) allows LIMIT chat.postMessage calls a minute across the
workspace and answers 429 with Retry-After above it, and fails a share of calls with HTTP 500 —
half of them (``--fail-after-share``) after the message was posted, so that only the answer is
lost and sending again would make a duplicate. Sprout delivers one lesson to N learners; every
500 sends it to look for the message in Slack first, at Slack's Tier 3 pace for
conversations.history. (The emulator enforces no tier here: the count of copies is read back
through conversations.history afterwards, thousands of calls.)

Two cases, each on a fresh database:

* configured — Sprout is told the limit (SLACK_RATE_PER_MINUTE=LIMIT), a ceiling it never exceeds;
* adaptive — Sprout is not told: it starts at 600/min and finds the limit from Slack's 429s (AIMD).

    python benchmarks/rate_limits.py [--case configured|adaptive|both] [--learners 1200] [--limit 2400]
                                     [--fail-share 0.05] [--fail-after-share 0.5] [--database-url URL]

"While posting" is the rate of the sends that were never in doubt, from the first lesson Slack
received to the last of them: what look-ups must not hold back. The messages that met a 500 follow
at the pace of their look-ups (Tier 3: 50 a minute), which bounds the end-to-end time, printed too.

Targets: configured ≥ 90% of the limit while posting; adaptive ≥ 85%; 429s under 5% of calls; every
message delivered, none twice, the last within five minutes; the learned rate kept in the database.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

from _common import TOKEN, Results, database, emulator_process, enroll, sprout_env, user_id


def stamps_per_learner(api_url: str, learners: int) -> dict[str, list[float]]:
    """The Slack timestamps of the Sprout lessons each learner holds, read back as a person would see them."""
    from slack_sdk import WebClient

    client = WebClient(token=TOKEN, base_url=api_url)
    stamps: dict[str, list[float]] = {}
    for i in range(1, learners + 1):
        channel = client.conversations_open(users=user_id(i))["channel"]["id"]
        page = client.conversations_history(channel=channel, limit=200, include_all_metadata=True)
        stamps[user_id(i)] = [float(m["ts"]) for m in page["messages"]
                              if (m.get("metadata") or {}).get("event_type") == "sprout_delivery"]
    return stamps


def run_case(case: str, args, r: Results) -> None:
    from sqlalchemy import select

    import app
    from db.engine import make_engine
    from db.pacing import LearnedPaces
    from sandbox.clock import SimulatedClock

    n = args.learners
    extra = ["--rate-limit", str(args.limit), "--rate-burst", "10", "--fail-share", str(args.fail_share),
             "--fail-after-share", str(args.fail_after_share), "--rate-tiers", "none"]
    told = {"SLACK_RATE_PER_MINUTE": str(args.limit)} if case == "configured" else {}
    with emulator_process(n, *extra) as api_url, database(args.database_url) as database_url:
        enroll(database_url, n)
        # Sprout paces evenly (a burst of 2); the burst Slack allows absorbs network jitter instead of 429s.
        env = sprout_env(database_url, api_url, SLACK_RATE_BURST="2", **told)
        settings = app.load_settings(env, dotenv=None)
        sprout = app.build(settings, clock=SimulatedClock(datetime(2026, 11, 30, 9, 30, tzinfo=UTC), running=True))
        try:
            sprout.plan()
            started = time.perf_counter()
            result = sprout.dispatcher.drain(timeout=1800)
            elapsed = time.perf_counter() - started
            counts = sprout.store.outbox_counts()
            final_rate = sprout.dispatcher.bucket.learned_per_minute()
        finally:
            sprout.close()
        engine = make_engine(database_url)
        try:
            learned = LearnedPaces(engine).per_minute("chat.postMessage")
            from db.models import OutboxMessage

            with engine.connect() as conn:
                doubted = {row.channel for row in conn.execute(
                    select(OutboxMessage.channel).where(OutboxMessage.attempts > 1))}  # sent once: 1
        finally:
            engine.dispose()
        stamps = stamps_per_learner(api_url, n)

    lost = sum(1 for s in stamps.values() if not s)
    duplicates = sum(max(0, len(s) - 1) for s in stamps.values())
    every = sorted(t for s in stamps.values() for t in s)
    clean = sorted(t for learner, s in stamps.items() if learner not in doubted for t in s)
    first = every[0] if every else 0.0
    posting = (len(clean) - 1) / (clean[-1] - first) * 60 if len(clean) > 1 and clean[-1] > first else 0.0
    span = every[-1] - first if every else 0.0
    calls = n + result.retried + result.rate_limited  # chat.postMessage calls, about (found ones posted once)
    share_429 = result.rate_limited / calls if calls else 0.0
    backend = "postgresql" if args.database_url else "sqlite"
    goal = 0.90 if case == "configured" else 0.85
    told_text = f"configured SLACK_RATE_PER_MINUTE={args.limit}" if told else "not told the limit (adaptive)"
    r.say(f"[{case}] one lesson to {n} learners, workspace limit {args.limit}/min, Sprout {told_text}, "
          f"{args.fail_share:.0%} HTTP 500s ({args.fail_after_share:.0%} after posting), {backend}")
    r.say(f"  while posting        {posting:8.0f} msg/min  {posting / args.limit:6.1%} of the limit "
          f"({len(clean)} sends never in doubt)   target ≥ {goal:.0%}")
    r.say(f"  end to end           {n / span * 60 if span else 0:8.0f} msg/min  first lesson to last {span:.1f} s "
          f"(drain {elapsed:.1f} s)")
    r.say(f"  429s answered        {result.rate_limited:8d}       {share_429:.1%} of ~{calls} calls   target < 5%")
    r.say(f"  lost / duplicates    {lost:8d} / {duplicates}   target 0 / 0")
    r.say(f"  in doubt (500)       {len(doubted):8d}   looked up {result.looked_up}, retries {result.retried}, "
          f"outbox {counts}")
    r.say(f"  pace at the end      {final_rate:8.0f} /min; kept in the database: {learned or 0:.0f} /min")
    r.target(f"{case}: ≥ {goal:.0%} of the limit while posting ({backend})", posting >= goal * args.limit)
    r.target(f"{case}: 429s under 5% of calls ({backend})", share_429 < 0.05)
    r.target(f"{case}: no learner lost, none twice ({backend})", lost == 0 and duplicates == 0)
    r.target(f"{case}: every lesson within five minutes ({backend})", span <= 300 and counts == {"sent": n})
    r.target(f"{case}: the learned rate kept in the database ({backend})",
             learned is not None and abs(learned - final_rate) <= 0.05 * final_rate)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=("configured", "adaptive", "both"), default="both")
    parser.add_argument("--learners", type=int, default=1200)
    parser.add_argument("--limit", type=int, default=2400, help="chat.postMessage calls a minute the workspace allows")
    parser.add_argument("--fail-share", type=float, default=0.05)
    parser.add_argument("--fail-after-share", type=float, default=0.5,
                        help="share of the 500s that come after the message was posted")
    parser.add_argument("--database-url", help="PostgreSQL URL (a fresh schema is used); default: SQLite file")
    args = parser.parse_args()
    r = Results("rate_limits")
    for case in ("configured", "adaptive") if args.case == "both" else (args.case,):
        run_case(case, args, r)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
