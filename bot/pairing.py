"""Mentoring pairs in Slack: ``/learn pairs …`` (facilitators start and stop programmes; everyone can opt
out, back in, or snooze), the group DM's two messages (a first prompt, then "did you meet?"), and the
click that answers it.

Who meets whom is decided in ``learning.pairing`` and run by ``scheduler.pairing``; records are in
``db.pairing``. Every privileged verb checks the stored role first (``LearningService.require``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks import Block, RenderedMessage, button, context, decode, encode, plain, section
from bot.mrkdwn import escape, truncate
from bot.prompts import ChannelRef, Channels
from bot.service import LearningService
from content_packs.catalog import Catalog
from db.pairing import CHECK_IN, INTRO, PairingRecords, ProgrammeView
from db.store import OutboxItem
from learning.errors import Gone, NotAllowed, SproutError
from learning.pausing import parse_pause
from learning.schedule import zone
from scheduler.sending import OutgoingMessage

log = logging.getLogger(__name__)

FACILITATORS = ("facilitator",)  # admins too (LearningService.require)
MET_YES_ACTION = "pair_met_yes"
MET_NO_ACTION = "pair_met_no"
MET_ACTIONS = re.compile(r"^pair_met_(yes|no)$")
MAX_WEEKS = 12
DEFAULT_WEEKS = 2

USAGE = (
    "*Mentoring pairs*: people of a cohort or a channel meet in pairs, a new pair every few weeks.\n"
    "• `/learn pairs start #channel every 2 weeks` or `/learn pairs start cohort <name> every 1 week` — "
    "facilitators: start pairing (the first round goes out within a minute)\n"
    "• `/learn pairs` — the programmes running · `/learn pairs stop <id>` — stop one\n"
    "• `/learn pairs optout` · `/learn pairs optin` · `/learn pairs snooze 4 weeks` — anyone: leave the rounds, "
    "come back, or skip them for a while"
)

_MENTION = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|([^>]*))?>$")
_NAME = re.compile(r"^#([a-z0-9][a-z0-9._\-]{0,79})$")
_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_EVERY = re.compile(r"\s+every\s+(\S+)\s*(weeks?|w)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class StartRequest:
    cohort: str | None  # a cohort's name
    channel: str | None  # a channel id, or "#name"
    every_weeks: int


def parse_start(args: str) -> StartRequest:
    """``#channel every 2 weeks``, ``<#C…|name> every 1 week`` or ``cohort <name> every 2 weeks`` (without
    ``every …``: every two weeks)."""
    text = args.strip()
    every = DEFAULT_WEEKS
    found = _EVERY.search(text)
    if found and found.group(1).lower() in ("week", "w") and not found.group(2):
        every, text = 1, text[: found.start()].strip()  # "every week"
    elif found:
        if not found.group(1).isdigit() or not 1 <= int(found.group(1)) <= MAX_WEEKS:
            raise SproutError(f"Pair people every 1 to {MAX_WEEKS} weeks, e.g. `every 2 weeks`.")
        every = int(found.group(1))
        text = text[: found.start()].strip()
    if not text:
        raise SproutError("Pair whom? `/learn pairs start #channel every 2 weeks` or "
                          "`/learn pairs start cohort <name> every 1 week`.")
    first, _, rest = text.partition(" ")
    if first.lower() == "cohort":
        name = rest.strip().strip("\"'“”‘’")
        if not name:
            raise SproutError("Which cohort? `/learn pairs start cohort <name> every 2 weeks` — "
                              "`/learn cohort list` shows them.")
        return StartRequest(name, None, every)
    if rest.strip():
        raise SproutError(f"I don't understand `{escape(truncate(text, 60))}`. " + USAGE.split("\n")[1].lstrip("• "))
    if mention := _MENTION.match(first):
        return StartRequest(None, mention.group(1), every)
    if name := _NAME.match(first):
        return StartRequest(None, "#" + name.group(1), every)
    if _ID.match(first):
        return StartRequest(None, first, every)
    raise SproutError(f"`{escape(truncate(first, 40))}` is not a channel or a cohort: start with `#channel` or "
                      "`cohort <name>`.")


class SlackGroups:
    """The little of Slack the pairing rounds need: a channel's members, and a group DM for some people."""

    def __init__(self, client: Any, directory: Any) -> None:
        self.client = client
        self.directory = directory  # bot.cohorts.SlackDirectory: follows conversations.members' cursors

    def open(self, user_ids: Sequence[str]) -> str:
        """The multi-person DM of these people and Sprout (the same one each time for the same people)."""
        return self.client.conversations_open(users=",".join(user_ids))["channel"]["id"]

    def channel_members(self, channel_id: str) -> list[str]:
        return self.directory.channel_members(channel_id)


