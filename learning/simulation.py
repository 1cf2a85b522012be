"""A cohort's memory over a pack, under one review policy: does spaced review make knowledge stick?

Each simulated learner takes one lesson (one question) a working day; the lesson's question is the first
exposure. On every lesson day the policy names the questions of that day's review DM; the learner answers
each right with the true recall probability of the ground-truth model (``learning.memory``), which the
review then updates. Sprout's policy is Sprout's own code — ``learning.review``'s FSRS-6 cards,
``rating_for``, the retirement rule and ``todays_review`` (the planner's choice of due cards, at most a
few a DM) — called with ``now``; it never sees the truth.

Every policy meets the same learners with the same random numbers (common random numbers): learner ``l``'s
k-th answer to question ``q`` is right when one pre-drawn uniform ``u[l, q, k]`` falls below the recall
probability, whatever the policy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import numpy as np

from learning.memory import MODELS, Memory
from learning.review import REVIEW_QUESTIONS, CardState, first_answer, rating_for, review, todays_review

START = datetime(2027, 1, 4, 9, 30, tzinfo=UTC)  # a Monday, at the bundled pack's lesson time
LESSON_WEEKDAYS = frozenset(range(5))  # mon-fri, the bundled packs' working days
MAX_ANSWERS = 64  # pre-drawn answers per learner and question (more than any policy asks in a year)
FIRST_RIGHT = 0.85  # mean chance of answering the lesson's own question right, just after reading it


class Policy:
    """What decides a learner's reviews: told of each answer, asked which questions come back today."""

    def start(self, question: int, correct: bool, now: datetime) -> None: ...

    def due(self, end_of_day: datetime) -> list[int]: ...

    def answer(self, question: int, correct: bool, now: datetime) -> None: ...

    def next_due(self) -> datetime | None:
        """The earliest moment anything is due, so days with nothing due are skipped quickly."""


class NoReview(Policy):
    def start(self, question, correct, now):
        pass

    def due(self, end_of_day):
        return []

    def answer(self, question, correct, now):
        pass

    def next_due(self):
        return None


class SproutReview(Policy):
    """Sprout's cards and selection, as the bot and the review planner use them (with a workspace's fitted
    FSRS ``parameters``, or the defaults)."""

    def __init__(self, retention: float, per_review: int = REVIEW_QUESTIONS,
                 parameters: tuple[float, ...] | None = None) -> None:
        self.retention = retention
        self.per_review = per_review
        self.parameters = parameters
        self.cards: dict[int, CardState] = {}
        self._next: datetime | None = None

    def start(self, question, correct, now):
        self.cards[question] = first_answer(rating_for(correct), now, desired_retention=self.retention,
                                            parameters=self.parameters)
        self._next = None

    def due(self, end_of_day):
        return todays_review(self.cards.items(), due_by=end_of_day, limit=self.per_review)

    def answer(self, question, correct, now):
        self.cards[question] = review(self.cards[question], rating_for(correct), now,
                                      desired_retention=self.retention, parameters=self.parameters)
        self._next = None

    def next_due(self):
        if self._next is None:
            live = [c.due for c in self.cards.values() if not c.retired]
            self._next = min(live) if live else datetime.max.replace(tzinfo=UTC)
        return self._next


class RecordedReview(SproutReview):
    """Sprout's reviews, every answer kept as a workspace's records would keep it: (question, moment, rating),
    the lesson's first answer included."""

    def __init__(self, retention: float, per_review: int = REVIEW_QUESTIONS) -> None:
        super().__init__(retention, per_review)
        self.answers: list[tuple[int, datetime, int]] = []

    def start(self, question, correct, now):
        super().start(question, correct, now)
        self.answers.append((question, now, rating_for(correct)))

    def answer(self, question, correct, now):
        super().answer(question, correct, now)
        self.answers.append((question, now, rating_for(correct)))


def recorded_answers(model: str = "fsrs", *, learners: int, questions: int, days: int, seed: int,
                     retention: float = 0.9, spread: float = 1.0, per_review: int = REVIEW_QUESTIONS,
                     truth: Sequence[float] | None = None) -> list[list[tuple[int, datetime, int]]]:
    """Each simulated learner's answers under Sprout at ``retention``: what a workspace's records would hold
    if its people remembered as ``model`` says (their true parameters, never the scheduler's)."""
    made: list[RecordedReview] = []

    def make() -> RecordedReview:
        made.append(RecordedReview(retention, per_review))
        return made[-1]

    simulate(cohort(model, learners=learners, questions=questions, seed=seed, spread=spread, truth=truth),
             "recorded", make, days=days)
    return [policy.answers for policy in made]


