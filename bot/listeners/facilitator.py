"""Facilitators' surfaces: ``/learn announce …`` and ``/learn prompt …``, the announcement form, the
"Got it" button, and the replies in a discussion prompt's thread.

Wiring (app.py): one ``Facilitation`` is built; ``subcommands(deps, facilitation)`` goes into
``Deps.subcommands`` and ``partial(register, facilitation=facilitation)`` into ``Deps.listeners``. Without
one, both build their services from ``deps`` (whose store must then have FacilitationRecords).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import blocks
from bot.announcements import (
    ACK_ACTION,
    ANNOUNCE_VIEW,
    AUDIENCE_ACTION,
    WHEN_ACTION,
    Announcements,
    SlackDirectory,
    announcement_message,
    created_text,
    form_choice,
    note_modal,
)
from bot.announcements import USAGE as ANNOUNCE_USAGE
from bot.listeners import CommandContext, Deps, Subcommand
from bot.listeners.actions import show
from bot.listeners.errors import friendly
from bot.prompts import USAGE as PROMPT_USAGE
from bot.prompts import Prompts, SlackChannels
from bot.service import LearningService
from learning.errors import NotAllowed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Facilitation:
    announcements: Announcements
    prompts: Prompts

    @classmethod
    def build(cls, *, service: LearningService, client: WebClient, store=None) -> Facilitation:
        """The services over ``store`` (default: the learning service's, a Store with FacilitationRecords),
        asking Slack through ``client`` about channels and people."""
        store = store if store is not None else service.store
        return cls(
            announcements=Announcements(service=service, store=store, directory=SlackDirectory(client)),
            prompts=Prompts(service=service, store=store, catalog=service.catalog, channels=SlackChannels(client)),
        )


def subcommands(deps: Deps, facilitation: Facilitation | None = None) -> dict[str, Subcommand]:
    """``/learn announce …`` and ``/learn prompt …``; every verb checks the stored role first."""

    def services(ctx: CommandContext) -> Facilitation:
        return facilitation or Facilitation.build(service=deps.service, client=ctx.client)

    def announce(ctx: CommandContext) -> None:
        verb, _, rest = ctx.args.partition(" ")
        verb = verb.lower()
        announcements = services(ctx).announcements
        if verb in ("", "new"):
            view = announcements.open_form(ctx.user_id, ctx.now)
            ctx.client.views_open(trigger_id=ctx.command["trigger_id"], view=view)
        elif verb == "status":
            ctx.reply(announcements.status(ctx.user_id, rest, ctx.now))
        elif verb == "list":
            ctx.reply(announcements.upcoming(ctx.user_id, ctx.now))
        elif verb == "cancel":
            ctx.reply(announcements.cancel(ctx.user_id, rest, ctx.now))
        elif verb == "remind":
            ctx.reply(announcements.remind(ctx.user_id, rest, ctx.now))
        else:
            announcements.require(ctx.user_id, "send announcements", ctx.now)
            ctx.reply(ANNOUNCE_USAGE)

    def prompt(ctx: CommandContext) -> None:
        verb, _, rest = ctx.args.partition(" ")
        prompts = services(ctx).prompts
        if verb.lower() == "list":
            ctx.reply(prompts.running(ctx.user_id, ctx.now))
        elif verb.lower() == "stop":
            ctx.reply(prompts.stop(ctx.user_id, rest, ctx.now))
        elif not verb or verb.lower() == "help":
            prompts.service.require(ctx.user_id, ("facilitator",), "schedule discussion prompts", ctx.now)
            ctx.reply(PROMPT_USAGE)
        else:
            ctx.reply(prompts.schedule(ctx.user_id, ctx.args, ctx.now))

    return {"announce": announce, "prompt": prompt}


def draw_receipt(client: WebClient, state, channel: str | None = None, ts: str | None = None) -> bool:
    """A person's copy of an announcement, drawn as acknowledged (where it is, or where it was sent);
    False when where it is is not known yet."""
    channel, ts = channel or state.sent_channel, ts or state.sent_ts
    if not (channel and ts):
        return False
    message = announcement_message(state.announcement, acked=state.acked_at is not None)
    client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)
    return True


def register(app: App, *, deps: Deps, facilitation: Facilitation | None = None) -> None:
    fac = facilitation or Facilitation.build(service=deps.service, client=app.client)
    announcements = fac.announcements  # prompt replies arrive as message events: Deps.message_handlers

    @app.action(ACK_ACTION)
    @friendly
    def got_it(ack: Ack, body: dict, client: WebClient) -> None:
        value, now = blocks.decode(body["actions"][0]["value"]), deps.clock()
        user_id = body["user"]["id"]
        announcements.service.learner(user_id, now)  # first contact asks Slack: before the unit of work
        store = deps.service.store
        with store.unit_of_work():  # the receipt and the note that its message must show it, together
            outcome = announcements.acknowledge(user_id, int(value["a"]), now)
            if outcome.receipt_id is not None:
                store.mark_redraw("receipt", outcome.receipt_id, now)
        ack()
        if outcome.receipt_id is None:
            return
        container = body.get("container") or {}
        show(deps, "receipt", outcome.receipt_id, now,
             lambda: draw_receipt(client, outcome.state, container.get("channel_id"), container.get("message_ts")))

    def redraw(ack: Ack, body: dict, client: WebClient) -> None:
        """The audience or the time choice changed: show its selector (the role is checked here too)."""
        ack()
        view = body.get("view") or {}
        audience, when = form_choice((view.get("state") or {}).get("values") or {})
        action = (body.get("actions") or [{}])[0]
        picked = (action.get("selected_option") or {}).get("value")
        if action.get("action_id") == AUDIENCE_ACTION and picked:
            audience = picked
        elif action.get("action_id") == WHEN_ACTION and picked:
            when = picked
        try:
            new = announcements.redraw_form(body["user"]["id"], audience, when, deps.clock())
        except NotAllowed as exc:
            new = note_modal("Not allowed", exc.message)
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=new)

    app.action(AUDIENCE_ACTION)(friendly(redraw))
    app.action(WHEN_ACTION)(friendly(redraw))

    @app.view(ANNOUNCE_VIEW)
    @friendly
    def submit(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        now = deps.clock()
        try:
            learner, draft, errors = announcements.read(body["user"]["id"], view, now)
        except NotAllowed as exc:  # e.g. demoted since the form was opened: shown in the form, logged
            ack(response_action="errors", errors={"message": exc.message})
            return
        if errors:
            ack(response_action="errors", errors=errors)
            return
        created = announcements.create(learner, draft, now)
        sending = draft.when == "now"
        ack(response_action="update", view=note_modal("On its way" if sending else "Scheduled",
                                                      created_text(created)))
        if sending:
            # After the ack: a channel's members come from Slack, which may take longer than Slack waits.
            # Should this fail, the planner's next run sends it (it is due, and queued at most once).
            announcements.send_now(created.announcement, now)


__all__ = ["Facilitation", "register", "subcommands"]
