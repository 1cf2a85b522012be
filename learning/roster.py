"""Reading a roster CSV: every row checked, every problem named with its line, before anything is written."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection
from dataclasses import dataclass, field

from learning.schedule import is_time_zone

COLUMNS = ("slack_user_id", "name", "email", "role", "manager_slack_user_id", "team", "timezone", "packs")
ROLES = ("learner", "manager", "facilitator", "admin")
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class RosterRow:
    line: int
    slack_user_id: str
    name: str
    email: str | None
    role: str
    manager_slack_user_id: str | None
    team: str | None
    timezone: str | None
    packs: tuple[str, ...]


@dataclass(frozen=True)
class RosterProblem:
    line: int
    column: str
    message: str

    def format(self, file: str) -> str:
        where = f"{self.column}: " if self.column else ""
        return f"{file}:{self.line}: {where}{self.message}"


@dataclass
class Roster:
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[RosterProblem] = field(default_factory=list)


def parse_roster(text: str, *, known_packs: Collection[str]) -> Roster:
    """Parse and check a roster. The header is line 1; a row's line is where it starts in the file."""
    roster = Roster()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        roster.problems.append(RosterProblem(1, "", "the file is empty; expected a header row"))
        return roster
    except csv.Error as exc:
        roster.problems.append(RosterProblem(1, "", f"not valid CSV: {exc}"))
        return roster
    names = [h.strip().lower() for h in header]
    missing = [c for c in ("slack_user_id",) if c not in names]
    unknown = [h for h in names if h not in COLUMNS]
    if missing or unknown:
        if missing:
            roster.problems.append(RosterProblem(1, "", f"missing column {', '.join(missing)}"))
        if unknown:
            roster.problems.append(
                RosterProblem(1, "", f"unknown column {', '.join(unknown)} (columns: {','.join(COLUMNS)})")
            )
        return roster

    seen: dict[str, int] = {}
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            roster.problems.append(RosterProblem(line, "", f"not valid CSV: {exc}"))
            break
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(names):
            roster.problems.append(RosterProblem(line, "", f"{len(cells)} cells but the header has {len(names)}"))
            continue
        values = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(names)}
        problems_before = len(roster.problems)

        def problem(column: str, message: str, line: int = line) -> None:
            roster.problems.append(RosterProblem(line, column, message))

        user_id = values.get("slack_user_id", "")
        if not SLACK_USER_ID.match(user_id):
            problem("slack_user_id", f"{user_id!r} is not a Slack user id (like U024BE7LH)")
        elif user_id in seen:
            problem("slack_user_id", f"{user_id} already appears on line {seen[user_id]}")
        else:
            seen[user_id] = line
        role = (values.get("role") or "learner").lower()
        if role not in ROLES:
            problem("role", f"{role!r} is not a role (one of {', '.join(ROLES)})")
        email = values.get("email") or None
        if email and not EMAIL.match(email):
            problem("email", f"{email!r} is not an email address")
        manager = values.get("manager_slack_user_id") or None
        if manager and not SLACK_USER_ID.match(manager):
            problem("manager_slack_user_id", f"{manager!r} is not a Slack user id")
        timezone = values.get("timezone") or None
        if timezone and not is_time_zone(timezone):
            problem("timezone", f"{timezone!r} is not a time zone (an IANA name like Europe/Berlin)")
        packs = tuple(p.strip() for p in (values.get("packs") or "").split(";") if p.strip())
        for pack_id in packs:
            if pack_id not in known_packs:
                problem("packs", f"unknown pack {pack_id!r}")
        if len(roster.problems) == problems_before:
            roster.rows.append(
                RosterRow(
                    line=line,
                    slack_user_id=user_id,
                    name=values.get("name", ""),
                    email=email,
                    role=role,
                    manager_slack_user_id=manager,
                    team=values.get("team") or None,
                    timezone=timezone,
                    packs=packs,
                )
            )
    return roster
