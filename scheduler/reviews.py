"""Spaced review and recertification: which learners get a short review DM today, and with which cards."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from content_packs.catalog import Catalog
from db.store import Store
from learning.schedule import (
    WEEKDAYS,
    UnknownTimeZone,
    due_slot,
    local_instant,
    parse_days,
    parse_hhmm,
    resolve_zone,
    zone,
)

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RECERT_NOTICE = timedelta(days=30)
RECERT_QUESTIONS = 10


@dataclass
class ReviewPlan:
    reviews: int = 0
    recerts: int = 0
    expired: int = 0


class ReviewPlanner:
    def __init__(
        self, *, store: Store, catalog: Catalog, default_timezone: str = "UTC", max_questions: int = 3,
        default_time: str = "09:30",
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.default_timezone = default_timezone
        self.max_questions = max_questions
        self.default_time = default_time

    def plan(self, now: datetime) -> ReviewPlan:
        result = ReviewPlan()
        with self.store.planning_lock() as mine:
            if not mine:
                return result
            result.reviews = self._reviews(now)
            result.recerts = self._recerts(now)
            result.expired = self.store.expire_certificates(now)
        return result

    def _reviews(self, now: datetime) -> int:
        """At the learner's lesson time, on a day they have cards due, one review DM of a few cards.

        Three queries whatever the number of learners: who has cards due (an index scan of live
        cards by due date), their last review day, and the few most overdue cards of each.
        """
        due = self.store.learners_with_due_cards(now + timedelta(days=1))
        if not due:
            return 0
        last = self.store.last_review_dates([d.learner_id for d in due])
        packs = self.store.first_active_packs([d.learner_id for d in due])
        ready: dict[int, tuple] = {}
        for learner in due:
            try:
                tz = zone(resolve_zone(learner.timezone, learner.slack_timezone, default=self.default_timezone))
                pack = self.catalog.get(packs.get(learner.learner_id, ""))
                at = parse_hhmm(learner.delivery_time or (pack.schedule.time if pack else self.default_time))
                days = parse_days(learner.delivery_days) if learner.delivery_days else WEEKDAYS
            except (ValueError, UnknownTimeZone) as exc:
                log.warning("cannot plan reviews for learner %s: %s", learner.learner_id, exc)
                continue
            slot = due_slot(now, tz=tz, at=at, days=tuple(days), not_before=EPOCH,
                            last_local_date=last.get(learner.learner_id))
            if slot is not None:
                end_of_day = local_instant(slot.local_date + timedelta(days=1), time(0, 0), tz)
                ready[learner.learner_id] = (learner, slot, end_of_day)
        if not ready:
            return 0
        cards = self.store.due_cards_for(list(ready), now + timedelta(days=1), per_learner=self.max_questions)
        sessions = []
        for learner_id, (learner, slot, end_of_day) in ready.items():
            mine = [c for c in cards.get(learner_id, []) if c.state.due <= end_of_day]
            if mine:
                sessions.append({"learner_id": learner_id, "kind": "review", "local_date": slot.local_date,
                                 "card_ids": [c.id for c in mine], "due_at": slot.due_at,
                                 "channel": learner.dm_channel_id or learner.slack_user_id})
        return self.store.queue_review_sessions(sessions, now)

    def _recerts(self, now: datetime) -> int:
        """Thirty days before a certificate expires: a short review of the pack's questions renews it."""
        queued = 0
        for cert in self.store.certificates_to_renew(expiring_by=now + RECERT_NOTICE):
            pack = self.catalog.get(cert.pack_id)
            learner = self.store.learner_by_id(cert.learner_id)
            if pack is None or learner is None:
                continue
            cards = self.store.learner_cards(cert.learner_id, pack.id)[:RECERT_QUESTIONS]
            if cards:
                tz = zone(resolve_zone(learner.timezone, learner.slack_timezone, default=self.default_timezone))
                self.store.queue_review_session(
                    learner_id=learner.id, kind="recert", pack_id=pack.id, local_date=now.astimezone(tz).date(),
                    card_ids=[c.id for c in cards], due_at=now, channel=learner.dm_channel_id or learner.slack_user_id,
                    now=now,
                )
                queued += 1
            self.store.mark_recert_invited(cert.id, now)
        return queued
