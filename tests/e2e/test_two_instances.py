"""Two Sprout processes on one PostgreSQL database share a fan-out without sending anything twice."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from content_packs.catalog import Catalog
from content_packs.loader import BUNDLED_DIR
from db.engine import make_engine
from db.migrate import upgrade
from db.store import Store
from learning.roster import parse_roster
from sandbox.emulator import SlackEmulator
from scheduler.planner import Planner

ROOT = Path(__file__).resolve().parents[2]
LEARNERS = 1000
AT = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def test_two_instances_split_the_work_and_send_nothing_twice(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite is the single-instance default; several instances need PostgreSQL")
    engine = make_engine(database_url)
    upgrade(engine)
    store = Store(engine)
    csv = "slack_user_id,name,timezone,packs\n" + "".join(
        f"U0T{i:05d},Learner {i},UTC,security-basics\n" for i in range(LEARNERS)
    )
    store.import_roster(parse_roster(csv, known_packs={"security-basics"}).rows, datetime(2026, 11, 29, tzinfo=UTC))
    catalog, _ = Catalog.from_directory(BUNDLED_DIR)
    assert len(Planner(store=store, catalog=catalog).plan(AT).queued) == LEARNERS

    with SlackEmulator(bot_token="xoxb-two") as emulator:
        for i in range(LEARNERS):
            emulator.add_user(f"U0T{i:05d}", name=f"Learner {i}", tz="UTC")
        emulator.set_latency(0.02)
        env = {**os.environ, "DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-two",
               "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": emulator.api_url, "SLACK_RATE_PER_MINUTE": "100000",
               "SPROUT_SENDERS": "8"}
        command = [sys.executable, "app.py", "tick", "--at", AT.isoformat()]
        processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True) for _ in range(2)]
        outputs = [p.communicate(timeout=120) for p in processes]
        assert all(p.returncode == 0 for p in processes), outputs

        sent = [int(re.search(r"(\d+) sent", out).group(1)) for out, _ in outputs]
        assert sum(sent) == LEARNERS
        assert all(n > 0 for n in sent), f"both instances took part: {sent}"
        copies = Counter()
        for i in range(LEARNERS):
            for message in emulator.dm_messages(f"U0T{i:05d}"):
                copies[message["metadata"]["event_payload"]["outbox_id"]] += 1
        assert len(copies) == LEARNERS and set(copies.values()) == {1}
    assert store.outbox_counts() == {"sent": LEARNERS}
    engine.dispose()


def test_two_instances_share_the_workspace_rate_instead_of_each_taking_all_of_it(database_url):
    """Slack's chat.postMessage limit is per workspace: two instances each pace at half of it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite is the single-instance default; several instances need PostgreSQL")
    limit = 6000  # a minute: 100 a second for the whole workspace
    engine = make_engine(database_url)
    upgrade(engine)
    store = Store(engine)
    csv = "slack_user_id,name,timezone,packs\n" + "".join(
        f"U0T{i:05d},Learner {i},UTC,security-basics\n" for i in range(LEARNERS)
    )
    store.import_roster(parse_roster(csv, known_packs={"security-basics"}).rows, datetime(2026, 11, 29, tzinfo=UTC))
    catalog, _ = Catalog.from_directory(BUNDLED_DIR)
    assert len(Planner(store=store, catalog=catalog).plan(AT).queued) == LEARNERS

    with SlackEmulator(bot_token="xoxb-two") as emulator:
        for i in range(LEARNERS):
            emulator.add_user(f"U0T{i:05d}", name=f"Learner {i}", tz="UTC")
        emulator.set_rate_limit("chat.postMessage", limit, burst=50)
        env = {**os.environ, "DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-two",
               "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": emulator.api_url,
               "SLACK_RATE_PER_MINUTE": str(limit), "SLACK_RATE_BURST": "20", "SPROUT_SENDERS": "8"}
        command = [sys.executable, "app.py", "tick", "--at", AT.isoformat()]
        processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True) for _ in range(2)]
        outputs = [p.communicate(timeout=180) for p in processes]
        assert all(p.returncode == 0 for p in processes), outputs

        sent = [int(re.search(r"(\d+) sent", out).group(1)) for out, _ in outputs]
        assert sum(sent) == LEARNERS and all(n > 0 for n in sent), f"both instances took part: {sent}"
        posts = emulator.calls("chat.postMessage")
        refused = sum(c["http_status"] == 429 for c in posts)
        # Each at the full rate, they would ask twice what Slack allows and draw hundreds of 429s.
        assert refused <= LEARNERS * 0.03, f"{refused} posts refused with 429"
        copies = Counter()
        for i in range(LEARNERS):
            for message in emulator.dm_messages(f"U0T{i:05d}"):
                copies[message["metadata"]["event_payload"]["outbox_id"]] += 1
        assert len(copies) == LEARNERS and set(copies.values()) == {1}
    engine.dispose()
