"""Mentoring pairs, Donut-style: who meets whom this round, without Slack or SQL.

Each round pairs the people in, preferring (in this order) people never paired before, then those
paired longest ago, then pairs whose working hours overlap most (9:00-17:00 in each one's zone, worked
out with ``zoneinfo`` on the round's date, so daylight saving is counted). An odd count makes one group
of three. The same people, history and seed always give the same pairs.

The cost of a pair is a plain number, lower is better, so a later rule can add its own term through
``extra`` — ``mentor_mix`` (a mentor with someone who is not) is one, ready for the ``mentor`` role.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from learning.schedule import UnknownTimeZone, zone

WORK_START = time(9, 0)
WORK_END = time(17, 0)
# A repeat always costs more than any difference in time zones: never paired beats longest ago beats recent.
REPEAT = 10_000.0
ZONE_WEIGHT = 10.0  # per hour of working day not shared (0 to 80)
MAX_PASSES = 20  # improvement passes over the pairs (each one only ever lowers the total cost)

PairCost = Callable[["Candidate", "Candidate"], float]


@dataclass(frozen=True)
class Candidate:
    key: int  # a learner id
    zone: str  # an IANA zone name
    mentor: bool = False


def overlap_hours(a: str, b: str, on: date) -> float:
    """Hours of ``on``'s working day (9-17 local) that two zones share, with the neighbouring days counted
    for zones far apart.

    >>> overlap_hours("Europe/Berlin", "Europe/Paris", date(2026, 12, 7))
    8.0
    >>> overlap_hours("Europe/London", "America/New_York", date(2026, 12, 7))
    3.0
    >>> overlap_hours("Europe/London", "America/New_York", date(2026, 3, 16))  # the US has moved its clocks
    4.0
    >>> overlap_hours("Asia/Tokyo", "America/New_York", date(2026, 12, 7))
    0.0
    """
    return _overlap(a, b, on)


@lru_cache(maxsize=4096)
def _overlap(a: str, b: str, on: date) -> float:
    def day(name: str, d: date) -> tuple[datetime, datetime]:
        try:
            tz = zone(name)
        except UnknownTimeZone:
            tz = zone("UTC")
        return (datetime.combine(d, WORK_START, tzinfo=tz).astimezone(UTC),
                datetime.combine(d, WORK_END, tzinfo=tz).astimezone(UTC))

    start, end = day(a, on)
    best = 0.0
    for shift in (-1, 0, 1):
        other_start, other_end = day(b, on + timedelta(days=shift))
        shared = (min(end, other_end) - max(start, other_start)).total_seconds() / 3600
        best = max(best, shared)
    return best


def pair_key(a: int, b: int) -> frozenset[int]:
    return frozenset((a, b))


def repeat_cost(last_paired: date | None, on: date) -> float:
    """0 for two people never paired; otherwise more the more recently they were (at least REPEAT).

    >>> repeat_cost(None, date(2026, 12, 7))
    0.0
    >>> repeat_cost(date(2026, 11, 30), date(2026, 12, 7)) > repeat_cost(date(2026, 1, 5), date(2026, 12, 7))
    True
    """
    if last_paired is None:
        return 0.0
    days = max((on - last_paired).days, 0)
    return REPEAT + max(REPEAT - days, 0.0)


def mentor_mix(mentors: Collection[int], *, weight: float = 100.0) -> PairCost:
    """An ``extra`` cost that prefers a mentor with someone who is not: two mentors together, or two
    people neither of whom mentors, cost ``weight`` more (less than a repeat, more than time zones).

    >>> mix = mentor_mix({1})
    >>> mix(Candidate(1, "UTC"), Candidate(2, "UTC")), mix(Candidate(2, "UTC"), Candidate(3, "UTC"))
    (0.0, 100.0)
    """
    chosen = frozenset(mentors)

    def cost(a: Candidate, b: Candidate) -> float:
        return 0.0 if (a.key in chosen) != (b.key in chosen) else weight

    return cost


def pair_cost(a: Candidate, b: Candidate, history: Mapping[frozenset[int], date], on: date,
              extra: PairCost | None = None) -> float:
    cost = repeat_cost(history.get(pair_key(a.key, b.key)), on)
    cost += ZONE_WEIGHT * (WORK_END.hour - WORK_START.hour - overlap_hours(a.zone, b.zone, on))
    if extra is not None:
        cost += extra(a, b)
    return cost


def match(
    people: Sequence[Candidate],
    history: Mapping[frozenset[int], date],
    *,
    on: date,
    seed: int,
    extra: PairCost | None = None,
) -> list[tuple[int, ...]]:
    """This round's groups (learner ids, each group sorted): pairs, and one group of three when the count
    is odd. ``history`` gives, for each two people who were ever in a group together, the date of the
    last time. Fewer than two people: no groups.

    >>> people = [Candidate(1, "UTC"), Candidate(2, "UTC"), Candidate(3, "UTC"), Candidate(4, "UTC")]
    >>> groups = match(people, {pair_key(1, 2): date(2026, 11, 30), pair_key(3, 4): date(2026, 11, 30)},
    ...               on=date(2026, 12, 7), seed=1)
    >>> (1, 2) in groups or (3, 4) in groups, len(groups)
    (False, 2)
    >>> [len(g) for g in match(people[:3], {}, on=date(2026, 12, 7), seed=1)]
    [3]
    """
    unique = list({p.key: p for p in people}.values())
    if len(unique) < 2:
        return []
    order = sorted(unique, key=lambda p: p.key)
    random.Random(seed).shuffle(order)  # ties are broken by this order: fair, and the same for a seed
    memo: dict[tuple[int, int], float] = {}

    def cost(a: Candidate, b: Candidate) -> float:
        k = (a.key, b.key) if a.key < b.key else (b.key, a.key)
        if k not in memo:
            memo[k] = pair_cost(a, b, history, on, extra)
        return memo[k]

    odd = order.pop() if len(order) % 2 else None  # rejoins the group it costs least to join, below
    pairs: list[list[Candidate]] = []
    left = list(order)
    while left:
        first = left.pop(0)
        best = min(range(len(left)), key=lambda i: (cost(first, left[i]), i))
        pairs.append([first, left.pop(best)])
    _improve(pairs, cost)
    groups = [list(p) for p in pairs]
    if odd is not None:
        where = min(range(len(groups)),
                    key=lambda i: (cost(odd, groups[i][0]) + cost(odd, groups[i][1]), i))
        groups[where].append(odd)
    return sorted(tuple(sorted(p.key for p in g)) for g in groups)


def _improve(pairs: list[list[Candidate]], cost: Callable[[Candidate, Candidate], float]) -> None:
    """Swap partners between two pairs while that lowers their cost (a 2-opt pass, in a fixed order)."""
    for _ in range(MAX_PASSES):
        better = False
        for i in range(len(pairs)):
            for j in range(i + 1, len(pairs)):
                (a, b), (c, d) = pairs[i], pairs[j]
                now = cost(a, b) + cost(c, d)
                crossed, swapped = cost(a, c) + cost(b, d), cost(a, d) + cost(b, c)
                if crossed < now - 1e-9 and crossed <= swapped:
                    pairs[i], pairs[j] = [a, c], [b, d]
                    better = True
                elif swapped < now - 1e-9:
                    pairs[i], pairs[j] = [a, d], [b, c]
                    better = True
        if not better:
            return


def history_from(groups: Sequence[tuple[date, Collection[int]]]) -> dict[frozenset[int], date]:
    """The last date each two people were grouped together, from past rounds' (date, members) groups.

    >>> history_from([(date(2026, 11, 2), (1, 2, 3)), (date(2026, 11, 16), (1, 2))])[pair_key(1, 2)]
    datetime.date(2026, 11, 16)
    """
    last: dict[frozenset[int], date] = {}
    for on, members in groups:
        people = sorted(set(members))
        for i, a in enumerate(people):
            for b in people[i + 1:]:
                k = pair_key(a, b)
                if k not in last or last[k] < on:
                    last[k] = on
    return last


def check_in_at(started_at: datetime, every_weeks: int) -> datetime:
    """When Sprout asks a round's groups "did you meet?": halfway through the round, so there is time to
    meet first and time left to meet after the nudge.

    >>> check_in_at(datetime(2026, 12, 7, 9, tzinfo=UTC), 2)
    datetime.datetime(2026, 12, 14, 9, 0, tzinfo=datetime.timezone.utc)
    """
    return started_at + timedelta(weeks=every_weeks) / 2


def round_due(starts_at: datetime, every_weeks: int, now: datetime) -> int:
    """The number of the round due at ``now`` (1 from ``starts_at``; 0 before it). A round missed entirely
    (Sprout down for a whole period) is not made up: only the current one is due.

    >>> start = datetime(2026, 12, 7, 9, tzinfo=UTC)
    >>> round_due(start, 2, start), round_due(start, 2, start + timedelta(days=13)), round_due(start, 2, start + timedelta(days=14))
    (1, 1, 2)
    """
    if now < starts_at:
        return 0
    return int((now - starts_at) // timedelta(weeks=every_weeks)) + 1


def pair_lesson(recent: Mapping[int, Sequence[tuple[str, str, datetime]]]) -> tuple[str, str] | None:
    """The lesson a group's first prompt is drawn from: the newest lesson every member has had, else the
    newest any of them has had; None when none has had a lesson (a general prompt then).
    ``recent``: per member, (pack id, lesson id, sent at), in any order.

    >>> t = lambda day: datetime(2026, 12, day, tzinfo=UTC)
    >>> pair_lesson({1: [("p", "a", t(1)), ("p", "b", t(3))], 2: [("p", "a", t(2))]})
    ('p', 'a')
    >>> pair_lesson({1: [("p", "b", t(3))], 2: [("q", "x", t(4))]})
    ('q', 'x')
    >>> pair_lesson({1: [], 2: []}) is None
    True
    """
    latest: dict[tuple[str, str], list[datetime]] = {}
    for lessons in recent.values():
        seen: dict[tuple[str, str], datetime] = {}
        for pack_id, lesson_id, sent_at in lessons:
            key = (pack_id, lesson_id)
            seen[key] = max(seen.get(key, sent_at), sent_at)
        for key, sent_at in seen.items():
            latest.setdefault(key, []).append(sent_at)
    if not latest:
        return None
    shared = {k: max(v) for k, v in latest.items() if len(v) == len(recent)}
    pool = shared or {k: max(v) for k, v in latest.items()}
    return max(pool, key=lambda k: (pool[k], k))


def round_starts(starts_at: datetime, every_weeks: int, number: int) -> datetime:
    return starts_at + (number - 1) * timedelta(weeks=every_weeks)


__all__ = [
    "Candidate", "PairCost", "check_in_at", "history_from", "match", "mentor_mix", "overlap_hours", "pair_cost",
    "pair_key", "pair_lesson", "repeat_cost", "round_due", "round_starts",
]
