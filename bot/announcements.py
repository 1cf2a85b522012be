"""Announcements: a facilitator's message to a cohort, a team, a channel's members or everyone, as one DM
each through the outbox, optionally with a "Got it" button whose presses are counted, and one reminder.

The service (``Announcements``) takes domain values and returns them; the Block Kit builders below it
are pure functions. Every privileged use goes through ``Announcements.require``, which checks the stored
role on the server (LearningService.require) and logs a refusal.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import Block, RenderedMessage, button, context, encode, plain, section
from bot.mrkdwn import escape, markdown_to_mrkdwn, split_text, truncate
from bot.paging import bounded_pages
from bot.service import LearningService
from db.facilitation import COPY, REMINDER, AnnouncementFigures, AnnouncementView, CopyState, Recipient
from db.store import LearnerView, OutboxItem
from learning.errors import Gone, NotYours, SproutError
from learning.schedule import local_instant, parse_hhmm, zone
from scheduler.announcements import queue_due
from scheduler.sending import OutgoingMessage

log = logging.getLogger(__name__)

ROLES = ("facilitator",)  # LearningService.require lets admins in too
ANNOUNCE_VIEW = "announce"
AUDIENCE_ACTION = "announce_audience"
WHEN_ACTION = "announce_when"
ACK_ACTION = "announcement_ack"
MAX_TEXT = 3000
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")

AUDIENCES = {
    "everyone": "Everyone in Sprout",
    "cohort": "A cohort",
    "team": "A team",
    "channel": "The members of a channel",
}
WHENS = ("now", "local", "mine")

USAGE = (
    "*Announcements* (facilitators and admins)\n"
    "• `/learn announce` — write one: who gets it, now or later, and whether to ask for a *Got it*\n"
    "• `/learn announce status [id]` — copies sent, who has and has not acknowledged (the latest without an id)\n"
    "• `/learn announce remind &lt;id&gt;` — one reminder, in the thread of their copy, to those who have not\n"
    "• `/learn announce list` — what is still to go · `/learn announce cancel &lt;id&gt;` — stop what has not gone"
)


# -- talking to Slack about people and channels ------------------------------------------------


class SlackDirectory:
    """A channel's members and who is a person, from the Web API (conversations.members, users.info)."""

    def __init__(self, client: WebClient, *, page_size: int = 200) -> None:
        self.client = client
        self.page_size = page_size

    def members(self, channel_id: str) -> list[str]:
        members: list[str] = []
        for page in bounded_pages(f"conversations.members of {channel_id}"):
            try:
                response = self.client.conversations_members(channel=channel_id, limit=self.page_size,
                                                              cursor=page.cursor)
            except SlackApiError as exc:
                error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
                if error in ("channel_not_found", "not_in_channel", "missing_scope", "method_not_supported_for_channel_type"):
                    raise SproutError(f"I can't read the members of <#{channel_id}> ({error}). If it is private, "
                                      "invite me to it first (`/invite @Sprout`).") from None
                raise
            members.extend(response.get("members") or [])
            if not page.next((response.get("response_metadata") or {}).get("next_cursor")):
                break
        return members

    def is_person(self, slack_user_id: str) -> bool:
        """Not a bot, not Slackbot, not deactivated: someone a DM can reach."""
        if slack_user_id == "USLACKBOT":
            return False
        try:
            user = self.client.users_info(user=slack_user_id)["user"]
        except SlackApiError:
            return False
        return not (user.get("is_bot") or user.get("deleted") or user.get("is_app_user"))

    def problem(self, channel_id: str) -> str | None:
        """Why Sprout cannot read this channel's members, or None."""
        try:
            channel = self.client.conversations_info(channel=channel_id)["channel"]
        except SlackApiError as exc:
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else "error"
            return f"I can't see that channel ({error}). If it is private, invite me to it first."
        if channel.get("is_im") or channel.get("is_mpim"):
            return "Pick a channel, not a direct message."
        if channel.get("is_private") and not channel.get("is_member"):
            return "That channel is private: invite me to it first (`/invite @Sprout`)."
        return None


