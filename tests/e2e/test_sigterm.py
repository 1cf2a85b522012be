"""SIGTERM in the middle of a fan-out: `app.py run` stops at once, gives back what it has not sent, and
the next tick delivers the rest exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from db.engine import make_engine
from db.migrate import upgrade
from db.store import Store
from learning.roster import parse_roster
from sandbox.emulator import SlackEmulator
from tests.e2e.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
LEARNERS = 200
EVERY_DAY = "mon,tue,wed,thu,fri,sat,sun"


def test_sigterm_mid_fan_out_exits_promptly_and_the_rest_goes_out_once_later(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    store = Store(engine)
    users = [f"U0S{i:05d}" for i in range(LEARNERS)]
    csv = "slack_user_id,name,timezone,packs\n" + "".join(f"{u},Learner {u},UTC,security-basics\n" for u in users)
    now = datetime.now(UTC)
    store.import_roster(parse_roster(csv, known_packs={"security-basics"}).rows, now - timedelta(days=3))
    for user in users:  # due at midnight every day, so `run` (on the real clock) has a fan-out to send now
        store.set_preferences(store.learner(user).id, now, delivery_time="00:00", delivery_days=EVERY_DAY)

    with SlackEmulator(bot_token="xoxb-sigterm") as emulator:
        for user in users:
            emulator.add_user(user, name=user, tz="UTC")
        emulator.set_latency(0.05)  # calls are in flight when the signal comes
        env = {**os.environ, "DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-sigterm",
               "SLACK_SIGNING_SECRET": "secret", "SLACK_API_URL": emulator.api_url,
               "SLACK_RATE_PER_MINUTE": "300", "SLACK_RATE_BURST": "5"}  # 200 lessons would take 40 s
        run = subprocess.Popen([sys.executable, "app.py", "run", "--port", str(free_port())], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while len(emulator.calls("chat.postMessage")) < 20:
                assert run.poll() is None, run.communicate()
                assert time.monotonic() < deadline, "the fan-out never started"
                time.sleep(0.05)
            run.send_signal(signal.SIGTERM)
            # A generous deadline, not a timing: it exits within a second or two. The proof that it stopped
            # at once rather than finishing the fan-out is below: most lessons are still unsent.
            _, stderr = run.communicate(timeout=30)
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
        assert run.returncode == 0, stderr
        counts = store.outbox_counts()
        assert "sending" not in counts, counts
        assert 20 <= counts.get("sent", 0) < LEARNERS // 2, counts
        posted_before = len(emulator.calls("chat.postMessage"))
        assert posted_before == counts["sent"], "each call in flight finished and was recorded"

        tick_env = {**env, "SLACK_RATE_PER_MINUTE": "60000", "SLACK_RATE_BURST": "100"}
        tick = subprocess.run([sys.executable, "app.py", "tick"], cwd=ROOT, env=tick_env, capture_output=True,
                              text=True, timeout=120)
        assert tick.returncode == 0, tick.stderr
        copies = Counter()
        for user in users:
            for message in emulator.dm_messages(user):
                if (message.get("metadata") or {}).get("event_type") == "sprout_delivery":
                    copies[user] += 1
        assert len(copies) == LEARNERS and set(copies.values()) == {1}, "every learner exactly one copy"
        assert store.outbox_counts() == {"sent": LEARNERS}
        assert not emulator.calls("conversations.history"), "nothing given back had been handed to Slack"
    engine.dispose()
