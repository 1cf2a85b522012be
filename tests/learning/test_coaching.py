"""The coaching rules: who needs a word, in which order coachees come, sharing on/off, the digest key, and
the roster's coach columns (parsed, resolved by email, checked against roles)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from learning.coaching import Coachee, coach_digest_key, in_order, needs_a_word, parse_share
from learning.digest import finished_week
from learning.errors import SproutError
from learning.roster import coach_problems, emails_to_look_up, parse_roster, resolve_emails

AT = datetime(2026, 12, 7, 8, tzinfo=UTC)


def coachee(name: str, *, answers: int = 0, correct: int = 0, last: timedelta | None = None,
            assigned: timedelta = timedelta(days=30), lid: int = 1) -> Coachee:
    return Coachee(lid, f"U{lid}", name, 0, 0, answers, correct, AT - last if last is not None else None, False,
                   AT - assigned)


def test_a_coachee_silent_for_a_week_needs_a_word_but_not_one_assigned_yesterday():
    assert needs_a_word(coachee("Ana", last=timedelta(days=7, seconds=1)), AT) == ["silent"]
    assert needs_a_word(coachee("Ana", last=timedelta(days=6)), AT) == []
    assert needs_a_word(coachee("New", assigned=timedelta(days=1)), AT) == [], "no chance to answer yet"
    assert needs_a_word(coachee("Never", assigned=timedelta(days=8)), AT) == ["silent"]


def test_low_accuracy_counts_from_three_answers():
    assert needs_a_word(coachee("Bo", answers=2, correct=0, last=timedelta(hours=1)), AT) == []
    assert needs_a_word(coachee("Bo", answers=3, correct=1, last=timedelta(hours=1)), AT) == ["accuracy"]
    assert needs_a_word(coachee("Bo", answers=4, correct=2, last=timedelta(hours=1)), AT) == [], "half is fine"


def test_those_who_need_a_word_come_first_then_by_name():
    people = [coachee("cy", last=timedelta(hours=1), lid=1), coachee("Bo", lid=2),
              coachee("ana", last=timedelta(hours=2), lid=3), coachee("Al", answers=5, correct=0,
                                                                    last=timedelta(hours=1), lid=4)]
    assert [c.name for c in in_order(people, AT)] == ["Al", "Bo", "ana", "cy"]


@pytest.mark.parametrize(("text", "shares"), [("coach on", True), ("COACH off", False), ("  coach   on ", True)])
def test_share_coach_on_or_off(text, shares):
    assert parse_share(text) is shares


@pytest.mark.parametrize("text", ["", "coach", "coach yes", "manager on", "coach on now"])
def test_anything_else_is_a_usage_message(text):
    with pytest.raises(SproutError, match="share coach on"):
        parse_share(text)


def test_the_digest_key_is_the_coach_and_the_weeks_first_day():
    week = finished_week(date(2026, 11, 30), "Europe/Berlin")
    assert coach_digest_key(7, week) == "coach_digest:7:2026-11-23"
    assert coach_digest_key(7, week) != coach_digest_key(8, week)


HEADER = "slack_user_id,name,role,coach,coach_email\n"


def test_the_coach_columns_parse_and_a_blank_cell_means_no_coach():
    roster = parse_roster(HEADER + "U01,Ana,learner,U09,\nU02,Bo,learner,,\nU09,Cy,coach,,\n", known_packs=set())
    assert roster.problems == []
    assert [(r.coach_slack_user_id, r.coach_given) for r in roster.rows] == [("U09", True), (None, True),
                                                                             (None, True)]
    plain = parse_roster("slack_user_id,name\nU01,Ana\n", known_packs=set())
    assert plain.rows[0].coach_given is False, "no coach column: coaches are left as they are"


def test_bad_coach_cells_are_named():
    roster = parse_roster(HEADER + "U01,Ana,learner,nope,\nU02,Bo,learner,U02,\nU03,Cy,learner,U09,x@y.io\n"
                                   "U04,Di,learner,,not-an-email\n", known_packs=set())
    assert [(p.line, p.column, p.message) for p in roster.problems] == [
        (2, "coach", "'nope' is not a Slack user id"),
        (3, "coach", "a person cannot be their own coach"),
        (4, "coach_email", "give the coach's Slack user id or their email, not both"),
        (5, "coach_email", "'not-an-email' is not an email address"),
    ]


def test_coach_emails_are_looked_up_and_resolved_all_or_nothing():
    roster = parse_roster("email,name,coach_email\nana@x.io,Ana,Cy@X.io\nbo@x.io,Bo,nobody@x.io\n",
                          known_packs=set())
    assert emails_to_look_up(roster.rows) == ["ana@x.io", "cy@x.io", "bo@x.io", "nobody@x.io"]
    found = {"ana@x.io": "U01", "cy@x.io": "U09", "bo@x.io": "U02", "nobody@x.io": None}
    strict = resolve_emails(roster.rows, found, skip_unknown=False)
    assert [p.line for p in strict.problems] == [3] and "coach's email nobody@x.io" in strict.problems[0].message
    lenient = resolve_emails(roster.rows, found, skip_unknown=True)
    assert [(r.slack_user_id, r.coach_slack_user_id, r.coach_given) for r in lenient.rows] == [
        ("U01", "U09", True), ("U02", None, False)], "an unknown coach leaves Bo's coach as it was"
    assert "their coach is unchanged" in lenient.skipped[0].message
    self_coached = resolve_emails(roster.rows[:1], {"ana@x.io": "U01", "cy@x.io": "U01"}, skip_unknown=False)
    assert self_coached.problems[0].message == "a person cannot be their own coach"


def test_a_coach_must_hold_the_coach_role_in_the_file_or_in_sprout():
    rows = parse_roster(HEADER + "U01,Ana,learner,U09,\nU02,Bo,learner,U08,\nU03,Cy,learner,U07,\n"
                                 "U04,Di,learner,U03,\n", known_packs=set()).rows
    problems = coach_problems(rows, {"U09": "coach", "U08": "facilitator", "U03": "coach"})
    assert [(p.line, p.message.split(" (")[0]) for p in problems] == [
        (3, "U08 is a facilitator in Sprout, not a coach"),
        (4, "U07 is not in Sprout yet: give them a row with role coach"),
        (5, "U03 is a learner in this file, not a coach"),  # the file's row wins over what is stored
    ]