class Directory(Protocol):
    """What the service needs from Slack: ``SlackDirectory``."""

    def members(self, channel_id: str) -> list[str]: ...

    def is_person(self, slack_user_id: str) -> bool: ...

    def problem(self, channel_id: str) -> str | None: ...


# -- domain values -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormChoices:
    cohorts: tuple[str, ...]
    teams: tuple[str, ...]
    zone: str
    today: date
    everyone: int


@dataclass(frozen=True)
class Draft:
    """A filled-in, checked announcement form."""

    text: str
    audience_kind: str
    audience_value: str | None
    when: str  # now, local (the wall time in each person's zone), mine (the facilitator's zone)
    send_at: datetime | None  # None: now; with "local", the wall time as if it were UTC
    ask_ack: bool


@dataclass(frozen=True)
class Created:
    announcement: AnnouncementView
    copies: int | None  # sent now to a stored audience: how many people it goes to
    zone: str
    sending: bool = False  # sent now rather than scheduled


@dataclass(frozen=True)
class AckOutcome:
    receipt_id: int | None  # None: pressed before (or a retried request), nothing new was recorded
    state: CopyState

    @property
    def recorded(self) -> bool:
        return self.receipt_id is not None


# -- the service ---------------------------------------------------------------------------------


class Announcements:
    def __init__(self, *, service: LearningService, store: Any, directory: Directory) -> None:
        self.service = service
        self.store = store  # a Store with FacilitationRecords
        self.directory = directory

    def require(self, slack_user_id: str, action: str, now: datetime) -> LearnerView:
        return self.service.require(slack_user_id, ROLES, action, now)

    def choices(self, learner: LearnerView, now: datetime) -> FormChoices:
        zone_name = self.service.zone_of(learner)
        return FormChoices(
            cohorts=tuple(self.store.cohort_names()), teams=tuple(self.store.team_names()), zone=zone_name,
            today=now.astimezone(zone(zone_name)).date(), everyone=self.store.audience_size("everyone", None),
        )

    def open_form(self, slack_user_id: str, now: datetime) -> dict[str, Any]:
        learner = self.require(slack_user_id, "send announcements", now)
        return announce_modal(self.choices(learner, now))

    def redraw_form(self, slack_user_id: str, audience: str, when: str, now: datetime) -> dict[str, Any]:
        learner = self.require(slack_user_id, "send announcements", now)
        return announce_modal(self.choices(learner, now), audience=audience, when=when)

    def read(self, slack_user_id: str, view: dict, now: datetime) -> tuple[LearnerView, Draft | None, dict[str, str]]:
        """The submitted form, checked: (the facilitator, the draft or None, errors by block id)."""
        learner = self.require(slack_user_id, "send announcements", now)
        present = {b.get("block_id") for b in view.get("blocks") or []}
        draft, errors = read_form(view.get("state", {}).get("values", {}), zone_name=self.service.zone_of(learner),
                                  now=now, present=present)
        if draft is not None:
            errors = self._check_audience(draft, present)
        return learner, (draft if not errors else None), errors

    def _check_audience(self, draft: Draft, present: set) -> dict[str, str]:
        kind, value = draft.audience_kind, draft.audience_value
        block = kind if kind in present else "audience"
        if kind == "cohort" and not self.store.cohort_exists(value):
            return {block: f"There is no cohort called “{escape(truncate(value, 60))}”."}
        if kind == "team" and not self.store.audience_size("team", value):
            return {block: f"Nobody in Sprout is on a team called “{escape(truncate(value, 60))}”."}
        if kind == "channel":
            problem = self.directory.problem(value)
            if problem:
                return {block: problem}
        if kind == "everyone" and not self.store.audience_size("everyone", None):
            return {"audience": "There is nobody in Sprout yet."}
        if kind == "cohort" and draft.when == "now" and not self.store.audience_size("cohort", value):
            return {block: f"Nobody is in the cohort “{escape(truncate(value, 60))}” yet."}
        return {}

    def recipients_for(self, kind: str, value: str | None, now: datetime) -> list[Recipient]:
        """The audience as it is now. A channel's members who are new to Sprout become learners (so they
        get their DM); bots and deactivated people are skipped, and so is anyone marked inactive."""
        if kind != "channel":
            return self.store.audience(kind, value)
        members = self.directory.members(value)
        known = self.store.people_by_slack_id(members)
        out = []
        for slack_user_id in dict.fromkeys(members):
            person = known.get(slack_user_id)
            if person is None:
                if not self.directory.is_person(slack_user_id):
                    continue
                learner = self.service.learner(slack_user_id, now)
                person = Recipient(learner.id, learner.slack_user_id, learner.name,
                                   learner.dm_channel_id or learner.slack_user_id, learner.timezone,
                                   learner.slack_timezone, learner.active)
            if person.active:
                out.append(person)
        return out

    def recipients(self, announcement: AnnouncementView, now: datetime) -> list[Recipient]:
        """For the planner: a scheduled announcement's audience when it falls due."""
        return self.recipients_for(announcement.audience_kind, announcement.audience_value, now)

    def create(self, learner: LearnerView, draft: Draft, now: datetime) -> Created:
        """Write the announcement (audited). Sent now, it is due at once: ``send_now`` (or the next planner
        run, whichever comes first) resolves its audience and queues the copies."""
        zone_name = self.service.zone_of(learner)
        send_at = now if draft.when == "now" else draft.send_at
        announcement = self.store.create_announcement(
            author_id=learner.id, actor=learner.slack_user_id, text=draft.text, audience_kind=draft.audience_kind,
            audience_value=draft.audience_value, send_at=send_at, send_local=draft.when == "local",
            ask_ack=draft.ask_ack, now=now)
        expected = None
        if draft.when == "now" and draft.audience_kind != "channel":
            expected = self.store.audience_size(draft.audience_kind, draft.audience_value)
        return Created(announcement, expected, zone_name, sending=draft.when == "now")

    def send_now(self, announcement: AnnouncementView, now: datetime) -> int | None:
        """Queue a due announcement's copies now rather than at the planner's next run."""
        return queue_due(self.store, announcement, self.recipients, now=now,
                         default_timezone=self.service.default_timezone)

    # -- /learn announce … ------------------------------------------------------------------

    def _announcement(self, args: str, *, latest: bool = False) -> AnnouncementView:
        word = args.strip().lstrip("#")
        if not word and latest:
            recent = self.store.recent_announcements(1)
            if not recent:
                raise SproutError("No announcements yet. Write one with `/learn announce`.")
            return recent[0]
        if not word.isdigit():
            raise SproutError("Which announcement? Give its number, e.g. `/learn announce status 12`.")
        announcement = self.store.announcement(int(word))
        if announcement is None:
            raise Gone(f"There is no announcement #{word}.")
        return announcement

    def status(self, slack_user_id: str, args: str, now: datetime) -> str:
        learner = self.require(slack_user_id, "see announcements", now)
        figures = self.store.announcement_figures(self._announcement(args, latest=True).id)
        return status_text(figures, zone_name=self.service.zone_of(learner))

    def upcoming(self, slack_user_id: str, now: datetime) -> str:
        learner = self.require(slack_user_id, "see announcements", now)
        return upcoming_text(self.store.upcoming_announcements(now), zone_name=self.service.zone_of(learner))

    def cancel(self, slack_user_id: str, args: str, now: datetime) -> str:
        learner = self.require(slack_user_id, "cancel announcements", now)
        announcement = self._announcement(args)
        result = self.store.cancel_announcement(announcement.id, actor=learner.slack_user_id, now=now)
        if result is None:
            raise Gone(f"There is no announcement #{announcement.id}.")
        if not result.cancelled:
            if result.previous_status == "cancelled":
                raise SproutError(f"Announcement #{announcement.id} was already cancelled.")
            raise SproutError(f"Announcement #{announcement.id} has already gone out ({result.copies_sent} copies); "
                              "there is nothing left to cancel.")
        if not result.copies_sent and not result.copies_cancelled:
            return f"🛑 Announcement #{announcement.id} is cancelled; nothing was sent."
        return (f"🛑 Announcement #{announcement.id} is cancelled: {result.copies_cancelled} copies that had not "
                f"gone yet will not be sent ({result.copies_sent} had already gone).")

    def remind(self, slack_user_id: str, args: str, now: datetime) -> str:
        learner = self.require(slack_user_id, "remind people about announcements", now)
        announcement = self._announcement(args)
        tz = zone(self.service.zone_of(learner))
        if not announcement.ask_ack:
            raise SproutError(f"Announcement #{announcement.id} did not ask for acknowledgements, so there is "
                              "nobody to remind.")
        if announcement.status == "cancelled":
            raise SproutError(f"Announcement #{announcement.id} was cancelled.")
        if announcement.reminder_sent_at is not None:
            raise SproutError(f"A reminder for announcement #{announcement.id} went on "
                              f"{announcement.reminder_sent_at.astimezone(tz):%a %d %b at %H:%M}; "
                              "Sprout sends one reminder per announcement.")
        reminded = self.store.queue_reminders(announcement.id, actor=learner.slack_user_id, now=now)
        if reminded is None:
            raise SproutError(f"A reminder for announcement #{announcement.id} was already sent; "
                              "Sprout sends one reminder per announcement.")
        if not reminded:
            raise SproutError(f"Nobody to remind: everyone who has received announcement #{announcement.id} "
                              "has acknowledged it (or no copy has gone out yet).")
        return (f"⏰ Reminding {reminded} {'person' if reminded == 1 else 'people'} who have not acknowledged "
                f"announcement #{announcement.id}, in the thread of their copy.")

    # -- a learner's copy -------------------------------------------------------------------

    def acknowledge(self, slack_user_id: str, announcement_id: int, now: datetime) -> AckOutcome:
        """"Got it": recorded once; a second press changes nothing."""
        learner = self.service.learner(slack_user_id, now)
        if self.store.announcement(announcement_id) is None:
            raise Gone("This announcement is no longer available.")
        if self.store.copy_state(announcement_id, learner.id) is None:
            raise NotYours("This announcement was sent to someone else.")
        receipt_id = self.store.record_ack(announcement_id, learner.id, now)
        return AckOutcome(receipt_id, self.store.copy_state(announcement_id, learner.id))

    # -- the facilitator's Home tab ---------------------------------------------------------

    def home_blocks(self, slack_user_id: str, now: datetime, *, limit: int = 3) -> list[Block]:
        """Recent announcements and their acknowledgements, for facilitators and admins (nothing for others)."""
        learner = self.service.learner(slack_user_id, now)
        if self.service.role_of(learner) not in ("facilitator", "admin"):
            return []
        figures = [self.store.announcement_figures(a.id) for a in self.store.recent_announcements(limit)]
        return home_blocks([f for f in figures if f is not None], zone_name=self.service.zone_of(learner))

    # -- the outbox ---------------------------------------------------------------------------

    def renderers(self) -> dict[str, Callable[[OutboxItem], OutgoingMessage | None]]:
        return announcement_renderers(self.store)