class FixedRule(Policy):
    """A rule of fixed gaps, every question due on the first lesson day on or after its date, all asked.

    ``gap(answers, right_in_a_row, correct)`` is the days to the next review after an answer, or None to
    retire the question; ``answers`` counts the first exposure."""

    def __init__(self, gap: Callable[[int, int, bool], float | None]) -> None:
        self.gap = gap
        self.due_at: dict[int, datetime] = {}
        self.answers: dict[int, int] = {}
        self.streak: dict[int, int] = {}

    def _after(self, question: int, correct: bool, now: datetime) -> None:
        self.answers[question] = self.answers.get(question, 0) + 1
        self.streak[question] = self.streak.get(question, 0) + 1 if correct else 0
        days = self.gap(self.answers[question], self.streak[question], correct)
        if days is None:
            self.due_at.pop(question, None)
        else:
            self.due_at[question] = now + timedelta(days=days)

    def start(self, question, correct, now):
        self._after(question, correct, now)

    def due(self, end_of_day):
        return sorted(q for q, at in self.due_at.items() if at <= end_of_day)

    def answer(self, question, correct, now):
        self._after(question, correct, now)

    def next_due(self):
        return min(self.due_at.values()) if self.due_at else None


def qstream_gap(answers: int, right_in_a_row: int, correct: bool) -> float | None:
    """Qstream's spaced-education rule: wrong back in 12 days, right in 24, retired after two right in a row
    (the lesson's own answer counts as the first)."""
    if right_in_a_row >= 2:
        return None
    return 24 if correct else 12


LADDER = (1, 3, 10, 30, 60)


def ladder_gap(answers: int, right_in_a_row: int, correct: bool) -> float | None:
    """SafetyCulture Training's (EdApp's) fixed ladder: reviews 1, 3, 10, 30 and 60 days apart, whatever
    the answers, then retired."""
    return LADDER[answers - 1] if answers <= len(LADDER) else None


def policies(retentions: Sequence[float] = (0.8, 0.85, 0.9, 0.95),
             per_review: int = REVIEW_QUESTIONS) -> dict[str, Callable[[], Policy]]:
    out: dict[str, Callable[[], Policy]] = {
        "no review": NoReview,
        "Qstream 12/24": lambda: FixedRule(qstream_gap),
        "ladder 1-3-10-30-60": lambda: FixedRule(ladder_gap),
    }
    for r in retentions:
        out[f"Sprout {r:.2f}"] = lambda r=r: SproutReview(r, per_review)
    return out


FIXED = ("Qstream 12/24", "ladder 1-3-10-30-60")


@dataclass(frozen=True)
class Cohort:
    """The ground truth of one seed: the learners' memory and every answer's random number."""

    memory: Memory
    learners: int
    questions: int
    first_right: np.ndarray  # [learner, question]: chance of answering the lesson's question right
    uniforms: np.ndarray  # [learner, question, answer]


def cohort(model: str, *, learners: int, questions: int, seed: int, spread: float = 1.0,
           truth: Sequence[float] | None = None) -> Cohort:
    """``truth``: FSRS-6 parameters the learners' memory is drawn around, instead of the published defaults."""
    rng = np.random.default_rng([seed, 17])
    extra = {} if truth is None else {"parameters": truth}
    memory = MODELS[model](rng, learners, questions, spread=spread, **extra)
    logit = (math.log(FIRST_RIGHT / (1 - FIRST_RIGHT)) + rng.normal(0, 0.8 * spread, learners)[:, None]
             + rng.normal(0, 0.8 * spread, questions)[None, :])
    first_right = 1 / (1 + np.exp(-logit))
    uniforms = rng.random((learners, questions, MAX_ANSWERS))
    return Cohort(memory, learners, questions, first_right, uniforms)


