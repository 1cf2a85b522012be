from __future__ import annotations

import re
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from content_packs.gift import (
    GiftCategory,
    GiftQuestion,
    GiftSyntaxError,
    import_gift,
    import_gift_file,
    read_gift,
)
from content_packs.loader import load_pack

SHARED_GIFT = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "gift"
MOODLE_EXAMPLES = SHARED_GIFT / "moodle-examples.gift"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXPORT = FIXTURES / "security-awareness-export.gift"


def convert(gift: str, **kwargs):
    result = import_gift(textwrap.dedent(gift), pack_id="imported", source_name="quiz.gift", **kwargs)
    assert not result.problems, result.problems
    return result


def questions(gift: str) -> list:
    result = convert(gift)
    return [q for lesson in result.pack.lessons for q in lesson.quiz]


def only(gift: str):
    (question,) = questions(gift)
    return question


def skipped(gift: str) -> list[tuple[int, str]]:
    result = import_gift(textwrap.dedent(gift), pack_id="imported", source_name="quiz.gift")
    return [(issue.line, issue.message) for issue in result.skipped]


# --- Moodle's own examples, checked against the GIFT documentation ------------------------------------


@pytest.fixture(scope="module")
def moodle_examples():
    if not MOODLE_EXAMPLES.is_file():
        pytest.skip(f"Moodle's GIFT examples are not at {MOODLE_EXAMPLES} (the shared fixtures folder)")
    return import_gift(
        MOODLE_EXAMPLES.read_text(encoding="utf-8"),
        pack_id="moodle-examples",
        source_name=MOODLE_EXAMPLES.name,
    )


def by_line(result, line: int):
    """The imported question that starts at ``line`` of the GIFT file."""
    items = [i for i in read_gift(MOODLE_EXAMPLES.read_text(encoding="utf-8")) if isinstance(i, GiftQuestion)]
    imported = [i for i in items if i.line not in {s.line for s in result.skipped}]
    flat = [q for lesson in result.pack.lessons for q in lesson.quiz]
    return dict(zip([i.line for i in imported], flat, strict=True))[line]


def test_moodle_examples_import_every_supported_question_and_report_the_rest(moodle_examples):
    result = moodle_examples
    assert not result.problems
    assert result.imported == Counter(single=16, short=9, true_false=5, multiple=2)
    reasons = {issue.line: issue.message for issue in result.skipped}
    assert sorted(line for line, m in reasons.items() if m.startswith("a numerical question")) == [
        16,
        70,
        72,
        74,
        76,
        85,
        175,
        202,
    ]
    assert sorted(line for line, m in reasons.items() if m.startswith("a matching question")) == [55, 61, 177]
    assert len(reasons) == 11
    # 43 questions in the file: every one is imported or reported.
    assert sum(result.imported.values()) + len(result.skipped) == 43


def test_moodle_examples_pack_is_written_and_loads(moodle_examples, tmp_path):
    result = import_gift_file(MOODLE_EXAMPLES, pack_id="moodle-examples", out_dir=tmp_path)
    assert result.written == tmp_path / "moodle-examples" / "pack.yaml"
    pack = load_pack(result.written)
    assert [len(lesson.quiz) for lesson in pack.lessons] == [10, 10, 10, 2]
    assert [lesson.id for lesson in pack.lessons] == [
        "moodle-examples",
        "moodle-examples-2",
        "moodle-examples-3",
        "moodle-examples-4",
    ]
    assert all(lesson.body.strip() and "moodle-examples.gift" in lesson.body for lesson in pack.lessons)
    assert pack.schedule.days == ["mon", "tue", "wed", "thu", "fri"] and pack.schedule.time == "09:30"


