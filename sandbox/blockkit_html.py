"""Block Kit as HTML, drawn close to how Slack draws it, for the sandbox page.

Nothing that arrives in a block is trusted: every string is HTML-escaped on the way out, and
only the tags this module writes itself reach the page. Slack's mrkdwn control sequences
(``<url|label>``, ``<@U123>``, ``<!channel>``) become links and mentions; the entities Slack
uses for literal ``& < >`` (``&amp; &lt; &gt;``) are decoded first, then escaped again for HTML,
so a comment that reads ``&lt;script&gt;`` shows ``<script>`` as text. Only http(s) and mailto
URLs become links; images load only from the origins the caller allows (the page is offline).

Interactive elements carry ``data-sk`` (what they are), ``data-action-id``, ``data-block-id``
and ``data-value`` attributes; the page's script turns clicks on them into the requests Slack
would send.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

LINK_SCHEMES = ("http", "https", "mailto")

# Where Slack reports a picker's choice in ``state.values`` and where the element says its initial one.
_PICKED = {
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
}
_INITIAL = {
    "users_select": "initial_user",
    "multi_users_select": "initial_users",
    "conversations_select": "initial_conversation",
    "multi_conversations_select": "initial_conversations",
    "channels_select": "initial_channel",
    "multi_channels_select": "initial_channels",
}

# A few shortcodes Slack people type; others pass through as ":name:".
EMOJI = {
    "+1": "👍",
    "-1": "👎",
    "bar_chart": "📊",
    "bell": "🔔",
    "blue_book": "📘",
    "book": "📖",
    "books": "📚",
    "brain": "🧠",
    "bulb": "💡",
    "calendar": "📅",
    "chart_with_upwards_trend": "📈",
    "clapper": "🎬",
    "clock3": "🕒",
    "email": "📧",
    "exclamation": "❗",
    "eyes": "👀",
    "fire": "🔥",
    "headphones": "🎧",
    "heart": "❤️",
    "hourglass": "⌛",
    "lock": "🔒",
    "mag": "🔍",
    "memo": "📝",
    "muscle": "💪",
    "page_facing_up": "📄",
    "point_right": "👉",
    "question": "❓",
    "rocket": "🚀",
    "seedling": "🌱",
    "slightly_smiling_face": "🙂",
    "smile": "😄",
    "sparkles": "✨",
    "speech_balloon": "💬",
    "star": "⭐",
    "tada": "🎉",
    "thumbsup": "👍",
    "thumbsdown": "👎",
    "trophy": "🏆",
    "warning": "⚠️",
    "wave": "👋",
    "white_check_mark": "✅",
    "x": "❌",
}

# Placeholders for fragments that are already HTML while the rest of a line is still text.
# They are private-use characters, removed from the input first, so text cannot forge them.
_OPEN, _CLOSE = "\ue000", "\ue001"
_HELD = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_CODE = re.compile(r"`([^`\n]+)`")
_CONTROL = re.compile(r"<([^<>\n]+)>")
_SHORTCODE = re.compile(r":([a-z0-9_+\-]+):")
_QUOTE = re.compile(r"^(?:>|&gt;) ?(.*)$")
# Slack formats *bold* only between word boundaries: "5*3*2" and snake_case_names stay as typed.
_EDGE = r"\s" + _OPEN + _CLOSE + r"()\[\]{}'\"“”‘’.,;:!?/<>&*_~\-"


def _emphasis(marker: str) -> re.Pattern[str]:
    m = re.escape(marker)
    return re.compile(rf"(?<![^{_EDGE}]){m}(?=[^\s{m}])([^{m}\n]*?[^\s{m}]){m}(?![^{_EDGE}])")


_STYLES = ((_emphasis("*"), "strong"), (_emphasis("_"), "em"), (_emphasis("~"), "del"))


def esc(value: Any) -> str:
    """HTML-escape text for an element body or a quoted attribute."""
    return html.escape(str(value), quote=True)


def decode_entities(text: str) -> str:
    """Slack's three entities back to the characters a person typed (one level only)."""
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


def safe_url(url: Any) -> str | None:
    """The URL if it is one a link may point to (http, https, mailto), else ``None``.

    Browsers drop tabs and newlines inside URLs ("java\\tscript:"), so any control
    character or space rejects the URL outright rather than being cleaned.
    """
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in LINK_SCHEMES:
        return None
    if scheme in ("http", "https") and not parts.netloc:
        return None
    return url


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _emoji(text: str) -> str:
    return _SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


