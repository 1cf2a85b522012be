"""``/learn cohort …`` and ``/learn enroll <track-id>`` (as /learn subcommands, through ``Deps.subcommands``),
and the Home tab's cohort "Progress" button (``register``, through ``Deps.listeners``).

Every privileged path checks the stored role in ``CohortService`` (``LearningService.require``),
whatever the person could see: a forged button or command is refused, logged, and writes nothing.
"""

from __future__ import annotations

import dataclasses

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import blocks
from bot.admin import parse_mention
from bot.cohorts import (
    COHORT_STATUS_ACTION,
    USAGE,
    CohortService,
    SlackDirectory,
    added_text,
    cohorts_text,
    created_text,
    message_modal,
    status_blocks,
    status_modal,
    status_text,
    track_enrolled_text,
    tracks_text,
)
from bot.listeners import CommandContext, Deps, Subcommand
from bot.listeners.errors import friendly
from learning.errors import Gone, NotAllowed


def subcommands(deps: Deps, *, cohorts: CohortService | None = None) -> dict[str, Subcommand]:
    """``cohort``, and ``enroll`` and ``packs`` when tracks are loaded (a track id enrolls in the track,
    anything else is the usual pack enrollment; the packs list ends with the tracks)."""
    cohorts = cohorts or CohortService(learning=deps.service)

    def cohort(ctx: CommandContext) -> None:
        verb, _, rest = ctx.args.partition(" ")
        verb, rest = verb.lower(), rest.strip()
        if verb == "create":
            ctx.reply(created_text(cohorts.create(ctx.user_id, rest, ctx.now)))
        elif verb == "add":
            ctx.reply(added_text(cohorts.add(ctx.user_id, rest, ctx.now, directory=SlackDirectory(ctx.client))))
        elif verb == "status":
            status = cohorts.status(ctx.user_id, rest, ctx.now)
            ctx.respond(text=status_text(status), blocks=status_blocks(status), response_type="ephemeral")
        elif verb == "list":
            ctx.reply(cohorts_text(cohorts.all_statuses(ctx.user_id, ctx.now)))
        else:
            ctx.reply(USAGE)

    def enroll(ctx: CommandContext) -> None:
        """``/learn enroll <id>``; an admin may add ``@person`` to enroll someone else, past a track's gate."""
        words = ctx.args.split()
        word = words[0] if words else ""
        target = parse_mention(words[1]) if len(words) == 2 else None
        if not word or len(words) > 2 or (len(words) == 2 and target is None):
            ctx.reply("Which pack or track? `/learn enroll <id>` — see `/learn packs`. "
                      "Admins: `/learn enroll <id> @person`.")
            return
        if target is not None and target != ctx.user_id:
            deps.service.require(ctx.user_id, ("admin",), "enroll someone else", ctx.now)
        person = target or ctx.user_id
        if cohorts.track(word) is not None:
            ctx.reply(track_enrolled_text(cohorts.enroll_track(person, word, ctx.now)))
            return
        by_admin = deps.service.role_of(deps.service.learner(ctx.user_id, ctx.now)) == "admin"
        if not by_admin:
            missing = cohorts.prerequisite_missing(person, word, ctx.now)
            if missing is not None:
                raise NotAllowed(missing)
        outcome = deps.service.enroll(person, word, ctx.now)
        text = blocks.enrolled_text(outcome.pack, created=outcome.created, next_at=outcome.next_at,
                                    zone=outcome.zone)
        ctx.reply(text if person == ctx.user_id else f"For <@{person}>: {text}")

    def packs(ctx: CommandContext) -> None:
        text = blocks.packs_text(list(deps.service.catalog), deps.service.enrolled_pack_ids(ctx.user_id))
        if cohorts.tracks:
            text += "\n\n" + tracks_text(cohorts.tracks, deps.service.catalog)
        ctx.reply(text)

    found: dict[str, Subcommand] = {"cohort": cohort}
    if cohorts.tracks is not None:
        found["enroll"] = enroll
        found["packs"] = packs
    return found


def register(app: App, *, deps: Deps, cohorts: CohortService | None = None) -> None:
    cohorts = cohorts or CohortService(learning=deps.service)

    @app.action(COHORT_STATUS_ACTION)
    @friendly
    def cohort_status(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        try:
            cohort_id = int(blocks.decode(body["actions"][0]["value"])["c"])
        except (KeyError, IndexError, ValueError, TypeError):
            raise Gone("That button no longer works; open the Home tab again.") from None
        try:
            status = cohorts.status_by_id(body["user"]["id"], cohort_id, deps.clock())
        except NotAllowed as exc:
            if body.get("response_url"):
                raise  # an ephemeral reply where the button was
            # The Home tab has no channel for an ephemeral reply: the refusal opens as a small modal.
            client.views_open(trigger_id=body["trigger_id"], view=message_modal(exc.message))
            return
        client.views_open(trigger_id=body["trigger_id"], view=status_modal(status))


def wire(deps: Deps, cohorts: CohortService) -> Deps:
    """``deps`` with the cohort subcommands and listeners added (what app.py does; tests use it too)."""
    return dataclasses.replace(
        deps,
        subcommands={**deps.subcommands, **subcommands(deps, cohorts=cohorts)},
        listeners=(*deps.listeners, lambda app, *, deps: register(app, deps=deps, cohorts=cohorts)),
    )


__all__ = ["register", "subcommands", "wire"]
