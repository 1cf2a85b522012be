"""Spaced review and recertification: which learners get a short review DM today, and with which cards."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from content_packs.catalog import Catalog
from db.learning_records import ReviewLearner
from db.store import Store
from learning.pausing import is_paused
from learning.review import REVIEW_QUESTIONS, todays_review
from learning.schedule import (
    WEEKDAYS,
    Slot,
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
        self, *, store: Store, catalog: Catalog, default_timezone: str = "UTC", max_questions: int = REVIEW_QUESTIONS,
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

    def _when(self, learner: ReviewLearner, pack_id: str | None, now: datetime) -> tuple[Slot, ZoneInfo] | None:
        """The learner's lesson slot due at ``now`` (their time and days, else their pack's), or None —
        also while they are paused, and before their pause ended or they resumed."""
        if is_paused(learner.paused_until, now):
            return None
        try:
            tz = zone(resolve_zone(learner.timezone, learner.slack_timezone, default=self.default_timezone))
            pack = self.catalog.get(pack_id or "")
            at = parse_hhmm(learner.delivery_time or (pack.schedule.time if pack else self.default_time))
            if learner.delivery_days:
                days = parse_days(learner.delivery_days)
            else:
                days = tuple(pack.schedule.days) if pack else WEEKDAYS
        except (ValueError, UnknownTimeZone) as exc:
            log.warning("cannot plan reviews for learner %s: %s", learner.learner_id, exc)
            return None
        not_before = max(learner.resumed_at or EPOCH, learner.paused_until or EPOCH)
        slot = due_slot(now, tz=tz, at=at, days=tuple(days), not_before=not_before, last_local_date=None)
        return None if slot is None else (slot, tz)

    def _reviews(self, now: datetime) -> int:
        """At the learner's lesson time, on a lesson day they have cards due, one review DM of a few cards.

        Three queries whatever the number of learners: who has cards due (an index scan of live
        cards by due date), their last review day, and the few most overdue cards of each.
        """
        due = self.store.learners_with_due_cards(now + timedelta(days=1), now=now)
        if not due:
            return 0
        last = self.store.last_review_dates([d.learner_id for d in due])
        packs = self.store.first_active_packs([d.learner_id for d in due])
        ready: dict[int, tuple] = {}
        for learner in due:
            when = self._when(learner, packs.get(learner.learner_id), now)
            if when is None or (last.get(learner.learner_id) or date.min) >= when[0].local_date:
                continue
            slot, tz = when
            end_of_day = local_instant(slot.local_date + timedelta(days=1), time(0, 0), tz)
            ready[learner.learner_id] = (learner, slot, end_of_day)
        if not ready:
            return 0
        cards = self.store.due_cards_for(list(ready), now + timedelta(days=1), per_learner=self.max_questions)
        sessions = []
        for learner_id, (learner, slot, end_of_day) in ready.items():
            theirs = {c.id: c for c in cards.get(learner_id, [])}
            mine = [theirs[i] for i in todays_review(((c.id, c.state) for c in theirs.values()),
                                                     due_by=end_of_day, limit=self.max_questions)]
            if mine:
                sessions.append({"learner_id": learner_id, "kind": "review", "local_date": slot.local_date,
                                 "card_ids": [c.id for c in mine], "due_at": slot.due_at,
                                 "channel": learner.dm_channel_id or learner.slack_user_id})
        return self.store.queue_review_sessions(sessions, now)

    def _recerts(self, now: datetime) -> int:
        """Thirty days before a certificate expires, at the learner's lesson time on a lesson day (not while
        paused): a short review of the pack's questions, which renews it when passed."""
        certificates = self.store.certificates_to_renew(expiring_by=now + RECERT_NOTICE)
        if not certificates:
            return 0
        learners = self.store.review_learners([c.learner_id for c in certificates])
        queued = 0
        for cert in certificates:
            pack = self.catalog.get(cert.pack_id)
            learner = learners.get(cert.learner_id)
            if pack is None or learner is None:
                continue
            when = self._when(learner, pack.id, now)
            if when is None:
                continue  # not now: a later tick at their lesson time invites them
            slot = when[0]
            cards = self.store.learner_cards(cert.learner_id, pack.id)[:RECERT_QUESTIONS]
            if cards:
                self.store.queue_review_session(
                    learner_id=learner.learner_id, kind="recert", pack_id=pack.id, local_date=slot.local_date,
                    card_ids=[c.id for c in cards], due_at=slot.due_at,
                    channel=learner.dm_channel_id or learner.slack_user_id, now=now,
                )
                queued += 1
            self.store.mark_recert_invited(cert.id, now)
        return queued
