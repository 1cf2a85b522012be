"""Privacy on SQLite and PostgreSQL: the export holds everything about a person, and forgetting leaves
their Slack id nowhere while every aggregate figure stays the same.

``Person`` writes one row for someone into every table that refers to a learner (the list comes from
the schema, so a table added later fails these tests until it is covered here), plus the places that
name people by Slack id: the audit log, the outbox, contributions, settings, text that mentions them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, inspect, select, text

from db.admin_records import PSEUDONYM_PREFIX, SLACK_ID_COLUMNS, learner_columns
from db.models import (
    Announcement,
    AnnouncementReceipt,
    Answer,
    AuditEntry,
    Base,
    Certificate,
    CoachAssignment,
    Cohort,
    CohortMember,
    Contribution,
    Delivery,
    DiscussionPrompt,
    Enrollment,
    EnrollmentRule,
    Feedback,
    Learner,
    LearnerQuestion,
    LinkOpen,
    OutboxMessage,
    PackContribution,
    Pair,
    PairAnswer,
    PairingPreference,
    PairingProgramme,
    PairingRound,
    PairMember,
    PromptPost,
    Reflection,
    Review,
    ReviewCard,
    ReviewSession,
    RuleEnrollment,
    TriggerFire,
)
from db.reporting import Reporting

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
SINCE, UNTIL = T0 - timedelta(days=30), T0 + timedelta(days=30)


def tables_referring_to_learners() -> set[str]:
    return {t.name for t in Base.metadata.sorted_tables if learner_columns(t)}


class Person:
    """One person's rows in every table that refers to a learner, written straight into the database."""

    def __init__(self, engine, slack_user_id: str, *, n: int, manager: str | None = None) -> None:
        self.engine = engine
        self.slack_user_id = slack_user_id
        self.dm = f"D{slack_user_id[1:]}X"
        self.email = f"{slack_user_id.lower()}@example.com"
        self.rows: dict[str, list[int]] = {}
        at = T0 + timedelta(hours=n)
        with engine.begin() as conn:
            def add(model, **values) -> int:
                row_id = conn.execute(insert(model).values(**values).returning(model.id)).scalar_one()
                self.rows.setdefault(model.__tablename__, []).append(row_id)
                return row_id

            lid = add(Learner, slack_user_id=slack_user_id, name=f"Name of {slack_user_id}", email=self.email,
                      timezone="Europe/Berlin", slack_timezone="Europe/Berlin", role="learner",
                      manager_slack_user_id=manager, team="Platform", department="Sales", active=True, dm_channel_id=self.dm,
                      created_at=T0, updated_at=T0)
            self.id = lid
            # Their coach: a person of their own (not in ``rows``), so no export shares a row with another's.
            coach = conn.execute(insert(Learner).values(
                slack_user_id=f"{slack_user_id}C0", name="A coach", role="coach", active=True, created_at=T0,
                updated_at=T0).returning(Learner.id)).scalar_one()
            add(CoachAssignment, learner_id=lid, coach_id=coach, shares_notes=True, assigned_by="U0ADMIN",
                assigned_at=at)
            cohort = add(Cohort, name=f"Cohort of {slack_user_id}", pack_id="habits", start_on=date(2026, 11, 2),
                         join_mode="start", created_by=lid, created_at=at)
            add(CohortMember, cohort_id=cohort, learner_id=lid, added_at=at)
            enrollment = add(Enrollment, learner_id=lid, pack_id="habits", status="active", enrolled_at=at,
                             cohort_id=cohort)
            delivery = add(Delivery, enrollment_id=enrollment, learner_id=lid, pack_id="habits", lesson_id="l1",
                           pack_version=1, kind="scheduled", local_date=at.date(), due_at=at, sent_at=at,
                           channel_id=self.dm, message_ts=f"{n}.000100", status="sent")
            add(Answer, delivery_id=delivery, learner_id=lid, question_id="q1", prompt="Which one?", choice="That one",
                correct=n % 2 == 0, answered_at=at + timedelta(minutes=5))
            add(Answer, delivery_id=delivery, learner_id=lid, question_id="q2", prompt="And this?", choice="Yes",
                correct=True, answered_at=at + timedelta(minutes=6))
            add(Feedback, delivery_id=delivery, learner_id=lid, rating=4, comment=f"private opinion {n}",
                rated_at=at + timedelta(minutes=7), commented_at=at + timedelta(minutes=7))
            add(LinkOpen, delivery_id=delivery, learner_id=lid, link_index=0, url="https://example.com/read",
                opened_at=at + timedelta(minutes=1))
            add(Reflection, delivery_id=delivery, learner_id=lid, prompt="What will you change?",
                text=f"my own thoughts {n}", created_at=at, updated_at=at)
            card = add(ReviewCard, learner_id=lid, pack_id="habits", lesson_id="l1", question_id="q1", fsrs="{}",
                       due=at + timedelta(days=3), reviews=1, lapses=0, long_right=0, created_at=at)
            session = add(ReviewSession, learner_id=lid, kind="review", local_date=(at + timedelta(days=3)).date(),
                          card_ids=json.dumps([card]), due_at=at + timedelta(days=3), sent_at=at + timedelta(days=3),
                          channel_id=self.dm, message_ts=f"{n}.000200", created_at=at)
            add(Review, session_id=session, card_id=card, learner_id=lid, question_id="q1", prompt="Which one?",
                response="That one", correct=True, rating=3, interval_days=7.0, answered_at=at + timedelta(days=3))
            add(Certificate, learner_id=lid, pack_id="habits", name="Habits", score=0.9, issued_at=at,
                expires_at=at + timedelta(days=365), status="active")
            add(TriggerFire, learner_id=lid, pack_id="habits", channel_id="C0JOINED", fired_at=at)
            announcement = add(Announcement, author_id=lid, text=f"Welcome <@{slack_user_id}>, mail {self.email}",
                               audience_kind="everyone", send_at=at, ask_ack=True, status="sent", created_at=at)
            add(AnnouncementReceipt, announcement_id=announcement, learner_id=lid, acked_at=at)
            prompt = add(DiscussionPrompt, channel_id="C0TALK", text="What did you try?", pack_id="habits",
                         weekday="mon", at_time="09:00", timezone="UTC", created_by=lid, status="active",
                         created_at=at)
            post = add(PromptPost, prompt_id=prompt, local_date=at.date(), text="What did you try?",
                       channel_id="C0TALK", message_ts=f"{n}.000300", created_at=at)
            add(Contribution, post_id=post, learner_id=lid, slack_user_id=slack_user_id, message_ts=f"{n}.000400",
                created_at=at)
            add(LearnerQuestion, learner_id=lid, channel_id=self.dm, message_ts=f"{n}.000500", thread_ts=None,
                text=f"my own question {n}, mail {self.email}", passed_to="dm", created_at=at)
            rule = add(EnrollmentRule, kind="channel", target=f"C0NEW{n}", label="new-hires", pack_id="habits",
                       active=True, created_by=slack_user_id, created_at=at, updated_at=at)
            add(RuleEnrollment, rule_id=rule, learner_id=lid, outcome="enrolled", created_at=at)
            programme = add(PairingProgramme, channel_id="C0PAIRS", audience_key=f"channel:C0PAIRS{n}",
                            every_weeks=2, starts_at=at, next_round_at=at + timedelta(days=14), status="active",
                            created_by=lid, created_at=at)
            round_ = add(PairingRound, programme_id=programme, number=1, started_at=at,
                         check_in_at=at + timedelta(days=7))
            pair = add(Pair, round_id=round_, channel_id=f"G0PAIR{n}", opened_at=at, created_at=at)
            add(PairMember, pair_id=pair, learner_id=lid)
            add(PairAnswer, pair_id=pair, learner_id=lid, met=True, answered_at=at + timedelta(days=7))
            conn.execute(insert(PairingPreference).values(learner_id=lid, opted_out=False, snoozed_until=at,
                                                          updated_at=at))
            self.rows.setdefault(PairingPreference.__tablename__, []).append(lid)  # keyed by the learner
            add(PackContribution, learner_id=lid, pack_id="habits", lesson_id="l1", kind="link",
                content=json.dumps({"kind": "article", "title": f"mine {n}", "url": "https://example.org/"}),
                state="declined", reviewer_id=lid, reason="we have it", submission_key=f"view:V{n}", created_at=at,
                reviewed_at=at)
            add(OutboxMessage, kind="lesson", dedupe_key=f"lesson:{delivery}", learner_id=lid, delivery_id=delivery,
                channel=slack_user_id, status="sent", attempts=1, not_before=at, sent_at=at, sent_channel=self.dm,
                sent_ts=f"{n}.000100", created_at=at)
            add(OutboxMessage, kind="reminder", dedupe_key=f"reminder:{delivery}", learner_id=lid,
                delivery_id=delivery, channel=self.dm, status="pending", attempts=0, not_before=UNTIL,
                payload=json.dumps({"note": f"for <@{slack_user_id}>"}), created_at=at)
            add(AuditEntry, at=at, actor="U0ADMIN", action="role", subject=slack_user_id, detail="facilitator")
            add(AuditEntry, at=at, actor=slack_user_id, action="privacy_export", subject=slack_user_id, detail=None)
            add(AuditEntry, at=at, actor="U0ADMIN", action="note", subject=None,
                detail=f"asked <@{slack_user_id}> about it")


