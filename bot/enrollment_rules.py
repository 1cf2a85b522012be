"""Enrollment rules: "everyone who joins #new-hires gets onboarding-essentials", "every member of
@security-champions gets security-basics", "everyone whose roster department is Sales gets sales-basics".

A facilitator adds a rule (a draft, off), previews whom it matches, then turns it on: the people it matches
now are enrolled at once, and people who match later (a channel joined, a user group changed, a roster
imported or synced) when Sprout hears of it. Each person once per rule (``rule_enrollments``); leavers never.

Slack is behind ``Membership`` (``SlackMembership``: conversations.members, usergroups.users.list,
users.info), so the use cases here take no payloads and return values that ``*_text`` functions render.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.admin import Member, member
from bot.mrkdwn import escape, truncate
from bot.paging import bounded_pages
from content_packs.catalog import Catalog
from content_packs.schema import Pack
from db.enrollment_rules import RuleView
from learning.enrollment_rules import (
    ATTRIBUTE_KINDS,
    Person,
    RuleSpec,
    Who,
    parse_add,
    select,
)
from learning.errors import NotAllowed, SproutError

log = logging.getLogger(__name__)

ROLES = ("facilitator",)  # and admins (``LearningService.require``)
PREVIEW_NAMES = 40

USAGE = (
    "*Enrollment rules* (facilitators and admins)\n"
    "• `/learn rules` — the rules, on and off\n"
    "• `/learn rules add channel #new-hires <pack-id>` — everyone who is in or joins the channel\n"
    "• `/learn rules add group @security-champions <pack-id>` — every member of the user group\n"
    "• `/learn rules add department Sales <pack-id>` — everyone whose roster department is Sales "
    "(or `team Platform`)\n"
    "• `/learn rules preview <n>` — whom rule <n> matches · `/learn rules on <n>` · `/learn rules off <n>`\n"
    "A new rule is off until you turn it on. It enrolls each person once: someone who leaves the pack "
    "is not enrolled again."
)


class Membership(Protocol):
    """Who is in a channel or a user group, and who a Slack user is."""

    def channel(self, who: Who) -> tuple[str, str]: ...  # (id, name); SproutError when there is none

    def group(self, who: Who) -> tuple[str, str]: ...  # (id, handle)

    def channel_members(self, channel_id: str) -> list[str]: ...

    def group_members(self, group_id: str) -> list[str]: ...

    def member(self, user_id: str) -> Member | None: ...


class SlackMembership:
    """``Membership`` from the Web API."""

    def __init__(self, client: WebClient, *, page_size: int = 200) -> None:
        self.client = client
        self.page_size = page_size

    @staticmethod
    def _error(exc: SlackApiError) -> str:
        return (exc.response.get("error") if exc.response is not None else None) or str(exc)

    def channel(self, who: Who) -> tuple[str, str]:
        from bot.prompts import SlackChannels

        channels = SlackChannels(self.client)
        found = channels.by_id(who.id) if who.id else channels.by_name(who.name or "")
        if found is None:
            shown = f"<#{who.id}>" if who.id else f"#{escape(who.name or '')}"
            raise SproutError(f"I can't find the channel {shown}. If it is private, invite me to it first "
                              "(`/invite @Sprout`).")
        return found.id, found.name

    def group(self, who: Who) -> tuple[str, str]:
        try:
            groups = self.client.usergroups_list(include_disabled=False).get("usergroups") or []
        except SlackApiError as exc:
            raise SproutError(self._group_refusal(self._error(exc))) from None
        for group in groups:
            if (who.id and group.get("id") == who.id) or (not who.id and group.get("handle") == who.name):
                return group["id"], group.get("handle") or group["id"]
        shown = escape(who.name or who.id or "")
        raise SproutError(f"There is no user group @{shown} in this workspace (or it is disabled).")

    @staticmethod
    def _group_refusal(error: str) -> str:
        if error == "missing_scope":
            return ("Slack refused to list user groups: the app needs the usergroups:read scope (reinstall it "
                    "with the manifest's scopes).")
        if error == "plan_upgrade_required":
            return "This workspace's Slack plan has no user groups."
        if error == "no_such_subteam":
            return "That user group no longer exists in this workspace."
        return f"Slack refused to list the user group's members ({escape(error)})."

    def channel_members(self, channel_id: str) -> list[str]:
        found: list[str] = []
        try:
            for turn in bounded_pages(f"conversations.members of {channel_id}"):
                page = self.client.conversations_members(channel=channel_id, limit=self.page_size,
                                                       cursor=turn.cursor)
                found.extend(page.get("members") or [])
                if not turn.next((page.get("response_metadata") or {}).get("next_cursor")):
                    break
        except SlackApiError as exc:
            error = self._error(exc)
            raise SproutError(f"I can't read the members of <#{channel_id}> ({escape(error)}). If it is private, "
                              "invite me to it (`/invite @Sprout`).") from None
        return found

    def group_members(self, group_id: str) -> list[str]:
        try:
            return list(self.client.usergroups_users_list(usergroup=group_id).get("users") or [])
        except SlackApiError as exc:
            raise SproutError(self._group_refusal(self._error(exc))) from None

    def member(self, user_id: str) -> Member | None:
        try:
            return member(self.client.users_info(user=user_id)["user"])
        except SlackApiError as exc:
            log.info("users.info %s: %s", user_id, self._error(exc))
            return None


@dataclass(frozen=True)
class RuleLine:
    rule: RuleView
    pack: Pack | None


@dataclass(frozen=True)
class Added:
    rule: RuleView
    pack: Pack
    created: bool


@dataclass(frozen=True)
class Preview:
    rule: RuleView
    pack: Pack
    enroll: list[Person]  # enrolled if the rule were applied now
    enrolled_already: int  # matched, and in the pack already (the rule records them, enrolls nobody)
    applied: int  # the rule applied to them before
    left: int  # leavers: never enrolled


@dataclass(frozen=True)
class TurnedOn:
    rule: RuleView
    pack: Pack
    enrolled: int
    was_on: bool


@dataclass
class Prepared:
    """People matched by a rule, with the learners for those new to Sprout made first (outside any unit
    of work: it asks Slack who they are)."""

    people: list[Person] = field(default_factory=list)


class EnrollmentRules:
    def __init__(self, *, service: Any, store: Any, catalog: Catalog, tracks: Any = None,
                 membership: Membership | None = None) -> None:
        self.service = service  # bot.service.LearningService (``require``), or None from the command line
        self.store = store  # a Store with EnrollmentRuleRecords
        self.catalog = catalog
        self.tracks = tracks  # content_packs.tracks.TrackCatalog, or None
        self.membership = membership

    # -- checks -------------------------------------------------------------------------------

    def _require(self, actor: str, now: datetime, action: str = "manage enrollment rules") -> None:
        self.service.require(actor, ROLES, action, now)

    def gate(self, pack_id: str) -> str | None:
        """Why a rule may not enroll people in this pack, or None. A pack that comes after another in a
        track is refused: a rule enrolls people who have not chosen it and may not have taken the pack
        before, and only an admin enrolling one person may pass a track's gate."""
        if self.tracks is None:
            return None
        for track in self.tracks:
            i = track.position(pack_id) or 0
            if i > 0:
                before = self.catalog.get(track.packs[i - 1].pack)
                before_title = escape(before.title) if before else f"`{track.packs[i - 1].pack}`"
                return (f"In the *{escape(track.title)}* track this pack comes after *{before_title}*, so a rule "
                        f"can't enroll people in it past that gate. Make the rule for "
                        f"`{track.packs[0].pack}` (the track's first pack) instead; an admin can still enroll "
                        f"one person directly (`/learn enroll {pack_id} @person`).")
        return None

    def _pack(self, pack_id: str) -> Pack:
        pack = self.catalog.get(pack_id)
        if pack is None:
            known = ", ".join(f"`{i}`" for i in self.catalog.ids()) or "none yet"
            raise SproutError(f"There is no pack called `{escape(truncate(pack_id, 64))}`. Packs: {known}.")
        return pack

    def _rule(self, text: str) -> RuleView:
        word = text.strip().lstrip("#")
        rule = self.store.enrollment_rule(int(word)) if word.isdigit() and len(word) < 10 else None
        if rule is None:
            raise SproutError(f"There is no rule {escape(truncate(text.strip(), 20)) or 'number'}: "
                              "`/learn rules` lists them.")
        return rule

    def _membership(self) -> Membership:
        if self.membership is None:
            raise SproutError("Channel and user group rules need Slack (SLACK_BOT_TOKEN).")
        return self.membership

    # -- making rules ---------------------------------------------------------------------------

    def resolve(self, spec: RuleSpec) -> tuple[str, str]:
        """(target, label) of a rule: the channel's or user group's id and name, looked up in Slack, or the
        roster value as typed."""
        who = spec.who
        if who.kind in ATTRIBUTE_KINDS:
            assert who.value is not None
            return who.value, who.value
        if who.kind == "channel":
            return self._membership().channel(who)
        return self._membership().group(who)

    def create(self, spec: RuleSpec, *, created_by: str, now: datetime,
               resolved: tuple[str, str] | None = None) -> Added:
        pack = self._pack(spec.pack_id)
        gated = self.gate(pack.id)
        if gated is not None:
            raise NotAllowed(gated)
        target, label = resolved or self.resolve(spec)
        rule, created = self.store.add_rule(kind=spec.who.kind, target=target, label=label, pack_id=pack.id,
                                            created_by=created_by, now=now)
        if created:
            self.store.audit(actor=created_by, action="rule_add", subject=str(rule.id),
                             detail=json.dumps({"kind": rule.kind, "target": rule.target, "pack": pack.id}), now=now)
        return Added(rule, pack, created)

    def add(self, actor: str, args: str, now: datetime) -> Added:
        self._require(actor, now)
        return self.create(parse_add(args), created_by=actor, now=now)

    def lines(self, actor: str, now: datetime) -> list[RuleLine]:
        self._require(actor, now)
        return [RuleLine(rule, self.catalog.get(rule.pack_id)) for rule in self.store.enrollment_rules()]

    # -- whom a rule matches ---------------------------------------------------------------------

    def _member_ids(self, rule: RuleView) -> list[str]:
        if rule.kind == "channel":
            return self._membership().channel_members(rule.target)
        return self._membership().group_members(rule.target)

    def _people(self, user_ids: list[str], *, create: bool, now: datetime) -> list[Person]:
        """These Slack users as Sprout knows them. Someone new to Sprout is asked about (users.info):
        bots and deactivated accounts are not people to enroll; with ``create`` the others become
        learners, as ``team_join`` would make them."""
        known = self.store.people(user_ids)
        people: list[Person] = []
        for user_id in dict.fromkeys(user_ids):
            if user_id in known:
                people.append(known[user_id])
                continue
            found = self.membership.member(user_id) if self.membership is not None else None
            if found is None or found.is_bot or found.deleted:
                continue
            if create:
                self.store.sync_member(found.slack_user_id, found.name, found.email, found.timezone, True, now)
                made = self.store.people([user_id]).get(user_id)
                if made is not None:
                    people.append(made)
            else:
                people.append(Person(user_id, None, found.name, True))
        return people

    def matched(self, rule: RuleView, *, create: bool, now: datetime) -> list[Person]:
        if rule.kind in ATTRIBUTE_KINDS:
            return self.store.people_with(rule.kind, rule.target)
        return self._people(self._member_ids(rule), create=create, now=now)

    def preview(self, actor: str, text: str, now: datetime) -> Preview:
        self._require(actor, now)
        rule = self._rule(text)
        pack = self._pack(rule.pack_id)
        selection = select(self.matched(rule, create=False, now=now), applied=self.store.rule_applied_to(rule.id))
        taken = self.store.pack_enrolled(pack.id, [p.learner_id for p in selection.enroll if p.learner_id])
        enroll = [p for p in selection.enroll if p.learner_id not in taken]
        return Preview(rule, pack, enroll, len(selection.enroll) - len(enroll), len(selection.applied),
                       len(selection.left))

    # -- applying -------------------------------------------------------------------------------

    def apply(self, rule: RuleView, people: list[Person], now: datetime) -> list[int]:
        """Enroll whom ``people`` holds that the rule has not applied to; joins the caller's unit of work.
        A rule whose pack is gone or became gated (a track reloaded) enrolls nobody, and says so in the log."""
        pack = self.catalog.get(rule.pack_id)
        if pack is None or self.gate(rule.pack_id) is not None:
            log.warning("rule %s enrolls nobody: pack %s is %s", rule.id, rule.pack_id,
                        "not loaded" if pack is None else "gated in a track")
            return []
        selection = select(people, applied=self.store.rule_applied_to(rule.id))
        ids = [p.learner_id for p in selection.enroll if p.learner_id is not None]
        enrolled = self.store.apply_rule(rule.id, rule.pack_id, ids, now) if ids else []
        if enrolled:
            log.info("rule %s enrolled %d in %s", rule.id, len(enrolled), rule.pack_id)
        return enrolled

    def turn_on(self, actor: str, text: str, now: datetime) -> TurnedOn:
        self._require(actor, now)
        rule = self._rule(text)
        pack = self._pack(rule.pack_id)
        gated = self.gate(pack.id)
        if gated is not None:
            raise NotAllowed(gated)
        people = self.matched(rule, create=True, now=now)  # Slack first, outside the unit of work
        with self.store.unit_of_work():  # on, and everyone it matches now enrolled: together or not at all
            self.store.set_rule_active(rule.id, True, now)
            enrolled = self.apply(rule, people, now)
            self.store.audit(actor=actor, action="rule_on", subject=str(rule.id),
                             detail=json.dumps({"enrolled": len(enrolled)}), now=now)
        return TurnedOn(self.store.enrollment_rule(rule.id) or rule, pack, len(enrolled), rule.active)

    def turn_off(self, actor: str, text: str, now: datetime) -> RuleLine:
        self._require(actor, now)
        rule = self._rule(text)
        self.store.set_rule_active(rule.id, False, now)
        self.store.audit(actor=actor, action="rule_off", subject=str(rule.id), detail=None, now=now)
        return RuleLine(self.store.enrollment_rule(rule.id) or rule, self.catalog.get(rule.pack_id))

    # -- people who match later --------------------------------------------------------------------

    def when_joined(self, user_id: str, channel_id: str, now: datetime) -> Callable[[], int] | None:
        """A member joined a channel: what to do inside the event's unit of work (None: no rule is for the
        channel). Asking Slack who they are happens here, before it."""
        rules = self.store.enrollment_rules(active_only=True, kind="channel", target=channel_id)
        if not rules:
            return None
        people = self._people([user_id], create=True, now=now)
        return lambda: sum(len(self.apply(rule, people, now)) for rule in rules)

    def when_group_changed(self, group_id: str, added: list[str], now: datetime) -> Callable[[], int] | None:
        """A user group gained members (``subteam_members_changed``): the same, for its rules."""
        rules = self.store.enrollment_rules(active_only=True, kind="group", target=group_id)
        if not rules or not added:
            return None
        people = self._people(added, create=True, now=now)
        return lambda: sum(len(self.apply(rule, people, now)) for rule in rules)

    def apply_attribute_rules(self, now: datetime) -> int:
        """The department and team rules, over the learners as the roster now has them (after an import);
        joins the caller's unit of work."""
        enrolled = 0
        for rule in self.store.enrollment_rules(active_only=True):
            if rule.kind in ATTRIBUTE_KINDS:
                enrolled += len(self.apply(rule, self.store.people_with(rule.kind, rule.target), now))
        return enrolled

    def apply_all(self, now: datetime) -> int:
        """Every rule that is on, over whom it matches now (the daily roster sync): what an event missed.
        A rule Slack refuses (a channel archived, a group deleted) is logged and the others carry on."""
        enrolled = 0
        for rule in self.store.enrollment_rules(active_only=True):
            try:
                people = self.matched(rule, create=True, now=now)
                with self.store.unit_of_work():
                    enrolled += len(self.apply(rule, people, now))
            except SproutError as exc:
                log.warning("rule %s (%s %s): %s", rule.id, rule.kind, rule.label, exc.message)
        return enrolled


