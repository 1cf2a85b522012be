from __future__ import annotations

import shutil

import pytest

from content_packs.loader import BUNDLED_DIR, load_pack, load_packs
from content_packs.starter import new_pack


def test_the_starter_pack_loads_as_written_and_shows_every_feature(tmp_path):
    result = new_pack("team-onboarding", packs_dir=tmp_path)
    assert result.written == tmp_path / "team-onboarding" / "pack.yaml" and not result.problems
    pack = load_pack(result.written)
    assert (pack.id, pack.title) == ("team-onboarding", "Team onboarding")
    first = pack.lessons[0]
    assert [q.kind for q in first.quiz] == ["single", "multiple", "true_false", "short"]
    assert {link.kind for link in first.links} == {"article", "podcast", "video"}
    assert any(q.feedback for q in first.quiz if q.kind == "single")
    assert first.reflect and pack.certificate and pack.triggers.channel_join and pack.cost and pack.discussion
    assert any(not lesson.quiz for lesson in pack.lessons), "a resource lesson without a quiz"
    text = result.written.read_text(encoding="utf-8")
    assert text.count("\n#") + text.count(" # ") > 20, "the starter explains itself in comments"
    assert load_packs(tmp_path).problems == []


def test_it_never_overwrites_a_pack(tmp_path):
    first = new_pack("mine", packs_dir=tmp_path)
    first.written.write_text(first.written.read_text(encoding="utf-8") + "# my edits\n", encoding="utf-8")
    again = new_pack("mine", packs_dir=tmp_path)
    assert again.written is None and "already exists" in str(again.problems[0])
    assert first.written.read_text(encoding="utf-8").endswith("# my edits\n")


def test_it_refuses_an_id_another_pack_already_uses(tmp_path):
    shutil.copytree(BUNDLED_DIR / "security-basics", tmp_path / "renamed-folder")
    result = new_pack("security-basics", packs_dir=tmp_path)
    assert result.written is None and "already used by" in str(result.problems[0])


@pytest.mark.parametrize("bad", ["My Pack", "under_score", "-leading", "trailing-", "x" * 65, "", "a--b"])
def test_the_id_is_checked(tmp_path, bad):
    result = new_pack(bad, packs_dir=tmp_path)
    assert result.written is None and "is not a pack id" in str(result.problems[0])
    assert not any(tmp_path.iterdir())
