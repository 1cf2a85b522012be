"""Sprout's storage, behind one small interface: one ``engine.begin()`` per unit of work.

Queries return plain frozen dataclasses, never ORM objects, so nothing above this
package holds a session or triggers lazy loads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy import cast as sa_cast
from sqlalchemy.dialects import postgresql, sqlite

from db.admin_records import AdminRecords
from db.coaching import write_roster_coaches
from db.cohorts import CohortRecords
from db.contributions import ContributionRecords
from db.engine import reading
from db.enrollment_rules import EnrollmentRuleRecords
from db.facilitation import FacilitationRecords
from db.learning_records import FittingRecords, LearningRecords, lesson_key
from db.models import (
    Answer,
    Delivery,
    Enrollment,
    Feedback,
    Learner,
    LinkOpen,
    OutboxMessage,
    PendingRedraw,
    PlannedSchedule,
    ProcessedEvent,
    Reflection,
    ReviewSession,
    Worker,
)
from db.questions import QuestionRecords
from db.types import UTCDateTime
from learning.roster import RosterRow


@dataclass
class _Work:
    conn: Connection
    after_commit: list[Callable[[], None]] = field(default_factory=list)


@dataclass(frozen=True)
class LearnerView:
    id: int
    slack_user_id: str
    name: str
    email: str | None
    role: str
    timezone: str | None
    slack_timezone: str | None
    manager_slack_user_id: str | None
    team: str | None
    active: bool
    dm_channel_id: str | None
    delivery_time: str | None
    delivery_days: str | None
    paused_until: datetime | None
    slack_profile_checked_at: datetime | None
    language: str | None = None  # chosen with /learn language
    slack_locale: str | None = None  # Slack's, from users.info


@dataclass(frozen=True)
class EnrollmentView:
    id: int
    learner_id: int
    pack_id: str
    status: str
    enrolled_at: datetime
    lessons_sent: int = 0


@dataclass(frozen=True)
class PlanningRow:
    """What the planner needs to know about one active enrollment."""

    enrollment_id: int
    learner_id: int
    slack_user_id: str
    dm_channel_id: str | None
    timezone: str | None
    slack_timezone: str | None
    delivery_time: str | None
    delivery_days: str | None
    paused_until: datetime | None
    resumed_at: datetime | None
    enrolled_at: datetime
    pack_id: str
    last_local_date: date | None
    starts_on: date | None = None
    start_lesson_id: str | None = None
    next_due_at: datetime | None = None
    schedule_changes: int = 0
    language: str | None = None  # the learner's choice (/learn language)
    slack_locale: str | None = None


@dataclass(frozen=True)
class NewDelivery:
    enrollment_id: int
    learner_id: int
    channel: str
    pack_id: str
    lesson_id: str
    pack_version: int
    kind: str
    local_date: date
    due_at: datetime
    language: str | None = None  # the language it is shown in (the pack's own or a translation's)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: str
    channel: str
    attempts: int
    learner_id: int | None
    delivery_id: int | None
    claimed_at: datetime | None
    status: str
    last_error: str | None = None
    payload: dict | None = None
    claimed_by: str | None = None
    handed_at: datetime | None = None  # first handed to Slack (it may be there from this moment on)


@dataclass(frozen=True)
class NewMessage:
    kind: str
    dedupe_key: str
    channel: str
    learner_id: int | None = None
    delivery_id: int | None = None
    payload: dict | None = None
    not_before: datetime | None = None
    status: str = "pending"  # "cancelled" records a decision not to send, so it is not taken again
    reason: str | None = None


@dataclass(frozen=True)
class AnswerView:
    question_id: str
    prompt: str
    choice: str
    correct: bool
    answered_at: datetime


@dataclass(frozen=True)
class DeliveryState:
    """A delivered lesson with everything the learner has done with it."""

    id: int
    learner_id: int
    slack_user_id: str
    learner_name: str
    pack_id: str
    lesson_id: str
    pack_version: int
    kind: str
    status: str
    due_at: datetime
    sent_at: datetime | None
    channel_id: str | None
    message_ts: str | None
    answers: tuple[AnswerView, ...] = ()
    rating: int | None = None
    comment: str | None = None
    reason: str | None = None
    reflection: str | None = None
    language: str | None = None  # shown in; None: recorded before languages were

    def answer_to(self, question_id: str) -> AnswerView | None:
        return next((a for a in self.answers if a.question_id == question_id), None)


@dataclass(frozen=True)
class SummaryRow:
    slack_user_id: str
    name: str
    timezone: str | None
    delivered: int
    answered: int
    correct: int
    rated: int
    average_rating: float | None
    comments: int


def _learner_view(row) -> LearnerView:
    return LearnerView(
        id=row.id,
        slack_user_id=row.slack_user_id,
        name=row.name,
        email=row.email,
        role=row.role,
        timezone=row.timezone,
        slack_timezone=row.slack_timezone,
        manager_slack_user_id=row.manager_slack_user_id,
        team=row.team,
        active=row.active,
        dm_channel_id=row.dm_channel_id,
        delivery_time=row.delivery_time,
        delivery_days=row.delivery_days,
        paused_until=row.paused_until,
        slack_profile_checked_at=row.slack_profile_checked_at,
        language=row.language,
        slack_locale=row.slack_locale,
    )


class Store(LearningRecords, FittingRecords, AdminRecords, FacilitationRecords, CohortRecords, QuestionRecords,
            EnrollmentRuleRecords, ContributionRecords):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # The unit of work this thread (or task) is in, if any: its connection and what to run after commit.
        self._work: ContextVar[_Work | None] = ContextVar(f"sprout_work_{id(self)}", default=None)

    # -- units of work -------------------------------------------------------------------

    @contextmanager
    def unit_of_work(self) -> Iterator[None]:
        """Everything the store does inside this block commits together, or not at all.

        A use case that makes several records (an answer, its review card, a certificate, and the note
        that the Slack event or click behind it was handled) opens one; each store method joins it
        instead of committing on its own. Inside, each method runs in a savepoint, so one that expects a
        unique key to refuse a row ("the first answer counts") still can. Nested blocks join the outer
        one. Nothing that waits on Slack belongs inside: on SQLite the block holds the write lock.
        """
        if self._work.get() is not None:
            yield
            return
        with self.engine.begin() as conn:
            work = _Work(conn)
            token = self._work.set(work)
            try:
                yield
            finally:
                self._work.reset(token)
        for callback in work.after_commit:  # committed: now it is safe to act on it
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current unit of work has committed (at once when there is none): a
        message queued inside one can only be sent once other connections can see it."""
        work = self._work.get()
        if work is None:
            callback()
        else:
            work.after_commit.append(callback)

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        work = self._work.get()
        if work is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with work.conn.begin_nested():
            yield work.conn

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        work = self._work.get()
        if work is None:
            with reading(self.engine) as conn:
                yield conn
            return
        yield work.conn  # reads inside a unit of work see what it has written so far

    # -- helpers -------------------------------------------------------------------------

    def _insert(self, model):
        """INSERT that can skip rows a unique key already holds, on SQLite and PostgreSQL."""
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(model)
        if self.engine.dialect.name == "sqlite":
            return sqlite.insert(model)
        return insert(model)

    # -- learners ------------------------------------------------------------------------

    def learner(self, slack_user_id: str) -> LearnerView | None:
        with self._connect() as conn:
            row = conn.execute(select(Learner.__table__).where(Learner.slack_user_id == slack_user_id)).first()
        return _learner_view(row) if row else None

    def learner_by_id(self, learner_id: int) -> LearnerView | None:
        with self._connect() as conn:
            row = conn.execute(select(Learner.__table__).where(Learner.id == learner_id)).first()
        return _learner_view(row) if row else None

    def ensure_learner(
        self, slack_user_id: str, *, name: str, slack_timezone: str | None, email: str | None, now: datetime,
        slack_locale: str | None = None,
    ) -> LearnerView:
        """The learner with this id, created from their Slack profile the first time we meet them."""
        stmt = (
            self._insert(Learner)
            .values(
                slack_user_id=slack_user_id,
                name=name,
                email=email,
                slack_timezone=slack_timezone,
                slack_locale=slack_locale,
                slack_profile_checked_at=now,
                role="learner",
                active=True,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["slack_user_id"])
        )
        with self._begin() as conn:
            conn.execute(stmt)
            row = conn.execute(select(Learner.__table__).where(Learner.slack_user_id == slack_user_id)).one()
            return _learner_view(row)

    def update_slack_profile(
        self, learner_id: int, *, name: str | None, slack_timezone: str | None, now: datetime,
        slack_locale: str | None = None,
    ) -> None:
        values: dict = {"slack_profile_checked_at": now, "updated_at": now}
        if slack_timezone:  # a failed lookup keeps what we knew
            values["slack_timezone"] = slack_timezone
        if slack_locale:
            values["slack_locale"] = slack_locale
        with self._begin() as conn:
            if name:
                # Only fill a name the roster did not give.
                conn.execute(
                    update(Learner).where(Learner.id == learner_id, Learner.name == "").values(name=name)
                )
            conn.execute(update(Learner).where(Learner.id == learner_id).values(**values))

    def languages(self, learner_ids) -> dict[int, tuple[str | None, str | None]]:
        """Each learner's (chosen language, Slack locale), for drawing a batch of messages in theirs."""
        ids = sorted({i for i in learner_ids if i is not None})
        if not ids:
            return {}
        out: dict[int, tuple[str | None, str | None]] = {}
        with self._connect() as conn:
            for start in range(0, len(ids), 500):
                rows = conn.execute(select(Learner.id, Learner.language, Learner.slack_locale)
                                    .where(Learner.id.in_(ids[start:start + 500])))
                out.update({row[0]: (row[1], row[2]) for row in rows})
        return out

    def set_language(self, learner_id: int, language: str | None, now: datetime) -> None:
        """The learner's own choice of language; None goes back to Slack's locale."""
        with self._begin() as conn:
            conn.execute(update(Learner).where(Learner.id == learner_id).values(language=language, updated_at=now))

    def set_dm_channel(self, learner_id: int, channel_id: str) -> None:
        with self._begin() as conn:
            conn.execute(
                update(Learner)
                .where(Learner.id == learner_id, or_(Learner.dm_channel_id.is_(None), Learner.dm_channel_id != channel_id))
                .values(dm_channel_id=channel_id)
            )

    def set_preferences(self, learner_id: int, now: datetime, **values) -> None:
        """Change a learner's own schedule: ``paused_until``, ``resumed_at``, ``delivery_time``, ``delivery_days``."""
        allowed = {"paused_until", "resumed_at", "delivery_time", "delivery_days"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"not a preference: {sorted(unknown)}")
        with self._begin() as conn:
            conn.execute(update(Learner).where(Learner.id == learner_id).values(updated_at=now, **values))

    def profiles_to_refresh(self, checked_before: datetime, *, limit: int) -> list[tuple[int, str]]:
        """Learners whose Slack profile is unknown or older than ``checked_before``, unless the roster gave
        their time zone and they chose their language: Slack's would change nothing for them."""
        with self._connect() as conn:
            rows = conn.execute(
                select(Learner.id, Learner.slack_user_id)
                .where(
                    Learner.active.is_(True),
                    or_(Learner.timezone.is_(None), Learner.language.is_(None)),
                    or_(Learner.slack_profile_checked_at.is_(None), Learner.slack_profile_checked_at < checked_before),
                    Learner.id.in_(select(Enrollment.learner_id).where(Enrollment.status == "active")),
                )
                .order_by(Learner.slack_profile_checked_at.is_not(None), Learner.slack_profile_checked_at, Learner.id)
                .limit(limit)
            ).all()
        return [(r.id, r.slack_user_id) for r in rows]

    def slack_ids_by_email(self, emails: Sequence[str]) -> dict[str, str]:
        """Lower-cased email -> Slack user id of the people Sprout already knows by that email."""
        wanted, found = list(dict.fromkeys(e.lower() for e in emails)), {}
        with self._connect() as conn:
            for start in range(0, len(wanted), self.IMPORT_BATCH):
                chunk = wanted[start : start + self.IMPORT_BATCH]
                rows = conn.execute(select(func.lower(Learner.email), Learner.slack_user_id)
                                    .where(func.lower(Learner.email).in_(chunk)))
                found.update({email: slack_user_id for email, slack_user_id in rows})
        return found

    IMPORT_BATCH = 5000  # rows per round of statements; the progress hook is called once per batch
    _ROSTER_FIELDS = ("name", "email", "role", "manager_slack_user_id", "team", "department", "timezone")

    def import_roster(
        self, entries: Sequence[RosterRow], now: datetime, *, progress: Callable[[int], None] | None = None
    ) -> tuple[int, int, int]:
        """Upsert learners and their enrollments in one transaction: all of the file or none of it.

        Returns (learners created, learners updated, enrollments created). Rows go in batches of three
        statements (insert the new learners, update the known ones, insert the enrollments not there yet),
        so a 100,000-row roster is seconds of SQL rather than 250,000 statements built one by one. A
        learner named twice counts as created then updated, and the later row's values win, as row by row.
        """
        created = updated = enrolled = 0
        with self._begin() as conn:
            existing = {row.slack_user_id: row.id for row in conn.execute(select(Learner.slack_user_id, Learner.id))}
            for start in range(0, len(entries), self.IMPORT_BATCH):
                batch = entries[start : start + self.IMPORT_BATCH]
                new: dict[str, RosterRow] = {}
                known: dict[str, RosterRow] = {}
                for entry in batch:
                    if entry.slack_user_id in existing or entry.slack_user_id in new:
                        known[entry.slack_user_id] = entry
                        updated += 1
                    else:
                        new[entry.slack_user_id] = entry
                        created += 1
                for slack_user_id in [s for s in new if s in known]:  # named twice: created with the later row
                    new[slack_user_id] = known.pop(slack_user_id)
                if new:
                    existing.update(self._insert_learners(conn, list(new.values()), now))
                if known:
                    self._update_learners(conn, [(existing[e.slack_user_id], e) for e in known.values()], now)
                pairs = list(dict.fromkeys(
                    (existing[entry.slack_user_id], pack_id) for entry in batch for pack_id in entry.packs
                ))
                if pairs:
                    enrolled += self._insert_enrollments(conn, pairs, now)
                if progress is not None:
                    progress(len(batch))
            # Coaches last: a row may name as coach someone whose own row comes later in the file.
            coached = [(e.slack_user_id, e.coach_slack_user_id) for e in entries if e.coach_given]
            if coached:
                unknown = sorted({c for _, c in coached if c is not None and c not in existing})
                if unknown:  # learning.roster.coach_problems reports these with their lines first
                    raise ValueError(f"coaches not in Sprout: {', '.join(unknown)}")
                write_roster_coaches(conn, [(existing[s], existing[c] if c else None) for s, c in coached], now)
        return created, updated, enrolled

    def _insert_learners(self, conn: Connection, entries: list[RosterRow], now: datetime) -> list[tuple[str, int]]:
        """Insert roster rows as new learners; their (Slack user id, learner id)."""
        learners = Learner.__table__
        fields = ("slack_user_id", *self._ROSTER_FIELDS)
        if conn.dialect.name == "postgresql":
            # One statement of arrays: insertmanyvalues' long VALUES lists cost more to build than to run.
            rows, at = self._unnest(fields), bindparam("now", type_=UTCDateTime())
            statement = insert(learners).from_select(
                [*fields, "active", "created_at", "updated_at"], select(*rows.c, true(), at, at)
            )
            params: Any = {f"u_{f}": [getattr(e, f) for e in entries] for f in fields} | {"now": now}
        else:
            statement = insert(learners).values(active=True, created_at=now, updated_at=now)
            params = [{f: getattr(e, f) for f in fields} for e in entries]
        returned = conn.execute(statement.returning(learners.c.slack_user_id, learners.c.id), params)
        return [(slack_user_id, learner_id) for slack_user_id, learner_id in returned]

    def _update_learners(self, conn: Connection, known: list[tuple[int, RosterRow]], now: datetime) -> None:
        """Overwrite known learners with their roster rows; a roster row makes an inactive learner active."""
        learners = Learner.__table__
        fields = self._ROSTER_FIELDS
        if conn.dialect.name == "postgresql":
            rows = self._unnest(("id", *fields))
            statement = (
                update(learners)
                .where(learners.c.id == rows.c.id)
                .values({f: rows.c[f] for f in fields} | {"active": True, "updated_at": now})
            )
            params: Any = {"u_id": [i for i, _ in known]} | {f"u_{f}": [getattr(e, f) for _, e in known]
                                                             for f in fields}
        else:
            statement = (
                update(learners)
                .where(learners.c.id == bindparam("b_id"))
                .values({f: bindparam(f"b_{f}") for f in fields} | {"active": True, "updated_at": now})
            )
            params = [{"b_id": i, **{f"b_{f}": getattr(e, f) for f in fields}} for i, e in known]
        conn.execute(statement, params)

    def _insert_enrollments(self, conn: Connection, pairs: list[tuple[int, str]], now: datetime) -> int:
        """Enroll (learner id, pack id) pairs that are not enrolled yet; how many were new."""
        enrollments = Enrollment.__table__
        if conn.dialect.name == "postgresql":
            rows = self._unnest(("learner_id", "pack_id"))
            statement = self._insert(enrollments).from_select(
                ["learner_id", "pack_id", "status", "enrolled_at"],
                select(rows.c.learner_id, rows.c.pack_id, literal("active"), bindparam("now", type_=UTCDateTime())),
            )
            params: Any = {"u_learner_id": [i for i, _ in pairs], "u_pack_id": [p for _, p in pairs], "now": now}
        else:
            statement = self._insert(enrollments).values(status="active", enrolled_at=now)
            params = [{"learner_id": i, "pack_id": p} for i, p in pairs]
        statement = statement.on_conflict_do_nothing(index_elements=["learner_id", "pack_id"])
        return len(conn.execute(statement.returning(enrollments.c.id), params).all())

    @staticmethod
    def _unnest(names: Sequence[str]):
        """PostgreSQL: ``unnest(:u_a, :u_b, …) AS t(a, b, …)``, one typed array parameter per column."""
        arrays = [
            sa_cast(bindparam(f"u_{name}"), postgresql.ARRAY(Integer if name in ("id", "learner_id") else String))
            for name in names
        ]
        return func.unnest(*arrays).table_valued(*names).render_derived()

    # -- enrollments ---------------------------------------------------------------------

    def enroll(
        self, learner_id: int, pack_id: str, now: datetime, *, status: str = "active"
    ) -> tuple[EnrollmentView, bool]:
        """Enroll once; enrolling again in a pack is harmless and says so. Enrolling for real in a pack
        whose lessons were only pulled on demand turns its schedule on."""
        with self._begin() as conn:
            if status == "active":
                conn.execute(
                    update(Enrollment)
                    .where(Enrollment.learner_id == learner_id, Enrollment.pack_id == pack_id,
                           Enrollment.status == "on_demand")
                    .values(status="active", enrolled_at=now)
                )
            created = (
                conn.execute(
                    self._insert(Enrollment)
                    .values(learner_id=learner_id, pack_id=pack_id, status=status, enrolled_at=now)
                    .on_conflict_do_nothing(index_elements=["learner_id", "pack_id"])
                    .returning(Enrollment.id)
                ).scalar()
                is not None
            )
            row = conn.execute(
                select(Enrollment.__table__).where(Enrollment.learner_id == learner_id, Enrollment.pack_id == pack_id)
            ).one()
            return EnrollmentView(row.id, row.learner_id, row.pack_id, row.status, row.enrolled_at), created

    def enrollments(self, learner_id: int) -> list[EnrollmentView]:
        sent = (
            select(func.count(Delivery.id))
            .where(Delivery.enrollment_id == Enrollment.id, Delivery.status != "failed")
            .correlate(Enrollment)
            .scalar_subquery()
        )
        with self._connect() as conn:
            rows = conn.execute(
                select(Enrollment.__table__, sent.label("sent"))
                .where(Enrollment.learner_id == learner_id)
                .order_by(Enrollment.id)
            ).all()
        return [
            EnrollmentView(e.id, e.learner_id, e.pack_id, e.status, e.enrolled_at, lessons_sent=e.sent) for e in rows
        ]

    def delivered_lessons(self, enrollment_ids: Iterable[int]) -> dict[int, set[str]]:
        ids = list(enrollment_ids)
        out: dict[int, set[str]] = {i: set() for i in ids}
        if not ids:
            return out
        with self._connect() as conn:
            for start in range(0, len(ids), 5000):
                chunk = ids[start : start + 5000]
                for enrollment_id, lesson_id in conn.execute(
                    select(Delivery.enrollment_id, Delivery.lesson_id).where(Delivery.enrollment_id.in_(chunk))
                ):
                    out[enrollment_id].add(lesson_id)
        return out

    def delivery_id_for(self, enrollment_id: int, lesson_id: str) -> int | None:
        with self._connect() as conn:
            return conn.execute(
                select(Delivery.id).where(Delivery.enrollment_id == enrollment_id, Delivery.lesson_id == lesson_id)
            ).scalar()

    def complete_enrollments(self, enrollment_ids: Iterable[int], now: datetime) -> None:
        ids = list(enrollment_ids)
        if not ids:
            return
        with self._begin() as conn:
            conn.execute(
                update(Enrollment)
                .where(Enrollment.id.in_(ids), Enrollment.status == "active")
                .values(status="completed", completed_at=now)
            )

    # -- planning ------------------------------------------------------------------------

    PLANNER_LOCK_KEY = 0x5350524F5554  # "SPROUT": one planner at a time across instances

    @classmethod
    def planner_lock_key(cls, schema: str) -> int:
        """The planner's advisory lock for the records in ``schema``: a hosted Sprout keeps each workspace in
        a schema of its own, and one workspace planning must not make another skip its turn."""
        digest = hashlib.blake2b(schema.encode(), digest_size=6).digest()
        return cls.PLANNER_LOCK_KEY ^ int.from_bytes(digest, "big")

    @contextmanager
    def planning_lock(self) -> Iterator[bool]:
        """Yield True if this process may plan now.

        On PostgreSQL a session advisory lock makes one instance plan while the others only
        send; on SQLite (one instance by design) planning always proceeds, and the unique
        keys would absorb a second planner anyway.
        """
        if self.engine.dialect.name != "postgresql":
            yield True
            return
        with self.engine.connect() as conn:  # a session of its own: the lock outlives its transactions
            key = self.planner_lock_key(conn.execute(select(func.current_schema())).scalar() or "")
            got = bool(conn.execute(select(func.pg_try_advisory_lock(key))).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(select(func.pg_advisory_unlock(key)))
                    conn.commit()

    def planning_rows(self, now: datetime, *, due_only: bool = True) -> list[PlanningRow]:
        """The active enrollments of active, unpaused learners that may be due at ``now``: those whose
        ``next_due_at`` has come or is not worked out yet (an index range of ``ix_enrollments_due``, so an idle
        tick reads nothing); with ``due_only=False``, all of them. Each with its last scheduled day."""
        last_day = (
            select(func.max(Delivery.local_date))
            .where(Delivery.enrollment_id == Enrollment.id, Delivery.kind == "scheduled")
            .correlate(Enrollment)
            .scalar_subquery()
        )
        conditions = [
            Enrollment.status == "active",
            Learner.active.is_(True),
            or_(Learner.paused_until.is_(None), Learner.paused_until <= now),
        ]
        if due_only:
            conditions.append(or_(Enrollment.next_due_at.is_(None), Enrollment.next_due_at <= now))
        stmt = (
            select(
                Enrollment.id,
                Learner.id,
                Learner.slack_user_id,
                Learner.dm_channel_id,
                Learner.timezone,
                Learner.slack_timezone,
                Learner.delivery_time,
                Learner.delivery_days,
                Learner.paused_until,
                Learner.resumed_at,
                Enrollment.enrolled_at,
                Enrollment.pack_id,
                last_day.label("last_local_date"),
                Enrollment.starts_on,
                Enrollment.start_lesson_id,
                Enrollment.next_due_at,
                Enrollment.schedule_changes,
                Learner.language,
                Learner.slack_locale,
            )
            .join(Learner, Learner.id == Enrollment.learner_id)
            .where(*conditions)
            .order_by(Enrollment.id)
        )
        with self._connect() as conn:
            return [PlanningRow(*row) for row in conn.execute(stmt)]

    def set_next_due(self, values: Sequence[tuple[int, int, datetime]]) -> int:
        """Record (enrollment id, ``schedule_changes`` as read, next due instant) for each enrollment; one whose
        schedule changed since it was read keeps its cleared value. Returns how many were written."""
        if not values:
            return 0
        written = 0
        stmt = (
            update(Enrollment.__table__)
            .where(Enrollment.__table__.c.id == bindparam("e_id"),
                   Enrollment.__table__.c.schedule_changes == bindparam("seen"))
            .values(next_due_at=bindparam("due"))
        )
        with self._begin() as conn:
            for start in range(0, len(values), 5000):
                chunk = values[start : start + 5000]
                result = conn.execute(stmt, [{"e_id": i, "seen": seen, "due": due} for i, seen, due in chunk])
                written += max(result.rowcount, 0)
        return written

    def replan_changed_schedules(self, bases: dict[str, str]) -> list[str]:
        """``bases``: each loaded pack's schedule as text. The packs whose schedule differs from the one the
        planner last saw (a pack file edited, the default time zone changed, a pack added back) have their
        enrollments' next due times cleared, to be worked out again; returns those packs."""
        with self._begin() as conn:
            seen = dict(conn.execute(select(PlannedSchedule.pack_id, PlannedSchedule.basis)).all())
            changed = sorted(pack for pack, basis in bases.items() if seen.get(pack) != basis)
            if not changed:
                return []
            conn.execute(
                update(Enrollment)
                .where(Enrollment.pack_id.in_(changed))
                .values(next_due_at=None, schedule_changes=Enrollment.schedule_changes + 1)
            )
            upsert = self._insert(PlannedSchedule).values([{"pack_id": p, "basis": bases[p]} for p in changed])
            conn.execute(upsert.on_conflict_do_update(index_elements=["pack_id"],
                                                      set_={"basis": upsert.excluded.basis}))
        return changed

    def queue_deliveries(self, deliveries: Sequence[NewDelivery], now: datetime) -> list[int]:
        """Insert deliveries and their outbox messages in bulk; a delivery a unique key already holds is skipped.

        Returns the ids of the outbox messages created.
        """
        if not deliveries:
            return []
        outbox_ids: list[int] = []
        with self._begin() as conn:
            if self.engine.dialect.name == "postgresql":
                return sorted(self._queue_deliveries_joined(conn, deliveries, now))
            for start in range(0, len(deliveries), 1000):
                chunk = deliveries[start : start + 1000]
                inserted = conn.execute(
                    self._insert(Delivery).on_conflict_do_nothing().returning(
                        Delivery.id, Delivery.enrollment_id, Delivery.lesson_id
                    ),
                    [
                        {
                            "enrollment_id": new.enrollment_id,
                            "learner_id": new.learner_id,
                            "pack_id": new.pack_id,
                            "lesson_id": new.lesson_id,
                            "pack_version": new.pack_version,
                            "kind": new.kind,
                            "local_date": new.local_date,
                            "due_at": new.due_at,
                            "status": "queued",
                            "language": new.language,
                        }
                        for new in chunk
                    ],
                ).all()
                by_key = {(row.enrollment_id, row.lesson_id): row.id for row in inserted}
                messages = [
                    {
                        "kind": "lesson",
                        "dedupe_key": lesson_key(by_key[(new.enrollment_id, new.lesson_id)]),
                        "learner_id": new.learner_id,
                        "delivery_id": by_key[(new.enrollment_id, new.lesson_id)],
                        "channel": new.channel,
                        "status": "pending",
                        "attempts": 0,
                        "not_before": now,
                        "created_at": now,
                    }
                    for new in chunk
                    if (new.enrollment_id, new.lesson_id) in by_key
                ]
                if messages:
                    outbox_ids.extend(
                        conn.execute(
                            self._insert(OutboxMessage).on_conflict_do_nothing().returning(OutboxMessage.id),
                            messages,
                        ).scalars()
                    )
        return sorted(outbox_ids)

    @staticmethod
    def _queue_deliveries_joined(conn, deliveries: Sequence[NewDelivery], now: datetime) -> list[int]:
        """PostgreSQL: the deliveries, then their lessons' outbox messages, each one INSERT … SELECT FROM
        unnest(arrays), whatever their number: a plan of ten thousand lessons is two statements whose text
        never changes, instead of thousand-row VALUES lists that the driver parses afresh each time."""
        inserted = conn.execute(_QUEUE_DELIVERIES, {
            "enrollment_ids": [new.enrollment_id for new in deliveries],
            "learner_ids": [new.learner_id for new in deliveries],
            "pack_ids": [new.pack_id for new in deliveries],
            "lesson_ids": [new.lesson_id for new in deliveries],
            "pack_versions": [new.pack_version for new in deliveries],
            "kinds": [new.kind for new in deliveries],
            "local_dates": [new.local_date for new in deliveries],
            "due_ats": [new.due_at for new in deliveries],
            "languages": [new.language for new in deliveries],
        }).all()
        by_key = {(row.enrollment_id, row.lesson_id): row.id for row in inserted}
        queued = [(by_key[(new.enrollment_id, new.lesson_id)], new) for new in deliveries
                  if (new.enrollment_id, new.lesson_id) in by_key]
        if not queued:
            return []
        return list(conn.execute(_QUEUE_LESSONS, {
            "delivery_ids": [delivery_id for delivery_id, _ in queued],
            "dedupe_keys": [lesson_key(delivery_id) for delivery_id, _ in queued],
            "learner_ids": [new.learner_id for _, new in queued],
            "channels": [new.channel for _, new in queued],
            "now": now,
        }).scalars())

    # -- outbox --------------------------------------------------------------------------

    _ITEM_COLUMNS = (
        OutboxMessage.id,
        OutboxMessage.kind,
        OutboxMessage.channel,
        OutboxMessage.attempts,
        OutboxMessage.learner_id,
        OutboxMessage.delivery_id,
        OutboxMessage.claimed_at,
        OutboxMessage.status,
        OutboxMessage.last_error,
        OutboxMessage.payload,
        OutboxMessage.claimed_by,
        OutboxMessage.handed_at,
    )

    @staticmethod
    def _item(row, **override) -> OutboxItem:
        values = {
            "id": row.id,
            "kind": row.kind,
            "channel": row.channel,
            "attempts": row.attempts,
            "learner_id": row.learner_id,
            "delivery_id": row.delivery_id,
            "claimed_at": row.claimed_at,
            "status": row.status,
            "last_error": row.last_error,
            "payload": json.loads(row.payload) if row.payload else None,
            "claimed_by": row.claimed_by,
            "handed_at": row.handed_at,
        }
        values.update(override)
        return OutboxItem(**values)

    def queue_messages(self, messages: Sequence[NewMessage], now: datetime) -> list[int]:
        """Queue messages; one whose dedupe key is already queued (or sent) is skipped. Returns new ids."""
        ids: list[int] = []
        if not messages:
            return ids
        with self._begin() as conn:
            for message in messages:
                new_id = conn.execute(
                    self._insert(OutboxMessage)
                    .values(
                        kind=message.kind,
                        dedupe_key=message.dedupe_key,
                        learner_id=message.learner_id,
                        delivery_id=message.delivery_id,
                        channel=message.channel,
                        status=message.status,
                        attempts=0,
                        not_before=message.not_before or now,
                        payload=json.dumps(message.payload, separators=(",", ":")) if message.payload else None,
                        last_error=message.reason,
                        created_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["dedupe_key"])
                    .returning(OutboxMessage.id)
                ).scalar()
                if new_id is not None:
                    ids.append(new_id)
        return ids

    def claim_outbox(
        self,
        now: datetime,
        *,
        worker: str,
        limit: int,
        claimed_at: datetime,
        ids: Sequence[int] | None = None,
        kinds: Sequence[str] | None = None,
        exclude_kinds: Sequence[str] = (),
        error_prefix: str | None = None,
    ) -> list[OutboxItem]:
        """Mark up to ``limit`` messages due at ``now`` as being sent by ``worker`` and return them.

        ``error_prefix``: only messages whose last error starts with it (those to look for in Slack
        first, which the dispatcher takes ahead of the queue).

        ``claimed_at`` is wall-clock time (leases are real even when ``now`` is simulated).
        On PostgreSQL the rows are locked with SKIP LOCKED, so several instances claim
        disjoint sets; on SQLite the write lock taken by BEGIN IMMEDIATE does the same.
        """
        query = (
            select(*self._ITEM_COLUMNS)
            .where(OutboxMessage.status == "pending", OutboxMessage.not_before <= now)
            .order_by(OutboxMessage.not_before, OutboxMessage.id)
            .limit(limit)
        )
        if ids is not None:
            query = query.where(OutboxMessage.id.in_(list(ids)))
        if kinds is not None:
            query = query.where(OutboxMessage.kind.in_(list(kinds)))
        if exclude_kinds:
            query = query.where(OutboxMessage.kind.not_in(list(exclude_kinds)))
        if error_prefix is not None:
            query = query.where(OutboxMessage.last_error.startswith(error_prefix, autoescape=True))
        if self.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        with self._begin() as conn:
            rows = conn.execute(query).all()
            if not rows:
                return []
            conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([r.id for r in rows]))
                .values(status="sending", claimed_by=worker, claimed_at=claimed_at, sent_at=None)
            )
        return [self._item(r, claimed_at=claimed_at, status="sending", claimed_by=worker) for r in rows]

    def mark_handed(self, ids: Sequence[int], *, at: datetime, began: datetime | None = None) -> None:
        """Claimed messages about to be handed to Slack: only these may be there after a crash.

        While a message is "sending", ``sent_at`` says when it was handed over (the call may or may
        not have landed); once it is "sent", when Slack confirmed it. A claim clears it.
        ``handed_at`` keeps the first hand-over (``began``, on the clock Slack's timestamps follow)
        across claims, so a look-up reads the DM's history only from then.
        """
        if not ids:
            return
        with self._begin() as conn:
            conn.execute(
                update(OutboxMessage)
                .where(self._one_of(OutboxMessage.id, ids), OutboxMessage.status == "sending")
                .values(sent_at=at, handed_at=func.coalesce(OutboxMessage.handed_at, began or at))
            )

    def _one_of(self, column, ids: Iterable[int]):
        """``column IN (ids)``; on PostgreSQL ``= ANY(array)``, one statement text whatever the count, so a
        fan-out's chunks are not parsed afresh each time."""
        ids = list(ids)
        if self.engine.dialect.name == "postgresql":
            return column == any_(sa_cast(literal(ids, postgresql.ARRAY(Integer)), postgresql.ARRAY(Integer)))
        return column.in_(ids)

    def heartbeat(self, worker: str, *, host: str, pid: int, now: datetime) -> None:
        """Say this dispatcher is alive (wall-clock ``now``)."""
        with self._begin() as conn:
            updated = conn.execute(update(Worker).where(Worker.id == worker).values(last_seen=now)).rowcount
            if not updated:
                conn.execute(
                    self._insert(Worker)
                    .values(id=worker, host=host[:200], pid=pid, started_at=now, last_seen=now)
                    .on_conflict_do_nothing(index_elements=["id"])
                )

    def retire_worker(self, worker: str) -> None:
        with self._begin() as conn:
            conn.execute(Worker.__table__.delete().where(Worker.id == worker))

    def active_senders(self, *, alive_since: datetime, including: str, exclude_kinds: Sequence[str] = ()) -> int:
        """How many live dispatchers are sending now (``including`` always counts): they share the workspace's
        rate limits. A dispatcher counts while it holds claims and its heartbeat is fresh, so an idle
        instance, or a forwarder with other work, takes no share."""
        alive = select(Worker.id).where(Worker.last_seen >= alive_since)
        with self._connect() as conn:
            others = conn.execute(
                select(func.count(func.distinct(OutboxMessage.claimed_by))).where(
                    OutboxMessage.status == "sending",
                    OutboxMessage.claimed_by.in_(alive),
                    OutboxMessage.claimed_by != including,
                    OutboxMessage.kind.not_in(list(exclude_kinds)) if exclude_kinds else true(),
                )
            ).scalar()
        return 1 + int(others or 0)

    def release_stale(
        self, *, alive_since: datetime, exclude: str, maybe_sent_error: str, exclude_kinds: Sequence[str] = ()
    ) -> int:
        """Give back messages left "being sent" by a dispatcher not heard from since ``alive_since``.

        One that was handed to Slack (``sent_at`` set) may be there: it goes back with
        ``maybe_sent_error`` as its last error, which tells the dispatcher to look before sending
        again. One that was only claimed is simply due again. No attempt is counted: the dead
        process's attempt is not this message's fault. One statement, so two instances
        recovering at once never both take the same message. Returns how many were given back.
        """
        alive = select(Worker.id).where(Worker.last_seen >= alive_since)
        with self._begin() as conn:
            return conn.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.status == "sending",
                    or_(OutboxMessage.claimed_by.is_(None),
                        and_(OutboxMessage.claimed_by.not_in(alive), OutboxMessage.claimed_by != exclude)),
                    OutboxMessage.kind.not_in(list(exclude_kinds)) if exclude_kinds else true(),
                )
                .values(
                    status="pending",
                    claimed_by=None,
                    last_error=case((OutboxMessage.sent_at.is_not(None), maybe_sent_error[:200]),
                                    else_=OutboxMessage.last_error),
                    sent_at=None,
                )
            ).rowcount

    def mark_sent(self, item: OutboxItem, *, channel: str, ts: str, now: datetime) -> None:
        self.mark_sent_many([(item, channel, ts)], now=now)

    def mark_sent_many(self, sent: Sequence[tuple[OutboxItem, str, str]], *, now: datetime) -> None:
        """Record several sent messages in one transaction (executemany), with their lessons and DM channels."""
        if not sent:
            return
        outbox = [{"b_oid": item.id, "b_channel": channel, "b_ts": ts} for item, channel, ts in sent]
        lessons = [{"b_did": item.delivery_id, "b_channel": channel, "b_ts": ts} for item, channel, ts in sent
                   if item.delivery_id is not None and item.kind == "lesson"]
        dms = {item.learner_id: channel for item, channel, _ in sent
               if item.learner_id is not None and channel.startswith("D")}
        sessions = [{"b_sid": item.payload["session"], "b_channel": channel, "b_ts": ts} for item, channel, ts in sent
                    if item.kind in ("review", "recert") and item.payload and "session" in item.payload]
        with self._begin() as conn:
            if self.engine.dialect.name == "postgresql":
                self._record_sent_joined(conn, now, outbox, lessons, dms)
            else:  # SQLite: executemany runs in-process, no round trips to save
                conn.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == bindparam("b_oid"))
                    .values(status="sent", sent_at=now, sent_channel=bindparam("b_channel"),
                            sent_ts=bindparam("b_ts"), last_error=None, attempts=OutboxMessage.attempts + 1),
                    outbox,
                )
                if lessons:
                    conn.execute(
                        update(Delivery)
                        .where(Delivery.id == bindparam("b_did"))
                        .values(status="sent", sent_at=now, channel_id=bindparam("b_channel"),
                                message_ts=bindparam("b_ts"), error=None),
                        lessons,
                    )
                if dms:
                    conn.execute(
                        update(Learner)
                        .where(Learner.id == bindparam("b_lid"), or_(Learner.dm_channel_id.is_(None),
                                                                    Learner.dm_channel_id != bindparam("b_channel")))
                        .values(dm_channel_id=bindparam("b_channel")),
                        [{"b_lid": lid, "b_channel": channel} for lid, channel in dms.items()],
                    )
            if sessions:
                conn.execute(
                    update(ReviewSession)
                    .where(ReviewSession.id == bindparam("b_sid"))
                    .values(sent_at=now, channel_id=bindparam("b_channel"), message_ts=bindparam("b_ts")),
                    sessions,
                )

    @staticmethod
    def _record_sent_joined(conn, now: datetime, outbox: list[dict], lessons: list[dict], dms: dict) -> None:
        """PostgreSQL: one UPDATE … FROM unnest(arrays) per table instead of a statement per message, so a
        fan-out's records cost three statements a flush, not thousands of round trips (and the statements'
        text never changes, so neither SQLAlchemy nor psycopg parses them again)."""
        conn.execute(_SENT_OUTBOX, {"ids": [r["b_oid"] for r in outbox], "channels": [r["b_channel"] for r in outbox],
                                    "tss": [r["b_ts"] for r in outbox], "now": now})
        if lessons:
            conn.execute(_SENT_LESSONS, {"ids": [r["b_did"] for r in lessons],
                                         "channels": [r["b_channel"] for r in lessons],
                                         "tss": [r["b_ts"] for r in lessons], "now": now})
        if dms:
            conn.execute(_DM_CHANNELS, {"ids": list(dms), "channels": list(dms.values())})

    def mark_retry(self, item: OutboxItem, *, error: str, not_before: datetime, count_attempt: bool = True) -> None:
        """Due again at ``not_before``. ``count_attempt=False`` for a wait that is not the message's
        failure (Slack's rate limit): it never brings the message nearer to giving up."""
        with self._begin() as conn:
            conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == item.id)
                .values(status="pending", not_before=not_before, last_error=error[:200],
                        attempts=OutboxMessage.attempts + (1 if count_attempt else 0), claimed_by=None)
            )

    def release(self, item: OutboxItem, *, error: str | None = None) -> None:
        """Give a claimed message back, to be sent as soon as possible."""
        values: dict = {"status": "pending", "claimed_by": None}
        if error is not None:
            values["last_error"] = error[:200]
        with self._begin() as conn:
            conn.execute(
                update(OutboxMessage).where(OutboxMessage.id == item.id, OutboxMessage.status == "sending").values(**values)
            )

    def release_many(self, ids: Sequence[int]) -> None:
        """Give claimed messages back unsent (a stopping dispatcher), due as soon as possible."""
        if not ids:
            return
        with self._begin() as conn:
            conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.status == "sending")
                .values(status="pending", claimed_by=None)
            )

    def mark_failed(self, item: OutboxItem, *, reason: str, now: datetime) -> None:
        with self._begin() as conn:
            conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == item.id)
                .values(status="failed", last_error=reason[:200], attempts=OutboxMessage.attempts + 1)
            )
            if item.delivery_id is not None and item.kind == "lesson":
                conn.execute(
                    update(Delivery).where(Delivery.id == item.delivery_id).values(status="failed", error=reason[:200])
                )

    def mark_cancelled(self, item: OutboxItem, *, reason: str) -> None:
        """Nothing to send any more (the lesson was answered before its reminder went out, say)."""
        with self._begin() as conn:
            conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == item.id)
                .values(status="cancelled", last_error=reason[:200], claimed_by=None)
            )

    def outbox_counts(self) -> dict[str, int]:
        with self._connect() as conn:
            return {
                status: n
                for status, n in conn.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                )
            }

    def next_outbox_time(self) -> datetime | None:
        with self._connect() as conn:
            return conn.execute(
                select(func.min(OutboxMessage.not_before)).where(OutboxMessage.status == "pending")
            ).scalar()

    # -- lessons and what the learner did with them ---------------------------------------

    def delivery_state(self, delivery_id: int) -> DeliveryState | None:
        return self.delivery_states([delivery_id]).get(delivery_id)

    def delivery_states(self, delivery_ids: Iterable[int], *, sending: bool = False) -> dict[int, DeliveryState]:
        """Several delivered lessons with what each learner did with them, in two queries: the lessons with
        their learner, rating, comment and reflection (one of each at most per lesson), then the answers.

        ``sending``: the outbox is about to post these. A lesson Slack has never shown (no message
        recorded, none found when looked up) has no answers yet, so only the others are looked for in the
        answers — in a fan-out, none are. (A click reads one lesson twice, before and after recording it:
        these two queries were most of the database's share of its time.)
        """
        ids = sorted(set(delivery_ids))
        if not ids:
            return {}
        where = Delivery.id == ids[0] if len(ids) == 1 else self._one_of(Delivery.id, ids)
        with self._connect() as conn:
            deliveries = conn.execute(
                select(Delivery.__table__, Learner.slack_user_id, Learner.name, Feedback.rating.label("f_rating"),
                       Feedback.comment.label("f_comment"), Feedback.reason.label("f_reason"),
                       Reflection.text.label("r_text"))
                .join(Learner, Learner.id == Delivery.learner_id)
                .outerjoin(Feedback, Feedback.delivery_id == Delivery.id)
                .outerjoin(Reflection, Reflection.delivery_id == Delivery.id)
                .where(where)
            ).all()
            if sending:
                ids = [d.id for d in deliveries if d.message_ts is not None or d.sent_at is not None]
            answers: dict[int, list[AnswerView]] = {}
            if ids:
                of = Answer.delivery_id == ids[0] if len(ids) == 1 else Answer.delivery_id.in_(ids)
                for a in conn.execute(select(Answer.delivery_id, Answer.question_id, Answer.prompt, Answer.choice,
                                             Answer.correct, Answer.answered_at).where(of).order_by(Answer.id)):
                    answers.setdefault(a.delivery_id, []).append(
                        AnswerView(a.question_id, a.prompt, a.choice, a.correct, a.answered_at)
                    )
        return {
            d.id: DeliveryState(
                id=d.id,
                learner_id=d.learner_id,
                slack_user_id=d.slack_user_id,
                learner_name=d.name,
                pack_id=d.pack_id,
                lesson_id=d.lesson_id,
                pack_version=d.pack_version,
                kind=d.kind,
                status=d.status,
                due_at=d.due_at,
                sent_at=d.sent_at,
                channel_id=d.channel_id,
                message_ts=d.message_ts,
                answers=tuple(answers.get(d.id, ())),
                rating=d.f_rating,
                comment=d.f_comment,
                reason=d.f_reason,
                reflection=d.r_text,
                language=d.language,
            )
            for d in deliveries
        }

    def record_answer(
        self,
        *,
        delivery_id: int,
        learner_id: int,
        question_id: str,
        prompt: str,
        choice: str,
        correct: bool,
        now: datetime,
        language: str | None = None,
    ) -> bool:
        """Record an answer once (``prompt`` and ``choice`` the pack's own text, ``language`` the one it was
        asked in). False if this question of this delivery was already answered."""
        with self._begin() as conn:
            inserted = conn.execute(
                self._insert(Answer)
                .values(
                    delivery_id=delivery_id,
                    learner_id=learner_id,
                    question_id=question_id,
                    prompt=prompt,
                    choice=choice,
                    correct=correct,
                    answered_at=now,
                    language=language,
                )
                .on_conflict_do_nothing(index_elements=["delivery_id", "question_id"])
                .returning(Answer.id)
            ).scalar()
        return inserted is not None

    def record_rating(self, *, delivery_id: int, learner_id: int, rating: int, now: datetime) -> bool:
        """Record the first rating of a lesson. False if it was already rated."""
        with self._begin() as conn:
            conn.execute(
                self._insert(Feedback)
                .values(delivery_id=delivery_id, learner_id=learner_id)
                .on_conflict_do_nothing(index_elements=["delivery_id"])
            )
            result = conn.execute(
                update(Feedback)
                .where(Feedback.delivery_id == delivery_id, Feedback.rating.is_(None))
                .values(rating=rating, rated_at=now)
            )
            return bool(result.rowcount)

    def record_comment(self, *, delivery_id: int, learner_id: int, comment: str, now: datetime) -> bool:
        """Store the learner's comment verbatim. False if the same comment was already stored (a retry)."""
        with self._begin() as conn:
            conn.execute(
                self._insert(Feedback)
                .values(delivery_id=delivery_id, learner_id=learner_id)
                .on_conflict_do_nothing(index_elements=["delivery_id"])
            )
            result = conn.execute(
                update(Feedback)
                .where(
                    Feedback.delivery_id == delivery_id,
                    or_(Feedback.comment.is_(None), Feedback.comment != comment),
                )
                .values(comment=comment, commented_at=now)
            )
            return bool(result.rowcount)

    def record_reason(self, *, delivery_id: int, reason: str, now: datetime) -> bool:
        """Why a rated lesson was not useful; the first answer counts."""
        with self._begin() as conn:
            result = conn.execute(
                update(Feedback)
                .where(Feedback.delivery_id == delivery_id, Feedback.rating.is_not(None), Feedback.reason.is_(None))
                .values(reason=reason)
            )
            return bool(result.rowcount)

    def record_reflection(self, *, delivery_id: int, learner_id: int, prompt: str, text: str, now: datetime) -> bool:
        """Keep the learner's reflection (a later edit replaces it). False if unchanged (a retried submit)."""
        with self._begin() as conn:
            inserted = conn.execute(
                self._insert(Reflection)
                .values(delivery_id=delivery_id, learner_id=learner_id, prompt=prompt, text=text, created_at=now,
                        updated_at=now)
                .on_conflict_do_nothing(index_elements=["delivery_id"])
                .returning(Reflection.id)
            ).scalar()
            if inserted is not None:
                return True
            result = conn.execute(
                update(Reflection)
                .where(Reflection.delivery_id == delivery_id, Reflection.text != text)
                .values(text=text, updated_at=now)
            )
            return bool(result.rowcount)

    def record_link_open(self, *, delivery_id: int, learner_id: int, link_index: int, url: str, now: datetime) -> bool:
        """The first time a learner opens a lesson's link (Slack reports URL-button clicks)."""
        with self._begin() as conn:
            return (
                conn.execute(
                    self._insert(LinkOpen)
                    .values(delivery_id=delivery_id, learner_id=learner_id, link_index=link_index, url=url,
                            opened_at=now)
                    .on_conflict_do_nothing(index_elements=["delivery_id", "link_index"])
                    .returning(LinkOpen.id)
                ).scalar()
                is not None
            )

    def mark_event_processed(self, event_id: str, now: datetime) -> bool:
        """True the first time an Events API event id is seen, False for Slack's retries of it."""
        with self._begin() as conn:
            inserted = conn.execute(
                self._insert(ProcessedEvent)
                .values(event_id=event_id, received_at=now)
                .on_conflict_do_nothing(index_elements=["event_id"])
                .returning(ProcessedEvent.event_id)
            ).scalar()
        return inserted is not None

    def event_handled(self, event_id: str) -> bool:
        """Whether an Events API event id is already recorded as handled (a cheap look before the work)."""
        with self._connect() as conn:
            return conn.execute(select(ProcessedEvent.event_id).where(ProcessedEvent.event_id == event_id)
                                ).first() is not None

    def forget_processed_events(self, older_than: datetime) -> int:
        """Slack retries an event for a few minutes at most: ids older than that only take space."""
        with self._begin() as conn:
            return conn.execute(ProcessedEvent.__table__.delete().where(ProcessedEvent.received_at < older_than)
                                ).rowcount

    # -- messages to redraw --------------------------------------------------------------

    def mark_redraw(self, kind: str, ref_id: int, now: datetime) -> None:
        """The message of ``kind``/``ref_id`` must show a record just made (call inside its unit of work)."""
        with self._begin() as conn:
            conn.execute(
                self._insert(PendingRedraw).values(kind=kind, ref_id=ref_id, since=now, attempts=0)
                .on_conflict_do_update(index_elements=["kind", "ref_id"], set_={"since": now, "attempts": 0})
            )

    def redrawn(self, kind: str, ref_id: int, *, since: datetime) -> None:
        """Drawn from records at least as new as ``since``; a mark made later stays for its own drawing."""
        with self._begin() as conn:
            conn.execute(PendingRedraw.__table__.delete().where(
                PendingRedraw.kind == kind, PendingRedraw.ref_id == ref_id, PendingRedraw.since <= since))

    def redraws_due(self, *, marked_before: datetime, limit: int) -> list[tuple[str, int, datetime, int]]:
        """Messages still to draw, oldest first: (kind, ref id, since, attempts)."""
        with self._connect() as conn:
            rows = conn.execute(
                select(PendingRedraw.kind, PendingRedraw.ref_id, PendingRedraw.since, PendingRedraw.attempts)
                .where(PendingRedraw.since < marked_before).order_by(PendingRedraw.since).limit(limit)
            ).all()
        return [(r.kind, r.ref_id, r.since, r.attempts) for r in rows]

    def redraw_failed(self, kind: str, ref_id: int, *, give_up_after: int) -> bool:
        """One more failed attempt; True when it was the last (the mark is dropped)."""
        with self._begin() as conn:
            attempts = conn.execute(
                update(PendingRedraw).where(PendingRedraw.kind == kind, PendingRedraw.ref_id == ref_id)
                .values(attempts=PendingRedraw.attempts + 1).returning(PendingRedraw.attempts)
            ).scalar()
            if attempts is not None and attempts >= give_up_after:
                conn.execute(PendingRedraw.__table__.delete().where(PendingRedraw.kind == kind,
                                                                    PendingRedraw.ref_id == ref_id))
                return True
        return False

    # -- reminders -----------------------------------------------------------------------

    def lessons_awaiting_reminder(self, *, sent_before: datetime, sent_after: datetime, limit: int = 5000) -> list:
        """Scheduled lessons sent in the window with no answer, no rating and no reminder decision yet."""
        engaged_answer = select(Answer.id).where(Answer.delivery_id == Delivery.id).exists()
        engaged_feedback = select(Feedback.id).where(Feedback.delivery_id == Delivery.id).exists()
        decided = (
            select(OutboxMessage.id)
            .where(OutboxMessage.delivery_id == Delivery.id, OutboxMessage.kind.in_(("reminder", "pause_offer")))
            .exists()
        )
        with self._connect() as conn:
            return conn.execute(
                select(Delivery.id.label("delivery_id"), Delivery.learner_id, Delivery.channel_id, Learner.slack_user_id)
                .join(Learner, Learner.id == Delivery.learner_id)
                .where(
                    Delivery.status == "sent",
                    Delivery.kind == "scheduled",
                    Delivery.sent_at <= sent_before,
                    Delivery.sent_at > sent_after,
                    Learner.active.is_(True),
                    or_(Learner.paused_until.is_(None), Learner.paused_until <= sent_before),
                    ~engaged_answer,
                    ~engaged_feedback,
                    ~decided,
                )
                .order_by(Delivery.id)
                .limit(limit)
            ).all()

    def recent_engagement(self, learner_id: int, *, limit: int) -> list[bool]:
        """For the learner's last ``limit`` scheduled lessons, newest first: did they answer or rate it?"""
        answered = select(Answer.id).where(Answer.delivery_id == Delivery.id).exists()
        rated = select(Feedback.id).where(Feedback.delivery_id == Delivery.id).exists()
        with self._connect() as conn:
            rows = conn.execute(
                select(or_(answered, rated))
                .where(Delivery.learner_id == learner_id, Delivery.status == "sent", Delivery.kind == "scheduled")
                .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
                .limit(limit)
            ).scalars()
            return [bool(v) for v in rows]

    def pause_offered_since_engagement(self, learner_id: int) -> bool:
        """Whether Sprout already asked this learner about pausing after they last answered or rated."""
        last_answer = select(func.max(Answer.answered_at)).where(Answer.learner_id == learner_id).scalar_subquery()
        last_rating = select(func.max(Feedback.rated_at)).where(Feedback.learner_id == learner_id).scalar_subquery()
        with self._connect() as conn:
            offered, answered, rated = conn.execute(
                select(
                    select(func.max(OutboxMessage.created_at))
                    .where(OutboxMessage.learner_id == learner_id, OutboxMessage.kind == "pause_offer",
                           OutboxMessage.status != "cancelled")
                    .scalar_subquery(),
                    last_answer,
                    last_rating,
                )
            ).one()
        if offered is None:
            return False
        engaged = max((t for t in (answered, rated) if t is not None), default=None)
        return engaged is None or offered > engaged

    def delivery_engaged(self, delivery_id: int) -> bool:
        with self._connect() as conn:
            return bool(
                conn.execute(
                    select(
                        or_(
                            select(Answer.id).where(Answer.delivery_id == delivery_id).exists(),
                            select(Feedback.id).where(Feedback.delivery_id == delivery_id).exists(),
                        )
                    )
                ).scalar()
            )

    # -- summaries -----------------------------------------------------------------------

    def learner_summary(self) -> list[SummaryRow]:
        """Per learner: lessons delivered, questions answered and right, ratings, comments (in SQL)."""
        delivered = (
            select(Delivery.learner_id, func.count().label("n"))
            .where(Delivery.status == "sent")
            .group_by(Delivery.learner_id)
            .subquery()
        )
        answered = (
            select(
                Answer.learner_id,
                func.count().label("n"),
                func.sum(case((Answer.correct.is_(True), 1), else_=0)).label("right"),
            )
            .group_by(Answer.learner_id)
            .subquery()
        )
        rated = (
            select(
                Feedback.learner_id,
                func.count(Feedback.rating).label("n"),
                func.avg(Feedback.rating).label("avg"),
                func.count(Feedback.comment).label("comments"),
            )
            .group_by(Feedback.learner_id)
            .subquery()
        )
        stmt = (
            select(
                Learner.slack_user_id,
                Learner.name,
                func.coalesce(Learner.timezone, Learner.slack_timezone),
                func.coalesce(delivered.c.n, 0),
                func.coalesce(answered.c.n, 0),
                func.coalesce(answered.c.right, 0),
                func.coalesce(rated.c.n, 0),
                rated.c.avg,
                func.coalesce(rated.c.comments, 0),
            )
            .outerjoin(delivered, delivered.c.learner_id == Learner.id)
            .outerjoin(answered, answered.c.learner_id == Learner.id)
            .outerjoin(rated, rated.c.learner_id == Learner.id)
            .order_by(Learner.name, Learner.slack_user_id)
        )
        with self._connect() as conn:
            return [
                SummaryRow(u, n, tz, int(d), int(a), int(r), int(rt), float(avg) if avg is not None else None, int(c))
                for u, n, tz, d, a, r, rt, avg, c in conn.execute(stmt)
            ]


