"""Slack's Socket Mode, emulated: the WebSocket that ``apps.connections.open`` hands out.

Slack sends events, slash commands and interactive payloads down the socket as envelopes
(``{"envelope_id", "type", "payload", "accepts_response_payload", "retry_attempt", "retry_reason"}``)
after a ``hello``; the app acknowledges each with its ``envelope_id`` (and, for a command or a view
submission, a response payload) within 3 seconds. An events_api envelope left unacknowledged is sent
again (``retry_attempt`` + 1, ``retry_reason: timeout``); Slack shows the person an error for a command
or a click instead, which the emulator records as a miss. Slack also asks an app to reconnect (a
``disconnect`` message: ``refresh_requested`` every few hours, ``link_disabled``, ``warning``), and a
network can drop the connection: tests do both on demand.

The server is aiohttp's (already a dependency of Sprout), on an event loop of its own thread; ping and
pong are aiohttp's too, so the client's keep-alive pings are answered as Slack answers them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

ACK_SECONDS = 3.0  # Slack's deadline for an acknowledgement
MAX_DELIVERIES = 4  # an unacknowledged events_api envelope: the first delivery and three retries


class NotAcknowledged(Exception):
    """No acknowledgement came for an envelope within Slack's 3 seconds."""


@dataclass
class _Connection:
    number: int
    ws: web.WebSocketResponse
    request: web.Request
    draining: bool = False  # told to reconnect: nothing more is sent on it


@dataclass
class _Waiter:
    done: threading.Event = field(default_factory=threading.Event)
    payload: Any = None


