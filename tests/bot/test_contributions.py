"""The contribution forms and messages as pure functions: Slack's limits, errors by field, escaping."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import app
from bot.blocks import credit_line
from bot.contributions import (
    file_item,
    outcome_message,
    queue_blocks,
    read_draft,
    review_modal,
    suggest_modal,
    targets,
)
from content_packs.catalog import Catalog
from content_packs.schema import Lesson
from db.contributions import ContributionView
from sandbox import blockkit

CATALOG = Catalog.from_directory(app.BUNDLED_PACKS)[0]
NOW = datetime(2026, 12, 7, 10, tzinfo=UTC)


def view(kind="question", content=None, state="proposed", name="Ann <!channel>", reason=None):
    return ContributionView(7, 1, "U0ANN", name, None, "security-basics", None if kind == "lesson" else "spot-phishing",
                            kind, content or {"prompt": "Why <!here>?", "choices": ["A", "B"], "answer": "A",
                                              "explain": "E"}, None, state, "U0FAC", "Fay", reason, None, NOW, None)


def checked(modal):
    problems = blockkit.validate_view({k: modal[k] for k in ("type", "title", "submit", "close", "blocks")})
    assert problems == []
    return modal


@pytest.mark.parametrize("kind", ["question", "link", "lesson"])
def test_the_forms_keep_to_slacks_limits_with_every_bundled_pack(kind):
    checked(suggest_modal(kind, targets(CATALOG)))


def test_the_review_form_is_filled_with_the_longest_contribution_and_keeps_to_slacks_limits():
    long = {"title": "T" * 150, "minutes": 30, "body": "B" * 3000,
            "quiz": [{"prompt": "P" * 2000, "choices": [f"{i}" * 500 for i in range(1, 7)], "answer": "1" * 500,
                      "explain": "E" * 2000}]}
    modal = checked(review_modal(view("lesson", long), CATALOG))
    initial = {b["block_id"]: b["element"].get("initial_value") for b in modal["blocks"] if b["type"] == "input"}
    assert initial["body"] == "B" * 3000 and initial["option6"] == "6" * 500
    assert "Ann &lt;!channel&gt;" in modal["blocks"][0]["text"]["text"]


def values(**fields):
    out = {}
    for block, value in fields.items():
        if block in ("target", "right", "link_kind"):
            out[block] = {block: {"type": "static_select", "selected_option": {"value": value}}}
        else:
            out[block] = {block: {"type": "plain_text_input", "value": value}}
    return out


def test_errors_name_the_field_and_the_pack_rules_apply():
    _, errors = read_draft("question", values(target="security-basics/nope", stem="", option1="A", right="1",
                                              explain="x"), CATALOG)
    assert errors == {"target": "Choose the lesson it belongs to.", "stem": "Write the question.",
                      "option2": "Give at least 2 options."}
    _, errors = read_draft("question", values(target="security-basics/spot-phishing", stem="S", option1="A" * 501,
                                              option2="B", right="1", explain="x"), CATALOG)
    assert errors == {"option1": "String should have at most 500 characters"}
    _, errors = read_draft("link", values(target="security-basics/spot-phishing", link_kind="article", title="T",
                                          url="https://"), CATALOG)
    assert errors == {"url": "must be an https:// URL"}
    draft, errors = read_draft("question", values(target="security-basics/spot-phishing", stem=" S ", option1="A",
                                                  option3="C", right="3", explain="x"), CATALOG)
    assert errors == {} and draft.content == {"prompt": "S", "choices": ["A", "C"], "answer": "C", "explain": "x"}


def test_what_is_written_carries_a_stable_id_and_the_credit():
    section, item = file_item(view(), view().content)
    assert (section, item["id"], item["lesson"], item["contributed_by"]) == ("questions", "c7", "spot-phishing",
                                                                            "Ann <!channel>")
    section, item = file_item(view("lesson", {"title": "Doors & badges!", "minutes": 2, "body": "B"}), {
        "title": "Doors & badges!", "minutes": 2, "body": "B"})
    assert (section, item["id"]) == ("lessons", "c7-doors-badges")


def test_people_and_their_text_are_escaped_wherever_they_are_shown():
    lesson = Lesson(id="x", title="X", minutes=1, body="b", contributed_by="Ann <!channel>")
    assert credit_line(lesson) == "🤝 Written by Ann &lt;!channel&gt; · `/learn suggest` adds yours"
    blocks = str(queue_blocks([view()], 1, CATALOG))
    assert "&lt;!here&gt;" in blocks and "<!here>" not in blocks and "<!channel>" not in blocks
    declined = outcome_message(view(state="declined", reason="No <!everyone>"), CATALOG)
    assert "&lt;!everyone&gt;" in str(declined.blocks) and "<!everyone>" not in str(declined.blocks)


def test_contributions_go_to_the_working_folder_when_the_packs_cannot_be_written(tmp_path, monkeypatch):
    packs = tmp_path / "packs"
    packs.mkdir()
    monkeypatch.chdir(tmp_path)
    assert app.Settings.from_env({"CONTENT_PACKS_DIR": str(packs)}).contributions_dir is None, "beside the packs"
    monkeypatch.setattr(app.os, "access", lambda path, mode: Path(path) != packs)  # as an installed package
    assert app.Settings.from_env({"CONTENT_PACKS_DIR": str(packs)}).contributions_dir == \
        (tmp_path / "contributions").resolve()
    explicit = app.Settings.from_env({"CONTENT_PACKS_DIR": str(packs), "CONTRIBUTIONS_DIR": str(tmp_path)})
    assert explicit.contributions_dir == tmp_path and explicit.contributions_dir_explicit
    with pytest.raises(app.SettingsError, match="CONTRIBUTIONS_DIR '/no/such' is not a folder"):
        app.Settings.from_env({"CONTRIBUTIONS_DIR": "/no/such"})
