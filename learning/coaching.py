"""Coaches and their coachees: what a coach is shown of each learner, and when their weekly digest is due.

Pure rules, no SQL and no Slack. ``db.coaching`` aggregates the records into ``Coachee`` rows (one per
learner, figures over the last 7 and 30 days) and their struggles and shared notes; this module decides
who needs a word from their coach, in which order coachees are shown, and the digest's outbox key.

What a coach sees, and why:

- every coachee's figures (lessons answered in the last 7 and 30 days, accuracy over 30 days, last
  activity) and the questions they miss most: the progress an admin or facilitator assigned them to follow;
- a coachee's reflections and comments only while the coachee shares them (``/learn share coach on``).
  They are the learner's own words, so the choice is theirs; private by default, and private again when
  they get another coach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from learning.digest import LOW_ACCURACY, MIN_ANSWERS_FOR_ACCURACY, SILENT_DAYS, DigestWeek
from learning.errors import SproutError

ROLE = "coach"
WEEK = timedelta(days=7)
MONTH = timedelta(days=30)  # the longer window: accuracy and struggles need more than a week of answers


@dataclass(frozen=True)
class Coachee:
    """One learner as their coach sees them, counted over ``[as_of - 7 days, as_of)`` and 30 days."""

    learner_id: int
    slack_user_id: str
    name: str
    lessons_week: int  # lessons with an answer given in the last 7 days
    lessons_month: int  # the same over 30 days
    answers_month: int  # quiz and review answers over 30 days
    correct_month: int
    last_active_at: datetime | None  # their latest answer, ever
    shares_notes: bool
    assigned_at: datetime

    @property
    def accuracy(self) -> float | None:
        return self.correct_month / self.answers_month if self.answers_month else None


@dataclass(frozen=True)
class Struggle:
    """A question the learner got wrong more than once lately (lessons and reviews together)."""

    pack_id: str
    lesson_id: str
    question_id: str
    prompt: str  # in the wording asked last
    wrong: int
    answers: int


@dataclass(frozen=True)
class SharedNote:
    """A reflection or a comment the learner wrote, read only while they share them with their coach."""

    kind: str  # "reflection" or "comment"
    pack_id: str
    lesson_id: str
    text: str
    at: datetime


def needs_a_word(coachee: Coachee, as_of: datetime) -> list[str]:
    """Why a coach might reach out: "silent" (no answer in the last 7 days, assigned at least that long,
    so a new coachee is not flagged before they had a chance) or "accuracy" (under half right over at least
    three answers in 30 days: the manager digest's rules, over the coach's longer window).

    >>> from datetime import UTC
    >>> at = datetime(2026, 12, 7, tzinfo=UTC)
    >>> quiet = Coachee(1, "U1", "Ana", 0, 2, 4, 1, at - timedelta(days=9), False, at - timedelta(days=40))
    >>> needs_a_word(quiet, at)
    ['silent', 'accuracy']
    >>> needs_a_word(Coachee(2, "U2", "Bo", 0, 0, 0, 0, None, False, at - timedelta(days=2)), at)
    []
    """
    reasons = []
    recently = coachee.last_active_at is not None and coachee.last_active_at >= as_of - timedelta(days=SILENT_DAYS)
    if not recently and coachee.assigned_at <= as_of - timedelta(days=SILENT_DAYS):
        reasons.append("silent")
    if coachee.answers_month >= MIN_ANSWERS_FOR_ACCURACY and (coachee.accuracy or 0.0) < LOW_ACCURACY:
        reasons.append("accuracy")
    return reasons


def in_order(coachees: list[Coachee], as_of: datetime) -> list[Coachee]:
    """Those who may need a word first, then by name: what a coach should look at is at the top."""
    return sorted(coachees, key=lambda c: (not needs_a_word(c, as_of), c.name.lower(), c.slack_user_id))


def parse_share(text: str) -> bool:
    """``/learn share coach on|off`` after ``share``: True to share reflections and comments.

    >>> parse_share("coach on"), parse_share(" Coach OFF ")
    (True, False)
    """
    words = text.lower().split()
    if len(words) != 2 or words[0] != "coach" or words[1] not in ("on", "off"):
        raise SproutError("Usage: `/learn share coach on` shows your coach your reflections and comments; "
                          "`/learn share coach off` keeps them to yourself (the default).")
    return words[1] == "on"


def coach_digest_key(coach_id: int, week: DigestWeek) -> str:
    """The outbox key of a coach's weekly digest: one per coach and week, whatever retries or restarts do."""
    return f"coach_digest:{coach_id}:{week.start_local.isoformat()}"
