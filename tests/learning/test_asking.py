"""What a learner typed to Sprout's DM, read: help, or the words to look up."""

from __future__ import annotations

import doctest

import pytest

from learning import asking


def test_the_examples_in_the_module_hold():
    assert doctest.testmod(asking).failed == 0


@pytest.mark.parametrize("said", ["help", "Help!", "HELP me", "?", "hi", "Hello Sprout", "hey", "", "  ",
                                  "what can you do?", "<@U0SPROUT> help"])
def test_greetings_and_calls_for_help_get_the_help(said):
    assert asking.read(said).kind == "help"


@pytest.mark.parametrize(("said", "words"), [
    ("how do I reset my MFA token?", "reset mfa token"),
    ("help me with phishing", "phishing"),  # help *with* something is a question
    ("Passwords", "passwords"),
    ("what's a strong password &amp; how long?", "strong password long"),
])
def test_a_question_is_looked_up_by_the_words_that_name_its_subject(said, words):
    asked = asking.read(said)
    assert (asked.kind, asked.words) == ("search", words)


def test_only_the_first_words_of_a_long_question_are_searched():
    asked = asking.read(" ".join(f"topic{i}" for i in range(30)))
    assert asked.words.split() == [f"topic{i}" for i in range(asking.MAX_WORDS)]


def test_the_text_kept_is_what_the_person_typed_not_slacks_encoding():
    asked = asking.read("is &lt;script&gt; safe in <https://wiki.example|our wiki>? ask <@U0FAC|fay>")
    assert asked.text == "is <script> safe in our wiki? ask @fay"
