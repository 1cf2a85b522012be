"""Records reach a real LRS (ralph) exactly once, through an hour-long outage."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from db.exports import Window, xapi_records
from db.models import OutboxMessage
from learning.xapi import StatementBuilder, XapiSettings, export_statements
from scheduler.lrs import HttpLrsClient, LrsForwarder, LrsSettings
from tests.fixtures_lrs.ralph_lrs import KEY, SECRET, RalphLrs, ralph_python
from tests.fixtures_lrs.records import PACKS, SEEDED_KINDS, T0, seed
from tests.fixtures_lrs.validator import problems

NOW = T0 + timedelta(days=4)


@pytest.fixture
def ralph(tmp_path):
    lrs = RalphLrs(ralph_python(), tmp_path / "ralph")
    lrs.start()
    yield lrs
    lrs.stop()


def xapi_rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(OutboxMessage).where(OutboxMessage.kind == "xapi")).all()


def test_records_reach_ralph_once_and_survive_an_outage(store, engine, ralph):
    seeded = seed(store)
    builder = StatementBuilder(XapiSettings(homepage="https://acme.slack.com",
                                            base_iri="https://learning.acme.example/xapi"), PACKS.get)
    client = HttpLrsClient(LrsSettings(url=ralph.url, key=KEY, secret=SECRET, timeout=10))
    forwarder = LrsForwarder(store=store, builder=builder, client=client, batch_size=5, lease_clock=lambda: NOW)

    # 1. Every record becomes a statement in the LRS, under our ids.
    result = forwarder.tick(NOW)
    seeded_count = sum(SEEDED_KINDS.values())
    assert (result.queued, result.sent, result.failed, result.retried) == (seeded_count, seeded_count, 0, 0)
    expected = {s["id"]: s for s in export_statements(xapi_records(engine, Window()), builder)}
    stored = ralph.statements()
    assert Counter(s["id"] for s in stored) == Counter(expected.keys())
    by_id = {s["id"]: s for s in stored}
    for statement_id, ours in expected.items():
        theirs = by_id[statement_id]
        assert theirs["verb"] == ours["verb"] and theirs["object"]["id"] == ours["object"]["id"]
        assert theirs["actor"]["account"] == {"homePage": "https://acme.slack.com", "name": "U0DANA"}
    assert ralph.validate(list(expected.values())) == []
    assert forwarder.tick(NOW + timedelta(minutes=1)).sent == 0

    # 2. The LRS goes down for an hour; Bo answers and rates meanwhile. Nothing is lost.
    ralph.stop()
    bo_delivery = store.delivery_id_for(store.enrollments(seeded.bo)[0].id, "spot-phishing")
    outage = NOW + timedelta(minutes=10)
    store.record_answer(delivery_id=bo_delivery, learner_id=seeded.bo, question_id="q1", prompt="What do you do?",
                        choice="Click it", correct=False, now=outage)
    store.record_rating(delivery_id=bo_delivery, learner_id=seeded.bo, rating=2, now=outage)
    down = forwarder.tick(outage + timedelta(seconds=30))
    assert (down.queued, down.sent, down.retried, down.paused) == (3, 0, 3, True)
    for minute in range(1, 60, 7):  # the scheduler keeps ticking through the outage
        forwarder.tick(outage + timedelta(minutes=minute))
    waiting = [r for r in xapi_rows(engine) if r.status != "sent"]
    assert len(waiting) == 3 and {r.status for r in waiting} == {"pending"}
    assert all(r.attempts >= 2 and r.last_error for r in waiting)

    # 3. It comes back: the waiting statements arrive, and nothing arrives twice.
    ralph.start()
    back = forwarder.tick(outage + timedelta(hours=1, minutes=5))
    assert back.sent == 3 and back.retried == 0
    stored = ralph.statements()
    counts = Counter(s["id"] for s in stored)
    assert len(counts) == seeded_count + 3 and set(counts.values()) == {1}
    bo = [s for s in stored if s["actor"]["account"]["name"] == "U0BO"]
    assert sorted(s["verb"]["display"]["en"] for s in bo) == ["answered", "experienced", "rated"]

    # 4. A forwarder that died after the POST but before marking sends again; the LRS keeps one copy.
    with engine.begin() as conn:
        conn.execute(update(OutboxMessage).where(OutboxMessage.kind == "xapi")
                     .values(status="sending", claimed_by="a-forwarder-that-died"))
    resent = forwarder.dispatch(outage + timedelta(hours=2))
    assert resent.sent == seeded_count + 3 and resent.failed == 0
    assert set(Counter(s["id"] for s in ralph.statements()).values()) == {1}
    for statement in ralph.statements():
        statement = {k: v for k, v in statement.items() if k not in ("stored", "authority")}
        assert problems(statement, now=outage + timedelta(hours=3)) == []
