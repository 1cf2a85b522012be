"""The simulated learners' memory: the published curves and updates the learning-effect benchmark relies on."""

from __future__ import annotations

import numpy as np
import pytest

from learning.memory import FSRSMemory, HalfLifeMemory, dhp_start, fsrs_recall


@pytest.mark.parametrize("decay", [0.1, 0.1542, 0.5, 0.8])
def test_fsrs_recall_is_ninety_percent_when_the_elapsed_time_equals_stability(decay):
    assert fsrs_recall(7.0, 7.0, decay) == pytest.approx(0.9)
    assert fsrs_recall(0.0, 7.0, decay) == pytest.approx(1.0)


def test_fsrs_recall_falls_with_time_and_more_slowly_for_a_stronger_memory():
    days = np.array([1.0, 10.0, 100.0])
    weak, strong = fsrs_recall(days, 5.0, 0.1542), fsrs_recall(days, 50.0, 0.1542)
    assert np.all(np.diff(weak) < 0)
    assert np.all(strong > weak)


def test_with_no_spread_every_fsrs_learner_starts_from_the_published_defaults():
    memory = FSRSMemory(np.random.default_rng(1), 3, 4, spread=0.0)
    assert memory.first_exposure(0, 0, True)[0] == pytest.approx(memory.w[2])  # Good: w2 days
    assert memory.first_exposure(2, 3, False)[0] == pytest.approx(memory.w[0])  # Again: w0 days


def test_a_right_answer_strengthens_an_fsrs_memory_more_when_it_was_nearly_forgotten():
    memory = FSRSMemory(np.random.default_rng(1), 1, 1, spread=0.0)
    state = memory.first_exposure(0, 0, True)
    soon = memory.after_review(0, 0, state, 1.0, True)
    late = memory.after_review(0, 0, state, 10.0, True)
    assert state[0] < soon[0] < late[0]
    lapse = memory.after_review(0, 0, late, 60.0, False)
    assert lapse[0] < late[0] and lapse[1] > late[1], "a lapse weakens the memory and makes the question harder"


def test_learners_and_questions_differ_in_the_fsrs_truth():
    memory = FSRSMemory(np.random.default_rng(1), 50, 40)
    starts = [memory.first_exposure(learner, 0, True)[0] for learner in range(50)]
    assert max(starts) / min(starts) > 3
    assert memory.decay.min() >= 0.1 and memory.decay.max() <= 0.8


def test_dhp_recall_halves_every_half_life():
    memory = HalfLifeMemory(np.random.default_rng(1), 1, 1)
    state = (4.0, 5.0)
    assert memory.recall(0, 0, state, 4.0) == pytest.approx(0.5)
    assert memory.recall(0, 0, state, 8.0) == pytest.approx(0.25)
    assert HalfLifeMemory.curve(np.array([4.0]), np.array([4.0]), np.array([1.0]))[0] == pytest.approx(0.5)


def test_dhp_updates_follow_the_ssp_mmc_fit():
    memory = HalfLifeMemory(np.random.default_rng(1), 1, 1)
    assert dhp_start(5) == pytest.approx(-1 / np.log2(0.675))
    h, d = memory.after_review(0, 0, (2.0, 5.0), 2.0, True)  # recalled at p = 0.5
    assert h == pytest.approx(2.0 * (1 + np.exp(3.81) * 5 ** -0.534 * 2 ** -0.127 * 0.5 ** 0.97))
    assert d == 5.0
    h, d = memory.after_review(0, 0, (10.0, 5.0), 10.0, False)
    assert h == pytest.approx(np.exp(-0.041) * 5 ** -0.041 * 10 ** 0.377 * 0.5 ** -0.227)
    assert d == 7.0, "a lapse makes the question harder by two"
