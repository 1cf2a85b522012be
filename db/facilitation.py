"""Storage for facilitators: announcements (with receipts and acknowledgements), weekly discussion prompts
and the replies counted as contributions, and the audit entries of all of it. A part of ``Store``.

Every copy of an announcement and every prompt post is an outbox message whose dedupe key names it
(``announcement:<id>:<learner id>``, ``announcement_reminder:<id>:<learner id>``,
``prompt:<prompt id>:<local date>``), so a copy is found through the outbox's unique index, and queuing
one twice is impossible.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import String, case, cast, func, literal, select, update

from db.models import (
    Announcement,
    AnnouncementReceipt,
    AuditEntry,
    Cohort,
    CohortMember,
    Contribution,
    DiscussionPrompt,
    Learner,
    OutboxMessage,
    PromptPost,
)

COPY = "announcement"
REMINDER = "announcement_reminder"
PROMPT = "prompt"
# A wall time "in each person's zone" happens first at UTC+14 (Kiritimati) and last at UTC-12.
EARLIEST_OFFSET = timedelta(hours=14)
_CHUNK = 1000


def copy_key(announcement_id: int, learner_id: int) -> str:
    return f"{COPY}:{announcement_id}:{learner_id}"


def reminder_key(announcement_id: int, learner_id: int) -> str:
    return f"{REMINDER}:{announcement_id}:{learner_id}"


def prompt_key(prompt_id: int, local_date: date) -> str:
    return f"{PROMPT}:{prompt_id}:{local_date.isoformat()}"


@dataclass(frozen=True)
class AnnouncementView:
    id: int
    author_id: int | None
    author_name: str
    author_slack_user_id: str | None
    text: str
    audience_kind: str
    audience_value: str | None
    send_at: datetime  # with send_local: the wall time (as if UTC) that each person gets it at in their zone
    send_local: bool
    ask_ack: bool
    status: str  # scheduled (not queued yet), sent (every copy is in the outbox), cancelled
    reminder_sent_at: datetime | None
    created_at: datetime

    @property
    def first_due(self) -> datetime:
        """The earliest instant any copy can be due: the audience is resolved then."""
        return self.send_at - EARLIEST_OFFSET if self.send_local else self.send_at


@dataclass(frozen=True)
class Recipient:
    learner_id: int
    slack_user_id: str
    name: str
    channel: str  # their DM channel, or their user id (chat.postMessage opens the DM)
    timezone: str | None
    slack_timezone: str | None
    active: bool = True


@dataclass(frozen=True)
class NewCopy:
    learner_id: int
    channel: str
    not_before: datetime


@dataclass(frozen=True)
class AnnouncementFigures:
    announcement: AnnouncementView
    recipients: int
    waiting: int  # copies not sent yet (a later local time, or in flight)
    sent: int
    failed: int
    cancelled: int
    acked: int
    not_acked: int  # copies sent and not acknowledged
    not_acked_people: tuple[tuple[str, str], ...]  # (name, Slack user id), at most ``limit``
    reminders: int


@dataclass(frozen=True)
class CopyState:
    """One person's copy: what to draw, and where the first copy went (for the reminder's thread)."""

    announcement: AnnouncementView
    learner_id: int
    slack_user_id: str
    learner_active: bool
    acked_at: datetime | None
    sent_channel: str | None
    sent_ts: str | None


@dataclass(frozen=True)
class CancelResult:
    previous_status: str
    cancelled: bool
    copies_cancelled: int
    copies_sent: int


@dataclass(frozen=True)
class PromptView:
    id: int
    channel_id: str
    text: str | None
    pack_id: str | None
    weekday: str
    at_time: str
    timezone: str
    created_by: int | None
    status: str  # active, stopped
    created_at: datetime


@dataclass(frozen=True)
class PromptPostView:
    id: int
    prompt_id: int
    local_date: date
    text: str
    channel_id: str
    message_ts: str | None
    prompt_status: str


def _announcement_view(row) -> AnnouncementView:
    return AnnouncementView(
        id=row.id, author_id=row.author_id, author_name=row.author_name or "",
        author_slack_user_id=row.author_slack_user_id, text=row.text, audience_kind=row.audience_kind,
        audience_value=row.audience_value, send_at=row.send_at, send_local=row.send_local, ask_ack=row.ask_ack,
        status=row.status, reminder_sent_at=row.reminder_sent_at, created_at=row.created_at,
    )


def _prompt_view(row) -> PromptView:
    return PromptView(row.id, row.channel_id, row.text, row.pack_id, row.weekday, row.at_time, row.timezone,
                      row.created_by, row.status, row.created_at)


def _recipient(row) -> Recipient:
    return Recipient(row.id, row.slack_user_id, row.name, row.dm_channel_id or row.slack_user_id, row.timezone,
                     row.slack_timezone, bool(row.active))


_RECIPIENT_COLUMNS = (Learner.id, Learner.slack_user_id, Learner.name, Learner.dm_channel_id, Learner.timezone,
                      Learner.slack_timezone, Learner.active)


def _receipt_key(prefix: str):
    """The dedupe key of a receipt's outbox message, in SQL: joins the outbox on its unique index."""
    return (literal(f"{prefix}:") + cast(AnnouncementReceipt.announcement_id, String) + literal(":")
            + cast(AnnouncementReceipt.learner_id, String))