@pytest.fixture
def people(engine):
    leo = Person(engine, "U0LEO", n=1)
    # An id that starts like Leo's: forgetting Leo must not touch it.
    other = Person(engine, "U0LEO2", n=2, manager="U0LEO")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO org_settings (key, value, updated_at, updated_by) "
                          "VALUES ('learner_hour_cost', '45 USD', :at, 'U0LEO')"), {"at": T0})
    return leo, other


def mentions(engine, *needles: str) -> list[str]:
    """Every (table, column, value) of every table in the database where a needle stands as a word."""
    words = [re.compile(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])", re.IGNORECASE) for n in needles]
    found = []
    inspector = inspect(engine)
    with engine.connect() as conn:
        for table in inspector.get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')).mappings():
                for column, value in row.items():
                    if isinstance(value, str) and any(w.search(value) for w in words):
                        found.append(f"{table}.{column}: {value!r}")
    return found


def figures(engine) -> dict:
    reporting = Reporting(engine)
    packs = {o.group: (o.figures, o.reviews, o.reviews_right) for o in reporting.outcomes(SINCE, UNTIL, by="pack")}
    items = [(s.question_id, s.answered, s.right) for s in reporting.item_sums(SINCE, UNTIL)]
    return {"totals": reporting.totals(SINCE, UNTIL), "packs": packs, "items": items}


