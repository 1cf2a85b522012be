from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from content_packs.loader import BUNDLED_DIR, PackError, load_packs, parse_pack

GOOD = textwrap.dedent(
    """\
    id: tiny
    title: Tiny
    description: A pack for tests.
    version: 1
    schedule: {days: [mon, wed], time: "09:30"}
    lessons:
      - id: one
        title: One
        minutes: 2
        body: Hello **there**.
        links:
          - {kind: podcast, title: A show, url: "https://example.org/show", minutes: 12}
        quiz:
          - id: q1
            prompt: Pick b
            choices: [a, b, c]
            answer: b
            explain: Because b.
    """
)


def problems(text: str) -> list[str]:
    with pytest.raises(PackError) as info:
        parse_pack(text, Path("pack.yaml"))
    return [str(p) for p in info.value.problems]


def test_a_good_pack_loads():
    pack = parse_pack(GOOD, Path("pack.yaml"))
    assert pack.id == "tiny" and pack.lessons[0].quiz[0].correct_index == 1
    assert pack.schedule.days == ["mon", "wed"]


def test_unquoted_time_is_read_as_a_time_not_a_number():
    pack = parse_pack(GOOD.replace('time: "09:30"', "time: 09:30"), Path("pack.yaml"))
    assert pack.schedule.time == "09:30"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("answer: b", "answer: z"), "pack.yaml:17: lessons.0.quiz.0.answer: 'z' is not one of the choices"),
        (("explain: Because b.", "explian: Because b."), "pack.yaml:18: lessons.0.quiz.0.explian: unknown key"),
        (('url: "https://example.org/show"', 'url: "http://example.org/show"'),
         "pack.yaml:12: lessons.0.links.0.url: must be an https:// URL"),
        (("kind: podcast", "kind: radio"), "pack.yaml:12: lessons.0.links.0.kind:"),
        (("    title: One\n", ""), "pack.yaml:7: lessons.0.title: required field is missing"),
        (("time: \"09:30\"", "time: \"25:00\""), "pack.yaml:5: schedule.time:"),
        (("id: tiny", "id: Tiny Pack"), "pack.yaml:1: id:"),
        (("choices: [a, b, c]", "choices: [a, b, b]"), "pack.yaml:16: lessons.0.quiz.0.choices:"),
    ],
)
def test_each_problem_names_its_line_and_field(change, expected):
    old, new = change
    assert old in GOOD
    found = problems(GOOD.replace(old, new))
    assert any(p.startswith(expected) for p in found), found


def test_duplicate_ids_and_keys_are_errors():
    doubled = GOOD + "  " + GOOD[GOOD.index("- id: one") :].replace("\n    ", "\n    ")
    found = problems(doubled)
    assert any("lessons.1.id: duplicate lesson id 'one'" in p for p in found), found
    found = problems(GOOD.replace("version: 1\n", "version: 1\nversion: 2\n"))
    assert any(p.startswith("pack.yaml:5: version: duplicate key") for p in found), found


def test_broken_yaml_names_its_line():
    found = problems(GOOD.replace("minutes: 2", "minutes: [2"))
    assert len(found) == 1 and "invalid YAML" in found[0]


def test_a_broken_pack_is_not_loaded_and_the_others_are(tmp_path):
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "pack.yaml").write_text(GOOD)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "pack.yaml").write_text(GOOD.replace("id: tiny", "id: bad").replace("answer: b", "answer: q"))
    result = load_packs(tmp_path)
    assert list(result.packs) == ["tiny"]
    assert [str(p) for p in result.problems] == [
        f"{tmp_path / 'bad' / 'pack.yaml'}:17: lessons.0.quiz.0.answer: 'q' is not one of the choices"
    ]


def test_two_packs_with_one_id_load_once(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pack.yaml").write_text(GOOD)
    result = load_packs(tmp_path)
    assert list(result.packs) == ["tiny"] and len(result.problems) == 1
    assert "already used" in str(result.problems[0])


def test_the_bundled_packs_are_valid_and_substantial():
    result = load_packs(BUNDLED_DIR)
    assert result.problems == []
    assert len(result.packs) >= 3
    for pack in result.packs.values():
        # The pack written in a second language is a short showcase of translations (issue 19).
        assert len(pack.lessons) >= (4 if pack.id == "sicher-im-homeoffice" else 8), pack.id
        for lesson in pack.lessons:
            assert lesson.quiz and lesson.links, f"{pack.id}/{lesson.id}"


def test_validate_command_reports_a_broken_copy_with_file_and_line(tmp_path, capsys):
    import app

    copy = tmp_path / "packs"
    shutil.copytree(BUNDLED_DIR / "security-basics", copy / "security-basics")
    pack_file = copy / "security-basics" / "pack.yaml"
    lines = pack_file.read_text().splitlines()
    target = next(i for i, line in enumerate(lines) if line.strip().startswith("answer:"))
    lines[target] = lines[target].split("answer:")[0] + "answer: not one of them"
    pack_file.write_text("\n".join(lines) + "\n")
    assert app.main(["packs", "validate", str(copy)], environ={}) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [f"{pack_file}:{target + 1}: lessons.0.quiz.0.answer: 'not one of them' is not one of the choices"]
    assert app.main(["packs", "validate"], environ={}) == 0
