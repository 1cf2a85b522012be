"""Storage for admins: roles, the roster from Slack, the audit log, privacy exports and forgetting."""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, String, Table, func, or_, select, update

from db.models import (
    AuditEntry,
    Base,
    CoachAssignment,
    Delivery,
    Feedback,
    Learner,
    LearnerQuestion,
    OutboxMessage,
    Reflection,
    ReviewSession,
)

log = logging.getLogger(__name__)

PSEUDONYM_PREFIX = "forgotten-"


class AdminRecords:
    """Mixed into ``db.store.Store``: needs ``self.engine`` and ``self._insert``."""

    def set_role(self, learner_id: int, role: str, now: datetime) -> None:
        with self._begin() as conn:
            conn.execute(update(Learner).where(Learner.id == learner_id).values(role=role, updated_at=now))

    def audit(self, *, actor: str, action: str, subject: str | None, detail: str | None, now: datetime) -> None:
        with self._begin() as conn:
            conn.execute(AuditEntry.__table__.insert().values(at=now, actor=actor[:64], action=action[:64],
                                                              subject=(subject or None) and subject[:200],
                                                              detail=detail))

    def audit_log(self, limit: int = 100) -> list[tuple]:
        with self._connect() as conn:
            return [tuple(r) for r in conn.execute(
                select(AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.subject, AuditEntry.detail)
                .order_by(AuditEntry.id.desc()).limit(limit))]

    def sync_members(self, members: Sequence[tuple[str, str, str | None, str | None, bool]], now: datetime) -> tuple:
        """(slack id, name, email, Slack time zone, active) for every human member: add, update, and mark
        inactive everyone Sprout knows who is deactivated or gone. Roster-given roles, teams, managers
        and time zones are kept. Returns (added, updated, marked inactive)."""
        added = updated = 0
        with self._begin() as conn:
            known = {r.slack_user_id: r for r in conn.execute(
                select(Learner.id, Learner.slack_user_id, Learner.name, Learner.active))}
            present = set()
            for slack_user_id, name, email, tz, active in members:
                if not active:
                    continue
                present.add(slack_user_id)
                if self._apply_member(conn, known.get(slack_user_id), slack_user_id, name, email, tz, now):
                    added += 1
                else:
                    updated += 1
            gone = [r.id for sid, r in known.items()
                    if sid not in present and r.active and not sid.startswith(PSEUDONYM_PREFIX)]
            self._mark_left(conn, gone, now)
        return added, updated, len(gone)

    def sync_member(self, slack_user_id: str, name: str, email: str | None, tz: str | None, active: bool,
                    now: datetime) -> str:
        """One member as a ``team_join`` or ``user_change`` event shows them: "added", "updated", "left"
        (deactivated: marked inactive, their queued messages cancelled, records kept) or "ignored" (a
        deactivated account Sprout never knew)."""
        with self._begin() as conn:
            row = conn.execute(select(Learner.id, Learner.slack_user_id, Learner.name, Learner.active)
                               .where(Learner.slack_user_id == slack_user_id)).first()
            if not active:
                if row is None:
                    return "ignored"
                self._mark_left(conn, [row.id], now)
                return "left"
            return "added" if self._apply_member(conn, row, slack_user_id, name, email, tz, now) else "updated"

    @staticmethod
    def _apply_member(conn: Any, row: Any, slack_user_id: str, name: str, email: str | None, tz: str | None,
                      now: datetime) -> bool:
        """Add or update an active member; whether they were added."""
        if row is None:
            conn.execute(Learner.__table__.insert().values(
                slack_user_id=slack_user_id, name=name, email=email, slack_timezone=tz,
                slack_profile_checked_at=now, role="learner", active=True, created_at=now, updated_at=now))
            return True
        values: dict[str, Any] = {"slack_timezone": tz, "slack_profile_checked_at": now, "active": True,
                                  "updated_at": now}
        if not row.name:
            values["name"] = name
        if email:
            values["email"] = email
        conn.execute(update(Learner).where(Learner.id == row.id).values(**values))
        return False

    @staticmethod
    def _mark_left(conn: Any, learner_ids: Sequence[int], now: datetime) -> None:
        """People who left the workspace: inactive at once, so no planner picks them (lessons, reminders,
        reviews, digests all read active learners only), and whatever was queued for them and not yet
        handed to Slack is cancelled. Their records stay."""
        for start in range(0, len(learner_ids), 5000):
            chunk = list(learner_ids[start : start + 5000])
            conn.execute(update(Learner).where(Learner.id.in_(chunk)).values(active=False, updated_at=now))
            conn.execute(update(OutboxMessage).where(OutboxMessage.learner_id.in_(chunk),
                                                     OutboxMessage.status == "pending")
                         .values(status="cancelled", last_error="left the workspace", claimed_by=None))

    # -- privacy -------------------------------------------------------------------------

    def queue_privacy_export(self, learner_id: int, channel: str, now: datetime) -> int:
        with self._begin() as conn:
            return conn.execute(
                OutboxMessage.__table__.insert().values(
                    kind="privacy_export", dedupe_key=f"privacy_export:{learner_id}:{now.timestamp():.0f}",
                    learner_id=learner_id, channel=channel, status="pending", attempts=0, not_before=now,
                    created_at=now,
                ).returning(OutboxMessage.id)
            ).scalar_one()

    def personal_data(self, learner_id: int) -> dict[str, Any]:
        """Everything Sprout holds about one person, as JSON-ready data: one section per table.

        The sections come from the schema, not from a list: every table with a column pointing at
        ``learners.id`` (their answers, review cards, cohort memberships, queued messages…) gives the
        person's rows, and the tables that name people by Slack id (``SLACK_ID_COLUMNS``: the audit
        log, contributions, settings they changed, messages addressed to them) add the rows naming
        them. A table added later is in the export without anyone remembering to add it.
        """
        with self._connect() as conn:
            learner = conn.execute(select(Learner.slack_user_id).where(Learner.id == learner_id)).scalar()
            data: dict[str, Any] = {}
            for table in Base.metadata.sorted_tables:
                conditions = [column == learner_id for column in learner_columns(table)]
                if table is Learner.__table__:
                    conditions.append(Learner.id == learner_id)
                if learner is not None:
                    conditions += [table.c[name] == learner for name in SLACK_ID_COLUMNS.get(table.name, ())]
                if table.name == AuditEntry.__tablename__ and learner is not None:
                    # Subjects and details may name them in passing ("<@U123>"); checked by word below.
                    conditions += [AuditEntry.subject.contains(learner, autoescape=True),
                                   AuditEntry.detail.contains(learner, autoescape=True)]
                if not conditions:
                    continue
                order = list(table.primary_key.columns)
                rows = [dict(r._mapping) for r in conn.execute(select(table).where(or_(*conditions)).order_by(*order))]
                if table.name == AuditEntry.__tablename__ and learner is not None:
                    word = _word(learner)
                    rows = [r for r in rows if any(isinstance(v, str) and word.search(v) for v in r.values())]
                data["learner" if table.name == Learner.__tablename__ else table.name] = rows
        return data

    def forget(self, slack_user_id: str, now: datetime) -> bool:
        """Delete a person's personal data; keep their records under a pseudonym so figures stay right.

        Removed: name, email, time zones, DM channel, manager and team links, coach assignments (theirs and
        those naming them as coach, with the choice to share notes), the text of comments and reflections, the questions they passed on, queued messages to them. Every other mention of their Slack id, DM channel or email —
        in the audit log, the outbox, contributions, settings, anything a person typed — becomes the
        pseudonym, in every text column of every table. The pseudonym is random and stored nowhere beside
        the id, so knowing the id does not lead back to the records. Kept (pseudonymous): answers,
        ratings, deliveries, reviews, certificates, contributions — every aggregate figure stays the same.
        """
        alias = new_pseudonym()
        with self._begin() as conn:
            row = conn.execute(select(Learner.id, Learner.email, Learner.dm_channel_id)
                               .where(Learner.slack_user_id == slack_user_id)).first()
            if row is None:
                return False
            learner_id = row.id
            channels = {row.dm_channel_id} if row.dm_channel_id else set()
            for column, owner in ((Delivery.channel_id, Delivery.learner_id),
                                  (ReviewSession.channel_id, ReviewSession.learner_id)):
                channels.update(conn.execute(select(column).where(owner == learner_id, column.is_not(None))
                                             .distinct()).scalars())
            channels.update(conn.execute(
                select(OutboxMessage.sent_channel).where(
                    OutboxMessage.learner_id == learner_id, OutboxMessage.sent_channel.is_not(None),
                    OutboxMessage.channel.in_([slack_user_id, *channels]))
                .distinct()).scalars())

            conn.execute(update(Learner).where(Learner.id == learner_id).values(
                slack_user_id=alias, name="", email=None, timezone=None, slack_timezone=None, dm_channel_id=None,
                manager_slack_user_id=None, team=None, department=None, active=False, updated_at=now))
            conn.execute(update(Learner).where(Learner.manager_slack_user_id == slack_user_id)
                         .values(manager_slack_user_id=None))
            conn.execute(update(Feedback).where(Feedback.learner_id == learner_id).values(comment=None))
            conn.execute(Reflection.__table__.delete().where(Reflection.learner_id == learner_id))
            # Who coaches them, whom they coach, and their choice to share notes: personal, and gone.
            conn.execute(CoachAssignment.__table__.delete().where(
                or_(CoachAssignment.learner_id == learner_id, CoachAssignment.coach_id == learner_id)))
            conn.execute(LearnerQuestion.__table__.delete().where(LearnerQuestion.learner_id == learner_id))
            conn.execute(update(Delivery).where(Delivery.learner_id == learner_id).values(channel_id=None))
            conn.execute(update(ReviewSession).where(ReviewSession.learner_id == learner_id).values(channel_id=None))
            conn.execute(update(OutboxMessage).where(OutboxMessage.learner_id == learner_id,
                                                     OutboxMessage.status == "pending")
                         .values(status="cancelled", last_error="learner forgotten"))
            conn.execute(update(OutboxMessage).where(OutboxMessage.learner_id == learner_id)
                         .values(channel=alias, sent_channel=None))
            # Everything else that names them: the audit log, contributions, messages, what people typed.
            identifiers = [slack_user_id, *sorted(channels)]
            changed = _replace_everywhere(conn, identifiers, alias)
            if row.email:
                changed += _replace_everywhere(conn, [row.email], alias, ignore_case=True)
            conn.execute(AuditEntry.__table__.insert().values(
                at=now, actor="learner forget", action="forget", subject=alias,
                detail=json.dumps({"mentions_replaced": changed})))
        log.info("forgot a learner: their records are kept as %s", alias)
        return True


