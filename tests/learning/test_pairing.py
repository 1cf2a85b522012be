"""The pairing rules, from plain values: repeats avoided, time zones respected, one group of three, the
same pairs for the same seed, and the mentor rule ready for the ``mentor`` role."""

from __future__ import annotations

import doctest
import itertools
from datetime import UTC, date, datetime, timedelta

from learning import pairing
from learning.pairing import Candidate, history_from, match, mentor_mix, pair_key

ON = date(2026, 12, 7)


def people(n, zone="Europe/Berlin"):
    return [Candidate(i, zone) for i in range(1, n + 1)]


def test_the_doctests_hold():
    assert doctest.testmod(pairing).failed == 0


def test_everyone_is_in_exactly_one_group_and_an_odd_count_makes_one_group_of_three():
    for n in range(2, 12):
        groups = match(people(n), {}, on=ON, seed=7)
        assert sorted(itertools.chain(*groups)) == list(range(1, n + 1))
        sizes = sorted(len(g) for g in groups)
        assert sizes == [2] * (n // 2) if n % 2 == 0 else sizes == [2] * (n // 2 - 1) + [3]
    assert match(people(1), {}, on=ON, seed=7) == []
    assert match([], {}, on=ON, seed=7) == []


def test_the_same_seed_gives_the_same_pairs_and_another_seed_may_not():
    crowd = people(20)
    assert match(crowd, {}, on=ON, seed=3) == match(list(reversed(crowd)), {}, on=ON, seed=3)
    assert len({tuple(match(crowd, {}, on=ON, seed=s)) for s in range(10)}) > 1


def test_people_never_paired_come_first_then_those_paired_longest_ago():
    crowd = people(4)
    # 1 met 2 and 3; only 4 is new to 1. Then 2-3 is the only pair left for the others: 2 and 3 met
    # long ago, which is better than meeting again someone just met.
    history = {pair_key(1, 2): date(2026, 11, 30), pair_key(1, 3): date(2026, 11, 30),
               pair_key(2, 3): date(2026, 1, 5)}
    for seed in range(20):
        assert match(crowd, history, on=ON, seed=seed) == [(1, 4), (2, 3)]
    # Everyone has met everyone: the longest ago wins.
    everyone = {pair_key(a, b): date(2026, 11, 30) for a, b in itertools.combinations(range(1, 5), 2)}
    everyone[pair_key(1, 3)] = everyone[pair_key(2, 4)] = date(2026, 6, 1)
    assert match(crowd, everyone, on=ON, seed=1) == [(1, 3), (2, 4)]


def test_rounds_repeat_no_pair_while_there_are_new_people_to_meet():
    crowd = people(10)
    past: list = []
    for week in range(4):
        on = date(2026, 12, 7) + timedelta(weeks=week)
        history = history_from(past)
        groups = match(crowd, history, on=on, seed=week)
        for g in groups:
            for a, b in itertools.combinations(g, 2):
                assert pair_key(a, b) not in history, f"round {week + 1} repeated {a}-{b}"
        past += [(on, g) for g in groups]


def test_pairs_share_working_hours_when_they_can():
    asia = [Candidate(1, "Asia/Tokyo"), Candidate(2, "Asia/Seoul"), Candidate(3, "Australia/Brisbane"),
            Candidate(4, "Asia/Tokyo")]
    americas = [Candidate(5, "America/New_York"), Candidate(6, "America/Chicago"),
                Candidate(7, "America/Toronto"), Candidate(8, "America/New_York")]
    for seed in range(10):
        for group in match(asia + americas, {}, on=ON, seed=seed):
            assert set(group) <= {1, 2, 3, 4} or set(group) <= {5, 6, 7, 8}, group


def test_zone_arithmetic_follows_daylight_saving():
    # London and New York share 3 hours in winter, 4 in the weeks the US has moved its clocks and the UK not.
    assert pairing.overlap_hours("Europe/London", "America/New_York", date(2026, 12, 7)) == 3.0
    assert pairing.overlap_hours("Europe/London", "America/New_York", date(2026, 3, 16)) == 4.0
    assert pairing.overlap_hours("Europe/London", "America/New_York", date(2026, 6, 1)) == 3.0
    # An unknown zone counts as UTC rather than breaking the round.
    assert pairing.overlap_hours("Nowhere/Atlantis", "UTC", ON) == 8.0


def test_a_repeat_costs_more_than_any_time_zone_difference():
    crowd = [Candidate(1, "Asia/Tokyo"), Candidate(2, "Asia/Tokyo"), Candidate(3, "America/New_York"),
             Candidate(4, "America/New_York")]
    history = {pair_key(1, 2): date(2026, 11, 30), pair_key(3, 4): date(2026, 11, 30)}
    groups = match(crowd, history, on=ON, seed=1)
    assert (1, 2) not in groups and (3, 4) not in groups


def test_the_mentor_rule_pairs_each_mentor_with_someone_who_is_not():
    crowd = people(8)
    mentors = {1, 2, 3, 4}
    for seed in range(10):
        groups = match(crowd, {}, on=ON, seed=seed, extra=mentor_mix(mentors))
        assert all(len(set(g) & mentors) == 1 for g in groups), groups
    # Without the rule, some seed pairs two mentors.
    assert any(any(set(g) <= mentors for g in match(crowd, {}, on=ON, seed=s)) for s in range(10))


def test_history_counts_every_two_people_of_a_group_of_three():
    history = history_from([(date(2026, 11, 2), (1, 2, 3))])
    assert set(history) == {pair_key(1, 2), pair_key(1, 3), pair_key(2, 3)}


def test_the_check_in_comes_halfway_and_rounds_follow_the_start():
    start = datetime(2026, 12, 7, 9, tzinfo=UTC)
    assert pairing.check_in_at(start, 1) == datetime(2026, 12, 10, 21, tzinfo=UTC)
    assert pairing.round_due(start, 1, datetime(2026, 12, 6, tzinfo=UTC)) == 0
    assert pairing.round_due(start, 1, datetime(2026, 12, 21, 9, tzinfo=UTC)) == 3
    assert pairing.round_starts(start, 2, 3) == datetime(2027, 1, 4, 9, tzinfo=UTC)


def test_mentors_are_paired_with_people_who_are_not_mentors():
    from datetime import date as _date

    from learning.pairing import Candidate as _C
    from learning.pairing import match as _match
    from learning.pairing import mentor_mix as _mix

    people = [_C(1, "UTC", mentor=True), _C(2, "UTC", mentor=True), _C(3, "UTC"), _C(4, "UTC")]
    for seed in range(5):
        groups = _match(people, {}, on=_date(2026, 12, 7), seed=seed, extra=_mix({1, 2}))
        assert all(len(set(g) & {1, 2}) == 1 for g in groups), groups
