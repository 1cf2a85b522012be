"""Members joining and changing: ``team_join`` adds the new person, ``user_change`` updates them, and a
deactivated account stops receiving anything at once (its records stay). The daily ``roster sync``
catches whatever an event missed."""

from __future__ import annotations

import logging

from slack_bolt import App

from bot.admin import member
from bot.listeners import Deps
from bot.listeners.errors import at_least_once

log = logging.getLogger(__name__)


def register(app: App, *, deps: Deps) -> None:
    once_per_event = at_least_once(store=deps.service.store, clock=deps.clock)

    def apply(event: dict, once) -> None:
        user = event.get("user")
        if not isinstance(user, dict) or not user.get("id"):
            return
        person = member(user)
        if person.is_bot:
            return
        with once():
            outcome = deps.service.store.sync_member(person.slack_user_id, person.name, person.email,
                                                     person.timezone, not person.deleted, deps.clock())
        log.info("%s %s: %s", event.get("type"), person.slack_user_id, outcome)

    @app.event("team_join")
    @once_per_event
    def team_join(event: dict, once) -> None:
        apply(event, once)

    @app.event("user_change")
    @once_per_event
    def user_change(event: dict, once) -> None:
        apply(event, once)
