"""Learner questions: what a learner asked Sprout in its DM that no lesson answered, passed on to the
facilitators, and where such questions go (``org_settings``: a channel an admin named, else each
facilitator's DM)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from db.models import Learner, LearnerQuestion, OrgSetting

QUESTIONS_CHANNEL = "questions_channel"  # org_settings key: the channel id learner questions go to
IN_DMS = "dm"


@dataclass(frozen=True)
class QuestionView:
    id: int
    learner_id: int
    slack_user_id: str
    name: str
    channel_id: str
    message_ts: str
    thread_ts: str | None
    text: str
    passed_to: str
    created_at: datetime


class QuestionRecords:
    """Mixed into ``db.store.Store``: its ``_begin``/``_connect`` put these in the caller's unit of work."""

    def record_question(self, *, learner_id: int, channel_id: str, message_ts: str, thread_ts: str | None,
                        text: str, passed_to: str, now: datetime) -> tuple[int, bool]:
        """The question asked in message (channel, ts): (its id, whether it is new). A second click on the
        same offer, or the same click delivered twice, finds the first record."""
        with self._begin() as conn:
            new_id = conn.execute(
                self._insert(LearnerQuestion)
                .values(learner_id=learner_id, channel_id=channel_id, message_ts=message_ts, thread_ts=thread_ts,
                        text=text, passed_to=passed_to, created_at=now)
                .on_conflict_do_nothing(index_elements=["channel_id", "message_ts"])
                .returning(LearnerQuestion.id)
            ).scalar()
            if new_id is not None:
                return new_id, True
            return conn.execute(select(LearnerQuestion.id).where(
                LearnerQuestion.channel_id == channel_id, LearnerQuestion.message_ts == message_ts)).scalar_one(), False

    def question(self, question_id: int) -> QuestionView | None:
        with self._connect() as conn:
            row = conn.execute(
                select(LearnerQuestion.__table__, Learner.slack_user_id, Learner.name)
                .join(Learner, Learner.id == LearnerQuestion.learner_id)
                .where(LearnerQuestion.id == question_id)
            ).first()
        if row is None:
            return None
        return QuestionView(row.id, row.learner_id, row.slack_user_id, row.name, row.channel_id, row.message_ts,
                            row.thread_ts, row.text, row.passed_to, row.created_at)

    def facilitator_ids(self, also: frozenset[str] = frozenset()) -> list[str]:
        """The Slack ids of active facilitators and admins (stored roles), with ``also`` (ADMIN_USER_IDS)."""
        with self._connect() as conn:
            stored = conn.execute(select(Learner.slack_user_id).where(
                Learner.role.in_(("facilitator", "admin")), Learner.active.is_(True))).scalars().all()
        return sorted(set(stored) | set(also))

    def questions_channel(self) -> str | None:
        with self._connect() as conn:
            value = conn.execute(select(OrgSetting.value).where(OrgSetting.key == QUESTIONS_CHANNEL)).scalar()
        return None if not value or value == IN_DMS else value

    def set_questions_channel(self, channel_id: str | None, now: datetime, *, by: str) -> None:
        with self._begin() as conn:
            value = channel_id or IN_DMS
            conn.execute(
                self._insert(OrgSetting).values(key=QUESTIONS_CHANNEL, value=value, updated_at=now, updated_by=by)
                .on_conflict_do_update(index_elements=["key"], set_={"value": value, "updated_at": now,
                                                                      "updated_by": by}))


__all__ = ["IN_DMS", "QUESTIONS_CHANNEL", "QuestionRecords", "QuestionView"]
