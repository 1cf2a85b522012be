"""Live forwarding of records to a Learning Record Store, through the outbox.

``queue_new`` finds records that have no outbox row yet and queues one per record, kind
``xapi``, dedupe key ``xapi:<kind>:<id>`` (the unique key makes queueing twice harmless).
``dispatch`` claims those rows, builds their statements from the records as they are now,
and POSTs them in batches to ``<url>/statements``. A statement's id is a UUID5 of its record,
so sending one again (after a crash between the POST and the mark, or a retry of a request
whose answer was lost) makes the LRS answer 204 or 409 and store nothing twice.

When the LRS is down (connection refused, 5xx, 408, 429) nothing is lost: the batch goes back
to the outbox with exponential backoff (doubling, at most five minutes apart, forever), and the
forwarder pauses as long so a long outage costs one request per interval. Credentials the LRS
refuses (401, 403) or a wrong URL (404) are retried the same way — giving up would drop every
record until someone fixed the setting. A statement the LRS rejects (400, 413, 422) is found
by halving the batch and only that one fails, with the LRS's reason.

HTTP: the standard library's ``http.client`` on one keep-alive connection. The forwarder runs
on the scheduler's thread and sends a few requests a minute, so an async client would buy
nothing, and this needs no dependency.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from db import exports
from db.store import NewMessage, OutboxItem, Store
from learning.xapi import XAPI_VERSION, StatementBuilder, record_key
from scheduler.runner import wall_clock

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


# -- the LRS over HTTP ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LrsSettings:
    url: str  # the xAPI endpoint, e.g. https://lrs.example.com/xAPI (statements go to <url>/statements)
    key: str
    secret: str
    timeout: float = 30.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"the LRS URL must be an http(s) URL, not {self.url!r}")


@dataclass(frozen=True)
class LrsResponse:
    status: int
    body: bytes = b""
    retry_after: float | None = None

    @property
    def reason(self) -> str:
        text = self.body.decode("utf-8", "replace").strip().replace("\n", " ")
        return f"LRS answered {self.status}: {text}"[:200]


class LrsUnavailable(Exception):
    """The request may not have reached the LRS (refused, reset, timed out)."""


class LrsClient(Protocol):
    def post_statements(self, statements: Sequence[dict]) -> LrsResponse: ...

    def close(self) -> None: ...


class HttpLrsClient:
    """POSTs statements over one keep-alive connection, opened again after any failure."""

    def __init__(self, settings: LrsSettings) -> None:
        self.settings = settings
        parts = urlsplit(settings.url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._path = parts.path.rstrip("/")
        token = base64.b64encode(f"{settings.key}:{settings.secret}".encode()).decode()
        self._headers = {
            "Authorization": f"Basic {token}",
            "X-Experience-API-Version": XAPI_VERSION,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self.settings.timeout)
        return self._conn

    def request(self, method: str, path: str, body: bytes | None = None) -> LrsResponse:
        """``path`` below the endpoint, e.g. ``/statements?limit=10``."""
        try:
            conn = self._connection()
            conn.request(method, self._path + path, body=body, headers=self._headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise LrsUnavailable(f"{exc.__class__.__name__}: {exc}") from exc
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        retry_after = response.getheader("Retry-After")
        return LrsResponse(response.status, data,
                           float(retry_after) if retry_after and retry_after.isdigit() else None)

    def post_statements(self, statements: Sequence[dict]) -> LrsResponse:
        body = json.dumps(list(statements), separators=(",", ":"), ensure_ascii=False).encode()
        return self.request("POST", "/statements", body)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


# -- the forwarder --------------------------------------------------------------------------------

XAPI_KIND = exports.XAPI_KIND
CHANNEL = "lrs"  # the outbox's channel column for these rows: where they go
STATEMENT_PROBLEMS = (400, 413, 422)  # this request's statements; halve the batch to find which
SEND_AGAIN = (401, 403, 404, 408, 429)  # the LRS or our settings, not the statements: retry later


@dataclass
class ForwardResult:
    queued: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    already_stored: int = 0  # 409: the LRS holds a statement with that id (an earlier send)
    paused: bool = False
    errors: list[str] = field(default_factory=list)


class LrsForwarder:
    def __init__(
        self,
        *,
        store: Store,
        builder: StatementBuilder,
        client: LrsClient,
        lease_clock: Clock = wall_clock,
        batch_size: int = 100,
        retry_base: float = 2.0,
        max_backoff: float = 300.0,
        since: datetime | None = None,
        settle: timedelta = timedelta(minutes=15),
        lease: timedelta = timedelta(seconds=120),
        worker_id: str | None = None,
    ) -> None:
        """``since``: forward records from then on (None: every record, found by one full scan
        when the process starts). ``settle``: how far back each later scan looks again, so a
        record whose transaction committed late is still found."""
        self.store = store
        self.builder = builder
        self.client = client
        self.lease_clock = lease_clock
        self.batch_size = batch_size
        self.retry_base = retry_base
        self.max_backoff = max_backoff
        self.settle = settle
        self.lease = lease
        self.worker_id = worker_id or f"lrs-{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._since = since
        self._paused_until: datetime | None = None
        self._outage = 0  # failed requests in a row

    # -- queueing ----------------------------------------------------------------------------------

    def _message(self, kind: str, record_id: int, learner_id: int, key: str | None = None) -> NewMessage:
        return NewMessage(kind=XAPI_KIND, dedupe_key=f"{XAPI_KIND}:{key or f'{kind}:{record_id}'}", channel=CHANNEL,
                          learner_id=learner_id, payload={"type": kind, "id": record_id})

    def queue_new(self, now: datetime) -> int:
        """Queue an outbox row for every record not queued yet; returns how many were queued."""
        engine = self.store.engine
        since = self._since
        queued = 0
        batch: list[NewMessage] = []

        def flush() -> None:
            nonlocal queued, batch
            if batch:
                queued += len(self.store.queue_messages(batch, now))
                batch = []

        for candidate in exports.unqueued(engine, since):
            batch.append(self._message(candidate.kind, candidate.id, candidate.learner_id))
            if len(batch) >= 1000:
                flush()
        flush()

        comments = [(record, learner_id) for record, learner_id in exports.comments_since(engine, since)]
        keys = {f"{XAPI_KIND}:{record_key('comment', r)}": (r, lid) for r, lid in comments}
        existing = exports.queued_keys(engine, list(keys))
        for dedupe_key, (record, learner_id) in keys.items():
            if dedupe_key not in existing:
                batch.append(self._message("comment", record.id, learner_id, record_key("comment", record)))
        flush()

        for progress, learner_id in exports.enrollments_answered_since(engine, since):
            for kind in ("completion", "failure"):
                if self.builder.build(kind, progress) is not None:
                    batch.append(self._message(kind, progress.id, learner_id))
            if len(batch) >= 1000:
                flush()
        flush()

        self._since = now - self.settle if since is None else max(since, now - self.settle)
        return queued

    # -- sending -----------------------------------------------------------------------------------

    def tick(self, now: datetime) -> ForwardResult:
        queued = self.queue_new(now)
        result = self.dispatch(now)
        result.queued = queued
        return result

    def dispatch(self, now: datetime) -> ForwardResult:
        """Send every xAPI row due at ``now``; stops early (and pauses) while the LRS is unavailable."""
        result = ForwardResult()
        if self._paused_until is not None and now < self._paused_until:
            result.paused = True
            return result
        self.store.heartbeat(self.worker_id, host=socket.gethostname(), pid=os.getpid(), now=self.lease_clock())
        released = exports.release_stale(self.store.engine, alive_since=self.lease_clock() - self.lease,
                                         exclude=self.worker_id)
        if released:
            log.info("took back %d xAPI messages from a forwarder that stopped", released)
        while True:
            items = self.store.claim_outbox(now, worker=self.worker_id, limit=self.batch_size,
                                            claimed_at=self.lease_clock(), kinds=[XAPI_KIND])
            if not items:
                break
            if not self._forward(items, now, result):
                result.paused = True
                break
        return result

    def _forward(self, items: Sequence[OutboxItem], now: datetime, result: ForwardResult) -> bool:
        wanted = []
        for item in items:
            payload = item.payload or {}
            if isinstance(payload.get("type"), str) and isinstance(payload.get("id"), int):
                wanted.append((payload["type"], payload["id"]))
        records = exports.records(self.store.engine, wanted)
        groups: dict[str, tuple[dict, list[OutboxItem]]] = {}
        for item in items:
            payload = item.payload or {}
            record = records.get((payload.get("type"), payload.get("id")))
            if record is None:
                self.store.mark_cancelled(item, reason="the record no longer exists")
                result.cancelled += 1
                continue
            try:
                statement = self.builder.build(payload["type"], record)
            except Exception as exc:  # one bad record never holds up the others
                log.exception("outbox %s: cannot build its statement", item.id)
                self.store.mark_failed(item, reason=f"cannot build the statement: {exc}", now=now)
                result.failed += 1
                continue
            if statement is None:
                self.store.mark_cancelled(item, reason="no statement: the pack is not loaded or not finished")
                result.cancelled += 1
                continue
            # Two rows can make one statement (an edited comment queued twice): send it once.
            groups.setdefault(statement["id"], (statement, []))[1].append(item)
        return self._post(list(groups.values()), now, result) if groups else True

    def _post(self, groups: list[tuple[dict, list[OutboxItem]]], now: datetime, result: ForwardResult) -> bool:
        """Send one request; False if the LRS is unavailable (everything in it goes back for later)."""
        try:
            response = self.client.post_statements([statement for statement, _ in groups])
        except LrsUnavailable as exc:
            return self._unavailable(groups, now, str(exc), None, result)
        status = response.status
        if status in (200, 204):
            self._outage = 0
            self._sent(groups, now)
            result.sent += sum(len(items) for _, items in groups)
            return True
        if status in SEND_AGAIN or status >= 500:
            if status in (401, 403, 404):
                log.error("the LRS refused our requests (%s): check XAPI_LRS_URL, XAPI_LRS_KEY and XAPI_LRS_SECRET",
                          response.reason)
            return self._unavailable(groups, now, response.reason, response.retry_after, result)
        self._outage = 0
        if len(groups) > 1:
            # One statement spoils an atomic batch: halve it until the culprit stands alone.
            middle = len(groups) // 2
            return self._post(groups[:middle], now, result) and self._post(groups[middle:], now, result)
        statement, items = groups[0]
        if status == 409:
            # The LRS already holds a statement with this id: sent before, perhaps built from an
            # older version of the record (a renamed learner, an edited pack). Nothing to resend.
            log.info("statement %s is already in the LRS (409)", statement["id"])
            self._sent(groups, now)
            result.already_stored += len(items)
            return True
        log.warning("the LRS rejected statement %s: %s", statement["id"], response.reason)
        for item in items:
            self.store.mark_failed(item, reason=response.reason, now=now)
        result.failed += len(items)
        result.errors.append(response.reason)
        return True

    def _sent(self, groups: list[tuple[dict, list[OutboxItem]]], now: datetime) -> None:
        self.store.mark_sent_many(
            [(item, CHANNEL, uuid.UUID(statement["id"]).hex) for statement, items in groups for item in items], now=now
        )

    def backoff(self, attempts: int) -> float:
        """Seconds before attempt ``attempts + 1``: doubling from ``retry_base``, jittered, at most ``max_backoff``."""
        return min(self.retry_base * 2 ** min(attempts, 30) * (0.5 + random.random()), self.max_backoff)

    def _unavailable(self, groups, now: datetime, reason: str, retry_after: float | None,
                     result: ForwardResult) -> bool:
        self._outage += 1
        pause = retry_after if retry_after is not None else self.backoff(self._outage - 1)
        self._paused_until = now + timedelta(seconds=pause)
        if self._outage == 1 or self._outage % 20 == 0:
            log.warning("LRS unavailable (%s); trying again in %.0f s", reason, pause)
        for _, items in groups:
            for item in items:
                delay = retry_after if retry_after is not None else self.backoff(item.attempts)
                self.store.mark_retry(item, error=reason, not_before=now + timedelta(seconds=delay))
                result.retried += 1
        result.errors.append(reason)
        return False