# -- what the facilitator reads ---------------------------------------------------------------------


def whom(rule: RuleView) -> str:
    if rule.kind == "channel":
        return f"everyone in <#{rule.target}>"
    if rule.kind == "group":
        return f"every member of @{escape(rule.label)}"
    return f"everyone whose roster {rule.kind} is *{escape(rule.label)}*"


def _pack_title(pack: Pack | None, pack_id: str) -> str:
    return f"*{escape(pack.title)}*" if pack is not None else f"`{pack_id}` (not loaded)"


def rules_text(lines: list[RuleLine]) -> str:
    if not lines:
        return "No enrollment rules yet.\n\n" + USAGE
    out = ["*Enrollment rules*"]
    for line in lines:
        rule = line.rule
        state = "🟢 on" if rule.active else "⚪ off"
        out.append(f"• *#{rule.id}* {state} — {whom(rule)} gets {_pack_title(line.pack, rule.pack_id)}"
                   f" · {rule.enrolled} enrolled by it")
    out.append("`/learn rules preview <n>` · `/learn rules on <n>` · `/learn rules off <n>`")
    return "\n".join(out)


def added_text(added: Added) -> str:
    rule = added.rule
    head = (f"Rule *#{rule.id}* (off): {whom(rule)} gets {_pack_title(added.pack, rule.pack_id)}." if added.created
            else f"That rule is already there: *#{rule.id}* ({'on' if rule.active else 'off'}).")
    return (f"{head} See whom it matches with `/learn rules preview {rule.id}`, then turn it on with "
            f"`/learn rules on {rule.id}`.")


