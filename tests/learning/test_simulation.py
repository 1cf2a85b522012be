"""The learning-effect simulation: Sprout's own review code against fixed rules, on simulated learners."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from learning.simulation import (
    START,
    FixedRule,
    SproutReview,
    cohort,
    compare,
    forecast,
    ladder_gap,
    lesson_days,
    qstream_gap,
    simulate,
)


@pytest.fixture(scope="module")
def small_fsrs_comparison():
    return compare("fsrs", learners=40, questions=20, days=60, seeds=(3,), retentions=(0.85, 0.9))


def test_sprout_beats_the_best_fixed_rule_which_beats_no_review(small_fsrs_comparison):
    """The ordering a change to review scheduling must not break, on the main ground truth (FSRS-6 with each
    learner's and question's own parameters): Sprout, at no more review questions a week than the best
    fixed rule, keeps more; the fixed rule keeps more than no review at all."""
    verdict = small_fsrs_comparison.verdict()
    day = 60
    recall = {name: small_fsrs_comparison.day(name, day)[0] for name in small_fsrs_comparison.names}
    assert verdict.sprout is not None, "a Sprout retention asks no more review questions than the fixed rule"
    assert recall[verdict.sprout] > recall[verdict.best_fixed] > recall["no review"]
    assert recall[verdict.sprout] - recall[verdict.best_fixed] > 0.01


def test_a_higher_retention_asks_more_and_keeps_more(small_fsrs_comparison):
    c = small_fsrs_comparison
    assert c.mean("Sprout 0.90", "per_week") > c.mean("Sprout 0.85", "per_week")
    assert c.day("Sprout 0.90", 60)[0] > c.day("Sprout 0.85", 60)[0]


def test_every_policy_meets_the_same_learners_with_the_same_first_answers():
    truth = cohort("fsrs", learners=5, questions=6, seed=2)
    again = cohort("fsrs", learners=5, questions=6, seed=2)
    assert np.array_equal(truth.uniforms, again.uniforms)
    none = simulate(truth, "a", lambda: FixedRule(lambda *_: None), days=20)
    also_none = simulate(truth, "b", lambda: FixedRule(lambda *_: None), days=20)
    assert none.reviews == also_none.reviews == 0
    assert np.array_equal(none.recall, also_none.recall)


def test_lessons_come_on_working_days_only():
    days = lesson_days(10)
    assert days == [0, 1, 2, 3, 4, 7, 8, 9, 10, 11]
    assert all((START + timedelta(days=d)).weekday() < 5 for d in days)


def test_qstream_retires_a_question_after_two_right_answers_in_a_row():
    assert qstream_gap(1, 0, False) == 12
    assert qstream_gap(1, 1, True) == 24
    assert qstream_gap(2, 2, True) is None
    assert qstream_gap(3, 1, True) == 24, "a right answer after a miss starts a new run"


def test_the_ladder_climbs_whatever_the_answers_then_retires():
    assert [ladder_gap(n, 0, False) for n in range(1, 7)] == [1, 3, 10, 30, 60, None]


def test_sprout_asks_at_most_a_review_dms_worth_a_day_most_overdue_first():
    policy = SproutReview(0.9, per_review=3)
    for q in range(6):
        policy.start(q, False, START + timedelta(hours=q))  # a miss: due the next day
    due = policy.due(START + timedelta(days=3))
    assert due == [0, 1, 2]


def test_the_retention_forecast_costs_more_reviews_and_keeps_more_at_a_higher_retention():
    low = forecast(0.8, learners=30, questions=20, days=60)
    high = forecast(0.9, learners=30, questions=20, days=60)
    assert high.per_week > low.per_week > 0
    assert 0 < low.recall < high.recall < 1
    assert forecast(0.8, learners=30, questions=20, days=60) is low, "the same settings are simulated once"
