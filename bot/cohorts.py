"""Cohorts and tracks in Slack: what facilitators' commands do, and the Block Kit that shows it.

``CohortService`` holds the use cases (each privileged one checks the stored role first, through
``LearningService.require``); ``SlackDirectory`` is the little of Slack's Web API it needs to find
people (channel members, names); the functions at the end build text and blocks from the results.
Cohort and track rules live in ``learning.cohorts``; records in ``db.cohorts``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError

from bot.blocks import Block, button, context, encode, plain, section
from bot.mrkdwn import escape, split_text, truncate
from bot.paging import bounded_pages
from bot.service import LearningService
from bot.text import render
from content_packs.schema import Lesson, Pack
from content_packs.tracks import Track, TrackCatalog
from db.cohorts import CohortView, MemberProgress
from learning.cohorts import (
    JOIN_MODES,
    Standing,
    current_lesson,
    first_lesson_day,
    joining_lesson,
    may_start,
    pack_finished,
    reached,
    skipped,
    standing,
)
from learning.errors import Gone, SproutError
from learning.progression import accuracy, next_lesson
from learning.schedule import resolve_zone

log = logging.getLogger(__name__)

FACILITATORS = ("facilitator",)  # require() lets admins in as well
COHORT_STATUS_ACTION = "cohort_status"
PAGE_SIZE = 200  # conversations.members / users.list / conversations.list page size
EARLIEST_OFFSET = timedelta(hours=14)  # UTC+14: where a date begins first

USAGE = (
    "*Cohorts* (facilitators): a group that takes a pack together from a start date, each in their own time zone.\n"
    "• `/learn cohort create <name> <pack-id> <YYYY-MM-DD> [join current|start]` — a new cohort; people added "
    "after it has started begin at its current lesson (`current`, the default) or at the first (`start`)\n"
    "• `/learn cohort add <name> @person … | team <team name> | channel #channel` — add people, a roster team, "
    "or everyone in a channel Sprout is in\n"
    "• `/learn cohort status <name>` — who is behind, who has not started, everyone's lessons and accuracy\n"
    "• `/learn cohort list` — every cohort"
)


# -- reading the command line ----------------------------------------------------------------

_TOKEN = re.compile(r"<[^>]*>|[^\s,]+")
_USER = re.compile(r"^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]{2,})(?:\|([^>]*))?>$")
_QUOTES = "\"'“”‘’«»"


@dataclass(frozen=True)
class Target:
    """Who to add, as typed: a user or channel by id (Slack's escaped ``<@U…|name>``, ``<@U…>``,
    ``<#C…|name>``) or by plain name (``@name``, ``#name``, as Slack sends them unescaped), or a team."""

    kind: str  # user, user_name, channel, channel_name, team
    value: str
    typed: str


@dataclass(frozen=True)
class CreateRequest:
    name: str
    pack_id: str
    start_on: date
    join_mode: str


def _is_marker(token: str) -> bool:
    return token.startswith(("<@", "<#", "@", "#")) or token.lower() in ("team", "channel")


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


def split_name(text: str) -> tuple[str, str]:
    """A cohort name, then the rest: a quoted name ("Autumn 2026"), or the words before the first person,
    channel or team."""
    text = text.strip()
    if text[:1] in _QUOTES:
        end = next((i for i in range(1, len(text)) if text[i] in _QUOTES), None)
        if end is not None:
            return text[1:end].strip(), text[end + 1 :].strip()
    tokens = list(_TOKEN.finditer(text))
    for match in tokens:
        if _is_marker(match.group(0)):
            return text[: match.start()].strip(), text[match.start() :].strip()
    return text, ""


def parse_targets(text: str) -> tuple[list[Target], list[str]]:
    """The people, channels and teams named in ``text``, and any words that are none of those."""
    tokens = _TOKEN.findall(text)
    targets: list[Target] = []
    leftovers: list[str] = []
    i = 0

    def words_from(j: int) -> tuple[list[str], int]:
        words = []
        while j < len(tokens) and not _is_marker(tokens[j]):
            words.append(tokens[j])
            j += 1
        return words, j

    while i < len(tokens):
        token = tokens[i]
        if user := _USER.match(token):
            targets.append(Target("user", user.group(1), token))
            i += 1
        elif channel := _CHANNEL.match(token):
            targets.append(Target("channel", channel.group(1), token))
            i += 1
        elif token.startswith("@") and len(token) > 1:
            more, i = words_from(i + 1)
            name = " ".join([token[1:], *more])
            targets.append(Target("user_name", name, "@" + name))
        elif token.startswith("#") and len(token) > 1:
            targets.append(Target("channel_name", token[1:], token))
            i += 1
        elif token.lower() == "team":
            words, i = words_from(i + 1)
            if words:
                name = _unquote(" ".join(words))
                targets.append(Target("team", name, f"team {name}"))
            else:
                leftovers.append(token)
        elif token.lower() == "channel" and i + 1 < len(tokens):
            following = tokens[i + 1]
            if channel := _CHANNEL.match(following):
                targets.append(Target("channel", channel.group(1), following))
            elif not _is_marker(following) or following.startswith("#"):
                targets.append(Target("channel_name", following.lstrip("#"), "#" + following.lstrip("#")))
            else:
                leftovers.append(token)
                i += 1
                continue
            i += 2
        else:
            leftovers.append(token)
            i += 1
    return targets, leftovers


def parse_create(text: str) -> CreateRequest:
    """``<name> <pack-id> <YYYY-MM-DD> [join current|start]``."""
    tokens = text.split()
    join_mode = "current"
    if len(tokens) >= 2 and tokens[-2].lower() == "join":
        join_mode = tokens[-1].lower()
        tokens = tokens[:-2]
        if join_mode not in JOIN_MODES:
            raise SproutError("Late joiners begin at the cohort's current lesson or at the first: "
                              "end with `join current` or `join start`.")
    if len(tokens) < 3:
        raise SproutError("Create a cohort with `/learn cohort create <name> <pack-id> <YYYY-MM-DD> "
                          "[join current|start]`, e.g. `/learn cohort create Autumn security-basics 2026-12-01`.")
    try:
        start_on = date.fromisoformat(tokens[-1])
    except ValueError:
        raise SproutError(f"`{escape(tokens[-1])}` is not a date: give the start as YYYY-MM-DD, "
                          "e.g. 2026-12-01.") from None
    name = _unquote(" ".join(tokens[:-2]))
    if not name or len(name) > 100:
        raise SproutError("A cohort's name is 1 to 100 characters.")
    return CreateRequest(name=name, pack_id=tokens[-2].lower(), start_on=start_on, join_mode=join_mode)


# -- the little of Slack's directory we need ---------------------------------------------------


class Directory(Protocol):
    def channel_members(self, channel_id: str) -> list[str]: ...
    def channel_named(self, name: str) -> str | None: ...
    def users_named(self, name: str) -> list[str]: ...
    def is_person(self, user_id: str) -> bool: ...


class SlackDirectory:
    """Channel members and names through the Web API, following Slack's cursors."""

    def __init__(self, client: Any, *, page_size: int | None = None) -> None:
        self.client = client
        self.page_size = page_size or PAGE_SIZE
        self._users: list[dict] | None = None  # users.list, read once per command

    def _pages(self, method: str, key: str, **params: Any) -> list:
        items: list = []
        for page in bounded_pages(method.replace("_", ".", 1)):
            response = getattr(self.client, method)(limit=self.page_size, cursor=page.cursor, **params)
            items.extend(response.get(key) or [])
            if not page.next((response.get("response_metadata") or {}).get("next_cursor")):
                break
        return items

    def channel_members(self, channel_id: str) -> list[str]:
        return self._pages("conversations_members", "members", channel=channel_id)

    def channel_named(self, name: str) -> str | None:
        wanted = name.strip().lstrip("#").lower()
        for channel in self._pages("conversations_list", "channels", types="public_channel,private_channel",
                                   exclude_archived=True):
            if (channel.get("name") or "").lower() == wanted:
                return channel["id"]
        return None

    def users_named(self, name: str) -> list[str]:
        wanted = " ".join(name.split()).lower()
        found = []
        if self._users is None:
            self._users = self._pages("users_list", "members")
        for user in self._users:
            if user.get("deleted") or user.get("is_bot") or user.get("id") == "USLACKBOT":
                continue
            profile = user.get("profile") or {}
            names = {user.get("name"), user.get("real_name"), profile.get("display_name"),
                     profile.get("display_name_normalized"), profile.get("real_name")}
            if wanted in {" ".join(n.split()).lower() for n in names if n}:
                found.append(user["id"])
        return found

    def is_person(self, user_id: str) -> bool:
        if user_id == "USLACKBOT":
            return False
        try:
            user = self.client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            log.info("users.info %s: %s", user_id, exc.response.get("error"))
            return False
        return not (user.get("is_bot") or user.get("deleted"))


# -- what the use cases return -----------------------------------------------------------------


@dataclass(frozen=True)
class CohortCreated:
    cohort: CohortView
    pack: Pack
    first_day: date


@dataclass(frozen=True)
class MembersAdded:
    cohort: CohortView
    pack: Pack
    start: Lesson | None  # where those new to the pack begin (None: the first lesson)
    started: bool
    enrolled: list[str] = field(default_factory=list)  # Slack user ids
    moved: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)  # what was typed, with why


