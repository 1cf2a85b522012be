"""A local workspace per test: the emulator, Sprout on a real HTTP port, a signed-request driver."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

import app
from sandbox.clock import SimulatedClock
from sandbox.workspace import LocalWorkspace, Person

BERLIN = Person("U0BERLIN", "Ana Berlin", "Europe/Berlin", "ana@example.com")
NEW_YORK = Person("U0NEWYORK", "Ben New York", "America/New_York", "ben@example.com")
SUNDAY = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # the week starts on Monday 30 November 2026


@pytest.fixture
def clock():
    return SimulatedClock(SUNDAY)


@pytest.fixture
def world(database_url, clock):
    settings = dataclasses.replace(app.Settings(), database_url=database_url)
    with LocalWorkspace(build=app.build, settings=settings, clock=clock, people=[BERLIN, NEW_YORK],
                        build_options={"listener_workers": 16}) as workspace:
        yield workspace
