"""Pack translations: validated like a pack (file:line: path: message), served lesson by lesson, graded
by position whatever language the learner read."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from content_packs.catalog import Catalog
from content_packs.loader import BUNDLED_DIR, PackError, load_pack, load_packs
from content_packs.translations import parse_translation
from learning.language import pack_language
from learning.progression import grade_shown, shown_choice

PACK = textwrap.dedent("""\
    id: demo
    title: Demo
    description: A demo pack.
    version: 1
    schedule: {days: [mon], time: "09:00"}
    lessons:
      - id: one
        title: Passwords
        minutes: 2
        body: Use long passphrases.
        links:
          - {kind: article, title: "NCSC", url: "https://www.ncsc.gov.uk/"}
        quiz:
          - id: q1
            prompt: Which is strongest?
            choices: ["Summer2025!", "coffee-train-fish-moon", "P@ssw0rd"]
            answer: "coffee-train-fish-moon"
            explain: Length wins.
          - id: q2
            prompt: Type the word for a long password.
            accept: [passphrase]
            explain: A passphrase.
      - id: two
        title: Phishing
        minutes: 2
        body: Check before you click.
        reflect: When did you last get a strange email?
""")

DE = textwrap.dedent("""\
    pack: demo
    language: de
    title: Vorführung
    description: Ein Vorführpaket.
    lessons:
      one:
        title: Passwörter
        body: Nutzen Sie lange Passphrasen.
        quiz:
          q1:
            prompt: Was ist am stärksten?
            choices: ["Sommer2025!", "Kaffee-Zug-Fisch-Mond", "P@sswort"]
            answer: "Kaffee-Zug-Fisch-Mond"
            feedback: {"Sommer2025!": "Jahreszahlen errät man schnell."}
            explain: Länge gewinnt.
          q2:
            prompt: Wie heißt ein langes Passwort?
            accept: [Passphrase, Passsatz]
            explain: Eine Passphrase.