def test_moodle_examples_read_as_the_gift_documentation_says(moodle_examples):
    r = moodle_examples
    grant = by_line(r, 8)
    assert (grant.kind, grant.prompt, grant.choices, grant.answer) == (
        "single",
        "Who's buried in Grant's tomb?",
        ["Grant", "Jefferson", "no one"],
        "no one",
    )
    missing = by_line(r, 10)
    assert missing.prompt == "Grant is _____ in Grant's tomb." and missing.answer == "entombed"
    assert by_line(r, 12).kind == "true_false" and by_line(r, 12).answer is False
    assert by_line(r, 14).accept == ["no one", "nobody"]
    thanksgiving = by_line(r, 29)
    assert (
        thanksgiving.prompt
        == "The American holiday of Thanksgiving is celebrated on the _____ Thursday of November."
    )
    assert thanksgiving.answer == "fourth"
    assert by_line(r, 45).prompt == "Two plus two equals _____." and by_line(r, 45).accept == ["four", "4"]
    assert by_line(r, 51).answer is True
    # ::Kanji Origins:: has only "=China": a short answer in Moodle too.
    kanji = by_line(r, 90)
    assert kanji.id == "kanji-origins" and kanji.kind == "short" and kanji.accept == ["China"]
    feedback = by_line(r, 98)
    assert feedback.feedback == {
        "wrong answer": "feedback comment on the wrong answer",
        "another wrong answer": "feedback comment on this wrong answer",
        "right answer": "Very good!",
    }
    assert by_line(r, 108).prompt == "Who's buried in **Grant's tomb**?"  # [markdown] marker gone
    # {FALSE#…}: the first feedback is for the wrong answer, which is "true".
    assert by_line(r, 113).feedback == {"true": "No one is buried in Grant's tomb."}
    assert by_line(r, 115).answer == "full credit answer"
    jesus = by_line(r, 117)
    assert jesus.prompt == "Jesus Christ was from _____." and jesus.answer == "Nazareth"
    assert jesus.id == "jesus-hometown"
    # The answers end the text here, so there is no blank (Moodle adds one only before text).
    assert by_line(r, 123).prompt == "Jesus Christ was from" and by_line(r, 123).accept == ["Nazareth"]
    assert by_line(r, 130).kind == "multiple" and by_line(r, 130).answers == ["Grant", "Grant's wife"]
    assert by_line(r, 136).answers == ["Grant", "Grant's wife"]
    assert (
        by_line(r, 143).choices == ["= 2 + 2", "= 2 + 3", "= 2 + 4"] and by_line(r, 143).answer == "= 2 + 3"
    )
    control = by_line(r, 148)
    assert control.choices == ["~", "=", "#", "{", "}", "\\"] and control.answer == "\\"
    assert control.feedback["#"] == "# is a control character."
    assert control.feedback["\\"].startswith("Correct! \\ (backslash) is not a control character.")
    tomb = by_line(r, 184)
    assert tomb.id == "grants-tomb" and tomb.feedback["living"] == "We hope not!"
    assert by_line(r, 195).id == "jesus-hometown-short-answer-ex"


def test_moodle_examples_notes_say_what_partial_credit_was_lost(moodle_examples):
    notes: dict[int, str] = {}
    for issue in moodle_examples.notes:
        notes[issue.line] = notes.get(issue.line, "") + issue.message + "\n"
    assert "'half credit answer' (50%)" in notes[115]
    assert "'Nazereth' (75%)" in notes[123]
    assert "negative weight" in notes[130]
    assert 136 not in notes  # wrong answers there carry negative weights, as Moodle's docs advise


# --- A Moodle-style export with categories, HTML, escapes and feedback --------------------------------


def test_export_categories_become_lessons_and_html_becomes_markdown(tmp_path):
    result = import_gift_file(
        EXPORT, pack_id="security-awareness", out_dir=tmp_path, title="Security awareness"
    )
    assert result.written and not result.problems
    text = result.written.read_text(encoding="utf-8")
    assert not re.search(r"</?(p|b|i|br|strong|em|a)\b", text), "no raw HTML in the pack"
    pack = load_pack(result.written)
    assert pack.title == "Security awareness"
    assert [(lesson.id, lesson.title) for lesson in pack.lessons] == [
        ("phishing", "Phishing"),
        ("passwords", "Passwords"),
    ]
    invoice = pack.lessons[0].quiz[0]
    assert invoice.id == "urgent-invoice"
    assert invoice.prompt == (
        'An email from **"Accounts Payable" <ap@examp1e-billing.com>** says an invoice is '
        "*overdue* and must be paid today.\nWhat should you do first?"
    )
    assert invoice.answer == "Check the request through a channel you already trust"
    assert (
        invoice.feedback[invoice.answer]
        == "Right: a known phone number or your finance system, never the email itself."
    )
    assert (
        invoice.explain == "Invoice fraud relies on **urgency** and an *unusual request*. Verify out of band."
    )
    signs = pack.lessons[0].question("signs-of-phishing")
    assert signs.kind == "multiple" and signs.answers == [
        "Pressure to act within the hour",
        "A sign-in link you did not expect",
    ]
    padlock = pack.lessons[0].question("padlock")
    assert padlock.answer is False and set(padlock.feedback) == {"true", "false"}
    report = pack.lessons[0].question("report-address")
    assert report.accept == ["Report", "Report message"]
    assert (
        pack.lessons[0]
        .question("gift-card-scam")
        .prompt.startswith('A message from your "CEO" asks you to buy _____ for')
    )
    braces = pack.lessons[1].question("braces-and-tildes")
    assert braces.choices == ["\\{", "{{", "~{"] and braces.answer == "\\{"
    assert pack.lessons[1].question("reuse").prompt.startswith("Reusing one strong password")
    assert pack.lessons[1].question("multi-line").prompt == (
        "First line of the question.\nSecond line, after an escaped new line. True or false: this is one question?"
    )
    skipped_lines = {issue.line: issue.message for issue in result.skipped}
    assert set(skipped_lines) == {46, 53, 66, 71, 88}
    assert "essay" in skipped_lines[46] and "description" in skipped_lines[53]
    assert "numerical" in skipped_lines[66] and "matching" in skipped_lines[71]
    assert skipped_lines[88] == "choice 'No' appears twice"