def _rows(*columns: tuple[str, str, Any]):
    """Rows joined to an UPDATE from arrays, one per column (PostgreSQL's unnest)."""
    return (func.unnest(*(sa_cast(bindparam(param), postgresql.ARRAY(kind)) for _n, param, kind in columns))
            .table_valued(*(n for n, _p, _k in columns)).render_derived(name="r"))


_sent = _rows(("oid", "ids", Integer), ("channel", "channels", String), ("ts", "tss", String))
_SENT_OUTBOX = (update(OutboxMessage).where(OutboxMessage.id == _sent.c.oid)
                .values(status="sent", sent_at=bindparam("now"), sent_channel=_sent.c.channel, sent_ts=_sent.c.ts,
                        last_error=None, attempts=OutboxMessage.attempts + 1))
_SENT_LESSONS = (update(Delivery).where(Delivery.id == _sent.c.oid)
                 .values(status="sent", sent_at=bindparam("now"), channel_id=_sent.c.channel,
                         message_ts=_sent.c.ts, error=None))
_dm = _rows(("lid", "ids", Integer), ("channel", "channels", String))
_DM_CHANNELS = (update(Learner)
                .where(Learner.id == _dm.c.lid, or_(Learner.dm_channel_id.is_(None), Learner.dm_channel_id != _dm.c.channel))
                .values(dm_channel_id=_dm.c.channel))
