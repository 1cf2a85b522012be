"""Coaches' records: who coaches whom, each coachee's choice to share their notes, and what a coach sees.

Every figure is a GROUP BY in the database, never a loop over records in Python, and the privacy rules
are in the SQL itself: a coach's queries start from *their* assignments (``coach_id``), and notes are read
only through an assignment whose ``shares_notes`` is on, so a mistake above this module cannot show one
coach another's coachees or a learner's private words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Connection,
    Engine,
    case,
    delete,
    distinct,
    func,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from db.engine import reading
from db.models import (
    Answer,
    CoachAssignment,
    Delivery,
    Feedback,
    Learner,
    Reflection,
    Review,
    ReviewCard,
)
from learning.coaching import ROLE, Coachee, SharedNote, Struggle

ROSTER = "roster import"


@dataclass(frozen=True)
class Coach:
    """A coach as their digest needs them: where to send it, when, and how many coachees they have."""

    id: int
    slack_user_id: str
    name: str
    role: str
    timezone: str | None
    slack_timezone: str | None
    dm_channel_id: str | None
    digest_day: str | None
    digest_time: str | None
    digest_off: bool
    active: bool
    coachees: int  # active learners assigned to them


@dataclass(frozen=True)
class CoachOf:
    """A learner's coach, as the learner's Home shows them."""

    coach_id: int
    slack_user_id: str
    name: str
    shares_notes: bool


@dataclass(frozen=True)
class Assigned:
    learner_id: int
    previous_coach_id: int | None  # None: they had no coach; the coach's own id: nothing changed


def _one(condition) -> object:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _upsert(conn: Connection, rows: list[dict]) -> None:
    """Insert assignments, or move a learner to another coach; the same coach again changes nothing (their
    sharing choice stays), another coach starts private."""
    if not rows:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(CoachAssignment)
    table = CoachAssignment.__table__
    stmt = stmt.on_conflict_do_update(
        index_elements=["learner_id"],
        set_={"coach_id": stmt.excluded.coach_id, "shares_notes": False, "sharing_changed_at": None,
              "assigned_by": stmt.excluded.assigned_by, "assigned_at": stmt.excluded.assigned_at},
        where=table.c.coach_id != stmt.excluded.coach_id,
    )
    conn.execute(stmt, rows)


def write_roster_coaches(conn: Connection, coaches: Sequence[tuple[int, int | None]], now: datetime) -> int:
    """The roster's coach column, inside its import's transaction: (learner id, coach id or None for "no
    coach"). Returns how many learners got a new coach."""
    chunk = 5000
    changed = 0
    coaches = list(dict(coaches).items())  # a learner named twice: the later row wins, as for every column
    for start in range(0, len(coaches), chunk):
        part = coaches[start : start + chunk]
        before = dict(conn.execute(select(CoachAssignment.learner_id, CoachAssignment.coach_id)
                                   .where(CoachAssignment.learner_id.in_([lid for lid, _ in part]))).all())
        gone = [lid for lid, coach in part if coach is None and lid in before]
        if gone:
            conn.execute(delete(CoachAssignment).where(CoachAssignment.learner_id.in_(gone)))
        rows = [{"learner_id": lid, "coach_id": coach, "shares_notes": False, "assigned_by": ROSTER,
                 "assigned_at": now} for lid, coach in part if coach is not None]
        _upsert(conn, rows)
        changed += sum(1 for row in rows if before.get(row["learner_id"]) != row["coach_id"])
    return changed


class CoachingRecords:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- assignments ---------------------------------------------------------------------------------

    def assign(self, coach_id: int, learner_ids: Sequence[int], *, by: str, now: datetime) -> list[Assigned]:
        """Make ``coach_id`` the coach of each learner (replacing another coach); what each had before."""
        ids = list(dict.fromkeys(learner_ids))
        with self.engine.begin() as conn:
            before = dict(conn.execute(select(CoachAssignment.learner_id, CoachAssignment.coach_id)
                                       .where(CoachAssignment.learner_id.in_(ids))).all())
            _upsert(conn, [{"learner_id": lid, "coach_id": coach_id, "shares_notes": False, "assigned_by": by,
                            "assigned_at": now} for lid in ids])
        return [Assigned(lid, before.get(lid)) for lid in ids]

    def unassign(self, coach_id: int, learner_ids: Sequence[int]) -> list[int]:
        """Remove these learners from ``coach_id``'s coachees (only theirs); the ids removed."""
        with self.engine.begin() as conn:
            return list(conn.execute(
                delete(CoachAssignment)
                .where(CoachAssignment.coach_id == coach_id, CoachAssignment.learner_id.in_(list(learner_ids)))
                .returning(CoachAssignment.learner_id)).scalars())

    def coachee_names(self, coach_id: int) -> list[tuple[str, str, bool]]:
        """(Slack id, name, active) of every learner assigned to ``coach_id``, by name."""
        with reading(self.engine) as conn:
            return [tuple(r) for r in conn.execute(
                select(Learner.slack_user_id, Learner.name, Learner.active)
                .join(CoachAssignment, CoachAssignment.learner_id == Learner.id)
                .where(CoachAssignment.coach_id == coach_id).order_by(Learner.name, Learner.id))]

    def coach_of(self, learner_id: int) -> CoachOf | None:
        with reading(self.engine) as conn:
            row = conn.execute(
                select(CoachAssignment.coach_id, Learner.slack_user_id, Learner.name, CoachAssignment.shares_notes)
                .join(Learner, Learner.id == CoachAssignment.coach_id)
                .where(CoachAssignment.learner_id == learner_id)).first()
        return CoachOf(*row) if row else None

    def set_sharing(self, learner_id: int, shares: bool, now: datetime) -> bool:
        """The learner's choice for their current coach; False when they have no coach."""
        with self.engine.begin() as conn:
            return conn.execute(update(CoachAssignment).where(CoachAssignment.learner_id == learner_id)
                                .values(shares_notes=shares, sharing_changed_at=now)).rowcount > 0

    def roles(self, slack_user_ids: Iterable[str]) -> dict[str, str]:
        """Slack user id -> stored role, for the people of these ids Sprout knows."""
        ids = sorted(set(slack_user_ids))
        found: dict[str, str] = {}
        with reading(self.engine) as conn:
            for start in range(0, len(ids), 5000):
                found.update(conn.execute(select(Learner.slack_user_id, Learner.role)
                                          .where(Learner.slack_user_id.in_(ids[start : start + 5000]))).all())
        return found

    # -- digest recipients ---------------------------------------------------------------------------

    def _coaches(self, *where) -> list[Coach]:
        counts = (
            select(CoachAssignment.coach_id.label("coach_id"), func.count().label("n"))
            .join(Learner, Learner.id == CoachAssignment.learner_id)
            .where(Learner.active.is_(True))
            .group_by(CoachAssignment.coach_id)
            .subquery()
        )
        stmt = (
            select(Learner.id, Learner.slack_user_id, Learner.name, Learner.role, Learner.timezone,
                   Learner.slack_timezone, Learner.dm_channel_id, Learner.digest_day, Learner.digest_time,
                   Learner.digest_off, Learner.active, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.coach_id == Learner.id)
            .where(*where)
            .order_by(Learner.id)
        )
        with reading(self.engine) as conn:
            return [Coach(*row[:-1], coachees=int(row[-1])) for row in conn.execute(stmt)]

    def digest_recipients(self) -> list[Coach]:
        """Active people whose stored role is coach and who have at least one active coachee."""
        has = select(CoachAssignment.coach_id).join(Learner, Learner.id == CoachAssignment.learner_id).where(
            Learner.active.is_(True))
        return self._coaches(Learner.active.is_(True), Learner.role == ROLE, Learner.id.in_(has))

    def coach(self, learner_id: int) -> Coach | None:
        found = self._coaches(Learner.id == learner_id)
        return found[0] if found else None

    # -- what a coach sees ---------------------------------------------------------------------------

    @staticmethod
    def _mine(coach_id: int):
        """The coach's active coachees: (learner id, shares notes, assigned at)."""
        return (
            select(CoachAssignment.learner_id, CoachAssignment.shares_notes, CoachAssignment.assigned_at)
            .join(Learner, Learner.id == CoachAssignment.learner_id)
            .where(CoachAssignment.coach_id == coach_id, Learner.active.is_(True))
            .subquery("mine")
        )

    @staticmethod
    def _activity(mine, low: datetime | None, high: datetime):
        """Every quiz and review answer of the coachees in ``[low, high)``: learner, lesson (quiz answers
        only), question, its wording, right or not, when."""
        def window(column):
            return [column < high] + ([column >= low] if low is not None else [])

        quiz = (
            select(Answer.learner_id, Answer.delivery_id.label("delivery_id"), Delivery.pack_id, Delivery.lesson_id,
                   Answer.question_id, Answer.prompt, Answer.correct, Answer.answered_at)
            .join(mine, mine.c.learner_id == Answer.learner_id)
            .join(Delivery, Delivery.id == Answer.delivery_id)
            .where(*window(Answer.answered_at))
        )
        reviews = (
            select(Review.learner_id, null().label("delivery_id"), ReviewCard.pack_id, ReviewCard.lesson_id,
                   Review.question_id, Review.prompt, Review.correct, Review.answered_at)
            .join(mine, mine.c.learner_id == Review.learner_id)
            .join(ReviewCard, ReviewCard.id == Review.card_id)
            .where(*window(Review.answered_at))
        )
        return union_all(quiz, reviews).subquery("activity")

    def coachees(self, coach_id: int, *, week_start: datetime, month_start: datetime,
                 until: datetime) -> list[Coachee]:
        """Each of the coach's active coachees with their figures: lessons answered in ``[week_start, until)``
        and ``[month_start, until)``, answers and right answers (quizzes and reviews) over the month, and
        their latest answer before ``until``."""
        mine = self._mine(coach_id)
        a = self._activity(mine, month_start, until)
        in_week = a.c.answered_at >= week_start
        figures = (
            select(
                a.c.learner_id,
                func.count(distinct(case((in_week, a.c.delivery_id)))).label("lessons_week"),
                func.count(distinct(a.c.delivery_id)).label("lessons_month"),
                func.count().label("answers"),
                _one(a.c.correct.is_(True)).label("correct"),
            )
            .group_by(a.c.learner_id)
            .subquery("figures")
        )
        ever = self._activity(mine, None, until)
        last = select(ever.c.learner_id, func.max(ever.c.answered_at).label("at")).group_by(ever.c.learner_id) \
            .subquery("last")
        z = func.coalesce
        stmt = (
            select(Learner.id, Learner.slack_user_id, Learner.name, z(figures.c.lessons_week, 0),
                   z(figures.c.lessons_month, 0), z(figures.c.answers, 0), z(figures.c.correct, 0), last.c.at,
                   mine.c.shares_notes, mine.c.assigned_at)
            .select_from(mine)
            .join(Learner, Learner.id == mine.c.learner_id)
            .outerjoin(figures, figures.c.learner_id == mine.c.learner_id)
            .outerjoin(last, last.c.learner_id == mine.c.learner_id)
            .order_by(Learner.name, Learner.id)
        )
        with reading(self.engine) as conn:
            return [Coachee(lid, uid, name, int(w), int(m), int(n), int(c), at, bool(shares), assigned)
                    for lid, uid, name, w, m, n, c, at, shares, assigned in conn.execute(stmt)]

    def struggles(self, coach_id: int, *, since: datetime, until: datetime,
                  limit: int = 2) -> dict[int, list[Struggle]]:
        """Per coachee, the questions they got wrong most in ``[since, until)`` (lessons and reviews)."""
        mine = self._mine(coach_id)
        a = self._activity(mine, since, until)
        wrong = _one(a.c.correct.is_(False))
        question = (a.c.learner_id, a.c.pack_id, a.c.lesson_id, a.c.question_id)
        grouped = (
            select(*question, func.max(a.c.prompt).label("prompt"), wrong.label("wrong"),
                   func.count().label("answers"))
            .group_by(*question)
            .having(wrong > 0)
            .subquery("grouped")
        )
        ranked = select(
            grouped,
            func.row_number().over(partition_by=grouped.c.learner_id,
                                   order_by=(grouped.c.wrong.desc(), grouped.c.answers.desc(), grouped.c.pack_id,
                                             grouped.c.lesson_id, grouped.c.question_id)).label("rank"),
        ).subquery("ranked")
        out: dict[int, list[Struggle]] = {}
        with reading(self.engine) as conn:
            for r in conn.execute(select(ranked).where(ranked.c.rank <= limit)
                                  .order_by(ranked.c.learner_id, ranked.c.rank)):
                out.setdefault(r.learner_id, []).append(Struggle(r.pack_id, r.lesson_id, r.question_id, r.prompt,
                                                                 int(r.wrong), int(r.answers)))
        return out

    def shared_notes(self, coach_id: int, *, since: datetime, until: datetime,
                     limit: int = 2) -> dict[int, list[SharedNote]]:
        """Per coachee who shares them with this coach, their latest reflections and comments written in
        ``[since, until)``. Nothing of a coachee who does not share: the test is in the join."""
        sharing = (
            select(CoachAssignment.learner_id)
            .join(Learner, Learner.id == CoachAssignment.learner_id)
            .where(CoachAssignment.coach_id == coach_id, CoachAssignment.shares_notes.is_(True),
                   Learner.active.is_(True))
            .subquery("sharing")
        )
        reflections = (
            select(Reflection.learner_id, literal("reflection").label("kind"), Delivery.pack_id, Delivery.lesson_id,
                   Reflection.text.label("text"), Reflection.updated_at.label("at"), Reflection.id.label("ref"))
            .join(sharing, sharing.c.learner_id == Reflection.learner_id)
            .join(Delivery, Delivery.id == Reflection.delivery_id)
            .where(Reflection.updated_at >= since, Reflection.updated_at < until)
        )
        comments = (
            select(Feedback.learner_id, literal("comment").label("kind"), Delivery.pack_id, Delivery.lesson_id,
                   Feedback.comment.label("text"), Feedback.commented_at.label("at"), Feedback.id.label("ref"))
            .join(sharing, sharing.c.learner_id == Feedback.learner_id)
            .join(Delivery, Delivery.id == Feedback.delivery_id)
            .where(Feedback.comment.is_not(None), Feedback.comment != "", Feedback.commented_at >= since,
                   Feedback.commented_at < until)
        )
        notes = union_all(reflections, comments).subquery("notes")
        ranked = select(
            notes,
            func.row_number().over(partition_by=notes.c.learner_id,
                                   order_by=(notes.c.at.desc(), notes.c.kind, notes.c.ref.desc())).label("rank"),
        ).subquery("ranked")
        out: dict[int, list[SharedNote]] = {}
        with reading(self.engine) as conn:
            for r in conn.execute(select(ranked).where(ranked.c.rank <= limit)
                                  .order_by(ranked.c.learner_id, ranked.c.rank)):
                out.setdefault(r.learner_id, []).append(SharedNote(r.kind, r.pack_id, r.lesson_id, r.text, r.at))
        return out


__all__ = ["ROSTER", "Assigned", "Coach", "CoachOf", "CoachingRecords", "write_roster_coaches"]
