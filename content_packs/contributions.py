"""Contributions: questions, links and short lessons that learners proposed with ``/learn suggest`` and a
facilitator accepted, kept as content beside the pack they belong to.

``<pack>/contributions.yaml`` has the pack's own item schema, so it is validated like a pack (every problem
``file:line: path: message``), and it is served merged into the pack:

- ``lessons``: whole lessons (a pack lesson's fields), sent after the pack's own lessons;
- ``questions``: questions (a pack question's fields) with ``lesson:``, the lesson they are asked in (one of
  the pack's, or a contributed one), after that lesson's own questions;
- ``links``: links (a pack link's fields) with ``lesson:``, after that lesson's own links.

Every item carries ``contributed_by``. ``version`` is the pack version the merged pack is served as: Sprout
raises it above the pack's own version and the file's previous one each time it adds an item, so records
made against earlier versions keep the version they saw. Sprout writes the file; ``pack.yaml`` stays as
its maintainer wrote it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from content_packs.authoring import dump_pack, write_atomically
from content_packs.loader import (
    PackError,
    PackProblem,
    load_pack,
    parse_checked,
)
from content_packs.schema import Lesson, Link, Pack, Question, Slug, _Strict

CONTRIBUTIONS_FILE = "contributions.yaml"
MAX_QUESTIONS = 10  # a lesson's quiz, as in the pack schema
HEADER = ("# Written by Sprout: items contributed with /learn suggest and accepted by a facilitator.\n"
          "# Same schema as the pack's items; see content_packs/README.md, \"Contributions\".\n")


class ContributedQuestion(Question):
    lesson: Slug


class ContributedLink(Link):
    lesson: Slug


class Contributions(_Strict):
    pack: Slug
    version: Annotated[int, Field(ge=1)]
    lessons: list[Lesson] = Field(default_factory=list)
    questions: list[ContributedQuestion] = Field(default_factory=list)
    links: list[ContributedLink] = Field(default_factory=list)


def contributions_file(pack_id: str, pack_file: Path, directory: Path | None) -> Path:
    """Where a pack's contributions are: beside its pack.yaml, or ``<directory>/<pack id>/`` when one is set."""
    if directory is None:
        return Path(pack_file).parent / CONTRIBUTIONS_FILE
    return Path(directory) / pack_id / CONTRIBUTIONS_FILE


def _cross_check(pack: Pack, c: Contributions) -> list[tuple[tuple, str, int | None]]:
    """What the schema alone cannot see: ids against the pack's, lessons that exist, the 10-question limit."""
    found: list[tuple[tuple, str, int | None]] = []
    if c.pack != pack.id:
        found.append((("pack",), f"this file is beside pack {pack.id!r}, not {c.pack!r}", None))
    quizzes: dict[str, set[str]] = {lesson.id: {q.id for q in lesson.quiz} for lesson in pack.lessons}
    for i, lesson in enumerate(c.lessons):
        if lesson.id in quizzes:
            found.append((("lessons", i, "id"), f"lesson id {lesson.id!r} is already used in the pack", None))
            continue
        quizzes[lesson.id] = {q.id for q in lesson.quiz}
    for i, question in enumerate(c.questions):
        if question.lesson not in quizzes:
            found.append((("questions", i, "lesson"), f"no lesson {question.lesson!r} in the pack", None))
            continue
        if question.id in quizzes[question.lesson]:
            found.append((("questions", i, "id"), f"question id {question.id!r} is already used in lesson "
                                                  f"{question.lesson!r}", None))
            continue
        quizzes[question.lesson].add(question.id)
        if len(quizzes[question.lesson]) > MAX_QUESTIONS:
            found.append((("questions", i), f"lesson {question.lesson!r} would have more than {MAX_QUESTIONS} "
                                            "questions", None))
    for i, link in enumerate(c.links):
        if link.lesson not in quizzes:
            found.append((("links", i, "lesson"), f"no lesson {link.lesson!r} in the pack", None))
    return found


def parse_contributions(text: str, file: Path, pack: Pack) -> Contributions:
    """Validate a contributions file against its pack (as written in pack.yaml); PackError lists every problem."""
    return parse_checked(Contributions, text, file, cross_check=lambda c: _cross_check(pack, c),
                         shape="a contributions file is a YAML mapping with pack, version, lessons, questions, links")


def load_contributions(file: Path, pack: Pack) -> Contributions | None:
    """The pack's contributions, None when it has no file; PackError when the file has a problem."""
    if not Path(file).is_file():
        return None
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PackError([PackProblem(file, 1, "", f"cannot read: {exc}")]) from None
    return parse_contributions(text, file, pack)


def merged(pack: Pack, c: Contributions | None) -> Pack:
    """The pack as served: its lessons with the contributed questions and links, then contributed lessons."""
    if c is None or not (c.lessons or c.questions or c.links):
        return pack
    lessons = [*pack.lessons, *c.lessons]
    out = []
    for lesson in lessons:
        quiz = [Question.model_validate(q.model_dump(exclude={"lesson"}, exclude_none=True))
                for q in c.questions if q.lesson == lesson.id]
        links = [Link.model_validate(link.model_dump(exclude={"lesson"}, exclude_none=True))
                 for link in c.links if link.lesson == lesson.id]
        out.append(lesson.model_copy(update={"quiz": [*lesson.quiz, *quiz], "links": [*lesson.links, *links]})
                   if quiz or links else lesson)
    return pack.model_copy(update={"lessons": out, "version": max(pack.version, c.version)})