def _announcement_query():
    author = Learner.__table__.alias("author")
    return (
        select(Announcement.__table__, author.c.name.label("author_name"),
               author.c.slack_user_id.label("author_slack_user_id"))
        .outerjoin(author, author.c.id == Announcement.author_id)
    )


def _audit(conn, *, actor: str, action: str, subject: str | None, detail: dict | None, now: datetime) -> None:
    conn.execute(AuditEntry.__table__.insert().values(
        at=now, actor=actor[:64], action=action[:64], subject=subject[:200] if subject else None,
        detail=json.dumps(detail, separators=(",", ":"), default=str) if detail is not None else None,
    ))


class FacilitationRecords:
    """Mixed into ``db.store.Store``: needs ``self.engine`` and ``self._insert``."""

    # -- audiences -----------------------------------------------------------------------

    def cohort_names(self, limit: int = 101) -> list[str]:
        with self._connect() as conn:
            return list(conn.execute(select(Cohort.name).order_by(Cohort.name).limit(limit)).scalars())

    def team_names(self, limit: int = 101) -> list[str]:
        """Teams of active learners (the roster's ``team`` column)."""
        with self._connect() as conn:
            return list(conn.execute(
                select(Learner.team).where(Learner.active.is_(True), Learner.team.is_not(None), Learner.team != "")
                .distinct().order_by(Learner.team).limit(limit)
            ).scalars())

    def _audience_query(self, kind: str, value: str | None):
        query = select(*_RECIPIENT_COLUMNS).where(Learner.active.is_(True))
        if kind == "cohort":
            members = (select(CohortMember.learner_id).join(Cohort, Cohort.id == CohortMember.cohort_id)
                       .where(Cohort.name == value))
            return query.where(Learner.id.in_(members))
        if kind == "team":
            return query.where(Learner.team == value)
        if kind == "everyone":
            return query
        raise ValueError(f"not a stored audience: {kind}")

    def audience(self, kind: str, value: str | None) -> list[Recipient]:
        """The active learners of a cohort (by name), a team, or everyone."""
        with self._connect() as conn:
            return [_recipient(r) for r in conn.execute(self._audience_query(kind, value).order_by(Learner.id))]

    def audience_size(self, kind: str, value: str | None) -> int:
        with self._connect() as conn:
            return conn.execute(select(func.count()).select_from(self._audience_query(kind, value).subquery())
                                ).scalar_one()

    def cohort_exists(self, name: str) -> bool:
        with self._connect() as conn:
            return conn.execute(select(Cohort.id).where(Cohort.name == name)).first() is not None

    def people_by_slack_id(self, slack_user_ids: Iterable[str]) -> dict[str, Recipient]:
        """Known people among these Slack ids, active or not (a channel's members)."""
        ids = sorted(set(slack_user_ids))
        out: dict[str, Recipient] = {}
        with self._connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                for row in conn.execute(select(*_RECIPIENT_COLUMNS)
                                        .where(Learner.slack_user_id.in_(ids[start:start + _CHUNK]))):
                    out[row.slack_user_id] = _recipient(row)
        return out

    # -- announcements -------------------------------------------------------------------

    def create_announcement(
        self, *, author_id: int | None, actor: str, text: str, audience_kind: str, audience_value: str | None,
        send_at: datetime, send_local: bool, ask_ack: bool, now: datetime, copies: Sequence[NewCopy] | None = None,
    ) -> AnnouncementView:
        """The announcement and its audit entry; with ``copies`` (sending now) its copies too, all or nothing."""
        with self._begin() as conn:
            announcement_id = conn.execute(
                Announcement.__table__.insert().values(
                    author_id=author_id, text=text, audience_kind=audience_kind, audience_value=audience_value,
                    send_at=send_at, send_local=send_local, ask_ack=ask_ack,
                    status="scheduled" if copies is None else "sent", created_at=now,
                ).returning(Announcement.id)
            ).scalar_one()
            if copies is not None:
                self._queue_copies(conn, announcement_id, copies, now)
            _audit(conn, actor=actor, action="announcement", subject=f"announcement:{announcement_id}",
                   detail={"audience": audience_kind, "value": audience_value, "send_at": send_at.isoformat(),
                           "local": send_local, "ack": ask_ack,
                           "copies": None if copies is None else len(copies)}, now=now)
        return self.announcement(announcement_id)

    def _queue_copies(self, conn, announcement_id: int, copies: Sequence[NewCopy], now: datetime) -> None:
        payload = json.dumps({"announcement": announcement_id}, separators=(",", ":"))
        for start in range(0, len(copies), _CHUNK):
            chunk = copies[start:start + _CHUNK]
            conn.execute(
                self._insert(AnnouncementReceipt).on_conflict_do_nothing(
                    index_elements=["announcement_id", "learner_id"]),
                [{"announcement_id": announcement_id, "learner_id": c.learner_id} for c in chunk],
            )
            conn.execute(
                self._insert(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"]),
                [{"kind": COPY, "dedupe_key": copy_key(announcement_id, c.learner_id), "learner_id": c.learner_id,
                  "channel": c.channel, "status": "pending", "attempts": 0, "not_before": c.not_before,
                  "payload": payload, "created_at": now} for c in chunk],
            )

    def queue_announcement(self, announcement_id: int, copies: Sequence[NewCopy], now: datetime) -> bool:
        """A scheduled announcement falls due: its receipts and copies, once. False if it was already queued
        (another planner) or cancelled meanwhile."""
        with self._begin() as conn:
            claimed = conn.execute(
                update(Announcement).where(Announcement.id == announcement_id, Announcement.status == "scheduled")
                .values(status="sent")
            ).rowcount
            if not claimed:
                return False
            self._queue_copies(conn, announcement_id, copies, now)
        return True

    def announcement(self, announcement_id: int) -> AnnouncementView | None:
        with self._connect() as conn:
            row = conn.execute(_announcement_query().where(Announcement.id == announcement_id)).first()
        return _announcement_view(row) if row else None

    def recent_announcements(self, limit: int = 5) -> list[AnnouncementView]:
        with self._connect() as conn:
            return [_announcement_view(r) for r in conn.execute(
                _announcement_query().order_by(Announcement.id.desc()).limit(limit))]

    def due_announcements(self, now: datetime) -> list[AnnouncementView]:
        """Scheduled announcements whose first copy can be due by ``now`` (ix_announcements_status_send_at)."""
        with self._connect() as conn:
            rows = conn.execute(
                _announcement_query()
                .where(Announcement.status == "scheduled", Announcement.send_at <= now + EARLIEST_OFFSET)
                .order_by(Announcement.send_at, Announcement.id)
            ).all()
        return [a for a in map(_announcement_view, rows) if a.first_due <= now]

    def upcoming_announcements(self, now: datetime, *, limit: int = 20) -> list[tuple[AnnouncementView, int]]:
        """Announcements that can still be cancelled, with how many copies are waiting: scheduled ones, and
        queued ones whose copies wait for a later local time."""
        with self._connect() as conn:
            rows = conn.execute(
                _announcement_query()
                .where((Announcement.status == "scheduled")
                       | ((Announcement.status == "sent") & (Announcement.send_at >= now - timedelta(days=2))))
                .order_by(Announcement.send_at, Announcement.id)
            ).all()
            out = []
            for announcement in map(_announcement_view, rows):
                waiting = 0
                if announcement.status == "sent":
                    waiting = self._copies_by_status(conn, announcement.id).get("pending", 0)
                    if not waiting:
                        continue
                out.append((announcement, waiting))
        return out[:limit]

    def _copies_by_status(self, conn, announcement_id: int, prefix: str = COPY) -> dict[str, int]:
        return dict(conn.execute(
            select(OutboxMessage.status, func.count())
            .select_from(AnnouncementReceipt)
            .join(OutboxMessage, OutboxMessage.dedupe_key == _receipt_key(prefix))
            .where(AnnouncementReceipt.announcement_id == announcement_id)
            .group_by(OutboxMessage.status)
        ).all())

    def announcement_figures(self, announcement_id: int, *, limit: int = 60) -> AnnouncementFigures | None:
        """Copies by state, acknowledgements, and who has not acknowledged a copy they received."""
        announcement = self.announcement(announcement_id)
        if announcement is None:
            return None
        with self._connect() as conn:
            copies = self._copies_by_status(conn, announcement_id)
            reminders = sum(self._copies_by_status(conn, announcement_id, REMINDER).values())
            recipients, acked = conn.execute(
                select(func.count(), func.coalesce(func.sum(case((AnnouncementReceipt.acked_at.is_not(None), 1),
                                                                 else_=0)), 0))
                .where(AnnouncementReceipt.announcement_id == announcement_id)
            ).one()
            unacked = (
                select(Learner.name, Learner.slack_user_id)
                .select_from(AnnouncementReceipt)
                .join(Learner, Learner.id == AnnouncementReceipt.learner_id)
                .join(OutboxMessage, OutboxMessage.dedupe_key == _receipt_key(COPY))
                .where(AnnouncementReceipt.announcement_id == announcement_id,
                       AnnouncementReceipt.acked_at.is_(None), OutboxMessage.status == "sent")
            )
            not_acked = conn.execute(select(func.count()).select_from(unacked.subquery())).scalar_one()
            people = conn.execute(unacked.order_by(Learner.name, Learner.slack_user_id).limit(limit)).all()
        return AnnouncementFigures(
            announcement=announcement, recipients=int(recipients),
            waiting=copies.get("pending", 0) + copies.get("sending", 0), sent=copies.get("sent", 0),
            failed=copies.get("failed", 0), cancelled=copies.get("cancelled", 0), acked=int(acked),
            not_acked=int(not_acked), not_acked_people=tuple((p.name, p.slack_user_id) for p in people),
            reminders=reminders,
        )

    def cancel_announcement(
        self, announcement_id: int, *, actor: str, now: datetime, reason: str | None = None
    ) -> CancelResult | None:
        """Cancel what has not gone yet: a scheduled announcement, or the copies still waiting in the outbox.
        Nothing changes if every copy has gone already."""
        with self._begin() as conn:
            status = conn.execute(select(Announcement.status).where(Announcement.id == announcement_id)).scalar()
            if status is None:
                return None
            if status == "cancelled":
                return CancelResult(status, False, 0, 0)
            learner_ids = list(conn.execute(select(AnnouncementReceipt.learner_id)
                                            .where(AnnouncementReceipt.announcement_id == announcement_id)).scalars())
            keys = [copy_key(announcement_id, i) for i in learner_ids]
            keys += [reminder_key(announcement_id, i) for i in learner_ids]
            pending = sent = 0
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start:start + _CHUNK]
                counts = dict(conn.execute(select(OutboxMessage.status, func.count())
                                           .where(OutboxMessage.dedupe_key.in_(chunk))
                                           .group_by(OutboxMessage.status)).all())
                pending += counts.get("pending", 0)
                sent += counts.get("sent", 0) + counts.get("sending", 0)
            if status == "sent" and not pending:
                return CancelResult(status, False, 0, sent)
            conn.execute(update(Announcement).where(Announcement.id == announcement_id).values(status="cancelled"))
            cancelled = 0
            for start in range(0, len(keys), _CHUNK):
                cancelled += conn.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.dedupe_key.in_(keys[start:start + _CHUNK]), OutboxMessage.status == "pending")
                    .values(status="cancelled", last_error="announcement cancelled", claimed_by=None)
                ).rowcount
            _audit(conn, actor=actor, action="announcement_cancel", subject=f"announcement:{announcement_id}",
                   detail={"copies_cancelled": cancelled, "copies_sent": sent, "reason": reason}, now=now)
        return CancelResult(status, True, cancelled, sent)

    def queue_reminders(self, announcement_id: int, *, actor: str, now: datetime) -> int | None:
        """One reminder, in the thread of each received copy that is not acknowledged. None if a reminder was
        sent already; 0 (and nothing written) if there is nobody to remind."""
        with self._begin() as conn:
            targets = conn.execute(
                select(AnnouncementReceipt.learner_id, OutboxMessage.channel, OutboxMessage.sent_channel,
                       OutboxMessage.sent_ts)
                .select_from(AnnouncementReceipt)
                .join(OutboxMessage, OutboxMessage.dedupe_key == _receipt_key(COPY))
                .join(Learner, Learner.id == AnnouncementReceipt.learner_id)
                .where(AnnouncementReceipt.announcement_id == announcement_id,
                       AnnouncementReceipt.acked_at.is_(None), OutboxMessage.status == "sent",
                       Learner.active.is_(True))
                .order_by(AnnouncementReceipt.learner_id)
            ).all()
            if not targets:
                return 0
            claimed = conn.execute(
                update(Announcement)
                .where(Announcement.id == announcement_id, Announcement.reminder_sent_at.is_(None),
                       Announcement.status != "cancelled")
                .values(reminder_sent_at=now)
            ).rowcount
            if not claimed:
                return None
            rows = [{"kind": REMINDER, "dedupe_key": reminder_key(announcement_id, t.learner_id),
                     "learner_id": t.learner_id, "channel": t.sent_channel or t.channel, "status": "pending",
                     "attempts": 0, "not_before": now, "created_at": now,
                     "payload": json.dumps({"announcement": announcement_id, "thread_ts": t.sent_ts},
                                           separators=(",", ":"))}
                    for t in targets]
            for start in range(0, len(rows), _CHUNK):
                conn.execute(self._insert(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"]),
                             rows[start:start + _CHUNK])
            _audit(conn, actor=actor, action="announcement_remind", subject=f"announcement:{announcement_id}",
                   detail={"reminders": len(rows)}, now=now)
        return len(rows)

    def copy_state(self, announcement_id: int, learner_id: int) -> CopyState | None:
        """One query: the outbox renders a copy (or a reminder) per message of a fan-out."""
        person = Learner.__table__.alias("person")
        with self._connect() as conn:
            row = conn.execute(
                _announcement_query()
                .add_columns(AnnouncementReceipt.acked_at, person.c.slack_user_id.label("person_slack_user_id"),
                             person.c.active.label("person_active"), OutboxMessage.sent_channel,
                             OutboxMessage.sent_ts)
                .join(AnnouncementReceipt, AnnouncementReceipt.announcement_id == Announcement.id)
                .join(person, person.c.id == AnnouncementReceipt.learner_id)
                .outerjoin(OutboxMessage, OutboxMessage.dedupe_key == _receipt_key(COPY))
                .where(Announcement.id == announcement_id, AnnouncementReceipt.learner_id == learner_id)
            ).first()
        if row is None:
            return None
        return CopyState(_announcement_view(row), learner_id, row.person_slack_user_id, bool(row.person_active),
                         row.acked_at, row.sent_channel, row.sent_ts)

    def record_ack(self, announcement_id: int, learner_id: int, now: datetime) -> int | None:
        """"Got it", once: the receipt's id, or None for a second press (or a retried request)."""
        with self._begin() as conn:
            return conn.execute(
                update(AnnouncementReceipt)
                .where(AnnouncementReceipt.announcement_id == announcement_id,
                       AnnouncementReceipt.learner_id == learner_id, AnnouncementReceipt.acked_at.is_(None))
                .values(acked_at=now)
                .returning(AnnouncementReceipt.id)
            ).scalar()

    def receipt_copy(self, receipt_id: int) -> CopyState | None:
        """The copy a receipt belongs to (for redrawing it after a crash)."""
        with self._connect() as conn:
            row = conn.execute(select(AnnouncementReceipt.announcement_id, AnnouncementReceipt.learner_id)
                               .where(AnnouncementReceipt.id == receipt_id)).first()
        return self.copy_state(row.announcement_id, row.learner_id) if row else None

    # -- discussion prompts --------------------------------------------------------------

    def create_prompt(
        self, *, channel_id: str, text: str | None, pack_id: str | None, weekday: str, at_time: str, timezone: str,
        created_by: int | None, actor: str, now: datetime,
    ) -> PromptView:
        with self._begin() as conn:
            prompt_id = conn.execute(
                DiscussionPrompt.__table__.insert().values(
                    channel_id=channel_id, text=text, pack_id=pack_id, weekday=weekday, at_time=at_time,
                    timezone=timezone, created_by=created_by, status="active", created_at=now,
                ).returning(DiscussionPrompt.id)
            ).scalar_one()
            _audit(conn, actor=actor, action="prompt", subject=f"prompt:{prompt_id}",
                   detail={"channel": channel_id, "pack": pack_id, "weekday": weekday, "at": at_time,
                           "timezone": timezone}, now=now)
        return self.prompt(prompt_id)

    def prompt(self, prompt_id: int) -> PromptView | None:
        with self._connect() as conn:
            row = conn.execute(select(DiscussionPrompt.__table__).where(DiscussionPrompt.id == prompt_id)).first()
        return _prompt_view(row) if row else None

    def active_prompts(self) -> list[PromptView]:
        with self._connect() as conn:
            return [_prompt_view(r) for r in conn.execute(
                select(DiscussionPrompt.__table__).where(DiscussionPrompt.status == "active")
                .order_by(DiscussionPrompt.id))]

    def prompt_history(self, prompt_ids: Sequence[int]) -> dict[int, tuple[int, date | None]]:
        """Per prompt: posts so far (the next pack entry is the one after them) and the last post's local date."""
        if not prompt_ids:
            return {}
        with self._connect() as conn:
            rows = conn.execute(
                select(PromptPost.prompt_id, func.count(), func.max(PromptPost.local_date))
                .where(PromptPost.prompt_id.in_(list(prompt_ids))).group_by(PromptPost.prompt_id)
            ).all()
        return {prompt_id: (int(n), last) for prompt_id, n, last in rows}

    def prompt_reply_counts(self, prompt_ids: Sequence[int]) -> dict[int, int]:
        if not prompt_ids:
            return {}
        with self._connect() as conn:
            return {p: int(n) for p, n in conn.execute(
                select(PromptPost.prompt_id, func.count(Contribution.id))
                .join(Contribution, Contribution.post_id == PromptPost.id)
                .where(PromptPost.prompt_id.in_(list(prompt_ids))).group_by(PromptPost.prompt_id))}

    def stop_prompt(self, prompt_id: int, *, actor: str, now: datetime) -> bool:
        """No more posts; one queued but not sent yet is cancelled."""
        with self._begin() as conn:
            stopped = conn.execute(
                update(DiscussionPrompt).where(DiscussionPrompt.id == prompt_id, DiscussionPrompt.status == "active")
                .values(status="stopped")
            ).rowcount
            if not stopped:
                return False
            keys = [prompt_key(prompt_id, d) for d in conn.execute(
                select(PromptPost.local_date).where(PromptPost.prompt_id == prompt_id,
                                                    PromptPost.message_ts.is_(None))).scalars()]
            if keys:
                conn.execute(update(OutboxMessage)
                             .where(OutboxMessage.dedupe_key.in_(keys), OutboxMessage.status == "pending")
                             .values(status="cancelled", last_error="prompt stopped", claimed_by=None))
            _audit(conn, actor=actor, action="prompt_stop", subject=f"prompt:{prompt_id}", detail=None, now=now)
        return True

    def queue_prompt_post(
        self, *, prompt_id: int, local_date: date, text: str, channel_id: str, not_before: datetime, now: datetime
    ) -> int | None:
        """This week's post and its outbox message; None if the prompt already has a post on that local date."""
        with self._begin() as conn:
            post_id = conn.execute(
                self._insert(PromptPost)
                .values(prompt_id=prompt_id, local_date=local_date, text=text, channel_id=channel_id, created_at=now)
                .on_conflict_do_nothing(index_elements=["prompt_id", "local_date"])
                .returning(PromptPost.id)
            ).scalar()
            if post_id is None:
                return None
            conn.execute(
                self._insert(OutboxMessage)
                .values(kind=PROMPT, dedupe_key=prompt_key(prompt_id, local_date), channel=channel_id,
                        status="pending", attempts=0, not_before=not_before, created_at=now,
                        payload=json.dumps({"post": post_id}, separators=(",", ":")))
                .on_conflict_do_nothing(index_elements=["dedupe_key"])
            )
        return post_id

    def prompt_post(self, post_id: int) -> PromptPostView | None:
        with self._connect() as conn:
            row = conn.execute(
                select(PromptPost.__table__, DiscussionPrompt.status.label("prompt_status"))
                .join(DiscussionPrompt, DiscussionPrompt.id == PromptPost.prompt_id)
                .where(PromptPost.id == post_id)
            ).first()
        return PromptPostView(row.id, row.prompt_id, row.local_date, row.text, row.channel_id, row.message_ts,
                              row.prompt_status) if row else None

    def settle_prompt_posts(self, limit: int = 500) -> int:
        """Copy each sent post's message ts from its outbox message to the post, so replies can be matched.
        Reads first: with nothing to settle (the usual case) no write lock is taken."""
        with self._connect() as conn:
            posts = conn.execute(
                select(PromptPost.id, PromptPost.prompt_id, PromptPost.local_date)
                .where(PromptPost.message_ts.is_(None)).order_by(PromptPost.id).limit(limit)
            ).all()
            if not posts:
                return 0
            by_key = {prompt_key(p.prompt_id, p.local_date): p.id for p in posts}
            sent = conn.execute(
                select(OutboxMessage.dedupe_key, OutboxMessage.sent_channel, OutboxMessage.sent_ts)
                .where(OutboxMessage.dedupe_key.in_(list(by_key)), OutboxMessage.status == "sent",
                       OutboxMessage.sent_ts.is_not(None))
            ).all()
        if not sent:
            return 0
        with self._begin() as conn:
            for key, channel, ts in sent:
                values = {"message_ts": ts}
                if channel:
                    values["channel_id"] = channel
                conn.execute(update(PromptPost).where(PromptPost.id == by_key[key]).values(**values))
        return len(sent)

    def prompt_post_by_ts(self, channel_id: str, thread_ts: str) -> PromptPostView | None:
        with self._connect() as conn:
            row = conn.execute(
                select(PromptPost.__table__, DiscussionPrompt.status.label("prompt_status"))
                .join(DiscussionPrompt, DiscussionPrompt.id == PromptPost.prompt_id)
                .where(PromptPost.message_ts == thread_ts, PromptPost.channel_id == channel_id)
            ).first()
        return PromptPostView(row.id, row.prompt_id, row.local_date, row.text, row.channel_id, row.message_ts,
                              row.prompt_status) if row else None

    def record_contribution(
        self, *, post_id: int, learner_id: int | None, slack_user_id: str, message_ts: str, now: datetime
    ) -> bool:
        """A reply in a prompt's thread, once per message whatever Slack retries."""
        with self._begin() as conn:
            return conn.execute(
                self._insert(Contribution)
                .values(post_id=post_id, learner_id=learner_id, slack_user_id=slack_user_id, message_ts=message_ts,
                        created_at=now)
                .on_conflict_do_nothing(index_elements=["post_id", "message_ts"])
                .returning(Contribution.id)
            ).scalar() is not None

    def contributions(
        self, since: datetime, until: datetime, learner_ids: Iterable[int] | None = None
    ) -> dict[int, int]:
        """Replies to discussion prompts per learner in [since, until): for digests and reports."""
        query = (select(Contribution.learner_id, func.count())
                 .where(Contribution.created_at >= since, Contribution.created_at < until,
                        Contribution.learner_id.is_not(None))
                 .group_by(Contribution.learner_id))
        out: dict[int, int] = {}
        with self._connect() as conn:
            if learner_ids is None:
                return {lid: int(n) for lid, n in conn.execute(query)}
            ids = sorted(set(learner_ids))
            for start in range(0, len(ids), 5000):
                out.update({lid: int(n) for lid, n in conn.execute(
                    query.where(Contribution.learner_id.in_(ids[start:start + 5000])))})
        return out


__all__ = [
    "AnnouncementFigures", "AnnouncementView", "CancelResult", "CopyState", "FacilitationRecords", "NewCopy",
    "PromptPostView", "PromptView", "Recipient", "copy_key", "prompt_key", "reminder_key",
]
