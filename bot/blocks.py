"""Block Kit builders: pure functions from domain values to Slack payload dicts.

Limits respected here (and checked by the emulator): 50 blocks a message, 3,000
characters of section text, 150 of a header, 75 of button text, 2,000 of a value.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

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
PICK_ACTION = "pick"
SUBMIT_MULTI_ACTION = "submit_multi"
TYPE_ANSWER_ACTION = "type_answer"
TYPED_ANSWER_VIEW = "typed_answer"
REFLECT_ACTION = "reflect"
REFLECTION_VIEW = "reflection"
REASON_ACTION = "reason"
SEND_LESSON_ACTION = "send_lesson"
REASONS = {"too_easy": "Too easy", "too_hard": "Too hard", "not_relevant": "Not relevant", "inaccurate": "Inaccurate"}
PAUSE_OFFER_ACTION = "pause_offer"

LINK_ICONS = {"podcast": "🎧", "article": "📄", "video": "🎬"}
LINK_VERBS = {"podcast": "Listen", "article": "Read", "video": "Watch"}
MAX_BLOCKS = 50

# While set, the builders neither shorten text nor drop blocks to fit Slack's limits, so a check can see
# what an author's content would really need (``bot.pack_limits``); Sprout always renders with it unset.
_EXACT: ContextVar[bool] = ContextVar("exact_rendering", default=False)


@contextlib.contextmanager
def exact_rendering() -> Iterator[None]:
    """Render without the truncation and block clipping that keep a live message within Slack's limits."""
    token = _EXACT.set(True)
    try:
        yield
    finally:
        _EXACT.reset(token)


def _fit(text: str, limit: int) -> str:
    return text if _EXACT.get() else truncate(text, limit)


