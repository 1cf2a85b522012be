"""A pack's contributions file: validated like a pack (file and line), merged into it as a new version,
written only when the loader would take it, and exported as a patch."""

from __future__ import annotations

from pathlib import Path

import pytest

from content_packs.contributions import CONTRIBUTIONS_FILE, add_contribution, contributions_patch
from content_packs.loader import PackError, load_packs

PACK = """\
id: tiny
title: Tiny
description: One lesson.
version: 3
schedule: {days: [mon], time: "09:00"}
lessons:
  - id: one
    title: One
    minutes: 2
    body: A lesson.
"""
QUESTION = {"lesson": "one", "id": "c1", "prompt": "Which?", "choices": ["A", "B"], "answer": "A",
            "explain": "Because.", "contributed_by": "Ann"}


@pytest.fixture
def packs(tmp_path) -> Path:
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "pack.yaml").write_text(PACK)
    return tmp_path


def test_accepted_items_are_served_merged_as_a_new_version(packs):
    added = add_contribution(packs / "tiny" / "pack.yaml", packs / "tiny" / CONTRIBUTIONS_FILE, "questions", QUESTION)
    assert (added.version, added.new) == (4, True)
    again = add_contribution(packs / "tiny" / "pack.yaml", packs / "tiny" / CONTRIBUTIONS_FILE, "questions", QUESTION)
    assert (again.version, again.new) == (4, False), "the same item again changes nothing"
    link = {"lesson": "one", "kind": "article", "title": "Read", "url": "https://example.org/", "contributed_by": "Bo"}
    assert add_contribution(packs / "tiny" / "pack.yaml", packs / "tiny" / CONTRIBUTIONS_FILE, "links", link).version == 5
    result = load_packs(packs)
    assert result.problems == []
    pack = result.packs["tiny"]
    assert pack.version == 5
    assert [(q.id, q.contributed_by) for q in pack.lesson("one").quiz] == [("c1", "Ann")]
    assert [(x.url, x.contributed_by) for x in pack.lesson("one").links] == [("https://example.org/", "Bo")]
    assert "pack.yaml" in str(result.files["tiny"]) and (packs / "tiny" / "pack.yaml").read_text() == PACK


def test_a_broken_contributions_file_names_its_file_and_line_and_is_not_loaded(packs):
    file = packs / "tiny" / CONTRIBUTIONS_FILE
    file.write_text("pack: tiny\nversion: 4\nquestions:\n  - lesson: one\n    id: c1\n    prompt: Which?\n"
                    "    choices: [A, B]\n    answer: C\n    explain: Because.\n  - lesson: nope\n    id: c2\n"
                    "    prompt: P\n    answer: true\n    explain: E\n")
    result = load_packs(packs)
    assert [str(p) for p in result.problems] == [f"{file}:8: questions.0.answer: 'C' is not one of the choices"]
    file.write_text(file.read_text().replace("answer: C", "answer: A"))  # what the schema alone cannot see
    assert [str(p) for p in load_packs(packs).problems] == [f"{file}:10: questions.1.lesson: no lesson 'nope' in the pack"]
    assert result.packs["tiny"].version == 3 and result.packs["tiny"].lesson("one").quiz == [], "served without it"
    assert result.broken_contributions == {"tiny": file}
    with pytest.raises(PackError) as refused:  # and nothing is added on top of a broken file
        add_contribution(packs / "tiny" / "pack.yaml", file, "questions", {**QUESTION, "id": "c3"})
    assert f"{file}:10:" in str(refused.value)


def test_an_item_the_loader_would_refuse_is_never_written(packs):
    file = packs / "tiny" / CONTRIBUTIONS_FILE
    for i in range(10):
        add_contribution(packs / "tiny" / "pack.yaml", file, "questions", {**QUESTION, "id": f"c{i}"})
    before = file.read_text()
    with pytest.raises(PackError, match="more than 10 questions"):
        add_contribution(packs / "tiny" / "pack.yaml", file, "questions", {**QUESTION, "id": "c99"})
    assert file.read_text() == before


def test_the_patch_adds_or_changes_only_what_differs(packs, tmp_path):
    source = tmp_path / "written"
    add_contribution(packs / "tiny" / "pack.yaml", source / "tiny" / CONTRIBUTIONS_FILE, "questions", QUESTION)
    patch = contributions_patch(against=packs, source=source, prefix="content_packs")
    assert patch.startswith("diff --git a/content_packs/tiny/contributions.yaml b/content_packs/tiny/contributions.yaml\n"
                            "new file mode 100644\n--- /dev/null\n+++ b/content_packs/tiny/contributions.yaml\n@@ -0,0 +1,")
    (packs / "tiny" / CONTRIBUTIONS_FILE).write_text((source / "tiny" / CONTRIBUTIONS_FILE).read_text())
    assert contributions_patch(against=packs, source=source, prefix="content_packs") == ""
    add_contribution(packs / "tiny" / "pack.yaml", source / "tiny" / CONTRIBUTIONS_FILE, "questions",
                     {**QUESTION, "id": "c2"})
    patch = contributions_patch(against=packs, source=source, prefix="content_packs")
    assert "--- a/content_packs/tiny/contributions.yaml" in patch and "-version: 4\n+version: 5\n" in patch
