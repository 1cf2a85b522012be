"""The sandbox workspace: who is in it, in which time zone, with what role, enrolled in what.

Data only. ``app.py`` adds these people to the emulator and imports :func:`roster_csv` on the
sandbox's first start, so the sandbox opens on a small team that already has lessons coming.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

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


def people() -> list[SandboxPerson]:
    return list(PEOPLE)


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
