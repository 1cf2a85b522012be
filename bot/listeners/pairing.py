"""Mentoring pairs (``bot.pairing``): ``/learn pairs …`` and the "did you meet?" buttons.

Wiring (app.py): ``subcommands(pairs)`` into ``Deps.subcommands``, ``partial(register, pairs=pairs)`` into
``Deps.listeners``, ``pairs.renderers()`` into the outbox's kinds.
"""

from __future__ import annotations

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.listeners import CommandContext, Deps, Subcommand
from bot.listeners.errors import friendly, tell
from bot.pairing import MET_ACTIONS, USAGE, MentoringPairs, answer_of


def subcommands(pairs: MentoringPairs) -> dict[str, Subcommand]:
    def pairs_(ctx: CommandContext) -> None:
        verb, _, rest = ctx.args.partition(" ")
        verb, rest = verb.lower(), rest.strip()
        if verb == "start":
            ctx.reply(pairs.start(ctx.user_id, rest, ctx.now))
        elif verb == "stop":
            ctx.reply(pairs.stop(ctx.user_id, rest, ctx.now))
        elif verb in ("", "list"):
            ctx.reply(pairs.running(ctx.user_id, ctx.now))
        elif verb in ("optout", "opt-out"):
            ctx.reply(pairs.opt_out(ctx.user_id, ctx.now))
        elif verb in ("optin", "opt-in"):
            ctx.reply(pairs.opt_in(ctx.user_id, ctx.now))
        elif verb == "snooze":
            ctx.reply(pairs.snooze(ctx.user_id, rest, ctx.now))
        elif verb == "me":
            ctx.reply(pairs.mine(ctx.user_id, ctx.now))
        else:
            ctx.reply(USAGE)

    return {"pairs": pairs_}


def register(app: App, *, deps: Deps, pairs: MentoringPairs) -> None:
    @app.action(MET_ACTIONS)
    @friendly
    def met(ack: Ack, body: dict, respond: Respond, client: WebClient) -> None:
        pair_id, yes = answer_of(body["actions"][0])
        reply = pairs.answer(body["user"]["id"], pair_id, yes, deps.clock())
        ack()  # after the answer is committed
        tell(body, respond, client, reply)


__all__ = ["register", "subcommands"]