def _names(people: list[Person]) -> str:
    shown = [escape(p.name) if p.name else f"<@{p.slack_user_id}>" for p in people[:PREVIEW_NAMES]]
    more = len(people) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def preview_text(preview: Preview) -> str:
    rule = preview.rule
    count = len(preview.enroll)
    lines = [f"Rule *#{rule.id}* ({'on' if rule.active else 'off'}): {whom(rule)} gets "
             f"{_pack_title(preview.pack, rule.pack_id)}."]
    if count:
        lines.append(f"*{count} {'person' if count == 1 else 'people'}* would be enrolled now: {_names(preview.enroll)}.")
    else:
        lines.append("Nobody would be enrolled now.")
    others = []
    if preview.enrolled_already:
        others.append(f"{preview.enrolled_already} in the pack already")
    if preview.applied:
        others.append(f"{preview.applied} enrolled by this rule before (never twice)")
    if preview.left:
        others.append(f"{preview.left} who left the workspace (never enrolled)")
    if others:
        lines.append("Also matched: " + "; ".join(others) + ".")
    if not rule.active:
        lines.append(f"Turn it on with `/learn rules on {rule.id}`: they are enrolled at once, and whoever "
                     "matches later when Sprout hears of it.")
    return "\n".join(lines)


def turned_on_text(outcome: TurnedOn) -> str:
    rule = outcome.rule
    enrolled = f"{outcome.enrolled} {'person' if outcome.enrolled == 1 else 'people'} enrolled now"
    head = f"Rule *#{rule.id}* was on already" if outcome.was_on else f"🟢 Rule *#{rule.id}* is on"
    return (f"{head}: {whom(rule)} gets {_pack_title(outcome.pack, rule.pack_id)} — {enrolled}; whoever matches "
            f"later is enrolled when Sprout hears of it, once each. `/learn rules off {rule.id}` stops it.")


