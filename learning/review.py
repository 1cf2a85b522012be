"""Spaced review with FSRS (the `fsrs` package, FSRS-6): when a question comes back, and when it retires.

Why FSRS and not the classic rule of the spaced-education trials (a wrong answer back in about
12 days, a right one in 24, retired after two right in a row): FSRS fits intervals to how
memory decays for this card — short after a miss, growing fast after each success — and a
desired retention (default 0.9) says how much forgetting we accept. The comparison with the
12/24-day rule is pinned in tests/learning/test_review.py.

Sprout's learners see a lesson a day, so the short-term "learning steps" of flashcard apps
(1 and 10 minutes) are switched off: every interval is in days. The classic retirement rule is
kept on top: right twice in a row at intervals of 21 days or more retires the card.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TypeVar

from fsrs import Card, Rating, Scheduler

RETIRE_AFTER_LONG_RIGHTS = 2
LONG_INTERVAL = timedelta(days=21)
SLOW_ANSWER = timedelta(hours=24)

REVIEW_QUESTIONS = 3  # at most this many questions in one review DM (REVIEW_QUESTIONS)

AGAIN, HARD, GOOD, EASY = (int(Rating.Again), int(Rating.Hard), int(Rating.Good), int(Rating.Easy))


Parameters = tuple[float, ...]  # FSRS-6's 21; None for the published defaults


@dataclass(frozen=True)
class ParameterSets:
    """The FSRS parameters each pack is scheduled with: its own when ``review optimize`` adopted a fit of
    its reviews alone, else the workspace's adopted ones, else (None) FSRS-6's defaults."""

    workspace: Parameters | None = None
    packs: Mapping[str, Parameters] = field(default_factory=dict)

    def for_pack(self, pack_id: str | None) -> Parameters | None:
        return self.packs.get(pack_id, self.workspace) if pack_id is not None else self.workspace


@lru_cache(maxsize=16)
def scheduler(desired_retention: float = 0.9, parameters: Parameters | None = None) -> Scheduler:
    """FSRS with the workspace's fitted ``parameters`` (``review optimize``), or the defaults."""
    extra = {} if parameters is None else {"parameters": tuple(parameters)}
    return Scheduler(desired_retention=desired_retention, learning_steps=(), relearning_steps=(),
                     enable_fuzzing=False, **extra)


def rating_for(correct: bool, *, answered_after: timedelta | None = None, second_try: bool = False) -> int:
    """Wrong is Again; right is Good, or Hard when it came slowly (a day or more after the question
    arrived) or on a second try."""
    if not correct:
        return AGAIN
    if second_try or (answered_after is not None and answered_after >= SLOW_ANSWER):
        return HARD
    return GOOD


@dataclass(frozen=True)
class CardState:
    fsrs: str  # the fsrs Card as JSON
    due: datetime
    last_review: datetime | None
    reviews: int
    lapses: int
    long_right: int  # right answers in a row, each at an interval of 21 days or more
    retired: bool

    @property
    def interval(self) -> timedelta | None:
        return None if self.last_review is None else self.due - self.last_review


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def first_answer(rating: int, now: datetime, *, desired_retention: float = 0.9,
                 parameters: Parameters | None = None) -> CardState:
    """A new card from the learner's first answer to a question (in the lesson itself)."""
    return review(None, rating, now, desired_retention=desired_retention, parameters=parameters)


def replay(answers: Iterable[tuple[datetime, int]], *, desired_retention: float = 0.9,
           parameters: Parameters | None = None) -> CardState | None:
    """A card's state from its answers (moment and rating, oldest first), as these parameters would have
    scheduled it: how open cards are rescheduled when a workspace adopts fitted parameters."""
    state = None
    for moment, rating in answers:
        state = review(state, rating, moment, desired_retention=desired_retention, parameters=parameters)
    return state


def review(state: CardState | None, rating: int, now: datetime, *, desired_retention: float = 0.9,
           parameters: Parameters | None = None) -> CardState:
    """The card after an answer rated ``rating`` at ``now``."""
    # A new card's id is the moment it was made, from ``now``: fsrs would otherwise read the clock and
    # sleep a millisecond so that no two cards it makes share one (the database has ids of its own).
    card = Card.from_dict(json.loads(state.fsrs)) if state is not None else Card(card_id=_millis(now), due=now)
    elapsed = None if state is None or state.last_review is None else now - state.last_review
    card, _log = scheduler(desired_retention, parameters).review_card(card, Rating(rating), review_datetime=now)
    correct = rating != AGAIN
    long_right = 0
    if state is not None and correct:
        long_right = state.long_right + 1 if elapsed is not None and elapsed >= LONG_INTERVAL else 0
    return CardState(
        fsrs=json.dumps(card.to_dict(), separators=(",", ":")),
        due=card.due,
        last_review=now,
        reviews=(state.reviews if state else 0) + 1,
        lapses=(state.lapses if state else 0) + (0 if correct else 1),
        long_right=long_right,
        retired=long_right >= RETIRE_AFTER_LONG_RIGHTS,
    )


def retrievability(state: CardState, now: datetime, *, parameters: Parameters | None = None) -> float:
    """The chance, by FSRS's forgetting curve (with ``parameters``), that the learner recalls the card at ``now``
    (its expected recall)."""
    return float(scheduler(0.9, parameters).get_card_retrievability(Card.from_dict(json.loads(state.fsrs)), now))


Key = TypeVar("Key")


def todays_review(cards: Iterable[tuple[Key, CardState]], *, due_by: datetime,
                  limit: int = REVIEW_QUESTIONS) -> list[Key]:
    """The cards one review DM asks, given a learner's cards (key and state): the live ones due by
    ``due_by`` (the end of the learner's day), the most overdue first, ties by key, at most ``limit``.

    A few at a time rather than all that are due, so that a review stays a minute's work; the rest
    wait a lesson day, most overdue first. The review planner and the memory simulation both ask here.

    >>> from datetime import UTC
    >>> t = datetime(2027, 1, 4, 9, 30, tzinfo=UTC)
    >>> card = lambda days, retired=False: CardState("{}", t + timedelta(days=days), t, 1, 0, 0, retired)
    >>> todays_review([(1, card(0)), (2, card(-2)), (3, card(5)), (4, card(-1, retired=True))],
    ...               due_by=t + timedelta(hours=14), limit=3)
    [2, 1]
    """
    live = [(state.due, key) for key, state in cards if not state.retired and state.due <= due_by]
    live.sort()
    return [key for _due, key in live[:limit]]


def classic_interval(correct: bool) -> timedelta:
    """The spaced-education trials' rule, for comparison: 12 days after a miss, 24 after a success."""
    return timedelta(days=24 if correct else 12)