def announcement_renderers(store: Any) -> dict[str, Callable[[OutboxItem], OutgoingMessage | None]]:
    """Outbox kinds ``announcement`` (a person's copy) and ``announcement_reminder`` (in its thread)."""

    def state_of(item: OutboxItem) -> CopyState | None:
        if not item.payload or item.learner_id is None:
            return None
        state = store.copy_state(int(item.payload["announcement"]), item.learner_id)
        if state is None or state.announcement.status == "cancelled" or not state.learner_active:
            return None
        return state

    def copy(item: OutboxItem) -> OutgoingMessage | None:
        state = state_of(item)
        if state is None:
            return None
        message = announcement_message(state.announcement, acked=state.acked_at is not None)
        return OutgoingMessage(channel=item.channel, text=message.text, blocks=message.blocks)

    def reminder(item: OutboxItem) -> OutgoingMessage | None:
        state = state_of(item)
        if state is None or state.acked_at is not None:
            return None  # acknowledged in the meantime: no nudge
        thread_ts = (item.payload or {}).get("thread_ts") or state.sent_ts
        message = reminder_message(state.announcement, in_thread=bool(thread_ts))
        return OutgoingMessage(channel=item.channel, text=message.text, blocks=message.blocks,
                               thread_ts=thread_ts or None)

    return {COPY: copy, REMINDER: reminder}