""")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "demo" / "translations").mkdir(parents=True)
    (tmp_path / "demo" / "pack.yaml").write_text(PACK, encoding="utf-8")
    (tmp_path / "demo" / "translations" / "de.yaml").write_text(DE, encoding="utf-8")
    return tmp_path


def problems(folder: Path, text: str) -> list[str]:
    file = folder / "demo" / "translations" / "de.yaml"
    with pytest.raises(PackError) as exc:
        parse_translation(text, file, load_pack(folder / "demo" / "pack.yaml"))
    return [f"{p.line}: {p.path}: {p.message}" for p in exc.value.problems]


def test_the_bundled_translations_load_without_a_problem():
    result = load_packs(BUNDLED_DIR)
    assert result.problems == []
    assert set(result.translations["onboarding-essentials"]) == {"de"}
    assert set(result.translations["sicher-im-homeoffice"]) == {"en"}
    assert result.packs["sicher-im-homeoffice"].language == "de"


def test_every_problem_is_named_with_its_line(folder):
    broken = DE.replace(
        '        choices: ["Sommer2025!", "Kaffee-Zug-Fisch-Mond", "P@sswort"]\n',
        '        choices: ["Sommer2025!", "Kaffee-Zug-Fisch-Mond"]\n',
    ) + "  three:\n    title: Gibt es nicht\n    body: Nichts.\n"
    found = problems(folder, broken)
    assert "12: lessons.one.quiz.q1.choices: 2 choices, the original has 3" in found
    assert "20: lessons.three: no lesson 'three' in the pack" in found


def test_a_translated_answer_must_be_a_translated_choice_in_the_original_place(folder):
    assert "13: lessons.one.quiz.q1.answer: 'Kaffee' is not one of the translated choices" in problems(
        folder, DE.replace('answer: "Kaffee-Zug-Fisch-Mond"', 'answer: "Kaffee"'))
    assert ("13: lessons.one.quiz.q1.answer: 'P@sswort' is choice 3, the original's answer is choice 2"
            in problems(folder, DE.replace('answer: "Kaffee-Zug-Fisch-Mond"', 'answer: "P@sswort"')))


def test_unknown_ids_missing_questions_and_unknown_keys(folder):
    found = problems(folder, DE.replace("      q2:\n", "      q9:\n"))
    assert "16: lessons.one.quiz.q9: no question 'q9' in lesson 'one'" in found
    assert "9: lessons.one.quiz: question 'q2' is not translated (a translated lesson has all its questions)" in found
    assert problems(folder, DE.replace("    body: Nutzen", "    bdy: x\n    body: Nutzen")) == [
        "8: lessons.one.bdy: unknown key"]


def test_the_file_name_is_its_language_and_a_reflection_is_translated_too(folder):
    text = DE.replace("language: de", "language: fr") + (
        "  two:\n    title: Phishing\n    body: Erst prüfen, dann klicken.\n")
    found = problems(folder, text)
    assert any(p.startswith("2: language: the file is named de.yaml") for p in found)
    assert "20: lessons.two: the lesson asks for a reflection: translate reflect too" in found


def test_a_broken_translation_is_reported_and_left_out_but_its_pack_still_loads(folder):
    (folder / "demo" / "translations" / "de.yaml").write_text(DE.replace("title: Vorführung\n", ""), encoding="utf-8")
    result = load_packs(folder)
    assert "demo" in result.packs
    assert result.translations == {}
    assert [str(p).split(": ", 1)[1] for p in result.problems] == ["title: required field is missing"]
    assert str(result.problems[0]).startswith(str(folder / "demo" / "translations" / "de.yaml") + ":1:")
    assert result.broken_translations["demo"] == [folder / "demo" / "translations" / "de.yaml"]


def test_a_german_learner_reads_german_a_french_one_the_original():
    languages = ["en", "de"]
    assert pack_language(languages, None, "de-DE") == "de"
    assert pack_language(languages, None, "fr-FR") == "en"
    assert pack_language(languages, "en", "de-DE") == "en"  # their own choice wins over Slack's locale
    assert pack_language(["de", "en"], None, None) == "de"  # no locale at all: the pack's own language


def test_a_partial_translation_falls_back_lesson_by_lesson(folder):
    catalog, _ = Catalog.from_directory(folder)
    assert catalog.languages("demo") == ["en", "de"]
    assert catalog.shown_lesson("demo", "one", "de").title == "Passwörter"
    assert catalog.shown_lesson("demo", "two", "de").title == "Phishing"
    assert catalog.language_shown("demo", "one", "de") == "de"
    assert catalog.language_shown("demo", "two", "de") == "en"  # not translated: shown, and recorded, as original
    assert catalog.language_shown("demo", "one", "fr") == "en"
    assert catalog.shown("demo", "de").title == "Vorführung"
    # Links not translated keep their title; ids, minutes and URLs are the original's.
    shown = catalog.shown_lesson("demo", "one", "de")
    assert shown.links[0].title == "NCSC" and shown.minutes == 2


def test_grading_is_the_same_whatever_language_was_shown(folder):
    catalog, _ = Catalog.from_directory(folder)
    own = catalog.lesson("demo", "one").question("q1")
    german = catalog.shown_lesson("demo", "one", "de").question("q1")
    for index in range(3):
        kept, told = grade_shown(own, german, index)
        kept_en, _ = grade_shown(own, own, index)
        assert kept == kept_en  # the record is the same as an English learner's
        assert kept.choice == own.options[index]
        assert told.choice == german.options[index] and told.correct == kept.correct
    _, told = grade_shown(own, german, 0)
    assert told.feedback == "Jahreszahlen errät man schnell." and told.explain == "Länge gewinnt."
    assert shown_choice(own, german, "coffee-train-fish-moon") == "Kaffee-Zug-Fisch-Mond"
    # A typed answer: the translation's words, and the original's, are accepted.
    typed_own = catalog.lesson("demo", "one").question("q2")
    typed_de = catalog.shown_lesson("demo", "one", "de").question("q2")
    assert grade_shown(typed_own, typed_de, "passsatz")[0].correct
    assert grade_shown(typed_own, typed_de, "passphrase")[0].correct
    assert not grade_shown(typed_own, typed_de, "kennwort")[0].correct


def test_the_bundled_german_translation_names_only_lessons_that_exist():
    pack = load_pack(BUNDLED_DIR / "onboarding-essentials" / "pack.yaml")
    catalog, _ = Catalog.from_directory(BUNDLED_DIR)
    translated = catalog.translation("onboarding-essentials", "de")
    assert translated is not None and translated.lesson_ids <= {lesson.id for lesson in pack.lessons}
