"""Coaches (``bot.coaching``): ``/learn coach …`` and ``/learn share coach on|off`` (through
``Deps.subcommands``) and the Home tab's "Share my notes with my coach" button (``register``, through
``Deps.listeners``). The service checks every privileged path against the stored role.
"""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import decode
from bot.coaching import SHARE_ACTION, CoachingService
from bot.listeners import CommandContext, Deps, Subcommand
from bot.listeners.actions import publish_home, refresh_home
from bot.listeners.errors import friendly
from learning.errors import Gone


def register(app: App, *, deps: Deps, coaching: CoachingService) -> None:
    @app.action(SHARE_ACTION)
    @friendly
    def share(ack: Ack, body: dict, client: WebClient) -> None:
        try:
            on = bool(int(decode(body["actions"][0]["value"])["on"]))
        except (KeyError, IndexError, ValueError, TypeError):
            raise Gone("That button no longer works; try `/learn share coach on` or `off`.") from None
        user_id = body["user"]["id"]
        _, coach = coaching.share(user_id, on, deps.clock())
        ack()
        publish_home(client, deps, user_id)  # the button is on their Home: show the choice at once
        refresh_home(client, deps, coach)  # and the coach's, so notes no longer shared leave it now


def subcommands(deps: Deps, coaching: CoachingService) -> dict[str, Subcommand]:
    def coach(ctx: CommandContext) -> None:
        text, changed = coaching.command(ctx.user_id, ctx.args, ctx.now)
        ctx.reply(text)
        for user_id in dict.fromkeys(changed):  # the coach's and the learners' Home tabs, if they have one
            refresh_home(ctx.client, deps, user_id)

    def share(ctx: CommandContext) -> None:
        text, coach = coaching.share_command(ctx.user_id, ctx.args, ctx.now)
        ctx.reply(text)
        refresh_home(ctx.client, deps, ctx.user_id)
        refresh_home(ctx.client, deps, coach)  # notes no longer shared leave the coach's Home at once

    return {"coach": coach, "share": share}
