"""Content health's records: the signals per lesson (aggregated in SQL, each flag kind counting only what came
after an author last handled it), link checks, handled flags and retired lessons."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, case, delete, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from db.engine import reading
from db.models import (
    Answer,
    Delivery,
    Feedback,
    HandledFlag,
    LinkCheck,
    LinkOpen,
    OutboxMessage,
    Reflection,
    RetiredLesson,
    ReviewCard,
)
from learning.health import LessonSignals, LinkStatus


@dataclass(frozen=True)
class Retirement:
    new: bool  # False: the lesson was already retired (nothing changed)
    cancelled: int  # queued messages of it that will not go out
    cards: int  # open review cards of its questions that stop


@dataclass(frozen=True)
class FeedbackEvidence:
    rating: int | None
    reason: str | None
    comment: str | None
    at: datetime


class ContentHealthRecords:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _upsert(self, model):
        return (postgresql.insert(model) if self.engine.dialect.name == "postgresql" else sqlite.insert(model))

    @staticmethod
    def _handled(kind: str, pack_id, lesson_id, subject=None):
        """The handled flag of this kind for a lesson (or a question or link of it), joined on its keys."""
        return (HandledFlag, and_(HandledFlag.kind == kind, HandledFlag.pack_id == pack_id,
                                  HandledFlag.lesson_id == lesson_id,
                                  HandledFlag.subject == (literal("") if subject is None else subject)))

    # -- the signals ---------------------------------------------------------------------------------

    def lesson_signals(self, since: datetime, until: datetime, *, sent_before: datetime) -> list[LessonSignals]:
        """Per lesson, in ``[since, until]`` (a record made at ``until`` counts): ratings and their mean, "inaccurate" reasons, and lessons sent
        (before ``sent_before``, so learners had time) with how many anyone touched. Each counts only what
        came after its flag kind was last handled for that lesson."""
        d = Delivery
        rated = (
            select(d.pack_id, d.lesson_id, func.count(Feedback.rating), func.avg(Feedback.rating))
            .join(Feedback, Feedback.delivery_id == d.id)
            .outerjoin(*self._handled("low_rating", d.pack_id, d.lesson_id))
            .where(Feedback.rating.is_not(None), Feedback.rated_at >= since, Feedback.rated_at <= until,
                   or_(HandledFlag.handled_at.is_(None), Feedback.rated_at > HandledFlag.handled_at))
            .group_by(d.pack_id, d.lesson_id)
        )
        said_at = func.coalesce(Feedback.commented_at, Feedback.rated_at)
        inaccurate = (
            select(d.pack_id, d.lesson_id, func.count())
            .join(Feedback, Feedback.delivery_id == d.id)
            .outerjoin(*self._handled("inaccurate", d.pack_id, d.lesson_id))
            .where(Feedback.reason == "inaccurate", said_at >= since, said_at <= until,
                   or_(HandledFlag.handled_at.is_(None), said_at > HandledFlag.handled_at))
            .group_by(d.pack_id, d.lesson_id)
        )
        touched = or_(
            exists().where(Answer.delivery_id == d.id),
            exists().where(Feedback.delivery_id == d.id),
            exists().where(Reflection.delivery_id == d.id),
            exists().where(LinkOpen.delivery_id == d.id),
        )
        sent = (
            select(d.pack_id, d.lesson_id, func.count(), func.coalesce(func.sum(case((touched, 1), else_=0)), 0))
            .outerjoin(*self._handled("unopened", d.pack_id, d.lesson_id))
            .where(d.sent_at.is_not(None), d.sent_at >= since, d.sent_at < sent_before,
                   or_(HandledFlag.handled_at.is_(None), d.sent_at > HandledFlag.handled_at))
            .group_by(d.pack_id, d.lesson_id)
        )
        figures: dict[tuple[str, str], dict] = {}
        with reading(self.engine) as conn:
            for pack_id, lesson_id, n, mean in conn.execute(rated):
                figures.setdefault((pack_id, lesson_id), {}).update(ratings=int(n), average_rating=float(mean))
            for pack_id, lesson_id, n in conn.execute(inaccurate):
                figures.setdefault((pack_id, lesson_id), {}).update(inaccurate=int(n))
            for pack_id, lesson_id, n, opened in conn.execute(sent):
                figures.setdefault((pack_id, lesson_id), {}).update(sent=int(n), opened=int(opened))
        return [LessonSignals(p, lesson, **f) for (p, lesson), f in sorted(figures.items())]

    def handled_at(self, kind: str, pack_id: str, lesson_id: str, subject: str) -> datetime | None:
        """When an author last handled this flag, if ever."""
        with reading(self.engine) as conn:
            return conn.execute(select(HandledFlag.handled_at).where(
                HandledFlag.kind == kind, HandledFlag.pack_id == pack_id, HandledFlag.lesson_id == lesson_id,
                HandledFlag.subject == subject)).scalar()

    # -- evidence ------------------------------------------------------------------------------------

    def feedback(self, pack_id: str, lesson_id: str, since: datetime, *, limit: int = 20) -> list[FeedbackEvidence]:
        """A lesson's ratings, reasons and comments since ``since``, the newest first."""
        at = func.coalesce(Feedback.commented_at, Feedback.rated_at)
        stmt = (
            select(Feedback.rating, Feedback.reason, Feedback.comment, at)
            .join(Delivery, Delivery.id == Feedback.delivery_id)
            .where(Delivery.pack_id == pack_id, Delivery.lesson_id == lesson_id, at >= since)
            .order_by(at.desc(), Feedback.id.desc())
            .limit(limit)
        )
        with reading(self.engine) as conn:
            return [FeedbackEvidence(*row) for row in conn.execute(stmt)]

    def choices(self, pack_id: str, lesson_id: str, question_id: str, since: datetime) -> list[tuple[str, bool, int]]:
        """How a question was answered since ``since``: (choice, right, learners), the most chosen first."""
        n = func.count()
        stmt = (
            select(Answer.choice, Answer.correct, n)
            .join(Delivery, Delivery.id == Answer.delivery_id)
            .where(Delivery.pack_id == pack_id, Delivery.lesson_id == lesson_id, Answer.question_id == question_id,
                   Answer.answered_at >= since)
            .group_by(Answer.choice, Answer.correct)
            .order_by(n.desc(), Answer.choice)
        )
        with reading(self.engine) as conn:
            return [(choice, bool(correct), int(count)) for choice, correct, count in conn.execute(stmt)]

    # -- handling a flag -----------------------------------------------------------------------------

    def handle(self, kind: str, pack_id: str, lesson_id: str, subject: str, *, by: str, now: datetime) -> None:
        """Mark a flag handled now (again, if it was before and came back)."""
        stmt = self._upsert(HandledFlag).values(kind=kind, pack_id=pack_id, lesson_id=lesson_id, subject=subject,
                                                handled_by=by, handled_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=["kind", "pack_id", "lesson_id", "subject"],
                                          set_={"handled_by": by, "handled_at": now})
        with self.engine.begin() as conn:
            conn.execute(stmt)
            if kind == "broken_link":  # it comes back after LINK_FAILURES more failed checks, not at the next
                conn.execute(update(LinkCheck).where(LinkCheck.url == subject)
                             .values(failures=0, failing_since=None))

    # -- links ---------------------------------------------------------------------------------------

    def record_link_check(self, url: str, *, ok: bool, status: int | None, error: str | None,
                          now: datetime) -> None:
        """The newest check of ``url``: failures counted in a row, and since when it has been failing."""
        with self.engine.begin() as conn:
            before = conn.execute(select(LinkCheck.failures, LinkCheck.failing_since)
                                  .where(LinkCheck.url == url)).first()
            failures = 0 if ok else (before.failures if before else 0) + 1
            since = None if ok else (before.failing_since if before and before.failing_since else now)
            values = dict(ok=ok, status=status, error=(error or None) and error[:500], failures=failures,
                          failing_since=since, checked_at=now)
            stmt = self._upsert(LinkCheck).values(url=url, **values)
            conn.execute(stmt.on_conflict_do_update(index_elements=["url"], set_=values))

    def link_checks(self, url: str | None = None) -> dict[str, LinkStatus]:
        """The latest check of every link (or of ``url`` only), by URL."""
        stmt = select(LinkCheck.__table__)
        if url is not None:
            stmt = stmt.where(LinkCheck.url == url)
        with reading(self.engine) as conn:
            return {r.url: LinkStatus(r.url, bool(r.ok), r.status, r.error, int(r.failures), r.failing_since,
                                      r.checked_at)
                    for r in conn.execute(stmt)}

    def forget_links(self, keep: Iterable[str]) -> int:
        """Drop the checks of links no pack uses any more."""
        keep = set(keep)
        with self.engine.begin() as conn:
            gone = [u for u in conn.execute(select(LinkCheck.url)).scalars() if u not in keep]
            for start in range(0, len(gone), 500):
                conn.execute(delete(LinkCheck).where(LinkCheck.url.in_(gone[start:start + 500])))
        return len(gone)

    # -- retiring ------------------------------------------------------------------------------------

    def retire(self, pack_id: str, lesson_id: str, *, by: str, reason: str | None, now: datetime) -> Retirement:
        """Retire a lesson: its record, the cancelling of whatever of it is queued and not yet handed to
        Slack, and the end of its questions' open review cards, in one transaction. Its deliveries, answers,
        feedback and cards stay as they are otherwise."""
        with self.engine.begin() as conn:
            inserted = conn.execute(
                self._upsert(RetiredLesson)
                .values(pack_id=pack_id, lesson_id=lesson_id, retired_by=by, reason=reason, retired_at=now)
                .on_conflict_do_nothing(index_elements=["pack_id", "lesson_id"])
                .returning(RetiredLesson.pack_id)
            ).first()
            if inserted is None:
                return Retirement(False, 0, 0)
            of_lesson = select(Delivery.id).where(Delivery.pack_id == pack_id, Delivery.lesson_id == lesson_id)
            cancelled = conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.delivery_id.in_(of_lesson), OutboxMessage.status == "pending")
                .values(status="cancelled", last_error="lesson retired", claimed_by=None)
            ).rowcount
            cards = conn.execute(
                update(ReviewCard)
                .where(ReviewCard.pack_id == pack_id, ReviewCard.lesson_id == lesson_id,
                       ReviewCard.retired_at.is_(None))
                .values(retired_at=now)
            ).rowcount
        return Retirement(True, int(cancelled or 0), int(cards or 0))

    def retired(self) -> frozenset[tuple[str, str]]:
        with reading(self.engine) as conn:
            return frozenset((p, lesson) for p, lesson in conn.execute(
                select(RetiredLesson.pack_id, RetiredLesson.lesson_id)))
