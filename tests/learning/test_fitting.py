"""FSRS parameters fitted to a workspace's reviews: on simulated learners whose true memory differs from
FSRS-6's defaults, the fitted parameters predict held-out learners' reviews better than the defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from learning.fitting import (
    DEFAULT_PARAMETERS,
    MIN_LEARNERS,
    MIN_REVIEWS,
    CardHistory,
    NotEnoughReviews,
    check,
    fit,
    log_loss,
    split,
)
from learning.review import AGAIN, GOOD, first_answer, replay, review
from learning.simulation import recorded_answers

# Learners who forget faster than FSRS-6's defaults expect: first stabilities a quarter of the defaults',
# slower growth after a success, a steeper curve.
FAST_FORGETTERS = list(DEFAULT_PARAMETERS)
FAST_FORGETTERS[0] *= 0.25
FAST_FORGETTERS[2] *= 0.25
FAST_FORGETTERS[8] = 1.3
FAST_FORGETTERS[20] = 0.5


def histories(learners: list[list[tuple[int, datetime, int]]]) -> list[CardHistory]:
    out = []
    for learner, answers in enumerate(learners, start=1):
        by_question: dict[int, list[tuple[datetime, int]]] = {}
        for question, moment, rating in answers:
            by_question.setdefault(question, []).append((moment, rating))
        out += [CardHistory(len(out) + 1, learner, tuple(h)) for h in by_question.values()]
    return out


@pytest.mark.parametrize("model, truth", [("fsrs", FAST_FORGETTERS), ("dhp", None)], ids=["fsrs-6", "dhp"])
def test_fitted_parameters_predict_held_out_learners_better_than_the_defaults(model, truth):
    records = histories(recorded_answers(model, learners=60, questions=20, days=60, seed=2, truth=truth))

    result = fit(records)

    assert result.reviews >= MIN_REVIEWS and result.learners == 60
    assert result.held_out_reviews > 500
    assert result.better
    assert result.log_loss < result.default_log_loss - 0.03
    # Judged on learners the fit never saw: the same figure as scoring the fitted parameters on them.
    _train, test = split(records)
    assert log_loss(result.parameters, test) == pytest.approx(result.log_loss)


def test_the_fit_moves_towards_the_learners_true_first_stabilities():
    records = histories(recorded_answers("fsrs", learners=60, questions=20, days=60, seed=3, truth=FAST_FORGETTERS))

    fitted = fit(records).parameters

    # The first stability after a right answer (w2): the truth is a quarter of the default's.
    assert abs(fitted[2] - FAST_FORGETTERS[2]) < abs(DEFAULT_PARAMETERS[2] - FAST_FORGETTERS[2]) / 2


def test_the_held_out_learners_keep_all_their_cards_on_one_side():
    records = histories(recorded_answers("fsrs", learners=50, questions=5, days=20, seed=1))

    train, test = split(records)

    assert {h.learner_id for h in train}.isdisjoint({h.learner_id for h in test})
    assert len({h.learner_id for h in test}) == 10
    assert len(train) + len(test) == len(records)


def test_too_few_reviews_or_learners_are_not_fitted():
    start = datetime(2027, 1, 4, 9, 30, tzinfo=UTC)
    answers = tuple((start + timedelta(days=d), GOOD if d % 3 else AGAIN) for d in (0, 2, 6, 15, 30))
    many_reviews_few_learners = [CardHistory(i, i % (MIN_LEARNERS - 1), answers) for i in range(MIN_REVIEWS)]
    few_reviews = [CardHistory(i, i, answers) for i in range(MIN_LEARNERS)]

    for records in (many_reviews_few_learners, few_reviews):
        with pytest.raises(NotEnoughReviews, match="at least 1000 reviews from 50 learners"):
            fit(records)


def test_only_fsrs_6s_21_parameters_within_the_schedulers_bounds_are_taken():
    assert check(DEFAULT_PARAMETERS) == pytest.approx(DEFAULT_PARAMETERS)
    with pytest.raises(ValueError, match="21 parameters, not 19"):
        check(DEFAULT_PARAMETERS[:19])
    with pytest.raises(ValueError, match="out of bounds"):
        check([0.0] * 21)


def test_a_replayed_card_is_the_card_its_answers_made_and_fitted_parameters_change_its_due_date():
    start = datetime(2027, 1, 4, 9, 30, tzinfo=UTC)
    answers = [(start, GOOD), (start + timedelta(days=3), GOOD), (start + timedelta(days=12), AGAIN),
               (start + timedelta(days=13), GOOD)]
    state = first_answer(GOOD, start)
    for moment, rating in answers[1:]:
        state = review(state, rating, moment)

    assert replay(answers) == state
    fast = replay(answers, parameters=tuple(FAST_FORGETTERS))
    assert fast.due < state.due and fast.reviews == state.reviews and fast.lapses == state.lapses
