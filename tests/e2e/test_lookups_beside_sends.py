"""A send in doubt (a 500 that may have posted) is looked up in Slack beside the fan-out, never in front of it."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

import app
from db.models import OutboxMessage
from learning.roster import parse_roster
from sandbox.clock import SimulatedClock
from sandbox.workspace import LocalWorkspace, Person

MONDAY_0930 = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
N = 30


def people():
    return [Person(f"U0L{i:04d}", f"Learner {i}", "UTC") for i in range(N)]


class HeldLookups:
    """The real sender, with every look-up held until every other learner's lesson is in Slack (or 20 s:
    a look-up that held the sends back would wait that long, and the test fails on the order seen)."""

    def __init__(self, sender, others: int) -> None:
        self.sender, self.others = sender, others
        self.events: list[str] = []
        self._sent = 0
        self._all_sent: asyncio.Event | None = None

    def _gate(self) -> asyncio.Event:
        if self._all_sent is None:
            self._all_sent = asyncio.Event()
        return self._all_sent

    async def send(self, message, *, pace=None):
        sent = await self.sender.send(message, pace=pace)
        self.events.append("sent")
        self._sent += 1
        if self._sent >= self.others:
            self._gate().set()
        return sent

    async def find_sent(self, channel, **kwargs):
        self.events.append("look-up begins")
        try:
            await asyncio.wait_for(self._gate().wait(), 20)
        except TimeoutError:
            self.events.append("look-up gave up waiting")
        self.events.append("look-up ends")
        return await self.sender.find_sent(channel, **kwargs)

    async def aclose(self) -> None:
        await self.sender.aclose()


@pytest.fixture
def crowd(database_url):
    clock = SimulatedClock(MONDAY_0930, running=True)
    settings = dataclasses.replace(app.Settings(), database_url=database_url, rate_per_minute=60_000, burst=200,
                                   reminder_after_hours=0)
    with LocalWorkspace(build=app.build, settings=settings, clock=clock, people=people(),
                        build_options={"listener_workers": 4}) as ws:
        csv = "slack_user_id,name,timezone,packs\n" + "".join(f"{p.user_id},{p.name},UTC,security-basics\n"
                                                              for p in people())
        roster = parse_roster(csv, known_packs=ws.sprout.catalog.ids())
        ws.sprout.store.import_roster(roster.rows, datetime(2026, 11, 29, tzinfo=UTC))
        ws.sprout.dispatcher.retry_base = 0.01
        yield ws


@pytest.mark.parametrize("posted", [True, False], ids=["posted before the 500", "not posted"])
def test_a_send_in_doubt_is_looked_up_while_the_other_lessons_go_out(crowd, posted):
    sprout, emulator = crowd.sprout, crowd.emulator
    sprout.plan()
    with sprout.store.engine.connect() as conn:
        first = conn.execute(select(OutboxMessage.id).order_by(OutboxMessage.id)).scalars().first()
    emulator.fail_next(1, status=500, method="chat.postMessage", after_processing=posted)
    sprout.dispatcher.dispatch(ids=[first])  # in doubt now: its 500 may or may not have posted it
    time.sleep(0.1)  # its retry is due (backoff of about 0.01 s)
    held = HeldLookups(sprout.dispatcher.sender, others=N - 1)
    sprout.dispatcher.sender = held

    result = sprout.dispatcher.drain(timeout=60)

    # The look-up began before the fan-out, and the fan-out finished while it was held.
    assert held.events[0] == "look-up begins"
    assert "look-up gave up waiting" not in held.events
    assert held.events.index("look-up ends") >= N - 1
    assert result.looked_up == 1
    copies = Counter()
    for person in people():
        copies[person.user_id] = sum(1 for m in emulator.dm_messages(person.user_id)
                                     if (m.get("metadata") or {}).get("event_type") == "sprout_delivery")
    assert set(copies.values()) == {1}, "every learner has the lesson once: the one in doubt neither lost nor doubled"
    assert sprout.store.outbox_counts() == {"sent": N}