class SocketModeServer:
    def __init__(self, *, host: str = "127.0.0.1", app_id: str = "A0SPROUT") -> None:
        self.host = host
        self.app_id = app_id
        self._lock = threading.Lock()
        self._connections: list[_Connection] = []
        self._numbers = iter(range(1, 1_000_000))
        self._tickets: set[str] = set()
        self._waiters: dict[str, _Waiter] = {}
        self._changed = threading.Condition(self._lock)
        self.delivered: list[dict] = []  # every envelope sent, retries included
        self.misses: list[dict] = []  # envelopes not acknowledged within 3 seconds
        self.connections_opened = 0
        self._acks_to_lose = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="emulator-socket-mode", daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- life ------------------------------------------------------------------------------
    def start(self) -> SocketModeServer:
        self._thread.start()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, 0))
        self.port = listener.getsockname()[1]
        app = web.Application()
        app.router.add_get("/link/", self._serve)
        self._runner = web.AppRunner(app, handle_signals=False)
        asyncio.run_coroutine_threadsafe(self._runner.setup(), self._loop).result(10)
        asyncio.run_coroutine_threadsafe(web.SockSite(self._runner, listener).start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            self.drop()
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._runner = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def issue_url(self) -> str:
        """A one-time WebSocket URL, as apps.connections.open answers (Slack's are wss://wss-primary…)."""
        ticket = uuid.uuid4().hex
        with self._lock:
            self._tickets.add(ticket)
        return f"ws://{self.host}:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    # -- the socket ------------------------------------------------------------------------
    async def _serve(self, request: web.Request) -> web.WebSocketResponse:
        ticket = request.query.get("ticket", "")
        with self._lock:
            known = ticket in self._tickets
            self._tickets.discard(ticket)
        if not known:
            raise web.HTTPUnauthorized(text="invalid ticket")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        with self._lock:
            live = sum(not c.draining for c in self._connections) + 1
        # hello first: nothing is sent on a connection before it (as Slack does).
        await ws.send_str(json.dumps({
            "type": "hello", "num_connections": live,
            "debug_info": {"host": "applink-emulator", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }))
        with self._changed:
            connection = _Connection(number=next(self._numbers), ws=ws, request=request)
            self._connections.append(connection)
            self.connections_opened += 1
            self._changed.notify_all()
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(message.data)
                except ValueError:
                    continue
                envelope_id = data.get("envelope_id") if isinstance(data, dict) else None
                if envelope_id:
                    self._acknowledged(envelope_id, data.get("payload"))
        finally:
            with self._changed:
                if connection in self._connections:
                    self._connections.remove(connection)
                self._changed.notify_all()
        return ws

    def _acknowledged(self, envelope_id: str, payload: Any) -> None:
        with self._lock:
            if self._acks_to_lose > 0:  # lost on the way: "Slack" never hears it
                self._acks_to_lose -= 1
                return
            waiter = self._waiters.get(envelope_id)
        if waiter is not None:
            waiter.payload = payload
            waiter.done.set()

    # -- what tests and the driver call ------------------------------------------------------
    def connected(self) -> int:
        """Connections open and not told to go."""
        with self._lock:
            return sum(not c.draining for c in self._connections)

    def wait_for_connection(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(not c.draining for c in self._connections):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def deliver(
        self, kind: str, payload: dict, *, accepts_response_payload: bool = False, connection_timeout: float = 30.0,
        first_attempt: int = 0,
    ) -> Any:
        """Send an envelope and wait for its acknowledgement; the response payload the app acked with.

        An events_api envelope is sent again when no acknowledgement comes in 3 seconds, as Slack does; a
        command or a click is not. Raises ``NotAcknowledged`` when none ever comes."""
        redeliver = kind == "events_api"
        attempt = first_attempt
        while True:
            envelope_id = str(uuid.uuid4())
            envelope = {"envelope_id": envelope_id, "payload": payload, "type": kind,
                        "accepts_response_payload": accepts_response_payload}
            if kind == "events_api":
                envelope.update(retry_attempt=attempt, retry_reason="timeout" if attempt else "")
            waiter = _Waiter()
            with self._lock:
                self._waiters[envelope_id] = waiter
            try:
                if not self.wait_for_connection(connection_timeout):
                    raise NotAcknowledged(f"no Socket Mode connection for {kind} envelope")
                self._send(envelope)
                if waiter.done.wait(ACK_SECONDS):
                    return waiter.payload
            finally:
                with self._lock:
                    self._waiters.pop(envelope_id, None)
            with self._lock:
                self.misses.append({"envelope_id": envelope_id, "type": kind, "attempt": attempt})
            attempt += 1
            if not redeliver or attempt - first_attempt >= MAX_DELIVERIES:
                raise NotAcknowledged(f"{kind} envelope {envelope_id} not acknowledged within {ACK_SECONDS:.0f} s")

    def _send(self, envelope: dict) -> None:
        with self._lock:
            live = [c for c in self._connections if not c.draining]
            if not live:
                raise NotAcknowledged("the connection went away")
            connection = live[-1]  # the newest, as Slack favours a fresh connection
            self.delivered.append({**envelope, "connection": connection.number})
        # A socket closing under us: the envelope goes unacknowledged, as on a real network.
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(connection.ws.send_str(json.dumps(envelope)), self._loop).result(10)

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's ``disconnect`` message on every connection (which then takes nothing more): the client
        is expected to open a new one. Slack closes the old one a little later; so does this."""
        with self._lock:
            connections = [c for c in self._connections if not c.draining]
            for connection in connections:
                connection.draining = True
        message = json.dumps({"type": "disconnect", "reason": reason,
                              "debug_info": {"host": "applink-emulator"}})
        for connection in connections:
            asyncio.run_coroutine_threadsafe(connection.ws.send_str(message), self._loop).result(10)

        async def close_later(connection: _Connection) -> None:
            await asyncio.sleep(10)
            await connection.ws.close()

        for connection in connections:
            asyncio.run_coroutine_threadsafe(close_later(connection), self._loop)

    def lose_acks(self, count: int = 1) -> None:
        """The next ``count`` acknowledgements are lost on the way: Slack never hears them, and sends an
        events_api envelope again."""
        with self._lock:
            self._acks_to_lose += count

    def drop(self) -> None:
        """Every connection cut at once, no goodbye (a network failure)."""
        with self._lock:
            connections = list(self._connections)
            for connection in connections:
                connection.draining = True

        def cut() -> None:
            for connection in connections:
                transport = connection.request.transport
                if transport is not None:
                    transport.abort()

        self._loop.call_soon_threadsafe(cut)
