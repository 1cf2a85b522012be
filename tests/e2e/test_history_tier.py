"""Recovery fits Slack's smallest history budget: Tier 1, one look-up a minute, 15 messages a call.

Since May 2025 an app distributed outside the Slack Marketplace reads conversations.history and
.replies at Tier 1. Here the emulator serves history that way, with its minute shortened so that a
few hundred look-ups take seconds, and Sprout is told the same budget in the same units
(``SLACK_HISTORY_RATE_PER_MINUTE``, under the emulator's). 200 sends end in doubt (Slack
answered 500; half of them had in fact posted the lesson), and the same tick settles each one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from slack_sdk import WebClient

from db.engine import make_engine
from db.migrate import upgrade
from db.store import Store
from learning.roster import parse_roster
from sandbox.emulator import SlackEmulator

ROOT = Path(__file__).resolve().parents[2]
LEARNERS = 200
MINUTE = 0.08  # seconds an emulated minute lasts: Tier 1 is then 12.5 look-ups a real second
TICK = [sys.executable, "app.py", "tick", "--at"]


def _roster(engine, prefix: str, count: int) -> list[str]:
    users = [f"U0{prefix}{i:05d}" for i in range(count)]
    csv = "slack_user_id,name,timezone,packs\n" + "".join(f"{u},Learner {u},Asia/Kolkata,security-basics\n"
                                                           for u in users)
    Store(engine).import_roster(parse_roster(csv, known_packs={"security-basics"}).rows,
                                datetime(2026, 11, 29, tzinfo=UTC))
    return users


def _known_dms(engine, emulator: SlackEmulator, users: list[str]) -> None:
    """Learners who have had lessons before: Sprout knows their DM channels, as it does after a first send.
    (A first-ever DM also costs a conversations.open, Tier 3, which the shortened minute does not scale.)"""
    client = WebClient(token=emulator.bot_token, base_url=emulator.api_url)
    store = Store(engine)
    for user in users:
        store.set_dm_channel(store.learner(user).id, client.conversations_open(users=user)["channel"]["id"])


def _env(database_url: str, emulator: SlackEmulator) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": emulator.bot_token,
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_API_URL": emulator.api_url,
        "SLACK_RATE_PER_MINUTE": "6000",
        "SLACK_HISTORY_TIER": "1",
        # Tier 1's one a minute, in the emulator's shortened minutes, less 30%: at 80 ms a minute, a
        # thread that wakes 30 ms late on a loaded machine would otherwise look like a burst. (At Slack's
        # real minute that jitter is nothing, and the default rate is the tier's own.)
        "SLACK_HISTORY_RATE_PER_MINUTE": str(round(0.7 * 60 / MINUTE)),
    }


def _copies(emulator: SlackEmulator, users: list[str]) -> Counter:
    copies: Counter = Counter()
    for user in users:
        for message in emulator.dm_messages(user):
            if (message.get("metadata") or {}).get("event_type") == "sprout_delivery":
                copies[user] += 1
    return copies


def test_200_uncertain_sends_on_tier_1_are_each_settled_once_with_one_look_up(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    users = _roster(engine, "T", LEARNERS)
    with SlackEmulator(bot_token="xoxb-tier-1") as emulator:
        for user in users:
            emulator.add_user(user, name=user, tz="Asia/Kolkata")
        emulator.set_history_tier(1, minute=MINUTE)
        _known_dms(engine, emulator, users)
        env = _env(database_url, emulator)

        # Every first send ends in doubt: HTTP 500, and for half of them Slack had posted the lesson first.
        emulator.fail_next(LEARNERS // 2, status=500, method="chat.postMessage", after_processing=True)
        emulator.fail_next(LEARNERS - LEARNERS // 2, status=500, method="chat.postMessage")
        tick = subprocess.run([*TICK, "2026-11-30T04:00:00Z"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300)
        assert tick.returncode == 0, tick.stderr

        copies = _copies(emulator, users)
        assert set(copies) == set(users), "every learner has the lesson"
        assert set(copies.values()) == {1}, f"duplicates: {[u for u, n in copies.items() if n > 1]}"
        assert Store(engine).outbox_counts() == {"sent": LEARNERS}

        lookups = emulator.calls("conversations.history")
        answered = [c for c in lookups if c["http_status"] == 200]
        refused = [c for c in lookups if c["http_status"] == 429]
        assert len(answered) == LEARNERS, "one look-up per uncertain DM, and no more"
        assert len({c["params"]["channel"] for c in answered}) == LEARNERS
        # Paced to the tier: 429s under 5% of the look-ups (the delivery benchmarks' bound). A few can come from
        # a loaded machine's late wake-ups against the emulator's 80 ms minute; a Sprout that did not pace
        # would see most of its 200 look-ups refused.
        assert len(refused) <= 0.05 * LEARNERS, f"{len(refused)} look-ups refused with 429: Sprout must pace to the tier"
        assert all(int(c["params"]["limit"]) <= 15 for c in lookups)
        # Read from the moment the send began (the first tick's 04:00, less a minute for clocks), not days back.
        began = datetime(2026, 11, 30, 4, 0, tzinfo=UTC).timestamp()
        assert all(began - 61 <= float(c["params"]["oldest"]) <= began for c in answered)
        posts = emulator.calls("chat.postMessage")
        assert len(posts) == LEARNERS + LEARNERS // 2, "only the lessons Slack did not have are sent again"
    engine.dispose()


def test_sends_slack_confirmed_are_never_looked_up(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    users = _roster(engine, "N", 40)
    with SlackEmulator(bot_token="xoxb-tier-1") as emulator:
        for user in users:
            emulator.add_user(user, name=user, tz="Asia/Kolkata")
        emulator.set_history_tier(1, minute=MINUTE)
        tick = subprocess.run([*TICK, "2026-11-30T04:00:00Z"], cwd=ROOT, env=_env(database_url, emulator),
                              capture_output=True, text=True, timeout=300)
        assert tick.returncode == 0, tick.stderr
        assert set(_copies(emulator, users).values()) == {1} and len(_copies(emulator, users)) == len(users)
        assert emulator.calls("conversations.history") == [] and emulator.calls("conversations.replies") == []
    engine.dispose()
