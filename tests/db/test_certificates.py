"""Certificates on SQLite and PostgreSQL: one active certificate per learner and pack, held by the
database, so answers or renewals arriving at once issue one certificate and one congratulation."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from db.models import Certificate, OutboxMessage
from learning.roster import RosterRow

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def learner_id(store):
    store.import_roster([RosterRow(2, "U0ANA", "Ana", None, "learner", None, None, "Europe/Berlin", ("habits",))],
                        NOW)
    return store.learner("U0ANA").id


def issue(store, learner_id, now, **extra):
    return store.issue_certificate(learner_id=learner_id, pack_id="habits", name="Habit Keeper", score=0.9, now=now,
                                   expires_at=now + timedelta(days=365), channel="D0ANA", **extra)


def statuses(store):
    with store.engine.connect() as conn:
        return sorted(conn.execute(select(Certificate.status)).scalars())


def congratulations(store):
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(OutboxMessage)
                            .where(OutboxMessage.kind == "certificate")).scalar_one()


def at_once(count, work):
    """Run ``work(i)`` in ``count`` threads released together; their results."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_the_database_refuses_a_second_active_certificate(store, learner_id):
    assert issue(store, learner_id, NOW) is not None
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(insert(Certificate).values(learner_id=learner_id, pack_id="habits", name="Habit Keeper",
                                                score=1.0, issued_at=NOW + timedelta(seconds=1), status="active"))
    # An expired or renewed one beside it is fine.
    with store.engine.begin() as conn:
        conn.execute(insert(Certificate).values(learner_id=learner_id, pack_id="habits", name="Habit Keeper",
                                                score=1.0, issued_at=NOW - timedelta(days=400), status="expired"))
    assert statuses(store) == ["active", "expired"]


def test_earning_a_certificate_again_while_one_is_active_issues_nothing(store, learner_id):
    assert issue(store, learner_id, NOW) is not None
    assert issue(store, learner_id, NOW + timedelta(seconds=1)) is None
    assert statuses(store) == ["active"] and congratulations(store) == 1


def test_final_answers_at_once_issue_one_certificate_and_one_congratulation(store, learner_id):
    issued = at_once(6, lambda i: issue(store, learner_id, NOW + timedelta(milliseconds=i)))
    assert len([c for c in issued if c is not None]) == 1
    assert statuses(store) == ["active"] and congratulations(store) == 1


def test_renewals_at_once_renew_the_invited_certificate_once(store, learner_id):
    first = issue(store, learner_id, NOW)
    later = NOW + timedelta(days=340)
    assert issue(store, learner_id, later, renew=True) is None, "only a certificate invited to renew is renewed"
    store.mark_recert_invited(first, later)
    renewed = at_once(6, lambda i: issue(store, learner_id, later + timedelta(milliseconds=i), renew=True))
    assert len([c for c in renewed if c is not None]) == 1
    assert statuses(store) == ["active", "renewed"] and congratulations(store) == 2
    assert issue(store, learner_id, later + timedelta(days=1), renew=True) is None