# --- Each rule, one at a time ----------------------------------------------------------------------


def test_comments_are_ignored_and_blank_lines_separate_questions():
    result = convert("""\
        // A comment before everything
        Who wrote Hamlet?{=Shakespeare ~Marlowe}

        Water boils at 100 °C
        // a comment inside a question does not end it
        at sea level.{T}


        2 + 2 = ?{=4 ~5}
        """)
    quiz = result.pack.lessons[0].quiz
    assert [q.kind for q in quiz] == ["single", "true_false", "single"]
    assert quiz[1].prompt == "Water boils at 100 °C\nat sea level."
    assert [i.line for i in read_gift("// c\n// c\nQ?{T}\n\n// only comments\n")] == [3]


def test_titles_become_ids_and_untitled_questions_are_numbered():
    quiz = questions("""\
        ::Kanji origins::Where do kanji come from?{=China ~India}

        Untitled?{=Yes ~No}

        ::Kanji origins::Again?{=Yes ~No}

        ::日本::Non-ASCII title?{=Yes ~No}
        """)
    assert [q.id for q in quiz] == ["kanji-origins", "q2", "kanji-origins-2", "q4"]


@pytest.mark.parametrize("marker", ["[html]", "[markdown]", "[plain]", "[moodle]"])
def test_format_markers_are_stripped(marker):
    question = only(f"::Q::{marker}Pick one{{={marker}Right ~Wrong#{marker}Not this}}")
    assert question.prompt == "Pick one" and question.choices == ["Right", "Wrong"]
    assert question.feedback == {"Wrong": "Not this"}


def test_an_unknown_marker_is_text():
    assert only("[latex]Pick one{=a ~b}").prompt == "[latex]Pick one"


def test_html_becomes_markdown_and_never_passes_through():
    question = only(
        "[html]<p>Who is <b>buried</b> in <i>Grant's</i> tomb?</p><p>Think<br>again &amp; answer.</p>"
        "{=<strong>no one</strong>#<p>Yes, <em>no one</em>.</p> ~Grant}"
    )
    assert question.prompt == "Who is **buried** in *Grant's* tomb?\n\nThink\nagain & answer."
    assert question.choices == ["no one", "Grant"]  # button labels cannot show markup
    assert question.feedback == {"no one": "Yes, *no one*."}


def test_moodle_format_html_is_converted_too_but_plain_is_literal():
    assert only("Is <b>this</b> bold?{T}").prompt == "Is **this** bold?"
    assert only("[plain]What does the <b> tag do?{=Bold ~Nothing}").prompt == "What does the <b> tag do?"


def test_categories_become_lessons_named_by_their_last_segment():
    result = convert("""\
        Before any category?{T}

        $CATEGORY: $course$/top/Default for Safety 101/Fire drills

        Where do you meet?{=Car park ~Canteen}

        $CATEGORY: Safety/First aid

        Call 112 in the EU?{T}

        $CATEGORY: $course$/top/Default for Safety 101/Fire drills

        Use the lift in a fire?{F}

        $CATEGORY: Other/First aid

        Same name, other category?{T}
        """)
    lessons = result.pack.lessons
    assert [(lesson.id, lesson.title) for lesson in lessons] == [
        ("quiz", "Quiz"),
        ("fire-drills", "Fire drills"),
        ("first-aid", "First aid"),
        ("first-aid-2", "First aid"),
    ]
    assert [len(lesson.quiz) for lesson in lessons] == [1, 2, 1, 1]
    assert "Fire drills" in lessons[1].body and "Questions imported from quiz.gift." in lessons[1].body