@dataclass(frozen=True)
class MemberStanding:
    slack_user_id: str
    name: str
    zone: str
    standing: Standing
    done: int  # lessons done, counting those skipped by joining late
    sent: int
    answers: int
    correct: int
    joined_at: str | None  # the lesson they joined at, when they joined late

    @property
    def accuracy(self) -> float | None:
        return accuracy(self.correct, self.answers)


@dataclass(frozen=True)
class CohortStatus:
    cohort: CohortView
    pack: Pack
    first_day: date
    started: bool
    current: Lesson | None
    position: int
    members: list[MemberStanding]

    @property
    def behind(self) -> list[MemberStanding]:
        return [m for m in self.members if m.standing == "behind"]

    @property
    def not_started(self) -> list[MemberStanding]:
        return [m for m in self.members if m.standing == "not_started"]


@dataclass(frozen=True)
class TrackEnrolled:
    track: Track
    pack: Pack
    packs: list[Pack]
    created: bool
    finished_first: bool
    next_at: datetime | None
    zone: str


# -- the use cases -------------------------------------------------------------------------------


class CohortService:
    def __init__(self, *, learning: LearningService, tracks: TrackCatalog | None = None) -> None:
        self.learning = learning
        self.store = learning.store
        self.catalog = learning.catalog
        self.tracks = tracks

    def _require(self, slack_user_id: str, action: str, now: datetime):
        return self.learning.require(slack_user_id, FACILITATORS, action, now)

    def _cohort(self, name: str) -> CohortView:
        name = _unquote(name)
        if not name:
            raise SproutError("Which cohort? `/learn cohort list` shows them all.")
        cohort = self.store.cohort_named(name)
        if cohort is None:
            raise SproutError(f"There is no cohort called *{escape(name)}*. `/learn cohort list` shows them all.")
        return cohort

    def _pack_of(self, cohort: CohortView) -> Pack:
        pack = self.catalog.get(cohort.pack_id)
        if pack is None:
            raise Gone(f"The pack of *{escape(cohort.name)}*, `{escape(cohort.pack_id)}`, is not loaded any more.")
        return pack

    @staticmethod
    def started(cohort: CohortView, now: datetime) -> bool:
        """Whether the start date has begun anywhere on Earth (UTC+14 sees a date first)."""
        return now >= datetime.combine(cohort.start_on, time(0), tzinfo=UTC) - EARLIEST_OFFSET

    # -- create, add ------------------------------------------------------------------------

    def create(self, slack_user_id: str, args: str, now: datetime) -> CohortCreated:
        facilitator = self._require(slack_user_id, "create cohorts", now)
        request = parse_create(args)
        pack = self.learning.pack(request.pack_id)
        cohort = self.store.create_cohort(name=request.name, pack_id=pack.id, start_on=request.start_on,
                                          join_mode=request.join_mode, created_by=facilitator.id,
                                          actor=slack_user_id, now=now)
        if cohort is None:
            raise SproutError(f"There is already a cohort called *{escape(request.name)}*: pick another name, "
                              f"or add people to it with `/learn cohort add`.")
        log.info("cohort %r created by %s: %s from %s", cohort.name, slack_user_id, pack.id, cohort.start_on)
        return CohortCreated(cohort, pack, first_lesson_day(cohort.start_on, pack.schedule.days))

    def add(self, slack_user_id: str, args: str, now: datetime, *, directory: Directory) -> MembersAdded:
        self._require(slack_user_id, "add people to cohorts", now)
        name, rest = split_name(args)
        cohort = self._cohort(name)
        pack = self._pack_of(cohort)
        targets, leftovers = parse_targets(rest)
        if not targets:
            raise SproutError("Add whom? `/learn cohort add <name> @person …`, `… team <team name>` or "
                              "`… channel #channel`.")
        user_ids, not_found = self._resolve(targets, directory)
        not_found += [f"`{escape(word)}` (not a person, team or channel)" for word in leftovers]
        learners = {uid: self.learning.learner(uid, now) for uid in user_ids}
        started = self.started(cohort, now)
        start = None
        if started and cohort.join_mode == "current":
            progress = self.store.cohort_progress(cohort.id, pack.id)
            start = current_lesson(pack, [reached(pack, m.lesson_ids) for m in progress
                                          if m.enrollment_status in ("active", "completed")])
        outcomes = self.store.join_cohort(
            cohort_id=cohort.id, pack_id=pack.id, learner_ids=[v.id for v in learners.values()],
            starts_on=cohort.start_on, start_lesson_id=joining_lesson(cohort.join_mode, start),
            actor=slack_user_id, now=now,
        )
        by_id = {v.id: uid for uid, v in learners.items()}
        result = MembersAdded(cohort=cohort, pack=pack, start=start if cohort.join_mode == "current" else None,
                              started=started, not_found=not_found)
        for learner_id, outcome in outcomes.items():
            getattr(result, outcome).append(by_id[learner_id])
        log.info("cohort %r: %s added %d, moved %d", cohort.name, slack_user_id, len(result.enrolled),
                 len(result.moved))
        return result

    def _resolve(self, targets: Sequence[Target], directory: Directory) -> tuple[list[str], list[str]]:
        """Slack user ids for the targets (in order, once each), and what could not be found, with why."""
        found: dict[str, None] = {}
        missing: list[str] = []
        for target in targets:
            typed = escape(target.typed)
            if target.kind == "user":
                found[target.value] = None
            elif target.kind == "user_name":
                matches = list(dict.fromkeys(directory.users_named(target.value)
                                             or self.store.learners_named(target.value)))
                if len(matches) == 1:
                    found[matches[0]] = None
                else:
                    missing.append(f"{typed} ({'more than one person has that name' if matches else 'nobody by that name'}"
                                   f"; pick them from Slack's @ menu)")
            elif target.kind == "team":
                members = self.store.team_members(target.value)
                if not members:
                    missing.append(f"{typed} (nobody in Sprout is in that team; teams come from the roster)")
                found.update((uid, None) for _, uid in members)
            else:
                channel_id = target.value if target.kind == "channel" else directory.channel_named(target.value)
                if channel_id is None:
                    missing.append(f"{typed} (no channel by that name that Sprout can see: invite Sprout to it)")
                    continue
                try:
                    members = directory.channel_members(channel_id)
                except SlackApiError as exc:
                    log.info("conversations.members %s: %s", channel_id, exc.response.get("error"))
                    missing.append(f"{typed} (Sprout can't see its members: invite Sprout to the channel)")
                    continue
                for uid in members:
                    if uid not in found and (self.store.learner(uid) is not None or directory.is_person(uid)):
                        found[uid] = None
        return list(found), missing

    # -- progress ---------------------------------------------------------------------------

    def status(self, slack_user_id: str, name: str, now: datetime) -> CohortStatus:
        self._require(slack_user_id, "see a cohort's progress", now)
        return self._status(self._cohort(name), now)

    def status_by_id(self, slack_user_id: str, cohort_id: int, now: datetime) -> CohortStatus:
        self._require(slack_user_id, "see a cohort's progress", now)
        cohort = self.store.cohort_by_id(cohort_id)
        if cohort is None:
            raise Gone("That cohort no longer exists.")
        return self._status(cohort, now)

    def all_statuses(self, slack_user_id: str, now: datetime) -> list[CohortStatus]:
        self._require(slack_user_id, "list cohorts", now)
        return [self._status(c, now) for c in self.store.cohorts() if self.catalog.get(c.pack_id) is not None]

    def _status(self, cohort: CohortView, now: datetime) -> CohortStatus:
        pack = self._pack_of(cohort)
        quizless = [lesson.id for lesson in pack.lessons if not lesson.quiz]
        progress = self.store.cohort_progress(cohort.id, pack.id, quizless=quizless)
        following = [m for m in progress if m.enrollment_status in ("active", "completed")]
        started = self.started(cohort, now)
        positions = [reached(pack, m.lesson_ids) for m in following]
        current = current_lesson(pack, positions) if started else None
        position = (pack.lesson_index(current.id) or 0) + 1 if current else 0
        members = [self._standing(pack, m, position) for m in progress]
        order = {"behind": 0, "not_started": 1, "on_track": 2}
        members.sort(key=lambda m: (order[m.standing], m.name.lower(), m.slack_user_id))
        return CohortStatus(cohort, pack, first_lesson_day(cohort.start_on, pack.schedule.days), started, current,
                            position, members)

    def _standing(self, pack: Pack, m: MemberProgress, position: int) -> MemberStanding:
        skip = skipped(pack, m.start_lesson_id)
        start = pack.lesson(m.start_lesson_id) if m.start_lesson_id else None
        return MemberStanding(
            slack_user_id=m.slack_user_id,
            name=m.name,
            zone=resolve_zone(m.timezone, m.slack_timezone, default=self.learning.default_timezone),
            standing=standing(answered_lessons=m.answered_lessons, done=m.done, skipped_lessons=skip,
                              current=position),
            done=min(skip + m.done, len(pack.lessons)),
            sent=m.sent,
            answers=m.answers,
            correct=m.correct,
            joined_at=start.title if start is not None and skip else None,
        )

    def home_blocks(self, slack_user_id: str, now: datetime, *, limit: int = 8) -> list[Block]:
        """The facilitator's Home section: each cohort's progress at a glance, with a button for the detail.
        Empty for anyone else (the stored role decides, as everywhere)."""
        learner = self.learning.learner(slack_user_id, now)
        if self.learning.role_of(learner) not in ("facilitator", "admin"):
            return []
        cohorts = [c for c in self.store.cohorts() if self.catalog.get(c.pack_id) is not None][:limit]
        return cohorts_home_blocks([self._status(c, now) for c in cohorts])

    # -- tracks -----------------------------------------------------------------------------

    def track(self, track_id: str) -> Track | None:
        if self.tracks is None:
            return None
        word = track_id.strip().lower()
        return self.tracks.get(word) if word not in self.catalog else None

    def prerequisite_missing(self, slack_user_id: str, pack_id: str, now: datetime) -> str | None:
        """Why a learner may not start ``pack_id`` on their own yet, or None. A pack that comes after another
        in a track waits for that step's gate (the previous pack finished, or its certificate), as the
        track planner would; it may start when any track it belongs to lets it. Enrolled already: None."""
        if self.tracks is None:
            return None
        steps = [(track, i) for track in self.tracks if (i := track.position(pack_id) or 0) > 0]
        if not steps:
            return None
        learner = self.learning.learner(slack_user_id, now)
        enrollments = {e.pack_id: e for e in self.store.enrollments(learner.id)}
        if pack_id in enrollments:
            return None
        reasons = []
        for track, i in steps:
            step, previous_id = track.packs[i], track.packs[i - 1].pack
            previous = self.catalog.get(previous_id)
            if previous is None:
                continue
            taken = enrollments.get(previous_id)
            finished = certified = False
            if taken is not None:
                delivered, answered = self.store.lessons_and_answers([taken.id])[taken.id]
                finished = pack_finished(previous, delivered, answered)
                certified = bool(self.store.certified([(learner.id, previous_id)]))
            if may_start(step, previous_finished=finished, previous_certified=certified):
                return None
            needs = "earning its certificate" if step.gate == "certificate" else "finishing it"
            reasons.append(f"In the *{escape(track.title)}* track it comes after *{escape(previous.title)}*: take "
                           f"that first (`/learn enroll {previous.id}`), and this one opens after {needs}.")
        if not reasons:
            return None
        pack = self.catalog.get(pack_id)
        title = escape(pack.title) if pack is not None else f"`{pack_id}`"
        return f"You can't start *{title}* yet. " + " ".join(reasons)

    def enroll_track(self, slack_user_id: str, track_id: str, now: datetime) -> TrackEnrolled:
        """``/learn enroll <track-id>``: enrolled in the track's first pack, the enrollment carrying the track;
        the track planner moves the learner on from there."""
        track = self.track(track_id)
        if track is None:
            raise SproutError(f"There is no track called `{escape(track_id)}`.")
        packs = [self.catalog.get(p) for p in track.pack_ids]
        if any(p is None for p in packs):
            raise Gone(f"Some packs of *{escape(track.title)}* are not loaded just now; try again later.")
        first = packs[0]
        learner = self.learning.learner(slack_user_id, now)
        enrollment_id, created = self.store.enroll_in_track(learner.id, first.id, track.id, now)
        delivered = self.store.delivered_lessons([enrollment_id])[enrollment_id]
        finished = next_lesson(first, delivered) is None
        schedule = self.learning.schedule(slack_user_id, now)
        next_at = next((at for pack, at in schedule.next_lessons if pack.id == first.id), None)
        log.info("%s enrolled in track %s (%s)", slack_user_id, track.id, first.id)
        return TrackEnrolled(track, first, packs, created, finished, None if finished else next_at, schedule.zone)