_new = _rows(("enrollment_id", "enrollment_ids", Integer), ("learner_id", "learner_ids", Integer),
             ("pack_id", "pack_ids", String), ("lesson_id", "lesson_ids", String),
             ("pack_version", "pack_versions", Integer), ("kind", "kinds", String), ("local_date", "local_dates", Date),
             ("due_at", "due_ats", DateTime(timezone=True)), ("language", "languages", String))
_QUEUE_DELIVERIES = (
    postgresql.insert(Delivery)
    .from_select(["enrollment_id", "learner_id", "pack_id", "lesson_id", "pack_version", "kind", "local_date", "due_at",
                  "language", "status"], select(*_new.c, literal("queued", String)))
    .on_conflict_do_nothing()
    .returning(Delivery.id, Delivery.enrollment_id, Delivery.lesson_id)
)
_lesson = _rows(("delivery_id", "delivery_ids", Integer), ("dedupe_key", "dedupe_keys", String),
                ("learner_id", "learner_ids", Integer), ("channel", "channels", String))
_QUEUE_LESSONS = (
    postgresql.insert(OutboxMessage)
    .from_select(["kind", "dedupe_key", "learner_id", "delivery_id", "channel", "status", "attempts", "not_before",
                  "created_at"],
                 select(literal("lesson", String), _lesson.c.dedupe_key, _lesson.c.learner_id, _lesson.c.delivery_id,
                        _lesson.c.channel, literal("pending", String), literal(0, Integer),
                        bindparam("now", type_=UTCDateTime()), bindparam("now", type_=UTCDateTime())))
    .on_conflict_do_nothing()
    .returning(OutboxMessage.id)
)