def test_more_than_ten_questions_in_a_category_are_split_into_lessons():
    gift = "$CATEGORY: Big\n\n" + "\n\n".join(f"Question {n}?{{T}}" for n in range(1, 24))
    result = convert(gift)
    assert [(lesson.id, lesson.title, len(lesson.quiz)) for lesson in result.pack.lessons] == [
        ("big", "Big", 10),
        ("big-2", "Big (part 2)", 10),
        ("big-3", "Big (part 3)", 3),
    ]
    assert any("split into 3 lessons" in note.message for note in result.notes)


def test_single_choice():
    question = only("Capital of Italy?{=Rome ~Milan ~Turin}")
    assert (question.kind, question.answer, question.explain) == ("single", "Rome", "The answer is Rome.")


def test_multiple_right_answers_with_weights_become_multiple_select():
    question = only("Primes?{~%50%2 ~%50%3 ~%-100%4}")
    assert (
        question.kind == "multiple" and question.answers == ["2", "3"] and question.choices == ["2", "3", "4"]
    )
    assert question.explain == "The right answers are 2; 3."


@pytest.mark.parametrize(
    ("block", "answer"), [("{T}", True), ("{TRUE}", True), ("{F}", False), ("{FALSE}", False)]
)
def test_true_false_forms(block, answer):
    question = only(f"The statement.{block}")
    assert question.kind == "true_false" and question.answer is answer


def test_true_false_feedback_is_wrong_then_right():
    question = only("The sky is green.{F#Look up.#Right, it is blue.}")
    assert question.feedback == {"true": "Look up.", "false": "Right, it is blue."}
    assert question.explain == "The statement is false. Right, it is blue."
    question = only("The sky is blue.{TRUE#Look up.#Yes.}")
    assert question.feedback == {"false": "Look up.", "true": "Yes."}


def test_lowercase_true_is_a_short_answer_as_in_moodle():
    assert only("Say true.{true}").accept == ["true"]


def test_short_answer():
    question = only("Who's buried in Grant's tomb?{=no one =nobody}")
    assert question.kind == "short" and question.accept == ["no one", "nobody"]
    assert question.explain == "The answer is no one. Also accepted: nobody."


def test_per_answer_feedback_and_general_feedback():
    question = only(
        "Pick a colour of the sky.{=blue#Yes. ~green#No, that's grass.####The sky scatters blue light.}"
    )
    assert question.feedback == {"blue": "Yes.", "green": "No, that's grass."}
    assert question.explain == "The sky scatters blue light."


def test_without_general_feedback_the_explanation_names_the_answer_and_its_feedback():
    question = only("Pick a colour of the sky.{=blue#Rayleigh scattering ~green}")
    assert question.explain == "The answer is blue. Rayleigh scattering."


def test_escapes():
    question = only(r"Which is a GIFT control character\: \{, \}, \~, \= or \#?\nPick one.{=\~ ~a\\b ~\{\}}")
    assert question.prompt == "Which is a GIFT control character: {, }, ~, = or #?\nPick one."
    assert question.choices == ["~", "a\\b", "{}"]


def test_text_after_the_answers_makes_a_blank():
    assert (
        only("Grant is {~buried =entombed ~living} in Grant's tomb.").prompt
        == "Grant is _____ in Grant's tomb."
    )


