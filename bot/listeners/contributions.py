"""Contributions (``bot.contributions``): ``/learn suggest``, its form, and the facilitators' review form
opened from the queue on their Home tab.

Wiring (app.py): ``partial(register, contributions=…)`` into ``Deps.listeners``, ``subcommands(…)`` into
``Deps.subcommands``, ``home_blocks`` into ``Deps.home_sections``, ``renderers()`` into the outbox's kinds
and ``plan`` into the planners.
"""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import decode
from bot.contributions import (
    KIND_ACTION,
    REVIEW_ACTION,
    REVIEW_VIEW,
    SUGGEST_VIEW,
    ContributionService,
    decided_text,
    note_modal,
    thanks_text,
)
from bot.listeners import CommandContext, Deps, Subcommand
from bot.listeners.actions import refresh_home
from bot.listeners.errors import friendly
from learning.errors import Gone, NotAllowed, SproutError


def subcommands(contributions: ContributionService) -> dict[str, Subcommand]:
    def suggest(ctx: CommandContext) -> None:
        view = contributions.suggest_form(ctx.user_id, ctx.args.strip().lower(), ctx.now)
        ctx.client.views_open(trigger_id=ctx.command["trigger_id"], view=view)

    return {"suggest": suggest}


def register(app: App, *, deps: Deps, contributions: ContributionService) -> None:
    @app.action(KIND_ACTION)
    @friendly
    def kind(ack: Ack, body: dict, client: WebClient) -> None:
        """Question, link or lesson picked: the form shows that kind's fields."""
        ack()
        view = body.get("view") or {}
        picked = ((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value") or "question"
        try:
            new = contributions.redraw_form(body["user"]["id"], picked, deps.clock())
        except NotAllowed as exc:
            new = note_modal("Not allowed", exc.message)
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=new)

    @app.view(SUGGEST_VIEW)
    @friendly
    def submit(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        now = deps.clock()
        try:
            contribution_id, errors = contributions.submit(body["user"]["id"], view, now)
        except NotAllowed as exc:
            ack(response_action="errors", errors={"kind": exc.message})
            return
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack(response_action="update", view=note_modal("Thank you", thanks_text()))
        refresh_home(client, deps, body["user"]["id"])

    @app.action(REVIEW_ACTION)
    @friendly
    def open_review(ack: Ack, body: dict, client: WebClient) -> None:
        try:
            contribution_id = int(decode(body["actions"][0]["value"])["c"])
        except (KeyError, IndexError, ValueError, TypeError):
            raise Gone("That button no longer works; open your Home tab again.") from None
        try:
            view = contributions.review_form(body["user"]["id"], contribution_id, deps.clock())
        except SproutError as exc:  # a Home tab has no channel for an ephemeral answer: say it in a modal
            view = note_modal("Not allowed" if isinstance(exc, NotAllowed) else "Not there", exc.message)
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(REVIEW_VIEW)
    @friendly
    def review(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        now = deps.clock()
        try:
            decided, errors = contributions.review(body["user"]["id"], view, now)
        except NotAllowed as exc:  # e.g. no longer a facilitator since the form was opened: shown, logged
            ack(response_action="errors", errors={"decision": exc.message})
            return
        if errors:
            ack(response_action="errors", errors=errors)
            return
        assert decided is not None
        if decided.new:
            latest = contributions.store.pack_contribution(decided.contribution.id) or decided.contribution
            text = decided_text(latest)
            if decided.version:
                text += f"\nIt is in the pack's contributions file and is served from the next pack reload " \
                        f"(version {decided.version})."
        else:
            text = "Someone decided first. " + decided_text(decided.contribution)
        ack(response_action="update", view=note_modal("Reviewed", text))
        refresh_home(client, deps, body["user"]["id"])


__all__ = ["register", "subcommands"]
