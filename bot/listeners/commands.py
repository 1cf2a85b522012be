"""The /learn slash command."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond

from bot import blocks
from bot.i18n import _, speaking
from bot.listeners import CommandContext, Deps
from bot.listeners.actions import refresh_home
from bot.listeners.errors import friendly

COMMAND = "/learn"


# What changes the Home tab: it is republished after these, for people who have opened it.
CHANGES_HOME = frozenset({"enroll", "next", "pause", "resume", "time", "days", "language"})


def register(app: App, *, deps: Deps) -> None:
    def reply(respond: Respond, text: str) -> None:
        respond(text=text, blocks=blocks.text_blocks(text), response_type="ephemeral")

    def help_(respond: Respond, user_id: str, args: str, unknown: str | None = None) -> None:
        reply(respond, blocks.help_text(unknown))

    def packs(respond: Respond, user_id: str, args: str) -> None:
        enrolled = deps.service.enrolled_pack_ids(user_id)
        reply(respond, blocks.packs_text(list(deps.service.catalog), enrolled))

    def enroll(respond: Respond, user_id: str, args: str) -> None:
        if not args:
            reply(respond, _("Which pack? `/learn enroll <pack-id>` — see `/learn packs`."))
            return
        outcome = deps.service.enroll(user_id, args.split()[0], deps.clock())
        reply(respond, blocks.enrolled_text(outcome.pack, created=outcome.created, next_at=outcome.next_at,
                                            zone=outcome.zone))

    def next_(respond: Respond, user_id: str, args: str) -> None:
        view = deps.service.send_next_now(user_id, deps.clock(), pack_id=args.split()[0] if args else None)
        reply(respond, _("On its way: *%(title)s* — check your DMs with Sprout.", title=blocks.escape(view.lesson.title)))

    def pause(respond: Respond, user_id: str, args: str) -> None:
        reply(respond, blocks.schedule_text(deps.service.pause(user_id, args, deps.clock())))

    def resume(respond: Respond, user_id: str, args: str) -> None:
        reply(respond, blocks.schedule_text(deps.service.resume(user_id, deps.clock())))

    def time_(respond: Respond, user_id: str, args: str) -> None:
        reply(respond, blocks.schedule_text(deps.service.set_time(user_id, args, deps.clock())))

    def days(respond: Respond, user_id: str, args: str) -> None:
        reply(respond, blocks.schedule_text(deps.service.set_days(user_id, args, deps.clock())))

    def search(respond: Respond, user_id: str, args: str) -> None:
        hits = deps.service.search(args, user_id)
        text, found = blocks.search_results(args, hits)
        respond(text=text, blocks=found, response_type="ephemeral")

    def language(respond: Respond, user_id: str, args: str) -> None:
        chosen = deps.service.set_language(user_id, args, deps.clock())
        with speaking(chosen):  # the confirmation is already in the new language
            if args.strip().lower() in ("", "auto"):
                text = _("🌐 Sprout now follows your Slack language: I'll write to you in English.")
            else:
                text = _("🌐 From now on I'll write to you in English. `/learn language auto` follows your Slack "
                         "language again.")
            reply(respond, text)

    subcommands = {
        "help": help_,
        "packs": packs,
        "enroll": enroll,
        "next": next_,
        "pause": pause,
        "resume": resume,
        "time": time_,
        "days": days,
        "search": search,
        "language": language,
    }

    @app.command(COMMAND)
    @friendly
    def learn(ack: Ack, command: dict, respond: Respond, client) -> None:
        ack()
        verb, _sep, args = (command.get("text") or "").strip().partition(" ")
        verb = verb.lower() or "help"
        feature = deps.subcommands.get(verb)
        handler = subcommands.get(verb)
        if feature is not None:  # a feature may take over a verb (``enroll`` also takes a track)
            feature(CommandContext(user_id=command["user_id"], args=args.strip(), respond=respond, client=client,
                                   command=command, now=deps.clock()))
        elif handler is not None:
            handler(respond, command["user_id"], args.strip())
        else:
            help_(respond, command["user_id"], args, unknown=verb)
            return
        if verb in CHANGES_HOME:
            if verb == "language":  # the Home tab in the new language, not the one the command came in
                with speaking(deps.service.speaker_for(command["user_id"])):
                    refresh_home(client, deps, command["user_id"])
            else:
                refresh_home(client, deps, command["user_id"])