@pytest.mark.parametrize(
    ("gift", "reason"),
    [
        ("When was Grant born?{#1822:5}", "a numerical question"),
        ("Match.{=Canada -> Ottawa =Italy -> Rome}", "a matching question"),
        ("Write an essay.{}", "an essay question"),
        ("Write an essay.{####Marked by hand.}", "an essay question"),
        ("Just some text with no answers.", "no answer block"),
        ("Broken {=a ~b", "unbalanced braces"),
        ("Two {=a ~b} blanks {=c ~d}.", "more than one answer block"),
        ("Only one choice?{~a}", "at least two answers"),
        ("Two right?{=a =b ~c}", "2 answers get full credit"),
        ("None right?{~%-50%a ~b}", "no answer has a positive weight"),
        ("Eleven?{=1 ~2 ~3 ~4 ~5 ~6 ~7 ~8 ~9 ~10 ~11}", "11 choices; Sprout allows at most 10"),
        ("Twice?{=same ~same}", "choice 'same' appears twice"),
        ("Empty choice?{=a ~}", "choice 2 is empty"),
        ("Weighted equals?{=%50%a ~b}", "=%…%"),
        ("Partial only?{=%50%half}", "no answer gets full credit"),
        ("{=a ~b}", "no text"),
    ],
)
def test_what_sprout_cannot_ask_is_reported_with_its_line(gift, reason):
    result = skipped("// header\n\nFirst?{T}\n\n" + gift + "\n")
    assert len(result) == 1
    line, message = result[0]
    assert line == 5 and reason in message


def test_long_choices_and_feedback_are_reported():
    long = "x" * 501
    assert skipped(f"Long?{{={long} ~b}}") == [(1, "choice 1 is 501 characters; Sprout allows at most 500")]
    assert "feedback on 'b'" in skipped(f"Long feedback?{{=a ~b#{'y' * 1001}}}")[0][1]


def test_a_question_right_after_a_category_line_is_reported():
    assert skipped("$CATEGORY: a\nQuestion?{T}") == [
        (1, "a question follows $CATEGORY without a blank line between them")
    ]


def test_issues_print_as_file_line_skipped_reason():
    result = import_gift("Good?{T}\n\nWhen?{#1822}\n", pack_id="p", source_name="quiz.gift")
    assert [i.format("quiz.gift") for i in result.issues] == [
        "quiz.gift:3: skipped: a numerical question ({#…}) compares numbers within a tolerance; "
        "Sprout has no numerical questions"
    ]


def test_nothing_importable_is_a_problem_and_nothing_is_written(tmp_path):
    gift = tmp_path / "numbers.gift"
    gift.write_text("When?{#1822}\n", encoding="utf-8")
    result = import_gift_file(gift, pack_id="numbers", out_dir=tmp_path / "packs")
    assert result.written is None and result.pack is None
    assert "no question could be imported" in str(result.problems[0])
    assert not (tmp_path / "packs").exists()


def test_refuses_to_overwrite_an_existing_pack_or_take_a_bad_id(tmp_path):
    gift = tmp_path / "quiz.gift"
    gift.write_text("Ok?{T}\n", encoding="utf-8")
    first = import_gift_file(gift, pack_id="quiz", out_dir=tmp_path)
    assert first.written
    before = first.written.read_text(encoding="utf-8")
    again = import_gift_file(gift, pack_id="quiz", out_dir=tmp_path)
    assert again.written is None and "already there" in str(again.problems[0])
    assert first.written.read_text(encoding="utf-8") == before
    assert import_gift_file(gift, pack_id="quiz", out_dir=tmp_path, overwrite=True).written
    bad = import_gift_file(gift, pack_id="Not An Id", out_dir=tmp_path)
    assert bad.written is None and "is not a pack id" in str(bad.problems[0])


def test_bom_and_windows_line_endings(tmp_path):
    gift = tmp_path / "windows.gift"
    gift.write_bytes("\ufeff// exported on Windows\r\n::Q1::Ok?{T}\r\n\r\n::Q2::Pick{=a ~b}\r\n".encode())
    result = import_gift_file(gift, pack_id="windows", out_dir=tmp_path / "out")
    assert [q.id for q in load_pack(result.written).lessons[0].quiz] == ["q1", "q2"]


def test_written_yaml_is_readable():
    result = convert("::Q::[html]<p>One</p><p>Two</p>{T}")
    assert 'schedule: {days: [mon, tue, wed, thu, fri], time: "09:30"}' in result.yaml
    assert "    body: |\n" in result.yaml
    assert "        prompt: |\n          One\n\n          Two\n" in result.yaml


def test_read_gift_gives_moodles_view_of_the_file():
    items = read_gift("$CATEGORY: a/b\n\n::N::Q?{=x ~y}\n\nBroken{\n")
    assert isinstance(items[0], GiftCategory) and items[0].name == "b"
    assert isinstance(items[1], GiftQuestion) and items[1].qtype == "multichoice" and items[1].name == "N"
    assert isinstance(items[2], GiftSyntaxError) and items[2].line == 5
