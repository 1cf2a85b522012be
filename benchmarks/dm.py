"""Benchmark: how fast Sprout answers what learners type in its DM.

An in-process Sprout (``sandbox.workspace.LocalWorkspace``: the real Bolt endpoint over signed HTTP, the
emulator as Slack) with the bundled packs and ``--learners`` learners in the roster. Each learner types one
message — a third "help", a third a question some lesson answers, a third one none does — as a
``message.im`` event, ``--concurrency`` at a time. Measured: from the event's request to Sprout's reply
being in the DM (through the outbox), and the event's answer (Slack wants it within 3 s).

    python benchmarks/dm.py [--learners 300] [--concurrency 20] [--database-url postgresql+psycopg://…]

Baseline, in the same run and at the same concurrency: a bare slack-sdk ``chat.postMessage`` to each
learner's DM, the Slack part of a reply with nothing of Sprout's.

Targets (the exit code): every message answered once; the reply p95 under 1 s. A PostgreSQL run gets a
fresh schema (the emulator starts afresh, so its channel ids and message ts repeat, and a reply's dedupe
key ``dm_reply:<channel>:<ts>`` from an earlier run would hold). Raw output: benchmarks/results/dm.txt.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Results, database  # noqa: E402

import app  # noqa: E402
from learning.roster import RosterRow  # noqa: E402
from sandbox.clock import SimulatedClock  # noqa: E402
from sandbox.workspace import LocalWorkspace  # noqa: E402

SAID = ("help", "how do I spot a phishing email?", "Who waters the zorblax in the Lisbon office?")


def bare_replies(api_url: str, token: str, users: list[str], concurrency: int) -> list[float]:
    """Seconds for each of a bare ``chat.postMessage`` to ``users``' DMs, ``concurrency`` at a time."""
    from slack_sdk import WebClient

    client = WebClient(token=token, base_url=api_url)

    def one(uid: str) -> float:
        start = time.perf_counter()
        client.chat_postMessage(channel=uid, text="Here are the lessons on that.")
        return time.perf_counter() - start

    with ThreadPoolExecutor(concurrency) as pool:
        return sorted(pool.map(one, users))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    r = Results("dm")
    with database(args.database_url) as url:
        clock = SimulatedClock(datetime(2026, 11, 29, 12, tzinfo=UTC))
        settings = dataclasses.replace(app.Settings(), database_url=url, rate_per_minute=1_000_000, burst=10_000)
        with LocalWorkspace(build=app.build, settings=settings, clock=clock,
                            build_options={"listener_workers": 16}) as ws:
            ids = [f"U0L{i:05d}" for i in range(args.learners)]
            ws.sprout.store.import_roster([RosterRow(i + 2, uid, f"Learner {i}", None, "learner", None, None, "UTC", ())
                                           for i, uid in enumerate(ids)], clock())
            ws.sprout.store.import_roster([RosterRow(2, "U0FAC", "Fay", None, "facilitator", None, None, "UTC", ())],
                                          clock())
            for uid in [*ids, "U0FAC"]:
                ws.emulator.add_user(uid, name=uid, real_name=uid, tz="UTC")

            def one(i: int) -> tuple[float, float]:
                uid = ids[i]
                start = time.perf_counter()
                response = ws.driver.user_message(uid, None, SAID[i % len(SAID)])
                acked = time.perf_counter() - start
                assert response.status == 200, response.text
                ws.emulator.wait_for(lambda: any(m.get("bot_id") for m in ws.emulator.dm_messages(uid)),
                                     interval=0.002)
                return acked, time.perf_counter() - start

            began = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                timings = list(pool.map(one, range(len(ids))))
            wall = time.perf_counter() - began
            replies = [len([m for m in ws.emulator.dm_messages(uid) if m.get("bot_id")]) for uid in ids]
            bare_ids = [f"U0B{i:05d}" for i in range(args.learners)]
            for uid in bare_ids:
                ws.emulator.add_user(uid, name=uid, real_name=uid, tz="UTC")
            bare = bare_replies(ws.emulator.api_url, ws.emulator.bot_token, bare_ids, args.concurrency)
    acks = sorted(a for a, _ in timings)
    answered = sorted(r for _, r in timings)

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(p * len(values)))] * 1000

    backend = "postgresql" if args.database_url else "sqlite"
    r.say(f"database: {backend} · {args.learners} messages, {args.concurrency} at a time, {wall:.1f} s")
    r.say(f"  event answered:   p50 {pct(acks, 0.5):5.0f} ms · p95 {pct(acks, 0.95):5.0f} ms · max {acks[-1] * 1000:.0f} ms")
    r.say(f"  reply in the DM:  p50 {pct(answered, 0.5):5.0f} ms · p95 {pct(answered, 0.95):5.0f} ms · "
          f"max {answered[-1] * 1000:.0f} ms · mean {statistics.mean(answered) * 1000:.0f} ms")
    r.say(f"  bare chat.postMessage (baseline): p50 {pct(bare, 0.5):5.0f} ms · p95 {pct(bare, 0.95):5.0f} ms")
    r.say(f"  replies: {sum(replies)} for {args.learners} messages")
    r.target("every message answered once", all(n == 1 for n in replies))
    r.target("reply p95 under 1 s", pct(answered, 0.95) < 1000)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
