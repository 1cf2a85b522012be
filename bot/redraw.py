"""Messages whose records changed but that Slack may not show yet, drawn again from the records.

A click's record and the mark "its message must be redrawn" commit together before the ack
(``bot.listeners.actions.keep``); the listener then draws the message and clears the mark. A process
that dies in between, or a ``chat.update`` that Slack refused (a 429, a 5xx, a timeout), leaves the mark,
and this job, run at start and every ten seconds, draws it: the learner's message ends up showing
what was stored. Between starts, a mark younger than the lease belongs to a listener that may still be
drawing it.
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
from learning.errors import Gone, SproutError

log = logging.getLogger(__name__)

GIVE_UP_AFTER = 60  # attempts, about ten minutes at one run every ten seconds


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

    def catch_up(self, now: datetime) -> RedrawResult:
        """At start: every mark is older than this process, so none is a listener of ours still drawing
        (one of another instance at work is drawn twice, which changes nothing)."""
        return self.run(now, settle=timedelta(0))

    def run(self, now: datetime, *, settle: timedelta | None = None) -> RedrawResult:
        """Draw what was marked more than ``settle`` (default: the lease) ago."""
        drawn = failed = dropped = 0
        marked_before = now - (self.lease if settle is None else settle)
        for kind, ref_id, since, _attempts in self.store.redraws_due(marked_before=marked_before,
                                                                     limit=self.batch):
            try:
                if not self._draw(kind, ref_id):
                    raise _NotYet(f"where {kind} {ref_id} is in Slack is not recorded yet")
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

    def _draw(self, kind: str, ref_id: int) -> bool:
        """True once drawn; False while the message's place in Slack is not recorded (a send that a dead
        process left half done: the outbox's recovery records it, and a later run draws it)."""
        if kind == "lesson":
            return update_lesson(self.client, self.service.lesson_view(ref_id))
        if kind == "review":
            return update_review(self.client, self.service.review_view(ref_id))
        if kind == "receipt":
            state = self.store.receipt_copy(ref_id)
            if state is None:
                raise Gone(f"receipt {ref_id} is gone")
            return draw_receipt(self.client, state)
        raise Gone(f"unknown redraw kind {kind!r}")


class _NotYet(Exception):
    """Nothing to draw on yet: counted as a failed attempt, so the mark is tried again (for a while)."""
