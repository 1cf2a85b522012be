"""Events API: the Home tab."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.listeners import Deps
from bot.listeners.actions import publish_home
from bot.listeners.errors import friendly


def register(app: App, *, deps: Deps) -> None:
    @app.event("app_home_opened")
    @friendly
    def home_opened(event: dict, client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish_home(client, deps, event["user"])

    @app.event("message")
    @friendly
    def ignore_messages() -> None:
        """DMs to the bot are not commands; acknowledged so Slack does not retry them."""