# -- reading the form ------------------------------------------------------------------------------


def _picked(values: dict, block_id: str, action_id: str) -> Any:
    entry = (values.get(block_id) or {}).get(action_id) or {}
    if "selected_option" in entry:
        option = entry["selected_option"]
        return option.get("value") if option else None
    if "selected_options" in entry:
        return [o.get("value") for o in entry.get("selected_options") or []]
    for key in ("selected_conversation", "selected_channel", "selected_date", "selected_time", "value"):
        if key in entry:
            return entry[key]
    return None


def form_choice(values: dict) -> tuple[str, str]:
    """(audience kind, when) as currently picked in the form."""
    audience = _picked(values, "audience", AUDIENCE_ACTION)
    when = _picked(values, "when", WHEN_ACTION)
    return (audience if audience in AUDIENCES else "everyone", when if when in WHENS else "now")


def read_form(
    values: dict, *, zone_name: str, now: datetime, present: set | None = None
) -> tuple[Draft | None, dict[str, str]]:
    """The form's values as a Draft, or errors keyed by block id (Slack's ``response_action: errors``).

    ``present``: the blocks the view shows; an error about a block it lacks goes on the audience or
    time choice instead, since Slack refuses errors for blocks that are not there."""
    present = present if present is not None else {"message", "audience", "cohort", "team", "channel", "when",
                                                   "date", "time", "ack"}
    errors: dict[str, str] = {}

    def error(block: str, message: str, fallback: str) -> None:
        errors[block if block in present else fallback] = message

    text = (_picked(values, "message", "text") or "").strip()
    if not text:
        error("message", "Write the announcement.", "message")
    elif len(text) > MAX_TEXT:
        error("message", f"Keep it under {MAX_TEXT} characters.", "message")
    kind, when = form_choice(values)
    value: str | None = None
    if kind in ("cohort", "team"):
        value = (_picked(values, kind, kind) or "").strip() or None
        if value is None:
            error(kind, f"Pick the {kind}.", "audience")
        elif len(value) > 100:
            error(kind, f"No {kind} has a name that long.", "audience")
    elif kind == "channel":
        value = _picked(values, "channel", "channel")
        if not value or not CHANNEL_ID.match(str(value)):
            error("channel", "Pick the channel whose members get it.", "audience")
            value = None
    send_at: datetime | None = None
    if when != "now":
        day, at = _picked(values, "date", "date"), _picked(values, "time", "time")
        try:
            chosen_day = date.fromisoformat(day) if day else None
        except ValueError:
            chosen_day = None
        try:
            chosen_time = parse_hhmm(at) if at else None
        except ValueError:
            chosen_time = None
        if chosen_day is None:
            error("date", "Pick the day.", "when")
        if chosen_time is None:
            error("time", "Pick the time.", "when")
        if chosen_day is not None and chosen_time is not None:
            mine = local_instant(chosen_day, chosen_time, zone(zone_name))
            if mine <= now:
                error("time", "That time has already passed in your time zone.", "when")
            elif mine > now + timedelta(days=366):
                error("date", "Pick a day within the next year.", "when")
            send_at = mine if when == "mine" else datetime.combine(chosen_day, chosen_time, tzinfo=UTC)
    ask_ack = "ack" in (_picked(values, "ack", "ack") or [])
    if errors:
        return None, errors
    return Draft(text, kind, value, when, send_at, ask_ack), {}


