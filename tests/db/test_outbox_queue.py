"""Queueing planned lessons: each lesson once per learner, one scheduled lesson a day, an outbox message each."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from db.models import OutboxMessage
from db.store import NewDelivery
from learning.roster import RosterRow

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def learners(store, n: int) -> list[tuple[int, int]]:
    rows = [RosterRow(i + 2, f"U{i:03d}", f"Learner {i}", None, "learner", None, None, "UTC", ("habits",))
            for i in range(n)]
    store.import_roster(rows, NOW)
    out = []
    for i in range(n):
        learner = store.learner(f"U{i:03d}")
        out.append((learner.id, store.enrollments(learner.id)[0].id))
    return out


def lesson(learner_id: int, enrollment_id: int, lesson_id: str, day: date, kind: str = "scheduled") -> NewDelivery:
    return NewDelivery(enrollment_id=enrollment_id, learner_id=learner_id, channel=f"U-of-{learner_id}",
                       pack_id="habits", lesson_id=lesson_id, pack_version=1, kind=kind, local_date=day, due_at=NOW)


def test_a_plan_queued_again_queues_only_what_is_new(engine, store):
    people = learners(store, 3)
    monday, tuesday = date(2026, 11, 30), date(2026, 12, 1)
    first = store.queue_deliveries([lesson(lid, eid, "l1", monday) for lid, eid in people[:2]], NOW)
    assert len(first) == 2
    again = store.queue_deliveries(
        [lesson(lid, eid, "l1", monday) for lid, eid in people]  # two already queued, one new
        + [lesson(people[0][0], people[0][1], "l2", monday)]  # a second scheduled lesson on the same day
        + [lesson(people[1][0], people[1][1], "l1", tuesday)],  # the same lesson again, another day
        NOW,
    )
    assert len(again) == 1
    with engine.connect() as conn:
        rows = conn.execute(select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.dedupe_key,
                                   OutboxMessage.learner_id, OutboxMessage.delivery_id, OutboxMessage.channel,
                                   OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.not_before)
                            .order_by(OutboxMessage.id)).all()
    assert [r.id for r in rows] == first + again
    for r in rows:
        assert (r.kind, r.status, r.attempts, r.not_before) == ("lesson", "pending", 0, NOW)
        assert r.dedupe_key == f"lesson:{r.delivery_id}" and r.channel == f"U-of-{r.learner_id}"
    assert sorted(r.learner_id for r in rows) == sorted(lid for lid, _ in people)
    states = store.delivery_states(r.delivery_id for r in rows)
    assert {(s.learner_id, s.lesson_id, s.status) for s in states.values()} == {
        (lid, "l1", "queued") for lid, _ in people
    }


def test_nothing_to_queue_queues_nothing(store):
    assert store.queue_deliveries([], NOW) == []
    assert store.outbox_counts() == {}
