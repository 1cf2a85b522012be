"""Community prompts: a weekly discussion question posted into a channel (typed by a facilitator, or a
pack's ``discussion:`` entries in turn), and each reply in its thread counted as a contribution.

Replies are matched by the post's message ts, which the outbox records when the post is sent; the
planner copies it onto the post (``settle_prompt_posts``), and a reply that arrives first settles it
on the spot. A reply is counted once: Sprout drops Slack's retries by event id, and the unique key
(post, message ts) holds even when the same message comes with another event id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import Block, RenderedMessage, context, plain, section
from bot.mrkdwn import escape, markdown_to_mrkdwn, split_text, truncate
from bot.paging import bounded_pages
from bot.service import LearningService
from content_packs.catalog import Catalog
from db.facilitation import PROMPT, PromptView
from db.store import OutboxItem
from learning.errors import Gone, SproutError
from learning.schedule import WEEKDAYS, next_slot, parse_hhmm, zone
from scheduler.sending import OutgoingMessage

log = logging.getLogger(__name__)

ROLES = ("facilitator",)  # admins too (LearningService.require)
MAX_TEXT = 3000
DAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
                     strict=True))
# Message subtypes that are still a person replying: sent to the channel too, or with a file.
REPLY_SUBTYPES = (None, "thread_broadcast", "file_share")

USAGE = (
    "*Discussion prompts* (facilitators and admins)\n"
    "• `/learn prompt #channel mon 10:00 What did you try this week?` — a weekly prompt, at your local time\n"
    "• `/learn prompt #channel mon 10:00 pack &lt;pack-id&gt;` — the pack's discussion prompts, one a week in turn\n"
    "• `/learn prompt list` — the prompts running · `/learn prompt stop &lt;id&gt;` — stop one\n"
    "Invite me to the channel first (`/invite @Sprout`): I count the replies in each prompt's thread."
)

_MENTION = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|([^>]*))?>$")
_NAME = re.compile(r"^#([a-z0-9][a-z0-9._\-]{0,79})$")
_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class ChannelRef:
    id: str
    name: str
    is_member: bool
    is_private: bool = False


class Channels(Protocol):
    def by_id(self, channel_id: str) -> ChannelRef | None: ...

    def by_name(self, name: str) -> ChannelRef | None: ...


class SlackChannels:
    """Channels from the Web API: conversations.info, or conversations.list to find one by name (the
    slash command sends ``#name`` unless its "escape channels" option is on)."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    @staticmethod
    def _ref(channel: dict) -> ChannelRef:
        return ChannelRef(channel["id"], channel.get("name") or channel["id"], bool(channel.get("is_member")),
                          bool(channel.get("is_private")))

    def by_id(self, channel_id: str) -> ChannelRef | None:
        try:
            return self._ref(self.client.conversations_info(channel=channel_id)["channel"])
        except SlackApiError:
            return None

    def by_name(self, name: str) -> ChannelRef | None:
        for page in bounded_pages(f"conversations.list looking for #{name}"):
            response = self.client.conversations_list(types="public_channel,private_channel", exclude_archived=True,
                                                      limit=1000, cursor=page.cursor)
            for channel in response.get("channels") or []:
                if channel.get("name") == name:
                    return self._ref(channel)
            if not page.next((response.get("response_metadata") or {}).get("next_cursor")):
                break
        return None


@dataclass(frozen=True)
class PromptRequest:
    channel: str  # an id, or "#name"
    weekday: str
    at: str  # HH:MM
    pack_id: str | None
    text: str | None


def parse_prompt(args: str) -> PromptRequest:
    """``#channel mon 10:00 pack <pack-id>`` or ``#channel mon 10:00 <text…>``."""
    parts = args.strip().split(None, 3)
    if len(parts) < 4:
        raise SproutError("Say where, when and what: " + USAGE.split("\n", 2)[1].lstrip("• "))
    where, day, at, rest = parts
    mention, name = _MENTION.match(where), _NAME.match(where)
    if mention:
        channel = mention.group(1)
    elif name:
        channel = "#" + name.group(1)
    elif _ID.match(where):
        channel = where
    else:
        raise SproutError(f"`{escape(truncate(where, 40))}` is not a channel: start with one, like `#general`.")
    weekday = day.strip().lower()[:3]
    if weekday not in WEEKDAYS:
        raise SproutError(f"`{escape(truncate(day, 20))}` is not a weekday: use mon, tue, wed, thu, fri, sat or sun.")
    try:
        hhmm = parse_hhmm(at).strftime("%H:%M")
    except ValueError:
        raise SproutError(f"`{escape(truncate(at, 20))}` is not a time: use 24-hour time like 10:00.") from None
    words = rest.split()
    if len(words) == 2 and words[0].lower() == "pack":
        return PromptRequest(channel, weekday, hhmm, words[1].lower(), None)
    text = rest.strip()
    if len(text) > MAX_TEXT:
        raise SproutError(f"Keep a prompt under {MAX_TEXT} characters.")
    return PromptRequest(channel, weekday, hhmm, None, text)


class Prompts:
    def __init__(self, *, service: LearningService, store: Any, catalog: Catalog, channels: Channels) -> None:
        self.service = service
        self.store = store  # a Store with FacilitationRecords
        self.catalog = catalog
        self.channels = channels

    def _channel(self, ref: str) -> ChannelRef:
        channel = self.channels.by_name(ref[1:]) if ref.startswith("#") else self.channels.by_id(ref)
        if channel is None:
            raise SproutError(f"I can't find the channel {escape(ref) if ref.startswith('#') else f'<#{ref}>'}. "
                              "If it is private, invite me to it first (`/invite @Sprout`).")
        if not channel.is_member:
            raise SproutError(f"I'm not in <#{channel.id}> yet: invite me (`/invite @Sprout` in the channel), "
                              "then try again — I need to be there to post and to count the replies.")
        return channel

    def schedule(self, slack_user_id: str, args: str, now: datetime) -> str:
        learner = self.service.require(slack_user_id, ROLES, "schedule discussion prompts", now)
        request = parse_prompt(args)
        source = ""
        if request.pack_id is not None:
            pack = self.service.pack(request.pack_id)
            if not pack.discussion:
                raise SproutError(f"*{escape(pack.title)}* has no discussion prompts (its `discussion:` list is "
                                  "empty). Type the prompt instead.")
            source = f"from *{escape(pack.title)}*, its {len(pack.discussion)} discussion prompts in turn"
        channel = self._channel(request.channel)
        zone_name = self.service.zone_of(learner)
        prompt = self.store.create_prompt(channel_id=channel.id, text=request.text, pack_id=request.pack_id,
                                          weekday=request.weekday, at_time=request.at, timezone=zone_name,
                                          created_by=learner.id, actor=learner.slack_user_id, now=now)
        tz = zone(zone_name)
        first = next_slot(now, tz=tz, at=parse_hhmm(request.at), days=(request.weekday,)).due_at.astimezone(tz)
        what = source or f"“{escape(truncate(' '.join(request.text.split()), 120))}”"
        return (f"💬 Prompt #{prompt.id}: every {DAY_NAMES[request.weekday]} at {request.at} "
                f"({escape(zone_name)}) in <#{channel.id}>, {what}. The first goes on {first:%a %d %b}. "
                f"Replies in its thread count as contributions. `/learn prompt stop {prompt.id}` stops it.")

    def running(self, slack_user_id: str, now: datetime) -> str:
        self.service.require(slack_user_id, ROLES, "see discussion prompts", now)
        prompts = self.store.active_prompts()
        if not prompts:
            return "No discussion prompts are running. " + USAGE.split("\n", 2)[1].lstrip("• ")
        ids = [p.id for p in prompts]
        return prompts_text(prompts, self.store.prompt_history(ids), self.store.prompt_reply_counts(ids), self.catalog)

    def stop(self, slack_user_id: str, args: str, now: datetime) -> str:
        learner = self.service.require(slack_user_id, ROLES, "stop discussion prompts", now)
        word = args.strip().lstrip("#")
        if not word.isdigit():
            raise SproutError("Which prompt? `/learn prompt stop &lt;id&gt;` — `/learn prompt list` shows them.")
        prompt = self.store.prompt(int(word))
        if prompt is None:
            raise Gone(f"There is no prompt #{word}.")
        if not self.store.stop_prompt(prompt.id, actor=learner.slack_user_id, now=now):
            raise SproutError(f"Prompt #{prompt.id} was already stopped.")
        return f"🛑 Prompt #{prompt.id} in <#{prompt.channel_id}> is stopped. Its posts and replies are kept."

    def on_message(self, event: dict, now: datetime) -> bool:
        """A ``message`` event: True if it was a person's reply in a prompt's thread, newly counted."""
        if event.get("type") != "message" or event.get("subtype") not in REPLY_SUBTYPES:
            return False  # edits, deletions, joins, bot messages…
        if event.get("bot_id") or event.get("bot_profile"):
            return False
        user, channel = event.get("user"), event.get("channel")
        ts, thread_ts = event.get("ts"), event.get("thread_ts")
        if not (user and channel and ts and thread_ts) or ts == thread_ts:
            return False  # not a reply in a thread
        post = self.store.prompt_post_by_ts(channel, thread_ts)
        if post is None:
            # Sent a moment ago and not settled yet? Settle (a read when there is nothing to do) and look again.
            if not self.store.settle_prompt_posts():
                return False
            post = self.store.prompt_post_by_ts(channel, thread_ts)
            if post is None:
                return False
        learner = self.service.learner(user, now)
        return self.store.record_contribution(post_id=post.id, learner_id=learner.id, slack_user_id=user,
                                              message_ts=ts, now=now)

    def renderers(self) -> dict[str, Callable[[OutboxItem], OutgoingMessage | None]]:
        return prompt_renderers(self.store)


def prompt_renderers(store: Any) -> dict[str, Callable[[OutboxItem], OutgoingMessage | None]]:
    """Outbox kind ``prompt``: the week's post, unless its prompt was stopped meanwhile."""

    def render(item: OutboxItem) -> OutgoingMessage | None:
        post = store.prompt_post(int(item.payload["post"])) if item.payload else None
        if post is None or post.prompt_status != "active":
            return None
        message = prompt_message(post.text)
        return OutgoingMessage(channel=post.channel_id, text=message.text, blocks=message.blocks)

    return {PROMPT: render}


def prompt_message(text: str) -> RenderedMessage:
    """The post: the prompt (Markdown → mrkdwn, escaped: a facilitator typed it or a pack author wrote it)."""
    blocks: list[Block] = [{"type": "header", "text": plain("💬 This week's discussion", 150)}]
    blocks += [section(chunk, block_id=f"prompt:{i}")
               for i, chunk in enumerate(split_text(markdown_to_mrkdwn(text)))][:47]
    blocks.append(context("Reply in this thread to join in — every reply counts."))
    return RenderedMessage(f"💬 {escape(truncate(' '.join(text.split()), 150))}", blocks)


def prompts_text(prompts: Sequence[PromptView], history: dict, replies: dict, catalog: Catalog) -> str:
    lines = ["*Weekly discussion prompts*"]
    for p in prompts:
        posts, _ = history.get(p.id, (0, None))
        if p.pack_id:
            pack = catalog.get(p.pack_id)
            total = len(pack.discussion) if pack else 0
            what = (f"*{escape(pack.title)}*, prompt {posts % total + 1} of {total} next" if pack and total
                    else f"pack `{escape(p.pack_id)}` (not loaded)")
        else:
            what = f"“{escape(truncate(' '.join((p.text or '').split()), 60))}”"
        lines.append(f"• *#{p.id}* in <#{p.channel_id}> — {DAY_NAMES.get(p.weekday, p.weekday)}s at {p.at_time} "
                     f"({escape(p.timezone)}) · {what} · {posts} posted, {replies.get(p.id, 0)} replies · "
                     f"`/learn prompt stop {p.id}`")
    return "\n".join(lines)


__all__ = [
    "ChannelRef", "PromptRequest", "Prompts", "SlackChannels", "USAGE", "parse_prompt", "prompt_message",
    "prompt_renderers", "prompts_text",
]
