"""Storage for the learner's side beyond lessons: review cards and sessions, certificates,
progress and streak figures, lesson search, channel triggers. A part of ``Store``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import bindparam, case, delete, func, insert, or_, select, text, update

from db.models import (
    Answer,
    Certificate,
    Delivery,
    Enrollment,
    Feedback,
    FsrsFit,
    Learner,
    LessonIndex,
    Review,
    ReviewCard,
    ReviewSession,
    TriggerFire,
)
from db.stemming import stemmed, stems, ts_config
from learning.fitting import CardHistory, Fit
from learning.review import CardState, ParameterSets, rating_for


@dataclass(frozen=True)
class CardView:
    id: int
    learner_id: int
    pack_id: str
    lesson_id: str
    question_id: str
    state: CardState


@dataclass(frozen=True)
class ReviewAnswer:
    card_id: int
    question_id: str
    prompt: str
    response: str
    correct: bool
    interval_days: float


@dataclass(frozen=True)
class SessionView:
    id: int
    learner_id: int
    slack_user_id: str
    kind: str
    pack_id: str | None
    local_date: date
    card_ids: tuple[int, ...]
    channel_id: str | None
    message_ts: str | None
    cards: dict[int, CardView]
    answers: dict[int, ReviewAnswer]
    sent_at: datetime | None = None


@dataclass(frozen=True)
class ReviewLearner:
    """What the review planner needs to know of a learner: where, when, and whether they are paused."""

    learner_id: int
    slack_user_id: str
    dm_channel_id: str | None
    timezone: str | None
    slack_timezone: str | None
    delivery_time: str | None
    delivery_days: str | None
    paused_until: datetime | None
    resumed_at: datetime | None
    due_cards: int = 0


_REVIEW_LEARNER_COLUMNS = (
    Learner.id, Learner.slack_user_id, Learner.dm_channel_id, Learner.timezone, Learner.slack_timezone,
    Learner.delivery_time, Learner.delivery_days, Learner.paused_until, Learner.resumed_at,
)


@dataclass(frozen=True)
class CertificateView:
    id: int
    learner_id: int
    slack_user_id: str
    pack_id: str
    name: str
    score: float
    issued_at: datetime
    expires_at: datetime | None
    status: str


@dataclass(frozen=True)
class SearchHit:
    pack_id: str
    lesson_id: str
    title: str
    rank: float
    every_word: bool = True  # False: no lesson has all the words, and this one has some of them
    language: str = "en"  # the language of the text that matched


def lesson_key(delivery_id: int) -> str:
    """The outbox dedupe key of a delivered lesson's message: one message per delivery, however queued."""
    return f"lesson:{delivery_id}"


def _card_view(row) -> CardView:
    return CardView(
        id=row.id,
        learner_id=row.learner_id,
        pack_id=row.pack_id,
        lesson_id=row.lesson_id,
        question_id=row.question_id,
        state=CardState(
            fsrs=row.fsrs,
            due=row.due,
            last_review=row.last_review,
            reviews=row.reviews,
            lapses=row.lapses,
            long_right=row.long_right,
            retired=row.retired_at is not None,
        ),
    )


