"""Bolt listeners, grouped by Slack surface. Each module has ``register(app, *, deps)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_bolt import App

from bot.service import LearningService


@dataclass(frozen=True)
class CommandContext:
    """What a /learn subcommand handler gets: who, the rest of the line, and how to answer."""

    user_id: str
    args: str
    respond: Any
    client: Any
    command: dict
    now: datetime

    def reply(self, text: str) -> None:
        from bot import blocks

        self.respond(text=text, blocks=blocks.text_blocks(text), response_type="ephemeral")


Subcommand = Callable[[CommandContext], None]


@dataclass(frozen=True)
class Deps:
    service: LearningService
    clock: Callable[[], datetime]
    # Features beyond the learner's own add /learn subcommands and listeners here (wired in app.py).
    subcommands: dict[str, Subcommand] = field(default_factory=dict)
    listeners: tuple[Callable[..., None], ...] = ()
    # Extra Home-tab sections for someone, e.g. a facilitator's announcements: (user id, now) -> blocks.
    home_sections: tuple[Callable[[str, datetime], list], ...] = ()


def register_all(app: App, *, deps: Deps) -> None:
    from bot.listeners import actions, commands, events, views

    for module in (commands, actions, views, events):
        module.register(app, deps=deps)
    for register in deps.listeners:
        register(app, deps=deps)