# -- Block Kit ---------------------------------------------------------------------------------------


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(escape(text), 75), "value": value}


def _radio(block_id: str, action_id: str, label: str, options: Sequence[tuple[str, str]], chosen: str) -> Block:
    opts = [_option(text, value) for value, text in options]
    return {
        "type": "input", "block_id": block_id, "dispatch_action": True, "label": plain(label, 2000),
        "element": {"type": "radio_buttons", "action_id": action_id, "options": opts,
                    "initial_option": next(o for o in opts if o["value"] == chosen)},
    }


def _named(kind: str, names: Sequence[str]) -> Block:
    """A cohort or team: a menu of the known names, or a box to type one when there are none or too many."""
    if 0 < len(names) <= 100:
        element = {"type": "static_select", "action_id": kind, "placeholder": plain(f"Choose a {kind}", 150),
                   "options": [_option(truncate(n, 75), n) for n in names]}
    else:
        element = {"type": "plain_text_input", "action_id": kind, "max_length": 100,
                   "placeholder": plain(f"The {kind}'s name", 150)}
    block = {"type": "input", "block_id": kind, "label": plain(f"Which {kind}?", 2000), "element": element}
    if not names:
        block["hint"] = plain(f"No {kind}s in Sprout yet." if kind == "cohort" else
                              "Teams come from the roster's team column.", 2000)
    return block


