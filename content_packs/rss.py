"""Add a podcast's episodes to a lesson, as links, from its RSS feed.

Each episode becomes ``{kind: podcast, title, url, minutes}``: the url is the episode's page, else
its audio file (Sprout links are https only, so an episode with only http:// links is skipped and
reported); minutes come from ``itunes:duration``. Episodes the lesson already links to are skipped,
so running the import again adds only new episodes.

If the lesson does not exist it is created at the end of the pack as a resource lesson: the feed's
description as its body, the episodes as its links, and no quiz.

The pack file is edited in place where its layout allows, so the author's comments and formatting
survive; otherwise (a flow-style ``links: […]``, say) it is re-written whole, which loses comments,
and the result says so. Either way the new file must load exactly as the old one plus the new links,
or nothing is written; and it is written atomically.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import feedparser
import yaml
from pydantic import ValidationError

from content_packs.authoring import (
    dump_items,
    dump_pack,
    html_to_markdown,
    is_slug,
    reading_minutes,
    strip_tags,
    title_from_slug,
    truncate,
    write_atomically,
)
from content_packs.loader import PackError, PackProblem, PackYamlLoader, load_packs, parse_pack
from content_packs.schema import Link, Pack

MAX_LINK_MINUTES = 600
MAX_BODY = 1500

_DURATION = re.compile(r"^(?:(?:(\d+):)?(\d+):)?(\d+(?:\.\d+)?)$")


def _duration_seconds(value: object) -> float | None:
    """``itunes:duration`` in seconds when it is in one of its three forms, else None."""
    if value is None:
        return None
    match = _DURATION.match(str(value).strip())
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    seconds_value = float(seconds)
    if minutes is not None and seconds_value >= 60:
        return None  # in MM:SS and HH:MM:SS the seconds are below 60
    if hours is not None and int(minutes) >= 60:
        return None
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + seconds_value


def parse_duration(value: object) -> int | None:
    """``itunes:duration`` as whole minutes, rounded up: ``"2732"`` (seconds), ``"45:32"`` (MM:SS),
    ``"1:02:03"`` (HH:MM:SS). None when missing, zero or not one of those forms."""
    total = _duration_seconds(value)
    return math.ceil(total / 60) if total else None


@dataclass(frozen=True)
class Episode:
    title: str
    url: str
    minutes: int | None = None
    number: int = 0  # its place in the feed, for messages

    @property
    def label(self) -> str:
        return f"episode {self.number} {truncate(self.title, 60)!r}"

    def as_link(self) -> dict[str, Any]:
        link: dict[str, Any] = {"kind": "podcast", "title": self.title, "url": self.url}
        if self.minutes is not None:
            link["minutes"] = self.minutes
        return link


@dataclass(frozen=True)
class RssIssue:
    """An episode left out (``skipped``), or added with a loss (a note)."""

    episode: str
    message: str
    skipped: bool = True

    def format(self, source: str | Path) -> str:
        return f"{source}: {'skipped' if self.skipped else 'note'}: {self.episode}: {self.message}"


@dataclass
class Feed:
    title: str
    link: str | None
    description: str
    episodes: list[Episode] = field(default_factory=list)
    issues: list[RssIssue] = field(default_factory=list)


def _clean(text: object) -> str:
    return re.sub(r"\s+", " ", strip_tags(str(text or ""))).strip()


def _episode(entry: Any, number: int) -> Episode | RssIssue:
    title = _clean(entry.get("title"))
    label = f"episode {number} {truncate(title, 60)!r}" if title else f"episode {number}"
    if not title:
        return RssIssue(label, "has no title")
    candidates = [entry.get("link")]
    candidates += [e.get("href") for e in entry.get("enclosures", [])]
    candidates = [str(c).strip() for c in candidates if c]
    https = [c for c in candidates if c.lower().startswith("https://")]
    if not https:
        if candidates:
            return RssIssue(
                label, f"only an http:// link ({truncate(candidates[0], 80)}); Sprout links must be https://"
            )
        return RssIssue(label, "has neither a link nor an audio file")
    raw_duration = entry.get("itunes_duration")
    minutes = parse_duration(raw_duration)
    if minutes is not None and minutes > MAX_LINK_MINUTES:
        minutes = None
    episode = Episode(truncate(title, 150), https[0], minutes, number)
    try:
        Link.model_validate(episode.as_link())
    except ValidationError as exc:
        return RssIssue(label, "; ".join(e["msg"] for e in exc.errors(include_url=False)))
    return episode


def _duration_note(entry: Any, episode: Episode, label: str) -> RssIssue | None:
    raw = entry.get("itunes_duration")
    if not raw or episode.minutes is not None:
        return None
    seconds = _duration_seconds(raw)
    if seconds is None:
        why = "is not SS, MM:SS or HH:MM:SS"
    elif seconds == 0:
        why = "is zero (hosts write that when they do not know the length)"
    else:
        why = f"is over {MAX_LINK_MINUTES} minutes"
    return RssIssue(label, f"itunes:duration {str(raw)!r} {why}; added without minutes", skipped=False)


def read_feed(source: str | Path | bytes) -> Feed | PackProblem:
    """Episodes of a podcast feed: a file, a URL, or the feed's bytes. Nothing is written."""
    where = Path(str(source)) if not isinstance(source, bytes) else Path("feed")
    if isinstance(source, bytes):
        parsed = feedparser.parse(source)
    elif re.match(r"^https?://", str(source), re.I):
        parsed = feedparser.parse(str(source))
    else:
        try:
            parsed = feedparser.parse(Path(source).read_bytes())
        except OSError as exc:
            return PackProblem(where, 1, "", f"cannot read: {exc}")
    if not parsed.entries:
        if parsed.get("bozo"):
            return PackProblem(where, 1, "", f"not a feed: {parsed.get('bozo_exception')}")
        return PackProblem(where, 1, "", "the feed has no episodes")

    meta = parsed.feed
    link = meta.get("link")
    description = meta.get("subtitle") or meta.get("summary") or meta.get("itunes_summary") or ""
    feed = Feed(
        title=_clean(meta.get("title")) or "Podcast",
        link=link if isinstance(link, str) and link.lower().startswith("https://") else None,
        description=html_to_markdown(str(description)),
    )
    for number, entry in enumerate(parsed.entries, 1):
        episode = _episode(entry, number)
        if isinstance(episode, RssIssue):
            feed.issues.append(episode)
            continue
        feed.episodes.append(episode)
        note = _duration_note(entry, episode, episode.label)
        if note:
            feed.issues.append(note)
    return feed