class LearningRecords:
    """Mixed into ``db.store.Store``: needs ``self.engine`` and ``self._insert``."""

    # -- review cards --------------------------------------------------------------------

    def create_card(
        self, *, learner_id: int, pack_id: str, lesson_id: str, question_id: str, state: CardState, now: datetime
    ) -> bool:
        """A card from a first answer; a question already carded for this learner keeps its card."""
        with self._begin() as conn:
            return (
                conn.execute(
                    self._insert(ReviewCard)
                    .values(
                        learner_id=learner_id, pack_id=pack_id, lesson_id=lesson_id, question_id=question_id,
                        fsrs=state.fsrs, due=state.due, last_review=state.last_review, reviews=state.reviews,
                        lapses=state.lapses, long_right=state.long_right,
                        retired_at=now if state.retired else None, created_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["learner_id", "pack_id", "lesson_id", "question_id"])
                    .returning(ReviewCard.id)
                ).scalar()
                is not None
            )

    def cards(self, card_ids: Iterable[int]) -> dict[int, CardView]:
        ids = list(card_ids)
        if not ids:
            return {}
        with self._connect() as conn:
            return {r.id: _card_view(r) for r in conn.execute(select(ReviewCard.__table__).where(ReviewCard.id.in_(ids)))}

    def learner_cards(self, learner_id: int, pack_id: str | None = None) -> list[CardView]:
        query = select(ReviewCard.__table__).where(ReviewCard.learner_id == learner_id)
        if pack_id is not None:
            query = query.where(ReviewCard.pack_id == pack_id)
        with self._connect() as conn:
            return [_card_view(r) for r in conn.execute(query.order_by(ReviewCard.id))]

    def learners_with_due_cards(self, due_by: datetime, *, now: datetime) -> list[ReviewLearner]:
        """One pass over the live cards due by ``due_by`` (index ix_review_cards_due_live), per learner:
        active learners who are not paused at ``now``."""
        due = (
            select(ReviewCard.learner_id, func.count().label("n"))
            .where(ReviewCard.retired_at.is_(None), ReviewCard.due <= due_by)
            .group_by(ReviewCard.learner_id)
            .subquery()
        )
        with self._connect() as conn:
            rows = conn.execute(
                select(*_REVIEW_LEARNER_COLUMNS, due.c.n)
                .join(due, due.c.learner_id == Learner.id)
                .where(Learner.active.is_(True), or_(Learner.paused_until.is_(None), Learner.paused_until <= now))
            ).all()
        return [ReviewLearner(*row) for row in rows]

    def review_learners(self, learner_ids: Sequence[int]) -> dict[int, ReviewLearner]:
        if not learner_ids:
            return {}
        with self._connect() as conn:
            rows = conn.execute(select(*_REVIEW_LEARNER_COLUMNS).where(Learner.id.in_(list(learner_ids)))).all()
        return {row.id: ReviewLearner(*row) for row in rows}

    def due_cards_for(self, learner_ids: Sequence[int], due_by: datetime, *, per_learner: int) -> dict[int, list[CardView]]:
        """The most overdue live cards of each learner, at most ``per_learner`` each, in one query."""
        out: dict[int, list[CardView]] = {}
        ids = list(learner_ids)
        with self._connect() as conn:
            for start in range(0, len(ids), 5000):
                chunk = ids[start : start + 5000]
                ranked = (
                    select(
                        ReviewCard.__table__,
                        func.row_number().over(partition_by=ReviewCard.learner_id,
                                               order_by=(ReviewCard.due, ReviewCard.id)).label("n"),
                    )
                    .where(ReviewCard.retired_at.is_(None), ReviewCard.due <= due_by,
                           ReviewCard.learner_id.in_(chunk))
                    .subquery()
                )
                for row in conn.execute(select(ranked).where(ranked.c.n <= per_learner)
                                        .order_by(ranked.c.learner_id, ranked.c.n)):
                    out.setdefault(row.learner_id, []).append(_card_view(row))
        return out

    def queue_review_sessions(self, sessions: Sequence[dict], now: datetime) -> int:
        """Several review DMs and their outbox messages in one transaction; a learner's second one today is skipped."""
        from db.models import OutboxMessage

        if not sessions:
            return 0
        queued = 0
        with self._begin() as conn:
            for start in range(0, len(sessions), 1000):
                chunk = sessions[start : start + 1000]
                rows = conn.execute(
                    self._insert(ReviewSession)
                    .on_conflict_do_nothing(index_elements=["learner_id", "local_date", "kind"])
                    .returning(ReviewSession.id, ReviewSession.learner_id),
                    [{"learner_id": s["learner_id"], "kind": s["kind"], "pack_id": s.get("pack_id"),
                      "local_date": s["local_date"], "card_ids": json.dumps(list(s["card_ids"])),
                      "due_at": s["due_at"], "created_at": now} for s in chunk],
                ).all()
                channels = {s["learner_id"]: s["channel"] for s in chunk}
                kinds = {s["learner_id"]: s["kind"] for s in chunk}
                if rows:
                    conn.execute(
                        self._insert(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"]),
                        [{"kind": kinds[r.learner_id], "dedupe_key": f"{kinds[r.learner_id]}:{r.id}",
                          "learner_id": r.learner_id, "channel": channels[r.learner_id], "status": "pending",
                          "attempts": 0, "not_before": now, "created_at": now,
                          "payload": json.dumps({"session": r.id})} for r in rows],
                    )
                queued += len(rows)
        return queued

    def last_review_dates(self, learner_ids: Sequence[int]) -> dict[int, date]:
        if not learner_ids:
            return {}
        with self._connect() as conn:
            return dict(
                conn.execute(
                    select(ReviewSession.learner_id, func.max(ReviewSession.local_date))
                    .where(ReviewSession.learner_id.in_(list(learner_ids)))
                    .group_by(ReviewSession.learner_id)
                ).all()
            )

    def first_active_packs(self, learner_ids: Sequence[int]) -> dict[int, str]:
        """A pack each learner follows (their earliest enrollment), whose time their reviews borrow."""
        if not learner_ids:
            return {}
        out: dict[int, str] = {}
        with self._connect() as conn:
            for start in range(0, len(learner_ids), 5000):
                chunk = list(learner_ids[start : start + 5000])
                for learner_id, pack_id in conn.execute(
                    select(Enrollment.learner_id, Enrollment.pack_id)
                    .where(Enrollment.learner_id.in_(chunk), Enrollment.status == "active")
                    .order_by(Enrollment.learner_id, Enrollment.enrolled_at, Enrollment.id)
                ):
                    out.setdefault(learner_id, pack_id)
        return out

    # -- review sessions -----------------------------------------------------------------

    def queue_review_session(
        self, *, learner_id: int, kind: str, pack_id: str | None, local_date: date, card_ids: Sequence[int],
        due_at: datetime, channel: str, now: datetime,
    ) -> int | None:
        """A review DM for the day, and its outbox message; None if the learner already has one today."""
        from db.models import OutboxMessage

        with self._begin() as conn:
            session_id = conn.execute(
                self._insert(ReviewSession)
                .values(learner_id=learner_id, kind=kind, pack_id=pack_id, local_date=local_date,
                        card_ids=json.dumps(list(card_ids)), due_at=due_at, created_at=now)
                .on_conflict_do_nothing(index_elements=["learner_id", "local_date", "kind"])
                .returning(ReviewSession.id)
            ).scalar()
            if session_id is None:
                return None
            conn.execute(
                self._insert(OutboxMessage)
                .values(kind=kind, dedupe_key=f"{kind}:{session_id}", learner_id=learner_id, channel=channel,
                        status="pending", attempts=0, not_before=now, created_at=now,
                        payload=json.dumps({"session": session_id}))
                .on_conflict_do_nothing(index_elements=["dedupe_key"])
            )
            return session_id

    def mark_session_sent(self, session_id: int, *, channel: str, ts: str, now: datetime) -> None:
        with self._begin() as conn:
            conn.execute(
                update(ReviewSession).where(ReviewSession.id == session_id)
                .values(sent_at=now, channel_id=channel, message_ts=ts)
            )

    def review_session(self, session_id: int) -> SessionView | None:
        with self._connect() as conn:
            row = conn.execute(
                select(ReviewSession.__table__, Learner.slack_user_id)
                .join(Learner, Learner.id == ReviewSession.learner_id)
                .where(ReviewSession.id == session_id)
            ).first()
            if row is None:
                return None
            card_ids = tuple(json.loads(row.card_ids))
            answers = {
                r.card_id: ReviewAnswer(r.card_id, r.question_id, r.prompt, r.response, r.correct, r.interval_days)
                for r in conn.execute(select(Review.__table__).where(Review.session_id == session_id))
            }
        return SessionView(
            id=row.id, learner_id=row.learner_id, slack_user_id=row.slack_user_id, kind=row.kind,
            pack_id=row.pack_id, local_date=row.local_date, card_ids=card_ids, channel_id=row.channel_id,
            message_ts=row.message_ts, cards=self.cards(card_ids), answers=answers, sent_at=row.sent_at,
        )

    def record_review(
        self, *, session_id: int, card: CardView, learner_id: int, prompt: str, response: str, correct: bool,
        rating: int, new_state: CardState, now: datetime, language: str | None = None,
    ) -> bool:
        """The answer and the card's next step, together; False if this card was already answered here.
        ``prompt`` and ``response`` are the pack's own text; ``language`` the one the question was asked in."""
        interval = (new_state.due - now).total_seconds() / 86400
        with self._begin() as conn:
            inserted = conn.execute(
                self._insert(Review)
                .values(session_id=session_id, card_id=card.id, learner_id=learner_id, question_id=card.question_id,
                        prompt=prompt, response=response, correct=correct, rating=rating, interval_days=interval,
                        answered_at=now, language=language)
                .on_conflict_do_nothing(index_elements=["session_id", "card_id"])
                .returning(Review.id)
            ).scalar()
            if inserted is None:
                return False
            conn.execute(
                update(ReviewCard).where(ReviewCard.id == card.id).values(
                    fsrs=new_state.fsrs, due=new_state.due, last_review=new_state.last_review,
                    reviews=new_state.reviews, lapses=new_state.lapses, long_right=new_state.long_right,
                    retired_at=now if new_state.retired else None,
                )
            )
            return True

    def review_summary(self) -> dict[str, tuple[int, int]]:
        """Per learner (Slack id): review questions answered, and answered right."""
        with self._connect() as conn:
            rows = conn.execute(
                select(Learner.slack_user_id, func.count(Review.id),
                       func.sum(case((Review.correct.is_(True), 1), else_=0)))
                .join(Review, Review.learner_id == Learner.id)
                .group_by(Learner.slack_user_id)
            ).all()
        return {user: (int(n), int(right or 0)) for user, n, right in rows}

    def reviews_due_count(self, learner_id: int, due_by: datetime) -> int:
        with self._connect() as conn:
            return conn.execute(
                select(func.count()).select_from(ReviewCard)
                .where(ReviewCard.learner_id == learner_id, ReviewCard.retired_at.is_(None), ReviewCard.due <= due_by)
            ).scalar_one()

    # -- progress and streaks ------------------------------------------------------------

    def lesson_days(self, learner_id: int) -> list[tuple[date, bool]]:
        """Each scheduled lesson's local date, and whether it was answered (or rated, if it had no questions)."""
        answered = or_(
            select(Answer.id).where(Answer.delivery_id == Delivery.id).exists(),
            select(Feedback.id).where(Feedback.delivery_id == Delivery.id, Feedback.rating.is_not(None)).exists(),
        )
        with self._connect() as conn:
            rows = conn.execute(
                select(Delivery.local_date, func.max(case((answered, 1), else_=0)))
                .where(Delivery.learner_id == learner_id, Delivery.kind == "scheduled", Delivery.status == "sent")
                .group_by(Delivery.local_date)
                .order_by(Delivery.local_date)
            ).all()
        return [(d, bool(a)) for d, a in rows]

    def pack_answers(self, learner_id: int) -> dict[str, tuple[set[str], int, int]]:
        """Per pack: lessons with at least one answer, answers given, answers right."""
        with self._connect() as conn:
            rows = conn.execute(
                select(Delivery.pack_id, Delivery.lesson_id, func.count(Answer.id),
                       func.sum(case((Answer.correct.is_(True), 1), else_=0)))
                .join(Answer, Answer.delivery_id == Delivery.id)
                .where(Delivery.learner_id == learner_id)
                .group_by(Delivery.pack_id, Delivery.lesson_id)
            ).all()
        out: dict[str, tuple[set[str], int, int]] = {}
        for pack_id, lesson_id, n, right in rows:
            lessons, answered, correct = out.get(pack_id, (set(), 0, 0))
            lessons.add(lesson_id)
            out[pack_id] = (lessons, answered + int(n), correct + int(right or 0))
        return out

    def answered_questions(self, learner_id: int, pack_id: str) -> dict[tuple[str, str], bool]:
        """(lesson id, question id) → answered right, for the first answer to each question of a pack."""
        with self._connect() as conn:
            rows = conn.execute(
                select(Delivery.lesson_id, Answer.question_id, Answer.correct)
                .join(Answer, Answer.delivery_id == Delivery.id)
                .where(Delivery.learner_id == learner_id, Delivery.pack_id == pack_id)
                .order_by(Answer.answered_at)
            ).all()
        out: dict[tuple[str, str], bool] = {}
        for lesson_id, question_id, correct in rows:
            out.setdefault((lesson_id, question_id), bool(correct))
        return out

    def recent_results(self, learner_id: int, limit: int = 5) -> list[tuple[str, str, bool, datetime]]:
        with self._connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    select(Delivery.pack_id, Answer.prompt, Answer.correct, Answer.answered_at)
                    .join(Delivery, Delivery.id == Answer.delivery_id)
                    .where(Answer.learner_id == learner_id)
                    .order_by(Answer.answered_at.desc(), Answer.id.desc())
                    .limit(limit)
                )
            ]

    # -- the Home tab ----------------------------------------------------------------------

    def mark_home_published(self, slack_user_id: str, now: datetime) -> None:
        with self._begin() as conn:
            conn.execute(update(Learner).where(Learner.slack_user_id == slack_user_id)
                         .values(home_published_at=now))

    def has_home(self, slack_user_id: str) -> bool:
        """Whether Sprout ever published this person's Home tab (they opened it): one indexed lookup."""
        with self._connect() as conn:
            return conn.execute(
                select(Learner.id).where(Learner.slack_user_id == slack_user_id, Learner.home_published_at.is_not(None))
            ).first() is not None

    # -- what managers, facilitators and admins see on their Home tab ------------------------

    def team_overview(self, manager_slack_user_id: str | None, since: datetime) -> tuple[int, int]:
        """(people, people who answered since ``since``): a manager's direct reports, or everyone for None."""
        people = select(Learner.id).where(Learner.active.is_(True))
        if manager_slack_user_id is not None:
            people = people.where(Learner.manager_slack_user_id == manager_slack_user_id)
        ids = people.subquery()
        with self._connect() as conn:
            total = conn.execute(select(func.count()).select_from(ids)).scalar_one()
            active = conn.execute(
                select(func.count(func.distinct(Answer.learner_id)))
                .where(Answer.learner_id.in_(select(ids.c.id)), Answer.answered_at >= since)
            ).scalar_one()
        return int(total), int(active)

    def pack_following(self) -> dict[str, tuple[int, int]]:
        """Per pack: (people following it, people who finished it)."""
        with self._connect() as conn:
            rows = conn.execute(
                select(Enrollment.pack_id,
                       func.sum(case((Enrollment.status == "active", 1), else_=0)),
                       func.sum(case((Enrollment.status == "completed", 1), else_=0)))
                .group_by(Enrollment.pack_id)
            ).all()
        return {pack: (int(a or 0), int(c or 0)) for pack, a, c in rows}

    # -- certificates --------------------------------------------------------------------

    def active_certificate(self, learner_id: int, pack_id: str) -> CertificateView | None:
        certs = [c for c in self.certificates(learner_id) if c.pack_id == pack_id and c.status == "active"]
        return certs[-1] if certs else None

    def certificates(self, learner_id: int | None = None) -> list[CertificateView]:
        query = select(Certificate.__table__, Learner.slack_user_id).join(Learner, Learner.id == Certificate.learner_id)
        if learner_id is not None:
            query = query.where(Certificate.learner_id == learner_id)
        with self._connect() as conn:
            return [
                CertificateView(r.id, r.learner_id, r.slack_user_id, r.pack_id, r.name, r.score, r.issued_at,
                                r.expires_at, r.status)
                for r in conn.execute(query.order_by(Certificate.issued_at, Certificate.id))
            ]

    def issue_certificate(
        self, *, learner_id: int, pack_id: str, name: str, score: float, now: datetime, expires_at: datetime | None,
        channel: str, renew: bool = False,
    ) -> int | None:
        """Issue a certificate and queue its congratulation, in one transaction. Returns its id, or None.

        At most one certificate of a pack is active for a learner, and the database holds that
        (index uq_certificates_active): when two final answers arrive at once, the second insert
        finds the first one's row and issues nothing. ``renew`` supersedes the active certificate its
        holder was invited to renew; if another renewal got there first, that one is no longer active
        (and the new one was not invited), so nothing is issued twice.
        """
        from db.models import OutboxMessage

        with self._begin() as conn:
            if renew:
                superseded = conn.execute(
                    update(Certificate)
                    .where(Certificate.learner_id == learner_id, Certificate.pack_id == pack_id,
                           Certificate.status == "active", Certificate.recert_invited_at.is_not(None))
                    .values(status="renewed")
                    .returning(Certificate.id)
                ).all()
                if not superseded:
                    return None
            cert_id = conn.execute(
                self._insert(Certificate)
                .values(learner_id=learner_id, pack_id=pack_id, name=name, score=score, issued_at=now,
                        expires_at=expires_at, status="active")
                .on_conflict_do_nothing()
                .returning(Certificate.id)
            ).scalar()
            if cert_id is not None:
                conn.execute(
                    self._insert(OutboxMessage)
                    .values(kind="certificate", dedupe_key=f"certificate:{cert_id}", learner_id=learner_id,
                            channel=channel, status="pending", attempts=0, not_before=now, created_at=now,
                            payload=json.dumps({"certificate": cert_id}))
                    .on_conflict_do_nothing(index_elements=["dedupe_key"])
                )
            return cert_id

    def certificates_to_renew(self, *, expiring_by: datetime) -> list[CertificateView]:
        """Active certificates expiring by ``expiring_by`` whose holder has not been invited to renew yet."""
        with self._connect() as conn:
            rows = conn.execute(
                select(Certificate.__table__, Learner.slack_user_id)
                .join(Learner, Learner.id == Certificate.learner_id)
                .where(Certificate.status == "active", Certificate.expires_at.is_not(None),
                       Certificate.expires_at <= expiring_by, Certificate.recert_invited_at.is_(None),
                       Learner.active.is_(True))
            ).all()
        return [CertificateView(r.id, r.learner_id, r.slack_user_id, r.pack_id, r.name, r.score, r.issued_at,
                                r.expires_at, r.status) for r in rows]

    def mark_recert_invited(self, certificate_id: int, now: datetime) -> None:
        with self._begin() as conn:
            conn.execute(update(Certificate).where(Certificate.id == certificate_id).values(recert_invited_at=now))

    def expire_certificates(self, now: datetime) -> int:
        with self._begin() as conn:
            return conn.execute(
                update(Certificate)
                .where(Certificate.status == "active", Certificate.expires_at.is_not(None), Certificate.expires_at <= now)
                .values(status="expired")
            ).rowcount

    # -- search --------------------------------------------------------------------------

    def sync_lesson_index(self, lessons: Sequence[tuple]) -> None:
        """Make the search index hold exactly these lessons: (pack, lesson, version, title, body, questions,
        language: "en" when left out), one row for each language a lesson is shown in, with its words stemmed
        in that language."""
        wanted = {(p, lesson, (rest or ("en",))[0]): (v, t, b, q) for p, lesson, v, t, b, q, *rest in lessons}
        with self._begin() as conn:
            have = {
                (r.pack_id, r.lesson_id, r.language): (r.id, r.pack_version, r.title, r.body, r.questions,
                                                       r.title_stems != "" or not r.title)
                for r in conn.execute(select(LessonIndex.__table__))
            }
            gone = [row[0] for key, row in have.items() if key not in wanted]
            if gone:
                conn.execute(delete(LessonIndex).where(LessonIndex.id.in_(gone)))
            for key, (version, title, body, questions) in wanted.items():
                current = have.get(key)
                language = key[2]
                values = dict(pack_version=version, title=title, body=body, questions=questions,
                              title_stems=stemmed(title, language), body_stems=stemmed(body, language),
                              questions_stems=stemmed(questions, language))
                if current is None:
                    # Another instance starting at the same moment may insert the same row: skip it then.
                    conn.execute(self._insert(LessonIndex).values(pack_id=key[0], lesson_id=key[1], language=language,
                                                                  **values)
                                 .on_conflict_do_nothing(index_elements=["pack_id", "lesson_id", "language"]))
                elif current[1:] != (version, title, body, questions, True):
                    conn.execute(update(LessonIndex).where(LessonIndex.id == current[0]).values(**values))

    def search_lessons(self, words: str, *, limit: int = 5, language: str | None = None) -> list[SearchHit]:
        """Lessons matching the words (all of them, else any), best first: more of the words in the title,
        then in the body, then in the questions; the full-text score orders lessons within a tier.

        Each language's rows are searched with the words stemmed in that language, so "Passwörter" finds a
        German lesson on "Passwort" and "passwords" an English one on "password". A lesson found in several
        languages is one hit: the one in ``language`` (the reader's) if it is among them, else the best."""
        terms = re.findall(r"\w+", words.lower())[:12]
        if not terms:
            return []
        with self._connect() as conn:
            languages = sorted(conn.execute(select(LessonIndex.language).distinct()).scalars())
            hits = self._search(conn, terms, languages, "AND")
            some = [] if hits else self._search(conn, terms, languages, "OR")
        found = hits or [(key, replace(hit, every_word=False)) for key, hit in some]
        found.sort(key=lambda pair: (pair[0], pair[1].language != language))
        best: dict[tuple[str, str], SearchHit] = {}
        order: list[tuple[str, str]] = []
        for _, hit in found:
            key = (hit.pack_id, hit.lesson_id)
            if key not in best:
                order.append(key)
                best[key] = hit
            elif hit.language == language and best[key].language != language:
                best[key] = hit
        return [best[key] for key in order][:limit]

    def _search(self, conn, terms: list[str], languages: list[str], joiner: str) -> list[tuple[tuple, SearchHit]]:
        found = []
        for language in languages:
            if self.engine.dialect.name == "sqlite":
                stemmed_terms = [t for t in stems(terms, language) if t]
                found += self._search_sqlite(conn, stemmed_terms, language, 30, joiner)
            else:
                found += self._search_postgres(conn, terms, language, 30, "&" if joiner == "AND" else "|")
        return found

    # Ranking is by tiers, not by one blended score: a lesson whose title has more of the words comes
    # first, then one whose body has more, then its questions; the full-text score (bm25 / ts_rank)
    # only orders lessons within a tier. A blended score lets a long body full of a word outrank a
    # title that names it (FTS5's bm25 normalises by the length of the whole row).
    COLUMNS = ("title", "body", "questions")

    @classmethod
    def _search_sqlite(cls, conn, terms: list[str], language: str, limit: int,
                       joiner: str) -> list[tuple[tuple, SearchHit]]:
        match = f" {joiner} ".join(f'"{t}"*' for t in terms)
        params: dict = {"match": match, "limit": limit, "language": language}
        tiers = []
        for column in cls.COLUMNS:
            found = []
            for i, term in enumerate(terms):
                params[f"{column}{i}"] = f'{column}_stems : "{term}"*'
                found.append(f"(li.id IN (SELECT rowid FROM lesson_fts WHERE lesson_fts MATCH :{column}{i}))")
            tiers.append(" + ".join(found))
        rows = conn.execute(
            text(
                "SELECT li.pack_id, li.lesson_id, li.title, bm25(lesson_fts, 10.0, 3.0, 1.0) AS rank, "
                + ", ".join(f"{tier} AS in_{column}" for tier, column in zip(tiers, cls.COLUMNS, strict=True))
                + " FROM lesson_fts JOIN lesson_index li ON li.id = lesson_fts.rowid WHERE lesson_fts MATCH :match "
                "AND li.language = :language "
                "ORDER BY in_title DESC, in_body DESC, in_questions DESC, rank, li.pack_id, li.lesson_id LIMIT :limit"
            ),
            params,
        ).all()
        return [((-r.in_title, -r.in_body, -r.in_questions, float(r.rank), r.pack_id, r.lesson_id),
                 SearchHit(r.pack_id, r.lesson_id, r.title, -float(r.rank), language=language)) for r in rows]

    @classmethod
    def _search_postgres(cls, conn, terms: list[str], language: str, limit: int,
                         joiner: str) -> list[tuple[tuple, SearchHit]]:
        # The tsvector weighs title A, body B, questions C; ``word:*A`` matches the word only in the title.
        # The words are stemmed with the configuration the rows of ``language`` were indexed with.
        config = ts_config(language)
        params: dict = {"q": f" {joiner} ".join(f"{t}:*" for t in terms), "limit": limit, "language": language,
                        "config": config}
        tiers = []
        for column, weight in zip(cls.COLUMNS, "ABC", strict=True):
            found = []
            for i, term in enumerate(terms):
                params[f"{column}{i}"] = f"{term}:*{weight}"
                found.append(f"(search @@ to_tsquery(CAST(:config AS regconfig), :{column}{i}))::int")
            tiers.append(" + ".join(found))
        rows = conn.execute(
            text(
                "SELECT pack_id, lesson_id, title, ts_rank('{0.05, 0.1, 0.3, 1.0}', search, query) AS rank, "
                + ", ".join(f"{tier} AS in_{column}" for tier, column in zip(tiers, cls.COLUMNS, strict=True))
                + " FROM lesson_index, to_tsquery(CAST(:config AS regconfig), :q) AS query WHERE search @@ query "
                "AND language = :language "
                "ORDER BY in_title DESC, in_body DESC, in_questions DESC, rank DESC, pack_id, lesson_id LIMIT :limit"
            ),
            params,
        ).all()
        return [((-r.in_title, -r.in_body, -r.in_questions, -float(r.rank), r.pack_id, r.lesson_id),
                 SearchHit(r.pack_id, r.lesson_id, r.title, float(r.rank), language=language)) for r in rows]

    # -- channel triggers ----------------------------------------------------------------

    def trigger_first_lesson(
        self, *, learner_id: int, pack_id: str, channel_id: str, lesson_id: str, pack_version: int, channel: str,
        local_date: date, now: datetime, language: str | None = None,
    ) -> int | None:
        """A channel join's lesson, in one transaction: the trigger fires once per learner and pack, the
        learner follows the pack, and the lesson is queued — all of it or, if anything fails, none of it,
        so a failure never leaves a fired trigger without its lesson. Returns the outbox message's id,
        or None if the trigger had fired before or the learner already had the lesson."""
        from db.models import OutboxMessage

        with self._begin() as conn:
            fired = conn.execute(
                self._insert(TriggerFire)
                .values(learner_id=learner_id, pack_id=pack_id, channel_id=channel_id, fired_at=now)
                .on_conflict_do_nothing(index_elements=["learner_id", "pack_id"])
                .returning(TriggerFire.id)
            ).scalar()
            if fired is None:
                return None
            conn.execute(
                update(Enrollment)
                .where(Enrollment.learner_id == learner_id, Enrollment.pack_id == pack_id,
                       Enrollment.status == "on_demand")
                .values(status="active", enrolled_at=now)
            )
            conn.execute(
                self._insert(Enrollment)
                .values(learner_id=learner_id, pack_id=pack_id, status="active", enrolled_at=now)
                .on_conflict_do_nothing(index_elements=["learner_id", "pack_id"])
            )
            enrollment_id = conn.execute(
                select(Enrollment.id).where(Enrollment.learner_id == learner_id, Enrollment.pack_id == pack_id)
            ).scalar_one()
            delivery_id = conn.execute(
                self._insert(Delivery)
                .values(enrollment_id=enrollment_id, learner_id=learner_id, pack_id=pack_id, lesson_id=lesson_id,
                        pack_version=pack_version, kind="triggered", local_date=local_date, due_at=now,
                        status="queued", language=language)
                .on_conflict_do_nothing()
                .returning(Delivery.id)
            ).scalar()
            if delivery_id is None:
                return None  # they had this lesson already
            return conn.execute(
                self._insert(OutboxMessage)
                .values(kind="lesson", dedupe_key=lesson_key(delivery_id), learner_id=learner_id,
                        delivery_id=delivery_id, channel=channel, status="pending", attempts=0, not_before=now,
                        created_at=now)
                .on_conflict_do_nothing()
                .returning(OutboxMessage.id)
            ).scalar()


