"""Slack mrkdwn: escaping what people type, and turning authors' Markdown into mrkdwn.

Slack treats ``<`` ``>`` ``&`` as control characters (``<!channel>``, ``<@U123>``,
``<https://evil|https://good>``), so any text that did not come from our own code is
escaped before it reaches a ``mrkdwn`` text object.
"""

from __future__ import annotations

import re
from functools import lru_cache


def escape(text: object) -> str:
    """Escape a person's text for Slack mrkdwn (and plain_text, which shares the rule).

    ``&`` first, so the entities the other two become are not escaped again."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quote(text: str) -> str:
    """A block quote of a person's text, escaped, every line quoted."""
    return "\n".join(f"> {line}" if line else ">" for line in escape(text).splitlines() or [""])


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    return text if len(text) <= limit else text[: limit - len(ellipsis)].rstrip() + ellipsis


# Inline Markdown, in priority order. Code spans first so nothing inside them is formatted.
_INLINE = re.compile(
    r"(?P<code>`[^`\n]+`)"
    r"|\[(?P<label>[^\]\n]+)\]\((?P<url>https?://[^)\s]+)\)"
    r"|(?P<bold>\*\*(?P<bold_text>[^*\n]+?)\*\*|__(?P<bold_text2>[^_\n]+?)__)"
    r"|(?P<strike>~~(?P<strike_text>[^~\n]+?)~~)"
    r"|(?P<italic>(?<![\w*])\*(?P<italic_text>[^*\n]+?)\*(?![\w*])|(?<![\w_])_(?P<italic_text2>[^_\n]+?)_(?![\w_]))"
)


def _inline(text: str) -> str:
    out: list[str] = []
    position = 0
    for match in _INLINE.finditer(text):
        out.append(escape(text[position : match.start()]))
        if match.group("code"):
            out.append(escape(match.group("code")))
        elif match.group("url"):
            url = match.group("url").replace("|", "%7C")
            out.append(f"<{escape(url)}|{escape(match.group('label'))}>")
        elif match.group("bold"):
            out.append(f"*{_inline(match.group('bold_text') or match.group('bold_text2'))}*")
        elif match.group("strike"):
            out.append(f"~{_inline(match.group('strike_text'))}~")
        else:
            out.append(f"_{_inline(match.group('italic_text') or match.group('italic_text2'))}_")
        position = match.end()
    out.append(escape(text[position:]))
    return "".join(out)


@lru_cache(maxsize=1024)
def markdown_to_mrkdwn(markdown: str) -> str:
    """The Markdown authors write in packs, as Slack mrkdwn.

    Supported: paragraphs, **bold**, *italic*/_italic_, ~~strike~~, `code`, fenced code
    blocks, [links](https://…), headings (as bold lines), "-"/"*" bullets, numbered
    lists and "> " quotes. Everything else passes through as escaped text.
    """
    lines_out: list[str] = []
    in_fence = False
    for raw in markdown.strip("\n").splitlines():
        line = raw.rstrip()
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            lines_out.append("```")
            continue
        if in_fence:
            lines_out.append(escape(line))
            continue
        heading = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*$", line)
        if heading:
            lines_out.append(f"*{_inline(heading.group(1))}*")
            continue
        bullet = re.match(r"^(\s*)[-*+]\s+(.*)$", line)
        if bullet:
            indent = "    " * (len(bullet.group(1)) // 2)
            lines_out.append(f"{indent}• {_inline(bullet.group(2))}")
            continue
        numbered = re.match(r"^(\s*)(\d+)[.)]\s+(.*)$", line)
        if numbered:
            indent = "    " * (len(numbered.group(1)) // 2)
            lines_out.append(f"{indent}{numbered.group(2)}. {_inline(numbered.group(3))}")
            continue
        quoted = re.match(r"^\s*>\s?(.*)$", line)
        if quoted:
            lines_out.append(f"> {_inline(quoted.group(1))}")
            continue
        lines_out.append(_inline(line.strip()))
    text = "\n".join(lines_out)
    # Markdown joins the lines of a paragraph; Slack would keep the breaks.
    paragraphs = re.split(r"\n{2,}", text)
    joined = []
    for paragraph in paragraphs:
        lines = paragraph.split("\n")
        merged: list[str] = []
        for line in lines:
            structural = line.startswith(("•", ">", "```", "    ")) or re.match(r"^\d+\. ", line) or (
                line.startswith("*") and line.endswith("*") and len(line) > 1
            )
            if merged and not structural and not _is_structural(merged[-1]) and "```" not in paragraph:
                merged[-1] = f"{merged[-1]} {line}"
            else:
                merged.append(line)
        joined.append("\n".join(merged))
    return "\n\n".join(joined)


def _is_structural(line: str) -> bool:
    return bool(line.startswith(("•", ">", "```", "    ")) or re.match(r"^\d+\. ", line))


def split_text(text: str, limit: int = 3000) -> list[str]:
    """Split mrkdwn into pieces of at most ``limit`` characters, at paragraph, then line, then word breaks."""
    pieces: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
            current = ""
        while len(paragraph) > limit:
            cut = paragraph.rfind("\n", 0, limit)
            if cut <= 0:
                cut = paragraph.rfind(" ", 0, limit)
            if cut <= 0:
                cut = limit
            pieces.append(paragraph[:cut].rstrip())
            paragraph = paragraph[cut:].lstrip()
        current = paragraph
    if current:
        pieces.append(current)
    return pieces or [""]