# -- text and blocks -----------------------------------------------------------------------------


def _people(user_ids: Sequence[str], limit: int = 40) -> str:
    shown = ", ".join(f"<@{uid}>" for uid in user_ids[:limit])
    return shown + (f" and {len(user_ids) - limit} more" if len(user_ids) > limit else "")


def _day(day: date) -> str:
    return f"{day:%a %d %b %Y}"


def created_text(outcome: CohortCreated) -> str:
    cohort, pack = outcome.cohort, outcome.pack
    late = ("at the cohort's current lesson" if cohort.join_mode == "current" else "at the first lesson")
    return (f"Cohort *{escape(cohort.name)}* created: *{escape(pack.title)}* ({len(pack.lessons)} lessons), "
            f"starting *{_day(outcome.first_day)}* at each member's lesson time ({pack.schedule.time} unless they "
            f"changed it) in their own time zone.\n"
            f"Add people with `/learn cohort add {escape(cohort.name)} @person …`, `… team <team>` or "
            f"`… channel #channel`. People added after it has started begin {late}.")


def added_text(outcome: MembersAdded) -> str:
    cohort = outcome.cohort
    lines = []
    if outcome.enrolled:
        lines.append(f"✅ Added to *{escape(cohort.name)}*: {_people(outcome.enrolled)}.")
    if outcome.moved:
        lines.append(f"↪️ Moved from their own schedule into the cohort's: {_people(outcome.moved)} "
                     "(lessons they already had are not sent again).")
    if outcome.already:
        lines.append(f"Already in the cohort: {_people(outcome.already)}.")
    if outcome.elsewhere:
        lines.append(f"⚠️ Taking this pack in another cohort, so left there: {_people(outcome.elsewhere)}.")
    if outcome.not_found:
        lines.append("❓ Not added: " + "; ".join(outcome.not_found[:20]) + ".")
    if outcome.enrolled or outcome.moved:
        if not outcome.started:
            lines.append(f"Lessons start on *{_day(first_lesson_day(cohort.start_on, outcome.pack.schedule.days))}*, "
                         "in each person's own time zone.")
        elif outcome.start is not None:
            number = (outcome.pack.lesson_index(outcome.start.id) or 0) + 1
            lines.append(f"They begin at the cohort's current lesson, {number} of {len(outcome.pack.lessons)}: "
                         f"*{escape(outcome.start.title)}*, at their next lesson time.")
        else:
            lines.append("They begin at the first lesson, at their next lesson time.")
    return "\n".join(lines) or "Nobody to add."


