"""Content health for authors: the flags (``learning.health``) over what the records show, their evidence,
marking one handled, retiring a lesson, and their place on a facilitator's Home tab.

A flag is named by a short key (a hash of its kind, pack, lesson and subject), so a button carries no URL
or question text; a click finds the flag again among the current ones, and a flag that has gone meanwhile
(handled by someone else, or fixed) says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.blocks import Block, button, context, encode, plain, section
from bot.mrkdwn import escape, truncate
from content_packs.catalog import Catalog
from db.health import ContentHealthRecords, Retirement
from db.reporting import Reporting
from learning.errors import Gone, SproutError
from learning.health import (
    UNOPENED_GRACE,
    WINDOW,
    Flag,
    lesson_flags,
    link_flags,
    ordered,
    question_flags,
)
from learning.itemstats import item_stats

EVIDENCE_ACTION = "health_evidence"
HANDLED_ACTION = "health_handled"
AUTHORS = ("facilitator", "admin")
HOME_FLAGS = 5  # on the Home tab; the report lists them all


def flag_key(flag: Flag) -> str:
    return hashlib.sha1(f"{flag.kind}\0{flag.pack_id}\0{flag.lesson_id}\0{flag.subject}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Evidence:
    """A flag's evidence as plain text (people's words as they wrote them): each surface escapes it its own
    way, Slack's mrkdwn in the modal, HTML in the report."""

    flag: Flag
    where: str  # "Pack › Lesson"
    parts: list[tuple[str, list[str]]]  # (heading, lines)


class ContentHealth:
    def __init__(self, *, records: ContentHealthRecords, reporting: Reporting, catalog: Catalog, service: Any) -> None:
        self.records = records
        self.reporting = reporting
        self.catalog = catalog
        self.service = service  # LearningService: who may act (the stored role)

    # -- what is flagged -----------------------------------------------------------------------------

    def links_in_use(self) -> dict[str, list[tuple[str, str]]]:
        """Every link of a lesson still served: URL → the (pack, lesson) pairs that show it."""
        used: dict[str, list[tuple[str, str]]] = {}
        for pack in self.catalog:
            for lesson in pack.lessons:
                for link in lesson.links:
                    used.setdefault(link.url, []).append((pack.id, lesson.id))
        return used

    def flags(self, now: datetime) -> list[Flag]:
        since = now - WINDOW
        signals = self.records.lesson_signals(since, now, sent_before=now - UNOPENED_GRACE)
        # item_sums reads [since, until): an answer given at this very instant counts too.
        stats = [item_stats(s) for s in self.reporting.item_sums(since, now + timedelta(microseconds=1),
                                                                  after_handled=True)]
        found = [*lesson_flags(signals), *question_flags(stats),
                 *link_flags(self.records.link_checks().values(), self.links_in_use())]
        served = {(p.id, lesson.id) for p in self.catalog for lesson in p.lessons}
        return ordered(f for f in found if (f.pack_id, f.lesson_id) in served)

    def where(self, flag: Flag) -> str:
        pack = self.catalog.get(flag.pack_id)
        lesson = self.catalog.lesson(flag.pack_id, flag.lesson_id)
        return f"{pack.title if pack else flag.pack_id} › {lesson.title if lesson else flag.lesson_id}"

    def find(self, key: str, now: datetime) -> Flag:
        flag = next((f for f in self.flags(now) if flag_key(f) == key), None)
        if flag is None:
            raise Gone("That flag is no longer raised: someone handled it, or the problem went away.")
        return flag

    # -- the evidence --------------------------------------------------------------------------------

    def evidence(self, flag: Flag, now: datetime) -> Evidence:
        handled = self.records.handled_at(flag.kind, flag.pack_id, flag.lesson_id, flag.subject)
        since = max(now - WINDOW, handled) if handled else now - WINDOW
        parts: list[tuple[str, list[str]]] = [(flag.label, [flag.detail])]
        if handled:
            parts.append(("Handled before", [f"on {handled:%Y-%m-%d}; what follows came after"]))
        if flag.kind == "question":
            lesson = self.catalog.lesson(flag.pack_id, flag.lesson_id)
            question = lesson.question(flag.subject) if lesson else None
            if question is not None:
                parts.append(("Question", [question.prompt, f"Right answer: {question.correct_text}"]))
            choices = self.records.choices(flag.pack_id, flag.lesson_id, flag.subject, since)
            total = sum(n for _, _, n in choices) or 1
            parts.append(("How learners answered", [
                f"{'✅' if right else '▫️'} {truncate(choice, 200)}: {n} ({n / total:.0%})"
                for choice, right, n in choices[:15]] or ["No answers in the period."]))
        elif flag.kind == "broken_link":
            check = self.records.link_checks(flag.subject).get(flag.subject)
            if check is not None:
                answer = f"HTTP {check.status}" if check.status is not None else (check.error or "no answer")
                parts.append(("Link", [flag.subject, f"Last checked {check.checked_at:%Y-%m-%d %H:%M} UTC: {answer}"]))
        else:
            said = [" · ".join(part for part in (
                        f"{'★' * f.rating}{'☆' * (5 - f.rating)}" if f.rating else "",
                        f.reason.replace("_", " ") if f.reason else "",
                        f"“{truncate(f.comment, 300)}”" if f.comment else "",
                    ) if part) for f in self.records.feedback(flag.pack_id, flag.lesson_id, since)]
            parts.append(("What learners said", said or ["No ratings or comments in the period."]))
        return Evidence(flag, self.where(flag), parts)

    # -- acting on a flag ----------------------------------------------------------------------------

    def handle(self, slack_user_id: str, key: str, now: datetime) -> Flag:
        self.service.require(slack_user_id, AUTHORS, "mark content flags handled", now)
        flag = self.find(key, now)
        self.records.handle(flag.kind, flag.pack_id, flag.lesson_id, flag.subject, by=slack_user_id, now=now)
        return flag

    def retire(self, pack_lesson: str, *, by: str, reason: str | None, now: datetime) -> Retirement:
        """``pack/lesson``: no learner receives it again (``packs retire``)."""
        pack_id, _, lesson_id = pack_lesson.strip().partition("/")
        pack = self.catalog.loaded(pack_id)
        if pack is None:
            raise SproutError(f"No pack {pack_id!r} is loaded (packs: {', '.join(self.catalog.ids()) or 'none'}).")
        if not lesson_id or pack.lesson(lesson_id) is None:
            raise SproutError(f"Pack {pack_id!r} has no lesson {lesson_id!r} "
                              f"(lessons: {', '.join(lesson.id for lesson in pack.lessons)}).")
        done = self.records.retire(pack_id, lesson_id, by=by, reason=reason, now=now)
        self.catalog.set_retired(self.records.retired())
        return done

    # -- the Home tab --------------------------------------------------------------------------------

    def home_blocks(self, slack_user_id: str, now: datetime) -> list[Block]:
        """Facilitators' and admins' Home section: the flags to read first. Empty for anyone else."""
        learner = self.service.learner(slack_user_id, now)
        if self.service.role_of(learner) not in AUTHORS:
            return []
        return home_blocks([(f, escape(self.where(f))) for f in self.flags(now)])