@dataclass
class Run:
    """One policy on one cohort: mean recall on each day and the review questions asked."""

    policy: str
    recall: np.ndarray  # [day]: expected recall of the questions introduced so far, at the start of the day
    reviews: int  # review questions asked over ``days`` (the lessons' own questions not counted)
    learners: int
    days: int
    last_lesson: int  # the day of the last lesson
    questions: int

    @property
    def per_week(self) -> float:
        return self.reviews / self.learners / (self.days / 7)

    def at(self, day: int) -> float:
        return float(self.recall[min(day, len(self.recall) - 1)])


def lesson_days(questions: int) -> list[int]:
    days, d = [], 0
    while len(days) < questions:
        if (START + timedelta(days=d)).weekday() in LESSON_WEEKDAYS:
            days.append(d)
        d += 1
    return days


def horizon(questions: int, days: int) -> int:
    """Days simulated: ``days``, and at least until 30 days after the last lesson."""
    return max(days, lesson_days(questions)[-1] + 30) + 1


def simulate(cohort: Cohort, name: str, make: Callable[[], Policy], *, days: int = 90) -> Run:
    memory, questions = cohort.memory, cohort.questions
    lessons = lesson_days(questions)
    span = horizon(questions, days)
    teaching = [(START + timedelta(days=d)).weekday() in LESSON_WEEKDAYS for d in range(span)]
    events: list[tuple[int, int, int, float, float]] = []  # learner, question, day, strength, curve parameter
    asked = np.zeros(cohort.learners, dtype=int)
    for learner in range(cohort.learners):
        policy = make()
        state: dict[int, tuple[float, float]] = {}
        last: dict[int, int] = {}
        answers: dict[int, int] = {}
        parameter = memory.curve_parameter(learner)
        lesson = 0

        for day in range(span):
            if not teaching[day]:
                continue
            now = START + timedelta(days=day)
            end_of_day = datetime.combine((now + timedelta(days=1)).date(), datetime.min.time(), tzinfo=UTC)
            upcoming = policy.next_due()
            if upcoming is not None and upcoming <= end_of_day:
                for q in policy.due(end_of_day):
                    elapsed = day - last[q]
                    correct = cohort.uniforms[learner, q, answers[q]] < memory.recall(learner, q, state[q], elapsed)
                    answers[q] += 1
                    state[q] = memory.after_review(learner, q, state[q], elapsed, correct)
                    last[q] = day
                    events.append((learner, q, day, state[q][0], parameter))
                    policy.answer(q, correct, now)
                    if day < days:
                        asked[learner] += 1
            if lesson < questions and lessons[lesson] == day:
                q = lesson
                correct = bool(cohort.uniforms[learner, q, 0] < cohort.first_right[learner, q])
                answers[q] = 1
                state[q] = memory.first_exposure(learner, q, correct)
                last[q] = day
                events.append((learner, q, day, state[q][0], parameter))
                policy.start(q, correct, now + timedelta(minutes=1))
                lesson += 1
    columns = np.array(events, dtype=float).T
    recall = _daily_recall(memory, cohort.learners, questions, span, columns[0].astype(np.int64),
                           columns[1].astype(np.int64), columns[2], columns[3], columns[4])
    return Run(name, recall, int(asked.sum()), cohort.learners, days, lessons[-1], questions)