# --- Editing the pack file -----------------------------------------------------------------------


def _compose(text: str) -> tuple[yaml.Node, Any]:
    loader = PackYamlLoader(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def _mapping_get(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key:
                return key_node, value_node
    return None


def _subtree(node: yaml.Node) -> list[yaml.Node]:
    nodes = [node]
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            nodes += _subtree(key_node) + _subtree(value_node)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            nodes += _subtree(item)
    return nodes


def _end_of(root: yaml.Node, node: yaml.Node, lines: list[str], outer_indent: int) -> int:
    """The index of the line just after ``node``'s own content: before the next node that is not
    part of it, and before blank lines and any comments at ``outer_indent`` or less above that node."""
    inside = {id(n) for n in _subtree(node)}
    later = [
        n.start_mark.line
        for n in _subtree(root)
        if id(n) not in inside and n.start_mark.line > node.start_mark.line
    ]
    end = min(later) if later else len(lines)
    while end > node.start_mark.line + 1:
        line = lines[end - 1]
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        if not stripped or (stripped.startswith("#") and indent <= outer_indent):
            end -= 1
        else:
            break
    return end


def _dash_column(lines: list[str], item: yaml.Node) -> int | None:
    line = lines[item.start_mark.line]
    column = line.rfind("-", 0, item.start_mark.column)
    if column < 0 or line[:column].strip() or line[column + 1 : item.start_mark.column].strip():
        return None
    return column


def _indented(text: str, indent: int) -> list[str]:
    return [(" " * indent + line) if line else "" for line in text.rstrip("\n").split("\n")]


def _insert_in_place(
    text: str, lesson_id: str, links: list[dict[str, Any]], new_lesson: dict[str, Any] | None
) -> str | None:
    """``text`` with the links (or the new lesson) inserted, keeping everything else; None if the
    layout is one this does not handle (the caller then re-writes the whole file)."""
    lines = text.split("\n")
    root, _ = _compose(text)
    found = _mapping_get(root, "lessons")
    if (
        found is None
        or not isinstance(found[1], yaml.SequenceNode)
        or found[1].flow_style
        or not found[1].value
    ):
        return None
    lessons = found[1]

    if new_lesson is not None:
        last = lessons.value[-1]
        dash = _dash_column(lines, last)
        if dash is None:
            return None
        at = _end_of(root, last, lines, dash)
        block = _indented(dump_items([new_lesson], path=("lessons",)), dash)
        return "\n".join(lines[:at] + [""] + block + lines[at:])

    lesson = next(
        (n for n in lessons.value if (f := _mapping_get(n, "id")) and f[1].value == lesson_id), None
    )
    if lesson is None or not isinstance(lesson, yaml.MappingNode) or lesson.flow_style:
        return None
    key_column = lesson.value[0][0].start_mark.column
    existing = _mapping_get(lesson, "links")
    if existing is not None:
        seq = existing[1]
        if not isinstance(seq, yaml.SequenceNode) or seq.flow_style or not seq.value:
            return None  # links: [] or links: [{…}] on one line
        dash = _dash_column(lines, seq.value[-1])
        if dash is None:
            return None
        at = _end_of(root, seq.value[-1], lines, dash)
        block = _indented(dump_items(links, path=("links",)), dash)
        return "\n".join(lines[:at] + block + lines[at:])

    block = [" " * key_column + "links:", *_indented(dump_items(links, path=("links",)), key_column + 2)]
    quiz = _mapping_get(lesson, "quiz")
    if quiz is not None:
        at = quiz[0].start_mark.line
        # Comments just above quiz: describe the quiz, so the links go above them.
        while at > 0 and lines[at - 1].strip().startswith("#"):
            at -= 1
    else:
        last_key, last_value = lesson.value[-1]
        at = _end_of(root, last_value, lines, key_column - 1)
        at = max(at, last_key.start_mark.line + 1)
    return "\n".join(lines[:at] + block + lines[at:])


@dataclass
class RssImport:
    """What an import did. Nothing is written when ``problems`` is not empty or nothing was added."""

    added: list[dict[str, Any]] = field(default_factory=list)
    issues: list[RssIssue] = field(default_factory=list)
    problems: list[PackProblem] = field(default_factory=list)
    file: Path | None = None
    created_lesson: bool = False
    comments_kept: bool = True
    written: bool = False
    text: str | None = None

    @property
    def skipped(self) -> list[RssIssue]:
        return [i for i in self.issues if i.skipped]

    @property
    def notes(self) -> list[RssIssue]:
        return [i for i in self.issues if not i.skipped]


def _new_lesson(lesson_id: str, feed: Feed, title: str | None, links: list[dict[str, Any]]) -> dict[str, Any]:
    about = truncate(feed.description, MAX_BODY) if feed.description else ""
    show = f"[{feed.title}]({feed.link})" if feed.link else f"*{feed.title}*"
    body = (about + "\n\n" if about else "") + f"Episodes of {show} to listen to when you have time."
    return {
        "id": lesson_id,
        "title": truncate(title or feed.title or title_from_slug(lesson_id), 150),
        "minutes": reading_minutes(body, at_least=2),
        "body": body + "\n",
        "links": links,
    }


def add_episodes(
    text: str,
    feed: Feed,
    *,
    file: Path,
    lesson_id: str,
    limit: int | None = None,
    lesson_title: str | None = None,
) -> RssImport:
    """The pack ``text`` with the feed's episodes added to ``lesson_id``. Pure: reads and writes nothing."""
    result = RssImport(file=file, issues=list(feed.issues))
    if not is_slug(lesson_id):
        result.problems.append(
            PackProblem(
                file, 1, "", f"{lesson_id!r} is not a lesson id: use lowercase letters, digits and dashes"
            )
        )
        return result
    try:
        parse_pack(text, file)
    except PackError as exc:
        result.problems.extend(exc.problems)
        result.problems.append(
            PackProblem(file, 1, "", "the pack has problems; fix them before adding episodes")
        )
        return result

    _, data = _compose(text)
    expected = copy.deepcopy(data)
    lesson = next((les for les in expected["lessons"] if les.get("id") == lesson_id), None)
    linked = {str(link.get("url", "")).strip() for link in (lesson or {}).get("links") or []}

    for episode in feed.episodes:
        if episode.url in linked:
            result.issues.append(RssIssue(episode.label, f"already linked in lesson {lesson_id!r}"))
            continue
        if limit is not None and len(result.added) >= limit:
            continue  # beyond --limit: not an issue, just not this time
        linked.add(episode.url)
        result.added.append(episode.as_link())
    if not result.added:
        return result

    if lesson is None:
        new_lesson = _new_lesson(lesson_id, feed, lesson_title, result.added)
        expected["lessons"].append(new_lesson)
        result.created_lesson = True
    else:
        new_lesson = None
        lesson["links"] = [*(lesson.get("links") or []), *result.added]
    want = Pack.model_validate(expected)

    candidate = None
    try:
        candidate = _insert_in_place(text, lesson_id, result.added, new_lesson)
        if candidate is not None and parse_pack(candidate, file) != want:
            candidate = None
    except (PackError, yaml.YAMLError):
        candidate = None
    if candidate is None:
        # Re-writing loses comments; say so only if there may have been some.
        result.comments_kept = not any(re.search(r"(^|\s)#", line) for line in text.splitlines())
        candidate = dump_pack(expected)
        try:
            if parse_pack(candidate, file) != want:
                result.problems.append(
                    PackProblem(file, 1, "", "re-written pack would differ from the original; not written")
                )
                return result
        except PackError as exc:
            result.problems.extend(exc.problems)
            return result
    result.text = candidate
    return result


def find_pack(packs_dir: Path, pack_id: str) -> Path | list[PackProblem]:
    """The file of pack ``pack_id`` in ``packs_dir``, or the problems that stand in the way."""
    packs_dir = Path(packs_dir)
    if not packs_dir.is_dir():
        return [PackProblem(packs_dir, 1, "", "no such folder")]
    loaded = load_packs(packs_dir)
    if pack_id in loaded.files:
        return loaded.files[pack_id]
    mine = [p for p in loaded.problems if p.file.parent.name == pack_id]
    if mine:
        return [
            *mine,
            PackProblem(mine[0].file, 1, "", "the pack has problems; fix them before adding episodes"),
        ]
    return [
        PackProblem(
            packs_dir,
            1,
            "",
            f"no pack with id {pack_id!r} here (known: {', '.join(sorted(loaded.files)) or 'none'})",
        )
    ]


def import_rss(
    source: str | Path,
    *,
    pack_id: str,
    lesson_id: str,
    packs_dir: Path,
    limit: int | None = None,
    lesson_title: str | None = None,
) -> RssImport:
    """Add the episodes of the feed at ``source`` (a file or a URL) to lesson ``lesson_id`` of pack
    ``pack_id`` in ``packs_dir``, and write the pack back (atomically) if anything was added."""
    if limit is not None and limit < 1:
        return RssImport(
            problems=[PackProblem(Path(str(source)), 1, "", f"--limit must be 1 or more, not {limit}")]
        )
    file = find_pack(packs_dir, pack_id)
    if isinstance(file, list):
        return RssImport(problems=file)
    feed = read_feed(source)
    if isinstance(feed, PackProblem):
        return RssImport(file=file, problems=[feed])
    text = file.read_text(encoding="utf-8")
    result = add_episodes(text, feed, file=file, lesson_id=lesson_id, limit=limit, lesson_title=lesson_title)
    if result.text is not None and not result.problems and result.added:
        if file.read_text(encoding="utf-8") != text:
            result.problems.append(
                PackProblem(file, 1, "", "the pack changed while the feed was read; run again")
            )
            return result
        write_atomically(file, result.text)
        result.written = True
    return result