def _member_line(m: MemberStanding, total: int) -> str:
    right = f" · {m.accuracy:.0%} right" if m.accuracy is not None else ""
    joined = f" · joined at _{escape(truncate(m.joined_at, 60))}_" if m.joined_at else ""
    return f"<@{m.slack_user_id}> · {m.done} of {total} lessons done{right}{joined} · {escape(m.zone)}"


def _summary(status: CohortStatus) -> str:
    pack = status.pack
    people = f"{len(status.members)} {'person' if len(status.members) == 1 else 'people'}"
    if not status.started:
        return f"{people} · starts {_day(status.first_day)}"
    current = (f"current lesson {status.position} of {len(pack.lessons)}: *{escape(status.current.title)}*"
               if status.current else "no lesson yet")
    return (f"{people} · started {_day(status.first_day)} · {current} · "
            f"{len(status.behind)} behind · {len(status.not_started)} not started")


def status_text(status: CohortStatus) -> str:
    """The plain-text fallback of the status blocks (notifications, screen readers)."""
    return f"{status.cohort.name}: {_summary(status)}".replace("*", "")


def status_blocks(status: CohortStatus, *, max_blocks: int = 48) -> list[Block]:
    """A cohort's progress: who is behind, who has not started, then everyone's lessons and accuracy."""
    cohort, pack = status.cohort, status.pack
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"{cohort.name} — {pack.title}", 150)},
        context(_summary(status)),
    ]
    if status.started:
        blocks.append(section(f"*Behind* ({len(status.behind)}): "
                              + (_people([m.slack_user_id for m in status.behind]) or "nobody"),
                              block_id="cohort-behind"))
        blocks.append(section(f"*Not started* ({len(status.not_started)}): "
                              + (_people([m.slack_user_id for m in status.not_started]) or "nobody"),
                              block_id="cohort-not-started"))
    blocks.append({"type": "divider"})
    lines = [_member_line(m, len(pack.lessons)) for m in status.members] or ["Nobody yet: add people with "
                                                                            "`/learn cohort add`."]
    chunks = split_text("\n".join(lines), 2900)
    room = max_blocks - len(blocks)
    for chunk in chunks[:room]:
        blocks.append(section(chunk))
    if len(chunks) > room:
        blocks[-1] = context(f"…and more: {len(status.members)} people in all.")
    return blocks