def announce_modal(choices: FormChoices, *, audience: str = "everyone", when: str = "now") -> dict[str, Any]:
    """The form: message, audience (and its selector), when, acknowledgement. Changing the audience or the
    time choice redraws it (``dispatch_action``); what was typed survives, Slack keeps it by block id."""
    blocks: list[Block] = [
        {"type": "input", "block_id": "message", "label": plain("Message", 2000),
         "hint": plain("Markdown: **bold**, _italic_, [a link](https://…), - bullets.", 2000),
         "element": {"type": "plain_text_input", "action_id": "text", "multiline": True, "max_length": MAX_TEXT,
                     "placeholder": plain("What should everyone know?", 150)}},
        _radio("audience", AUDIENCE_ACTION, "Who gets it?", list(AUDIENCES.items()), audience),
    ]
    if audience in ("cohort", "team"):
        blocks.append(_named(audience, choices.cohorts if audience == "cohort" else choices.teams))
    elif audience == "channel":
        blocks.append({
            "type": "input", "block_id": "channel", "label": plain("Which channel's members?", 2000),
            "hint": plain("Each member gets the announcement as a DM. For a private channel, invite Sprout first.",
                          2000),
            "element": {"type": "conversations_select", "action_id": "channel",
                        "placeholder": plain("Choose a channel", 150),
                        "filter": {"include": ["public", "private"], "exclude_bot_users": True,
                                   "exclude_external_shared_channels": True}},
        })
    else:
        blocks.append(context(f"Every active person in Sprout: {choices.everyone} "
                              f"{'person' if choices.everyone == 1 else 'people'}."))
    blocks.append(_radio("when", WHEN_ACTION, "When?", [
        ("now", "Now"),
        ("local", "At a time in each person's own time zone"),
        ("mine", truncate(f"At a time in my time zone ({choices.zone})", 75)),
    ], when))
    if when != "now":
        blocks.append({"type": "input", "block_id": "date", "label": plain("Day", 2000),
                       "element": {"type": "datepicker", "action_id": "date",
                                   "initial_date": choices.today.isoformat()}})
        hint = ("09:00 means 09:00 where each person is: it reaches Tokyo before New York." if when == "local"
                else f"In your time zone, {choices.zone}: everyone gets it at the same moment.")
        blocks.append({"type": "input", "block_id": "time", "label": plain("Time", 2000),
                       "hint": plain(hint, 2000),
                       "element": {"type": "timepicker", "action_id": "time", "initial_time": "09:00"}})
    blocks.append({
        "type": "input", "block_id": "ack", "optional": True, "label": plain("Acknowledgement", 2000),
        "element": {"type": "checkboxes", "action_id": "ack", "options": [{
            "text": {"type": "mrkdwn", "text": "Ask each person to press *Got it*"},
            "description": plain("You see who has, and can remind the others once.", 75),
            "value": "ack",
        }]},
    })
    return {
        "type": "modal",
        "callback_id": ANNOUNCE_VIEW,
        "title": plain("New announcement", 24),
        "submit": plain("Send" if when == "now" else "Schedule", 24),
        "close": plain("Cancel", 24),
        "blocks": blocks,
    }