def test_the_fixture_covers_every_table_that_refers_to_a_learner(people):
    leo, _ = people
    missing = tables_referring_to_learners() - set(leo.rows)
    assert not missing, f"add a row for these tables to Person: {sorted(missing)}"


def test_forgetting_leaves_the_id_nowhere_and_the_figures_unchanged(engine, store, people):
    leo, other = people
    before = figures(engine)
    assert mentions(engine, leo.slack_user_id), "the fixture names Leo in many places"

    assert store.forget(leo.slack_user_id, UNTIL)

    assert mentions(engine, leo.slack_user_id, leo.dm, leo.email) == []
    after = figures(engine)
    assert after == {**before, "totals": dataclasses.replace(before["totals"], members=before["totals"].members - 1)}, \
        "every figure stays the same, except that one person fewer is active"
    # The other person, whose id starts like Leo's, is untouched (but no longer has Leo as a manager).
    assert store.learner(other.slack_user_id).name == "Name of U0LEO2"
    assert len(mentions(engine, other.slack_user_id)) >= 8
    with engine.connect() as conn:
        alias = conn.execute(select(Learner.slack_user_id).where(Learner.id == leo.id)).scalar_one()
        assert conn.execute(select(Learner.manager_slack_user_id).where(Learner.id == other.id)).scalar() is None
        assert conn.execute(select(Feedback.comment).where(Feedback.learner_id == leo.id)).scalar() is None
        assert conn.execute(select(Learner.department).where(Learner.id == leo.id)).scalar() is None
        assert conn.execute(select(Reflection.id).where(Reflection.learner_id == leo.id)).first() is None
        assert conn.execute(select(CoachAssignment.id).where(CoachAssignment.learner_id == leo.id)).first() is None
        assert conn.execute(select(CoachAssignment.id).where(CoachAssignment.learner_id == other.id)).first(), \
            "someone else's coach stays"
        assert conn.execute(select(LearnerQuestion.id).where(LearnerQuestion.learner_id == leo.id)).first() is None
        assert conn.execute(select(OutboxMessage.status).where(OutboxMessage.kind == "reminder",
                                                               OutboxMessage.learner_id == leo.id)).scalar() == "cancelled"
        audit = conn.execute(select(AuditEntry.actor, AuditEntry.subject, AuditEntry.detail)
                             .where(AuditEntry.action == "forget")).one()
    # The pseudonym says nothing about the id: not the old unsalted hash, not derivable from it.
    assert alias.startswith(PSEUDONYM_PREFIX)
    assert hashlib.sha256(b"U0LEO").hexdigest()[:12] not in alias
    assert audit.subject == alias and "U0LEO" not in json.dumps(list(audit))
    assert len(mentions(engine, alias)) > 10, "the records are kept, under the pseudonym"


def test_two_forgotten_people_get_unrelated_pseudonyms(engine, store, people):
    leo, other = people
    store.forget(leo.slack_user_id, UNTIL)
    store.forget(other.slack_user_id, UNTIL)
    with engine.connect() as conn:
        aliases = conn.execute(select(Learner.slack_user_id).where(Learner.role != "coach").order_by(Learner.id)).scalars().all()
    assert len(set(aliases)) == 2 and all(a.startswith(PSEUDONYM_PREFIX) for a in aliases)
    assert mentions(engine, leo.slack_user_id, other.slack_user_id) == []
    assert store.forget("U0LEO", UNTIL) is False, "nothing left to find by the id"


def test_the_export_has_a_section_for_every_table_that_refers_to_a_learner(store, people):
    leo, other = people
    data = store.personal_data(leo.id)
    sections = {"learner" if t == "learners" else t for t in tables_referring_to_learners() | set(SLACK_ID_COLUMNS)}
    assert sections <= set(data), f"missing: {sorted(sections - set(data))}"
    for table in tables_referring_to_learners():
        ids, key = leo.rows[table], "learner" if table == "learners" else table
        got = {row["id"] if "id" in row else row["learner_id"] for row in data[key]}
        assert set(ids) <= got, f"{table}: {sorted(set(ids) - got)} missing"
        assert not got & set(other.rows.get(table, [])), f"{table}: someone else's rows"
    assert [r["comment"] for r in data["feedback"]] == ["private opinion 1"]
    assert {r["action"] for r in data["audit_log"]} == {"role", "privacy_export", "note"}
    assert [r["updated_by"] for r in data["org_settings"]] == ["U0LEO"]
    assert {r["kind"] for r in data["outbox"]} == {"lesson", "reminder"}, "messages sent and still queued"
    json.dumps(data, default=str)  # the file the learner receives