def turned_off_text(line: RuleLine) -> str:
    return (f"⚪ Rule *#{line.rule.id}* is off: nobody new is enrolled by it. Those it enrolled stay enrolled. "
            f"`/learn rules on {line.rule.id}` turns it on again.")


def subcommand(rules: EnrollmentRules) -> Callable[[Any], None]:
    """``/learn rules …``."""

    def run(ctx: Any) -> None:
        verb, _, rest = ctx.args.strip().partition(" ")
        verb = verb.lower()
        if verb in ("", "list"):
            ctx.reply(rules_text(rules.lines(ctx.user_id, ctx.now)))
        elif verb == "add":
            ctx.reply(added_text(rules.add(ctx.user_id, rest, ctx.now)))
        elif verb == "preview":
            ctx.reply(preview_text(rules.preview(ctx.user_id, rest, ctx.now)))
        elif verb == "on":
            ctx.reply(turned_on_text(rules.turn_on(ctx.user_id, rest, ctx.now)))
        elif verb == "off":
            ctx.reply(turned_off_text(rules.turn_off(ctx.user_id, rest, ctx.now)))
        else:
            rules._require(ctx.user_id, ctx.now)
            ctx.reply(USAGE)

    return run


__all__ = ["EnrollmentRules", "Membership", "SlackMembership", "subcommand"]
