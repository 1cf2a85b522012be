"""Slack's limits, checked on a pack as Sprout would render it.

Each lesson is rendered with Sprout's own builders (``bot.blocks``) in every state that changes its shape —
each question waiting, then every question answered with the reflection and the rating still to come — plus
the typed-answer and reflection modals and, for a pack with a certificate, the recertification review. The
builders run in ``exact_rendering()``, so nothing is shortened or dropped to fit, and the payloads go through
a Block Kit validator (the emulator's, ``sandbox.blockkit``, passed in by ``app.py``: the one place that
states Slack's limits, so the check and the emulator cannot disagree). Every error is traced back to the
field of the pack it comes from and reported as a ``PackProblem`` with that field's line.

Usable as a ``content_packs.loader.PackCheck``: ``load_packs(folder, check=SlackLimits(...))``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bot.blocks import (
    Block,
    exact_rendering,
    lesson_message,
    reflection_modal,
    review_message,
    typed_answer_modal,
)
from bot.i18n import current, is_available, speaking
from content_packs.loader import Lines, PackProblem
from content_packs.schema import Lesson, Pack, Question
from db.store import AnswerView, DeliveryState

Loc = tuple[str | int, ...]
# (blocks, surface) -> Slack's errors, each ending "[json-pointer:/blocks/…]"; and the same for a view.
ValidateBlocks = Callable[..., list[str]]
ValidateView = Callable[..., list[str]]

_POINTER = re.compile(r"^(?P<message>.*?)\s*\[json-pointer:(?P<pointer>[^\]]*)\]$")
_LESS_THAN = re.compile(r"must be less than (\d+) characters")
_NO_MORE = re.compile(r"no more than (\d+) items allowed")
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
MESSAGE_BLOCKS = 50


@dataclass(frozen=True)
class Rendered:
    """One payload Sprout sends for a lesson, and the pack field each of its blocks comes from."""

    what: str                 # "the lesson message once every question is answered", …
    surface: str              # "message" or "modal"
    payload: Any              # a list of blocks (message) or a view (modal)
    sources: tuple[Loc, ...]  # per block: the pack field it renders


@dataclass(frozen=True)
class SlackLimits:
    """A ``PackCheck``: the problems Slack would have with ``pack`` as Sprout renders it."""

    validate_blocks: ValidateBlocks
    validate_view: ValidateView

    def __call__(self, pack: Pack, file: Path, lines: Lines) -> list[PackProblem]:
        found: dict[tuple[int, str, str], PackProblem] = {}
        too_many: dict[Loc, tuple[int, str]] = {}  # per lesson, the state with the most blocks
        for rendered in renderings(pack):
            for error in self._errors(rendered):
                loc, message = explain(rendered, error)
                if _NO_MORE.search(error) and error.endswith("[json-pointer:/blocks]"):
                    count = len(rendered.payload)
                    if count > too_many.get(loc, (0, ""))[0]:
                        too_many[loc] = (count, message)
                    continue
                problem = PackProblem(file, lines.of(loc), lines.path(loc), message)
                # The same field is usually too long in every state of the message: say so once.
                found.setdefault((problem.line, problem.path, message.replace(rendered.what, "")), problem)
        for loc, (_, message) in too_many.items():
            problem = PackProblem(file, lines.of(loc), lines.path(loc), message)
            found[(problem.line, problem.path, problem.message)] = problem
        return sorted(found.values(), key=lambda p: (p.line, p.path, p.message))

    def _errors(self, rendered: Rendered) -> list[str]:
        if rendered.surface != "message":
            return self.validate_view(rendered.payload, pointer="/view")
        errors = self.validate_blocks(rendered.payload, surface="message", pointer="/blocks")
        if len(rendered.payload) > MESSAGE_BLOCKS:
            # The validator stops at the count, as Slack does; the blocks themselves are checked fifty at a time
            # so that a lesson with too many blocks also hears what else is wrong with it.
            for start in range(0, len(rendered.payload), MESSAGE_BLOCKS):
                chunk = rendered.payload[start:start + MESSAGE_BLOCKS]
                for error in self.validate_blocks(chunk, surface="message", pointer="/blocks"):
                    errors.append(_shift(error, start))
        return errors


def _shift(error: str, offset: int) -> str:
    """A validator error about block ``i`` of a slice, as one about block ``offset + i`` of the whole."""
    return re.sub(r"\[json-pointer:/blocks/(\d+)", lambda m: f"[json-pointer:/blocks/{int(m[1]) + offset}", error)


# -- what Sprout renders --------------------------------------------------------------------------


def renderings(pack: Pack) -> Iterator[Rendered]:
    """Every payload whose size depends on the pack's content, rendered exactly (nothing cut to fit), with
    Sprout's own words in the pack's language when Sprout speaks it (a learner shown the pack in that language
    most likely reads Sprout in it too; German words are longer)."""
    with exact_rendering(), speaking(pack.language if is_available(pack.language) else current()):
        for index, lesson in enumerate(pack.lessons):
            yield from _lesson_renderings(pack, index, lesson)
        if pack.certificate is not None:
            yield from _recert_renderings(pack)


def _state(lesson: Lesson, pack: Pack, answered: int, **extra: Any) -> DeliveryState:
    answers = tuple(
        AnswerView(q.id, q.prompt, _longest_wrong_answer(q), False, _EPOCH) for q in lesson.quiz[:answered]
    )
    return DeliveryState(id=1, learner_id=1, slack_user_id="U0", learner_name="", pack_id=pack.id,
                         lesson_id=lesson.id, pack_version=pack.version, kind="lesson", status="sent",
                         due_at=_EPOCH, sent_at=_EPOCH, channel_id="D0", message_ts="1.0", answers=answers,
                         **extra)


def _longest_wrong_answer(question: Question) -> str:
    """The answer that makes the result longest: a wrong one (the result then also names the right one)."""
    if question.kind == "short":
        return max(question.accept or [""], key=len)
    if question.kind == "multiple":
        return "; ".join(question.options)
    wrong = [o for i, o in enumerate(question.options) if i != question.correct_index]
    return max(wrong or question.options, key=len)


def _lesson_renderings(pack: Pack, index: int, lesson: Lesson) -> Iterator[Rendered]:
    base: Loc = ("lessons", index)
    for number in range(len(lesson.quiz)):
        message = lesson_message(pack, lesson, _state(lesson, pack, number))
        yield Rendered(f"the lesson message when question {number + 1} is asked", "message", message.blocks,
                       _message_sources(base, lesson, message.blocks))
    # Everything answered, a low rating given: the most blocks the message ever has.
    message = lesson_message(pack, lesson, _state(lesson, pack, len(lesson.quiz), rating=1))
    yield Rendered("the lesson message once its questions are answered", "message", message.blocks,
                   _message_sources(base, lesson, message.blocks))
    for j, question in enumerate(lesson.quiz):
        if question.kind == "short":
            view = typed_answer_modal({"d": 1}, question)
            yield Rendered("the typed-answer window", "modal", view,
                           tuple(base + ("quiz", j, "prompt") for _ in view["blocks"]))
    if lesson.reflect:
        view = reflection_modal(1, lesson.reflect)
        yield Rendered("the reflection window", "modal", view, tuple(base + ("reflect",) for _ in view["blocks"]))


def _message_sources(base: Loc, lesson: Lesson, blocks: list[Block]) -> tuple[Loc, ...]:
    """The field each block of a lesson message renders: by its block id, else the question before it."""
    questions = {q.id: j for j, q in enumerate(lesson.quiz)}
    sources: list[Loc] = []
    current: Loc = base
    for position, block in enumerate(blocks):
        kind, _, key = str(block.get("block_id", "")).partition(":")
        if position == 0 and block.get("type") == "header":
            current = base + ("title",)
        elif position == 1 and block.get("type") == "context":
            current = ("title",)
        elif kind == "body":
            current = base + ("body",)
        elif kind == "link":
            current = base + ("links", int(key))
        elif kind in ("prompt", "result") and key in questions:
            current = base + ("quiz", questions[key], "prompt")
        elif kind in ("answer", "pick", "type") and key in questions:
            current = base + ("quiz", questions[key])
        elif kind in ("reflect-prompt", "reflected"):
            current = base + ("reflect",)
        elif block.get("type") == "divider" or kind in ("rate-prompt", "rate", "rated", "reason-prompt",
                                                         "reason", "comment", "commented", "credit"):
            current = base
        elif block.get("type") == "context" and current[-1:] == ("prompt",):
            current = current[:-1] + ("explain",)  # the notes and explanation under an answered question
        sources.append(current)
    return tuple(sources)


def _recert_renderings(pack: Pack) -> Iterator[Rendered]:
    """The recertification review: its header names the pack, and every question can be asked in it."""
    questions = [(i, j, q) for i, lesson in enumerate(pack.lessons) for j, q in enumerate(lesson.quiz)]
    if not questions:
        return
    i, j, first = questions[0]
    view = SimpleNamespace(
        session=SimpleNamespace(kind="recert", id=1), pack=pack,
        items=[SimpleNamespace(card=SimpleNamespace(id=n), question=q, answer=None)
               for n, (_, _, q) in enumerate(questions[:10], start=1)],
    )
    blocks = review_message(view).blocks
    sources = [("title",)] * 3 + [("lessons", i, "quiz", j, "prompt")] * (len(blocks) - 3)
    yield Rendered("the recertification review", "message", blocks, tuple(sources))


# -- from Slack's error to the author's field ------------------------------------------------------


def explain(rendered: Rendered, error: str) -> tuple[Loc, str]:
    """(the pack field, a message for its author) for one validator error on ``rendered``."""
    match = _POINTER.match(error)
    message, pointer = (match["message"], match["pointer"]) if match else (error, "")
    parts = [p for p in pointer.split("/") if p]
    if parts and parts[0] == "view":
        parts = parts[1:]
    value = _resolve(rendered.payload, parts, rendered.surface)
    if parts in (["blocks"], []):
        count = len(value) if isinstance(value, list) else "too many"
        limit = _NO_MORE.search(message)
        limit_text = limit[1] if limit else ("50" if rendered.surface == "message" else "100")
        loc = rendered.sources[0][:2] if rendered.sources and rendered.sources[0][:1] == ("lessons",) else ()
        return loc, (f"{rendered.what} has {count} blocks; Slack allows {limit_text} in a "
                     f"{'message' if rendered.surface == 'message' else 'modal'}: shorten the body, "
                     "or move links or questions to another lesson")
    block_index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    loc = rendered.sources[block_index] if block_index < len(rendered.sources) else ()
    block = _resolve(rendered.payload, parts[:2], rendered.surface)
    loc = _refine(loc, block, parts[2:])
    what = _element_name(block, parts[2:])
    limit = _LESS_THAN.search(message)
    if limit and isinstance(value, str):
        return loc, (f"{what} in {rendered.what} would be {len(value):,} characters; Slack allows "
                     f"{int(limit[1]) - 1:,}{_advice(loc)}")
    return loc, f"{what} in {rendered.what}: Slack says {message!r}"


def _resolve(payload: Any, parts: list[str], surface: str) -> Any:
    value = payload
    if surface == "message" and parts[:1] == ["blocks"]:
        parts = parts[1:]
    for part in parts:
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


def _refine(loc: Loc, block: Any, rest: list[str]) -> Loc:
    """A button or option of a question's answer block: the choice it shows."""
    if "quiz" not in loc:
        return loc
    numbers = [int(p) for p in rest if p.isdigit()]
    if isinstance(block, dict) and block.get("type") == "actions" and numbers:
        if "options" in rest and len(numbers) >= 2:
            return _question(loc) + ("choices", numbers[1])
        if str(block.get("block_id", "")).startswith("answer:"):
            return _question(loc) + ("choices", numbers[0])
    return loc


def _question(loc: Loc) -> Loc:
    at = loc.index("quiz")
    return loc[: at + 2]


def _element_name(block: Any, rest: list[str]) -> str:
    kind = block.get("type") if isinstance(block, dict) else None
    if "options" in rest:
        return "an option's text"
    if "elements" in rest or "accessory" in rest:
        return "a button's text" if rest[-2:] == ["text", "text"] else "an element"
    if kind == "header":
        return "the header"
    if kind == "markdown":
        return "a markdown block"
    if kind == "context":
        return "a context line"
    if kind == "section":
        return "a section's text"
    return "a block"


def _advice(loc: Loc) -> str:
    field = next((part for part in reversed(loc) if isinstance(part, str)), "")
    return {
        "title": " (Sprout adds a few characters around the title): shorten the title",
        "links": ": shorten the link's title or address",
        "prompt": ": shorten the prompt, its choices or the right answer (the message shows them together)",
        "explain": ": shorten the explanation or the feedback",
        "choices": ": shorten the choice",
        "reflect": ": shorten the reflection prompt",
        "body": ": shorten the paragraph",
    }.get(field, ": shorten it")
