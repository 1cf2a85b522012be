"""The emulator's Socket Mode answers apps.connections.open as Slack does."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.emulator import SlackEmulator
from sandbox.socket_mode import NotAcknowledged


@pytest.fixture
def emulator():
    with SlackEmulator(bot_token="xoxb-s", app_token="xapp-1-A0SPROUT-1-s") as emulator:
        yield emulator


def error_of(call) -> str:
    with pytest.raises(SlackApiError) as failed:
        call()
    return failed.value.response["error"]


def test_connections_open_takes_the_app_token_only(emulator):
    client = WebClient(base_url=emulator.api_url)
    url = client.apps_connections_open(app_token="xapp-1-A0SPROUT-1-s")["url"]
    assert url.startswith("ws://127.0.0.1:") and "ticket=" in url
    assert error_of(lambda: client.apps_connections_open(app_token="xoxb-s")) == "not_allowed_token_type"
    assert error_of(lambda: client.apps_connections_open(app_token="xapp-1-other")) == "invalid_auth"
    # ... and an app-level token is no bot token.
    assert error_of(lambda: WebClient(token="xapp-1-A0SPROUT-1-s", base_url=emulator.api_url).auth_test()) == \
        "not_allowed_token_type"


def test_an_envelope_with_nobody_connected_is_not_acknowledged(emulator):
    WebClient(base_url=emulator.api_url).apps_connections_open(app_token="xapp-1-A0SPROUT-1-s")
    with pytest.raises(NotAcknowledged):
        emulator.socket.deliver("events_api", {"event": {}}, connection_timeout=0.2)
