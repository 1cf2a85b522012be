"""Messages whose records changed but that Slack may not show yet, drawn again from the records.

A click's record and the mark "its message must be redrawn" commit together before the ack
(``bot.listeners.actions.keep``); the listener then draws the message and clears the mark. A process
that dies in between, or a ``chat.update`` that Slack refused (a 429, a 5xx, a timeout), leaves the mark,
and this job, run at start and every half minute, draws it: the learner's message ends up showing
what was stored. A mark younger than the lease belongs to a listener that may still be drawing it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient

from bot.listeners.actions import update_lesson, update_review
from bot.listeners.facilitator import draw_receipt
from bot.service import LearningService
from learning.errors import SproutError

log = logging.getLogger(__name__)

GIVE_UP_AFTER = 20  # attempts, about ten minutes at one run every half minute


@dataclass(frozen=True)
class RedrawResult:
    drawn: int = 0
    failed: int = 0
    dropped: int = 0


class Redrawer:
    def __init__(self, *, service: LearningService, store: Any, client: WebClient, lease: timedelta,
                 batch: int = 50) -> None:
        self.service = service
        self.store = store
        self.client = client
        self.lease = lease
        self.batch = batch  # chat.update is Tier 3 (about 50 a minute): one batch per run stays under it

    def run(self, now: datetime) -> RedrawResult:
        drawn = failed = dropped = 0
        for kind, ref_id, since, _attempts in self.store.redraws_due(marked_before=now - self.lease,
                                                                     limit=self.batch):
            try:
                self._draw(kind, ref_id)
            except SproutError as exc:  # what it was about is gone (a removed pack): nothing to draw
                log.info("redraw %s %s: %s", kind, ref_id, exc.message)
                self.store.redrawn(kind, ref_id, since=since)
                dropped += 1
                continue
            except Exception:  # Slack refused or is away: try again on the next run, for a while
                failed += 1
                if self.store.redraw_failed(kind, ref_id, give_up_after=GIVE_UP_AFTER):
                    log.error("gave up redrawing %s %s after %d attempts", kind, ref_id, GIVE_UP_AFTER)
                else:
                    log.warning("could not redraw %s %s; will try again", kind, ref_id, exc_info=True)
                continue
            self.store.redrawn(kind, ref_id, since=since)
            drawn += 1
        if drawn or failed or dropped:
            log.warning("redrew %d messages left undrawn (%d to try again, %d gone)", drawn, failed, dropped)
        return RedrawResult(drawn, failed, dropped)

    def _draw(self, kind: str, ref_id: int) -> None:
        if kind == "lesson":
            update_lesson(self.client, self.service.lesson_view(ref_id))
        elif kind == "review":
            update_review(self.client, self.service.review_view(ref_id))
        elif kind == "receipt":
            state = self.store.receipt_copy(ref_id)
            if state is not None:
                draw_receipt(self.client, state)
        else:
            log.error("unknown redraw kind %r", kind)
