"""Simulated learners' memory: the ground truth a scheduler is judged against, never the scheduler's belief.

Two published models, each drawing every learner's and every question's own parameters, so that the
scheduler (which knows only FSRS-6's defaults) never sees the true values:

- ``FSRSMemory``: FSRS-6's forgetting curve and memory-state updates (open-spaced-repetition's "The
  Algorithm", as implemented by the ``fsrs`` package), with parameters drawn around FSRS-6's published
  default parameters (fitted by open-spaced-repetition/srs-benchmark over its Anki collections).
- ``HalfLifeMemory``: the DHP model (Ye, Su & Cao, "A Stochastic Shortest Path Algorithm for Optimizing
  Spaced Repetition Scheduling", KDD 2022, maimemo/SSP-MMC): recall ``2^(-t/h)``, half-life updates fitted
  to 220 million MaiMemo reviews, difficulty 1-18 drawn per learner and question.

A model's state for one learner and question is a small tuple; ``recall`` is scalar (one review) and
``curve`` is vectorised with numpy (a cohort's recall on every day). See docs/learning_effect.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from fsrs.scheduler import DEFAULT_PARAMETERS

State = tuple[float, float]  # (stability or half-life in days, difficulty)


class Memory(Protocol):
    name: str

    def first_exposure(self, learner: int, question: int, correct: bool) -> State: ...

    def recall(self, learner: int, question: int, state: State, elapsed_days: float) -> float: ...

    def after_review(self, learner: int, question: int, state: State, elapsed_days: float,
                     correct: bool) -> State: ...

    def curve_parameter(self, learner: int) -> float: ...

    @staticmethod
    def curve(elapsed_days: np.ndarray, strength: np.ndarray, parameter: np.ndarray) -> np.ndarray: ...


def fsrs_recall(elapsed_days: float | np.ndarray, stability: float | np.ndarray,
                decay: float | np.ndarray) -> float | np.ndarray:
    """FSRS-6's forgetting curve, ``(1 + F·t/S)^(-decay)`` with ``F = 0.9^(-1/decay) - 1``: 0.9 at t = S.

    >>> round(fsrs_recall(10.0, 10.0, 0.1542), 6)
    0.9
    """
    factor = 0.9 ** (-1.0 / decay) - 1.0
    return (1.0 + factor * elapsed_days / stability) ** (-decay)


class FSRSMemory:
    """FSRS-6 as the truth, each learner and question with parameters of their own.

    The spread (``spread`` scales every one of them; 0 gives every learner the defaults):
    - initial stabilities w0-w3: a learner factor exp(N(0, 0.6)) and a question factor exp(N(0, 0.4)) — the
      per-collection optima in srs-benchmark differ by an order of magnitude in initial stability;
    - initial difficulty w4: a question offset N(0, 1.5) and a learner offset N(0, 0.5) on FSRS's 1-10 scale;
    - stability growth w8: a learner offset N(0, 0.25) (in log terms a factor of about 1.3 either way);
    - the curve's decay w20: default × exp(N(0, 0.5)), kept within FSRS-6's bounds 0.1-0.8.
    """

    name = "FSRS-6"

    def __init__(self, rng: np.random.Generator, learners: int, questions: int, *, spread: float = 1.0,
                 parameters: Sequence[float] | None = None) -> None:
        # ``parameters``: the population's own FSRS-6 parameters (default: the published ones), around which
        # each learner's and question's are drawn; the scheduler is never told them.
        w = np.array(DEFAULT_PARAMETERS if parameters is None else parameters, dtype=float)
        self.w = w
        self.init_factor = (np.exp(rng.normal(0, 0.6 * spread, learners))[:, None]
                            * np.exp(rng.normal(0, 0.4 * spread, questions))[None, :])
        self.d_offset = rng.normal(0, 0.5 * spread, learners)[:, None] + rng.normal(0, 1.5 * spread, questions)[None, :]
        self.growth = w[8] + rng.normal(0, 0.25 * spread, learners)
        self.decay = np.clip(w[20] * np.exp(rng.normal(0, 0.5 * spread, learners)), 0.1, 0.8)

    def _initial_difficulty(self, learner: int, question: int, rating: int) -> float:
        w = self.w
        return w[4] + self.d_offset[learner, question] - math.exp(w[5] * (rating - 1)) + 1

    def first_exposure(self, learner: int, question: int, correct: bool) -> State:
        rating = 3 if correct else 1
        stability = max(self.w[rating - 1] * self.init_factor[learner, question], 0.001)
        difficulty = min(max(self._initial_difficulty(learner, question, rating), 1.0), 10.0)
        return stability, difficulty

    def recall(self, learner: int, question: int, state: State, elapsed_days: float) -> float:
        return float(fsrs_recall(max(elapsed_days, 0.0), state[0], self.decay[learner]))

    def after_review(self, learner: int, question: int, state: State, elapsed_days: float,
                     correct: bool) -> State:
        w = self.w
        s, d = state
        r = self.recall(learner, question, state, elapsed_days)
        if correct:
            s = s * (1 + math.exp(self.growth[learner]) * (11 - d) * s ** (-w[9]) * (math.exp((1 - r) * w[10]) - 1))
            rating = 3
        else:
            long_term = w[11] * d ** (-w[12]) * ((s + 1) ** w[13] - 1) * math.exp((1 - r) * w[14])
            s = min(long_term, s / math.exp(w[17] * w[18]))
            rating = 1
        easy = self._initial_difficulty(learner, question, 4)
        d = d + (10.0 - d) * (-w[6] * (rating - 3)) / 9.0
        d = min(max(w[7] * easy + (1 - w[7]) * d, 1.0), 10.0)
        return max(s, 0.001), d

    def curve_parameter(self, learner: int) -> float:
        return float(self.decay[learner])

    @staticmethod
    def curve(elapsed_days: np.ndarray, strength: np.ndarray, parameter: np.ndarray) -> np.ndarray:
        return fsrs_recall(np.maximum(elapsed_days, 0.0), strength, parameter)


DHP_DIFFICULTY = 2.0


def dhp_start(difficulty: float) -> float:
    """DHP's half-life after the first day of learning, from difficulty (1-18)."""
    return -1.0 / math.log2(max(0.925 - 0.05 * difficulty, 0.025))


