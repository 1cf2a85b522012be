"""Storage for cohorts (who takes a pack together, from when) and tracks (which pack comes next).
A part of ``Store``."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import and_, case, func, or_, select, update

from db.models import Answer, AuditEntry, Certificate, Cohort, CohortMember, Delivery, Enrollment, Learner


@dataclass(frozen=True)
class CohortView:
    id: int
    name: str
    pack_id: str
    start_on: date
    join_mode: str
    created_by: int | None
    created_at: datetime
    members: int = 0


@dataclass(frozen=True)
class MemberProgress:
    """One cohort member's figures in the cohort's pack, counted in SQL."""

    learner_id: int
    slack_user_id: str
    name: str
    timezone: str | None
    slack_timezone: str | None
    added_at: datetime
    enrollment_id: int | None
    enrollment_status: str | None
    start_lesson_id: str | None
    sent: int  # lessons delivered
    done: int  # delivered lessons answered (at least one answer), or without questions
    answered_lessons: int  # delivered lessons with at least one answer
    answers: int
    correct: int
    lesson_ids: frozenset[str] = frozenset()  # every lesson sent or on its way (for the current lesson)


JoinOutcome = Literal["enrolled", "moved", "already", "elsewhere"]


@dataclass(frozen=True)
class TrackEnrollment:
    """An enrollment of a learner who follows at least one track."""

    enrollment_id: int
    learner_id: int
    pack_id: str
    track_id: str | None
    status: str
    start_lesson_id: str | None


def _audit(conn, *, actor: str, action: str, subject: str, detail: str, now: datetime) -> None:
    """Privileged changes are kept with who made them, in the same transaction as the change."""
    conn.execute(AuditEntry.__table__.insert().values(at=now, actor=actor[:64], action=action, subject=subject[:200],
                                                      detail=detail))


def _cohort_view(row, members: int = 0) -> CohortView:
    return CohortView(row.id, row.name, row.pack_id, row.start_on, row.join_mode, row.created_by, row.created_at,
                      members)


class CohortRecords:
    """Mixed into ``db.store.Store``: needs ``self.engine`` and ``self._insert``."""

    # -- cohorts -------------------------------------------------------------------------

    def create_cohort(
        self, *, name: str, pack_id: str, start_on: date, join_mode: str, created_by: int | None, actor: str,
        now: datetime,
    ) -> CohortView | None:
        """A new cohort; None when the name is taken (names compare ignoring case)."""
        with self._begin() as conn:
            taken = conn.execute(select(Cohort.id).where(func.lower(Cohort.name) == name.lower())).first()
            if taken is not None:
                return None
            cohort_id = conn.execute(
                self._insert(Cohort)
                .values(name=name, pack_id=pack_id, start_on=start_on, join_mode=join_mode, created_by=created_by,
                        created_at=now)
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(Cohort.id)
            ).scalar()
            if cohort_id is None:
                return None
            _audit(conn, actor=actor, action="cohort_create", subject=name, now=now,
                   detail=f"{pack_id} from {start_on.isoformat()}, late joiners: {join_mode}")
            return _cohort_view(conn.execute(select(Cohort.__table__).where(Cohort.id == cohort_id)).one())

    def _cohorts(self, *where) -> list[CohortView]:
        members = (
            select(CohortMember.cohort_id, func.count().label("n")).group_by(CohortMember.cohort_id).subquery()
        )
        with self._connect() as conn:
            rows = conn.execute(
                select(Cohort.__table__, func.coalesce(members.c.n, 0).label("members"))
                .outerjoin(members, members.c.cohort_id == Cohort.id)
                .where(*where)
                .order_by(Cohort.start_on.desc(), Cohort.name)
            ).all()
        return [_cohort_view(r, int(r.members)) for r in rows]

    def cohort_named(self, name: str) -> CohortView | None:
        found = self._cohorts(func.lower(Cohort.name) == name.strip().lower())
        return found[0] if found else None

    def cohort_by_id(self, cohort_id: int) -> CohortView | None:
        found = self._cohorts(Cohort.id == cohort_id)
        return found[0] if found else None

    def cohorts(self) -> list[CohortView]:
        return self._cohorts()

    # -- who to add ----------------------------------------------------------------------

    def team_members(self, team: str) -> list[tuple[int, str]]:
        """(learner id, Slack user id) of the active learners of a team (as the roster names it, any case)."""
        with self._connect() as conn:
            return [
                (r.id, r.slack_user_id)
                for r in conn.execute(
                    select(Learner.id, Learner.slack_user_id)
                    .where(func.lower(Learner.team) == team.strip().lower(), Learner.active.is_(True))
                    .order_by(Learner.name, Learner.id)
                )
            ]

    def learners_named(self, name: str) -> list[str]:
        """Slack user ids of active learners whose name is ``name`` (any case)."""
        with self._connect() as conn:
            return list(
                conn.execute(
                    select(Learner.slack_user_id)
                    .where(func.lower(Learner.name) == name.strip().lower(), Learner.active.is_(True))
                    .order_by(Learner.id)
                ).scalars()
            )

    # -- members -------------------------------------------------------------------------

    def join_cohort(
        self,
        *,
        cohort_id: int,
        pack_id: str,
        learner_ids: Sequence[int],
        starts_on: date,
        start_lesson_id: str | None,
        actor: str,
        now: datetime,
    ) -> dict[int, JoinOutcome]:
        """Put learners in a cohort and on its schedule, all in one transaction.

        - ``enrolled``: a new enrollment in the pack, starting on the cohort's date (at ``start_lesson_id``).
        - ``moved``: they were taking the pack on their own; that enrollment now follows the cohort's
          schedule. Lessons they already had are never sent again (deliveries are unique per lesson).
        - ``already``: in this cohort already.
        - ``elsewhere``: taking this pack in another cohort; left there.
        """
        outcomes: dict[int, JoinOutcome] = {}
        with self._begin() as conn:
            existing = {
                row.learner_id: row
                for row in conn.execute(
                    select(Enrollment.id, Enrollment.learner_id, Enrollment.cohort_id, Enrollment.status)
                    .where(Enrollment.pack_id == pack_id, Enrollment.learner_id.in_(list(set(learner_ids))))
                )
            }
            for learner_id in dict.fromkeys(learner_ids):
                enrollment = existing.get(learner_id)
                if enrollment is not None and enrollment.cohort_id not in (None, cohort_id):
                    outcomes[learner_id] = "elsewhere"
                    continue
                conn.execute(
                    self._insert(CohortMember)
                    .values(cohort_id=cohort_id, learner_id=learner_id, added_at=now)
                    .on_conflict_do_nothing(index_elements=["cohort_id", "learner_id"])
                )
                if enrollment is not None and enrollment.cohort_id == cohort_id:
                    outcomes[learner_id] = "already"
                    continue
                if enrollment is None:
                    inserted = conn.execute(
                        self._insert(Enrollment)
                        .values(learner_id=learner_id, pack_id=pack_id, status="active", enrolled_at=now,
                                cohort_id=cohort_id, starts_on=starts_on, start_lesson_id=start_lesson_id)
                        .on_conflict_do_nothing(index_elements=["learner_id", "pack_id"])
                        .returning(Enrollment.id)
                    ).scalar()
                    outcomes[learner_id] = "enrolled" if inserted is not None else "already"
                    continue
                conn.execute(
                    update(Enrollment)
                    .where(Enrollment.id == enrollment.id)
                    .values(
                        cohort_id=cohort_id,
                        starts_on=starts_on,
                        start_lesson_id=start_lesson_id,
                        # Pulled on demand or left: on the cohort's schedule now. Finished stays finished.
                        status=case((Enrollment.status == "completed", "completed"), else_="active"),
                    )
                )
                outcomes[learner_id] = "moved"
            joined = sorted(i for i, o in outcomes.items() if o in ("enrolled", "moved"))
            if joined:
                _audit(conn, actor=actor, action="cohort_add", subject=str(cohort_id), now=now,
                       detail=f"learners {joined}" + (f" from {start_lesson_id}" if start_lesson_id else ""))
        return outcomes

    def cohort_progress(self, cohort_id: int, pack_id: str, *, quizless: Collection[str] = ()) -> list[MemberProgress]:
        """Every member with their figures in the cohort's pack, counted in SQL: lessons sent, lessons
        done (answered, or sent when ``quizless``), lessons answered, answers and right answers."""
        answered = select(Answer.id).where(Answer.delivery_id == Delivery.id).exists()
        sent = Delivery.status == "sent"
        lessons = (
            select(
                Delivery.enrollment_id,
                func.sum(case((sent, 1), else_=0)).label("sent"),
                func.sum(case((and_(sent, or_(answered, Delivery.lesson_id.in_(list(quizless)))), 1), else_=0))
                .label("done"),
                func.sum(case((and_(sent, answered), 1), else_=0)).label("answered"),
            )
            .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
            .where(Enrollment.cohort_id == cohort_id)
            .group_by(Delivery.enrollment_id)
            .subquery()
        )
        answers = (
            select(
                Delivery.enrollment_id,
                func.count(Answer.id).label("n"),
                func.sum(case((Answer.correct.is_(True), 1), else_=0)).label("right"),
            )
            .join(Answer, Answer.delivery_id == Delivery.id)
            .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
            .where(Enrollment.cohort_id == cohort_id)
            .group_by(Delivery.enrollment_id)
            .subquery()
        )
        stmt = (
            select(
                CohortMember.learner_id,
                Learner.slack_user_id,
                Learner.name,
                Learner.timezone,
                Learner.slack_timezone,
                CohortMember.added_at,
                Enrollment.id.label("enrollment_id"),
                Enrollment.status,
                Enrollment.start_lesson_id,
                func.coalesce(lessons.c.sent, 0),
                func.coalesce(lessons.c.done, 0),
                func.coalesce(lessons.c.answered, 0),
                func.coalesce(answers.c.n, 0),
                func.coalesce(answers.c.right, 0),
            )
            .join(Learner, Learner.id == CohortMember.learner_id)
            .outerjoin(Enrollment, and_(Enrollment.learner_id == CohortMember.learner_id,
                                        Enrollment.pack_id == pack_id, Enrollment.cohort_id == cohort_id))
            .outerjoin(lessons, lessons.c.enrollment_id == Enrollment.id)
            .outerjoin(answers, answers.c.enrollment_id == Enrollment.id)
            .where(CohortMember.cohort_id == cohort_id)
            .order_by(Learner.name, Learner.slack_user_id)
        )
        with self._connect() as conn:
            rows = conn.execute(stmt).all()
            reached: dict[int, set[str]] = {}
            for enrollment_id, lesson_id in conn.execute(
                select(Delivery.enrollment_id, Delivery.lesson_id)
                .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
                .where(Enrollment.cohort_id == cohort_id, Delivery.status != "failed")
            ):
                reached.setdefault(enrollment_id, set()).add(lesson_id)
        return [
            MemberProgress(
                learner_id=r[0], slack_user_id=r[1], name=r[2], timezone=r[3], slack_timezone=r[4], added_at=r[5],
                enrollment_id=r[6], enrollment_status=r[7], start_lesson_id=r[8], sent=int(r[9]), done=int(r[10]),
                answered_lessons=int(r[11]), answers=int(r[12]), correct=int(r[13]),
                lesson_ids=frozenset(reached.get(r[6], ())),
            )
            for r in rows
        ]

    # -- tracks --------------------------------------------------------------------------

    def enroll_in_track(self, learner_id: int, pack_id: str, track_id: str, now: datetime) -> tuple[int, bool]:
        """Enroll in a track's pack, recording the track. Already enrolled: the enrollment joins the
        track if it followed none, and one pulled only on demand goes on the schedule.
        Returns (enrollment id, created)."""
        with self._begin() as conn:
            created = conn.execute(
                self._insert(Enrollment)
                .values(learner_id=learner_id, pack_id=pack_id, status="active", enrolled_at=now, track_id=track_id)
                .on_conflict_do_nothing(index_elements=["learner_id", "pack_id"])
                .returning(Enrollment.id)
            ).scalar()
            if created is not None:
                return created, True
            row = conn.execute(
                select(Enrollment.id, Enrollment.status, Enrollment.track_id)
                .where(Enrollment.learner_id == learner_id, Enrollment.pack_id == pack_id)
            ).one()
            values: dict = {}
            if row.track_id is None:
                values["track_id"] = track_id
            if row.status == "on_demand":
                values.update(status="active", enrolled_at=now)
            if values:
                conn.execute(update(Enrollment).where(Enrollment.id == row.id).values(**values))
            return row.id, False

    def track_enrollments(self) -> list[TrackEnrollment]:
        """Every enrollment of every active learner who follows a track (one pass for the track planner)."""
        followers = select(Enrollment.learner_id).where(Enrollment.track_id.is_not(None)).distinct()
        with self._connect() as conn:
            return [
                TrackEnrollment(*row)
                for row in conn.execute(
                    select(Enrollment.id, Enrollment.learner_id, Enrollment.pack_id, Enrollment.track_id,
                           Enrollment.status, Enrollment.start_lesson_id)
                    .join(Learner, Learner.id == Enrollment.learner_id)
                    .where(Enrollment.learner_id.in_(followers), Learner.active.is_(True))
                    .order_by(Enrollment.learner_id, Enrollment.id)
                )
            ]

    def lessons_and_answers(
        self, enrollment_ids: Iterable[int]
    ) -> dict[int, tuple[set[str], set[tuple[str, str]]]]:
        """Per enrollment: the lessons delivered, and the (lesson, question) pairs answered."""
        ids = sorted(set(enrollment_ids))
        out: dict[int, tuple[set[str], set[tuple[str, str]]]] = {i: (set(), set()) for i in ids}
        with self._connect() as conn:
            for start in range(0, len(ids), 5000):
                chunk = ids[start : start + 5000]
                for enrollment_id, lesson_id in conn.execute(
                    select(Delivery.enrollment_id, Delivery.lesson_id)
                    .where(Delivery.enrollment_id.in_(chunk), Delivery.status == "sent")
                ):
                    out[enrollment_id][0].add(lesson_id)
                for enrollment_id, lesson_id, question_id in conn.execute(
                    select(Delivery.enrollment_id, Delivery.lesson_id, Answer.question_id)
                    .join(Answer, Answer.delivery_id == Delivery.id)
                    .where(Delivery.enrollment_id.in_(chunk))
                ):
                    out[enrollment_id][1].add((lesson_id, question_id))
        return out

    def certified(self, pairs: Collection[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which (learner id, pack id) pairs have ever earned the pack's certificate (since expired too)."""
        wanted = set(pairs)
        if not wanted:
            return set()
        learners = sorted({learner for learner, _ in wanted})
        packs = sorted({pack for _, pack in wanted})
        found: set[tuple[int, str]] = set()
        with self._connect() as conn:
            for start in range(0, len(learners), 5000):
                for learner_id, pack_id in conn.execute(
                    select(Certificate.learner_id, Certificate.pack_id)
                    .where(Certificate.learner_id.in_(learners[start : start + 5000]), Certificate.pack_id.in_(packs))
                    .distinct()
                ):
                    if (learner_id, pack_id) in wanted:
                        found.add((learner_id, pack_id))
        return found


__all__ = ["CohortRecords", "CohortView", "JoinOutcome", "MemberProgress", "TrackEnrollment"]
