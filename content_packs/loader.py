"""Read content packs from disk and report every problem as ``file:line: path: message``.

A pack with any problem is not loaded at all; the other packs still are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from content_packs.schema import Pack

PACK_FILE = "pack.yaml"
BUNDLED_DIR = Path(__file__).resolve().parent

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class PackProblem:
    file: Path
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class PackError(Exception):
    def __init__(self, problems: list[PackProblem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class LoadResult:
    packs: dict[str, Pack] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    problems: list[PackProblem] = field(default_factory=list)
    # Packs served without their contributions file, which has a problem (listed in ``problems``).
    broken_contributions: dict[str, Path] = field(default_factory=dict)
    # Each pack's translations by language (``content_packs.translations``); one with a problem is left out
    # (its pack is served without it) and listed with the problems and in ``broken_translations``.
    translations: dict[str, dict[str, Any]] = field(default_factory=dict)
    broken_translations: dict[str, list[Path]] = field(default_factory=dict)


class _Lines:
    """Where each value of a YAML document starts, by its path in the document."""

    def __init__(self) -> None:
        self._lines: dict[Loc, int] = {}

    def add(self, loc: Loc, line: int) -> None:
        self._lines.setdefault(loc, line)

    def of(self, loc: Loc) -> int:
        # The nearest enclosing value that has a line: a missing field is reported at its parent.
        while loc not in self._lines and loc:
            loc = loc[:-1]
        return self._lines.get(loc, 1)

    def path(self, loc: Loc) -> str:
        """How a problem at ``loc`` names its place: ``lessons.0.title``."""
        return dotted(loc)


class Relocated(_Lines):
    """Where the values of one document are, for problems found on another made from it: a check that runs on
    a pack built from a translation (``content_packs.translations``) reports ``lessons.2.body`` of the built
    pack at the translation's ``lessons.<id>.body``, with that file's line."""

    def __init__(self, lines: _Lines, relocate: Callable[[Loc], Loc]) -> None:
        super().__init__()
        self._of, self._relocate = lines, relocate

    def of(self, loc: Loc) -> int:
        return self._of.of(self._relocate(loc))

    def path(self, loc: Loc) -> str:
        return dotted(self._relocate(loc))


Lines = _Lines

# A check beyond the schema, run on each pack that passes it: (pack, its file, where each value starts) ->
# problems. ``bot.pack_limits`` checks Slack's limits this way; the loader itself knows nothing of Slack.
PackCheck = Callable[[Pack, Path, Lines], list[PackProblem]]


def dotted(loc: Iterable[str | int]) -> str:
    return ".".join(str(part) for part in loc)


def _index_lines(node: yaml.Node, loc: Loc, lines: _Lines, problems: list[tuple[Loc, str, int | None]]) -> None:
    lines.add(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                problems.append((loc + (key,), "duplicate key", key_node.start_mark.line + 1))
            seen.add(key)
            # The key's own line is where an author looks for the field.
            lines.add(loc + (key,), key_node.start_mark.line + 1)
            _index_lines(value_node, loc + (key,), lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, loc + (index,), lines, problems)


def _duplicate_ids(data: Any) -> Iterator[tuple[Loc, str, int | None]]:
    if not isinstance(data, dict):
        return
    lessons = data.get("lessons")
    if not isinstance(lessons, list):
        return
    seen_lessons: dict[Any, int] = {}
    for i, lesson in enumerate(lessons):
        if not isinstance(lesson, dict):
            continue
        lesson_id = lesson.get("id")
        if lesson_id in seen_lessons:
            yield ("lessons", i, "id"), f"duplicate lesson id {lesson_id!r} (first at lessons.{seen_lessons[lesson_id]})", None
        elif lesson_id is not None:
            seen_lessons[lesson_id] = i
        quiz = lesson.get("quiz")
        if not isinstance(quiz, list):
            continue
        seen_questions: dict[Any, int] = {}
        for j, question in enumerate(quiz):
            if not isinstance(question, dict):
                continue
            qid = question.get("id")
            if qid in seen_questions:
                yield (
                    ("lessons", i, "quiz", j, "id"),
                    f"duplicate question id {qid!r} (first at lessons.{i}.quiz.{seen_questions[qid]})",
                    None,
                )
            elif qid is not None:
                seen_questions[qid] = j


class PackYamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """YAML 1.1 reads unquoted yes/no/on/off as booleans, which turns a choice list such as
    ``[Yes, No]`` into ``[True, False]``; only ``true``/``false`` are booleans in a pack.

    libyaml's parser where PyYAML has it (its wheels do): the same nodes and line marks, read about
    ten times faster than the pure-Python parser, which took a quarter of a second at every start."""


PackYamlLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
PackYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_yaml(text: str, file: Path) -> tuple[yaml.Node | None, Any]:
    """One YAML document as (node, data), with pack rules (only true/false are booleans); PackError on bad YAML."""
    loader = PackYamlLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise PackError([PackProblem(file, line, "", f"invalid YAML: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise PackError([PackProblem(file, 1, "", f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    return node, data


def validate_document(model: type[M], node: yaml.Node, data: Any, file: Path,
                      found: list[tuple[Loc, str, int | None]] | None = None) -> tuple[M | None, _Lines, list]:
    """Validate ``data`` as ``model``: (the model or None, where each value starts, every problem found as
    (path, message, line or None)), ``found`` being problems the caller already has."""
    lines = _Lines()
    found = list(found or [])
    _index_lines(node, (), lines, found)
    try:
        return model.model_validate(data), lines, found
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key"
            elif error["type"] == "missing":
                message = "required field is missing"
            elif not loc and any(text in message for text in ("must be unique",)):
                continue  # already reported with its exact place by _duplicate_ids
            found.append((loc, message, None))
        return None, lines, found


def parse_checked(model: type[M], text: str, file: Path, *, shape: str,
                  cross_check: Callable[[M], list[tuple[Loc, str, int | None]]]) -> M:
    """``parse_checked_located`` without the lines."""
    return parse_checked_located(model, text, file, shape=shape, cross_check=cross_check)[0]


def parse_checked_located(model: type[M], text: str, file: Path, *, shape: str,
                          cross_check: Callable[[M], list[tuple[Loc, str, int | None]]]) -> tuple[M, Lines]:
    """A file beside a pack (its contributions, a translation): read as YAML, validated as ``model``, then
    ``cross_check``ed against the pack; PackError lists every problem, ``shape`` the one when the file is not
    a mapping at all."""
    node, data = read_yaml(text, file)
    if node is None or not isinstance(data, dict):
        raise PackError([PackProblem(file, 1, "", shape)])
    document, lines, found = validate_document(model, node, data, file)
    if document is not None:
        found += cross_check(document)
    raise_problems(file, lines, found)
    assert document is not None
    return document, lines


def raise_problems(file: Path, lines: _Lines, found: list[tuple[Loc, str, int | None]]) -> None:
    if found:
        raise PackError(sorted(
            {PackProblem(file, line or lines.of(loc), dotted(loc), message) for loc, message, line in found},
            key=lambda p: (p.line, p.path, p.message),
        ))


def parse_pack(text: str, file: Path, *, check: PackCheck | None = None) -> Pack:
    """Validate one pack's YAML text; raise PackError listing every problem with its line."""
    return parse_pack_located(text, file, check=check)[0]


