"""Events API: the Home tab."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient

from bot.listeners import Deps
from bot.listeners.actions import publish_home, refresh_home
from bot.listeners.errors import friendly

log = logging.getLogger(__name__)


def register(app: App, *, deps: Deps) -> None:
    @app.event("app_home_opened")
    @friendly
    def home_opened(event: dict, client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish_home(client, deps, event["user"])

    @app.event("member_joined_channel")
    @friendly
    def joined(event: dict, client: WebClient) -> None:
        """A pack can name channels whose new members get its first lesson (triggers: channel_join)."""
        channel_id = event.get("channel")
        if not channel_id or not event.get("user") or not deps.service.has_channel_triggers():
            return
        info = client.conversations_info(channel=channel_id)
        name = (info.get("channel") or {}).get("name") or ""
        sent = deps.service.on_channel_join(event["user"], channel_id, name, deps.clock())
        if sent:
            refresh_home(client, deps, event["user"])
        log.info("%s joined #%s: %s", event["user"], name,
                 ", ".join(f"first lesson of {p.id} sent" for p in sent) or "nothing to send")

    @app.event("message")
    @friendly
    def ignore_messages() -> None:
        """DMs to the bot are not commands; acknowledged so Slack does not retry them."""
