from __future__ import annotations

from pathlib import Path

import pytest

from content_packs.loader import PackError, parse_pack
from learning.progression import grade

HEAD = """\
id: kinds
title: Kinds
description: Every kind of question.
version: 1
schedule: {days: [mon], time: "09:00"}
certificate: {name: Kinds Certified, pass_score: 0.75, valid_days: 365}
triggers: {channel_join: [sales]}
cost: {amount: 1200, currency: USD}
discussion: ["What surprised you this week?"]
lessons:
  - id: one
    title: One
    minutes: 3
    body: Text.
    reflect: What will you do differently tomorrow?
    quiz:
"""

QUESTIONS = """\
      - id: single
        prompt: Pick B
        choices: [A, B, C]
        answer: B
        feedback: {A: "A is the old rule.", B: "Yes."}
        explain: B is right.
      - id: multi
        prompt: Pick the even ones
        choices: ["2", "3", "4"]
        answers: ["2", "4"]
        explain: Two and four.
      - id: tf
        prompt: The sky is green.
        answer: false
        feedback: {"true": "Look up.", "false": "Right."}
        explain: It is blue.
      - id: short
        prompt: Capital of France?
        accept: [Paris]
        explain: Paris.
      - id: yesno
        prompt: Is this a question?
        choices: [Yes, No]
        answer: Yes
        explain: It is.
"""


def load(text: str):
    return parse_pack(text, Path("pack.yaml"))


def test_every_kind_loads_with_its_kind():
    pack = load(HEAD + QUESTIONS)
    quiz = {q.id: q for q in pack.lessons[0].quiz}
    assert {k: q.kind for k, q in quiz.items()} == {
        "single": "single", "multi": "multiple", "tf": "true_false", "short": "short", "yesno": "single"}
    assert quiz["yesno"].choices == ["Yes", "No"], "unquoted Yes/No stay text, not booleans"
    assert pack.certificate.pass_score == 0.75 and pack.triggers.channel_join == ["sales"]
    assert pack.cost.currency == "USD" and pack.lessons[0].reflect


def test_grading_each_kind():
    quiz = {q.id: q for q in load(HEAD + QUESTIONS).lessons[0].quiz}
    assert grade(quiz["single"], 1).correct and grade(quiz["single"], 0).feedback == "A is the old rule."
    assert grade(quiz["multi"], [2, 0]).correct
    assert not grade(quiz["multi"], [0]).correct and grade(quiz["multi"], [0]).choice == "2"
    assert grade(quiz["tf"], 1).correct and grade(quiz["tf"], 0).feedback == "Look up."
    assert grade(quiz["short"], "  paRIS ").correct and not grade(quiz["short"], "Lyon").correct
    with pytest.raises(ValueError):
        grade(quiz["single"], 7)
    with pytest.raises(ValueError):
        grade(quiz["multi"], 1)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("{id: q, prompt: p, choices: [a, b], explain: e}", "give the correct choice"),
        ("{id: q, prompt: p, choices: [a, b], answers: [c], explain: e}", "'c' is not one of the choices"),
        ("{id: q, prompt: p, answer: maybe, explain: e}", "answer must be true or false"),
        ("{id: q, prompt: p, choices: [a, b], answer: a, accept: [a], explain: e}", "accept is for typed answers"),
        ("{id: q, prompt: p, choices: [a, b], answer: a, feedback: {c: x}, explain: e}", "not one of the choices"),
        ("{id: q, prompt: p, explain: e}", "a question needs"),
    ],
)
def test_malformed_questions_say_what_is_wrong(question, expected):
    with pytest.raises(PackError) as info:
        load(HEAD + "      - " + question + "\n")
    assert any(expected in str(p) for p in info.value.problems), info.value.problems
