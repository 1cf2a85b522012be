"""The dispatcher sends what the outbox holds, exactly once, paced to Slack's limits.

Exactly once: a message is marked "sending" before the call and "sent" after it. If the
process dies in between, the next dispatcher finds it still "sending" after its lease and
looks for it in the channel's history (each message carries its outbox id in Slack
message metadata) before sending it again.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from db.store import OutboxItem, Store
from scheduler.pacing import TokenBucket
from scheduler.sending import METADATA_EVENT_TYPE, OutgoingMessage, Sender, SendError

log = logging.getLogger(__name__)

Renderer = Callable[[OutboxItem], OutgoingMessage | None]
Clock = Callable[[], datetime]

AMBIGUOUS = "ambiguous: "


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0

    def add(self, other: DispatchResult) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.recovered += other.recovered


class Dispatcher:
    def __init__(
        self,
        *,
        store: Store,
        sender: Sender,
        render: Renderer,
        clock: Clock,
        workers: int = 8,
        batch_size: int = 200,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 8,
        bucket: TokenBucket | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.store = store
        self.sender = sender
        self.render = render
        self.clock = clock
        self.workers = workers
        self.batch_size = batch_size
        self.lease = lease
        self.max_attempts = max_attempts
        self.bucket = bucket
        self.worker_id = worker_id or f"sprout-{uuid.uuid4().hex[:12]}"
        self.stopping = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sprout-send")
        self._lock = threading.Lock()

    def close(self) -> None:
        self.stopping.set()
        self._pool.shutdown(wait=True)

    # -- the loop ------------------------------------------------------------------------

    def dispatch(self, *, ids: Sequence[int] | None = None) -> DispatchResult:
        """Send every message due now (or just ``ids``), until none is left that is due."""
        total = DispatchResult()
        total.recovered = self.recover()
        while not self.stopping.is_set():
            items = self.store.claim_outbox(self.clock(), worker=self.worker_id, limit=self.batch_size, ids=ids)
            if not items:
                break
            for result in self._pool.map(self._deliver, items):
                total.add(result)
            if ids is not None:
                break
        return total

    def recover(self) -> int:
        """Settle messages a dead process left "being sent": sent if Slack has them, else due again."""
        now = self.clock()
        recovered = 0
        for item in self.store.stale_sending(now - self.lease):
            if item.claimed_at is None or not self.store.reclaim(
                item.id, worker=self.worker_id, now=now, claimed_at=item.claimed_at
            ):
                continue
            try:
                found = self.sender.find_sent(item.channel, outbox_id=item.id, since=item.claimed_at - timedelta(minutes=1))
            except SendError as exc:
                log.warning("cannot check history for outbox %s: %s", item.id, exc.reason)
                self.store.mark_retry(item, error=AMBIGUOUS + exc.reason, not_before=now + timedelta(seconds=30))
                continue
            if found is not None:
                self.store.mark_sent(item, channel=found.channel, ts=found.ts, now=now)
            else:
                self.store.release(item)
            recovered += 1
        return recovered

    # -- one message ---------------------------------------------------------------------

    def _deliver(self, item: OutboxItem) -> DispatchResult:
        result = DispatchResult()
        try:
            self._deliver_one(item, result)
        except Exception:  # one broken message never stops the others
            log.exception("outbox %s: unexpected error", item.id)
            self.store.mark_retry(item, error="internal error", not_before=self.clock() + timedelta(minutes=5))
            result.retried += 1
        return result

    def _deliver_one(self, item: OutboxItem, result: DispatchResult) -> None:
        if item.attempts > 0 and self._was_ambiguous(item):
            found = self.sender.find_sent(item.channel, outbox_id=item.id, since=self.clock() - timedelta(days=1))
            if found is not None:
                self.store.mark_sent(item, channel=found.channel, ts=found.ts, now=self.clock())
                result.sent += 1
                return
        message = self.render(item)
        if message is None:
            self.store.mark_failed(item, reason="nothing to send", now=self.clock())
            result.failed += 1
            return
        message = OutgoingMessage(
            channel=message.channel,
            text=message.text,
            blocks=message.blocks,
            thread_ts=message.thread_ts,
            metadata={"event_type": METADATA_EVENT_TYPE, "event_payload": {"outbox_id": item.id, "kind": item.kind}},
        )
        while True:
            if self.bucket is not None and not self.bucket.acquire(self.stopping):
                self.store.release(item)
                return
            try:
                sent = self.sender.send(message)
            except SendError as exc:
                if exc.retry_after is not None and self.bucket is not None and not exc.permanent:
                    # A 429: everyone waits, then this message goes again at once.
                    self.bucket.pause(exc.retry_after)
                    continue
                self._failed_attempt(item, exc, result)
                return
            self.store.mark_sent(item, channel=sent.channel, ts=sent.ts, now=self.clock())
            result.sent += 1
            return

    def _failed_attempt(self, item: OutboxItem, exc: SendError, result: DispatchResult) -> None:
        now = self.clock()
        if exc.permanent or item.attempts + 1 >= self.max_attempts:
            log.warning("outbox %s to %s failed for good: %s", item.id, item.channel, exc.reason)
            self.store.mark_failed(item, reason=exc.reason, now=now)
            result.failed += 1
            return
        if exc.retry_after is not None:
            delay = exc.retry_after
        else:
            delay = min(2 ** (item.attempts + 1), 300) * (0.5 + random.random())
        error = (AMBIGUOUS if exc.ambiguous else "") + exc.reason
        self.store.mark_retry(item, error=error, not_before=now + timedelta(seconds=delay))
        result.retried += 1

    def _was_ambiguous(self, item: OutboxItem) -> bool:
        return (item.last_error or "").startswith(AMBIGUOUS)
