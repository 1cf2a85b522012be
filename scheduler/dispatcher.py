"""The dispatcher sends what the outbox holds: exactly once, paced to Slack's limits.

Exactly once: a message is marked "sending" (with this dispatcher's id) before the call and
"sent" after it. Each dispatcher keeps a heartbeat row alive while it runs. If a process dies
in between, its heartbeat stops; after the lease the next dispatcher takes the message over
and first looks for it in the channel's history — every message carries its outbox id in
Slack message metadata — and only sends it if Slack does not have it.

Pacing: one token bucket for new messages across the workspace (Slack: several hundred a
minute), a gentler one per channel (about one message a second), and a 429's Retry-After
pauses every sender at once instead of each one finding out for itself.

Sends run as coroutines on one event loop (a thread of the dispatcher's own), a bounded
number at a time, over keep-alive connections; the database work stays on the calling
thread (claims, rendering) and on a recorder thread (marking what was sent, in bulk).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from db.store import OutboxItem, Store
from scheduler.pacing import TokenBucket
from scheduler.sending import METADATA_EVENT_TYPE, OutgoingMessage, Sender, SendError

log = logging.getLogger(__name__)

Renderer = Callable[[Sequence[OutboxItem]], list[OutgoingMessage | None]]
Clock = Callable[[], datetime]

AMBIGUOUS = "ambiguous: "


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    recovered: int = 0
    rate_limited: int = 0  # 429s answered

    def add(self, other: DispatchResult) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.cancelled += other.cancelled
        self.recovered += other.recovered
        self.rate_limited += other.rate_limited


class _Recorder:
    """Marks sent messages in bulk, a few times a second, from its own thread.

    Between a send and its mark, a crash leaves the message "sending"; recovery then finds it
    in the channel's history, so batching the marks costs nothing in correctness and saves
    one transaction per message.
    """

    def __init__(self, store: Store, clock: Clock, *, every: float = 0.2) -> None:
        self.store, self.clock, self.every = store, clock, every
        self._pending: list[tuple[OutboxItem, str, str]] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sprout-recorder", daemon=True)
        self._thread.start()

    def add(self, item: OutboxItem, channel: str, ts: str) -> None:
        with self._lock:
            self._pending.append((item, channel, ts))

    def _flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            try:
                self.store.mark_sent_many(batch, now=self.clock())
            except Exception:
                log.exception("could not record %d sent messages; recovery will find them in Slack", len(batch))

    def _run(self) -> None:
        while not self._done.wait(self.every):
            self._flush()

    def close(self) -> None:
        self._done.set()
        self._thread.join()
        self._flush()


class ChannelPacer:
    """About one message a second per channel: a fan-out to many DMs is unaffected, a burst into one
    channel (announcements, prompts) is spread out instead of drawing 429s."""

    def __init__(self, rate: float = 1.0, burst: int = 3) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def reserve(self, channel: str) -> float:
        with self._lock:
            bucket = self._buckets.get(channel)
            if bucket is None:
                if len(self._buckets) > 50_000:
                    self._buckets.clear()  # idle buckets are full anyway; forgetting them changes nothing
                bucket = self._buckets[channel] = TokenBucket(self.rate, self.burst)
        return bucket.reserve()


class Dispatcher:
    def __init__(
        self,
        *,
        store: Store,
        sender: Sender,
        render: Renderer,
        clock: Clock,
        workers: int = 8,
        batch_size: int = 500,
        lease: timedelta = timedelta(seconds=30),
        max_attempts: int = 8,
        bucket: TokenBucket | None = None,
        channel_pacer: ChannelPacer | None = None,
        worker_id: str | None = None,
        lease_clock: Clock = wall_clock,
        retry_base: float = 1.0,
    ) -> None:
        self.store = store
        self.sender = sender
        self.render = render
        self.clock = clock
        self.workers = workers  # sends in flight at once
        self.batch_size = batch_size
        self.lease = lease
        self.max_attempts = max_attempts
        self.bucket = bucket
        self.channel_pacer = channel_pacer
        self.lease_clock = lease_clock
        self.retry_base = retry_base  # seconds before the first retry; doubles each time, up to five minutes
        self.worker_id = worker_id or f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.stopping = threading.Event()
        self._heartbeat_thread: threading.Thread | None = None
        self._dispatch_lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(target=self._loop.run_forever, name="sprout-send", daemon=True)
        self._loop_thread.start()
        self._slots = self._on_loop(_make_semaphore(workers))
        self._beat()

    def _on_loop(self, coroutine, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    # -- lifecycle -----------------------------------------------------------------------

    def _beat(self) -> None:
        self.store.heartbeat(self.worker_id, host=socket.gethostname(), pid=os.getpid(), now=self.lease_clock())

    def start_heartbeat(self) -> None:
        """Keep this dispatcher's claims alive from a background thread (long-running processes)."""
        if self._heartbeat_thread is not None:
            return

        def beat() -> None:
            interval = max(self.lease.total_seconds() / 3, 0.2)
            while not self.stopping.wait(interval):
                try:
                    self._beat()
                except Exception:
                    log.exception("heartbeat failed")

        self._heartbeat_thread = threading.Thread(target=beat, name="sprout-heartbeat", daemon=True)
        self._heartbeat_thread.start()

    def close(self) -> None:
        """Stop: messages not yet handed to Slack go back to the outbox; sends in flight finish."""
        self.stopping.set()
        with self._dispatch_lock:  # a dispatch in progress finishes (releasing what it did not send)
            pass
        if self._heartbeat_thread is not None:
            self._heartbeat_thread.join(timeout=5)
        if self._loop.is_running():
            try:
                self._on_loop(self.sender.aclose(), timeout=10)
            except Exception:
                log.debug("closing the sender failed", exc_info=True)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop_thread.join(timeout=5)
        try:
            self.store.retire_worker(self.worker_id)
        except Exception:
            log.debug("could not retire worker %s", self.worker_id, exc_info=True)

    # -- the loop ------------------------------------------------------------------------

    # Outbox kinds sent elsewhere than Slack (the LRS forwarder claims its own).
    NOT_FOR_SLACK: tuple[str, ...] = ("xapi",)

    def dispatch(self, *, ids: Sequence[int] | None = None) -> DispatchResult:
        """Send every message due now (or just ``ids``), until none is left that is due."""
        total = DispatchResult()
        with self._dispatch_lock if ids is None else nullcontext():
            if self.stopping.is_set():
                return total
            total.recovered = self.recover()
            while not self.stopping.is_set():
                self._beat()
                items = self.store.claim_outbox(
                    self.clock(), worker=self.worker_id, limit=self.batch_size, claimed_at=self.lease_clock(), ids=ids,
                    exclude_kinds=self.NOT_FOR_SLACK,
                )
                if not items:
                    break
                total.add(self._send_batch(items))
                if ids is not None:
                    break
        return total

    def drain(self, *, timeout: float, poll: float = 0.2) -> DispatchResult:
        """Dispatch until nothing is pending, waiting out retry delays (benchmarks, tests, the demo)."""
        total = DispatchResult()
        deadline = time.monotonic() + timeout
        while not self.stopping.is_set() and time.monotonic() < deadline:
            total.add(self.dispatch())
            counts = self.store.outbox_counts()
            if not counts.get("pending") and not counts.get("sending"):
                break
            self.stopping.wait(poll)
        return total

    def recover(self) -> int:
        """Settle messages a dead dispatcher left "being sent": sent if Slack has them, else due again."""
        recovered = 0
        alive_since = self.lease_clock() - self.lease
        for item in self.store.stale_sending(alive_since=alive_since, exclude=self.worker_id,
                                             exclude_kinds=self.NOT_FOR_SLACK):
            if not self.store.reclaim(item, worker=self.worker_id, claimed_at=self.lease_clock()):
                continue
            # Leases are wall-clock, message timestamps follow ``clock``: look back from the earlier.
            since = min(item.claimed_at or self.lease_clock(), self.clock()) - timedelta(days=2)
            try:
                found = self._on_loop(self.sender.find_sent(item.channel, outbox_id=item.id, since=since))
            except SendError as exc:
                log.warning("cannot check history for outbox %s: %s", item.id, exc.reason)
                self.store.mark_retry(item, error=AMBIGUOUS + exc.reason, not_before=self.clock() + timedelta(seconds=30))
                continue
            if found is not None:
                self.store.mark_sent(item, channel=found.channel, ts=found.ts, now=self.clock())
                log.info("outbox %s was already in Slack (%s); not sending it again", item.id, found.ts)
            else:
                self.store.release(item)
            recovered += 1
        return recovered

    # -- a batch of messages -------------------------------------------------------------

    RENDER_CHUNK = 25

    def _send_batch(self, items: Sequence[OutboxItem]) -> DispatchResult:
        """Render in small chunks on this thread while the event loop sends; record sends in bulk."""
        total = DispatchResult()
        recorder = _Recorder(self.store, self.clock)
        futures = []
        try:
            for start in range(0, len(items), self.RENDER_CHUNK):
                chunk = items[start : start + self.RENDER_CHUNK]
                if self.stopping.is_set():
                    for item in chunk:
                        self.store.release(item)
                    continue
                try:
                    messages: list[OutgoingMessage | None | Exception] = list(self.render(chunk))
                except Exception as exc:
                    log.exception("rendering outbox %s failed", [i.id for i in chunk])
                    messages = [exc] * len(chunk)
                for item, message in zip(chunk, messages, strict=True):
                    futures.append(
                        asyncio.run_coroutine_threadsafe(self._deliver(item, message, recorder), self._loop)
                    )
            for future in futures:
                total.add(future.result())
        finally:
            recorder.close()
        return total

    async def _deliver(
        self, item: OutboxItem, message: OutgoingMessage | None | Exception, recorder: _Recorder
    ) -> DispatchResult:
        result = DispatchResult()
        async with self._slots:
            if self.stopping.is_set():
                self.store.release(item)
                return result
            try:
                if isinstance(message, Exception):
                    raise message
                await self._deliver_one(item, message, recorder, result)
            except Exception:  # one broken message never stops the others
                log.exception("outbox %s: unexpected error", item.id)
                self.store.mark_retry(item, error="internal error", not_before=self.clock() + timedelta(minutes=5))
                result.retried += 1
        return result

    async def _wait_for(self, reserve: Callable[[], float]) -> bool:
        """Wait out a pacing reservation; False if the dispatcher is stopping."""
        wait = reserve()
        if wait > 0:
            await asyncio.sleep(wait)
        return not self.stopping.is_set()

    async def _deliver_one(
        self, item: OutboxItem, message: OutgoingMessage | None, recorder: _Recorder, result: DispatchResult
    ) -> None:
        if (item.last_error or "").startswith(AMBIGUOUS):
            # The last attempt may have reached Slack: look before sending again.
            try:
                found = await self.sender.find_sent(item.channel, outbox_id=item.id,
                                                    since=self.clock() - timedelta(days=2))
            except SendError as exc:
                self._failed_attempt(item, SendError(exc.reason, ambiguous=True, retry_after=exc.retry_after), result)
                return
            if found is not None:
                recorder.add(item, found.channel, found.ts)
                result.sent += 1
                return
        if message is None:
            self.store.mark_cancelled(item, reason="nothing to send")
            result.cancelled += 1
            return
        message = OutgoingMessage(
            channel=message.channel,
            text=message.text,
            blocks=message.blocks,
            thread_ts=message.thread_ts,
            metadata={"event_type": METADATA_EVENT_TYPE, "event_payload": {"outbox_id": item.id, "kind": item.kind}},
            file=message.file,
        )
        while True:
            if self.bucket is not None and not await self._wait_for(self.bucket.reserve):
                self.store.release(item)
                return
            if self.channel_pacer is not None and not await self._wait_for(
                lambda: self.channel_pacer.reserve(message.channel)
            ):
                self.store.release(item)
                return
            try:
                sent = await self.sender.send(message)
            except SendError as exc:
                if exc.retry_after is not None and not exc.permanent and self.bucket is not None:
                    # A 429: every sender waits out Retry-After, then this message goes again.
                    result.rate_limited += 1
                    self.bucket.pause(exc.retry_after)
                    continue
                self._failed_attempt(item, exc, result)
                return
            recorder.add(item, sent.channel, sent.ts)
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
            # Exponential backoff with jitter: a flaky minute never turns into a retry storm.
            delay = min(self.retry_base * 2**item.attempts, 300) * (0.5 + random.random())
        error = (AMBIGUOUS if exc.ambiguous else "") + exc.reason
        self.store.mark_retry(item, error=error, not_before=now + timedelta(seconds=delay))
        result.retried += 1


async def _make_semaphore(size: int) -> asyncio.Semaphore:
    return asyncio.Semaphore(size)