class MentoringPairs:
    def __init__(self, *, service: LearningService, records: PairingRecords, channels: Channels) -> None:
        self.service = service
        self.records = records
        self.store = service.store  # cohorts by name
        self.catalog: Catalog = service.catalog
        self.channels = channels

    # -- facilitators ----------------------------------------------------------------------

    def _channel(self, ref: str) -> ChannelRef:
        channel = self.channels.by_name(ref[1:]) if ref.startswith("#") else self.channels.by_id(ref)
        if channel is None:
            raise SproutError(f"I can't find the channel {escape(ref) if ref.startswith('#') else f'<#{ref}>'}. "
                              "If it is private, invite me to it first (`/invite @Sprout`).")
        return channel

    def start(self, slack_user_id: str, args: str, now: datetime) -> str:
        facilitator = self.service.require(slack_user_id, FACILITATORS, "start mentoring pairs", now)
        request = parse_start(args)
        cohort_id = channel_id = None
        if request.cohort is not None:
            cohort = self.store.cohort_named(request.cohort)
            if cohort is None:
                raise SproutError(f"There is no cohort called *{escape(request.cohort)}*. "
                                  "`/learn cohort list` shows them all.")
            cohort_id, where = cohort.id, f"cohort *{escape(cohort.name)}*"
        else:
            channel = self._channel(request.channel or "")
            channel_id, where = channel.id, f"<#{channel.id}>"
        programme = self.records.start_programme(cohort_id=cohort_id, channel_id=channel_id,
                                                 every_weeks=request.every_weeks, created_by=facilitator.id,
                                                 actor=slack_user_id, now=now)
        if programme is None:
            raise SproutError(f"Pairs are already running in {where}: `/learn pairs` shows them.")
        log.info("pairing programme %s started by %s in %s", programme.id, slack_user_id, where)
        return (f"🤝 Pairs #{programme.id}: people in {where} meet in pairs, a new pair "
                f"{_every(programme.every_weeks)}. The first round goes out within a minute: each pair gets a group "
                f"DM with a first question, and halfway through the round I ask whether they met. "
                f"`/learn pairs stop {programme.id}` stops it.")

    def running(self, slack_user_id: str, now: datetime) -> str:
        """``/learn pairs``: the programmes for facilitators and admins, your own standing for everyone else."""
        learner = self.service.learner(slack_user_id, now)
        role = self.service.role_of(learner)
        if role not in ("facilitator", "admin"):
            return self.mine(slack_user_id, now)
        programmes = self.records.active_programmes()
        if not programmes:
            return "No mentoring pairs are running.\n" + USAGE
        return programmes_text(programmes, now, _zone(self.service, learner))

    def stop(self, slack_user_id: str, args: str, now: datetime) -> str:
        self.service.require(slack_user_id, FACILITATORS, "stop mentoring pairs", now)
        word = args.strip().lstrip("#")
        if not word.isdigit():
            raise SproutError("Which programme? `/learn pairs stop <id>` — `/learn pairs` shows them.")
        programme = self.records.programme(int(word))
        if programme is None:
            raise Gone(f"There are no pairs #{word}.")
        if not self.records.stop_programme(programme.id, actor=slack_user_id, now=now):
            raise SproutError(f"Pairs #{programme.id} were already stopped.")
        return (f"🛑 Pairs #{programme.id} are stopped: no more rounds, and no more \"did you meet?\" questions. "
                f"Its {programme.meetings} {'meeting' if programme.meetings == 1 else 'meetings'} stay counted.")

    # -- everyone ----------------------------------------------------------------------------

    def mine(self, slack_user_id: str, now: datetime) -> str:
        learner = self.service.learner(slack_user_id, now)
        preference = self.records.preference(learner.id)
        if preference.opted_out:
            standing = "You're out of the pairing rounds. `/learn pairs optin` brings you back."
        elif preference.snoozed_until and preference.snoozed_until > now:
            local = preference.snoozed_until.astimezone(_zone(self.service, learner))
            standing = (f"You're snoozed until *{local:%a %d %b}*: no new pair until then. "
                        "`/learn pairs optin` brings you back now.")
        else:
            standing = "You're in the pairing rounds when your cohort or channel has them."
        pairs = self.records.current_pairs_of(learner.id)
        lines = [standing]
        for _, _, others in pairs:
            lines.append("Your pair this round: " + " and ".join(f"<@{o}>" for o in others) + ".")
        lines.append("`/learn pairs optout` · `/learn pairs optin` · `/learn pairs snooze 4 weeks`")
        return "\n".join(lines)

    def opt_out(self, slack_user_id: str, now: datetime) -> str:
        learner = self.service.learner(slack_user_id, now)
        self.records.set_preference(learner.id, opted_out=True, snoozed_until=None, now=now)
        return ("You're out of the pairing rounds: no new pairs for you. Your current pair, if you have one, "
                "stays. `/learn pairs optin` brings you back.")

    def opt_in(self, slack_user_id: str, now: datetime) -> str:
        learner = self.service.learner(slack_user_id, now)
        self.records.set_preference(learner.id, opted_out=False, snoozed_until=None, now=now)
        return "You're in the pairing rounds: you'll get a pair in the next round of your cohort or channel."

    def snooze(self, slack_user_id: str, args: str, now: datetime) -> str:
        try:
            length = parse_pause(args)
        except ValueError:
            length = None
        if length is None:
            raise SproutError("Snooze for how long? `/learn pairs snooze 4 weeks` (up to a year), or "
                              "`/learn pairs optout` to leave the rounds.")
        learner = self.service.learner(slack_user_id, now)
        until = now + length
        self.records.set_preference(learner.id, opted_out=False, snoozed_until=until, now=now)
        local = until.astimezone(_zone(self.service, learner))
        return f"😴 No new pairs for you until *{local:%a %d %b}*. `/learn pairs optin` brings you back sooner."

    def answer(self, slack_user_id: str, pair_id: int, met: bool, now: datetime) -> str:
        """A click on "did you meet?": recorded once per person; someone outside the pair is refused."""
        pair = self.records.pair(pair_id)
        if pair is None:
            raise Gone("That question is about a pair that no longer exists.")
        learner = self.service.learner(slack_user_id, now)
        if learner.id not in {m for m, _ in pair.members}:
            log.warning("refused a did-you-meet answer for pair %s from %s (not in the pair)", pair_id, slack_user_id)
            raise NotAllowed("This question is for the people of this pair.")
        if not self.records.record_answer(pair_id, learner.id, met, now):
            return "You've answered already — thank you."
        return ("🎉 Noted: you met. Thank you!" if met
                else "Noted — maybe next time. Your next pair comes with the next round.")

    # -- the outbox --------------------------------------------------------------------------

    def renderers(self) -> dict[str, Callable[[OutboxItem], OutgoingMessage | None]]:
        return pairing_renderers(self.records, self.catalog)


