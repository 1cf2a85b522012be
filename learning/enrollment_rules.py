"""Enrollment rules: who a rule names, whom it matches, and whom it may still enroll. No Slack, no SQL.

A rule is "everyone in #new-hires gets onboarding-essentials": a kind (channel, group, department, team),
a target (the channel's or user group's id, or the roster value) and a pack. It applies to each person once:
someone it already applied to is never enrolled by it again, even after leaving the pack, and a leaver
(inactive) is never enrolled.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import yaml

from learning.errors import SproutError

KINDS = ("channel", "group", "department", "team")
ATTRIBUTE_KINDS = ("department", "team")  # matched against the roster, with no call to Slack
MAX_VALUE = 100

_CHANNEL_MENTION = re.compile(r"^<#([CG][A-Z0-9]{2,})(?:\|([^>]*))?>$")
_CHANNEL_NAME = re.compile(r"^#([a-z0-9][a-z0-9._\-]{0,79})$")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_GROUP_MENTION = re.compile(r"^<!subteam\^(S[A-Z0-9]{2,})(?:\|@?([^>]*))?>$")
_GROUP_HANDLE = re.compile(r"^@([a-z0-9][a-z0-9._\-]{0,79})$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
_QUOTES = "\"'“”‘’«»"


@dataclass(frozen=True)
class Who:
    """Whom a rule names, as typed and read: ``id`` is known for a mention or a bare id, ``name`` is a
    ``#channel`` or ``@handle`` still to be looked up in Slack, ``value`` a roster department or team."""

    kind: str
    id: str | None = None
    name: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class RuleSpec:
    who: Who
    pack_id: str


def normalize(value: str) -> str:
    """Roster values compare without case or repeated spaces: "sales", " Sales " and "SALES" are one.

    >>> normalize("  Customer   Success ")
    'customer success'
    """
    return " ".join(value.split()).casefold()


def attribute_matches(rule_value: str, learner_value: str | None) -> bool:
    """Whether a learner's roster department (or team) is the rule's.

    >>> attribute_matches("Sales", "sales "), attribute_matches("Sales", "Sales Ops"), attribute_matches("Sales", None)
    (True, False, False)
    """
    return learner_value is not None and normalize(learner_value) == normalize(rule_value)


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


def parse_who(kind: str, text: str) -> Who:
    """The target of a rule of ``kind`` as Slack sends it in a slash command (``<#C123|new-hires>``,
    ``<!subteam^S123|@security-champions>``), as typed unescaped (``#new-hires``, ``@security-champions``),
    as a bare id, or a roster value (``Sales``, ``"Customer Success"``).

    >>> parse_who("channel", "<#C0NEW|new-hires>")
    Who(kind='channel', id='C0NEW', name='new-hires', value=None)
    >>> parse_who("group", "<!subteam^S0SEC|@security-champions>")
    Who(kind='group', id='S0SEC', name='security-champions', value=None)
    >>> parse_who("department", '"Customer Success"').value
    'Customer Success'
    """
    kind = kind.strip().lower()
    text = text.strip()
    if kind == "channel":
        if m := _CHANNEL_MENTION.match(text):
            return Who("channel", id=m.group(1), name=m.group(2) or None)
        if m := _CHANNEL_NAME.match(text.lower()):
            return Who("channel", name=m.group(1))
        if _CHANNEL_ID.match(text):
            return Who("channel", id=text)
        raise SproutError("Name the channel like `#new-hires`.")
    if kind == "group":
        if m := _GROUP_MENTION.match(text):
            return Who("group", id=m.group(1), name=(m.group(2) or "").lstrip("@") or None)
        if m := _GROUP_HANDLE.match(text.lower()):
            return Who("group", name=m.group(1))
        if _GROUP_ID.match(text):
            return Who("group", id=text)
        raise SproutError("Name the user group like `@security-champions`.")
    if kind in ATTRIBUTE_KINDS:
        value = " ".join(_unquote(text).split())
        if not value:
            raise SproutError(f"Which {kind}? For example `/learn rules add {kind} Sales <pack-id>`.")
        if len(value) > MAX_VALUE or "<" in value or ">" in value:
            raise SproutError(f"A {kind} is a roster value of up to {MAX_VALUE} characters, like `Sales`.")
        return Who(kind, value=value)
    raise SproutError(f"A rule is for a `channel`, a `group`, a `department` or a `team`, not `{kind}`.")


def parse_add(args: str) -> RuleSpec:
    """``<kind> <who…> <pack-id>``: the pack is the last word, whom the rule names everything between.

    >>> parse_add("department Customer Success onboarding-essentials")
    RuleSpec(who=Who(kind='department', id=None, name=None, value='Customer Success'), pack_id='onboarding-essentials')
    """
    words = args.split()
    if len(words) < 3:
        raise SproutError("Say for whom and which pack, like `/learn rules add channel #new-hires "
                          "onboarding-essentials`.")
    kind, who, pack_id = words[0].lower(), " ".join(words[1:-1]), words[-1].lower()
    if kind in ("channel", "group") and len(words) != 3:
        raise SproutError(f"One {kind}, then the pack: `/learn rules add {kind} "
                          f"{'#new-hires' if kind == 'channel' else '@security-champions'} <pack-id>`.")
    return RuleSpec(parse_who(kind, who), pack_id)


