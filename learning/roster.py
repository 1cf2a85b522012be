"""Reading a roster CSV: every row checked, every problem named with its line, before anything is written."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from learning.errors import SproutError
from learning.schedule import is_time_zone

COLUMNS = ("slack_user_id", "name", "email", "role", "manager_slack_user_id", "manager_email", "team", "department",
           "timezone", "packs", "coach", "coach_email")
ROLES = ("learner", "manager", "facilitator", "admin", "coach", "mentor")  # as db.models.ROLES
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class RosterRow:
    line: int
    slack_user_id: str | None  # None until ``resolve_emails`` finds the person named by ``email``
    name: str
    email: str | None
    role: str
    manager_slack_user_id: str | None
    team: str | None
    timezone: str | None
    packs: tuple[str, ...]
    manager_email: str | None = None  # the manager named by email instead (resolved like ``email``)
    department: str | None = None  # enrollment rules can match it ("everyone in Sales gets …")
    coach_slack_user_id: str | None = None
    coach_email: str | None = None  # the coach named by email instead (resolved like ``email``)
    # Whether the file has a coach column: then a blank cell means "no coach"; without one, coaches
    # assigned before (by command or an earlier roster) are left as they are.
    coach_given: bool = False


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
    missing = [] if "slack_user_id" in names or "email" in names else ["slack_user_id (or email)"]
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
        email = values.get("email") or None
        if email and not EMAIL.match(email):
            problem("email", f"{email!r} is not an email address")
        if not user_id and not email:
            problem("slack_user_id", "neither a Slack user id nor an email names this person")
        elif user_id and not SLACK_USER_ID.match(user_id):
            problem("slack_user_id", f"{user_id!r} is not a Slack user id (like U024BE7LH)")
        else:
            key = user_id or (email or "").lower()
            if key in seen:
                problem("slack_user_id" if user_id else "email", f"{key} already appears on line {seen[key]}")
            else:
                seen[key] = line
        role = (values.get("role") or "learner").lower()
        if role not in ROLES:
            problem("role", f"{role!r} is not a role (one of {', '.join(ROLES)})")
        manager = values.get("manager_slack_user_id") or None
        if manager and not SLACK_USER_ID.match(manager):
            problem("manager_slack_user_id", f"{manager!r} is not a Slack user id")
        manager_email = values.get("manager_email") or None
        if manager_email and not EMAIL.match(manager_email):
            problem("manager_email", f"{manager_email!r} is not an email address")
        elif manager_email and manager:
            problem("manager_email", "give the manager's Slack user id or their email, not both")
        for column in ("team", "department"):
            if len(values.get(column) or "") > 100:
                problem(column, f"longer than 100 characters ({len(values[column])})")
        coach = values.get("coach") or None
        coach_email = values.get("coach_email") or None
        if coach and not SLACK_USER_ID.match(coach):
            problem("coach", f"{coach!r} is not a Slack user id")
        elif coach and coach == user_id:
            problem("coach", "a person cannot be their own coach")
        if coach_email and not EMAIL.match(coach_email):
            problem("coach_email", f"{coach_email!r} is not an email address")
        elif coach_email and coach:
            problem("coach_email", "give the coach's Slack user id or their email, not both")
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
                    slack_user_id=user_id or None,
                    name=values.get("name", ""),
                    email=email,
                    role=role,
                    manager_slack_user_id=manager,
                    team=values.get("team") or None,
                    timezone=timezone,
                    packs=packs,
                    manager_email=manager_email,
                    department=values.get("department") or None,
                    coach_slack_user_id=coach,
                    coach_email=coach_email,
                    coach_given="coach" in names or "coach_email" in names,
                )
            )
    return roster


def emails_to_look_up(rows: Iterable[RosterRow]) -> list[str]:
    """The emails naming people, managers or coaches by email, lower-cased, each once, in file order."""
    emails = (e for row in rows
              for e in ((row.email if not row.slack_user_id else None), row.manager_email, row.coach_email) if e)
    return list(dict.fromkeys(e.lower() for e in emails))


@dataclass
class Resolved:
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[RosterProblem] = field(default_factory=list)  # unknown emails (nothing may be written)
    skipped: list[RosterProblem] = field(default_factory=list)  # with ``skip_unknown``: what was left out


def resolve_emails(rows: Sequence[RosterRow], found: Mapping[str, str | None], *, skip_unknown: bool) -> Resolved:
    """Put Slack user ids in place of emails (``found``: lower-cased email -> user id, None when Slack has
    no such account). An unknown person is a problem, or with ``skip_unknown`` a row left out; an unknown
    manager is a problem, or a row imported without its manager; an unknown coach is a problem, or a row
    imported with its coach left as it was. Two rows that turn out to name the same
    person are a problem either way: which one should win is not ours to guess.

    >>> row = RosterRow(2, None, "Ana", "ana@x.io", "learner", None, None, None, (), "bo@x.io")
    >>> [r.slack_user_id for r in resolve_emails([row], {"ana@x.io": "U1", "bo@x.io": "U2"}, skip_unknown=False).rows]
    ['U1']
    >>> resolve_emails([row], {"ana@x.io": None, "bo@x.io": "U2"}, skip_unknown=False).problems[0].message
    'no Slack account has the email ana@x.io (users_not_found)'
    """
    result = Resolved()
    seen: dict[str, int] = {}
    for row in rows:
        user_id, manager = row.slack_user_id, row.manager_slack_user_id
        if not user_id and row.email:
            user_id = found.get(row.email.lower())
            if user_id is None:
                unknown = RosterProblem(row.line, "email",
                                        f"no Slack account has the email {row.email} (users_not_found)")
                (result.skipped if skip_unknown else result.problems).append(unknown)
                continue
        if row.manager_email:
            manager = found.get(row.manager_email.lower())
            if manager is None:
                message = f"no Slack account has the manager's email {row.manager_email} (users_not_found)"
                if not skip_unknown:
                    result.problems.append(RosterProblem(row.line, "manager_email", message))
                    continue
                result.skipped.append(RosterProblem(row.line, "manager_email", message + "; imported without a manager"))
        coach, coach_given = row.coach_slack_user_id, row.coach_given
        if row.coach_email:
            coach = found.get(row.coach_email.lower())
            if coach is None:
                message = f"no Slack account has the coach's email {row.coach_email} (users_not_found)"
                if not skip_unknown:
                    result.problems.append(RosterProblem(row.line, "coach_email", message))
                    continue
                result.skipped.append(RosterProblem(row.line, "coach_email", message + "; their coach is unchanged"))
                coach_given = False
        assert user_id is not None
        if coach is not None and coach == user_id:
            result.problems.append(RosterProblem(row.line, "coach_email" if row.coach_email else "coach",
                                                 "a person cannot be their own coach"))
            continue
        if user_id in seen:
            result.problems.append(RosterProblem(row.line, "email" if not row.slack_user_id else "slack_user_id",
                                                 f"{user_id} is also on line {seen[user_id]}"))
            continue
        seen[user_id] = row.line
        result.rows.append(replace(row, slack_user_id=user_id, manager_slack_user_id=manager,
                                   coach_slack_user_id=coach, coach_given=coach_given))
    return result


class Directory(Protocol):
    """Who has an email in the workspace (``bot.directory.SlackDirectory``: users.lookupByEmail)."""

    def user_id_for_email(self, email: str) -> str | None: ...


def look_up_emails(
    emails: Sequence[str], *, known: Mapping[str, str], directory: Directory | None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, str | None]:
    """Lower-cased email -> Slack user id (None: no such account). Emails Sprout already holds (``known``,
    from the learners table) cost no call, so only a roster's first import pays for its look-ups."""
    found: dict[str, str | None] = {e: known[e] for e in emails if e in known}
    for email in emails:
        if email in found:
            continue
        if directory is None:
            raise SproutError("this roster names people by email: SLACK_BOT_TOKEN is needed to look them up "
                              "in Slack (users.lookupByEmail, scope users:read.email)")
        found[email] = directory.user_id_for_email(email)
        if progress is not None:
            progress(1)
    return found


