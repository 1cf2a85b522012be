"""Fixtures: a started emulator with a few people, a WebClient pointed at it, a settable clock."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient

from sandbox.emulator import SlackEmulator

TOKEN = "xoxb-sandbox"


class SettableClock:
    """A clock for the emulator (ts, trigger expiry) that only moves when told to."""

    def __init__(self, start: float = 1_796_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def emulator(clock):
    emu = SlackEmulator(bot_token=TOKEN, clock=clock)
    emu.add_user("U0ANA", name="ana", real_name="Ana Souza", email="ana@example.com", tz="Europe/Berlin")
    emu.add_user("U0BEN", name="ben", real_name="Ben Okafor", email="ben@example.com", tz="America/New_York")
    emu.add_user("U0GONE", name="gone", real_name="Gone Person", email="gone@example.com", deleted=True)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def client(emulator) -> WebClient:
    return WebClient(base_url=emulator.api_url, token=TOKEN, timeout=10)
