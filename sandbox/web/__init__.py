"""The sandbox page: Slack as each sandbox person sees it, with a simulated clock, served by the app.

``python app.py`` without a ``SLACK_BOT_TOKEN`` mounts :func:`sandbox_app` at ``/sandbox`` next to
Sprout's ``/slack/events``: the real bot and database, the built-in emulator, and this page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sandbox.seed import CHANNELS, SandboxChannel
from sandbox.web.wsgi import SandboxWeb


def sandbox_app(
    *,
    emulator: Any,
    driver: Any,
    clock: Any,
    tick: Callable[[datetime], Any],
    next_due: Callable[[datetime], datetime | None],
    people: Iterable[Any],
    channels: Iterable[SandboxChannel] = CHANNELS,
    prefix: str = "/sandbox",
) -> SandboxWeb:
    """The WSGI application serving ``{prefix}`` (the page), ``{prefix}/static/…`` and ``{prefix}/api/…``.

    ``people`` are :class:`sandbox.seed.SandboxPerson` (or anything with ``user_id``, ``name``, ``tz``
    and optionally ``role`` and ``team``), each already a user in ``emulator``. ``clock`` is a
    :class:`sandbox.clock.SimulatedClock`; ``tick(now)`` and ``next_due(now)`` are Sprout's.
    ``channels`` (the seed's, unless told otherwise) are created in ``emulator`` if it lacks them: the
    page's channel menus offer them, and announcements and cohorts reach their members.
    """
    return SandboxWeb(
        emulator=emulator,
        driver=driver,
        clock=clock,
        tick=tick,
        next_due=next_due,
        people=people,
        channels=channels,
        prefix=prefix,
    )


__all__ = ["SandboxWeb", "sandbox_app"]
