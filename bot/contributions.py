"""Contributions: anyone proposes a question, a link or a short lesson for a pack (``/learn suggest``), the
facilitators review them from their Home tab (and a weekly note), and what they accept becomes content.

- The form checks a contribution as the pack loader checks a pack item (the same pydantic models), so what
  is accepted always loads; an error names the field (``response_action: errors``). Lesson bodies take
  https links only, like a pack's links.
- One record per submitted form: the record's key is the modal's view id, so a double submit finds it.
- Reviewing is for facilitators and admins, checked against the stored role when the review form opens
  and again when it is submitted. A decision is taken once (the record moves from "proposed" only once);
  accepting writes the item into the pack's contributions file (``content_packs.contributions``) in the
  unit of work that records it, and queues the contributor's DM there too (sent once, by its dedupe key).
- A contributor sees their own contributions on their Home tab, never anyone else's pending ones.
- Everything a person typed is escaped wherever it is shown.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from bot.blocks import Block, RenderedMessage, button, context, encode, plain, section
from bot.mrkdwn import escape, quote, split_text, truncate
from bot.service import LearningService
from content_packs.authoring import slugify
from content_packs.catalog import Catalog
from content_packs.contributions import (
    MAX_QUESTIONS,
    add_contribution,
    contributions_file,
    item_key,
    uncredit,
)
from content_packs.loader import PackError
from content_packs.schema import Lesson, Link, Question
from db.contributions import ContributionView
from db.store import NewMessage, OutboxItem
from learning.errors import Gone, NotAllowed, SproutError
from learning.schedule import UnknownTimeZone, due_slot, resolve_zone
from scheduler.sending import OutgoingMessage

log = logging.getLogger(__name__)

SUGGEST_VIEW = "contribution_suggest"
REVIEW_VIEW = "contribution_review"
KIND_ACTION = "contribution_kind"
REVIEW_ACTION = "contribution_review"
FORGOTTEN_CREDIT = "a former colleague"  # the credit left on an item whose contributor was forgotten
OUTCOME = "contribution_outcome"  # outbox kind: the contributor's DM
QUEUE_NOTE = "contribution_queue"  # outbox kind: the facilitators' weekly note
KINDS = {"question": "A question", "link": "A resource link", "lesson": "A short lesson"}
OPTIONS = 6
MIN_OPTIONS = 2
LINK_KINDS = {"article": "Article", "podcast": "Podcast", "video": "Video"}
DECISIONS = {"accept": "Accept", "decline": "Decline"}
HOME_QUEUE = 5  # contributions listed on a facilitator's Home tab
NOTE_DAY, NOTE_TIME = "mon", time(9, 0)  # the weekly note, in each facilitator's own zone
_HTTP = re.compile(r"(?<![a-z])http://", re.I)
USAGE = "`/learn suggest` proposes a question, a link or a short lesson for a pack (`/learn suggest link` opens " \
        "the form for a link)."


@dataclass(frozen=True)
class Draft:
    """A contribution as read from the form: the pack item it would become (without id or credit)."""

    kind: str
    pack_id: str
    lesson_id: str | None
    content: dict[str, Any]


@dataclass(frozen=True)
class Decided:
    contribution: ContributionView
    state: str  # accepted, changed or declined
    version: int | None  # the pack version that will serve it (accepted)
    new: bool  # False when it had been decided already (by this or another reviewer)


class ContributionService:
    """The use cases: open the form, take a contribution, list the queue, review, the weekly note."""

    def __init__(self, *, service: LearningService, store: Any, catalog: Catalog,
                 contributions_dir: Path | None = None) -> None:
        self.service = service
        self.store = store  # a Store with ContributionRecords
        self.catalog = catalog
        self.contributions_dir = contributions_dir

    # -- proposing -----------------------------------------------------------------------------------

    def contributor(self, slack_user_id: str, now: datetime):
        learner = self.service.learner(slack_user_id, now)
        if not learner.active:
            raise NotAllowed("Only people in Sprout's roster can suggest content; an admin can add you.")
        return learner

    def suggest_form(self, slack_user_id: str, kind: str, now: datetime) -> dict[str, Any]:
        self.contributor(slack_user_id, now)
        if not len(self.catalog):
            raise SproutError("There are no packs to contribute to yet.")
        return suggest_modal(kind if kind in KINDS else "question", targets(self.catalog))

    def redraw_form(self, slack_user_id: str, kind: str, now: datetime) -> dict[str, Any]:
        return self.suggest_form(slack_user_id, kind, now)

    def submit(self, slack_user_id: str, view: dict, now: datetime) -> tuple[int | None, dict[str, str]]:
        """(the record's id, errors by block id): a record only when there are no errors."""
        learner = self.contributor(slack_user_id, now)
        values = (view.get("state") or {}).get("values") or {}
        kind = _picked(values, "kind", KIND_ACTION) or _meta_kind(view)
        draft, errors = read_draft(kind, values, self.catalog)
        if errors:
            return None, errors
        assert draft is not None
        contribution_id, _ = self.store.record_pack_contribution(
            learner_id=learner.id, pack_id=draft.pack_id, lesson_id=draft.lesson_id, kind=draft.kind,
            content=draft.content, submission_key=f"view:{view['id']}", now=now)
        return contribution_id, {}

    # -- reviewing -----------------------------------------------------------------------------------

    def require(self, slack_user_id: str, now: datetime):
        return self.service.require(slack_user_id, ("facilitator",), "review contributions", now)

    def review_form(self, slack_user_id: str, contribution_id: int, now: datetime) -> dict[str, Any]:
        self.require(slack_user_id, now)
        found = self.store.pack_contribution(contribution_id)
        if found is None:
            raise Gone("That contribution is no longer there.")
        if found.state != "proposed":
            return note_modal("Already reviewed", decided_text(found))
        return review_modal(found, self.catalog)

    def review(self, slack_user_id: str, view: dict, now: datetime) -> tuple[Decided | None, dict[str, str]]:
        """Accept (as proposed or changed) or decline, from the review form: (what was decided, errors)."""
        reviewer = self.require(slack_user_id, now)
        try:
            contribution_id = int(_decode(view.get("private_metadata") or "")["c"])
        except (KeyError, ValueError, TypeError):
            return None, {"decision": "This form has expired; open the contribution again from your Home tab."}
        found = self.store.pack_contribution(contribution_id)
        if found is None:
            return None, {"decision": "That contribution is no longer there."}
        values = (view.get("state") or {}).get("values") or {}
        decision = _picked(values, "decision", "decision")
        reason = (_text(values, "reason") or "").strip()
        if decision not in DECISIONS:
            return None, {"decision": "Choose Accept or Decline."}
        if decision == "decline" and not reason:
            return None, {"reason": "Say why it is declined: the contributor is told."}
        if len(reason) > 1000:
            return None, {"reason": "Keep the reason under 1,000 characters."}
        if found.state != "proposed":
            return Decided(found, found.state, found.pack_version, new=False), {}
        if decision == "decline":
            return self._decide(found, reviewer, "declined", reason, None, None, now), {}
        draft, errors = read_draft(found.kind, values, self.catalog, target=(found.pack_id, found.lesson_id))
        if errors:
            return None, errors
        assert draft is not None
        state = "accepted" if draft.content == found.content else "changed"
        try:
            return self._accept(found, reviewer, state, reason or None, draft, now), {}
        except PackError as exc:  # the pack or its contributions file changed meanwhile, or the file is broken
            log.warning("contribution %s not written: %s", found.id, exc)
            problem = exc.problems[0] if exc.problems else exc
            return None, {"decision": truncate(f"It cannot be added to the pack: {problem}", 1000)}
        except OSError as exc:
            log.warning("contribution %s not written: %s", found.id, exc)
            return None, {"decision": "Sprout cannot write the pack's contributions file (see its log): ask an "
                                      "admin to set CONTRIBUTIONS_DIR to a folder it can write."}

    def _accept(self, found: ContributionView, reviewer, state: str, reason: str | None, draft: Draft,
                now: datetime) -> Decided:
        pack_file = self.catalog.file_of(found.pack_id)
        if pack_file is None:
            raise Gone("That pack is no longer served.")
        section_name, item = file_item(found, draft.content)
        with self.store.unit_of_work():
            # The record first, so a second reviewer at the same moment waits here and then finds it decided;
            # then the files, so two accepts for one pack never both rewrite its file from the same old one.
            decided = self._decide(found, reviewer, state, reason, draft.content, None, now)
            if not decided.new:
                return decided
            self.store.hold_contributions_files(found.pack_id, now, by=reviewer.slack_user_id)
            added = add_contribution(pack_file, contributions_file(found.pack_id, pack_file, self.contributions_dir),
                                     section_name, item)
            self.store.set_contribution_version(found.id, added.version)
        return Decided(decided.contribution, state, added.version, new=True)

    def _decide(self, found: ContributionView, reviewer, state: str, reason: str | None,
                content: dict | None, version: int | None, now: datetime) -> Decided:
        with self.store.unit_of_work():
            new = self.store.decide_contribution(found.id, state=state, reviewer_id=reviewer.id, reason=reason,
                                                 accepted_content=content, pack_version=version, now=now)
            if not new:
                latest = self.store.pack_contribution(found.id) or found
                return Decided(latest, latest.state, latest.pack_version, new=False)
            queued = self.store.queue_messages([NewMessage(
                kind=OUTCOME, dedupe_key=f"{OUTCOME}:{found.id}", channel=found.dm_channel_id or found.slack_user_id,
                learner_id=found.learner_id, payload={"contribution": found.id})], now)
            self.store.audit(actor=reviewer.slack_user_id, action=f"contribution_{state}", subject=found.slack_user_id,
                             detail=str(found.id), now=now)
            self.store.after_commit(lambda: self.service.dispatcher.dispatch(ids=queued))
        return Decided(found, state, version, new=True)

    # -- privacy ----------------------------------------------------------------------------------------

    def forget_credits(self, slack_user_id: str, now: datetime) -> list[Path]:
        return forget_credits(self.store, self.catalog, self.contributions_dir, slack_user_id, now)

    # -- the Home tab ---------------------------------------------------------------------------------

    def home_blocks(self, slack_user_id: str, now: datetime) -> list[Block]:
        """The review queue for facilitators and admins; for everyone else, their own contributions."""
        learner = self.service.learner(slack_user_id, now)
        if self.service.role_of(learner) in ("facilitator", "admin"):
            pending, total = self.store.proposed_contributions(limit=HOME_QUEUE)
            return queue_blocks(pending, total, self.catalog)
        return own_blocks(self.store.contributions_of(learner.id), self.catalog)

    # -- the weekly note -------------------------------------------------------------------------------

    def plan(self, now: datetime) -> list[int]:
        """Each facilitator's weekly note of the queue, on Monday from 09:00 in their zone, when anything
        waits: queued once a week (the dedupe key names the local date)."""
        _, total = self.store.proposed_contributions(limit=0)
        if not total:
            return []
        messages = []
        for slack_user_id in self.store.facilitator_ids(self.service.admin_user_ids):
            person = self.store.learner(slack_user_id)
            if person is None or not person.active:
                continue  # an ADMIN_USER_IDS entry who never used Sprout: no zone, no DM yet
            zone_name = resolve_zone(person.timezone, person.slack_timezone, default=self.service.default_timezone)
            try:
                slot = due_slot(now, tz=ZoneInfo(zone_name), at=NOTE_TIME, days=(NOTE_DAY,),
                                not_before=now - timedelta(days=1), last_local_date=None)
            except (UnknownTimeZone, KeyError, ValueError) as exc:
                log.warning("cannot plan the contributions note of %s: %s", person.slack_user_id, exc)
                continue
            if slot is None:
                continue
            messages.append(NewMessage(kind=QUEUE_NOTE, dedupe_key=f"{QUEUE_NOTE}:{person.id}:{slot.local_date}",
                                       channel=person.dm_channel_id or person.slack_user_id, learner_id=person.id))
        return self.store.queue_messages(messages, now) if messages else []

    def renderers(self) -> dict[str, Callable[[OutboxItem], OutgoingMessage | None]]:
        return contribution_renderers(self.store, self.catalog)


def contribution_renderers(store: Any, catalog: Catalog) -> dict[str, Callable[[OutboxItem], OutgoingMessage | None]]:
    def outcome(item: OutboxItem) -> OutgoingMessage | None:
        found = store.pack_contribution(int((item.payload or {}).get("contribution", 0)))
        if found is None or found.state == "proposed":
            return None
        message = outcome_message(found, catalog)
        return OutgoingMessage(channel=item.channel, text=message.text, blocks=message.blocks)

    def note(item: OutboxItem) -> OutgoingMessage | None:
        pending, total = store.proposed_contributions(limit=HOME_QUEUE)
        if not total:
            return None  # reviewed since it was queued
        message = queue_note(pending, total, catalog)
        return OutgoingMessage(channel=item.channel, text=message.text, blocks=message.blocks)

    return {OUTCOME: outcome, QUEUE_NOTE: note}


# -- reading the form (pure) -------------------------------------------------------------------------------


def _decode(value: str) -> dict[str, Any]:
    from bot.blocks import decode

    return decode(value)


def _meta_kind(view: dict) -> str:
    try:
        return str(_decode(view.get("private_metadata") or "{}").get("k") or "question")
    except ValueError:
        return "question"


def _entry(values: dict, block_id: str, action_id: str | None = None) -> dict:
    return (values.get(block_id) or {}).get(action_id or block_id) or {}


def _text(values: dict, block_id: str) -> str | None:
    value = _entry(values, block_id).get("value")
    return value if isinstance(value, str) else None


def _picked(values: dict, block_id: str, action_id: str) -> str | None:
    return (_entry(values, block_id, action_id).get("selected_option") or {}).get("value")


def _question_fields(values: dict, *, optional: bool) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The question part of the form as a pack question (no id), or errors by block id. With ``optional``
    (a lesson's question) an empty question part is no question."""
    stem = (_text(values, "stem") or "").strip()
    options = [(_text(values, f"option{i}") or "").strip() for i in range(1, OPTIONS + 1)]
    explain = (_text(values, "explain") or "").strip()
    right = _picked(values, "right", "right")
    if optional and not (stem or any(options) or explain or right):
        return None, {}
    errors: dict[str, str] = {}
    if not stem:
        errors["stem"] = "Write the question."
    filled = [(i, text) for i, text in enumerate(options, start=1) if text]
    if len(filled) < MIN_OPTIONS:
        errors[f"option{len(filled) + 1 if len(filled) < MIN_OPTIONS else 1}"] = \
            f"Give at least {MIN_OPTIONS} options."
    seen: dict[str, int] = {}
    for i, text in filled:
        if text.lower() in seen:
            errors[f"option{i}"] = f"This is the same as option {seen[text.lower()]}."
        seen.setdefault(text.lower(), i)
    index = int(right) if right and right.isdigit() and 0 < int(right) <= OPTIONS else None
    if index is None:
        errors["right"] = "Pick the right option."
    elif not options[index - 1]:
        errors["right"] = f"Option {index} is empty: pick one you filled in."
    if not explain:
        errors["explain"] = "Explain the answer: learners see it after answering, right or wrong."
    if errors:
        return None, errors
    assert index is not None
    question = {"prompt": stem, "choices": [text for _, text in filled], "answer": options[index - 1],
                "explain": explain}
    blocks = {"prompt": "stem", "answer": "right", "explain": "explain", "feedback": "explain"}
    try:
        Question.model_validate({"id": "q1", **question})
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = error["loc"]
            if loc and loc[0] == "choices":
                block = f"option{filled[loc[1]][0]}" if len(loc) > 1 and isinstance(loc[1], int) else "option1"
            elif loc and loc[0] == "answer" and any(b.startswith("option") for b in errors):
                continue  # the right option's own error says it already
            else:
                block = blocks.get(str(loc[0]) if loc else "", "stem")
            errors.setdefault(block, error["msg"].removeprefix("Value error, "))
    return (None, errors) if errors else (question, {})


def _link_fields(values: dict) -> tuple[dict[str, Any] | None, dict[str, str]]:
    errors: dict[str, str] = {}
    link: dict[str, Any] = {"kind": _picked(values, "link_kind", "link_kind") or "",
                            "title": (_text(values, "title") or "").strip(), "url": (_text(values, "url") or "").strip()}
    minutes = (_text(values, "minutes") or "").strip()
    if minutes:
        if not minutes.isdigit() or not 1 <= int(minutes) <= 600:
            errors["minutes"] = "A whole number of minutes, from 1 to 600 (or leave it empty)."
        else:
            link["minutes"] = int(minutes)
    if not link["url"].lower().startswith("https://"):
        errors["url"] = "Links must start with https://"
    try:
        Link.model_validate(link)
    except ValidationError as exc:
        names = {"kind": "link_kind", "title": "title", "url": "url", "minutes": "minutes"}
        for error in exc.errors(include_url=False):
            errors.setdefault(names.get(str(error["loc"][0]) if error["loc"] else "", "url"),
                              error["msg"].removeprefix("Value error, "))
    return (None, errors) if errors else (link, {})


def _lesson_fields(values: dict) -> tuple[dict[str, Any] | None, dict[str, str]]:
    errors: dict[str, str] = {}
    title, body = (_text(values, "title") or "").strip(), (_text(values, "body") or "").strip()
    minutes = (_text(values, "minutes") or "").strip()
    if not title:
        errors["title"] = "Give the lesson a title."
    if not body:
        errors["body"] = "Write the lesson."
    elif _HTTP.search(body):
        errors["body"] = "Links must start with https://"
    if not minutes.isdigit() or not 1 <= int(minutes) <= 30:
        errors["minutes"] = "The honest reading time: a whole number of minutes from 1 to 30."
    question, question_errors = _question_fields(values, optional=True)
    errors.update(question_errors)
    if errors:
        return None, errors
    lesson: dict[str, Any] = {"title": title, "minutes": int(minutes), "body": body}
    if question is not None:
        lesson["quiz"] = [question]
    try:
        Lesson.model_validate({"id": "lesson", **lesson, "quiz": [{"id": "q1", **q} for q in lesson.get("quiz", [])]})
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            errors.setdefault(str(error["loc"][0]) if error["loc"] and error["loc"][0] in ("title", "body", "minutes")
                              else "body", error["msg"].removeprefix("Value error, "))
    return (None, errors) if errors else (lesson, {})


def read_draft(kind: str, values: dict, catalog: Catalog, *,
               target: tuple[str, str | None] | None = None) -> tuple[Draft | None, dict[str, str]]:
    """The form's values as a Draft, or errors by block id. ``target``: the pack and lesson are fixed (review)."""
    if kind not in KINDS:
        return None, {"kind": "Choose what you are suggesting."}
    errors: dict[str, str] = {}
    if target is None:
        picked = _picked(values, "target", "target") or ""
        pack_id, _, lesson_id = picked.partition("/")
    else:
        pack_id, lesson_id = target[0], target[1] or ""
    pack = catalog.get(pack_id)
    if pack is None:
        errors["target"] = "Choose a pack." if not pack_id else "That pack is no longer served; choose another."
    elif kind != "lesson":
        lesson = pack.lesson(lesson_id)
        if lesson is None:
            errors["target"] = "Choose the lesson it belongs to."
        elif kind == "question" and len(lesson.quiz) >= MAX_QUESTIONS:
            errors["target"] = f"That lesson has {MAX_QUESTIONS} questions already, the most a lesson holds."
    reader = {"question": lambda: _question_fields(values, optional=False), "link": lambda: _link_fields(values),
              "lesson": lambda: _lesson_fields(values)}[kind]
    content, field_errors = reader()
    errors.update(field_errors)
    if target is not None and "target" in errors:  # no target field in the review form
        errors["decision"] = errors.pop("target")
    if errors:
        return None, errors
    assert content is not None
    return Draft(kind, pack_id, lesson_id if kind != "lesson" else None, content), {}


def forget_credits(store, catalog: Catalog, contributions_dir: Path | None, slack_user_id: str,
                   now: datetime) -> list[Path]:
    """Before a person is forgotten: the credit on every item of theirs in a contributions file becomes
    FORGOTTEN_CREDIT (the item stays: it is the team's content now). The files changed. OSError or
    PackError when one cannot be rewritten, so the caller can name it; the others are done first."""
    learner = store.learner(slack_user_id)
    if learner is None:
        return []
    keys: dict[str, set[tuple]] = {}
    for c in store.contributions_of(learner.id, limit=None):
        if c.state in ("accepted", "changed") and c.accepted_content is not None:
            keys.setdefault(c.pack_id, set()).add(item_key(*file_item(c, c.accepted_content)))
    changed: list[Path] = []
    for pack_id, wanted in sorted(keys.items()):
        pack_file = catalog.file_of(pack_id)
        if pack_file is None:
            continue
        file = contributions_file(pack_id, pack_file, contributions_dir)
        with store.unit_of_work():  # as an accept does: one writer of the pack's file at a time
            store.hold_contributions_files(pack_id, now, by="forget")
            if uncredit(pack_file, file, wanted, FORGOTTEN_CREDIT):
                changed.append(file)
    return changed


def file_item(found: ContributionView, content: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The contribution as an item of the pack's contributions file: (section, item), with its stable id and
    the contributor's name. A question's id is ``c<record id>``; a lesson's ``c<record id>-<its title>``."""
    credit = truncate(" ".join((found.name or "").split()), 200) or "a colleague"
    if found.kind == "question":
        return "questions", {"lesson": found.lesson_id, "id": f"c{found.id}", **content, "contributed_by": credit}
    if found.kind == "link":
        return "links", {"lesson": found.lesson_id, **content, "contributed_by": credit}
    slug = slugify(content["title"], max_length=50) or "lesson"
    lesson = {"id": f"c{found.id}-{slug}", **{k: v for k, v in content.items() if k != "quiz"}}
    if content.get("quiz"):
        lesson["quiz"] = [{"id": "q1", **q} for q in content["quiz"]]
    return "lessons", {**lesson, "contributed_by": credit}


# -- the forms (pure) --------------------------------------------------------------------------------------


def targets(catalog: Catalog) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(pack id, title, [(lesson id, title)…]) for the form's pack-and-lesson menu."""
    return [(p.id, p.title, [(lesson.id, lesson.title) for lesson in p.lessons]) for p in catalog]


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(truncate(text, 75), 75), "value": value}


def _target_block(kind: str, packs: Sequence[tuple[str, str, list[tuple[str, str]]]]) -> Block:
    if kind == "lesson":
        element: dict[str, Any] = {"options": [_option(title, f"{pid}/") for pid, title, _ in packs[:100]]}
        label, hint = "Pack", "The lesson is added after the pack's own lessons."
    else:
        groups, room = [], 100  # Slack's limit: 100 options in all
        for pid, title, lessons in packs:
            options = [_option(lesson_title, f"{pid}/{lid}") for lid, lesson_title in lessons[:room]]
            if options:
                groups.append({"label": plain(truncate(title, 75), 75), "options": options})
            room -= len(options)
            if room <= 0 or len(groups) == 100:
                break
        element = {"option_groups": groups}
        label, hint = "Pack and lesson", "The lesson it belongs to."
    return {"type": "input", "block_id": "target", "label": plain(label, 2000), "hint": plain(hint, 2000),
            "element": {"type": "static_select", "action_id": "target", "placeholder": plain("Choose", 150),
                        **element}}


def _input(block_id: str, label: str, *, initial: str | None = None, multiline: bool = False,
           max_length: int = 150, optional: bool = False, hint: str | None = None) -> Block:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": block_id, "max_length": max_length}
    if multiline:
        element["multiline"] = True
    if initial:
        element["initial_value"] = initial[:max_length]
    block: dict[str, Any] = {"type": "input", "block_id": block_id, "label": plain(label, 2000), "element": element,
                             "optional": optional}
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def _select(block_id: str, label: str, options: Sequence[tuple[str, str]], initial: str | None = None,
            *, optional: bool = False) -> Block:
    opts = [_option(text, value) for value, text in options]
    element: dict[str, Any] = {"type": "static_select", "action_id": block_id, "placeholder": plain("Choose", 150),
                               "options": opts}
    chosen = next((o for o in opts if o["value"] == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return {"type": "input", "block_id": block_id, "label": plain(label, 2000), "element": element,
            "optional": optional}


def _question_blocks(question: dict[str, Any] | None, *, optional: bool) -> list[Block]:
    question = question or {}
    choices = list(question.get("choices") or [])
    answer = question.get("answer")
    right = str(choices.index(answer) + 1) if answer in choices else None
    blocks = [_input("stem", "Question" + (" (optional)" if optional else ""), initial=question.get("prompt"),
                     multiline=True, max_length=2000, optional=optional)]
    for i in range(1, OPTIONS + 1):
        blocks.append(_input(f"option{i}", f"Option {i}", initial=choices[i - 1] if i <= len(choices) else None,
                             max_length=500, optional=optional or i > MIN_OPTIONS))
    blocks.append(_select("right", "The right option", [(str(i), f"Option {i}") for i in range(1, OPTIONS + 1)],
                          right, optional=optional))
    blocks.append(_input("explain", "Explanation", initial=question.get("explain"), multiline=True, max_length=2000,
                         optional=optional, hint="Shown after answering, right or wrong: teach, don't just confirm."))
    return blocks


def content_blocks(kind: str, content: dict[str, Any] | None = None) -> list[Block]:
    """The fields of a question, a link or a lesson, filled with ``content`` (the review form)."""
    content = content or {}
    if kind == "question":
        return _question_blocks(content, optional=False)
    if kind == "link":
        minutes = content.get("minutes")
        return [_select("link_kind", "Kind", list(LINK_KINDS.items()), content.get("kind")),
                _input("title", "Title", initial=content.get("title")),
                _input("url", "Link (https://…)", initial=content.get("url"), max_length=3000),
                _input("minutes", "Minutes to read, listen or watch", initial=str(minutes) if minutes else None,
                       max_length=3, optional=True)]
    quiz = content.get("quiz") or []
    minutes = content.get("minutes")
    return [_input("title", "Title", initial=content.get("title")),
            _input("minutes", "Reading time in minutes (1–30)", initial=str(minutes) if minutes else None,
                   max_length=2),
            _input("body", "The lesson", initial=content.get("body"), multiline=True, max_length=3000,
                   hint="Markdown: **bold**, *italic*, [links](https://…), - bullets. 150–400 words read in 2–3 "
                        "minutes."),
            *_question_blocks(quiz[0] if quiz else None, optional=True)]


def suggest_modal(kind: str, packs: Sequence[tuple[str, str, list[tuple[str, str]]]]) -> dict[str, Any]:
    kinds = [{"text": plain(text, 75), "value": value} for value, text in KINDS.items()]
    blocks: list[Block] = [
        {"type": "input", "block_id": "kind", "dispatch_action": True, "label": plain("What are you suggesting?", 2000),
         "element": {"type": "radio_buttons", "action_id": KIND_ACTION, "options": kinds,
                     "initial_option": next(o for o in kinds if o["value"] == kind)}},
        _target_block(kind, packs),
        *content_blocks(kind),
        context("A facilitator reviews it; you'll hear in a DM whether it was added. Accepted contributions carry "
                "your name."),
    ]
    return {"type": "modal", "callback_id": SUGGEST_VIEW, "title": plain("Suggest content", 24),
            "submit": plain("Send", 24), "close": plain("Cancel", 24), "private_metadata": encode(k=kind),
            "blocks": blocks}


def _where(c: ContributionView, catalog: Catalog) -> str:
    pack = catalog.get(c.pack_id)
    pack_title = escape(pack.title) if pack else f"`{escape(c.pack_id)}`"
    if c.lesson_id is None:
        return f"*{pack_title}*"
    lesson = pack.lesson(c.lesson_id) if pack else None
    return f"*{pack_title}* › {escape(lesson.title) if lesson else escape(c.lesson_id)}"


def _who(c: ContributionView) -> str:
    return f"{escape(c.name)} (<@{c.slack_user_id}>)" if c.name else f"<@{c.slack_user_id}>"


def review_modal(c: ContributionView, catalog: Catalog) -> dict[str, Any]:
    blocks: list[Block] = [
        section(f"*{KINDS[c.kind]}* from {_who(c)}, for {_where(c, catalog)}\n"
                f"_Proposed {c.created_at:%a %d %b}. Edit it if it needs it; accepting an edited contribution "
                "records it as changed._", block_id="review-head"),
        *content_blocks(c.kind, c.content),
        {"type": "divider"},
        {"type": "input", "block_id": "decision", "label": plain("Decision", 2000),
         "element": {"type": "radio_buttons", "action_id": "decision",
                     "options": [{"text": plain(text, 75), "value": value} for value, text in DECISIONS.items()]}},
        _input("reason", "Reason (told to the contributor; needed to decline)", multiline=True, max_length=1000,
               optional=True),
    ]
    return {"type": "modal", "callback_id": REVIEW_VIEW, "title": plain("Review contribution", 24),
            "submit": plain("Decide", 24), "close": plain("Cancel", 24), "private_metadata": encode(c=c.id),
            "blocks": blocks}


def note_modal(title: str, text: str) -> dict[str, Any]:
    return {"type": "modal", "title": plain(title, 24), "close": plain("Close", 24), "blocks": [section(text)]}


def thanks_text() -> str:
    return ("🙏 Thank you! Your suggestion is with the facilitators. You'll hear in a DM whether it was added, and "
            "your Home tab shows where it stands.")


def decided_text(c: ContributionView) -> str:
    by = escape(c.reviewer_name) if c.reviewer_name else "a facilitator"
    verb = {"accepted": "accepted", "changed": "accepted with changes", "declined": "declined"}[c.state]
    text = f"{KINDS[c.kind]} from {escape(c.name) or 'a colleague'} was {verb} by {by}."
    if c.reason:
        text += f"\n{quote(c.reason)}"
    return text


# -- what people see (pure) -----------------------------------------------------------------------------


def excerpt(c: ContributionView) -> str:
    """The gist of a contribution, escaped, on one line."""
    content = c.content
    raw = content.get("prompt") or content.get("title") or ""
    text = f"“{escape(truncate(' '.join(str(raw).split()), 100))}”"
    if c.kind == "link" and content.get("url"):
        text += f" {escape(truncate(str(content['url']), 100))}"
    return text


def queue_blocks(pending: Sequence[ContributionView], total: int, catalog: Catalog) -> list[Block]:
    blocks: list[Block] = [{"type": "divider"}, section(f"*🤝 Contributions to review* ({total})",
                                                        block_id="home-contributions")]
    if not pending:
        blocks.append(context("Nothing waiting. Anyone can suggest content with `/learn suggest`."))
        return blocks
    for c in pending:
        blocks.append(section(f"{KINDS[c.kind]} for {_where(c, catalog)} from {_who(c)}\n{excerpt(c)}",
                              block_id=f"home-contribution:{c.id}",
                              accessory=button("Review", REVIEW_ACTION, encode(c=c.id))))
    if total > len(pending):
        blocks.append(context(f"…and {total - len(pending)} more, oldest first."))
    return blocks


STATE_TEXT = {"proposed": "⏳ waiting for review", "accepted": "✅ added", "changed": "✅ added, with changes",
              "declined": "✖️ declined"}


def own_blocks(mine: Sequence[ContributionView], catalog: Catalog) -> list[Block]:
    if not mine:
        return []
    lines = [f"• {KINDS[c.kind]} for {_where(c, catalog)}: {STATE_TEXT[c.state]}" for c in mine]
    return [{"type": "divider"}, section("*🤝 Your contributions*\n" + "\n".join(lines), block_id="home-mine")]


def outcome_message(c: ContributionView, catalog: Catalog) -> RenderedMessage:
    where = _where(c, catalog)
    if c.state == "declined":
        head = f"Thank you for your suggestion for {where}. This time it was not added."
    else:
        changed = " with a few changes" if c.state == "changed" else ""
        head = (f"🎉 Your contribution to {where} was accepted{changed}: it goes out with the pack from now on, "
                f"with your name on it. Thank you!")
    blocks: list[Block] = [section(head, block_id="outcome"), context(f"{KINDS[c.kind]}: {excerpt(c)}")]
    if c.reason:
        who = escape(c.reviewer_name) if c.reviewer_name else "The facilitator"
        blocks.append(section(f"{who} wrote:\n{quote(c.reason)}", block_id="outcome-reason"))
    text = "Your contribution was " + ("not added" if c.state == "declined" else "accepted")
    return RenderedMessage(text, blocks)


def queue_note(pending: Sequence[ContributionView], total: int, catalog: Catalog) -> RenderedMessage:
    head = (f"🤝 *{total} contribution{'s' if total != 1 else ''} waiting for review.* Open Sprout's Home tab to "
            "review them: edit, accept or decline with a reason.")
    blocks: list[Block] = [section(head, block_id="queue-note")]
    lines = [f"• {KINDS[c.kind]} for {_where(c, catalog)} from {_who(c)}: {excerpt(c)}" for c in pending]
    blocks += [section(chunk) for chunk in split_text("\n".join(lines))][:10]
    return RenderedMessage(f"{total} contribution{'s' if total != 1 else ''} waiting for review", blocks)


__all__ = [
    "KIND_ACTION", "OUTCOME", "QUEUE_NOTE", "REVIEW_ACTION", "REVIEW_VIEW", "SUGGEST_VIEW", "USAGE",
    "ContributionService", "Decided", "Draft", "contribution_renderers", "file_item", "outcome_message",
    "queue_blocks", "read_draft", "review_modal", "suggest_modal", "thanks_text",
]