def pairing_renderers(records: PairingRecords, catalog: Catalog) -> dict[str, Callable[[OutboxItem], Any]]:
    """Outbox kinds ``pair_intro`` and ``pair_check_in``; nothing once the programme is stopped, and no
    check-in for a pair that has already answered (asked once at most, never again)."""

    def intro(item: OutboxItem) -> OutgoingMessage | None:
        pair = records.pair(int(item.payload["pair"])) if item.payload else None
        if pair is None or pair.programme_status != "active" or not pair.channel_id:
            return None
        pack = catalog.get(item.payload.get("pack") or "")
        lesson = catalog.lesson(pack.id, item.payload.get("lesson") or "") if pack else None
        message = intro_message([s for _, s in pair.members], pair.every_weeks,
                                pack.title if pack and lesson else None, lesson.title if lesson else None,
                                lesson.reflect if lesson else None)
        return OutgoingMessage(channel=pair.channel_id, text=message.text, blocks=message.blocks)

    def check_in(item: OutboxItem) -> OutgoingMessage | None:
        pair = records.pair(int(item.payload["pair"])) if item.payload else None
        if pair is None or pair.programme_status != "active" or not pair.channel_id or pair.answers:
            return None
        message = check_in_message(pair.id)
        return OutgoingMessage(channel=pair.channel_id, text=message.text, blocks=message.blocks)

    return {INTRO: intro, CHECK_IN: check_in}