@dataclass(frozen=True)
class Person:
    """Someone a rule matches, as Sprout knows them (``learner_id`` None: not yet a learner)."""

    slack_user_id: str
    learner_id: int | None = None
    name: str = ""
    active: bool = True
    is_bot: bool = False


@dataclass
class Selection:
    """What applying a rule now would do: ``enroll`` the people it has not applied to yet; the others
    are counted, not enrolled."""

    enroll: list[Person] = field(default_factory=list)
    applied: list[Person] = field(default_factory=list)  # the rule already applied to them
    left: list[Person] = field(default_factory=list)  # leavers: never enrolled


def select(matched: Iterable[Person], *, applied: Collection[int]) -> Selection:
    """Whom a rule enrolls now, among the people it matches (``applied``: learner ids it already applied
    to). Bots are not people; a leaver is never enrolled; each person once, in the order matched.

    >>> s = select([Person("U1", 1), Person("U2", 2), Person("U3", 3, active=False), Person("U1", 1),
    ...             Person("UB", is_bot=True), Person("U4")], applied={2})
    >>> [p.slack_user_id for p in s.enroll], [p.slack_user_id for p in s.applied], [p.slack_user_id for p in s.left]
    (['U1', 'U4'], ['U2'], ['U3'])
    """
    selection = Selection()
    seen: set[str] = set()
    for person in matched:
        if person.is_bot or person.slack_user_id in seen:
            continue
        seen.add(person.slack_user_id)
        if not person.active:
            selection.left.append(person)
        elif person.learner_id is not None and person.learner_id in applied:
            selection.applied.append(person)
        else:
            selection.enroll.append(person)
    return selection


# -- a file of rules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleLine:
    line: int
    spec: RuleSpec


@dataclass(frozen=True)
class RuleProblem:
    line: int
    message: str

    def format(self, file: str) -> str:
        return f"{file}:{self.line}: {self.message}"


@dataclass
class RulesFile:
    rules: list[RuleLine] = field(default_factory=list)
    problems: list[RuleProblem] = field(default_factory=list)


def parse_rules_file(text: str, *, known_packs: Collection[str]) -> RulesFile:
    """A YAML file of rules, every entry checked and every problem named with its line::

        rules:
          - channel: "#new-hires"
            pack: onboarding-essentials
          - group: "@security-champions"
            pack: security-basics
          - department: Sales
            pack: sales-basics

    >>> parse_rules_file("rules:\\n  - team: Ops\\n    pack: nope\\n", known_packs={"x"}).problems[0].message
    "unknown pack 'nope'"
    """
    result = RulesFile()
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        result.problems.append(RuleProblem((mark.line + 1) if mark else 1, f"not valid YAML: "
                                           f"{getattr(exc, 'problem', None) or exc}"))
        return result
    if root is None or not isinstance(root, yaml.MappingNode):
        result.problems.append(RuleProblem(1, "expected `rules:` and a list of rules"))
        return result
    entries = None
    for key, value in root.value:
        if key.value != "rules":
            result.problems.append(RuleProblem(key.start_mark.line + 1, f"unknown key {key.value!r} (expected rules)"))
        elif not isinstance(value, yaml.SequenceNode):
            result.problems.append(RuleProblem(value.start_mark.line + 1, "`rules` must be a list"))
        else:
            entries = value
    if entries is None:
        if not result.problems:
            result.problems.append(RuleProblem(1, "expected `rules:` and a list of rules"))
        return result
    seen: dict[tuple, int] = {}
    for entry in entries.value:
        line = entry.start_mark.line + 1
        if not isinstance(entry, yaml.MappingNode):
            result.problems.append(RuleProblem(line, "each rule is `<kind>: <who>` and `pack: <pack-id>`"))
            continue
        fields: dict[str, tuple[str, int]] = {}
        bad = False
        for key, value in entry.value:
            if not isinstance(value, yaml.ScalarNode) or key.value in fields:
                result.problems.append(RuleProblem(key.start_mark.line + 1, f"{key.value}: expected one value"))
                bad = True
                continue
            fields[key.value] = (str(value.value), key.start_mark.line + 1)
        if bad:
            continue
        unknown = [k for k in fields if k not in (*KINDS, "pack")]
        kinds = [k for k in fields if k in KINDS]
        if unknown:
            result.problems.append(RuleProblem(fields[unknown[0]][1], f"unknown key {unknown[0]!r} "
                                               f"(one of {', '.join(KINDS)}, and pack)"))
            continue
        if len(kinds) != 1:
            result.problems.append(RuleProblem(line, f"name exactly one of {', '.join(KINDS)}"))
            continue
        if "pack" not in fields:
            result.problems.append(RuleProblem(line, "missing `pack: <pack-id>`"))
            continue
        pack_id, pack_line = fields["pack"][0].strip().lower(), fields["pack"][1]
        if pack_id not in known_packs:
            result.problems.append(RuleProblem(pack_line, f"unknown pack {pack_id!r}"))
            continue
        kind = kinds[0]
        try:
            who = parse_who(kind, fields[kind][0])
        except SproutError as exc:
            result.problems.append(RuleProblem(fields[kind][1], exc.message.replace("`", "")))
            continue
        key = (kind, who.id or who.name or normalize(who.value or ""), pack_id)
        if key in seen:
            result.problems.append(RuleProblem(line, f"the same rule as on line {seen[key]}"))
            continue
        seen[key] = line
        result.rules.append(RuleLine(line, RuleSpec(who, pack_id)))
    return result
