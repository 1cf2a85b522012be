"""kill -9 in the middle of a fan-out, then a restart: every learner holds exactly one copy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from db.engine import make_engine
from db.migrate import upgrade
from db.models import OutboxMessage
from db.store import Store
from learning.roster import parse_roster
from sandbox.emulator import SlackEmulator

ROOT = Path(__file__).resolve().parents[2]
LEARNERS = 150


def test_sigkill_mid_fan_out_then_restart_delivers_each_lesson_exactly_once(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    csv = "slack_user_id,name,timezone,packs\n" + "".join(
        f"U0K{i:05d},Learner {i},Asia/Kolkata,security-basics\n" for i in range(LEARNERS)
    )
    Store(engine).import_roster(parse_roster(csv, known_packs={"security-basics"}).rows, datetime(2026, 11, 29, tzinfo=UTC))

    with SlackEmulator(bot_token="xoxb-crash-test") as emulator:
        for i in range(LEARNERS):
            emulator.add_user(f"U0K{i:05d}", name=f"Learner {i}", tz="Asia/Kolkata")
        # After a third of the lessons, Slack posts each message but its answer never comes back: the process
        # dies with sends in doubt ("sending", handed over), whatever the machine's speed.
        emulator.hold_answers("chat.postMessage", after=LEARNERS // 3)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": "xoxb-crash-test",
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": emulator.api_url,
            "SPROUT_SENDERS": "4",
            "SPROUT_LEASE_SECONDS": "1",
            # A workspace rate Slack grants (Sprout's default is 600); the emulator holds look-ups to Tier 3.
            "SLACK_RATE_PER_MINUTE": "1200",
        }
        tick = [sys.executable, "app.py", "tick", "--at", "2026-11-30T04:00:00Z"]  # 09:30 in Kolkata
        process = subprocess.Popen(tick, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while emulator.held_answers() < 4:  # SPROUT_SENDERS calls in flight, all of them unanswered
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        emulator.release_answers()

        with engine.connect() as conn:
            states = dict(conn.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
        assert states.get("sent", 0) < LEARNERS, f"the kill came too late to test anything: {states}"
        assert states.get("sending", 0) >= 4, f"sends in doubt when the process died: {states}"
        time.sleep(1.5)  # the dead process's lease runs out

        # The restart comes a minute later: what the first tick queued while its clock ran on is due by then.
        restart = [*tick[:-1], "2026-11-30T04:01:00Z"]
        finished = subprocess.run(restart, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert finished.returncode == 0, finished.stderr

        copies = Counter()
        for i in range(LEARNERS):
            for message in emulator.dm_messages(f"U0K{i:05d}"):
                if (message.get("metadata") or {}).get("event_type") == "sprout_delivery":
                    copies[message["metadata"]["event_payload"]["outbox_id"]] += 1
        assert len(copies) == LEARNERS, "every learner got the lesson"
        assert set(copies.values()) == {1}, f"duplicates: {[k for k, v in copies.items() if v > 1]}"
        assert Store(engine).outbox_counts() == {"sent": LEARNERS}
        lookups = emulator.calls("conversations.history")
        assert len(lookups) >= 4, "the sends in doubt were looked up before anything was sent again"
        # Only what had been handed to Slack (about a second of sends ahead) is looked up, not every claim.
        assert len(lookups) <= min(states["sending"], 40), f"{len(lookups)} look-ups, {states['sending']} claims"
    engine.dispose()
