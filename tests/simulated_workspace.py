"""A workspace's records written from the memory simulation: learners whose memory follows a known truth,
answering the lessons' questions and Sprout's reviews as ``learning.simulation`` has them do.

The rows are the ones the bot writes (learner, enrollment, delivered lesson, its answer, the review card
with its FSRS state, a review DM a day, its answers), inserted in bulk: thousands of answers through the
Slack emulator would take minutes, and ``review optimize`` reads only these tables.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, insert, select

from db.models import Answer, Delivery, Enrollment, Learner, Review, ReviewCard, ReviewSession
from learning.review import AGAIN, replay

PACK = "sim-pack"
SENT_BEFORE_ANSWER = timedelta(minutes=1)


def fill(engine: Engine, learners: list[list[tuple[int, datetime, int]]], *, first_id: int = 1,
         retention: float = 0.9, pack: str = PACK, questions: list[tuple[str, str]] | None = None) -> int:
    """Write each learner's answers (question, moment, rating; as ``recorded_answers`` returns them); the
    learners get ids from ``first_id`` on; simulated question n is ``questions[n]`` (lesson id, question id)
    of ``pack``, or a made-up one. Returns the number of review answers written."""
    created = datetime(2027, 1, 1, tzinfo=UTC)
    rows: dict[type, list[dict]] = {m: [] for m in (Learner, Enrollment, Delivery, Answer, ReviewCard,
                                                    ReviewSession, Review)}
    with engine.connect() as conn:  # a second fill (another pack) goes on after the first's rows
        delivery_id, card_id, session_id = (conn.execute(select(func.coalesce(func.max(m.id), 0))).scalar_one()
                                            for m in (Delivery, ReviewCard, ReviewSession))
    reviews = 0
    for offset, answers in enumerate(learners):
        learner_id = first_id + offset
        rows[Learner].append(dict(id=learner_id, slack_user_id=f"USIM{learner_id:05d}", name=f"Learner {learner_id}",
                                  role="learner", active=True, created_at=created, updated_at=created))
        rows[Enrollment].append(dict(id=learner_id, learner_id=learner_id, pack_id=pack, status="active",
                                     enrolled_at=created))
        by_question: dict[int, list[tuple[datetime, int]]] = {}
        for question, moment, rating in answers:
            by_question.setdefault(question, []).append((moment, rating))
        sessions: dict[datetime, int] = {}
        for question, history in by_question.items():
            (first_at, first_rating), later = history[0], history[1:]
            delivery_id += 1
            card_id += 1
            lesson, question_id = questions[question] if questions else (f"lesson-{question:03d}", "q1")
            rows[Delivery].append(dict(
                id=delivery_id, enrollment_id=learner_id, learner_id=learner_id, pack_id=pack, lesson_id=lesson,
                pack_version=1, kind="on_demand", local_date=first_at.date(), due_at=first_at - SENT_BEFORE_ANSWER,
                sent_at=first_at - SENT_BEFORE_ANSWER, status="sent"))
            rows[Answer].append(dict(delivery_id=delivery_id, learner_id=learner_id, question_id=question_id,
                                     prompt="?", choice="a", correct=first_rating != AGAIN, answered_at=first_at))
            state = replay(history, desired_retention=retention)
            rows[ReviewCard].append(dict(
                id=card_id, learner_id=learner_id, pack_id=pack, lesson_id=lesson, question_id=question_id,
                fsrs=state.fsrs,
                due=state.due, last_review=state.last_review, reviews=state.reviews, lapses=state.lapses,
                long_right=state.long_right, retired_at=state.last_review if state.retired else None,
                created_at=first_at))
            for step, (moment, rating) in enumerate(later, start=2):
                if moment not in sessions:
                    session_id += 1
                    sessions[moment] = session_id
                    rows[ReviewSession].append(dict(
                        id=session_id, learner_id=learner_id, kind="review", local_date=moment.date(),
                        card_ids="[]", due_at=moment, sent_at=moment, created_at=moment))
                after = replay(history[:step], desired_retention=retention)
                rows[Review].append(dict(
                    session_id=sessions[moment], card_id=card_id, learner_id=learner_id, question_id=question_id,
                    prompt="?", response="a", correct=rating != AGAIN, rating=rating,
                    interval_days=(after.due - moment).total_seconds() / 86400, answered_at=moment))
                reviews += 1
    with engine.begin() as conn:
        for model, values in rows.items():
            if values:
                conn.execute(insert(model), values)
    return reviews