def coach_problems(rows: Sequence[RosterRow], stored_roles: Mapping[str, str]) -> list[RosterProblem]:
    """Rows whose coach is not a coach. A coach sees their coachees' progress, so the person a ``coach``
    cell names must hold the coach role: given on their own row of this file, or (when the file has no row
    for them) already stored in Sprout (``stored_roles``: Slack user id -> role). A file that makes someone
    a coach and assigns them learners in one go is fine; naming someone Sprout does not know is a problem,
    since their role is nobody's to guess.

    >>> rows = [RosterRow(2, "U1", "Ana", None, "learner", None, None, None, (), coach_slack_user_id="U9"),
    ...         RosterRow(3, "U9", "Cy", None, "coach", None, None, None, ())]
    >>> coach_problems(rows, {})
    []
    >>> coach_problems(rows[:1], {"U9": "manager"})[0].message
    'U9 is a manager in Sprout, not a coach (give them a row with role coach, or /learn role @person coach)'
    """
    in_file = {row.slack_user_id: row.role for row in rows if row.slack_user_id}
    problems = []
    for row in rows:
        coach = row.coach_slack_user_id
        if coach is None:
            continue
        column = "coach_email" if row.coach_email else "coach"
        role = in_file.get(coach, stored_roles.get(coach))
        where = "in this file" if coach in in_file else "in Sprout"
        if role is None:
            problems.append(RosterProblem(row.line, column, f"{coach} is not in Sprout yet: give them a row with "
                                                            "role coach"))
        elif role != "coach":
            problems.append(RosterProblem(row.line, column, f"{coach} is a {role} {where}, not a coach (give them a "
                                                            "row with role coach, or /learn role @person coach)"))
    return problems