def status_modal(status: CohortStatus) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Cohort progress", 24), "close": plain("Close", 24),
            "blocks": status_blocks(status, max_blocks=95)}


def message_modal(text: str) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Sprout", 24), "close": plain("Close", 24), "blocks": [section(text)]}


def cohorts_text(statuses: Sequence[CohortStatus]) -> str:
    if not statuses:
        return "No cohorts yet. `/learn cohort create <name> <pack-id> <YYYY-MM-DD>` starts one."
    lines = [f"• *{escape(s.cohort.name)}* ({escape(s.pack.title)}): {_summary(s)}" for s in statuses[:40]]
    return "*Cohorts*\n" + "\n".join(lines)


def cohorts_home_blocks(statuses: Sequence[CohortStatus]) -> list[Block]:
    """For ``home_view(home, role_sections=…)``: a divider, a heading, a line and a button per cohort."""
    blocks: list[Block] = [{"type": "divider"}, section("*🧑‍🤝‍🧑 Cohorts*", block_id="home-cohorts")]
    if not statuses:
        blocks.append(context("No cohorts yet: `/learn cohort create <name> <pack-id> <YYYY-MM-DD>`."))
        return blocks
    for s in statuses:
        blocks.append(section(
            f"*{escape(s.cohort.name)}* · {escape(s.pack.title)}\n{_summary(s)}",
            block_id=f"home-cohort:{s.cohort.id}",
            accessory=button("Progress", COHORT_STATUS_ACTION, encode(c=s.cohort.id)),
        ))
    return blocks


