"""Events API: the Home tab, channel joins, messages. Each event is handled at least once and has one effect
(``bot.listeners.errors.at_least_once``)."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient

from bot.listeners import Deps
from bot.listeners.actions import publish_home, refresh_home
from bot.listeners.errors import at_least_once

log = logging.getLogger(__name__)


def register(app: App, *, deps: Deps) -> None:
    once_per_event = at_least_once(store=deps.service.store, clock=deps.clock)

    @app.event("app_home_opened")
    @once_per_event
    def home_opened(event: dict, client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish_home(client, deps, event["user"])

    @app.event("member_joined_channel")
    @once_per_event
    def joined(event: dict, client: WebClient, once) -> None:
        """A pack can name channels whose new members get its first lesson (triggers: channel_join), and an
        enrollment rule can enroll a channel's new members (``deps.channel_joins``)."""
        channel_id, user_id = event.get("channel"), event.get("user")
        if not channel_id or not user_id:
            return
        now = deps.clock()
        # Each feature asks Slack what it needs first; what it records goes in the unit of work below.
        todo = [then for hook in deps.channel_joins if (then := hook(user_id, channel_id, now)) is not None]
        triggers = deps.service.has_channel_triggers()
        if not triggers and not todo:
            return
        name = ""
        if triggers:
            info = client.conversations_info(channel=channel_id)
            name = (info.get("channel") or {}).get("name") or ""
            deps.service.learner(user_id, now)  # a first contact asks Slack who this is: before the unit of work
        with once():  # the lessons queued, the enrollments and the event's id, together
            sent = deps.service.on_channel_join(user_id, channel_id, name, now) if triggers else []
            done = [then() for then in todo]
        if sent:
            refresh_home(client, deps, user_id)
        log.info("%s joined #%s: %s", user_id, name or channel_id,
                 ", ".join([*(f"first lesson of {p.id} sent" for p in sent),
                            *(f"{n} enrolled by rules" for n in done if n)]) or "nothing to do")

    @app.event("message")
    @once_per_event
    def message(event: dict, once) -> None:
        """DMs to the bot are not commands; a reply in a discussion prompt's thread is a contribution."""
        if not deps.message_handlers:
            return
        with once():
            for handle in deps.message_handlers:
                handle(event, deps.clock())
