"""Block Kit builders: pure functions from domain values to Slack payload dicts.

Limits respected here (and checked by the emulator): 50 blocks a message, 3,000
characters of section text, 150 of a header, 75 of button text, 2,000 of a value.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.mrkdwn import escape, markdown_to_mrkdwn, quote, split_text, truncate
from bot.text import render
from content_packs.schema import Lesson, Link, Pack, Question
from db.store import DeliveryState

Block = dict[str, Any]

ANSWER_ACTION = "answer"
RATE_ACTION = "rate"
COMMENT_ACTION = "comment"
OPEN_LINK_ACTION = "open_link"
COMMENT_VIEW = "lesson_comment"
HOME_ENROLL_ACTION = "home_enroll"
PAUSE_OFFER_ACTION = "pause_offer"

LINK_ICONS = {"podcast": "🎧", "article": "📄", "video": "🎬"}
LINK_VERBS = {"podcast": "Listen", "article": "Read", "video": "Watch"}
MAX_BLOCKS = 50


def plain(text: str, limit: int = 3000) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": truncate(text, 3000)}


def section(text: str, **extra: Any) -> Block:
    return {"type": "section", "text": mrkdwn(text), **extra}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[:10]]}


def button(text: str, action_id: str, value: str | None = None, *, style: str | None = None,
           url: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "text": plain(text, 75), "action_id": action_id}
    if value is not None:
        element["value"] = value
    if style:
        element["style"] = style
    if url:
        element["url"] = url
    return element


def encode(**values: Any) -> str:
    return json.dumps(values, separators=(",", ":"))


def decode(value: str) -> dict[str, Any]:
    data = json.loads(value)
    if not isinstance(data, dict):
        raise ValueError("not an object")
    return data


# -- the lesson message ------------------------------------------------------------------------


def _link_block(link: Link, index: int, delivery_id: int) -> Block:
    icon = LINK_ICONS[link.kind]
    length = f" · {link.minutes} min" if link.minutes else ""
    return section(
        f"{icon} *<{escape(link.url)}|{escape(link.title)}>*\n{link.kind.capitalize()}{length}",
        block_id=f"link:{index}",
        accessory=button(LINK_VERBS[link.kind], f"{OPEN_LINK_ACTION}:{index}",
                         encode(d=delivery_id, l=index), url=link.url),
    )


def _choice_labels(question: Question) -> tuple[list[str], bool]:
    """Button labels: the choices themselves, or letters when a choice is too long for a button."""
    if all(len(c) <= 75 for c in question.choices):
        return list(question.choices), False
    return [chr(ord("A") + i) for i in range(len(question.choices))], True


def _question_blocks(question: Question, number: int, total: int, delivery_id: int) -> list[Block]:
    labels, lettered = _choice_labels(question)
    prompt = f"*Question {number} of {total}*\n{escape(question.prompt)}"
    if lettered:
        prompt += "\n" + "\n".join(f"*{label}.* {escape(choice)}" for label, choice in zip(labels, question.choices, strict=True))
    return [
        section(prompt, block_id=f"prompt:{question.id}"),
        {
            "type": "actions",
            "block_id": f"answer:{question.id}",
            "elements": [
                button(label, f"{ANSWER_ACTION}:{i}", encode(d=delivery_id, q=question.id, c=i))
                for i, label in enumerate(labels)
            ],
        },
    ]


def _answered_blocks(question: Question, number: int, chosen: str, correct: bool) -> list[Block]:
    verdict = "✅ Right" if correct else f"❌ Not quite — the answer is *{escape(question.answer)}*"
    return [
        section(
            f"*Question {number}.* {escape(question.prompt)}\nYou chose *{escape(chosen)}*. {verdict}",
            block_id=f"result:{question.id}",
        ),
        context(f"💡 {escape(question.explain)}"),
    ]


def _feedback_blocks(state: DeliveryState) -> list[Block]:
    if state.rating is None:
        return [
            section("*How useful was this lesson?* 1 = not useful, 5 = very useful", block_id="rate-prompt"),
            {
                "type": "actions",
                "block_id": "rate",
                "elements": [
                    button(f"{'⭐' * n}", f"{RATE_ACTION}:{n}", encode(d=state.id, r=n)) for n in range(1, 6)
                ],
            },
        ]
    blocks = [section(f"Thanks — you rated this lesson *{state.rating}/5*.", block_id="rated")]
    if state.comment:
        blocks.append(section(f"💬 Your comment, passed on to the authors:\n{quote(state.comment)}", block_id="commented"))
    else:
        blocks.append(
            {
                "type": "actions",
                "block_id": "comment",
                "elements": [button("Add a comment", COMMENT_ACTION, encode(d=state.id))],
            }
        )
    return blocks


@dataclass(frozen=True)
class RenderedMessage:
    text: str
    blocks: list[Block]


def lesson_message(pack: Pack, lesson: Lesson, state: DeliveryState) -> RenderedMessage:
    """The whole lesson DM as it stands: content, answered questions, the next question, then rating."""
    position = (pack.lesson_index(lesson.id) or 0) + 1
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"📘 {lesson.title}", 150)},
        context(f"*{escape(pack.title)}* · lesson {position} of {len(pack.lessons)} · {lesson.minutes} min"),
    ]
    for i, chunk in enumerate(split_text(markdown_to_mrkdwn(lesson.body))):
        blocks.append(section(chunk, block_id=f"body:{i}"))
    blocks.extend(_link_block(link, i, state.id) for i, link in enumerate(lesson.links))

    tail: list[Block] = []
    total = len(lesson.quiz)
    waiting = False
    for number, question in enumerate(lesson.quiz, start=1):
        answer = state.answer_to(question.id)
        if answer is not None:
            tail.extend(_answered_blocks(question, number, answer.choice, answer.correct))
        else:
            tail.extend(_question_blocks(question, number, total, state.id))
            waiting = True
            break
    if not waiting:
        tail.extend(_feedback_blocks(state))

    # Keep the question and rating visible if a very long body pushes past Slack's 50 blocks.
    room = MAX_BLOCKS - len(tail) - 1
    if len(blocks) > room:
        blocks = blocks[: room - 1] + [context("_The lesson continues in the pack; it was too long for one message._")]
    blocks.append({"type": "divider"})
    blocks.extend(tail)
    return RenderedMessage(render("lesson_notification.txt.j2", pack=pack, lesson=lesson), blocks)


def missing_lesson_message(state: DeliveryState) -> RenderedMessage:
    text = "This lesson is no longer available: its pack was removed or changed."
    return RenderedMessage(text, [section(text)])


def reminder_message(lesson: Lesson) -> RenderedMessage:
    text = f"⏰ Your lesson *{escape(lesson.title)}* is still waiting — it takes about {lesson.minutes} minutes."
    return RenderedMessage(text, [section(text)])


def pause_offer_message() -> RenderedMessage:
    text = (
        "You've missed the last few lessons — that's fine, work gets busy. Want a break? "
        "Your place in each pack is kept."
    )
    return RenderedMessage(
        text,
        [
            section(text, block_id="pause-offer"),
            {
                "type": "actions",
                "block_id": "pause-choices",
                "elements": [
                    button("Pause for a week", f"{PAUSE_OFFER_ACTION}:7", encode(days=7), style="primary"),
                    button("Pause for two weeks", f"{PAUSE_OFFER_ACTION}:14", encode(days=14)),
                    button("Keep them coming", f"{PAUSE_OFFER_ACTION}:0", encode(days=0)),
                ],
            },
        ],
    )


def pause_answer_message(text: str) -> RenderedMessage:
    return RenderedMessage(text, [section(text, block_id="pause-answer")])


# -- commands and the comment modal ----------------------------------------------------------


def text_blocks(text: str) -> list[Block]:
    return [section(chunk) for chunk in split_text(text)][:MAX_BLOCKS]


def help_text(unknown: str | None = None) -> str:
    return render("help.md.j2", unknown=unknown)


def packs_text(packs: Sequence[Pack], enrolled: set[str]) -> str:
    return render("packs.md.j2", packs=list(packs), enrolled=enrolled)


def enrolled_text(pack: Pack, *, created: bool, next_at: datetime | None, zone: str) -> str:
    return render("enrolled.md.j2", pack=pack, created=created, next_at=next_at, zone=zone)


def schedule_text(outcome) -> str:
    return render("schedule.md.j2", outcome=outcome)


def comment_modal(delivery_id: int, lesson_title: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": COMMENT_VIEW,
        "private_metadata": encode(d=delivery_id),
        "title": plain("Your comment", 24),
        "submit": plain("Send", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            section(f"What should the authors of *{escape(lesson_title)}* know?"),
            {
                "type": "input",
                "block_id": "comment",
                "label": plain("Comment", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "max_length": 2000,
                    "placeholder": plain("What worked, what didn't, what was missing…", 150),
                },
            },
        ],
    }


def comment_thanks_modal(comment: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain("Thank you", 24),
        "close": plain("Done", 24),
        "blocks": [section(f"Thanks! We passed this on to the authors:\n{quote(comment)}")],
    }


# -- the Home tab ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HomePack:
    pack: Pack
    status: str
    lessons_sent: int
    next_at: datetime | None  # in the learner's zone


def home_view(*, name: str, zone: str, packs: Sequence[HomePack], available: Sequence[Pack]) -> dict[str, Any]:
    blocks: list[Block] = [
        {"type": "header", "text": plain("🌱 Sprout", 150)},
        section(f"Hi {escape(name) or 'there'}! Short lessons, on your schedule, in your time zone ({escape(zone)})."),
        {"type": "divider"},
        section("*Your packs*"),
    ]
    if not packs:
        blocks.append(context("You're not enrolled in any pack yet — pick one below."))
    for entry in packs[:15]:
        if entry.status == "completed" or entry.next_at is None:
            when = "✅ finished"
        else:
            when = f"next lesson {entry.next_at.strftime('%a %d %b, %H:%M')}"
        blocks.append(
            section(
                f"*{escape(entry.pack.title)}*\n{entry.lessons_sent} of {len(entry.pack.lessons)} lessons sent · {when}"
            )
        )
    enrolled = {entry.pack.id for entry in packs}
    others = [p for p in available if p.id not in enrolled]
    if others:
        blocks.append({"type": "divider"})
        blocks.append(section("*More packs*"))
        for pack in others[:15]:
            blocks.append(
                section(
                    f"*{escape(pack.title)}* — {len(pack.lessons)} lessons\n{escape(truncate(pack.description, 300))}",
                    accessory=button("Enroll", HOME_ENROLL_ACTION, encode(p=pack.id), style="primary"),
                )
            )
    return {"type": "home", "blocks": blocks[:100]}
