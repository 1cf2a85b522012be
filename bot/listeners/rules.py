"""Enrollment rules' events: a user group's new members (``subteam_members_changed``). A channel's new
members come through ``member_joined_channel`` (``bot.listeners.events``, ``Deps.channel_joins``)."""

from __future__ import annotations

import logging

from slack_bolt import App

from bot.enrollment_rules import EnrollmentRules
from bot.listeners import Deps
from bot.listeners.errors import at_least_once

log = logging.getLogger(__name__)


def register(app: App, *, deps: Deps, rules: EnrollmentRules) -> None:
    once_per_event = at_least_once(store=deps.service.store, clock=deps.clock)

    @app.event("subteam_members_changed")
    @once_per_event
    def group_changed(event: dict, once) -> None:
        group_id = event.get("subteam_id")
        added = [u for u in event.get("added_users") or [] if isinstance(u, str)]
        if not group_id:
            return
        then = rules.when_group_changed(group_id, added, deps.clock())  # who they are: asked before the unit
        if then is None:
            return
        with once():  # the enrollments and the event's id, together
            enrolled = then()
        log.info("user group %s gained %d: %d enrolled by rules", group_id, len(added), enrolled)
