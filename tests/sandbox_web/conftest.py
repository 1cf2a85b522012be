"""The sandbox as ``python app.py`` will serve it: Sprout, the emulator, the seeded roster, and the page
on the same port as ``/slack/events``."""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

import app
from bot.http import HttpServer, wsgi_app
from learning.roster import parse_roster
from sandbox.clock import SimulatedClock
from sandbox.driver import SlackDriver
from sandbox.seed import PEOPLE, roster_csv
from sandbox.web import sandbox_app
from sandbox.workspace import LocalWorkspace

SUNDAY = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # the week starts on Monday 30 November 2026
BY_NAME = {p.name.split()[0]: p for p in PEOPLE}


@dataclass
class Sandbox:
    workspace: LocalWorkspace
    clock: SimulatedClock
    driver: SlackDriver
    url: str  # the page: http://127.0.0.1:<port>/sandbox

    @property
    def sprout(self) -> Any:
        return self.workspace.sprout

    @property
    def emulator(self) -> Any:
        return self.workspace.emulator

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}/api/{path}", timeout=10) as response:
            return json.loads(response.read())

    def post(self, path: str, body: dict, *, headers: dict | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"{self.url}/api/{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture
def sandbox(tmp_path):
    clock = SimulatedClock(SUNDAY)
    settings = dataclasses.replace(app.Settings(), database_url=f"sqlite:///{tmp_path / 'sandbox.db'}")
    with LocalWorkspace(
        build=app.build,
        settings=settings,
        clock=clock,
        people=[p.person for p in PEOPLE],
        build_options={"listener_workers": 16},
    ) as workspace:
        sprout = workspace.sprout
        roster = parse_roster(roster_csv(), known_packs=sprout.catalog.ids())
        assert roster.problems == []
        sprout.store.import_roster(roster.rows, clock())

        # One port for Slack's requests and the page, as in production; the driver needs the port
        # before the page (which needs the driver) exists, hence the late binding.
        routes: dict[str, Any] = {}
        server = HttpServer(lambda environ, start: routes["app"](environ, start), port=0)
        driver = SlackDriver(
            emulator=workspace.emulator,
            request_url=f"{server.url}/slack/events",
            signing_secret=sprout.signing_secret,
        )
        page = sandbox_app(
            emulator=workspace.emulator,
            driver=driver,
            clock=clock,
            tick=sprout.tick,
            next_due=sprout.next_due,
            people=PEOPLE,
        )
        routes["app"] = wsgi_app(sprout.bolt, healthy=lambda: True, extra={"/sandbox": page})
        server.start()
        try:
            yield Sandbox(workspace=workspace, clock=clock, driver=driver, url=f"{server.url}/sandbox")
        finally:
            driver.close()
            server.stop()
