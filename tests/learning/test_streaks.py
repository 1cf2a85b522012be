from __future__ import annotations

from datetime import date, timedelta

from learning.streaks import LessonDay, current_streak

MON = date(2026, 11, 30)


def days(*pairs):
    return [LessonDay(MON + timedelta(days=offset), answered) for offset, answered in pairs]


def test_weekends_and_pauses_have_no_lesson_so_they_never_break_a_streak():
    # Mon-Fri answered, weekend off, Mon answered; then a pause (no lessons) and Thu answered.
    history = days((0, True), (1, True), (2, True), (3, True), (4, True), (7, True), (10, True))
    assert current_streak(history, today=MON + timedelta(days=10)) == 7


def test_a_missed_lesson_day_breaks_it():
    history = days((0, True), (1, False), (2, True), (3, True))
    assert current_streak(history, today=MON + timedelta(days=3)) == 2


def test_todays_lesson_can_still_be_answered():
    history = days((0, True), (1, True), (2, False))
    assert current_streak(history, today=MON + timedelta(days=2)) == 2
    assert current_streak(history, today=MON + timedelta(days=3)) == 0


def test_no_lessons_no_streak():
    assert current_streak([], today=MON) == 0