def note_modal(title: str, text: str) -> dict[str, Any]:
    """A modal with a sentence and a Close button: sending…, done, refused."""
    return {"type": "modal", "title": plain(title, 24), "close": plain("Close", 24),
            "blocks": [section(chunk) for chunk in split_text(text)][:100]}


def created_text(created: Created) -> str:
    a = created.announcement
    who = audience_text(a.audience_kind, a.audience_value)
    ack = " Each copy has a *Got it* button." if a.ask_ack else ""
    if created.sending:
        people = (f" ({created.copies} {'person' if created.copies == 1 else 'people'})"
                  if created.copies is not None else "")
        return (f"📣 Announcement #{a.id} is on its way to {who}{people}.{ack}\n"
                f"See who has it: `/learn announce status {a.id}`.")
    return (f"🗓 Announcement #{a.id} is scheduled for {when_text(a, created.zone)}, to {who}.{ack}\n"
            f"`/learn announce list` shows what is still to go; `/learn announce cancel {a.id}` stops it.")


def audience_text(kind: str, value: str | None) -> str:
    if kind == "cohort":
        return f"cohort *{escape(value or '')}*"
    if kind == "team":
        return f"team *{escape(value or '')}*"
    if kind == "channel":
        return f"the members of <#{value}>" if value and CHANNEL_ID.match(value) else "a channel's members"
    return "everyone"


def when_text(a: AnnouncementView, zone_name: str) -> str:
    if a.send_local:
        return f"{a.send_at:%a %d %b %H:%M} in each person's time zone"
    return f"{a.send_at.astimezone(zone(zone_name)):%a %d %b %H:%M} ({escape(zone_name)})"


def _excerpt(text: str, limit: int = 120) -> str:
    first = " ".join(text.split())
    return escape(truncate(first, limit))


def status_text(figures: AnnouncementFigures, *, zone_name: str) -> str:
    a = figures.announcement
    state = {"scheduled": "scheduled for", "sent": "sent", "cancelled": "cancelled; was for"}[a.status]
    lines = [
        f"*📣 Announcement #{a.id}* to {audience_text(a.audience_kind, a.audience_value)} — {state} "
        f"{when_text(a, zone_name)}" + (f", by {escape(a.author_name)}" if a.author_name else ""),
        f"> {_excerpt(a.text)}",
    ]
    if a.status == "scheduled":
        lines.append("Its audience is worked out when it falls due.")
        return "\n".join(lines)
    copies = (f"{figures.recipients} {'copy' if figures.recipients == 1 else 'copies'}: {figures.sent} sent"
              f" · {figures.waiting} waiting")
    if figures.failed:
        copies += f" · {figures.failed} could not be delivered"
    if figures.cancelled:
        copies += f" · {figures.cancelled} cancelled"
    lines.append(copies)
    if not a.ask_ack:
        lines.append("No acknowledgement was asked for.")
        return "\n".join(lines)
    lines.append(f"✅ *{figures.acked}* acknowledged · ⏳ *{figures.not_acked}* not yet")
    if figures.not_acked_people:
        names = [escape(name or uid) for name, uid in figures.not_acked_people]
        shown, used = [], 0
        for name in names:
            if used + len(name) > 2000:
                break
            shown.append(name)
            used += len(name) + 2
        more = figures.not_acked - len(shown)
        lines.append("Not yet: " + ", ".join(shown) + (f" and {more} more" if more > 0 else ""))
    if a.reminder_sent_at is not None:
        lines.append(f"⏰ Reminder sent {a.reminder_sent_at.astimezone(zone(zone_name)):%a %d %b %H:%M} "
                     f"to {figures.reminders}.")
    elif figures.not_acked and a.status != "cancelled":
        lines.append(f"`/learn announce remind {a.id}` sends those who have not one reminder.")
    return "\n".join(lines)