# -- what people see ---------------------------------------------------------------------------


def _every(weeks: int) -> str:
    return "every week" if weeks == 1 else f"every {weeks} weeks"


def _zone(service: LearningService, learner) -> ZoneInfo:
    return zone(service.zone_of(learner))


GENERAL_PROMPT = ("What are you learning at the moment, and what would you like to get better at this month? "
                  "Swap one tip each.")


def intro_message(members: Sequence[str], every_weeks: int, pack_title: str | None, lesson_title: str | None,
                  reflect: str | None) -> RenderedMessage:
    """The group DM's first message: who, for how long, and a first question — from the lesson they had
    most recently (a pack author wrote it: escaped), or a general one."""
    people = " and ".join(f"<@{m}>" for m in members) if len(members) < 3 else (
        ", ".join(f"<@{m}>" for m in members[:-1]) + f" and <@{members[-1]}>")
    length = "this week" if every_weeks == 1 else f"the next {every_weeks} weeks"
    blocks: list[Block] = [
        {"type": "header", "text": plain("🤝 Meet your learning pair", 150)},
        section(f"{people}: you're paired for {length}. Find 20 minutes for a chat — a call or a coffee."),
    ]
    if lesson_title:
        question = escape(reflect) if reflect else "What did you take from it, and where could you use it this week?"
        blocks.append(section(truncate(f"To start you off, from *{escape(lesson_title)}* "
                                       f"({escape(pack_title or '')}), which you had recently:\n> {question}", 3000)))
    else:
        blocks.append(section(f"To start you off: {GENERAL_PROMPT}"))
    blocks.append(context("Halfway through I'll ask once whether you met. Not for you right now? "
                          "`/learn pairs snooze 4 weeks` or `/learn pairs optout`."))
    return RenderedMessage(f"🤝 Meet your learning pair: {people}", blocks)


def check_in_message(pair_id: int) -> RenderedMessage:
    value = encode(p=pair_id)
    blocks: list[Block] = [
        section("👋 Did you get to meet?"),
        {"type": "actions", "block_id": "pair_met", "elements": [
            button("Yes, we met", MET_YES_ACTION, value, style="primary"),
            button("Not this time", MET_NO_ACTION, value),
        ]},
        context("One answer from any of you is enough. I won't ask again this round."),
    ]
    return RenderedMessage("👋 Did you get to meet?", blocks)


def answer_of(action: dict) -> tuple[int, bool]:
    """The pair and the answer a "did you meet?" button carries."""
    try:
        pair_id = int(decode(action["value"])["p"])
    except (KeyError, TypeError, ValueError):
        raise Gone("That button no longer works.") from None
    return pair_id, action.get("action_id") == MET_YES_ACTION


def programmes_text(programmes: Sequence[ProgrammeView], now: datetime, tz: ZoneInfo) -> str:
    lines = ["*Mentoring pairs*"]
    for p in programmes:
        where = f"cohort *{escape(p.cohort_name or str(p.cohort_id))}*" if p.cohort_id else f"<#{p.channel_id}>"
        next_at = p.next_round_at
        when = ("next round within a minute" if next_at is None or next_at <= now
                else f"next round {next_at.astimezone(tz):%a %d %b, %H:%M} ({tz.key})")
        lines.append(f"• *#{p.id}* {where} — {_every(p.every_weeks)} · {p.rounds} "
                     f"{'round' if p.rounds == 1 else 'rounds'}, {p.pairs} pairs, {p.meetings} met · {when} · "
                     f"`/learn pairs stop {p.id}`")
    return "\n".join(lines)


__all__ = [
    "MET_ACTIONS", "MET_NO_ACTION", "MET_YES_ACTION", "USAGE", "MentoringPairs", "SlackGroups", "StartRequest",
    "answer_of", "check_in_message", "intro_message", "pairing_renderers", "parse_start", "programmes_text",
]
