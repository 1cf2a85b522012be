"""Streaks and progress: what a learner sees of their own effort."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class LessonDay:
    local_date: date
    answered: bool  # the day's scheduled lesson was answered (or rated, for a lesson without questions)


def current_streak(days: Sequence[LessonDay], today: date) -> int:
    """Consecutive scheduled lesson days answered, counting back from the latest.

    Only days that had a scheduled lesson count, so weekends off and paused days (which
    had none) never break a streak. Today's lesson, while today lasts, cannot break it either.
    """
    ordered = sorted(days, key=lambda d: d.local_date, reverse=True)
    streak = 0
    for day in ordered:
        if day.answered:
            streak += 1
        elif day.local_date >= today and streak == 0:
            continue  # still time to answer today's
        else:
            break
    return streak


@dataclass(frozen=True)
class PackProgress:
    lessons_done: int
    lessons_total: int
    answered: int
    correct: int

    @property
    def accuracy(self) -> float | None:
        return None if self.answered == 0 else self.correct / self.answered

    @property
    def share_done(self) -> float:
        return 0.0 if self.lessons_total == 0 else self.lessons_done / self.lessons_total