def new_pseudonym() -> str:
    """A random name for a forgotten person's records: nothing about them goes into it."""
    return PSEUDONYM_PREFIX + secrets.token_hex(8)


# Columns that name a person by their Slack user id rather than by ``learners.id``.
SLACK_ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "audit_log": ("actor", "subject"),
    "coach_assignments": ("assigned_by",),
    "contributions": ("slack_user_id",),
    "enrollment_rules": ("created_by",),
    "org_settings": ("updated_by",),
    "outbox": ("channel",),
}


def learner_columns(table: Table) -> list[Column]:
    """The columns of ``table`` that point at ``learners.id``."""
    learners = Learner.__table__
    return [fk.parent for fk in table.foreign_keys if fk.column.table is learners]


def _word(text: str, *, ignore_case: bool = False) -> re.Pattern:
    """``text`` standing alone: U0LEO in "<@U0LEO>" but not in "U0LEO2"."""
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(text)}(?![A-Za-z0-9])", re.IGNORECASE if ignore_case else 0)


def _replace_everywhere(conn, identifiers: Sequence[str], alias: str, *, ignore_case: bool = False) -> int:
    """Replace each identifier with ``alias`` in every text column of every table; returns the cells changed."""
    words = [(_word(i, ignore_case=ignore_case), i) for i in identifiers if i]
    changed = 0
    for table in Base.metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        for column in table.columns:
            if not isinstance(column.type, String) or column in keys:
                continue
            found = or_(*[column.contains(i, autoescape=True) if not ignore_case
                          else func.lower(column).contains(i.lower(), autoescape=True) for _, i in words])
            for row in conn.execute(select(*keys, column).where(found)).all():
                value = row[-1]
                new = value
                for word, _ in words:
                    new = word.sub(alias, new)
                if new == value:
                    continue
                if column.type.length:
                    new = new[: column.type.length]
                conn.execute(update(table).where(*[k == v for k, v in zip(keys, row[:-1], strict=False)])
                             .values({column.name: new}))
                changed += 1
    return changed


__all__ = ["SLACK_ID_COLUMNS", "AdminRecords", "learner_columns", "new_pseudonym"]
