"""Benchmark: how fast Sprout answers what learners type in its DM.

An in-process Sprout (``sandbox.workspace.LocalWorkspace``: the real Bolt endpoint over signed HTTP, the
emulator as Slack) with the bundled packs and ``--learners`` learners in the roster. Each learner types one
message — a third "help", a third a question some lesson answers, a third one none does — as a
``message.im`` event, ``--concurrency`` at a time. Measured: from the event's request to Sprout's reply
being in the DM (through the outbox), and the event's answer (Slack wants it within 3 s).

    python benchmarks/dm.py [--learners 300] [--concurrency 20] [--database-url postgresql+psycopg://…]

Target: every message answered once; the reply p95 under 1 s. A PostgreSQL database must be empty: the
emulator starts afresh, so its channel ids and message ts repeat, and a reply's dedupe key
(``dm_reply:<channel>:<ts>``) from an earlier run would hold.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import app  # noqa: E402
from learning.clock import SimulatedClock  # noqa: E402
from learning.roster import RosterRow  # noqa: E402
from sandbox.workspace import LocalWorkspace  # noqa: E402

SAID = ("help", "how do I spot a phishing email?", "Who waters the zorblax in the Lisbon office?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/dm.db"
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
            replies = sum(len([m for m in ws.emulator.dm_messages(uid) if m.get("bot_id")]) for uid in ids)
    acks = sorted(a for a, _ in timings)
    answered = sorted(r for _, r in timings)

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(p * len(values)))] * 1000

    print(f"database: {url.split(':')[0]} · {args.learners} messages, {args.concurrency} at a time, {wall:.1f} s")
    print(f"event answered: p50 {pct(acks, 0.5):.0f} ms · p95 {pct(acks, 0.95):.0f} ms · max {acks[-1] * 1000:.0f} ms")
    print(f"reply in the DM: p50 {pct(answered, 0.5):.0f} ms · p95 {pct(answered, 0.95):.0f} ms · "
          f"max {answered[-1] * 1000:.0f} ms · mean {statistics.mean(answered) * 1000:.0f} ms")
    print(f"replies: {replies} for {args.learners} messages")


if __name__ == "__main__":
    main()