def parse_pack_located(text: str, file: Path, *, check: PackCheck | None = None) -> tuple[Pack, Lines]:
    """``parse_pack``, with where each value of the document starts; ``check``, if given, runs on a pack
    that passes the schema, and its problems refuse the pack like the schema's."""
    node, data = read_yaml(text, file)
    if node is None or not isinstance(data, dict):
        raise PackError([PackProblem(file, 1, "", "a pack must be a YAML mapping with id, title, lessons, …")])
    pack, lines, found = validate_document(Pack, node, data, file, list(_duplicate_ids(data)))
    raise_problems(file, lines, found)
    assert pack is not None
    if check is not None:
        problems = check(pack, file, lines)
        if problems:
            raise PackError(sorted(problems, key=lambda p: (p.line, p.path, p.message)))
    return pack, lines


def load_pack(file: Path, *, check: PackCheck | None = None) -> Pack:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PackError([PackProblem(file, 1, "", f"cannot read: {exc}")]) from None
    return parse_pack(text, file, check=check)


def pack_files(directory: Path) -> list[Path]:
    """Every ``<dir>/<pack>/pack.yaml`` (a single pack folder or pack.yaml path is also accepted)."""
    directory = Path(directory)
    if directory.is_file():
        return [directory]
    if (directory / PACK_FILE).is_file():
        return [directory / PACK_FILE]
    return sorted(p for p in directory.glob(f"*/{PACK_FILE}") if p.is_file())


def load_packs(directory: Path, *, contributions_dir: Path | None = None, check: PackCheck | None = None) -> LoadResult:
    """Every pack in ``directory`` with its translations (``<pack>/translations/<lang>.yaml``), each merged with
    its contributions file (``content_packs.contributions``:
    beside its pack.yaml, or under ``contributions_dir``). A contributions file with a problem is not loaded
    (its pack is, without it) and is listed with the problems. ``check`` runs on each pack.yaml that passes
    the schema (see ``PackCheck``), and on each of its translations as a learner is shown it; a pack it finds
    problems in is not loaded, like one the schema refuses, and a translation it finds problems in is left out."""
    from content_packs.contributions import contributions_file, load_contributions, merged
    from content_packs.translations import load_translation, translation_files

    result = LoadResult()
    directory = Path(directory)
    if not directory.exists():
        result.problems.append(PackProblem(directory, 1, "", "no such folder"))
        return result
    for file in pack_files(directory):
        try:
            pack = load_pack(file, check=check)
        except PackError as exc:
            result.problems.extend(exc.problems)
            continue
        if pack.id in result.packs:
            result.problems.append(
                PackProblem(file, 1, "id", f"pack id {pack.id!r} is already used by {result.files[pack.id]}")
            )
            continue
        for translation_file in translation_files(file):
            try:
                translation = load_translation(translation_file, pack, check=check)
            except PackError as exc:
                result.problems.extend(exc.problems)
                result.broken_translations.setdefault(pack.id, []).append(translation_file)
                continue
            result.translations.setdefault(pack.id, {})[translation.language] = translation
        extra = contributions_file(pack.id, file, contributions_dir)
        try:
            pack = merged(pack, load_contributions(extra, pack))
        except PackError as exc:
            result.problems.extend(exc.problems)
            result.broken_contributions[pack.id] = extra
        result.packs[pack.id] = pack
        result.files[pack.id] = file
    return result
