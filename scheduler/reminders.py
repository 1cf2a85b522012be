"""One gentle nudge for a lesson left unanswered; after three in a row, an offer to pause instead."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from db.store import NewMessage, Store

log = logging.getLogger(__name__)


@dataclass
class NudgeResult:
    reminders: list[int] = field(default_factory=list)
    pause_offers: list[int] = field(default_factory=list)
    held_back: int = 0


class Nudger:
    def __init__(
        self,
        *,
        store: Store,
        after: timedelta = timedelta(hours=4),
        window: timedelta = timedelta(days=2),
        missed_before_offer: int = 3,
    ) -> None:
        self.store = store
        self.after = after
        self.window = window
        self.missed_before_offer = missed_before_offer

    def plan(self, now: datetime) -> NudgeResult:
        """Queue reminders for lessons sent ``after`` ago and still untouched (never older than ``window``)."""
        result = NudgeResult()
        if self.after <= timedelta(0):
            return result
        cutoff = now - self.after
        for row in self.store.lessons_awaiting_reminder(sent_before=cutoff, sent_after=cutoff - self.window):
            if not row.channel_id:
                continue
            recent = self.store.recent_engagement(row.learner_id, limit=self.missed_before_offer)
            streak = len(recent) == self.missed_before_offer and not any(recent)
            base = {"learner_id": row.learner_id, "delivery_id": row.delivery_id, "channel": row.channel_id}
            if not streak:
                result.reminders += self.store.queue_messages(
                    [NewMessage(kind="reminder", dedupe_key=f"reminder:{row.delivery_id}", **base)], now
                )
            elif self.store.pause_offered_since_engagement(row.learner_id):
                # Asked already and no answer since: say nothing rather than nag.
                self.store.queue_messages(
                    [NewMessage(kind="reminder", dedupe_key=f"reminder:{row.delivery_id}", status="cancelled",
                                reason="pause already offered", **base)],
                    now,
                )
                result.held_back += 1
            else:
                result.pause_offers += self.store.queue_messages(
                    [NewMessage(kind="pause_offer", dedupe_key=f"pause_offer:{row.delivery_id}", **base)], now
                )
        return result
