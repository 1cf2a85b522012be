"""Writing packs: what the importers and the starter share.

Packs are read by people as much as by Sprout, so what we write should look like what an author
would write by hand: keys in the README's order, short things (``schedule``, ``links``) on one
line, bodies as ``|`` blocks, ``"09:30"`` quoted. Every file is written atomically, so a crash or
a full disk never leaves Sprout half a pack to load.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

from content_packs.loader import PACK_FILE, load_packs

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 64
DEFAULT_SCHEDULE: dict[str, Any] = {"days": ["mon", "tue", "wed", "thu", "fri"], "time": "09:30"}
WORDS_PER_MINUTE = 200


def is_slug(text: str) -> bool:
    return len(text) <= SLUG_MAX and bool(SLUG_RE.match(text))


def slugify(text: str, *, max_length: int = SLUG_MAX) -> str:
    """``"Jesus' hometown"`` -> ``"jesus-hometown"``; ``""`` when nothing usable is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    ascii_text = re.sub(r"['\u2019`]", "", ascii_text.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:max_length].rstrip("-")


def unique_slug(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``… whichever is free; the result is added to ``taken``."""
    candidate, n = base, 2
    while candidate in taken:
        suffix = f"-{n}"
        candidate = base[: SLUG_MAX - len(suffix)].rstrip("-") + suffix
        n += 1
    taken.add(candidate)
    return candidate


def title_from_slug(slug: str) -> str:
    """``"moodle-examples"`` -> ``"Moodle examples"``."""
    words = re.split(r"[-_\s]+", slug.strip())
    text = " ".join(w for w in words if w)
    return text[:1].upper() + text[1:] if text else slug


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def reading_minutes(text: str, *, at_least: int = 1) -> int:
    """Honest reading time, within the 1–30 minutes a lesson may take."""
    words = len(text.split())
    return max(at_least, min(30, math.ceil(words / WORDS_PER_MINUTE)))


def existing_pack_ids(directory: Path) -> dict[str, Path]:
    """Ids of the valid packs already in ``directory`` (a missing folder has none)."""
    if not Path(directory).is_dir():
        return {}
    return dict(load_packs(directory).files)


# --- HTML to Markdown -------------------------------------------------------------------------

_BLOCK_TAGS = {"p", "div", "section", "article", "blockquote", "table", "tr", "ul", "ol", "dl", "figure"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_DROP_CONTENT = {"script", "style", "head", "title"}
_INLINE_MARK = {
    "b": "**",
    "strong": "**",
    "i": "*",
    "em": "*",
    "cite": "*",
    "s": "~~",
    "strike": "~~",
    "del": "~~",
    "code": "`",
    "tt": "`",
    "kbd": "`",
    "samp": "`",
}
_TAG_RE = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>|<!--.*?-->", re.S)
_BREAK = "\x00"  # a hard line break, kept through whitespace collapsing
_PARA = "\x01"  # a paragraph break


def looks_like_html(text: str) -> bool:
    return bool(_TAG_RE.search(text)) or bool(re.search(r"&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);", text))


class _Markdown(HTMLParser):
    def __init__(self, *, plain: bool, keep_newlines: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.plain = plain
        self.keep_newlines = keep_newlines
        # Each open inline element collects its own text, so ``<b> x </b>`` can become `` **x** ``.
        self.stack: list[tuple[str, list[str], dict[str, str | None]]] = [("", [], {})]
        self.lists: list[list[int | None]] = []
        self.dropping = 0
        self.pre = 0
        self.images = 0

    def _out(self, text: str) -> None:
        self.stack[-1][1].append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_CONTENT:
            self.dropping += 1
        elif tag == "br":
            self._out(_BREAK)
        elif tag in _BLOCK_TAGS or tag in _HEADINGS:
            self._out(_PARA)
            if tag in ("ul", "ol"):
                self.lists.append([1 if tag == "ol" else None])
            if tag in _HEADINGS:
                self.stack.append((tag, [], {}))
        elif tag == "li":
            kind = self.lists[-1][0] if self.lists else None
            depth = "  " * max(0, len(self.lists) - 1)
            if kind is None:
                self._out(f"{_BREAK}{depth}- ")
            else:
                self._out(f"{_BREAK}{depth}{kind}. ")
                self.lists[-1][0] = kind + 1
        elif tag == "pre":
            self.pre += 1
            self._out(_PARA + ("" if self.plain else "```" + _BREAK))
        elif tag == "img":
            self.images += 1
            alt = dict(attrs).get("alt")
            if alt and alt.strip():
                self._out(f"[{alt.strip()}]" if not self.plain else alt.strip())
        elif tag in _INLINE_MARK or tag == "a":
            self.stack.append((tag, [], dict(attrs)))
        elif tag in ("td", "th"):
            self._out(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_CONTENT:
            self.dropping = max(0, self.dropping - 1)
        elif tag in _INLINE_MARK or tag == "a" or tag in _HEADINGS:
            if any(open_tag == tag for open_tag, _, _ in self.stack[1:]):
                while True:
                    open_tag = self.stack[-1][0]
                    self._close()
                    if open_tag == tag:
                        break
            if tag in _HEADINGS:
                self._out(_PARA)
        elif tag in _BLOCK_TAGS:
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()
            self._out(_PARA)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self._out(("" if self.plain else _BREAK + "```") + _PARA)
        elif tag == "tr":
            self._out(_BREAK)

    def _close(self) -> None:
        tag, parts, attrs = self.stack.pop()
        content = "".join(parts)
        core = content.strip(" ")
        lead = content[: len(content) - len(content.lstrip(" "))]
        trail = content[len(content.rstrip(" ")) :]
        if not core.strip():
            self._out(content)
            return
        if tag == "a":
            href = (attrs.get("href") or "").strip()
            if not self.plain and re.match(r"^https?://\S+$", href) and "](" not in core:
                core = f"[{core}]({href})"
        elif tag in _HEADINGS:
            core = core if self.plain else f"**{core}**"
        elif not self.plain:
            mark = _INLINE_MARK[tag]
            core = f"{mark}{core}{mark}"
        self._out(lead + core + trail)

    def handle_data(self, data: str) -> None:
        if self.dropping:
            return
        if self.pre:
            self._out(data.replace("\n", _BREAK))
        elif self.keep_newlines:
            self._out(re.sub(r"[ \t\r\f\v\xa0]+", " ", data).replace("\n", _BREAK))
        else:
            self._out(re.sub(r"\s+", " ", data))

    def result(self) -> str:
        while len(self.stack) > 1:
            self._close()
        text = "".join(self.stack[0][1])
        text = re.sub(rf"[ ]*{_PARA}[ {_PARA}{_BREAK}]*", "\n\n", text)
        text = re.sub(rf"[ ]*{_BREAK}", "\n", text)
        lines, fenced = [], False
        for line in text.split("\n"):
            if line.strip().startswith("```"):
                fenced = not fenced
            elif not fenced:
                indent = line[: len(line) - len(line.lstrip(" "))]
                line = indent + re.sub(r" {2,}", " ", line.lstrip(" "))
            lines.append(line.rstrip())
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_markdown(html: str, *, plain: bool = False, keep_newlines: bool = False) -> str:
    """Simple HTML as Markdown (``<b>`` -> ``**``, ``<br>`` -> a new line, ``<p>`` -> a paragraph,
    links kept as ``[text](url)``, lists as ``- ``); tags it does not know are dropped, never passed on.

    ``plain`` drops the markup too (for button labels, which cannot show it); ``keep_newlines``
    treats a newline in the text as a line break, as Moodle's own text format does.
    """
    parser = _Markdown(plain=plain, keep_newlines=keep_newlines)
    parser.feed(html)
    parser.close()
    return parser.result()


def strip_tags(text: str) -> str:
    """Text with any tags removed and entities decoded: a safety net for text we did not convert."""
    return unescape(_TAG_RE.sub("", text))


# --- YAML -------------------------------------------------------------------------------------


class _Flow(dict):
    """A mapping written on one line: ``{kind: podcast, title: …}``."""


class _FlowList(list):
    """A list written on one line: ``[mon, tue]``."""


class _Quoted(str):
    """A string always written in double quotes (``"09:30"``)."""


class PackDumper(yaml.SafeDumper):
    """Block sequences indented under their key, as in the README and the bundled packs."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


PackDumper.add_representer(str, _represent_str)
PackDumper.add_representer(
    _Quoted, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v), style='"')
)
PackDumper.add_representer(
    _Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", dict(v), flow_style=True)
)
PackDumper.add_representer(
    _FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", list(v), flow_style=True)
)