def tracks_text(tracks: Iterable[Track], catalog: Iterable[Pack]) -> str:
    """The tracks, each with its packs in order, for ``/learn packs``."""
    return render("tracks.md.j2", tracks=list(tracks), titles={pack.id: pack.title for pack in catalog})


def track_enrolled_text(outcome: TrackEnrolled) -> str:
    steps = []
    for i, (step, pack) in enumerate(zip(outcome.track.packs, outcome.packs, strict=True)):
        gate = ""
        if i and step.gate == "certificate":
            gate = f" — after the *{escape(outcome.packs[i - 1].title)}* certificate"
        elif i:
            gate = f" — after finishing *{escape(outcome.packs[i - 1].title)}*"
        steps.append(f"{i + 1}. *{escape(pack.title)}*{gate}")
    head = (f"You're on the *{escape(outcome.track.title)}* track:" if outcome.created
            else f"You're following the *{escape(outcome.track.title)}* track:")
    if outcome.finished_first:
        when = (f"You have had every lesson of *{escape(outcome.pack.title)}*; the next pack starts once it is "
                "done.")
    elif outcome.next_at is not None:
        when = (f"Your next lesson of *{escape(outcome.pack.title)}* arrives *{outcome.next_at:%a %d %b, %H:%M}* "
                f"({escape(outcome.zone)}). Each next pack starts at your usual lesson time.")
    else:
        when = f"Lessons of *{escape(outcome.pack.title)}* arrive when your lessons resume."
    return "\n".join([head, *steps, when])


__all__ = [
    "COHORT_STATUS_ACTION",
    "USAGE",
    "CohortCreated",
    "CohortService",
    "CohortStatus",
    "CreateRequest",
    "Directory",
    "MemberStanding",
    "MembersAdded",
    "SlackDirectory",
    "Target",
    "TrackEnrolled",
    "added_text",
    "cohorts_home_blocks",
    "cohorts_text",
    "created_text",
    "message_modal",
    "parse_create",
    "parse_targets",
    "split_name",
    "status_blocks",
    "status_modal",
    "status_text",
    "track_enrolled_text",
    "tracks_text",
]
