"""Content health's rules: what raises a flag, and what does not."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime

from learning import health
from learning.health import LessonSignals, LinkStatus, lesson_flags, link_flags, ordered, question_flags
from learning.itemstats import ItemStats

T = datetime(2026, 12, 1, tzinfo=UTC)


def test_the_examples_in_the_module_hold():
    assert doctest.testmod(health).failed == 0


def test_a_low_mean_needs_enough_ratings_and_a_mean_under_three():
    assert [f.kind for f in lesson_flags([LessonSignals("p", "l", ratings=3, average_rating=2.9)])] == ["low_rating"]
    assert lesson_flags([LessonSignals("p", "l", ratings=3, average_rating=3.0)]) == []
    assert lesson_flags([LessonSignals("p", "l", ratings=2, average_rating=1.0)]) == []


def test_one_inaccurate_report_is_not_a_flag_and_two_are():
    assert lesson_flags([LessonSignals("p", "l", inaccurate=1)]) == []
    assert [f.kind for f in lesson_flags([LessonSignals("p", "l", inaccurate=2)])] == ["inaccurate"]


def test_a_lesson_nobody_touched_is_flagged_once_sent_to_enough_people():
    assert [f.kind for f in lesson_flags([LessonSignals("p", "l", sent=5, opened=0)])] == ["unopened"]
    assert lesson_flags([LessonSignals("p", "l", sent=5, opened=1)]) == []
    assert lesson_flags([LessonSignals("p", "l", sent=4, opened=0)]) == []


def test_item_analysis_flags_become_one_flag_per_question():
    stats = [ItemStats("p", "l", "q1", "Which?", 10, 0.1, -0.3, ("too hard", "negative discrimination")),
             ItemStats("p", "l", "q2", "Fine?", 10, 0.6, 0.4, ())]
    (flag,) = question_flags(stats)
    assert (flag.kind, flag.subject) == ("question", "q1")
    assert flag.detail == "too hard, negative discrimination: 10% right at the first try of 10; discrimination -0.30"


def test_a_link_is_flagged_after_two_failures_in_a_row_for_every_lesson_using_it():
    once = LinkStatus("https://x.test/a", False, None, "URLError: timed out", 1, T, T)
    twice = LinkStatus("https://x.test/a", False, None, "URLError: timed out", 2, T, T)
    used = {"https://x.test/a": [("p", "l1"), ("p", "l2")]}
    assert link_flags([once], used) == []
    assert [(f.lesson_id, f.subject) for f in link_flags([twice], used)] == [
        ("l1", "https://x.test/a"), ("l2", "https://x.test/a")]
    assert "did not answer (URLError: timed out)" in link_flags([twice], used)[0].detail
    assert link_flags([LinkStatus("https://x.test/a", True, 200, None, 0, None, T)], used) == []
    assert link_flags([twice], {}) == []  # no lesson shows it any more


def test_wrong_content_comes_before_unloved_content():
    flags = [*lesson_flags([LessonSignals("p", "a", ratings=3, average_rating=1.0, inaccurate=2, sent=9)]),
             *link_flags([LinkStatus("https://x.test", False, 404, None, 3, T, T)], {"https://x.test": [("p", "b")]})]
    assert [f.kind for f in ordered(flags)] == ["inaccurate", "broken_link", "low_rating", "unopened"]