class _Held:
    """HTML fragments set aside while a line is formatted, put back after it is escaped."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def __call__(self, fragment: str) -> str:
        self.items.append(fragment)
        return f"{_OPEN}{len(self.items) - 1}{_CLOSE}"

    def restore(self, text: str) -> str:
        return _HELD.sub(lambda m: self.items[int(m.group(1))], text)


# -- mrkdwn ----------------------------------------------------------------------------------


def render_mrkdwn(
    text: Any, *, users: Mapping[str, str] | None = None, channels: Mapping[str, str] | None = None
) -> str:
    """A mrkdwn string as HTML: formatting, links, mentions, quotes, code blocks; all text escaped.

    ``users`` and ``channels`` map ids to names, for ``<@U123>`` and ``<#C123>``. Newlines are kept as
    newlines; the page shows text with ``white-space: pre-wrap``.
    """
    names = _Names(users or {}, channels or {})
    source = str(text or "").replace(_OPEN, "").replace(_CLOSE, "")
    pieces = source.split("```")
    if len(pieces) % 2 == 0:  # an unclosed fence is text
        pieces[-2:] = ["```".join(pieces[-2:])]
    out: list[str] = []
    for i, piece in enumerate(pieces):
        if i % 2:
            body = piece[1:] if piece.startswith("\n") else piece
            body = body[:-1] if body.endswith("\n") else body
            out.append(f'<pre class="sk-pre">{esc(decode_entities(body))}</pre>')
        else:
            if i > 0 and piece.startswith("\n"):
                piece = piece[1:]
            if i < len(pieces) - 1 and piece.endswith("\n"):
                piece = piece[:-1]
            out.append(_flow(piece, names))
    return "".join(out)


@dataclass(frozen=True)
class _Names:
    users: Mapping[str, str]
    channels: Mapping[str, str]


def _flow(text: str, names: _Names) -> str:
    """Lines of mrkdwn outside code blocks; runs of "> " lines become one quote."""
    groups: list[tuple[bool, list[str]]] = []
    for line in text.split("\n"):
        match = _QUOTE.match(line)
        quoted = match is not None
        content = match.group(1) if match else line
        if groups and groups[-1][0] == quoted:
            groups[-1][1].append(content)
        else:
            groups.append((quoted, [content]))
    out = []
    for quoted, lines in groups:
        body = "\n".join(_inline(line, names) for line in lines)
        # No newline around a quote: it is a block of its own, and a newline would show as an empty line.
        out.append(f'<blockquote class="sk-quote">{body}</blockquote>' if quoted else body)
    return "".join(out)


def _inline(line: str, names: _Names) -> str:
    held = _Held()
    line = _CODE.sub(lambda m: held(f'<code class="sk-code">{esc(decode_entities(m.group(1)))}</code>'), line)
    line = _CONTROL.sub(lambda m: held(_control(m.group(1), names)), line)
    for pattern, tag in _STYLES:
        line = pattern.sub(lambda m, tag=tag: f"{held(f'<{tag}>')}{m.group(1)}{held(f'</{tag}>')}", line)
    return held.restore(_emoji(esc(decode_entities(line))))


def _control(body: str, names: _Names) -> str:
    """One ``<...>`` sequence: a mention, a broadcast, a link, or (if none of those) literal text."""
    head, _, label = body.partition("|")
    label = decode_entities(label)
    if head.startswith("@"):
        user_id = head[1:]
        name = label or names.users.get(user_id) or user_id
        return f'<span class="sk-mention" data-user-id="{esc(user_id)}">@{esc(name)}</span>'
    if head.startswith("#"):
        channel_id = head[1:]
        name = label or names.channels.get(channel_id) or channel_id
        return f'<span class="sk-mention" data-channel-id="{esc(channel_id)}">#{esc(name)}</span>'
    if head.startswith("!"):
        command = head[1:]
        if command in ("channel", "here", "everyone"):
            return f'<span class="sk-mention sk-broadcast">@{esc(command)}</span>'
        if command.startswith("subteam^"):
            return f'<span class="sk-mention">{esc(label or "@group")}</span>'
        if command.startswith("date^"):
            return esc(label or _date_fallback(command))
        return esc(f"<{decode_entities(body)}>")
    url = safe_url(decode_entities(head))
    if url is None:
        return esc(label) if label else esc(f"<{decode_entities(body)}>")
    shown = label or (url[7:] if url.lower().startswith("mailto:") else url)
    return (
        f'<a class="sk-link" href="{esc(url)}" title="{esc(url)}" target="_blank" '
        f'rel="noopener noreferrer">{_emoji(esc(shown))}</a>'
    )


def _unicode_emoji(element: dict) -> str:
    """A rich-text emoji: its code points ("1f331", "1f44d-1f3fd"), else a known shortcode, else ":name:"."""
    points = str(element.get("unicode") or "")
    try:
        if points:
            return "".join(chr(int(p, 16)) for p in points.split("-"))
    except (ValueError, OverflowError):
        pass
    name = str(element.get("name") or "")
    return EMOJI.get(name, f":{name}:")


def _date_fallback(command: str) -> str:
    try:
        stamp = int(command.split("^")[1])
    except (IndexError, ValueError):
        return ""
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


# -- text objects ----------------------------------------------------------------------------


def render_plain(text: Any, *, emoji: bool = True) -> str:
    """A plain_text string: entities decoded, escaped, shortcodes as emoji unless ``emoji`` is false."""
    shown = esc(decode_entities(str(text or "")))
    return _emoji(shown) if emoji else shown


def render_text(
    obj: Any, *, users: Mapping[str, str] | None = None, channels: Mapping[str, str] | None = None
) -> str:
    """A text object (``plain_text`` or ``mrkdwn``)."""
    if isinstance(obj, str):
        return render_plain(obj)
    if not isinstance(obj, dict):
        return ""
    if obj.get("type") == "mrkdwn":
        return render_mrkdwn(obj.get("text", ""), users=users, channels=channels)
    return render_plain(obj.get("text", ""), emoji=obj.get("emoji", True) is not False)


def _plain_value(obj: Any) -> str:
    """The text of a text object, unformatted (for attributes such as placeholders and labels)."""
    if isinstance(obj, dict):
        return decode_entities(str(obj.get("text", "")))
    return str(obj or "")


# -- blocks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conversation:
    """A channel the person looking at the page can pick in a conversation or channel menu."""

    id: str
    name: str
    is_private: bool = False

    @property
    def label(self) -> str:
        return f"🔒 {self.name}" if self.is_private else f"# {self.name}"


class _Renderer:
    def __init__(
        self,
        *,
        users: Mapping[str, str],
        state: Mapping[str, Any] | None,
        errors: Mapping[str, str] | None,
        image_origins: Iterable[str],
        conversations: Iterable[Conversation] = (),
    ) -> None:
        self.users = users
        self.conversations = list(conversations)
        self.channel_names = {c.id: c.name for c in self.conversations}
        self.state = state or {}
        self.errors = errors or {}
        origins = set(image_origins)
        self.any_image = "*" in origins
        self.image_origins = {o.rstrip("/").lower() for o in origins if o != "*"}

    def text(self, obj: Any) -> str:
        return render_text(obj, users=self.users, channels=self.channel_names)

    def blocks(self, blocks: Any) -> str:
        if not isinstance(blocks, list):
            return ""
        return "".join(self.block(b) for b in blocks if isinstance(b, dict))

    def block(self, block: dict) -> str:
        kind = str(block.get("type", ""))
        block_id = str(block.get("block_id", ""))
        draw = getattr(self, f"b_{kind}", None)
        inner = draw(block, block_id) if draw is not None and kind.isidentifier() else self.unsupported(kind)
        return f'<div class="sk-block sk-{esc(kind)}" data-block-id="{esc(block_id)}">{inner}</div>'

    @staticmethod
    def unsupported(kind: str) -> str:
        return f'<span class="sk-unsupported">[{esc(kind or "unknown")} block]</span>'

    # blocks
    def b_header(self, block: dict, block_id: str) -> str:
        return f'<div class="sk-header-text">{self.text(block.get("text"))}</div>'

    def b_divider(self, block: dict, block_id: str) -> str:
        return '<hr class="sk-hr">'

    def b_section(self, block: dict, block_id: str) -> str:
        body = ""
        if block.get("text"):
            body += f'<div class="sk-text">{self.text(block["text"])}</div>'
        fields = block.get("fields")
        if isinstance(fields, list) and fields:
            body += (
                '<div class="sk-fields">'
                + "".join(f'<div class="sk-field sk-text">{self.text(f)}</div>' for f in fields)
                + "</div>"
            )
        accessory = block.get("accessory")
        aside = ""
        if isinstance(accessory, dict):
            aside = f'<div class="sk-accessory">{self.element(accessory, block_id)}</div>'
        return f'<div class="sk-section-row"><div class="sk-section-body">{body}</div>{aside}</div>'

    def b_context(self, block: dict, block_id: str) -> str:
        parts = []
        for element in block.get("elements") or []:
            if not isinstance(element, dict):
                continue
            if element.get("type") == "image":
                parts.append(self.image(element.get("image_url"), element.get("alt_text"), "sk-context-img"))
            else:
                parts.append(f'<span class="sk-context-text sk-text">{self.text(element)}</span>')
        return "".join(parts)

    def b_image(self, block: dict, block_id: str) -> str:
        title = f'<div class="sk-image-title">{self.text(block["title"])}</div>' if block.get("title") else ""
        return title + self.image(block.get("image_url"), block.get("alt_text"), "sk-image-full")

    def b_actions(self, block: dict, block_id: str) -> str:
        elements = [e for e in block.get("elements") or [] if isinstance(e, dict)]
        return (
            '<div class="sk-actions-row">' + "".join(self.element(e, block_id) for e in elements) + "</div>"
        )

    def b_input(self, block: dict, block_id: str) -> str:
        optional = bool(block.get("optional"))
        label = f'<span class="sk-label-text">{render_plain(_plain_value(block.get("label")))}</span>'
        if optional:
            label += ' <span class="sk-optional">(optional)</span>'
        element = block.get("element")
        field = self.element(element, block_id) if isinstance(element, dict) else ""
        hint = f'<div class="sk-hint">{self.text(block["hint"])}</div>' if block.get("hint") else ""
        error = self.errors.get(block_id)
        shown_error = f'<div class="sk-error" role="alert">{render_plain(error)}</div>' if error else ""
        classes = "sk-input-block" + (" sk-has-error" if error else "")
        dispatch = ' data-dispatch="1"' if block.get("dispatch_action") else ""
        return (
            f'<div class="{classes}" data-input-block="{esc(block_id)}" data-optional="{int(optional)}"'
            f'{dispatch}><label class="sk-label">{label}</label>{field}{shown_error}{hint}</div>'
        )

    def b_rich_text(self, block: dict, block_id: str) -> str:
        return "".join(self.rich(e) for e in block.get("elements") or [] if isinstance(e, dict))

    def b_markdown(self, block: dict, block_id: str) -> str:
        return f'<div class="sk-text">{esc(block.get("text", ""))}</div>'

    def b_video(self, block: dict, block_id: str) -> str:
        title = _plain_value(block.get("title")) or "Video"
        url = safe_url(block.get("title_url") or block.get("video_url"))
        shown = (
            (
                f'<a class="sk-link" href="{esc(url)}" target="_blank" rel="noopener noreferrer">'
                f"{render_plain(title)}</a>"
            )
            if url
            else render_plain(title)
        )
        return f'<div class="sk-file">🎬 {shown}</div>'

    def b_file(self, block: dict, block_id: str) -> str:
        return f'<div class="sk-file">📎 file {esc(block.get("file_id", ""))}</div>'

    # rich text (what people type, and what bots may send)
    def rich(self, element: dict) -> str:
        kind = element.get("type")
        inner = "".join(self.rich_inline(e) for e in element.get("elements") or [] if isinstance(e, dict))
        if kind == "rich_text_section":
            return f'<div class="sk-text">{inner}</div>'
        if kind == "rich_text_preformatted":
            return f'<pre class="sk-pre">{inner}</pre>'
        if kind == "rich_text_quote":
            return f'<blockquote class="sk-quote">{inner}</blockquote>'
        if kind == "rich_text_list":
            tag = "ol" if element.get("style") == "ordered" else "ul"
            items = "".join(
                f"<li>{''.join(self.rich_inline(x) for x in item.get('elements') or [] if isinstance(x, dict))}</li>"
                for item in element.get("elements") or []
                if isinstance(item, dict)
            )
            indent = element.get("indent") if isinstance(element.get("indent"), int) else 0
            return f'<{tag} class="sk-list sk-indent-{max(0, min(indent, 6))}">{items}</{tag}>'
        return self.unsupported(str(kind))

    def rich_inline(self, element: dict) -> str:
        kind = element.get("type")
        if kind == "text":
            out = esc(element.get("text", ""))
        elif kind == "link":
            url = safe_url(element.get("url"))
            label = esc(element.get("text") or element.get("url") or "")
            out = (
                f'<a class="sk-link" href="{esc(url)}" target="_blank" rel="noopener noreferrer">{label}</a>'
                if url
                else label
            )
        elif kind == "user":
            user_id = str(element.get("user_id", ""))
            out = f'<span class="sk-mention">@{esc(self.users.get(user_id, user_id))}</span>'
        elif kind == "channel":
            channel_id = str(element.get("channel_id", ""))
            out = f'<span class="sk-mention">#{esc(self.channel_names.get(channel_id, channel_id))}</span>'
        elif kind == "broadcast":
            out = f'<span class="sk-mention sk-broadcast">@{esc(element.get("range", ""))}</span>'
        elif kind == "emoji":
            out = esc(_unicode_emoji(element))
        elif kind == "date":
            out = esc(element.get("fallback") or _date_fallback(f"date^{element.get('timestamp', '')}"))
        else:
            out = esc(element.get("text", ""))
        style = element.get("style") if isinstance(element.get("style"), dict) else {}
        for key, tag in (("code", "code"), ("strike", "del"), ("italic", "em"), ("bold", "strong")):
            if style.get(key):
                out = f'<{tag} class="sk-code">{out}</{tag}>' if key == "code" else f"<{tag}>{out}</{tag}>"
        return out

    # elements
    def element(self, element: dict, block_id: str) -> str:
        kind = str(element.get("type", ""))
        draw = getattr(self, f"e_{kind}", None)
        if draw is None or not kind.isidentifier():
            return f'<span class="sk-unsupported">[{esc(kind or "unknown")}]</span>'
        return draw(element, block_id)

    def _data(self, element: dict, block_id: str, sk: str) -> str:
        return (
            f'data-sk="{sk}" data-type="{esc(element.get("type", ""))}" '
            f'data-action-id="{esc(element.get("action_id", ""))}" data-block-id="{esc(block_id)}"'
        )

    def _entered(self, element: dict, block_id: str) -> dict | None:
        values = self.state.get(block_id)
        entered = values.get(element.get("action_id", "")) if isinstance(values, dict) else None
        return entered if isinstance(entered, dict) else None

    def e_button(self, element: dict, block_id: str) -> str:
        style = element.get("style")
        classes = "sk-btn" + (f" sk-{style}" if style in ("primary", "danger") else "")
        attrs = self._data(element, block_id, "button")
        if "value" in element:
            attrs += f' data-value="{esc(element["value"])}"'
        confirm = element.get("confirm")
        if isinstance(confirm, dict):
            question = " — ".join(
                t for t in (_plain_value(confirm.get("title")), _plain_value(confirm.get("text"))) if t
            )
            attrs += f' data-confirm="{esc(question or "Are you sure?")}"'
        label = render_plain(_plain_value(element.get("text")))
        url = safe_url(element.get("url"))
        if url:
            return (
                f'<a class="{classes}" href="{esc(url)}" title="{esc(url)}" target="_blank" '
                f'rel="noopener noreferrer" {attrs}>{label}</a>'
            )
        return f'<button type="button" class="{classes}" {attrs}>{label}</button>'

    def _options(self, element: dict) -> list[dict]:
        if isinstance(element.get("option_groups"), list):
            return [
                o for g in element["option_groups"] if isinstance(g, dict) for o in g.get("options") or []
            ]
        return [o for o in element.get("options") or [] if isinstance(o, dict)]

    def _chosen(self, element: dict, block_id: str) -> set[str]:
        entered = self._entered(element, block_id)
        if entered is not None:
            picked = entered.get("selected_options")
            if picked is None and entered.get("selected_option") is not None:
                picked = [entered["selected_option"]]
        else:
            picked = element.get("initial_options")
            if picked is None and element.get("initial_option") is not None:
                picked = [element["initial_option"]]
        return {str(o.get("value")) for o in picked or [] if isinstance(o, dict)}

    def _option_tags(self, options: list, chosen: set[str]) -> str:
        return "".join(
            f'<option value="{esc(o.get("value", ""))}"{" selected" if str(o.get("value")) in chosen else ""}>'
            f"{render_plain(_plain_value(o.get('text')))}</option>"
            for o in options
            if isinstance(o, dict)
        )

    def e_static_select(self, element: dict, block_id: str, *, multiple: bool = False) -> str:
        chosen = self._chosen(element, block_id)
        placeholder = _plain_value(element.get("placeholder")) or "Select an item"
        options = ""
        if not multiple:
            options += f'<option value=""{"" if chosen else " selected"}>{render_plain(placeholder)}</option>'
        if isinstance(element.get("option_groups"), list):
            for group in element["option_groups"]:
                if isinstance(group, dict):
                    options += (
                        f'<optgroup label="{esc(_plain_value(group.get("label")))}">'
                        f"{self._option_tags(group.get('options') or [], chosen)}</optgroup>"
                    )
        else:
            options += self._option_tags(self._options(element), chosen)
        extra = (
            f' multiple aria-label="{esc(placeholder)}"' if multiple else f' aria-label="{esc(placeholder)}"'
        )
        return (
            f'<select class="sk-select" {self._data(element, block_id, "select")}{extra}>{options}</select>'
        )

    def e_multi_static_select(self, element: dict, block_id: str) -> str:
        return self.e_static_select(element, block_id, multiple=True)

    e_external_select = e_static_select

    def _picker_menu(
        self,
        element: dict,
        block_id: str,
        choices: list[tuple[str, str]],
        *,
        multiple: bool,
        placeholder: str,
        empty: str,
    ) -> str:
        """A users, conversations or channels menu: ``choices`` are (id, label); the value is the id,
        as Slack reports it (``selected_user``, ``selected_conversations``…)."""
        kind = str(element.get("type"))
        entered = self._entered(element, block_id)
        if entered is not None:
            picked = entered.get(_PICKED.get(kind, ""))
        else:
            picked = element.get(_INITIAL.get(kind, ""))
        chosen = (
            {str(p) for p in picked} if isinstance(picked, list) else ({str(picked)} if picked else set())
        )
        shown = _plain_value(element.get("placeholder")) or placeholder
        options = "" if multiple else f'<option value="">{render_plain(shown)}</option>'
        if not choices:
            options += f'<option value="" disabled>{render_plain(empty)}</option>'
        options += "".join(
            f'<option value="{esc(value)}"{" selected" if value in chosen else ""}>{render_plain(label)}</option>'
            for value, label in choices
        )
        extra = f' multiple aria-label="{esc(shown)}"' if multiple else f' aria-label="{esc(shown)}"'
        return (
            f'<select class="sk-select" {self._data(element, block_id, "select")}{extra}>{options}</select>'
        )

    def _people(self) -> list[tuple[str, str]]:
        return list(self.users.items())

    def _channels(self, element: dict, *, public_only: bool = False) -> list[tuple[str, str]]:
        """The conversations this element offers, narrowed by its ``filter`` as Slack narrows them. The
        sandbox has channels only (no group DMs to pick), so ``include: [im]`` alone offers nothing."""
        include = (element.get("filter") or {}).get("include") if not public_only else ["public"]
        kinds = set(include) if isinstance(include, list) and include else {"public", "private"}
        return [
            (c.id, c.label) for c in self.conversations if ("private" if c.is_private else "public") in kinds
        ]

    def e_users_select(self, element: dict, block_id: str) -> str:
        return self._picker_menu(
            element, block_id, self._people(), multiple=False, placeholder="Select a person", empty="Nobody"
        )

    def e_multi_users_select(self, element: dict, block_id: str) -> str:
        return self._picker_menu(
            element, block_id, self._people(), multiple=True, placeholder="Select people", empty="Nobody"
        )

    def e_conversations_select(self, element: dict, block_id: str) -> str:
        return self._picker_menu(
            element,
            block_id,
            self._channels(element),
            multiple=False,
            placeholder="Select a conversation",
            empty="No channels in this workspace",
        )

    def e_multi_conversations_select(self, element: dict, block_id: str) -> str:
        return self._picker_menu(
            element,
            block_id,
            self._channels(element),
            multiple=True,
            placeholder="Select conversations",
            empty="No channels in this workspace",
        )

    def e_channels_select(self, element: dict, block_id: str) -> str:
        return self._picker_menu(
            element,
            block_id,
            self._channels(element, public_only=True),
            multiple=False,
            placeholder="Select a channel",
            empty="No public channels in this workspace",
        )

    def e_multi_channels_select(self, element: dict, block_id: str) -> str:
        return self._picker_menu(
            element,
            block_id,
            self._channels(element, public_only=True),
            multiple=True,
            placeholder="Select channels",
            empty="No public channels in this workspace",
        )

    def e_overflow(self, element: dict, block_id: str) -> str:
        items = []
        for option in self._options(element):
            label = render_plain(_plain_value(option.get("text")))
            url = safe_url(option.get("url"))
            data = self._data(element, block_id, "option") + f' data-value="{esc(option.get("value", ""))}"'
            if url:
                items.append(
                    f'<a class="sk-menu-item" href="{esc(url)}" target="_blank" '
                    f'rel="noopener noreferrer" {data}>{label}</a>'
                )
            else:
                items.append(f'<button type="button" class="sk-menu-item" {data}>{label}</button>')
        return (
            '<details class="sk-overflow"><summary class="sk-btn sk-overflow-btn" aria-label="More actions">'
            f'⋯</summary><div class="sk-menu">{"".join(items)}</div></details>'
        )

    def _choices(self, element: dict, block_id: str, kind: str) -> str:
        chosen = self._chosen(element, block_id)
        name = esc(f"{block_id}/{element.get('action_id', '')}")
        items = []
        for option in self._options(element):
            value = str(option.get("value", ""))
            description = (
                f'<span class="sk-choice-desc">{self.text(option["description"])}</span>'
                if option.get("description")
                else ""
            )
            items.append(
                f'<label class="sk-choice"><input type="{kind}" name="{name}" value="{esc(value)}"'
                f'{" checked" if value in chosen else ""}><span class="sk-choice-text">'
                f"{self.text(option.get('text'))}{description}</span></label>"
            )
        sk = "checkboxes" if kind == "checkbox" else "radio"
        return f'<div class="sk-choices" {self._data(element, block_id, sk)}>{"".join(items)}</div>'

    def e_checkboxes(self, element: dict, block_id: str) -> str:
        return self._choices(element, block_id, "checkbox")

    def e_radio_buttons(self, element: dict, block_id: str) -> str:
        return self._choices(element, block_id, "radio")

    def _picker(self, element: dict, block_id: str, kind: str, state_key: str, initial_key: str) -> str:
        entered = self._entered(element, block_id)
        value = entered.get(state_key) if entered else element.get(initial_key)
        shown = f' value="{esc(value)}"' if value else ""
        return f'<input type="{kind}" class="sk-field-input" {self._data(element, block_id, kind)}{shown}>'

    def e_datepicker(self, element: dict, block_id: str) -> str:
        return self._picker(element, block_id, "date", "selected_date", "initial_date")

    def e_timepicker(self, element: dict, block_id: str) -> str:
        return self._picker(element, block_id, "time", "selected_time", "initial_time")

    def e_plain_text_input(self, element: dict, block_id: str) -> str:
        entered = self._entered(element, block_id)
        value = entered.get("value") if entered else element.get("initial_value")
        value = "" if value is None else str(value)
        attrs = self._data(element, block_id, "text")
        placeholder = _plain_value(element.get("placeholder"))
        if placeholder:
            attrs += f' placeholder="{esc(placeholder)}"'
        for key, attr in (("max_length", "maxlength"), ("min_length", "minlength")):
            if isinstance(element.get(key), int):
                attrs += f' {attr}="{element[key]}"'
        if element.get("multiline"):
            return f'<textarea class="sk-field-input sk-textarea" rows="4" {attrs}>{esc(value)}</textarea>'
        kind = {"email_text_input": "email", "url_text_input": "url", "number_input": "number"}.get(
            str(element.get("type")), "text"
        )
        return f'<input type="{kind}" class="sk-field-input" {attrs} value="{esc(value)}">'

    e_email_text_input = e_plain_text_input
    e_url_text_input = e_plain_text_input
    e_number_input = e_plain_text_input

    def e_image(self, element: dict, block_id: str) -> str:
        return self.image(element.get("image_url"), element.get("alt_text"), "sk-accessory-img")

    def image(self, url: Any, alt: Any, css: str) -> str:
        alt_text = str(alt or "")
        link = safe_url(url)
        if (
            link
            and urlsplit(link).scheme in ("http", "https")
            and (self.any_image or _origin(link) in self.image_origins)
        ):
            return (
                f'<img class="{css}" src="{esc(link)}" alt="{esc(alt_text)}" loading="lazy" '
                f'referrerpolicy="no-referrer">'
            )
        # The page loads nothing from the internet: show where the image would come from instead.
        where = f' title="{esc(link)}"' if link else ""
        return f'<span class="{css} sk-img-placeholder" role="img" aria-label="{esc(alt_text)}"{where}>🖼 {esc(alt_text)}</span>'


# What this module draws; anything else shows as a "[type]" placeholder.
BLOCK_TYPES = frozenset(name[2:] for name in vars(_Renderer) if name.startswith("b_"))
ELEMENT_TYPES = frozenset(name[2:] for name in vars(_Renderer) if name.startswith("e_"))
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
VIEW_TYPES = frozenset({"home", "modal"})


def render_blocks(
    blocks: Any,
    *,
    users: Mapping[str, str] | None = None,
    conversations: Iterable[Conversation] = (),
    state: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    image_origins: Iterable[str] = (),
) -> str:
    """Blocks as HTML. ``users`` (id → name) and ``conversations`` fill the people and channel menus and
    name mentions; ``state`` (a view's ``state.values``) fills inputs with what was entered, ``errors``
    (``block_id`` → message, from ``response_action: errors``) shows under the inputs."""
    return _Renderer(
        users=users or {},
        state=state,
        errors=errors,
        image_origins=image_origins,
        conversations=conversations,
    ).blocks(blocks)


def render_message(
    message: Mapping[str, Any],
    *,
    users: Mapping[str, str] | None = None,
    conversations: Iterable[Conversation] = (),
    image_origins: Iterable[str] = (),
) -> str:
    """A message's body: its blocks, or its ``text`` as mrkdwn when it has none, then attachments."""
    renderer = _Renderer(
        users=users or {}, state=None, errors=None, image_origins=image_origins, conversations=conversations
    )
    blocks = message.get("blocks")
    if isinstance(blocks, list) and blocks:
        body = renderer.blocks(blocks)
    else:
        body = (
            f'<div class="sk-text">{renderer.text({"type": "mrkdwn", "text": message.get("text", "")})}</div>'
        )
    for attachment in message.get("attachments") or []:
        if isinstance(attachment, dict):
            body += _attachment(attachment, renderer)
    for shared in message.get("files") or []:
        if isinstance(shared, dict):
            body += _file(shared, renderer)
    return body


def _file(shared: dict, renderer: _Renderer) -> str:
    """A shared file: images shown (from allowed origins only), anything else as a named card."""
    title = shared.get("title") or shared.get("name") or "file"
    if str(shared.get("mimetype", "")).startswith("image/"):
        image = renderer.image(shared.get("url_private"), shared.get("alt_txt") or title, "sk-image-full")
        return f'<div class="sk-file sk-file-image"><div class="sk-image-title">{render_plain(title)}</div>{image}</div>'
    return f'<div class="sk-file">📎 {render_plain(title)}</div>'


def _attachment(attachment: dict, renderer: _Renderer) -> str:
    color = str(attachment.get("color", ""))
    tone = {"good": "good", "warning": "warning", "danger": "danger"}.get(color, "neutral")
    parts = []
    if attachment.get("title"):
        parts.append(f'<div class="sk-att-title">{render_plain(attachment["title"])}</div>')
    if attachment.get("text"):
        parts.append(
            f'<div class="sk-text">{renderer.text({"type": "mrkdwn", "text": attachment["text"]})}</div>'
        )
    fields = [f for f in attachment.get("fields") or [] if isinstance(f, dict)]
    if fields:
        parts.append(
            '<div class="sk-fields">'
            + "".join(
                f'<div class="sk-field"><div class="sk-field-title">{render_plain(f.get("title", ""))}</div>'
                f'<div class="sk-text">{renderer.text({"type": "mrkdwn", "text": f.get("value", "")})}</div></div>'
                for f in fields
            )
            + "</div>"
        )
    if isinstance(attachment.get("blocks"), list):
        parts.append(renderer.blocks(attachment["blocks"]))
    return f'<div class="sk-attachment sk-att-{tone}">{"".join(parts)}</div>'


def render_view(
    view: Mapping[str, Any],
    *,
    users: Mapping[str, str] | None = None,
    conversations: Iterable[Conversation] = (),
    errors: Mapping[str, str] | None = None,
    image_origins: Iterable[str] = (),
) -> str:
    """A Home tab, or a modal with its title bar and buttons; inputs show the view's entered state."""
    state = (view.get("state") or {}).get("values") if isinstance(view.get("state"), dict) else None
    body = render_blocks(
        view.get("blocks"),
        users=users,
        conversations=conversations,
        state=state,
        errors=errors,
        image_origins=image_origins,
    )
    view_id = esc(view.get("id", ""))
    if view.get("type") != "modal":
        return f'<div class="sk-view sk-home" data-view-id="{view_id}">{body}</div>'
    title = render_plain(_plain_value(view.get("title")) or "App")
    close = render_plain(_plain_value(view.get("close")) or ("Cancel" if view.get("submit") else "Close"))
    submit = view.get("submit")
    buttons = f'<button type="button" class="sk-btn" data-sk="close">{close}</button>'
    if submit:
        buttons += (
            f'<button type="button" class="sk-btn sk-primary" data-sk="submit">'
            f"{render_plain(_plain_value(submit))}</button>"
        )
    back = (
        '<button type="button" class="sk-modal-back" data-sk="close" aria-label="Back">‹</button>'
        if view.get("previous_view_id")
        else ""
    )
    return (
        f'<div class="sk-modal" role="dialog" aria-modal="true" aria-label="{esc(_plain_value(view.get("title")))}"'
        f' data-view-id="{view_id}"><div class="sk-modal-head">{back}<div class="sk-modal-title">{title}</div>'
        f'<button type="button" class="sk-modal-x" data-sk="close" aria-label="Close">×</button></div>'
        f'<div class="sk-modal-body">{body}</div><div class="sk-modal-foot">{buttons}</div></div>'
    )


def surface_attr(surface: Mapping[str, Any]) -> str:
    """A ``data-surface`` attribute value: which message or view an element belongs to."""
    return esc(json.dumps(dict(surface), separators=(",", ":")))
