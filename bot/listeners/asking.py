"""The DM you can talk to (``bot.asking``): the "Ask the facilitators" button and ``/learn questions``.

What people type arrives as ``message`` events: ``Asking.on_message`` is one of ``Deps.message_handlers``.
Wiring (app.py): ``partial(register, asking=asking)`` into ``Deps.listeners``, ``subcommands(asking)``
into ``Deps.subcommands``, ``asking.renderers()`` into the outbox's kinds.
"""

from __future__ import annotations

import re

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.asking import ASK_FACILITATORS_ACTION, Asking, passed_message
from bot.blocks import decode
from bot.listeners import CommandContext, Deps, Subcommand
from bot.listeners.errors import friendly
from bot.mrkdwn import escape, truncate
from bot.prompts import SlackChannels
from learning.errors import Gone, SproutError

_MENTION = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
_NAME = re.compile(r"^#([a-z0-9][a-z0-9._\-]{0,79})$")
_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")


def register(app: App, *, deps: Deps, asking: Asking) -> None:
    @app.action(ASK_FACILITATORS_ACTION)
    @friendly
    def ask_facilitators(ack: Ack, body: dict, client: WebClient) -> None:
        try:
            value = decode(body["actions"][0]["value"])
        except (KeyError, IndexError, ValueError):
            raise Gone("That button no longer works; type your question again.") from None
        passed = asking.pass_question(body["user"]["id"], value, deps.clock())
        ack()  # after the record and its copies are committed
        answer = passed_message(passed, str(value.get("q") or ""), shown=(body.get("message") or {}).get("blocks"))
        container = body.get("container") or {}
        client.chat_update(channel=container.get("channel_id"), ts=container.get("message_ts"), text=answer.text,
                           blocks=answer.blocks)


def subcommands(asking: Asking) -> dict[str, Subcommand]:
    def questions(ctx: CommandContext) -> None:
        word = ctx.args.strip()
        if not word:
            ctx.reply(asking.where(ctx.user_id, ctx.now))
        elif word.lower() in ("dm", "dms"):
            ctx.reply(asking.send_to(ctx.user_id, None, ctx.now))
        else:
            asking.service.require(ctx.user_id, ("admin",), "choose where learner questions go", ctx.now)
            ctx.reply(asking.send_to(ctx.user_id, _channel(SlackChannels(ctx.client), word), ctx.now))

    return {"questions": questions}


def _channel(channels: SlackChannels, word: str) -> str:
    mention, name = _MENTION.match(word), _NAME.match(word)
    found = (channels.by_id(mention.group(1)) if mention else channels.by_name(name.group(1)) if name
             else channels.by_id(word) if _ID.match(word) else None)
    if found is None:
        raise SproutError(f"I can't find the channel `{escape(truncate(word, 40))}`: name one like `#learning-team` "
                          "(if it is private, invite me to it first).")
    if not found.is_member:
        raise SproutError(f"I'm not in <#{found.id}> yet: invite me (`/invite @Sprout` in the channel), then try again.")
    return found.id