def _daily_recall(memory: Memory, learners: int, questions: int, span: int, learner_ids, question_ids, times,
                  strengths, parameters) -> np.ndarray:
    """Mean true recall at the start of each day (before its lesson and review) of the questions met so
    far, over all learners: one sorted search over every review of the cohort."""
    stride = span + 2
    keys = (learner_ids * questions + question_ids) * stride + times
    order = np.argsort(keys, kind="stable")
    keys, strengths, parameters = keys[order], strengths[order], parameters[order]
    start_of_day = 9.5 / 24  # lessons and reviews at 09:30; recall measured at midnight before them
    day = np.arange(span, dtype=float)
    pair = np.arange(learners * questions)
    sample = (pair[:, None] * stride + day[None, :] - start_of_day).ravel()
    index = np.searchsorted(keys, sample, side="right") - 1
    valid = index >= 0
    safe = np.where(valid, index, 0)
    same = valid & (keys[safe] // stride == np.repeat(pair, span))
    elapsed = sample - keys[safe]
    r = np.where(same, memory.curve(elapsed, strengths[safe], parameters[safe]), 0.0)
    r = r.reshape(learners * questions, span)
    met = same.reshape(learners * questions, span)
    return np.divide(r.sum(axis=0), met.sum(axis=0), out=np.zeros(span), where=met.sum(axis=0) > 0)


def run_all(model: str, *, learners: int, questions: int, days: int, seed: int,
            retentions: Sequence[float] = (0.8, 0.85, 0.9, 0.95), per_review: int = REVIEW_QUESTIONS,
            spread: float = 1.0) -> dict[str, Run]:
    """Every policy on one seed's cohort."""
    truth = cohort(model, learners=learners, questions=questions, seed=seed, spread=spread)
    return {name: simulate(truth, name, make, days=days)
            for name, make in policies(retentions, per_review).items()}


def checkpoints(days: int, last_lesson: int) -> dict[str, int]:
    marks = {f"day {d}": d for d in (30, 60, 90) if d <= days}
    marks[f"+30 (day {last_lesson + 30})"] = last_lesson + 30
    return marks


def summary(runs: dict[str, Run]) -> list[dict]:
    """One row a policy: recall at each checkpoint, review questions a learner a week, and the questions
    remembered at day ``days`` beyond no review, per review question asked."""
    base = runs["no review"]
    rows = []
    for name, run in runs.items():
        per_learner = run.reviews / run.learners
        gained = (run.at(run.days) - base.at(run.days)) * run.questions
        rows.append({"policy": name, **{k: run.at(d) for k, d in checkpoints(run.days, run.last_lesson).items()},
                     "per_week": run.per_week, "gain_per_review": gained / per_learner if per_learner else None})
    return rows


# t quantiles (two-sided 95%) for a confidence interval over a few seeds, without scipy
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 19: 2.093, 29: 2.045}


def t_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and a 95% t-interval over seeds; with one seed the interval is unknown (nan)."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if len(x) < 2:
        return mean, float("nan"), float("nan")
    df = len(x) - 1
    t = _T95.get(df) or _T95[max(k for k in _T95 if k <= df)]
    half = t * float(x.std(ddof=1)) / math.sqrt(len(x))
    return mean, mean - half, mean + half


@dataclass(frozen=True)
class Comparison:
    """Every policy on several seeds' cohorts of one memory model."""

    model: str
    seeds: tuple[int, ...]
    runs: tuple[dict[str, Run], ...]  # one dict a seed

    @property
    def names(self) -> list[str]:
        return list(self.runs[0])

    def mean_recall(self, name: str) -> np.ndarray:
        return np.mean([r[name].recall for r in self.runs], axis=0)

    def mean(self, name: str, attribute: str) -> float:
        return float(np.mean([getattr(r[name], attribute) for r in self.runs]))

    def day(self, name: str, day: int) -> list[float]:
        return [r[name].at(day) for r in self.runs]

    def rows(self) -> list[dict]:
        per_seed = [summary(r) for r in self.runs]
        out = []
        for i, name in enumerate(self.names):
            row = {"policy": name}
            for key in per_seed[0][i]:
                if key == "policy":
                    continue
                values = [s[i][key] for s in per_seed]
                row[key] = None if any(v is None for v in values) else float(np.mean(values))
            out.append(row)
        return out

    def verdict(self) -> Verdict:
        """The best fixed rule (by recall at the last day) beside the Sprout retention with the best recall
        among those asking no more review questions a week than it; the margin over seeds."""
        days = self.runs[0]["no review"].days
        best = max(FIXED, key=lambda n: float(np.mean(self.day(n, days))))
        budget = self.mean(best, "per_week")
        sprouts = [n for n in self.names if n.startswith("Sprout")]
        within = [n for n in sprouts if self.mean(n, "per_week") <= budget]
        chosen = max(within, key=lambda n: float(np.mean(self.day(n, days)))) if within else None
        margin = (t_interval([s - f for s, f in zip(self.day(chosen, days), self.day(best, days), strict=True)])
                  if chosen else (float("nan"),) * 3)
        nearest = min(sprouts, key=lambda n: abs(self.mean(n, "per_week") - budget))
        return Verdict(self.model, days, best, budget, chosen, margin, nearest)


@dataclass(frozen=True)
class Verdict:
    model: str
    days: int
    best_fixed: str
    budget: float  # its review questions a learner a week
    sprout: str | None  # the best Sprout setting within that budget, if any
    margin: tuple[float, float, float]  # Sprout minus the fixed rule, day-90 recall: mean, low, high
    nearest: str  # the Sprout setting whose workload is nearest the fixed rule's

    @property
    def sprout_wins(self) -> bool:
        return self.sprout is not None and self.margin[1] > 0


