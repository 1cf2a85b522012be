"""Bolt listeners, grouped by Slack surface. Each module has ``register(app, *, deps)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_bolt import App

from bot.service import LearningService


@dataclass(frozen=True)
class Deps:
    service: LearningService
    clock: Callable[[], datetime]


def register_all(app: App, *, deps: Deps) -> None:
    from bot.listeners import actions, commands, events, views

    for module in (commands, actions, views, events):
        module.register(app, deps=deps)