def plain(text: str, limit: int = 3000) -> dict[str, Any]:
    return {"type": "plain_text", "text": _fit(text, limit), "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _fit(text, 3000)}


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


# Every key a button value or a modal's private_metadata carries (``encode``), in one place. Keys are one or
# two letters because a lesson's values are sent with every answer button of every learner's message; a
# key's meaning depends on the action it belongs to, as the second column says. The listener that reads a
# value checks it against the stored records (whose delivery, which question) before acting on it.
VALUE_KEYS: dict[str, str] = {
    "a": "announcement id (Got it)",
    "b": "the block id of a multiple-select question's tick boxes (Submit)",
    "c": "choice index (an answer); contribution id (Review); cohort id (Progress); channel id (a learner's "
         "question passed on)",
    "d": "delivery id: the lesson message a button belongs to",
    "days": "days to pause (Pause offers and the Home tab's Pause a week)",
    "k": "review card id (a review question); the suggestion kind (Suggest form); a content-health flag key "
         "(Evidence)",
    "l": "link index (a lesson's link); lesson id (Send me this)",
    "on": "1 to share notes with the coach, 0 to stop",
    "p": "pack id (Enroll, Send me this); mentoring pair id (Met)",
    "q": "question id (an answer); the learner's question text (passed on)",
    "r": "rating 1-5 (Rate); feedback reason key (Reason)",
    "s": "review session id: the review message a button belongs to",
    "t": "message ts (a learner's question passed on)",
    "th": "thread ts (a learner's question passed on)",
}


def encode(**values: Any) -> str:
    """A button's value: compact JSON (orjson, since a fan-out encodes one for every link and answer
    button of every learner's lesson). Its keys are VALUE_KEYS'."""
    return orjson.dumps(values).decode()


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
    """Button labels: the options themselves, or letters when one is too long for a button."""
    options = question.options
    if all(len(c) <= 75 for c in options):
        return options, False
    return [chr(ord("A") + i) for i in range(len(options))], True


def _md(text: str) -> str:
    """Authors' text (prompts, explanations, feedback) may use Markdown; it is escaped on the way."""
    return markdown_to_mrkdwn(text)


def question_blocks(
    question: Question, number: int, total: int, ref: dict[str, Any], key: str | None = None
) -> list[Block]:
    """A question waiting for its answer, in the form its kind needs.

    ``ref`` says where the answer belongs ({"d": delivery} or {"s": session, "k": card}) and is
    carried in every button's value.
    """
    labels, lettered = _choice_labels(question)
    heading = f"*Question {number} of {total}*" if total > 1 else "*Question*"
    prompt = f"{heading}\n{_md(question.prompt)}"
    kind = question.kind
    if lettered:
        prompt += "\n" + "\n".join(
            f"*{label}.* {escape(option)}" for label, option in zip(labels, question.options, strict=True)
        )
    key = key or question.id  # block ids must be unique within a message
    blocks: list[Block] = []
    if kind == "multiple":
        prompt += "\n_Tick every right answer, then press Submit._"
    if kind == "short":
        prompt += "\n_Type your answer._"
    blocks.append(section(prompt, block_id=f"prompt:{key}"))
    if kind in ("single", "true_false"):
        blocks.append({
            "type": "actions",
            "block_id": f"answer:{key}",
            "elements": [
                button(label, f"{ANSWER_ACTION}:{i}", encode(**ref, q=question.id, c=i))
                for i, label in enumerate(labels)
            ],
        })
    elif kind == "multiple":
        blocks.append({
            "type": "actions",
            "block_id": f"pick:{key}",
            "elements": [
                {
                    "type": "checkboxes",
                    "action_id": PICK_ACTION,
                    "options": [
                        {"text": plain(label, 75), "value": str(i)} for i, label in enumerate(labels)
                    ],
                },
                button("Submit", SUBMIT_MULTI_ACTION, encode(**ref, q=question.id, b=f"pick:{key}"),
                       style="primary"),
            ],
        })
    else:
        blocks.append({
            "type": "actions",
            "block_id": f"type:{key}",
            "elements": [button("Type your answer", TYPE_ANSWER_ACTION, encode(**ref, q=question.id),
                                style="primary")],
        })
    return blocks


def answered_blocks(
    question: Question, number: int, chosen: str, correct: bool, key: str | None = None, after: str = ""
) -> list[Block]:
    key = key or question.id
    verb = "wrote" if question.kind == "short" else "chose"
    verdict = "✅ Right" if correct else f"❌ Not quite — the answer is *{escape(question.correct_text)}*"
    lines = [f"*Question {number}.* {_md(question.prompt)}", f"You {verb} *{escape(chosen)}*. {verdict}"]
    notes = []
    if question.kind in ("single", "true_false"):
        note = question.feedback_for(chosen)
        if note:
            notes.append(note)
    elif question.kind == "multiple":
        notes = [n for n in (question.feedback_for(c.strip()) for c in chosen.split(";")) if n]
    blocks = [section("\n".join(lines), block_id=f"result:{key}")]
    if notes:
        blocks.append(context(*[f"🗒️ {_md(n)}" for n in notes[:3]]))
    blocks.append(context(f"💡 {_md(question.explain)}" + (f"  ·  {after}" if after else "")))
    return blocks


def _reflection_blocks(lesson: Lesson, state: DeliveryState) -> list[Block]:
    if not lesson.reflect:
        return []
    if state.reflection:
        return [section(f"📝 *Your reflection* — {_md(lesson.reflect)}\n{quote(state.reflection)}",
                        block_id="reflected")]
    return [
        section(f"📝 *Reflect:* {_md(lesson.reflect)}\n_Just for you: it is kept as your own notes, never graded._",
                block_id="reflect-prompt",
                accessory=button("Write", REFLECT_ACTION, encode(d=state.id))),
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
    if state.rating <= 3 and state.reason is None:
        blocks.append(section("Not so useful? Tell the authors why:", block_id="reason-prompt"))
        blocks.append({
            "type": "actions",
            "block_id": "reason",
            "elements": [button(label, f"{REASON_ACTION}:{key}", encode(d=state.id, r=key))
                         for key, label in REASONS.items()],
        })
    elif state.reason is not None:
        blocks.append(context(f"Noted: _{REASONS.get(state.reason, state.reason).lower()}_."))
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
    for i, chunk in enumerate(_body_chunks(lesson.body)):
        blocks.append(section(chunk, block_id=f"body:{i}"))
    blocks.extend(_link_block(link, i, state.id) for i, link in enumerate(lesson.links))
    credit = credit_line(lesson)
    if credit:
        blocks.append(context(credit))
        blocks[-1]["block_id"] = "credit"

    tail: list[Block] = []
    total = len(lesson.quiz)
    waiting = False
    for number, question in enumerate(lesson.quiz, start=1):
        answer = state.answer_to(question.id)
        if answer is not None:
            tail.extend(answered_blocks(question, number, answer.choice, answer.correct))
        else:
            tail.extend(question_blocks(question, number, total, {"d": state.id}))
            waiting = True
            break
    if not waiting:
        tail.extend(_reflection_blocks(lesson, state))
        tail.extend(_feedback_blocks(state))

    # Keep the question and rating visible if a very long body pushes past Slack's 50 blocks.
    room = MAX_BLOCKS - len(tail) - 1
    if len(blocks) > room and not _EXACT.get():
        blocks = blocks[: room - 1] + [context("_The lesson continues in the pack; it was too long for one message._")]
    blocks.append({"type": "divider"})
    blocks.extend(tail)
    return RenderedMessage(_notification_text(lesson.title, lesson.minutes, pack.title), blocks)


def credit_line(lesson: Lesson) -> str | None:
    """Who contributed to the lesson (``/learn suggest``, ``contributed_by`` in the pack), escaped; None if nobody."""
    names: list[str] = []
    for name in [lesson.contributed_by, *(q.contributed_by for q in lesson.quiz),
                 *(link.contributed_by for link in lesson.links)]:
        if name and name not in names:
            names.append(name)
    if not names:
        return None
    what = "Written by" if lesson.contributed_by else "With contributions from"
    return f"🤝 {what} {', '.join(escape(n) for n in names[:5])} · `/learn suggest` adds yours"


@functools.lru_cache(maxsize=1024)
def _body_chunks(body: str) -> tuple[str, ...]:
    """A lesson body as mrkdwn sections: the same for every learner, so a fan-out converts it once."""
    return tuple(split_text(markdown_to_mrkdwn(body)))


@functools.lru_cache(maxsize=1024)
def _notification_text(title: str, minutes: int, pack_title: str) -> str:
    return render("lesson_notification.txt.j2", pack={"title": pack_title}, lesson={"title": title, "minutes": minutes})


def missing_lesson_message(state: DeliveryState) -> RenderedMessage:
    text = "This lesson is no longer available: its pack was removed or changed."
    return RenderedMessage(text, [section(text)])


def review_message(view: Any) -> RenderedMessage:
    """A review (or recertification) DM as it stands: answered questions, then the next one, then done."""
    session = view.session
    total = len(view.items)
    if session.kind == "recert":
        title = f"🎓 Renew your certificate: {view.pack.title if view.pack else 'recertification'}"
        intro = f"{total} questions from the pack. Pass to renew your certificate for another term."
    else:
        title = "🔁 Quick review"
        intro = f"{total} question{'s' if total != 1 else ''} from lessons you've had, back just before you'd forget."
    blocks: list[Block] = [{"type": "header", "text": plain(title, 150)}, context(escape(intro)), {"type": "divider"}]
    waiting = False
    for number, item in enumerate(view.items, start=1):
        key = f"c{item.card.id}"
        if item.answer is not None:
            days = item.answer.interval_days
            after = "retired: you know this one" if item.card.state.retired else (
                f"back in {max(1, round(days))} day{'s' if round(days) != 1 else ''}")
            blocks.extend(answered_blocks(item.question, number, item.answer.response, item.answer.correct, key,
                                          after=after))
        else:
            blocks.extend(question_blocks(item.question, number, total, {"s": session.id, "k": item.card.id}, key))
            waiting = True
            break
    if not waiting:
        right = sum(1 for i in view.items if i.answer and i.answer.correct)
        blocks.append(section(f"✅ Done — {right} of {total} right.", block_id="review-done"))
    text = f"{title} — {total} question{'s' if total != 1 else ''}"
    return RenderedMessage(escape(text), blocks if _EXACT.get() else blocks[:MAX_BLOCKS])


def certificate_message(name: str, pack_title: str, score: float, expires: datetime | None) -> RenderedMessage:
    until = f" It is valid until *{expires:%d %b %Y}*." if expires else ""
    text = f"🎓 Congratulations! You earned *{escape(name)}* for *{escape(pack_title)}* with {score:.0%}.{until}"
    return RenderedMessage(text, [section(text, block_id="certificate")])


def recert_invite_message(name: str, expires: datetime | None) -> RenderedMessage:
    when = f" on {expires:%d %b %Y}" if expires else ""
    text = f"🎓 Your certificate *{escape(name)}* expires{when}. A short review below renews it."
    return RenderedMessage(text, [section(text)])


def search_results(words: str, hits: Sequence[Any]) -> tuple[str, list[Block]]:
    if not hits:
        text = f"No lessons match “{escape(words)}”. Try other words, or `/learn packs` to browse."
        return text, [section(text)]
    blocks: list[Block] = [section(f"Lessons for “{escape(words)}”:")]
    for hit in hits:
        blocks.append(section(
            f"*{escape(hit.title)}*\n{escape(hit.pack_title)} · {hit.minutes} min",
            block_id=f"hit:{hit.pack_id}:{hit.lesson_id}"[:255],
            accessory=button("Send me this", SEND_LESSON_ACTION, encode(p=hit.pack_id, l=hit.lesson_id)),
        ))
    return f"{len(hits)} lessons for “{escape(words)}”", blocks


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


def typed_answer_modal(ref: dict[str, Any], question: Question) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": TYPED_ANSWER_VIEW,
        "private_metadata": encode(**ref, q=question.id),
        "title": plain("Your answer", 24),
        "submit": plain("Answer", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            section(_md(question.prompt)),
            {
                "type": "input",
                "block_id": "answer",
                "label": plain("Answer", 2000),
                "element": {"type": "plain_text_input", "action_id": "text", "max_length": 500},
            },
        ],
    }


def reflection_modal(delivery_id: int, prompt: str, draft: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "text", "multiline": True,
                               "max_length": 3000}
    if draft:
        element["initial_value"] = draft
    return {
        "type": "modal",
        "callback_id": REFLECTION_VIEW,
        "private_metadata": encode(d=delivery_id),
        "title": plain("Reflect", 24),
        "submit": plain("Save", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            section(_md(prompt)),
            {"type": "input", "block_id": "reflection", "label": plain("Your thoughts", 2000), "element": element},
            context("Only you see this. It is kept with your records, never graded."),
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


HOME_PAUSE_ACTION = "home_pause"
HOME_RESUME_ACTION = "home_resume"
HOME_TIME_ACTION = "home_time"
TIME_VIEW = "delivery_time"


def home_view(home: Any, *, role_sections: Sequence[Block] = ()) -> dict[str, Any]:
    """The learner's Home tab: packs and progress, streak, next lessons, reviews due, recent results, controls.

    ``role_sections`` are extra blocks for managers and facilitators, built by their own features.
    """
    learner = home.learner
    blocks: list[Block] = [
        {"type": "header", "text": plain("🌱 Sprout", 150)},
        section(f"Hi {escape(learner.name) or 'there'}! Short lessons, on your schedule, in your time zone "
                f"({escape(home.zone)})."),
    ]
    facts = [f"🔥 Streak: *{home.streak}* lesson day{'s' if home.streak != 1 else ''}",
             f"🔁 Reviews due: *{home.reviews_due}*"]
    if home.certificates:
        facts.append("🎓 " + ", ".join(escape(c.name) for c in home.certificates[:3]))
    blocks.append(context(*facts))
    blocks.append(context("💬 *Ask me* in the Messages tab: type `help`, a topic or a question, and I'll find the "
                          "lessons on it — or pass your question to your facilitators."))
    if home.until_resumed:
        status = "⏸️ *Paused* until you resume."
    elif home.paused_until is not None:
        status = f"⏸️ *Paused* until {home.paused_until:%a %d %b, %H:%M}."
    else:
        status = "▶️ Lessons are on."
    controls = [button("Resume", HOME_RESUME_ACTION, encode(), style="primary") if home.paused_until
                else button("Pause a week", HOME_PAUSE_ACTION, encode(days=7)),
                button("Change time", HOME_TIME_ACTION, encode())]
    blocks.append(section(status, block_id="home-status"))
    blocks.append({"type": "actions", "block_id": "home-controls", "elements": controls})
    blocks.append({"type": "divider"})
    blocks.append(section("*Your packs*"))
    if not home.entries:
        blocks.append(context("You're not enrolled in any pack yet — pick one below, or try `/learn search`."))
    for entry in home.entries[:12]:
        progress = entry.progress
        done = f"{progress.lessons_done} of {progress.lessons_total} lessons done" if progress else ""
        accuracy = f" · {progress.accuracy:.0%} right" if progress and progress.accuracy is not None else ""
        if entry.status == "on_demand":
            when = "lessons on request"
        elif entry.status == "completed" or entry.next_at is None:
            when = "✅ finished" if entry.status == "completed" or entry.lessons_sent >= len(entry.pack.lessons) \
                else "paused"
        else:
            when = f"next lesson {entry.next_at:%a %d %b, %H:%M}"
        blocks.append(section(f"*{escape(entry.pack.title)}*\n{done}{accuracy} · {when}"))
    if home.recent:
        lines = [f"{'✅' if right else '❌'} {escape(truncate(prompt, 80))}" for _, prompt, right, _ in home.recent]
        blocks.append(section("*Recent answers*\n" + "\n".join(lines), block_id="home-recent"))
    enrolled = {entry.pack.id for entry in home.entries if entry.status != "on_demand"}
    others = [p for p in home.available if p.id not in enrolled]
    if others:
        blocks.append({"type": "divider"})
        blocks.append(section("*More packs*"))
        for pack in others[:10]:
            blocks.append(
                section(
                    f"*{escape(pack.title)}* — {len(pack.lessons)} lessons\n{escape(truncate(pack.description, 300))}",
                    accessory=button("Enroll", HOME_ENROLL_ACTION, encode(p=pack.id), style="primary"),
                )
            )
    blocks.extend(_role_blocks(home))
    blocks.extend(role_sections)
    return {"type": "home", "blocks": blocks[:100]}


def _role_blocks(home: Any) -> list[Block]:
    blocks: list[Block] = []
    if home.team is not None:
        people, active = home.team
        blocks += [{"type": "divider"}, section(
            f"*👥 Your team*\n{people} direct report{'s' if people != 1 else ''} · {active} answered this week",
            block_id="home-team")]
    if home.organisation is not None:
        people, active = home.organisation
        blocks += [{"type": "divider"}, section(
            f"*🛠 Admin*\n{people} people in Sprout · {active} answered this week", block_id="home-admin")]
    if home.dial is not None:
        blocks.append(section(_dial_text(home.dial), block_id="home-dial"))
    if home.following:
        titles = {p.id: p.title for p in home.available}
        lines = [f"• {escape(titles.get(pack, pack))}: {following} following, {finished} finished"
                 for pack, (following, finished) in sorted(home.following.items())][:15]
        blocks += [{"type": "divider"}, section("*🧭 Packs*\n" + "\n".join(lines), block_id="home-packs")]
    return blocks


def _dial_text(d: Any) -> str:
    """What REVIEW_RETENTION costs learners and keeps, beside one step either side: an admin's reason to turn
    the dial or leave it."""
    where = ("learners like this workspace's (fitted FSRS parameters)" if d.fitted
             else "typical learners (FSRS-6's defaults; `review optimize` fits this workspace's)")
    lines = [f"• at {f.retention:.2f}{' (configured)' if abs(f.retention - d.retention) < 1e-9 else ''}: about "
             f"{f.per_week:.0f} review questions a learner a week, {f.recall * 100:.0f}% expected recall at day 90"
             for f in d.forecasts]
    return (f"*🎚 Review retention: {d.retention:.2f}* (`REVIEW_RETENTION`)\n" + "\n".join(lines)
            + f"\n_Forecast by Sprout's memory simulation for {where}: a pack of 40 one-question lessons over "
              "90 days._")


def time_modal(current: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "timepicker", "action_id": "time"}
    if current:
        element["initial_time"] = current
    return {
        "type": "modal",
        "callback_id": TIME_VIEW,
        "title": plain("Lesson time", 24),
        "submit": plain("Save", 24),
        "close": plain("Cancel", 24),
        "blocks": [{"type": "input", "block_id": "time", "label": plain("Send my lessons at (my time)", 2000),
                    "element": element}],
    }
