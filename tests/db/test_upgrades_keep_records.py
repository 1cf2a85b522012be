"""Upgrading from every earlier revision keeps every record, on SQLite and PostgreSQL.

For each revision: make a database at that revision, fill every table with records, upgrade to
head, then compare every row of every table with what was written. The only differences allowed
are the ones a migration states it makes: new columns (with their defaults), and 0006's rule that a
learner holds one active certificate per pack (the filler writes none that break it; a test below
writes two and sees the older renewed).
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from db.engine import make_engine
from db.migrate import UpgradeRefused, current_revision, revisions, upgrade
from tests.db.records_of_every_kind import ROWS, fill, read_all

HEAD = revisions()[-1]
EARLIER = revisions()[:-1]


def _kept(before: dict, after: dict) -> None:
    for table, rows in before.items():
        assert table in after, f"table {table} is gone"
        assert len(after[table]) == len(rows), f"{table}: {len(rows)} rows before, {len(after[table])} after"
        for old, new in zip(rows, after[table], strict=True):
            # A migration may add columns; every column that was there keeps its value.
            assert {k: new[k] for k in old} == old, f"{table} row changed: {old} → {new}"


@pytest.mark.parametrize("revision", EARLIER)
def test_upgrading_from_each_revision_keeps_every_record(database_url, revision):
    engine = make_engine(database_url)
    try:
        upgrade(engine, revision)
        with engine.begin() as conn:
            fill(conn)
        with engine.connect() as conn:
            before = read_all(conn)
        assert all(len(rows) == ROWS for rows in before.values())

        upgrade(engine)

        assert current_revision(engine) == HEAD
        with engine.connect() as conn:
            _kept(before, read_all(conn))
    finally:
        engine.dispose()


def test_foreign_keys_are_back_on_after_an_upgrade(tmp_path):
    """The upgrade turns SQLite's foreign keys off on its own connection only, and back on."""
    engine = make_engine(f"sqlite:///{tmp_path / 'fk.db'}", pool_size=1)
    try:
        upgrade(engine, EARLIER[0])
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_a_foreign_key_violation_stops_the_upgrade_and_keeps_the_old_data(tmp_path):
    """Rows that point at nothing (written by hand, with foreign keys off) stop the upgrade with a
    message naming them, and the database stays at its old revision with every row."""
    engine = make_engine(f"sqlite:///{tmp_path / 'orphans.db'}")
    try:
        upgrade(engine, "0002")
        with engine.begin() as conn:
            fill(conn)
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA foreign_keys=OFF")
            raw.driver_connection.execute("BEGIN")
            raw.driver_connection.execute("DELETE FROM learners WHERE id = 1")
            raw.driver_connection.execute("COMMIT")
            raw.driver_connection.execute("PRAGMA foreign_keys=ON")
        finally:
            raw.close()
        with engine.connect() as conn:
            before = read_all(conn)

        with pytest.raises(UpgradeRefused) as refused:
            upgrade(engine)

        message = str(refused.value)
        assert "foreign key" in message and "learners" in message
        assert current_revision(engine) == "0002"
        with engine.connect() as conn:
            assert read_all(conn) == before
            assert conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'review_cards'")).scalar() == 0
    finally:
        engine.dispose()


def test_0006_keeps_the_newest_of_two_active_certificates_and_renews_the_other(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0005")
        with engine.begin() as conn:
            fill(conn)
            conn.execute(text("UPDATE certificates SET status = 'active', learner_id = 1, pack_id = 'p'"
                              " WHERE id IN (1, 2)"))
        upgrade(engine)
        with engine.connect() as conn:
            statuses = dict(conn.execute(text("SELECT id, status FROM certificates WHERE id IN (1, 2)")).all())
            assert statuses == {1: "renewed", 2: "active"}
            assert conn.execute(text("SELECT count(*) FROM certificates")).scalar() == ROWS
    finally:
        engine.dispose()


@pytest.mark.parametrize("revision", [r for r in EARLIER if "0011" <= r < "0013"])  # written before 0013
def test_learners_kept_by_an_upgrade_can_pass_questions_on_once(database_url, revision):
    """0012 adds learner_questions: a learner written before it asks a question, once per message typed, and
    ``/learn forget`` takes the question's text away with them."""
    from datetime import UTC, datetime

    from db.store import Store

    engine = make_engine(database_url)
    try:
        upgrade(engine, revision)
        with engine.begin() as conn:
            fill(conn)
        upgrade(engine)
        store = Store(engine)
        with engine.connect() as conn:
            slack_id, learner_id = conn.execute(text("SELECT slack_user_id, id FROM learners ORDER BY id")).first()
        now = datetime(2026, 12, 7, 10, tzinfo=UTC)
        asked = dict(learner_id=learner_id, channel_id="D0ASK", message_ts="1765101600.000100", thread_ts=None,
                     text="Who waters the zorblax?", passed_to="dm", now=now)
        first, new = store.record_question(**asked)
        again, new_again = store.record_question(**asked)
        assert new and not new_again and again == first
        assert store.question(first).text == "Who waters the zorblax?"
        assert store.forget(slack_id, now)
        assert store.question(first) is None
    finally:
        engine.dispose()


@pytest.mark.parametrize("revision", [r for r in EARLIER if "0011" <= r < "0013"])  # written before 0013
def test_cards_kept_by_an_upgrade_are_rescheduled_when_fitted_parameters_are_adopted(database_url, revision):
    """0013 adds fsrs_fits: on a database written before it, scheduling keeps the defaults until a fit is
    adopted; adopting one reschedules an open card kept from before, and a refused fit changes nothing."""
    from datetime import UTC, datetime

    from db.store import Store
    from learning.fitting import DEFAULT_PARAMETERS, Fit
    from learning.review import GOOD, first_answer

    engine = make_engine(database_url)
    try:
        upgrade(engine, revision)
        with engine.begin() as conn:
            fill(conn)
        upgrade(engine)
        store = Store(engine)
        assert store.fsrs_parameters() is None
        with engine.begin() as conn:  # the filler retires every card: one still in play
            card_id = conn.execute(text("SELECT min(id) FROM review_cards")).scalar()
            conn.execute(text("UPDATE review_cards SET retired_at = NULL WHERE id = :i"), {"i": card_id})
        now = datetime(2026, 12, 7, 10, tzinfo=UTC)
        fast = list(DEFAULT_PARAMETERS)
        fast[2] = 0.6
        state = first_answer(GOOD, now, parameters=tuple(fast))
        kept = store.cards([card_id])[card_id].state

        store.record_fit(Fit(tuple(fast), 0.6, 0.5, 1000, 50, 200), adopted=False, rescheduled={card_id: state},
                         now=now)
        assert store.fsrs_parameters() is None
        assert store.cards([card_id])[card_id].state == kept

        store.record_fit(Fit(tuple(fast), 0.4, 0.5, 1000, 50, 200), adopted=True, rescheduled={card_id: state},
                         now=now)
        assert store.fsrs_parameters() == pytest.approx(tuple(fast))
        assert store.cards([card_id])[card_id].state.due == state.due
        assert store.cards([card_id])[card_id].state.fsrs == state.fsrs
        assert [f.adopted for f in store.fsrs_fits()] == [False, True]
    finally:
        engine.dispose()
