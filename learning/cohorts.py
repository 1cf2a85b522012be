"""Cohorts and tracks: the rules, without Slack or SQL.

A cohort is a named group taking one pack together from a start date, each member at the
pack's time in their own zone. Where a late member begins, who counts as behind, and when a
track moves a learner on to its next pack are decided here, from plain values.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, timedelta
from typing import Literal

from content_packs.schema import WEEKDAYS, Lesson, Pack
from content_packs.tracks import TrackPack

JoinMode = Literal["current", "start"]
JOIN_MODES: tuple[str, ...] = ("current", "start")
Standing = Literal["not_started", "behind", "on_track"]


# -- the cohort's current lesson ----------------------------------------------------------------


def reached(pack: Pack, delivered_lesson_ids: Collection[str]) -> int:
    """How far into the pack a member has got: the 1-based position of the furthest lesson they
    have been sent (in the pack's current order), 0 if none. Lessons no longer in the pack are ignored."""
    return max((i + 1 for i, lesson in enumerate(pack.lessons) if lesson.id in delivered_lesson_ids), default=0)


def current_position(positions: Sequence[int]) -> int:
    """The cohort's current lesson, as a position: the furthest lesson that **at least half** of the
    members have been sent (the upper median of how far each has got). 0 when fewer than half have
    had any lesson, i.e. the cohort has not really started.

    Half rather than all, so one member who is away does not hold the cohort back, and one who
    pulls lessons early with ``/learn next`` does not drag it forward.

    >>> current_position([3, 3, 3, 1, 0])
    3
    >>> current_position([4, 3, 0, 0])
    3
    >>> current_position([1, 0, 0])
    0
    """
    if not positions:
        return 0
    ordered = sorted(positions, reverse=True)
    return ordered[(len(ordered) + 1) // 2 - 1]


def current_lesson(pack: Pack, positions: Sequence[int]) -> Lesson | None:
    position = current_position(positions)
    return pack.lessons[min(position, len(pack.lessons)) - 1] if position else None


def joining_lesson(join_mode: str, current: Lesson | None) -> str | None:
    """Where someone added to a cohort begins (``Enrollment.start_lesson_id``): the cohort's current
    lesson when it joins "current" and has started, otherwise the pack's first lesson (None)."""
    return current.id if join_mode == "current" and current is not None else None


def skipped(pack: Pack, start_lesson_id: str | None) -> int:
    """Lessons a member skipped by joining at ``start_lesson_id``: they count as done for them."""
    if start_lesson_id is None:
        return 0
    return pack.lesson_index(start_lesson_id) or 0


def standing(*, answered_lessons: int, done: int, skipped_lessons: int, current: int) -> Standing:
    """Not started: no lesson answered. Behind: fewer lessons done (answered, or received when they
    have no questions, plus those skipped by joining late) than the cohort's current lesson."""
    if answered_lessons == 0:
        return "not_started"
    if skipped_lessons + done < current:
        return "behind"
    return "on_track"


def first_lesson_day(start_on: date, days: Sequence[str]) -> date:
    """The cohort's first lesson day: its start date, or the next day the pack has lessons."""
    for offset in range(7):
        day = start_on + timedelta(days=offset)
        if WEEKDAYS[day.weekday()] in days:
            return day
    raise ValueError("a pack's schedule names at least one weekday")


# -- tracks ------------------------------------------------------------------------------------


def pack_finished(
    pack: Pack,
    delivered_lesson_ids: Collection[str],
    answered: Collection[tuple[str, str]],
    start_lesson_id: str | None = None,
) -> bool:
    """Every lesson delivered and every one of its questions answered ((lesson id, question id) pairs).
    Lessons before ``start_lesson_id`` (skipped by joining a cohort late) are not needed."""
    needed = pack.lessons[skipped(pack, start_lesson_id):]
    return all(
        lesson.id in delivered_lesson_ids and all((lesson.id, q.id) in answered for q in lesson.quiz)
        for lesson in needed
    )


def may_start(step: TrackPack, *, previous_finished: bool, previous_certified: bool) -> bool:
    """Whether a learner may move on to ``step``: the previous pack finished, or its certificate
    earned when the step is gated on it."""
    return previous_certified if step.gate == "certificate" else previous_finished


__all__ = [
    "JOIN_MODES",
    "JoinMode",
    "Standing",
    "current_lesson",
    "current_position",
    "first_lesson_day",
    "joining_lesson",
    "may_start",
    "pack_finished",
    "reached",
    "skipped",
    "standing",
]