def home_blocks(flags: Sequence[tuple[Flag, str]], *, limit: int = HOME_FLAGS) -> list[Block]:
    head = section("*🩺 Content health*\n" + (
        f"{len(flags)} thing{'s' if len(flags) != 1 else ''} to look at in the last 90 days of records"
        if flags else "Nothing flagged: ratings, reports, questions and links look fine."), block_id="home-health")
    blocks: list[Block] = [{"type": "divider"}, head]
    for flag, where in flags[:limit]:
        key = flag_key(flag)
        blocks.append(section(f"*{flag.label}* · {where}\n{escape(flag.detail)}"))
        blocks.append({"type": "actions", "block_id": f"health:{key}", "elements": [
            button("Evidence", EVIDENCE_ACTION, key),
            button("Mark handled", HANDLED_ACTION, key),
        ]})
    if len(flags) > limit:
        blocks.append(context(f"{len(flags) - limit} more in the organisation report (`sprout report`)."))
    return blocks


def evidence_modal(evidence: Evidence) -> dict[str, Any]:
    blocks: list[Block] = [section(f"*{escape(evidence.where)}*")]
    for heading, lines in evidence.parts[:20]:
        bullet = "• " if len(lines) > 1 else ""
        blocks.append(section(truncate(f"*{escape(heading)}*\n" + "\n".join(bullet + escape(line) for line in lines),
                                       3000)))
    return {"type": "modal", "title": plain("Evidence", 24), "close": plain("Close", 24), "blocks": blocks[:100],
            "private_metadata": encode(k=flag_key(evidence.flag))}


def report_rows(health: ContentHealth, now: datetime) -> list[dict[str, Any]]:
    """The organisation report's content-health table: every flag with its evidence (plain text; the
    template escapes it)."""
    rows = []
    for flag in health.flags(now):
        evidence = health.evidence(flag, now)
        rows.append({"label": flag.label, "kind": flag.kind, "where": evidence.where, "pack": flag.pack_id,
                     "lesson": flag.lesson_id, "detail": flag.detail, "parts": evidence.parts[1:]})
    return rows
