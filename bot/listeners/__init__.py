"""Bolt listeners, grouped by Slack surface. Each module has ``register(app, *, deps)``."""

from __future__ import annotations

import threading
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


class HomeRefresher:
    """Publishes a person's Home tab one at a time, the latest records last.

    Answers and commands each republish the Home tab, and several can land at once from one
    person's clicks. A change arriving while that person's Home is being published only marks it
    stale; the publisher then draws it once more. So a burst of clicks costs at most one extra
    publish, and an older drawing never lands after a newer one (within this process).
    """

    def __init__(self, *, lock: Any = None) -> None:
        self._lock = lock if lock is not None else threading.Lock()
        self._stale: dict[str, bool] = {}  # people whose Home is being published → changed since

    def publish(self, user_id: str, draw_and_publish: Callable[[], None]) -> None:
        with self._lock:
            if user_id in self._stale:
                self._stale[user_id] = True
                return
            self._stale[user_id] = False
        while True:
            try:
                draw_and_publish()
            except BaseException:
                with self._lock:
                    self._stale.pop(user_id, None)
                raise
            # "Nothing changed meanwhile" and "no longer publishing" under one lock: a change arriving
            # between the two would otherwise be marked stale for a publisher that has already left.
            with self._lock:
                if not self._stale[user_id]:
                    del self._stale[user_id]
                    return
                self._stale[user_id] = False


@dataclass(frozen=True)
class Deps:
    service: LearningService
    clock: Callable[[], datetime]
    # Features beyond the learner's own add /learn subcommands and listeners here (wired in app.py).
    subcommands: dict[str, Subcommand] = field(default_factory=dict)
    listeners: tuple[Callable[..., None], ...] = ()
    # Extra Home-tab sections for someone, e.g. a facilitator's announcements: (user id, now) -> blocks.
    home_sections: tuple[Callable[[str, datetime], list], ...] = ()
    home: HomeRefresher = field(default_factory=HomeRefresher)
    # Where messages are drawn after a click's ack (``bot.listeners.actions.later``): a few threads of
    # their own, so drawing never competes on equal terms with clicks still waiting for their ack. None
    # draws in the listener's thread.
    drawing: Any = None
    # What a ``message`` event means to a feature, e.g. a reply in a discussion prompt's thread:
    # (event, now) -> anything; each runs in the unit of work that records the event as handled.
    message_handlers: tuple[Callable[[dict, datetime], Any], ...] = ()
    # What a member joining a channel means to a feature, e.g. an enrollment rule: (user id, channel id, now)
    # -> None (nothing to do), or what to do inside the unit of work that records the event. The Slack calls
    # it needs (who the person is) happen before it returns.
    channel_joins: tuple[Callable[[str, str, datetime], Callable[[], Any] | None], ...] = ()


def register_all(app: App, *, deps: Deps) -> None:
    from bot.listeners import actions, commands, events, members, views

    for module in (commands, actions, views, events, members):
        module.register(app, deps=deps)
    for register in deps.listeners:
        register(app, deps=deps)
