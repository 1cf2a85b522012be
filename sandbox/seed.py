"""The sandbox workspace: who is in it, in which time zone, with what role, enrolled in what.

Data, and the one step that puts it in the emulator: ``app.py`` adds these people to the emulator and
imports :func:`roster_csv` on the sandbox's first start, so the sandbox opens on a small team that already
has lessons coming; :func:`add_channels` creates the channels (the sandbox page does, when it starts).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sandbox.workspace import Person

ROSTER_COLUMNS = (
    "slack_user_id",
    "name",
    "email",
    "role",
    "manager_slack_user_id",
    "team",
    "timezone",
    "packs",
)


@dataclass(frozen=True)
class SandboxPerson:
    """Someone in the sandbox workspace, as the roster describes them."""

    user_id: str
    name: str
    tz: str
    role: str = "learner"
    email: str | None = None
    team: str | None = None
    manager_id: str | None = None
    packs: tuple[str, ...] = ()

    @property
    def person(self) -> Person:
        """The emulator's view of them: a Slack user with a name, an email and a time zone."""
        return Person(self.user_id, self.name, self.tz, self.email)


MANAGER_ID = "U0SBMAYA"

PEOPLE: tuple[SandboxPerson, ...] = (
    SandboxPerson(
        "U0SBANA",
        "Ana Souza",
        "Europe/Berlin",
        "learner",
        "ana@example.com",
        "Platform",
        MANAGER_ID,
        ("security-basics",),
    ),
    SandboxPerson(
        "U0SBBILAL",
        "Bilal Khan",
        "Asia/Kolkata",
        "learner",
        "bilal@example.com",
        "Platform",
        MANAGER_ID,
        ("security-basics", "data-privacy-basics"),
    ),
    SandboxPerson(
        "U0SBCHEN",
        "Chen Wei",
        "America/New_York",
        "learner",
        "chen@example.com",
        "Support",
        MANAGER_ID,
        ("onboarding-essentials",),
    ),
    SandboxPerson(
        "U0SBDANA",
        "Dana Okafor",
        "Australia/Sydney",
        "learner",
        "dana@example.com",
        "Support",
        MANAGER_ID,
        ("feedback-essentials",),
    ),
    SandboxPerson(
        "U0SBLUCAS",
        "Lucas Pereira",
        "America/Sao_Paulo",
        "learner",
        "lucas@example.com",
        "Platform",
        MANAGER_ID,
        ("data-privacy-basics", "onboarding-essentials"),
    ),
    SandboxPerson(
        MANAGER_ID,
        "Maya Lindqvist",
        "Europe/London",
        "manager",
        "maya@example.com",
        "Platform",
        None,
        ("feedback-essentials",),
    ),
    SandboxPerson(
        "U0SBFELIX", "Felix Moreau", "Europe/Paris", "facilitator", "felix@example.com", "People", None, ()
    ),
)


@dataclass(frozen=True)
class SandboxChannel:
    """A channel in the sandbox workspace: facilitators announce to its members, cohorts add them."""

    name: str
    members: tuple[str, ...]
    is_private: bool = False


def _team(name: str) -> tuple[str, ...]:
    return tuple(p.user_id for p in PEOPLE if p.team == name)


CHANNELS: tuple[SandboxChannel, ...] = (
    SandboxChannel("general", tuple(p.user_id for p in PEOPLE)),
    SandboxChannel("platform", _team("Platform")),
    SandboxChannel("support", _team("Support")),
    SandboxChannel("security-champions", ("U0SBANA", "U0SBBILAL", "U0SBFELIX"), is_private=True),
)


def people() -> list[SandboxPerson]:
    return list(PEOPLE)


def add_channels(emulator: Any, channels: Iterable[SandboxChannel] = CHANNELS) -> dict[str, str]:
    """The channels in the emulator, Sprout a member of each (invited to the private one), as
    ``name → channel id``; a channel already there is left as it is."""
    ids = {}
    for channel in channels:
        channel_id = emulator.channel_id(channel.name)
        if channel_id is None:
            channel_id = emulator.add_channel(
                channel.name, members=channel.members, is_private=channel.is_private
            )
        ids[channel.name] = channel_id
    return ids


def roster_csv(entries: tuple[SandboxPerson, ...] | list[SandboxPerson] = PEOPLE) -> str:
    """The people as a roster file (the format of ``python app.py roster import``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ROSTER_COLUMNS)
    for p in entries:
        writer.writerow(
            [
                p.user_id,
                p.name,
                p.email or "",
                p.role,
                p.manager_id or "",
                p.team or "",
                p.tz,
                ";".join(p.packs),
            ]
        )
    return out.getvalue()
