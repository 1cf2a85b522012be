"""What facilitators scheduled, put in the outbox when it falls due: announcements and weekly prompts.

An announcement "at 09:00 in each person's zone" is due first where 09:00 comes first (UTC+14). Then
its audience is resolved once and every copy is queued with its own ``not_before`` (09:00 in that
person's zone), so the outbox sends each one on time, exactly once, and cancelling the announcement
cancels the copies still waiting.

A weekly prompt follows the lesson rules: due from its local weekday and time until the end of that
local day (a process that was down at 10:00 catches up the same day; a week missed entirely is not
made up), at most one post per local date (a unique key).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from content_packs.catalog import Catalog
from db.facilitation import AnnouncementView, NewCopy, PromptView, Recipient
from learning.errors import SproutError
from learning.schedule import UnknownTimeZone, due_slot, local_instant, parse_hhmm, resolve_zone, zone

log = logging.getLogger(__name__)

AudienceResolver = Callable[[AnnouncementView, datetime], Sequence[Recipient]]


@dataclass
class FacilitationPlan:
    announcements: list[int] = field(default_factory=list)  # announcements queued
    copies: int = 0
    prompt_posts: list[int] = field(default_factory=list)
    settled: int = 0  # prompt posts whose message ts is now known


def copy_times(
    announcement: AnnouncementView, recipients: Sequence[Recipient], *, now: datetime, default_timezone: str
) -> list[NewCopy]:
    """One copy per active person, due at the announcement's instant, or at its wall time in their zone.
    A time already past (the person's zone is ahead of the facilitator's) means now."""
    copies: dict[int, NewCopy] = {}
    wall = announcement.send_at
    for person in recipients:
        if not person.active or person.learner_id in copies:
            continue
        due = announcement.send_at
        if announcement.send_local:
            tz = zone(resolve_zone(person.timezone, person.slack_timezone, default=default_timezone))
            due = local_instant(wall.date(), wall.time(), tz)
        copies[person.learner_id] = NewCopy(person.learner_id, person.channel, max(due, now))
    return list(copies.values())


def queue_due(
    store, announcement: AnnouncementView, audience: AudienceResolver, *, now: datetime, default_timezone: str
) -> int | None:
    """Resolve a due announcement's audience and queue every copy, once: how many copies, or None if it
    was queued already (another planner, the listener that sends it now) or cancelled. An audience that
    is gone for good (a channel Sprout cannot read) cancels it, logged and audited; any other failure
    is raised, and the announcement stays due for the next try."""
    try:
        recipients = audience(announcement, now)
    except SproutError as exc:
        log.warning("announcement %s cannot be sent: %s", announcement.id, exc.message)
        store.cancel_announcement(announcement.id, actor="sprout", now=now, reason=exc.message)
        return None
    copies = copy_times(announcement, recipients, now=now, default_timezone=default_timezone)
    return len(copies) if store.queue_announcement(announcement.id, copies, now) else None


def prompt_text(prompt: PromptView, posts_so_far: int, catalog: Catalog) -> str | None:
    """The typed prompt, or the pack's ``discussion`` entries in turn."""
    if prompt.text:
        return prompt.text
    pack = catalog.get(prompt.pack_id or "")
    if pack is None or not pack.discussion:
        return None
    return pack.discussion[posts_so_far % len(pack.discussion)]


class FacilitationPlanner:
    def __init__(
        self, *, store, catalog: Catalog, audience: AudienceResolver, default_timezone: str = "UTC"
    ) -> None:
        self.store = store  # a Store with FacilitationRecords
        self.catalog = catalog
        self.audience = audience  # bot.announcements.Announcements.recipients: a channel's members come from Slack
        self.default_timezone = default_timezone

    def plan(self, now: datetime) -> FacilitationPlan:
        plan = FacilitationPlan()
        self.plan_announcements(now, plan)
        self.plan_prompts(now, plan)
        try:
            plan.settled = self.store.settle_prompt_posts()
        except Exception:
            log.exception("could not record the message ts of sent prompt posts")
        return plan

    def plan_announcements(self, now: datetime, plan: FacilitationPlan) -> None:
        for announcement in self.store.due_announcements(now):
            try:
                queued = queue_due(self.store, announcement, self.audience, now=now,
                                   default_timezone=self.default_timezone)
            except Exception:  # Slack down: try again next time
                log.exception("announcement %s: audience not resolved; will retry", announcement.id)
                continue
            if queued is not None:
                plan.announcements.append(announcement.id)
                plan.copies += queued

    def plan_prompts(self, now: datetime, plan: FacilitationPlan) -> None:
        prompts = self.store.active_prompts()
        history = self.store.prompt_history([p.id for p in prompts])
        for prompt in prompts:
            try:
                tz = zone(prompt.timezone)
                at = parse_hhmm(prompt.at_time)
            except (UnknownTimeZone, ValueError) as exc:
                log.warning("prompt %s has a bad schedule: %s", prompt.id, exc)
                continue
            posts, last = history.get(prompt.id, (0, None))
            slot = due_slot(now, tz=tz, at=at, days=(prompt.weekday,), not_before=prompt.created_at,
                            last_local_date=last)
            if slot is None:
                continue
            text = prompt_text(prompt, posts, self.catalog)
            if text is None:
                log.warning("prompt %s: pack %s has no discussion entries (any more)", prompt.id, prompt.pack_id)
                continue
            post_id = self.store.queue_prompt_post(prompt_id=prompt.id, local_date=slot.local_date, text=text,
                                                   channel_id=prompt.channel_id, not_before=slot.due_at, now=now)
            if post_id is not None:
                plan.prompt_posts.append(post_id)
