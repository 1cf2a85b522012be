"""Socket Mode: Sprout behind a firewall, hearing Slack over a WebSocket it opens itself.

Bolt's SocketModeHandler on slack-sdk's client for the ``websocket-client`` library: it opens the
connection with ``apps.connections.open`` and the app-level token, acknowledges each envelope once the
listener has acked (Sprout's listeners keep their record first), and reconnects on Slack's ``disconnect``
messages and after a dropped connection.

Why not slack-sdk's built-in client (no extra dependency): against the emulator it lost envelopes sent on a
new connection right after a ``disconnect`` (never read, never acknowledged) and took about 27 seconds to
notice a dropped connection; the websocket-client one lost none and reconnected within a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_bolt import App
from slack_bolt.adapter.socket_mode.websocket_client import SocketModeHandler

# A reconnect takes a moment (Slack asks every few hours); only a longer outage makes /healthz say 503.
GRACE_SECONDS = 10.0


def socket_mode_handler(bolt: App, app_token: str) -> SocketModeHandler:
    return SocketModeHandler(bolt, app_token)


class SocketState:
    """What /healthz says of the WebSocket: None while connected (or back within ``GRACE_SECONDS``)."""

    def __init__(self, socket_client, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.socket_client = socket_client
        self.monotonic = monotonic
        self._down_since: float | None = None
        self._lock = threading.Lock()

    def problem(self) -> str | None:
        connected = self.socket_client.is_connected()
        with self._lock:
            if connected:
                self._down_since = None
                return None
            now = self.monotonic()
            if self._down_since is None:
                self._down_since = now
            down = now - self._down_since
        if down < GRACE_SECONDS:
            return None
        return f"not connected to Slack for {down:.0f} s (reconnecting)"