def _clean_block(text: str) -> str:
    # A | block cannot carry trailing spaces or tabs at line ends; PyYAML would fall back to quotes.
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip("\n") + "\n"


def _styled(value: Any, path: tuple[str, ...] = ()) -> Any:
    """Mark the parts written on one line (schedule, each link) and clean block text."""
    if isinstance(value, dict):
        styled = {k: _styled(v, (*path, str(k))) for k, v in value.items()}
        if path == ("schedule",):
            if isinstance(styled.get("days"), list):
                styled["days"] = _FlowList(styled["days"])
            time = styled.get("time")
            if isinstance(time, int) and not isinstance(time, bool):
                time = f"{time // 60:02d}:{time % 60:02d}"  # YAML 1.1 read an unquoted 9:30 as 570
            if isinstance(time, str):
                styled["time"] = _Quoted(time)
            return _Flow(styled)
        if path[-2:] == ("links", "[]"):
            return _Flow(styled)
        return styled
    if isinstance(value, list):
        return [_styled(item, (*path, "[]")) for item in value]
    if isinstance(value, str) and "\n" in value:
        return _clean_block(value)
    return value


def dump_pack(data: dict[str, Any]) -> str:
    """A pack as readable YAML, keys in the order given."""
    return yaml.dump(_styled(data), Dumper=PackDumper, sort_keys=False, allow_unicode=True, width=10_000)


def dump_items(items: Iterable[Any], *, path: tuple[str, ...] = ()) -> str:
    """List items (``- …`` lines) in the same style, for inserting into an existing file."""
    return yaml.dump(
        _styled(list(items), path), Dumper=PackDumper, sort_keys=False, allow_unicode=True, width=10_000
    )


def pack_path(directory: Path, pack_id: str) -> Path:
    return Path(directory) / pack_id / PACK_FILE


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(temp, path.stat().st_mode & 0o777)
        else:
            os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
