"""Difficulty and discrimination against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from learning.itemstats import (
    ItemSums,
    difficulty,
    flags,
    item_stats,
    point_biserial,
    point_biserial_from_sums,
    rest_scores,
)

# learner → question → right at the first try
RESPONSES = {
    "A": {"q1": True, "q2": True, "q3": True},
    "B": {"q1": True, "q2": False, "q3": True},
    "C": {"q1": False, "q2": False, "q3": True},
    "D": {"q1": False, "q2": True, "q3": False},
}


def test_difficulty_is_the_share_right():
    assert difficulty(2, 4) == 0.5
    assert difficulty(3, 4) == 0.75
    assert difficulty(0, 0) is None


def test_point_biserial_matches_the_textbook_formula():
    # x = [1,1,0,0,1], rest = [.8,.6,.4,.2,.5]: M1 = .6333, M0 = .3, s = .2, p = .6
    # r = (M1 - M0) / s * sqrt(p q) = 1.6667 * .4899 = .8165 = 2 / sqrt(6)
    r = point_biserial([1, 1, 0, 0, 1], [0.8, 0.6, 0.4, 0.2, 0.5])
    assert r == pytest.approx(2 / math.sqrt(6))


def test_strong_learners_missing_a_question_is_negative():
    # Σx = 2, Σy = 2, Σy² = 1.5, Σxy = .3: r = (1.2 - 4) / sqrt(4 * 2) = -0.98995
    assert point_biserial([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == pytest.approx(-2.8 / math.sqrt(8))


def test_no_variation_means_no_correlation():
    assert point_biserial([1, 1, 1], [0.2, 0.5, 0.9]) is None  # everyone right
    assert point_biserial([1, 0, 1], [0.5, 0.5, 0.5]) is None  # everyone the same elsewhere
    assert point_biserial([1], [0.5]) is None


def test_rest_scores_leave_the_question_itself_out():
    xs, ys = rest_scores(RESPONSES, "q1")
    assert xs == [True, True, False, False]
    assert ys == [1.0, 0.5, 0.5, 0.5]


@pytest.mark.parametrize(
    ("question", "expected_p", "expected_r"),
    [
        ("q1", 0.5, 1 / math.sqrt(3)),  # (4·1.5 − 2·2.5) / √((8 − 4)(7 − 6.25))
        ("q2", 0.5, -1 / math.sqrt(11)),  # (4·1 − 2·2.5) / √((8 − 4)(9 − 6.25))
        ("q3", 0.75, 0.0),  # (4·1.5 − 3·2) = 0
    ],
)
def test_a_small_pack_worked_by_hand(question, expected_p, expected_r):
    xs, ys = rest_scores(RESPONSES, question)
    assert difficulty(sum(xs), len(xs)) == expected_p
    assert point_biserial(xs, ys) == pytest.approx(expected_r, abs=1e-12)
    sums = point_biserial_from_sums(n=len(xs), sum_x=sum(xs), sum_y=sum(ys), sum_y2=sum(y * y for y in ys),
                                    sum_xy=sum(x * y for x, y in zip(xs, ys, strict=True)))
    assert sums == pytest.approx(expected_r, abs=1e-12)


def test_flags_need_five_answers():
    assert flags(0.1, -0.3, answered=4) == ()
    assert flags(0.1, 0.2, answered=5) == ("too hard",)
    assert flags(0.96, 0.1, answered=50) == ("too easy",)
    assert flags(0.5, -0.01, answered=50) == ("negative discrimination",)
    assert flags(0.2, 0.0, answered=50) == ()  # exactly 20%: not "nearly everyone misses it"
    assert flags(0.95, None, answered=50) == ()


def test_item_stats_from_sql_sums():
    stats = item_stats(ItemSums("p", "l", "q2", "Which?", answered=4, right=2, paired=4, sum_x=2, sum_y=2.5,
                                sum_y2=2.25, sum_xy=1.0))
    assert stats.difficulty == 0.5
    assert stats.discrimination == pytest.approx(-1 / math.sqrt(11))
    assert stats.flags == ()
