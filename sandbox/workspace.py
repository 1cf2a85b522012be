"""A local workspace: the emulator, a Sprout built against it, its HTTP endpoint, and a driver.

Used by the demo, the end-to-end tests and the benchmarks. Sprout itself is built by
the caller's ``build`` (app.build), so this package never imports the bot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.driver import SlackDriver
from sandbox.emulator import SlackEmulator


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    tz: str = "UTC"
    email: str | None = None


class LocalWorkspace:
    def __init__(
        self,
        *,
        build: Callable[..., Any],
        settings: Any,
        clock: Callable[[], datetime],
        people: Iterable[Person] = (),
        build_options: dict[str, Any] | None = None,
    ) -> None:
        self._build = build
        self._settings = settings
        self.clock = clock
        self.people = list(people)
        self._build_options = build_options or {}
        self.emulator: SlackEmulator | None = None
        self.sprout: Any = None
        self.server: Any = None
        self.driver: SlackDriver | None = None

    def start(self) -> LocalWorkspace:
        self.emulator = SlackEmulator(clock=lambda: self.clock().timestamp())
        self.emulator.start()
        for person in self.people:
            self.add_person(person)
        try:
            self.sprout = self._build(self._settings, clock=self.clock, emulator=self.emulator, **self._build_options)
            self.server = self.sprout.serve_http(host="127.0.0.1", port=0)
        except BaseException:
            self.stop()
            raise
        self.driver = SlackDriver(
            emulator=self.emulator,
            request_url=f"{self.server.url}/slack/events",
            signing_secret=self.sprout.signing_secret,
        )
        return self

    def add_person(self, person: Person) -> None:
        assert self.emulator is not None
        self.emulator.add_user(person.user_id, name=person.name, real_name=person.name, tz=person.tz,
                               email=person.email)

    def stop(self) -> None:
        if self.sprout is not None:
            self.sprout.close()
            self.sprout = None
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None

    def __enter__(self) -> LocalWorkspace:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