class HalfLifeMemory:
    """The DHP half-life model (SSP-MMC, KDD 2022) as the truth: ``p = 2^(-t/h)``.

    After a recall ``h' = h·(1 + e^3.81·d^-0.534·h^-0.127·(1-p)^0.97)``; after a lapse
    ``h' = e^-0.041·d^-0.041·h^0.377·(1-p)^-0.227`` and difficulty rises by 2 (at most 18). Each learner
    and question has a difficulty of their own: a learner mean N(DHP_DIFFICULTY, 1.5) and a question offset
    N(0, 2), rounded, within 1-18 (``spread`` scales both spreads); a wrong first answer adds 2.

    DHP_DIFFICULTY is set so that the chance of recall a day after the lesson matches FSRS-6's defaults
    after a right first answer (0.95 — DHP gives 0.925 - 0.05·d), not to favour any policy: MaiMemo's
    vocabulary is harder than a workplace lesson read just before its question. At difficulty 5 every
    policy's recall falls far lower (see docs/learning_effect.md).
    """

    name = "DHP half-life"

    def __init__(self, rng: np.random.Generator, learners: int, questions: int, *, spread: float = 1.0) -> None:
        raw = (DHP_DIFFICULTY + rng.normal(0, 1.5 * spread, learners)[:, None] + rng.normal(0, 2.0 * spread, questions)[None, :])
        self.difficulty = np.clip(np.rint(raw), 1, 18)

    def first_exposure(self, learner: int, question: int, correct: bool) -> State:
        d = float(self.difficulty[learner, question]) + (0 if correct else 2)
        d = min(d, 18.0)
        return dhp_start(d), d

    def recall(self, learner: int, question: int, state: State, elapsed_days: float) -> float:
        return 2.0 ** (-max(elapsed_days, 0.0) / state[0])

    def after_review(self, learner: int, question: int, state: State, elapsed_days: float,
                     correct: bool) -> State:
        h, d = state
        p = min(max(self.recall(learner, question, state, elapsed_days), 0.001), 0.999)
        if correct:
            return h * (1 + math.exp(3.81) * d ** -0.534 * h ** -0.127 * (1 - p) ** 0.97), d
        h = math.exp(-0.041) * d ** -0.041 * h ** 0.377 * (1 - p) ** -0.227
        return h, min(d + 2, 18.0)

    def curve_parameter(self, learner: int) -> float:
        return 1.0

    @staticmethod
    def curve(elapsed_days: np.ndarray, strength: np.ndarray, parameter: np.ndarray) -> np.ndarray:
        return 2.0 ** (-np.maximum(elapsed_days, 0.0) / strength)


MODELS = {"fsrs": FSRSMemory, "dhp": HalfLifeMemory}
