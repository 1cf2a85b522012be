"""Storage for admins: roles, the roster from Slack, the audit log, privacy exports and forgetting."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from db.models import (
    AnnouncementReceipt,
    Answer,
    AuditEntry,
    Certificate,
    Contribution,
    Delivery,
    Enrollment,
    Feedback,
    Learner,
    LinkOpen,
    OutboxMessage,
    Reflection,
    Review,
)

PSEUDONYM_PREFIX = "forgotten-"


def pseudonym(slack_user_id: str) -> str:
    """Stable for one person, meaningless to anyone else; keeps aggregate figures correct."""
    return PSEUDONYM_PREFIX + hashlib.sha256(slack_user_id.encode()).hexdigest()[:12]


class AdminRecords:
    """Mixed into ``db.store.Store``: needs ``self.engine`` and ``self._insert``."""

    def set_role(self, learner_id: int, role: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(Learner).where(Learner.id == learner_id).values(role=role, updated_at=now))

    def audit(self, *, actor: str, action: str, subject: str | None, detail: str | None, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(AuditEntry.__table__.insert().values(at=now, actor=actor[:64], action=action[:64],
                                                              subject=(subject or None) and subject[:200],
                                                              detail=detail))

    def audit_log(self, limit: int = 100) -> list[tuple]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(
                select(AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.subject, AuditEntry.detail)
                .order_by(AuditEntry.id.desc()).limit(limit))]

    def sync_members(self, members: Sequence[tuple[str, str, str | None, str | None, bool]], now: datetime) -> tuple:
        """(slack id, name, email, Slack time zone, active) for every human member: add, update, and mark
        inactive everyone Sprout knows who is deactivated or gone. Roster-given roles, teams, managers
        and time zones are kept. Returns (added, updated, marked inactive)."""
        added = updated = 0
        with self.engine.begin() as conn:
            known = {r.slack_user_id: r for r in conn.execute(
                select(Learner.id, Learner.slack_user_id, Learner.name, Learner.active))}
            present = set()
            for slack_user_id, name, email, tz, active in members:
                row = known.get(slack_user_id)
                if not active:
                    continue
                present.add(slack_user_id)
                if row is None:
                    conn.execute(Learner.__table__.insert().values(
                        slack_user_id=slack_user_id, name=name, email=email, slack_timezone=tz,
                        slack_profile_checked_at=now, role="learner", active=True, created_at=now, updated_at=now))
                    added += 1
                else:
                    values: dict[str, Any] = {"slack_timezone": tz, "slack_profile_checked_at": now, "active": True,
                                              "updated_at": now}
                    if not row.name:
                        values["name"] = name
                    if email:
                        values["email"] = email
                    conn.execute(update(Learner).where(Learner.id == row.id).values(**values))
                    updated += 1
            gone = [r.id for sid, r in known.items()
                    if sid not in present and r.active and not sid.startswith(PSEUDONYM_PREFIX)]
            if gone:
                conn.execute(update(Learner).where(Learner.id.in_(gone)).values(active=False, updated_at=now))
        return added, updated, len(gone)

    # -- privacy -------------------------------------------------------------------------

    def queue_privacy_export(self, learner_id: int, channel: str, now: datetime) -> int:
        with self.engine.begin() as conn:
            return conn.execute(
                OutboxMessage.__table__.insert().values(
                    kind="privacy_export", dedupe_key=f"privacy_export:{learner_id}:{now.timestamp():.0f}",
                    learner_id=learner_id, channel=channel, status="pending", attempts=0, not_before=now,
                    created_at=now,
                ).returning(OutboxMessage.id)
            ).scalar_one()

    def personal_data(self, learner_id: int) -> dict[str, Any]:
        """Everything Sprout holds about one person, as JSON-ready data."""

        def rows(query) -> list[dict]:
            return [dict(r._mapping) for r in conn.execute(query)]

        with self.engine.connect() as conn:
            data = {
                "learner": rows(select(Learner.__table__).where(Learner.id == learner_id)),
                "enrollments": rows(select(Enrollment.__table__).where(Enrollment.learner_id == learner_id)),
                "deliveries": rows(select(Delivery.__table__).where(Delivery.learner_id == learner_id)),
                "answers": rows(select(Answer.__table__).where(Answer.learner_id == learner_id)),
                "feedback": rows(select(Feedback.__table__).where(Feedback.learner_id == learner_id)),
                "reflections": rows(select(Reflection.__table__).where(Reflection.learner_id == learner_id)),
                "reviews": rows(select(Review.__table__).where(Review.learner_id == learner_id)),
                "certificates": rows(select(Certificate.__table__).where(Certificate.learner_id == learner_id)),
                "link_opens": rows(select(LinkOpen.__table__).where(LinkOpen.learner_id == learner_id)),
                "contributions": rows(select(Contribution.__table__).where(Contribution.learner_id == learner_id)),
                "announcement_receipts": rows(
                    select(AnnouncementReceipt.__table__).where(AnnouncementReceipt.learner_id == learner_id)),
            }
        return data

    def forget(self, slack_user_id: str, now: datetime) -> bool:
        """Delete a person's personal data; keep their records under a pseudonym so figures stay right.

        Removed: name, email, time zones, DM channel, manager and team links, the text of comments and
        reflections, queued messages to them. Kept (pseudonymous): answers, ratings, deliveries, reviews.
        """
        alias = pseudonym(slack_user_id)
        with self.engine.begin() as conn:
            learner_id = conn.execute(select(Learner.id).where(Learner.slack_user_id == slack_user_id)).scalar()
            if learner_id is None:
                return False
            conn.execute(update(Learner).where(Learner.id == learner_id).values(
                slack_user_id=alias, name="", email=None, timezone=None, slack_timezone=None, dm_channel_id=None,
                manager_slack_user_id=None, team=None, active=False, updated_at=now))
            conn.execute(update(Learner).where(Learner.manager_slack_user_id == slack_user_id)
                         .values(manager_slack_user_id=None))
            conn.execute(update(Feedback).where(Feedback.learner_id == learner_id).values(comment=None))
            conn.execute(Reflection.__table__.delete().where(Reflection.learner_id == learner_id))
            conn.execute(update(Contribution).where(Contribution.slack_user_id == slack_user_id)
                         .values(slack_user_id=alias))
            conn.execute(update(OutboxMessage).where(OutboxMessage.learner_id == learner_id,
                                                     OutboxMessage.status == "pending")
                         .values(status="cancelled", last_error="learner forgotten"))
            conn.execute(AuditEntry.__table__.insert().values(at=now, actor="admin", action="forget", subject=alias,
                                                              detail=None))
        return True


__all__ = ["AdminRecords", "pseudonym"]
