"""FSRS parameters fitted to one workspace's own review history, adopted only when they predict better.

The optimizer is fsrs-rs-python (FSRS's Rust implementation, the one Anki ships, with its optimizer):
one 0.6 MB wheel with no dependencies, against ``fsrs[optimizer]``'s PyTorch (hundreds of MB). Its
parameter vector is FSRS-6's 21 numbers, the same the ``fsrs`` package's ``Scheduler`` takes; a vector of
another length (another FSRS version on either side) is refused rather than mixed up.

How a fit is judged: the learners are split, 20% of them held out (a learner's reviews all on one side,
so the test sees people the fit never saw); parameters are fitted to the others' reviews, and the log loss
of the held-out reviews' outcomes (did the learner recall it: not "Again") is compared under the fitted
and the default parameters (and the parameters in use, when an earlier fit was adopted). The fitted ones
are adopted only if their log loss is lower than both: the parameters judged are the ones adopted.

Why 1,000 reviews from 50 learners: FSRS-6 has 21 parameters, and the held-out fifth (10 learners,
about 200 reviews) must be large enough for a log-loss difference to mean something: with 200 reviews
the standard error of a log loss is about 0.03, the size of the gains a fit brings on real data
(srs-benchmark: FSRS-6 with fitted parameters against the defaults, 0.32 against about 0.35). Fewer
learners also let one unusual person drive the fit. Anki's optimizer itself asks for at least 400 reviews.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fsrs import Scheduler

MIN_REVIEWS = 1000
MIN_LEARNERS = 50
HELD_OUT = 0.2
MIN_GAIN = 0.001  # a smaller difference in log loss is noise: the parameters in use stay
PARAMETER_COUNT = 21  # FSRS-6
DEFAULT_PARAMETERS: tuple[float, ...] = tuple(Scheduler().parameters)


class OptimizerMissing(RuntimeError):
    pass


class NotEnoughReviews(ValueError):
    pass


@dataclass(frozen=True)
class CardHistory:
    """One card's answers, oldest first, its first answer (in the lesson) included: (moment, FSRS rating)."""

    card_id: int
    learner_id: int
    answers: tuple[tuple[datetime, int], ...]
    retired: bool = False
    pack_id: str | None = None

    @property
    def reviews(self) -> int:
        """The answers a model predicts: every one after the first."""
        return max(len(self.answers) - 1, 0)


@dataclass(frozen=True)
class Fit:
    parameters: tuple[float, ...]  # fitted on the training learners' reviews
    log_loss: float  # fitted on the training learners, on the held-out learners' reviews
    default_log_loss: float  # the defaults, on the same held-out reviews
    reviews: int
    learners: int
    held_out_reviews: int
    current_log_loss: float | None = None  # the parameters in use (adopted earlier), on the same reviews

    @property
    def better(self) -> bool:
        """Lower log loss than the defaults and than the parameters in use, if any, by at least ``MIN_GAIN``."""
        return all(self.log_loss <= other - MIN_GAIN for other in (self.default_log_loss, self.current_log_loss)
                   if other is not None)


def _rs():
    try:
        import fsrs_rs_python
    except ImportError:
        raise OptimizerMissing(
            "Fitting FSRS parameters needs fsrs-rs-python (a small wheel, no PyTorch): "
            "pip install 'fsrs-rs-python>=0.9.3,<0.10'"
        ) from None
    return fsrs_rs_python


def counts(histories: Sequence[CardHistory]) -> tuple[int, int]:
    """(reviews, learners with at least one review)."""
    return (sum(h.reviews for h in histories), len({h.learner_id for h in histories if h.reviews}))


def by_pack(histories: Sequence[CardHistory]) -> dict[str, list[CardHistory]]:
    """The histories of each pack that has enough reviews for a fit of its own (the same 1,000 reviews from
    50 learners as a workspace's, for the same reasons): a pack whose questions are much harder or easier
    than the rest gets parameters that fit it, and a small pack is scheduled with the workspace's."""
    packs: dict[str, list[CardHistory]] = {}
    for h in histories:
        if h.pack_id is not None:
            packs.setdefault(h.pack_id, []).append(h)
    return {pack_id: found for pack_id, found in sorted(packs.items()) if enough(found)}


def enough(histories: Sequence[CardHistory]) -> bool:
    reviews, learners = counts(histories)
    return reviews >= MIN_REVIEWS and learners >= MIN_LEARNERS


def items(histories: Sequence[CardHistory]) -> list:
    """fsrs-rs's training items: for every review, the card's answers up to and including it (the last one
    is the outcome to predict), with whole days between answers, as the ``fsrs`` scheduler counts them.
    fsrs-rs takes no item whose answers all fall on one day (its short-term model needs a day's gap)."""
    rs = _rs()
    out = []
    for history in histories:
        steps, previous, gap = [], None, False
        for moment, rating in history.answers:
            delta = 0 if previous is None else max((moment - previous).days, 0)
            steps.append(rs.FSRSReview(int(rating), delta))
            previous, gap = moment, gap or delta > 0
            if len(steps) >= 2 and gap:
                out.append(rs.FSRSItem(list(steps)))
    return out


def split(histories: Sequence[CardHistory], *, held_out: float = HELD_OUT,
          seed: int = 17) -> tuple[list[CardHistory], list[CardHistory]]:
    """(training, held out): a shuffled ``held_out`` share of the learners, each with all their cards."""
    learners = sorted({h.learner_id for h in histories})
    random.Random(seed).shuffle(learners)
    test = set(learners[: max(1, round(len(learners) * held_out))])
    return [h for h in histories if h.learner_id not in test], [h for h in histories if h.learner_id in test]


def check(parameters: Sequence[float]) -> tuple[float, ...]:
    """FSRS-6's 21 parameters, each within the bounds the ``fsrs`` scheduler accepts (it raises otherwise)."""
    values = tuple(round(float(p), 6) for p in parameters)
    if len(values) != PARAMETER_COUNT:
        raise ValueError(f"FSRS-6 takes {PARAMETER_COUNT} parameters, not {len(values)}")
    Scheduler(parameters=values)
    return values


def fit_parameters(histories: Sequence[CardHistory]) -> tuple[float, ...]:
    rs = _rs()
    return check(rs.FSRS(list(DEFAULT_PARAMETERS)).compute_parameters(items(histories)))


def log_loss(parameters: Sequence[float], histories: Sequence[CardHistory]) -> float:
    """The mean log loss of whether each review was recalled (any rating but Again), as ``parameters`` predict it."""
    return float(_rs().FSRS(list(check(parameters))).evaluate(items(histories)).log_loss)


def fit(histories: Sequence[CardHistory], *, held_out: float = HELD_OUT, seed: int = 17,
        current: Sequence[float] | None = None) -> Fit:
    """Fit on the training learners and judge on the held-out ones: the parameters judged are the ones
    adopted, so "better" is measured, not assumed of a refit."""
    reviews, learners = counts(histories)
    if reviews < MIN_REVIEWS or learners < MIN_LEARNERS:
        raise NotEnoughReviews(
            f"{reviews} reviews from {learners} learners: fitting needs at least {MIN_REVIEWS} reviews "
            f"from {MIN_LEARNERS} learners")
    train, test = split(histories, held_out=held_out, seed=seed)
    fitted = fit_parameters(train)
    return Fit(fitted, log_loss(fitted, test), log_loss(DEFAULT_PARAMETERS, test), reviews, learners,
               sum(h.reviews for h in test), None if current is None else log_loss(current, test))