# -- writing -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Added:
    file: Path
    version: int  # the pack version the pack is served as once reloaded
    new: bool  # False when the item was in the file already (a retry)


def item_key(section: str, item: dict[str, Any]) -> tuple:
    """What makes an item the same one again: a lesson's id, a question's lesson and id, a link's lesson and url."""
    if section == "lessons":
        return (section, item["id"])
    if section == "questions":
        return (section, item["lesson"], item["id"])
    return (section, item["lesson"], item["url"])


def add_contribution(pack_file: Path, file: Path, section: str, item: dict[str, Any]) -> Added:
    """Add ``item`` to the ``section`` ("lessons", "questions" or "links") of the pack's contributions file,
    raising its version; validated as the loader will before anything is written, and written atomically.
    PackError (nothing written) when the pack, the file as it is or the result has a problem."""
    pack = load_pack(pack_file)
    existing = load_contributions(file, pack)
    data: dict[str, Any] = (existing.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
                            if existing else {"pack": pack.id, "version": pack.version})
    for name in ("lessons", "questions", "links"):
        data.setdefault(name, [])
    if any(item_key(section, old) == item_key(section, item) for old in data[section]):
        return Added(file, max(pack.version, int(data["version"])), new=False)
    data[section] = [*data[section], item]
    data["version"] = max(pack.version, int(data["version"])) + 1
    text = contributions_text(data)
    parse_contributions(text, file, pack)  # what the loader will read: never write a file it refuses
    write_atomically(file, text)
    return Added(file, data["version"], new=True)


def uncredit(pack_file: Path, file: Path, keys: set[tuple], credit: str) -> int:
    """Replace ``contributed_by`` on the items with these ``item_key``s (a person Sprout was asked to forget)
    with ``credit``; the content and the version stay, so no record changes meaning. Validated and written
    atomically like an addition; the number of items changed (0: nothing written)."""
    pack = load_pack(pack_file)
    existing = load_contributions(file, pack)
    if existing is None:
        return 0
    data: dict[str, Any] = existing.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
    changed = 0
    for section in ("lessons", "questions", "links"):
        for item in data.get(section) or []:
            if item_key(section, item) in keys and item.get("contributed_by") != credit:
                item["contributed_by"] = credit
                changed += 1
    if changed:
        text = contributions_text(data)
        parse_contributions(text, file, pack)
        write_atomically(file, text)
    return changed


def contributions_text(data: dict[str, Any]) -> str:
    ordered = {"pack": data["pack"], "version": data["version"],
               **{name: [_ordered(name, x) for x in data.get(name) or []] for name in ("lessons", "questions", "links")}}
    return HEADER + dump_pack({k: v for k, v in ordered.items() if v != []})


_ORDER = {
    "lessons": ("id", "title", "minutes", "body", "links", "quiz", "reflect", "contributed_by"),
    "questions": ("lesson", "id", "prompt", "choices", "answer", "answers", "accept", "feedback", "explain",
                  "contributed_by"),
    "links": ("lesson", "kind", "title", "url", "minutes", "contributed_by"),
}


def _ordered(section: str, item: dict[str, Any]) -> dict[str, Any]:
    """Keys in the README's order; empty lists left out, as an author would."""
    out = {k: item[k] for k in _ORDER[section] if k in item and item[k] not in (None, [])}
    if section == "lessons" and out.get("quiz"):
        out["quiz"] = [{k: q[k] for k in _ORDER["questions"] if k in q and k != "lesson" and q[k] is not None}
                       for q in out["quiz"]]
    return out


# -- the maintainer's patch ------------------------------------------------------------------------------


def contributions_patch(*, against: Path, source: Path, prefix: str) -> str:
    """A unified diff (git's format) turning each ``<against>/<pack>/contributions.yaml`` into the one in
    ``source``; paths start with ``prefix`` (the packs folder's path in the repository), so that
    ``git apply`` in the repository's root applies it. Empty when nothing differs."""
    parts: list[str] = []
    for new_file in sorted(Path(source).glob(f"*/{CONTRIBUTIONS_FILE}")):
        pack_id = new_file.parent.name
        old_file = Path(against) / pack_id / CONTRIBUTIONS_FILE
        new_text = new_file.read_text(encoding="utf-8")
        old_text = old_file.read_text(encoding="utf-8") if old_file.is_file() else None
        if old_text == new_text:
            continue
        path = f"{prefix.strip('/')}/{pack_id}/{CONTRIBUTIONS_FILE}" if prefix.strip("/") else \
            f"{pack_id}/{CONTRIBUTIONS_FILE}"
        header = [f"diff --git a/{path} b/{path}\n"]
        if old_text is None:
            header.append("new file mode 100644\n")
        diff = list(difflib.unified_diff(
            (old_text or "").splitlines(keepends=True), new_text.splitlines(keepends=True),
            fromfile="/dev/null" if old_text is None else f"a/{path}", tofile=f"b/{path}"))
        parts.append("".join(header + [line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                                       for line in diff]))
    return "".join(parts)


__all__ = [
    "CONTRIBUTIONS_FILE", "Added", "Contributions", "add_contribution", "contributions_file", "contributions_patch",
    "load_contributions", "merged", "parse_contributions",
]
