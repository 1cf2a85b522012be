"""Coaches in Slack: assigning coachees (``/learn coach``), a learner's choice to share their notes with their
coach (``/learn share coach on|off`` and a Home button), the coach's "Your coachees" Home section and their
weekly coach digest (the outbox kind "coach_digest"), and the Block Kit that shows them.

Who may do what is checked here, on the server, against the stored role, whatever the person could see:
admins and facilitators assign coaches; the person assigned must hold the coach role; a coach's views are
built from their own assignments only (``db.coaching`` starts every query there), and a learner's
reflections and comments reach a coach only while the learner shares them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.admin import parse_mention
from bot.blocks import Block, button, context, encode, plain, section
from bot.digest import fit_blocks
from bot.mrkdwn import escape, truncate
from bot.service import LearningService
from content_packs.catalog import Catalog
from db.coaching import CoachingRecords
from db.store import OutboxItem, Store
from learning.coaching import (
    MONTH,
    ROLE,
    WEEK,
    Coachee,
    SharedNote,
    Struggle,
    in_order,
    needs_a_word,
    parse_share,
)
from learning.digest import week_from_payload
from learning.errors import SproutError
from learning.schedule import zone
from scheduler.sending import OutgoingMessage

log = logging.getLogger(__name__)

ASSIGNERS = ("facilitator",)  # LearningService.require lets admins in too
COACH_DIGEST = "coach_digest"  # outbox kind
SHARE_ACTION = "coach_share"
HOME_COACHEES = 15  # coachees drawn on the Home tab (it holds 100 blocks in all)
DIGEST_COACHEES = 40  # coachees drawn in a digest (50 blocks, with its header and footer)
NAME_CHARS = 60
PROMPT_CHARS = 120
NOTE_CHARS = 300

USAGE = ("Usage (admins and facilitators): `/learn coach @coach @learner [@learner …]` makes them that coach's "
         "coachees (a learner has one coach; this replaces another), `/learn coach @coach remove @learner …` takes "
         "them off, `/learn coach @coach` lists their coachees.")


@dataclass(frozen=True)
class CoacheeView:
    """One coachee with what their coach may see of them."""

    coachee: Coachee
    reasons: list[str]
    struggles: list[Struggle]
    notes: list[SharedNote] | None  # None: they keep their notes private


class CoachingService:
    def __init__(self, *, learning: LearningService, records: CoachingRecords, store: Store,
                 catalog: Catalog) -> None:
        self.learning = learning
        self.records = records
        self.store = store
        self.catalog = catalog

    # -- /learn coach ----------------------------------------------------------------------------

    def command(self, actor: str, args: str, now: datetime) -> tuple[str, list[str]]:
        """``/learn coach …``: the reply, and the people whose Home tab changed."""
        self.learning.require(actor, ASSIGNERS, "assign coaches", now)
        words = args.split()
        coach_id = parse_mention(words[0]) if words else None
        if coach_id is None:
            raise SproutError(USAGE)
        rest = words[1:]
        remove = bool(rest) and rest[0].lower() == "remove"
        if remove:
            rest = rest[1:]
            if not rest:
                raise SproutError(USAGE)
        learner_ids = []
        for word in rest:
            found = parse_mention(word)
            if found is None:
                raise SproutError(f"`{escape(truncate(word, 40))}` is not a person. {USAGE}")
            learner_ids.append(found)
        coach = self.store.learner(coach_id)
        if coach is None or coach.role != ROLE:
            role = coach.role if coach is not None else "not in Sprout yet"
            raise SproutError(f"<@{coach_id}> is not a coach in Sprout ({'a ' + role if coach else role}): an admin "
                              f"can make them one with `/learn role <@{coach_id}> coach`.")
        if not learner_ids:
            return self._list(coach.id, coach_id), []
        if coach_id in learner_ids:
            raise SproutError("A coach cannot be their own coachee.")
        learners = [self.learning.learner(uid, now) for uid in dict.fromkeys(learner_ids)]
        if remove:
            removed = set(self.records.unassign(coach.id, [lr.id for lr in learners]))
            self.store.audit(actor=actor, action="coach_remove", subject=coach_id,
                             detail=" ".join(lr.slack_user_id for lr in learners if lr.id in removed), now=now)
            lines = [f"• <@{lr.slack_user_id}>: " + ("no longer coached by them" if lr.id in removed
                                                     else "was not their coachee; nothing changed")
                     for lr in learners]
            return f"Coachees of <@{coach_id}>:\n" + "\n".join(lines), [coach_id] + [
                lr.slack_user_id for lr in learners if lr.id in removed]
        outcome = self.records.assign(coach.id, [lr.id for lr in learners], by=actor, now=now)
        previous = {a.learner_id: a.previous_coach_id for a in outcome}
        self.store.audit(actor=actor, action="coach_assign", subject=coach_id,
                         detail=" ".join(lr.slack_user_id for lr in learners), now=now)
        lines, changed, others = [], [coach_id], []
        for lr in learners:
            before = previous.get(lr.id)
            if before == coach.id:
                lines.append(f"• <@{lr.slack_user_id}>: already their coachee")
                continue
            changed.append(lr.slack_user_id)
            if before is None:
                lines.append(f"• <@{lr.slack_user_id}>: now their coachee")
            else:
                was = self.store.learner_by_id(before)
                if was is not None:
                    others.append(was.slack_user_id)
                lines.append(f"• <@{lr.slack_user_id}>: now their coachee (their coach was "
                             f"{f'<@{was.slack_user_id}>' if was else 'someone else'}; their notes are private "
                             "again until they share them)")
        return (f"Coachees of <@{coach_id}>:\n" + "\n".join(lines)
                + "\nThey see their progress on their Home tab and in a weekly digest; reflections and comments "
                  "only of those who share them (`/learn share coach on`)."), changed + others

    def _list(self, coach_learner_id: int, coach_slack_id: str) -> str:
        names = self.records.coachee_names(coach_learner_id)
        if not names:
            return f"<@{coach_slack_id}> has no coachees yet. `/learn coach <@{coach_slack_id}> @learner` adds one."
        lines = [f"• <@{uid}>" + ("" if active else " (left the workspace)") for uid, _, active in names[:50]]
        more = f"\n…and {len(names) - 50} more" if len(names) > 50 else ""
        return f"Coachees of <@{coach_slack_id}> ({len(names)}):\n" + "\n".join(lines) + more

    # -- the learner's choice --------------------------------------------------------------------

    def share(self, slack_user_id: str, shares: bool, now: datetime) -> tuple[str, str]:
        """The learner's choice: the reply, and their coach's Slack id (whose Home must be drawn again at
        once: a published Home tab stays on Slack's side, notes and all, until it is replaced)."""
        learner = self.learning.learner(slack_user_id, now)
        coach = self.records.coach_of(learner.id)
        if coach is None or not self.records.set_sharing(learner.id, shares, now):
            raise SproutError("You have no coach in Sprout, so there is no one to share with. Your reflections "
                              "and comments stay yours.")
        self.store.audit(actor=slack_user_id, action="coach_share", subject=coach.slack_user_id,
                         detail="on" if shares else "off", now=now)
        if shares:
            return (f"👀 Your coach <@{coach.slack_user_id}> now sees your reflections and comments, beside your "
                    "progress. `/learn share coach off` makes them private again at once."), coach.slack_user_id
        return (f"🔒 Your reflections and comments are private: <@{coach.slack_user_id}> sees your progress and the "
                "questions you miss, not your words. `/learn share coach on` shares them."), coach.slack_user_id

    def share_command(self, slack_user_id: str, args: str, now: datetime) -> tuple[str, str]:
        return self.share(slack_user_id, parse_share(args), now)

    # -- what a coach sees -----------------------------------------------------------------------

    def coachee_views(self, coach_learner_id: int, *, week_start: datetime, until: datetime,
                      notes_since: datetime) -> list[CoacheeView]:
        """The coach's coachees, those who may need a word first: three queries, whatever their number."""
        month_start = until - MONTH
        coachees = in_order(self.records.coachees(coach_learner_id, week_start=week_start, month_start=month_start,
                                                  until=until), until)
        struggles = self.records.struggles(coach_learner_id, since=month_start, until=until)
        notes = self.records.shared_notes(coach_learner_id, since=notes_since, until=until)
        return [CoacheeView(c, needs_a_word(c, until), struggles.get(c.learner_id, []),
                            notes.get(c.learner_id, []) if c.shares_notes else None) for c in coachees]

    def home_blocks(self, slack_user_id: str, now: datetime) -> list[Block]:
        """The Home tab's coaching sections: "Your coach" for a learner who has one, and "Your coachees" for
        a coach (stored role coach: the coachees' figures are theirs to see, not an admin's)."""
        learner = self.learning.learner(slack_user_id, now)
        out: list[Block] = []
        coach = self.records.coach_of(learner.id)
        if coach is not None:
            out += your_coach_blocks(coach.slack_user_id, coach.shares_notes)
        if learner.role == ROLE:
            views = self.coachee_views(learner.id, week_start=now - WEEK, until=now, notes_since=now - MONTH)
            out += coachees_home_blocks(views, zone_name=self.learning.zone_of(learner), catalog=self.catalog)
        return out

    # -- the weekly coach digest (outbox kind "coach_digest") ------------------------------------

    def render_digest(self, item: OutboxItem) -> OutgoingMessage | None:
        """A coach's week. None (nothing to send) when they are no longer an active coach with coachees."""
        if item.learner_id is None or not item.payload:
            return None
        coach = self.records.coach(item.learner_id)
        if coach is None or not coach.active or coach.role != ROLE or coach.coachees == 0:
            return None
        week = week_from_payload(item.payload)
        views = self.coachee_views(coach.id, week_start=week.start, until=week.end, notes_since=week.start)
        text, blocks_ = coach_digest_message(views, week_label=f"{week.start_local:%a %d %b} – "
                                             f"{week.last_local:%a %d %b %Y}", zone_name=week.zone,
                                             catalog=self.catalog)
        return OutgoingMessage(channel=item.channel, text=text, blocks=blocks_)

    def renderers(self) -> dict[str, Any]:
        return {COACH_DIGEST: self.render_digest}


# -- Block Kit ---------------------------------------------------------------------------------------


def your_coach_blocks(coach_slack_id: str, shares: bool) -> list[Block]:
    """The learner's side: who their coach is, what the coach sees, and the switch for their notes."""
    if shares:
        state = "👀 Your coach sees your reflections and comments too."
        toggle = button("Stop sharing my notes", SHARE_ACTION, encode(on=0))
    else:
        state = "🔒 Your reflections and comments are private (only you see them)."
        toggle = button("Share my notes with my coach", SHARE_ACTION, encode(on=1), style="primary")
    return [
        {"type": "divider"},
        section(f"*🤝 Your coach*: <@{coach_slack_id}>\nThey see your lessons done, accuracy and the questions you "
                f"miss, to help you along.\n{state}", block_id="home-your-coach", accessory=toggle),
    ]


def _when(at: datetime | None, zone_name: str) -> str:
    return "no answer yet" if at is None else f"last active {at.astimezone(zone(zone_name)):%a %d %b}"


def _lesson(catalog: Catalog, pack_id: str, lesson_id: str) -> str:
    lesson = catalog.lesson(pack_id, lesson_id)
    return lesson.title if lesson is not None else f"{pack_id} / {lesson_id}"


REASONS = {"silent": "no answer in 7+ days", "accuracy": "under half right lately"}


def coachee_text(view: CoacheeView, *, zone_name: str, catalog: Catalog, week: str) -> str:
    """One coachee as mrkdwn: everything a person typed or a pack author wrote is escaped."""
    c = view.coachee
    name = escape(truncate(c.name or c.slack_user_id, NAME_CHARS))
    flag = f" · ⚠️ {', '.join(REASONS[r] for r in view.reasons)}" if view.reasons else ""
    accuracy = f"{c.accuracy:.0%} right ({c.answers_month} answers, 30 days)" if c.accuracy is not None \
        else "no answers in 30 days"
    lines = [f"*{name}* (<@{c.slack_user_id}>){flag}",
             f"Lessons: *{c.lessons_week}* {week} · {c.lessons_month} in 30 days · {accuracy} · "
             f"{_when(c.last_active_at, zone_name)}"]
    if view.struggles:
        missed = "; ".join(f"“{escape(truncate(s.prompt, PROMPT_CHARS))}” ({s.wrong} of {s.answers} wrong, "
                           f"{escape(truncate(_lesson(catalog, s.pack_id, s.lesson_id), 60))})"
                           for s in view.struggles)
        lines.append(f"Struggles with: {missed}")
    if view.notes is None:
        lines.append("🔒 Keeps their reflections and comments private.")
    elif view.notes:
        for note in view.notes:
            icon = "💭" if note.kind == "reflection" else "💬"
            lines.append(f"{icon} “{escape(truncate(note.text, NOTE_CHARS))}” "
                         f"({escape(truncate(_lesson(catalog, note.pack_id, note.lesson_id), 60))})")
    else:
        lines.append("👀 Shares their notes with you; none written lately.")
    return truncate("\n".join(lines), 3000)


def coachees_home_blocks(views: Sequence[CoacheeView], *, zone_name: str, catalog: Catalog) -> list[Block]:
    blocks: list[Block] = [{"type": "divider"}, section(
        f"*🧑‍🏫 Your coachees* ({len(views)})" if views else
        "*🧑‍🏫 Your coachees*\nNo one yet: an admin or a facilitator assigns them (`/learn coach @you @learner`).",
        block_id="home-coachees")]
    for view in views[:HOME_COACHEES]:
        blocks.append(section(coachee_text(view, zone_name=zone_name, catalog=catalog, week="in 7 days"),
                              block_id=f"coachee-{view.coachee.learner_id}"))
    if len(views) > HOME_COACHEES:
        blocks.append(context(f"…and {len(views) - HOME_COACHEES} more: those who may need a word come first."))
    if views:
        blocks.append(context("Reflections and comments appear only for coachees who choose to share them."))
    return blocks


def coach_digest_message(views: Sequence[CoacheeView], *, week_label: str, zone_name: str,
                         catalog: Catalog) -> tuple[str, list[Block]]:
    """The weekly DM: each coachee's week, those who may need a word first, within Slack's limits."""
    flagged = sum(1 for v in views if v.reasons)
    blocks: list[Block] = [
        {"type": "header", "block_id": "coach-digest-header", "text": plain("🤝 Your coachees' week", 150)},
        context(f"{week_label} ({escape(zone_name)}) · {len(views)} coachee{'s' if len(views) != 1 else ''}"
                + (f" · {flagged} may need a word" if flagged else "")),
    ]
    for view in views[:DIGEST_COACHEES]:
        blocks.append(section(coachee_text(view, zone_name=zone_name, catalog=catalog, week="this week"),
                              block_id=f"coachee-{view.coachee.learner_id}"))
    if len(views) > DIGEST_COACHEES:
        blocks.append(context(f"…and {len(views) - DIGEST_COACHEES} more on your Home tab."))
    blocks.append(context("Reflections and comments appear only for coachees who share them with you. "
                          "`/learn digest off` stops this digest; `/learn digest fri 17:00` moves it."))
    lessons = sum(v.coachee.lessons_week for v in views)
    text = (f"🤝 Your coachees' week, {week_label}: {len(views)} coachees, {lessons} lessons answered"
            + (f", {flagged} may need a word." if flagged else "."))
    return truncate(text, 3000), fit_blocks(blocks)