def upcoming_text(upcoming: Sequence[tuple[AnnouncementView, int]], *, zone_name: str) -> str:
    if not upcoming:
        return "No announcements are waiting to go. Write one with `/learn announce`."
    lines = ["*Announcements still to go*"]
    for a, waiting in upcoming:
        left = f" · {waiting} copies waiting" if waiting else ""
        lines.append(f"• *#{a.id}* to {audience_text(a.audience_kind, a.audience_value)} — {when_text(a, zone_name)}"
                     f"{left} · “{_excerpt(a.text, 60)}” · `/learn announce cancel {a.id}`")
    return "\n".join(lines)


def home_blocks(figures: Sequence[AnnouncementFigures], *, zone_name: str) -> list[Block]:
    blocks: list[Block] = [{"type": "divider"}, section("*📣 Announcements*", block_id="home-announcements")]
    if not figures:
        blocks.append(context("None yet. `/learn announce` writes one."))
        return blocks
    for f in figures:
        a = f.announcement
        if a.status == "scheduled":
            figure = "scheduled"
        elif a.ask_ack:
            figure = f"{f.sent} sent · ✅ {f.acked} acknowledged · ⏳ {f.not_acked} not yet"
        else:
            figure = f"{f.sent} sent" + (f" · {f.waiting} waiting" if f.waiting else "")
        if a.status == "cancelled":
            figure = "cancelled · " + figure
        blocks.append(section(f"*#{a.id}* to {audience_text(a.audience_kind, a.audience_value)} · "
                              f"{when_text(a, zone_name)}\n“{_excerpt(a.text, 80)}”\n{figure}",
                              block_id=f"home-announcement:{a.id}"))
    blocks.append(context("`/learn announce` writes one · `/learn announce status &lt;id&gt;` shows who has not "
                          "acknowledged · `/learn announce remind &lt;id&gt;` reminds them once"))
    return blocks


def announcement_message(a: AnnouncementView, *, acked: bool) -> RenderedMessage:
    """A person's copy: the facilitator's Markdown as mrkdwn (escaped), and "Got it" when asked for."""
    author = escape(a.author_name) if a.author_name else "your facilitators"
    blocks: list[Block] = [context(f"📣 *Announcement* from {author}")]
    blocks += [section(chunk, block_id=f"announcement:{i}")
               for i, chunk in enumerate(split_text(markdown_to_mrkdwn(a.text)))][:46]
    if a.ask_ack:
        if acked:
            blocks.append(context("✅ Acknowledged — thank you."))
            blocks[-1]["block_id"] = "announcement-acked"
        else:
            blocks.append({"type": "actions", "block_id": "announcement-ack",
                           "elements": [button("Got it", ACK_ACTION, encode(a=a.id), style="primary")]})
    return RenderedMessage(f"📣 {_excerpt(a.text, 150)}", blocks)


def reminder_message(a: AnnouncementView, *, in_thread: bool) -> RenderedMessage:
    nudge = "⏰ A reminder: please read this announcement and press *Got it*."
    if in_thread:
        return RenderedMessage(nudge, [section(nudge, block_id="announcement-reminder")])
    copy = announcement_message(a, acked=False)  # the first copy's place is unknown: send it again, whole
    return RenderedMessage(nudge, [section(nudge, block_id="announcement-reminder"), *copy.blocks][:50])


__all__ = [
    "ACK_ACTION", "ANNOUNCE_VIEW", "AUDIENCE_ACTION", "AckOutcome", "Announcements", "Created", "Draft",
    "FormChoices", "SlackDirectory", "USAGE", "WHEN_ACTION", "announce_modal", "announcement_message",
    "announcement_renderers", "created_text", "form_choice", "home_blocks", "note_modal", "read_form",
    "reminder_message", "status_text",
]