__all__ = ["CardView", "CertificateView", "LearningRecords", "ReviewLearner", "SearchHit", "SessionView"]


def adopted_parameter_sets(conn) -> ParameterSets:
    """The newest adopted fit of the workspace and of each pack with its own, in one query."""
    newest = (select(FsrsFit.pack_id, FsrsFit.parameters,
                     func.row_number().over(partition_by=FsrsFit.pack_id,
                                            order_by=(FsrsFit.fitted_at.desc(), FsrsFit.id.desc())).label("n"))
              .where(FsrsFit.adopted.is_(True)).subquery())
    workspace, packs = None, {}
    for row in conn.execute(select(newest.c.pack_id, newest.c.parameters).where(newest.c.n == 1)):
        values = tuple(float(p) for p in json.loads(row.parameters))
        if row.pack_id is None:
            workspace = values
        else:
            packs[row.pack_id] = values
    return ParameterSets(workspace, packs)


class FittingRecords:
    """What ``review optimize`` reads and keeps: every card's answers, and the fitted FSRS parameters.
    A part of ``Store`` (through ``LearningRecords``)."""

    def review_histories(self) -> list[CardHistory]:
        """Every card's answers, oldest first: the lesson's first answer (rated as it was when the card was
        made: wrong Again, right Good, or Hard when it came a day or more after the lesson) and each review's
        rating. A card whose first answer is gone is left out, since its history would start in the middle."""
        with self._connect() as conn:
            first: dict[tuple, tuple[datetime, int]] = {}
            rows = conn.execute(
                select(Answer.learner_id, Delivery.pack_id, Delivery.lesson_id, Answer.question_id, Answer.correct,
                       Answer.answered_at, Delivery.sent_at)
                .join(Delivery, Delivery.id == Answer.delivery_id)
                .order_by(Answer.answered_at, Answer.id)
            )
            for r in rows:
                key = (r.learner_id, r.pack_id, r.lesson_id, r.question_id)
                if key not in first:
                    waited = r.answered_at - r.sent_at if r.sent_at else None
                    first[key] = (r.answered_at, rating_for(r.correct, answered_after=waited))
            reviews: dict[int, list[tuple[datetime, int]]] = {}
            for r in conn.execute(select(Review.card_id, Review.answered_at, Review.rating)
                                  .order_by(Review.card_id, Review.answered_at, Review.id)):
                reviews.setdefault(r.card_id, []).append((r.answered_at, int(r.rating)))
            out = []
            for c in conn.execute(select(ReviewCard.id, ReviewCard.learner_id, ReviewCard.pack_id, ReviewCard.lesson_id,
                                         ReviewCard.question_id, ReviewCard.retired_at).order_by(ReviewCard.id)):
                start = first.get((c.learner_id, c.pack_id, c.lesson_id, c.question_id))
                if start is None:
                    continue
                out.append(CardHistory(c.id, c.learner_id, (start, *reviews.get(c.id, ())),
                                       retired=c.retired_at is not None, pack_id=c.pack_id))
            return out

    def fsrs_parameters(self, pack_id: str | None = None) -> tuple[float, ...] | None:
        """The parameters ``pack_id`` (or, with None, the workspace) is scheduled with: the newest adopted
        fit of its own, else the workspace's, else None for FSRS-6's defaults."""
        return self.fsrs_parameter_sets().for_pack(pack_id)

    def fsrs_parameter_sets(self) -> ParameterSets:
        with self._connect() as conn:
            return adopted_parameter_sets(conn)

    def fsrs_fits(self) -> list:
        with self._connect() as conn:
            return list(conn.execute(select(FsrsFit.__table__).order_by(FsrsFit.fitted_at, FsrsFit.id)))

    def record_fit(self, fit: Fit, *, adopted: bool, rescheduled: dict[int, CardState], now: datetime,
                   pack_id: str | None = None) -> int:
        """One fit (the workspace's, or ``pack_id``'s own), and (when adopted) the open cards' new states."""
        return self.record_fits([(pack_id, fit, adopted, len(rescheduled) if adopted else 0)],
                                rescheduled=rescheduled if adopted else {}, now=now)[0]

    def record_fits(self, fits: list[tuple[str | None, Fit, bool, int]], *, rescheduled: dict[int, CardState],
                    now: datetime) -> list[int]:
        """The fits of one ``review optimize`` (pack id or None, the fit, adopted, the open cards it
        rescheduled) and the open cards' new states, in one transaction: scheduling never sees new
        parameters with the old due dates. Only the FSRS state and the due date change."""
        with self._begin() as conn:
            ids = [conn.execute(
                insert(FsrsFit).values(
                    pack_id=pack_id, parameters=json.dumps(list(fit.parameters)), log_loss=fit.log_loss,
                    default_log_loss=fit.default_log_loss, current_log_loss=fit.current_log_loss,
                    reviews=fit.reviews, learners=fit.learners, held_out_reviews=fit.held_out_reviews,
                    adopted=adopted, rescheduled=moved if adopted else 0, fitted_at=now,
                ).returning(FsrsFit.id)
            ).scalar_one() for pack_id, fit, adopted, moved in fits]
            if rescheduled:
                conn.execute(
                    update(ReviewCard)
                    .where(ReviewCard.id == bindparam("card"), ReviewCard.retired_at.is_(None))
                    .values(fsrs=bindparam("state"), due=bindparam("next_due")),
                    [{"card": card_id, "state": state.fsrs, "next_due": state.due}
                     for card_id, state in rescheduled.items()],
                )
            return ids