def _one(job: tuple) -> dict[str, Run]:
    model, seed, kwargs = job
    return run_all(model, seed=seed, **kwargs)


def compare(model: str, *, learners: int = 500, questions: int = 40, days: int = 90, seeds: Sequence[int] = (1,),
            retentions: Sequence[float] = (0.8, 0.85, 0.9, 0.95), per_review: int = REVIEW_QUESTIONS,
            spread: float = 1.0, mapper: Callable = map) -> Comparison:
    """Every policy on each seed's cohort; ``mapper`` may be a process pool's ``map``."""
    kwargs = {"learners": learners, "questions": questions, "days": days, "retentions": tuple(retentions),
              "per_review": per_review, "spread": spread}
    runs = tuple(mapper(_one, [(model, s, kwargs) for s in seeds]))
    return Comparison(model, tuple(seeds), runs)


def table(comparison: Comparison) -> list[str]:
    """The comparison as a Markdown table, means over seeds."""
    rows = comparison.rows()
    marks = [k for k in rows[0] if k not in ("policy", "per_week", "gain_per_review")]
    head = ["policy", *(f"recall {m}" for m in marks), "reviews/learner/week", "questions gained per review"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        gain = "–" if row["gain_per_review"] is None else f"{row['gain_per_review']:.3f}"
        lines.append("| " + " | ".join([row["policy"], *(f"{row[m]:.1%}" for m in marks), f"{row['per_week']:.1f}",
                                        gain]) + " |")
    return lines


def verdict_lines(v: Verdict) -> list[str]:
    name = MODELS[v.model].name
    mean, low, high = v.margin
    if v.sprout is None:
        return [f"{name}: the best fixed rule, {v.best_fixed}, asks {v.budget:.1f} review questions a week; no Sprout "
                f"setting asks as few (nearest in workload: {v.nearest})"]
    interval = ("one seed, no interval" if math.isnan(low)
                else f"95% CI {low * 100:+.1f} to {high * 100:+.1f} over seeds")
    return [f"{name}: the best fixed rule, {v.best_fixed}, asks {v.budget:.1f} review questions a week; {v.sprout} "
            f"asks no more: day-{v.days} recall {mean * 100:+.1f} percentage points beside it ({interval})"]


@dataclass(frozen=True)
class Forecast:
    """What a desired retention costs and keeps, from the simulator: for the retention dial."""

    retention: float
    per_week: float  # review questions a learner a week
    recall: float  # expected recall at ``days``


@lru_cache(maxsize=64)
def forecast(retention: float, *, learners: int = 100, questions: int = 40, days: int = 90, seed: int = 1,
             per_review: int = REVIEW_QUESTIONS, model: str = "fsrs",
             parameters: tuple[float, ...] | None = None) -> Forecast:
    """Review questions a learner a week and expected recall at ``days`` for Sprout at ``retention``, from a
    small simulated cohort (FSRS-6 learners around the default parameters, unless ``model`` says "dhp");
    cached, as the same question is asked of the same settings again and again.

    With a workspace's fitted ``parameters`` (``review optimize``), the simulated learners are drawn around
    them and Sprout schedules with them: the forecast for that workspace's people. Without, a forecast for
    a typical cohort, around FSRS-6's defaults."""
    truth = cohort(model, learners=learners, questions=questions, seed=seed,
                   truth=parameters if model == "fsrs" else None)
    run = simulate(truth, f"Sprout {retention:.2f}", lambda: SproutReview(retention, per_review, parameters),
                   days=days)
    return Forecast(retention, run.per_week, run.at(days))


def dial_retentions(retention: float) -> list[float]:
    """The configured desired retention and one step (0.05) either side, within REVIEW_RETENTION's 0.7-0.99."""
    return sorted({round(min(max(r, 0.7), 0.99), 2) for r in (retention - 0.05, retention, retention + 0.05)})


def dial(retention: float, parameters: tuple[float, ...] | None = None) -> list[Forecast]:
    """The retention dial: what each retention near the configured one costs and keeps (``forecast``, with a
    workspace's fitted ``parameters`` when it has them). The report and an admin's Home tab show it."""
    return [forecast(r, parameters=parameters) for r in dial_retentions(retention)]
