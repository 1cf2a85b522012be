"""The LRS forwarder: what it queues, and what it does with each answer an LRS can give.

The LRS here is a small scripted xAPI endpoint on loopback (real HTTP, real sockets) so every
status can be produced on cue; tests/e2e/test_lrs_ralph.py runs the same forwarder against a
real LRS.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from db.models import OutboxMessage
from learning.xapi import StatementBuilder, XapiSettings
from scheduler.lrs import HttpLrsClient, LrsForwarder, LrsSettings
from tests.fixtures_lrs.records import PACKS, SEEDED_KINDS, T0, seed
from tests.fixtures_lrs.validator import problems

SEEDED = sum(SEEDED_KINDS.values())
NOW = T0 + timedelta(days=4)


class ScriptedLrs:
    """Stores statements by id like an LRS (200 with the new ids, 204 when nothing is new); ``script``
    can answer otherwise for a request."""

    def __init__(self) -> None:
        self.stored: dict[str, dict] = {}
        self.requests: list[tuple[dict, list[dict]]] = []
        self.script: Callable[[list[dict]], tuple[int, dict | list | None] | None] = lambda statements: None
        lrs = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                lrs.requests.append((dict(self.headers), body))
                answer = lrs.script(body) or lrs.store(body)
                status, payload = answer
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/xAPI"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def store(self, statements: list[dict]) -> tuple[int, list | None]:
        new = [s["id"] for s in statements if s["id"] not in self.stored]
        for statement in statements:
            self.stored.setdefault(statement["id"], statement)
        return (200, new) if new else (204, None)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def lrs():
    server = ScriptedLrs()
    yield server
    server.close()


def forwarder(store, url: str, **options) -> LrsForwarder:
    builder = StatementBuilder(XapiSettings(homepage="https://acme.slack.com"), PACKS.get)
    client = HttpLrsClient(LrsSettings(url=url, key="sprout", secret="s3cret", timeout=5))
    return LrsForwarder(store=store, builder=builder, client=client, lease_clock=lambda: NOW, **options)


def outbox(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(OutboxMessage).where(OutboxMessage.kind == "xapi").order_by(OutboxMessage.id)).all()


def test_each_record_is_queued_once_with_a_dedupe_key_of_its_own(store, engine, lrs):
    seeded = seed(store)
    f = forwarder(store, lrs.url)
    assert f.queue_new(NOW) == SEEDED
    assert f.queue_new(NOW) == 0
    rows = outbox(engine)
    keys = {r.dedupe_key for r in rows}
    assert {f"xapi:answer:{i}" for i in range(1, 5)} <= keys
    assert f"xapi:completion:{seeded.enrollment}" in keys
    assert all(r.channel == "lrs" and r.status == "pending" and r.learner_id == seeded.dana for r in rows)
    assert json.loads(rows[0].payload).keys() == {"type", "id"}
    # A fresh process (nothing in memory) scans everything again and still queues nothing twice.
    assert forwarder(store, lrs.url).queue_new(NOW) == 0


def test_new_records_are_found_by_a_later_scan_even_if_stamped_a_little_in_the_past(store, engine, lrs):
    seeded = seed(store)
    f = forwarder(store, lrs.url)
    f.queue_new(NOW)
    # Bo answers at NOW - 5 minutes, but the transaction commits only now, after the scan at NOW.
    bo_delivery = store.delivery_id_for(store.enrollments(seeded.bo)[0].id, "spot-phishing")
    store.record_answer(delivery_id=bo_delivery, learner_id=seeded.bo, question_id="q1", prompt="What do you do?",
                        choice="Click it", correct=False, now=NOW - timedelta(minutes=5))
    assert f.queue_new(NOW + timedelta(minutes=1)) == 2  # the answer, and Bo's lesson is now experienced
    # An edited comment is a new statement; the same text again is not.
    store.record_comment(delivery_id=seeded.deliveries[0], learner_id=seeded.dana, comment="Actually: great.",
                         now=NOW + timedelta(minutes=2))
    assert f.queue_new(NOW + timedelta(minutes=3)) == 1
    assert f.queue_new(NOW + timedelta(minutes=4)) == 0


def test_a_pack_is_queued_when_its_last_question_is_answered_and_failed_below_the_mark(store, engine, lrs):
    seeded = seed(store)
    f = forwarder(store, lrs.url)
    f.queue_new(NOW)
    keys = {r.dedupe_key for r in outbox(engine)}
    assert f"xapi:completion:{seeded.enrollment}" in keys and f"xapi:failure:{seeded.enrollment}" not in keys
    bo = store.enrollments(seeded.bo)[0]
    first = store.delivery_id_for(bo.id, "spot-phishing")
    for question, choice in (("q1", "Click it"), ("q2", "Typos")):
        store.record_answer(delivery_id=first, learner_id=seeded.bo, question_id=question, prompt="?", choice=choice,
                            correct=False, now=NOW)
    f.queue_new(NOW + timedelta(minutes=1))
    assert f"xapi:completion:{bo.id}" not in {r.dedupe_key for r in outbox(engine)}  # half the pack


def test_statements_go_in_batches_with_the_version_header_and_basic_auth(store, engine, lrs):
    seed(store)
    f = forwarder(store, lrs.url, batch_size=5)
    result = f.tick(NOW)
    assert (result.queued, result.sent, result.retried, result.failed) == (SEEDED, SEEDED, 0, 0)
    assert [len(body) for _, body in lrs.requests] == [5, 5, SEEDED - 10]
    headers = lrs.requests[0][0]
    assert headers["X-Experience-API-Version"] == "1.0.3"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"sprout:s3cret").decode()
    assert headers["Content-Type"] == "application/json"
    for statement in lrs.stored.values():
        assert problems(statement, now=NOW) == []
    rows = outbox(engine)
    assert {r.status for r in rows} == {"sent"}
    assert {r.sent_ts for r in rows} == {s.replace("-", "") for s in lrs.stored}
    assert f.tick(NOW).sent == 0


def test_an_unavailable_lrs_gets_the_batch_back_with_backoff_and_a_pause(store, engine, lrs):
    seed(store)
    f = forwarder(store, lrs.url, batch_size=100)
    lrs.script = lambda statements: (503, {"detail": "maintenance"})
    result = f.tick(NOW)
    assert (result.sent, result.retried, result.paused) == (0, SEEDED, True)
    rows = outbox(engine)
    assert {r.status for r in rows} == {"pending"} and {r.attempts for r in rows} == {1}
    assert all(NOW < r.not_before <= NOW + timedelta(seconds=300) for r in rows)
    assert "503" in rows[0].last_error
    assert f.dispatch(NOW).paused and len(lrs.requests) == 1  # paused: no request while it is down
    lrs.script = lambda statements: None
    assert f.dispatch(NOW + timedelta(minutes=10)).sent == SEEDED
    assert len(lrs.stored) == SEEDED


def test_backoff_doubles_and_never_exceeds_five_minutes():
    f = forwarder(None, "http://127.0.0.1:9/xAPI")
    delays = [f.backoff(n) for n in range(40)]
    assert all(0 < d <= 300 for d in delays)
    assert delays[0] <= 3 and min(delays[12:]) >= 150  # grows to the cap and stays there, forever


def test_a_connection_refused_is_retried_and_nothing_is_lost(store, engine):
    seed(store)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens here
    f = forwarder(store, f"http://127.0.0.1:{port}/xAPI")
    result = f.tick(NOW)
    assert result.retried == SEEDED and result.sent == 0
    assert "ConnectionRefusedError" in outbox(engine)[0].last_error


def test_refused_credentials_are_retried_not_failed(store, engine, lrs):
    seed(store)
    lrs.script = lambda statements: (401, {"detail": "Invalid authentication credentials"})
    result = forwarder(store, lrs.url).tick(NOW)
    assert (result.failed, result.retried) == (0, SEEDED)


def test_a_conflict_in_a_batch_is_narrowed_down_and_counts_as_stored(store, engine, lrs):
    seed(store)
    f = forwarder(store, lrs.url, batch_size=100)
    f.queue_new(NOW)
    first = outbox(engine)[0]
    conflicting = f.builder.statement_id(first.dedupe_key.removeprefix("xapi:"))
    lrs.stored[conflicting] = {"id": conflicting, "differs": True}
    lrs.script = lambda statements: (409, {"detail": "Differing statements already exist with the same ID"}) if (
        conflicting in [s["id"] for s in statements]) else None
    result = f.dispatch(NOW)
    assert (result.sent, result.already_stored, result.failed) == (SEEDED - 1, 1, 0)
    assert {r.status for r in outbox(engine)} == {"sent"}


def test_a_statement_the_lrs_rejects_fails_alone_with_its_reason(store, engine, lrs):
    seed(store)
    f = forwarder(store, lrs.url, batch_size=100)
    f.queue_new(NOW)
    bad = f.builder.statement_id("answer:2")
    lrs.script = lambda statements: (400, {"detail": "invalid statement"}) if bad in [s["id"] for s in statements] else None
    result = f.dispatch(NOW)
    assert (result.sent, result.failed) == (SEEDED - 1, 1)
    failed = [r for r in outbox(engine) if r.status == "failed"]
    assert [r.dedupe_key for r in failed] == ["xapi:answer:2"]
    assert failed[0].last_error.startswith("LRS answered 400: ") and "invalid statement" in failed[0].last_error


def test_messages_a_stopped_forwarder_was_sending_are_sent_by_the_next(store, engine, lrs):
    seed(store)
    f = forwarder(store, lrs.url)
    f.queue_new(NOW)
    with engine.begin() as conn:
        conn.execute(update(OutboxMessage).where(OutboxMessage.kind == "xapi")
                     .values(status="sending", claimed_by="a-forwarder-that-died", claimed_at=NOW - timedelta(hours=1)))
    assert f.dispatch(NOW).sent == SEEDED


def test_a_record_deleted_before_sending_is_cancelled(store, engine, lrs):
    seed(store)
    f = forwarder(store, lrs.url)
    f.queue_new(NOW)
    with engine.begin() as conn:
        conn.execute(update(OutboxMessage).where(OutboxMessage.dedupe_key == "xapi:answer:1")
                     .values(payload=json.dumps({"type": "answer", "id": 999})))
    result = f.dispatch(NOW)
    assert (result.sent, result.cancelled) == (SEEDED - 1, 1)
