"""FSRS review scheduling: properties, retirement, and the comparison with the classic 12/24-day rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from learning.review import AGAIN, GOOD, HARD, classic_interval, rating_for, review

START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def intervals(history: list[bool]) -> list[float]:
    """Days until the card is due again after each answer, answering exactly when due."""
    state, now, out = None, START, []
    for correct in history:
        state = review(state, rating_for(correct), now)
        out.append((state.due - now) / timedelta(days=1))
        now = state.due
    return out


def test_fsrs_against_the_classic_twelve_and_twenty_four_day_rule():
    """The table this test pins is the one in the README: FSRS starts much shorter than the
    spaced-education trials' 12 (wrong) / 24 (right) days, then overtakes them after two or three
    successes; a miss brings a card back the next day, not in twelve."""
    always_right = intervals([True, True, True, True])
    assert [round(d) for d in always_right] == [2, 11, 46, 163]
    assert always_right[0] < classic_interval(True).days < always_right[2]
    miss_first = intervals([False, True, True, True])
    assert [round(d) for d in miss_first] == [1, 2, 6, 17]
    assert miss_first[0] < classic_interval(False).days
    lapse = intervals([True, True, False, True])
    assert round(lapse[2]) < round(always_right[2]), "a lapse shortens the next interval"


def test_two_rights_in_a_row_at_three_weeks_or_more_retire_a_card():
    state, now = None, START
    for _ in range(6):
        state = review(state, GOOD, now)
        if state.retired:
            break
        now = state.due
    assert state.retired and state.long_right == 2
    assert state.reviews == 5  # 2, 11 days (too short to count), then 46 and 163


def test_a_miss_resets_the_retirement_count():
    state = review(None, GOOD, START)
    state = review(state, GOOD, START + timedelta(days=30))
    assert state.long_right == 1
    state = review(state, AGAIN, START + timedelta(days=60))
    assert state.long_right == 0 and state.lapses == 1 and not state.retired


def test_ratings_from_answers():
    assert rating_for(False) == AGAIN
    assert rating_for(True) == GOOD
    assert rating_for(True, answered_after=timedelta(hours=30)) == HARD
    assert rating_for(True, second_try=True) == HARD


answers = st.lists(st.tuples(st.booleans(), st.floats(min_value=0, max_value=90)), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(answers)
def test_a_card_is_never_due_before_its_last_review(history):
    state, now = None, START
    for correct, wait_days in history:
        state = review(state, rating_for(correct), now)
        assert state.due > now, "due strictly after the review"
        assert state.last_review == now
        now = max(now + timedelta(days=wait_days), now + timedelta(seconds=1))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=8), st.integers(min_value=1, max_value=6))
def test_intervals_never_shrink_after_a_right_answer_given_on_time(history, rights):
    """Answered when due, a right answer never gives a shorter interval than the one before it."""
    state, now = None, START
    for correct in history:
        state = review(state, rating_for(correct), now)
        now = state.due
    previous = state.due - state.last_review
    for _ in range(rights):
        state = review(state, GOOD, now)
        interval = state.due - now
        assert interval >= previous
        previous, now = interval, state.due
