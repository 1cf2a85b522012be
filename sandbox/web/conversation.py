"""A person's DM with the bot as HTML: day dividers, avatars, times in their own time zone."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.blockkit_html import Conversation, esc, render_message, surface_attr

AVATAR_COLOURS = 8


@dataclass(frozen=True)
class Author:
    name: str
    initial: str
    colour: int
    is_app: bool


def initials(name: str) -> str:
    words = [w for w in name.split() if w[:1].isalnum()]
    if not words:
        return "?"
    return (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()


def colour(user_id: str) -> int:
    """A stable avatar colour class for a user id (no randomness: the page must not flicker)."""
    return int(hashlib.sha1(user_id.encode()).hexdigest()[:8], 16) % AVATAR_COLOURS


def local(ts: str | float, tz: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC).astimezone(ZoneInfo(tz))


def clock_time(moment: datetime) -> str:
    """Slack's message time: "9:30 AM"."""
    return moment.strftime("%I:%M %p").lstrip("0")


def day_label(moment: datetime) -> str:
    """Slack's day divider: "Monday, November 30th"."""
    day = moment.day
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{moment:%A}, {moment:%B} {day}{suffix}"


def full_time(moment: datetime, tz: str) -> str:
    return f"{moment:%A %d %B %Y} at {moment:%H:%M} ({tz})"


def render_timeline(
    items: Iterable[tuple[str, dict]],
    *,
    viewer_tz: str,
    authors: Mapping[str, Author],
    bot: Author,
    users: Mapping[str, str],
    conversations: Iterable[Conversation] = (),
    image_origins: Iterable[str] = (),
) -> str:
    """``items`` are ("message" | "ephemeral", message) pairs, oldest first."""
    origins = list(image_origins)
    conversations = list(conversations)
    out = [_intro(bot)]
    last_day = None
    for kind, message in items:
        moment = local(message["ts"], viewer_tz)
        if moment.date() != last_day:
            out.append(
                f'<div class="day-divider" role="separator"><span>{esc(day_label(moment))}</span></div>'
            )
            last_day = moment.date()
        author = bot if message.get("bot_id") else authors.get(str(message.get("user")), bot)
        if kind == "ephemeral":
            surface = {"kind": "ephemeral", "ts": message["ts"]}
        else:
            surface = {"kind": "message", "channel": message.get("channel"), "ts": message["ts"]}
        note = (
            '<div class="msg-note"><span aria-hidden="true">👁</span> Only visible to you</div>'
            if kind == "ephemeral"
            else ""
        )
        badge = ' <span class="app-badge">APP</span>' if author.is_app else ""
        body = render_message(message, users=users, conversations=conversations, image_origins=origins)
        out.append(
            f'<article class="msg{" msg-ephemeral" if kind == "ephemeral" else ""}" data-surface="{surface_attr(surface)}"'
            f' data-ts="{esc(message["ts"])}">{note}<div class="msg-row">'
            f'<div class="avatar av-{author.colour}{" av-app" if author.is_app else ""}" aria-hidden="true">'
            f"{esc(author.initial)}</div>"
            f'<div class="msg-main"><div class="msg-head"><span class="msg-author">{esc(author.name)}</span>{badge}'
            f' <time class="msg-time" datetime="{esc(moment.isoformat())}" title="{esc(full_time(moment, viewer_tz))}">'
            f"{esc(clock_time(moment))}</time></div>"
            f'<div class="msg-body">{body}</div></div></div></article>'
        )
    return "".join(out)


def _intro(bot: Author) -> str:
    return (
        f'<div class="dm-intro"><div class="avatar avatar-big av-{bot.colour} av-app" aria-hidden="true">'
        f'{esc(bot.initial)}</div><div class="dm-intro-name">{esc(bot.name)}'
        ' <span class="app-badge">APP</span></div><p>This is the very beginning of your direct message history '
        f"with <strong>{esc(bot.name)}</strong>. Lessons, answers and replies to your slash commands appear "
        "here.</p></div>"
    )


def person_json(person: Any, now: datetime, *, colour_index: int | None = None) -> dict[str, Any]:
    tz = getattr(person, "tz", "UTC") or "UTC"
    moment = now.astimezone(ZoneInfo(tz))
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return {
        "id": person.user_id,
        "name": person.name,
        "tz": tz,
        "role": getattr(person, "role", None) or "learner",
        "team": getattr(person, "team", None),
        "initials": initials(person.name),
        "colour": colour(person.user_id) if colour_index is None else colour_index % AVATAR_COLOURS,
        "local_time": moment.strftime("%H:%M"),
        "local_day": moment.strftime("%a %d %b"),
        "utc_offset": f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else ""),
    }
