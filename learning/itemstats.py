"""Content quality per question: difficulty and discrimination (classical test theory).

- *Difficulty* (the p-value): the share of learners who got the question right at their first try.
- *Discrimination*: the point-biserial correlation between getting this question right (1/0) and
  the learner's score on the rest of the pack (their share right on the pack's other questions).
  A good question is answered right more often by the learners who do well elsewhere; a negative
  value means the strong learners get it wrong — usually a wrong answer key or a trick question.

The point-biserial correlation is Pearson's r with one binary variable, so it can be computed
from five sums that SQL aggregates per question (``db.reporting``):

    r = (n·Σxy − Σx·Σy) / √((n·Σx − (Σx)²) · (n·Σy² − (Σy)²))     (x ∈ {0, 1}, so Σx² = Σx)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

TOO_HARD = 0.20  # fewer than this share right: nearly everyone misses it
TOO_EASY = 0.95  # more than this share right: nearly everyone gets it
MIN_ANSWERS_TO_FLAG = 5  # below this, a share says more about chance than about the question


def difficulty(right: int, answered: int) -> float | None:
    """The share answered right at the first try (higher = easier); None without answers."""
    return right / answered if answered else None


def point_biserial(item: Sequence[bool | int], rest: Sequence[float]) -> float | None:
    """Pearson's r between item scores (0/1) and rest scores; None when either does not vary."""
    if len(item) != len(rest):
        raise ValueError("item and rest scores must pair up")
    xs = [1.0 if x else 0.0 for x in item]
    return point_biserial_from_sums(
        n=len(xs),
        sum_x=sum(xs),
        sum_y=sum(rest),
        sum_y2=sum(y * y for y in rest),
        sum_xy=sum(x * y for x, y in zip(xs, rest, strict=True)),
    )


def point_biserial_from_sums(*, n: int, sum_x: float, sum_y: float, sum_y2: float, sum_xy: float) -> float | None:
    """The same correlation from the sums SQL computes per question."""
    if n < 2:
        return None
    spread_x = n * sum_x - sum_x * sum_x
    spread_y = n * sum_y2 - sum_y * sum_y
    if spread_x <= 1e-12 or spread_y <= 1e-12:
        return None  # everyone right (or wrong), or everyone scored the same elsewhere
    r = (n * sum_xy - sum_x * sum_y) / math.sqrt(spread_x * spread_y)
    return max(-1.0, min(1.0, r))


@dataclass(frozen=True)
class ItemSums:
    """Per question, as SQL aggregates it over first tries."""

    pack_id: str
    lesson_id: str
    question_id: str
    prompt: str
    answered: int
    right: int
    paired: int  # answers whose learner answered at least one other question of the pack
    sum_x: float  # right answers among the paired
    sum_y: float  # Σ rest score
    sum_y2: float
    sum_xy: float
    wordings: int = 1  # texts it was asked in: a pack edited mid-course asks one question id in several


@dataclass(frozen=True)
class ItemStats:
    pack_id: str
    lesson_id: str
    question_id: str
    prompt: str
    answered: int
    difficulty: float | None
    discrimination: float | None
    flags: tuple[str, ...]
    wordings: int = 1


def flags(difficulty_value: float | None, discrimination: float | None, *, answered: int) -> tuple[str, ...]:
    """"too hard" (<20% right), "too easy" (>95% right), "negative discrimination"; only from 5 answers."""
    if answered < MIN_ANSWERS_TO_FLAG:
        return ()
    out = []
    if difficulty_value is not None and difficulty_value < TOO_HARD:
        out.append("too hard")
    if difficulty_value is not None and difficulty_value > TOO_EASY:
        out.append("too easy")
    if discrimination is not None and discrimination < 0:
        out.append("negative discrimination")
    return tuple(out)


def item_stats(sums: ItemSums) -> ItemStats:
    p = difficulty(sums.right, sums.answered)
    r = point_biserial_from_sums(n=sums.paired, sum_x=sums.sum_x, sum_y=sums.sum_y, sum_y2=sums.sum_y2,
                                 sum_xy=sums.sum_xy)
    return ItemStats(sums.pack_id, sums.lesson_id, sums.question_id, sums.prompt, sums.answered, p, r,
                     flags(p, r, answered=sums.answered), sums.wordings)


def rest_scores(responses: Mapping[str, Mapping[str, bool]], item: str) -> tuple[list[bool], list[float]]:
    """Reference implementation: for learners who answered ``item`` and something else, their item
    score and their share right on the other items. ``responses``: learner → item → right."""
    xs: list[bool] = []
    ys: list[float] = []
    for answers in responses.values():
        if item not in answers or len(answers) < 2:
            continue
        others = [right for other, right in answers.items() if other != item]
        xs.append(answers[item])
        ys.append(sum(others) / len(others))
    return xs, ys
