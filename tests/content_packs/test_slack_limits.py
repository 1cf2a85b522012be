"""Packs that would break one of Slack's limits once Sprout renders them are refused, with the line named."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import app
from bot.blocks import lesson_message
from bot.pack_limits import Rendered, SlackLimits, explain, renderings
from content_packs.loader import BUNDLED_DIR, PackError, load_packs, parse_pack, parse_pack_located
from sandbox.blockkit import validate_blocks, validate_view

CHECK = SlackLimits(validate_blocks=validate_blocks, validate_view=validate_view)

HEAD = textwrap.dedent(
    """\
    id: limits
    title: {title}
    description: A pack for tests.
    version: 1
    schedule: {{days: [mon], time: "09:30"}}
    {extra}lessons:
      - id: first
        title: {lesson_title}
        minutes: 2
        body: A short body.
        links:
    {links}
        quiz:
          - id: q1
            prompt: {prompt}
            choices: [{choices}]
            answer: "{answer}"
            explain: Because.
    """
)


def pack_text(*, title="Limits", lesson_title="First", links=1, url="https://example.org/a", prompt="Pick one",
              choices=("a", "b"), extra="") -> str:
    link_lines = "\n".join(f'      - {{kind: article, title: "Link {i}", url: "{url}"}}' for i in range(links))
    return HEAD.format(title=title, lesson_title=lesson_title, links=link_lines, prompt=prompt,
                       choices=", ".join(f'"{c}"' for c in choices), answer=choices[0], extra=extra)


def refused(text: str) -> list[str]:
    with pytest.raises(PackError) as info:
        parse_pack(text, Path("pack.yaml"), check=CHECK)
    return [str(p) for p in info.value.problems]


def line_of(text: str, start: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if line.strip().startswith(start))


def test_a_lesson_title_too_long_for_the_header_is_refused_at_its_line():
    text = pack_text(lesson_title="T" * 150)  # the schema allows 150; the header adds "📘 "
    [problem] = refused(text)
    assert problem.startswith(f"pack.yaml:{line_of(text, 'title: TTT')}: lessons.0.title: the header")
    assert "152 characters; Slack allows 150" in problem


def test_a_prompt_whose_lettered_choices_overflow_a_section_is_refused_at_the_prompt():
    # Choices over 75 characters are listed in the message (A, B, C…) with the prompt: one section.
    text = pack_text(prompt="P" * 1500, choices=[c * 400 for c in "abcd"])
    [problem] = refused(text)
    assert problem.startswith(f"pack.yaml:{line_of(text, 'prompt:')}: lessons.0.quiz.0.prompt: a section's text")
    assert "Slack allows 3,000" in problem


def test_a_link_whose_address_overflows_its_section_is_refused_at_the_link():
    text = pack_text(url="https://example.org/" + "a" * 2975)  # within the schema's 3,000
    [problem] = refused(text)
    assert problem.startswith(f"pack.yaml:{line_of(text, '- {kind: article')}: lessons.0.links.0: a section's text")


def test_a_lesson_with_more_blocks_than_a_message_holds_is_refused_at_the_lesson():
    text = pack_text(links=48)
    [problem] = refused(text)
    assert problem.startswith(f"pack.yaml:{line_of(text, '- id: first')}: lessons.0: the lesson message")
    assert "blocks; Slack allows 50 in a message" in problem


def test_a_certificate_pack_title_too_long_for_the_recertification_header_is_refused_at_the_title():
    text = pack_text(title="C" * 140, extra="certificate: {name: Cert, valid_days: 365}\n")
    [problem] = refused(text)
    assert problem.startswith("pack.yaml:2: title: the header in the recertification review")


def test_long_choices_become_letters_so_no_button_or_option_goes_over_75():
    text = pack_text(choices=["x" * 76, "y" * 300])
    pack = parse_pack(text, Path("pack.yaml"), check=CHECK)
    multi = text.replace('answer: "' + "x" * 76 + '"', 'answers: ["' + "x" * 76 + '"]')
    assert parse_pack(multi, Path("pack.yaml"), check=CHECK).lessons[0].quiz[0].kind == "multiple"
    asked = next(renderings(pack))
    buttons = [e["text"]["text"] for b in asked.payload if b.get("type") == "actions" for e in b["elements"]]
    assert buttons == ["A", "B"]


def test_a_button_or_option_over_75_characters_is_traced_to_its_choice():
    pack, _ = parse_pack_located(pack_text(choices=["a", "b"]), Path("pack.yaml"))
    rendered = next(renderings(pack))
    blocks = [dict(b) for b in rendered.payload]
    at = next(i for i, b in enumerate(blocks) if str(b.get("block_id", "")).startswith("answer:"))
    blocks[at] = {**blocks[at], "elements": [dict(e) for e in blocks[at]["elements"]]}
    blocks[at]["elements"][1] = {**blocks[at]["elements"][1], "text": {"type": "plain_text", "text": "b" * 76}}
    broken = Rendered(rendered.what, "message", blocks, rendered.sources)
    [error] = validate_blocks(blocks)
    loc, message = explain(broken, error)
    assert loc == ("lessons", 0, "quiz", 0, "choices", 1)
    assert message.startswith("a button's text") and "76 characters; Slack allows 75" in message
    options = {"type": "actions", "block_id": "pick:q1", "elements": [
        {"type": "checkboxes", "action_id": "pick", "options": [
            {"text": {"type": "plain_text", "text": "o" * 80}, "value": "0"}]}]}
    picked = Rendered("x", "message", [options], (("lessons", 0, "quiz", 0),))
    [error] = validate_blocks([options])
    assert explain(picked, error) == (("lessons", 0, "quiz", 0, "choices", 0),
                                      "an option's text in x would be 80 characters; Slack allows 75: shorten "
                                      "the choice")


def test_a_markdown_block_and_a_modal_are_held_to_their_own_limits():
    block = {"type": "markdown", "text": "m" * 12_001}
    [error] = validate_blocks([block])
    assert explain(Rendered("x", "message", [block], (("lessons", 0, "body"),)), error) == (
        ("lessons", 0, "body"), "a markdown block in x would be 12,001 characters; Slack allows 12,000: shorten the "
        "paragraph")
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"},
            "blocks": [{"type": "divider"}] * 101}
    [error] = validate_view(view)
    loc, message = explain(Rendered("the reflection window", "modal", view, (("lessons", 0, "reflect"),) * 101), error)
    assert loc == ("lessons", 0) and "has 101 blocks; Slack allows 100 in a modal" in message


def test_the_check_renders_exactly_but_sprout_still_fits_what_it_sends():
    pack = parse_pack(pack_text(), Path("pack.yaml"))
    long_title = pack.model_copy(update={"lessons": [pack.lessons[0].model_copy(update={"title": "T" * 150})]})
    list(renderings(long_title))
    from bot.pack_limits import _state

    header = lesson_message(long_title, long_title.lessons[0], _state(long_title.lessons[0], long_title, 0)).blocks[0]
    assert len(header["text"]["text"]) == 150  # outside the check, the builders cut to fit as before


def test_a_pack_that_breaks_a_limit_is_not_loaded_and_the_others_are(tmp_path):
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "pack.yaml").write_text(pack_text().replace("id: limits", "id: good"))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "pack.yaml").write_text(pack_text(lesson_title="T" * 150))
    result = load_packs(tmp_path, check=CHECK)
    assert list(result.packs) == ["good"]
    assert [p.path for p in result.problems] == ["lessons.0.title"]
    assert sorted(load_packs(tmp_path).packs) == ["good", "limits"]  # without the check, as before


def test_the_bundled_packs_fit_every_limit_in_every_state():
    result = load_packs(BUNDLED_DIR)
    for pack in result.packs.values():
        for rendered in renderings(pack):
            if rendered.surface == "message":
                assert validate_blocks(rendered.payload) == [], (pack.id, rendered.what)
            else:
                assert validate_view(rendered.payload) == [], (pack.id, rendered.what)


def test_validate_names_the_file_and_line_that_breaks_a_limit(tmp_path, capsys):
    folder = tmp_path / "packs" / "limits"
    folder.mkdir(parents=True)
    text = pack_text(lesson_title="T" * 150)
    (folder / "pack.yaml").write_text(text)
    assert app.main(["packs", "validate", str(tmp_path / "packs")], environ={}) == 1
    [out] = capsys.readouterr().out.strip().splitlines()
    assert out.startswith(f"{folder / 'pack.yaml'}:{line_of(text, 'title: TTT')}: lessons.0.title: the header")


def test_a_translation_that_breaks_a_limit_is_named_at_its_own_line_and_left_out(tmp_path, capsys):
    """German is longer: a lesson that fits in English can overflow once translated. The check runs on the
    pack as a German learner is shown it and names the translation's line and its id-keyed path."""
    folder = tmp_path / "packs" / "limits"
    (folder / "translations").mkdir(parents=True)
    (folder / "pack.yaml").write_text(pack_text(choices=[c * 300 for c in "abcd"]))
    translation = textwrap.dedent(f"""\
        pack: limits
        language: de
        title: Grenzen
        description: Ein Paket für Tests.
        lessons:
          first:
            title: Erste
            body: Ein kurzer Text.
            quiz:
              q1:
                prompt: {"Ü" * 1900}
                choices: [{", ".join(f'"{c * 300}"' for c in "äöüß")}]
                explain: Darum.
        """)
    (folder / "translations" / "de.yaml").write_text(translation, encoding="utf-8")
    result = load_packs(tmp_path / "packs", check=CHECK)
    assert "limits" in result.packs and result.translations == {}
    [problem] = result.problems
    assert (problem.file, problem.line, problem.path) == (folder / "translations" / "de.yaml", 11,
                                                        "lessons.first.quiz.q1.prompt")
    assert "Slack allows 3,000" in problem.message
    assert sorted(load_packs(tmp_path / "packs").translations["limits"]) == ["de"]  # no check, no refusal
    assert app.main(["packs", "validate", str(tmp_path / "packs")], environ={}) == 1
    out = capsys.readouterr().out
    assert f"{folder / 'translations' / 'de.yaml'}:11: lessons.first.quiz.q1.prompt:" in out
    # The same text within the limit passes.
    (folder / "translations" / "de.yaml").write_text(translation.replace("Ü" * 1900, "Wähle eins"), encoding="utf-8")
    assert app.main(["packs", "validate", str(tmp_path / "packs")], environ={}) == 0
