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

from bot.i18n import N_, _, current, fmt_date, fmt_percent, fmt_when, n_
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
REASONS = {"too_easy": N_("Too easy"), "too_hard": N_("Too hard"), "not_relevant": N_("Not relevant"),
           "inaccurate": N_("Inaccurate")}
PAUSE_OFFER_ACTION = "pause_offer"

LINK_ICONS = {"podcast": "🎧", "article": "📄", "video": "🎬"}
LINK_VERBS = {"podcast": N_("Listen"), "article": N_("Read"), "video": N_("Watch")}
LINK_KINDS = {"podcast": N_("Podcast"), "article": N_("Article"), "video": N_("Video")}
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
    length = " · " + _("%(minutes)s min", minutes=link.minutes) if link.minutes else ""
    return section(
        f"{icon} *<{escape(link.url)}|{escape(link.title)}>*\n{_(LINK_KINDS[link.kind])}{length}",
        block_id=f"link:{index}",
        accessory=button(_(LINK_VERBS[link.kind]), f"{OPEN_LINK_ACTION}:{index}",
                         encode(d=delivery_id, l=index), url=link.url),
    )


TRUE_FALSE = {"True": N_("True"), "False": N_("False")}


def shown_option(question: Question, text: str) -> str:
    """An option as the reader sees it: a true/false question's True and False are Sprout's words, in the
    reader's language; records keep the pack's own ("True", "False")."""
    return _(TRUE_FALSE[text]) if question.kind == "true_false" and text in TRUE_FALSE else text


def _shown_options(question: Question) -> list[str]:
    return [shown_option(question, option) for option in question.options]


def _choice_labels(question: Question) -> tuple[list[str], bool]:
    """Button labels: the options themselves, or letters when one is too long for a button."""
    options = _shown_options(question)
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
    heading = (_("*Question %(number)s of %(total)s*", number=number, total=total) if total > 1
               else _("*Question*"))
    prompt = f"{heading}\n{_md(question.prompt)}"
    kind = question.kind
    if lettered:
        prompt += "\n" + "\n".join(
            f"*{label}.* {escape(option)}" for label, option in zip(labels, _shown_options(question), strict=True)
        )
    key = key or question.id  # block ids must be unique within a message
    blocks: list[Block] = []
    if kind == "multiple":
        prompt += "\n" + _("_Tick every right answer, then press Submit._")
    if kind == "short":
        prompt += "\n" + _("_Type your answer._")
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
                button(_("Submit"), SUBMIT_MULTI_ACTION, encode(**ref, q=question.id, b=f"pick:{key}"),
                       style="primary"),
            ],
        })
    else:
        blocks.append({
            "type": "actions",
            "block_id": f"type:{key}",
            "elements": [button(_("Type your answer"), TYPE_ANSWER_ACTION, encode(**ref, q=question.id),
                                style="primary")],
        })
    return blocks


def answered_blocks(
    question: Question, number: int, chosen: str, correct: bool, key: str | None = None, after: str = ""
) -> list[Block]:
    key = key or question.id
    verdict = _("✅ Right") if correct else _("❌ Not quite — the answer is *%(answer)s*",
                                             answer=escape(shown_option(question, question.correct_text)))
    said = (_("You wrote *%(answer)s*.", answer=escape(chosen)) if question.kind == "short"
            else _("You chose *%(answer)s*.", answer=escape(shown_option(question, chosen))))
    lines = [_("*Question %(number)s.*", number=number) + f" {_md(question.prompt)}", f"{said} {verdict}"]
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
        return [section(_("📝 *Your reflection* — %(prompt)s", prompt=_md(lesson.reflect)) + f"\n{quote(state.reflection)}",
                        block_id="reflected")]
    return [
        section(_("📝 *Reflect:* %(prompt)s", prompt=_md(lesson.reflect)) + "\n"
                + _("_Just for you: it is kept as your own notes, never graded._"),
                block_id="reflect-prompt",
                accessory=button(_("Write"), REFLECT_ACTION, encode(d=state.id))),
    ]


def _feedback_blocks(state: DeliveryState) -> list[Block]:
    if state.rating is None:
        return [
            section(_("*How useful was this lesson?* 1 = not useful, 5 = very useful"), block_id="rate-prompt"),
            {
                "type": "actions",
                "block_id": "rate",
                "elements": [
                    button(f"{'⭐' * n}", f"{RATE_ACTION}:{n}", encode(d=state.id, r=n)) for n in range(1, 6)
                ],
            },
        ]
    blocks = [section(_("Thanks — you rated this lesson *%(rating)s/5*.", rating=state.rating), block_id="rated")]
    if state.rating <= 3 and state.reason is None:
        blocks.append(section(_("Not so useful? Tell the authors why:"), block_id="reason-prompt"))
        blocks.append({
            "type": "actions",
            "block_id": "reason",
            "elements": [button(_(label), f"{REASON_ACTION}:{key}", encode(d=state.id, r=key))
                         for key, label in REASONS.items()],
        })
    elif state.reason is not None:
        reason = _(REASONS[state.reason]) if state.reason in REASONS else state.reason
        blocks.append(context(_("Noted: _%(reason)s_.", reason=reason.lower())))
    if state.comment:
        blocks.append(section(_("💬 Your comment, passed on to the authors:") + f"\n{quote(state.comment)}",
                              block_id="commented"))
    else:
        blocks.append(
            {
                "type": "actions",
                "block_id": "comment",
                "elements": [button(_("Add a comment"), COMMENT_ACTION, encode(d=state.id))],
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
        context(f"*{escape(pack.title)}* · " + _("lesson %(position)s of %(total)s", position=position,
                                                 total=len(pack.lessons))
                + " · " + _("%(minutes)s min", minutes=lesson.minutes)),
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
        blocks = blocks[: room - 1] + [context(_("_The lesson continues in the pack; it was too long for one message._"))]
    blocks.append({"type": "divider"})
    blocks.extend(tail)
    return RenderedMessage(_notification_text(lesson.title, lesson.minutes, pack.title, current().language), blocks)


def credit_line(lesson: Lesson) -> str | None:
    """Who contributed to the lesson (``/learn suggest``, ``contributed_by`` in the pack), escaped; None if nobody."""
    names: list[str] = []
    for name in [lesson.contributed_by, *(q.contributed_by for q in lesson.quiz),
                 *(link.contributed_by for link in lesson.links)]:
        if name and name not in names:
            names.append(name)
    if not names:
        return None
    who = ", ".join(escape(n) for n in names[:5])
    what = (_("Written by %(names)s", names=who) if lesson.contributed_by
            else _("With contributions from %(names)s", names=who))
    return f"🤝 {what} · " + _("`/learn suggest` adds yours")


@functools.lru_cache(maxsize=1024)
def _body_chunks(body: str) -> tuple[str, ...]:
    """A lesson body as mrkdwn sections: the same for every learner, so a fan-out converts it once."""
    return tuple(split_text(markdown_to_mrkdwn(body)))


@functools.lru_cache(maxsize=1024)
def _notification_text(title: str, minutes: int, pack_title: str, language: str) -> str:
    """Cached per language too: ``language`` is the current reader's, which ``render`` speaks."""
    return render("lesson_notification.txt.j2", pack={"title": pack_title}, lesson={"title": title, "minutes": minutes})


def missing_lesson_message(state: DeliveryState) -> RenderedMessage:
    text = _("This lesson is no longer available: its pack was removed or changed.")
    return RenderedMessage(text, [section(text)])


def review_message(view: Any) -> RenderedMessage:
    """A review (or recertification) DM as it stands: answered questions, then the next one, then done."""
    session = view.session
    total = len(view.items)
    if session.kind == "recert":
        title = _("🎓 Renew your certificate: %(name)s", name=view.pack.title if view.pack else _("recertification"))
        intro = n_("%(n)s question from the pack. Pass to renew your certificate for another term.",
                   "%(n)s questions from the pack. Pass to renew your certificate for another term.", total)
    else:
        title = _("🔁 Quick review")
        intro = n_("%(n)s question from lessons you've had, back just before you'd forget.",
                   "%(n)s questions from lessons you've had, back just before you'd forget.", total)
    blocks: list[Block] = [{"type": "header", "text": plain(title, 150)}, context(escape(intro)), {"type": "divider"}]
    waiting = False
    for number, item in enumerate(view.items, start=1):
        key = f"c{item.card.id}"
        if item.answer is not None:
            days = item.answer.interval_days
            back = max(1, round(days))
            after = _("retired: you know this one") if item.card.state.retired else (
                n_("back in %(n)s day", "back in %(n)s days", back))
            blocks.extend(answered_blocks(item.question, number, item.answer.response, item.answer.correct, key,
                                          after=after))
        else:
            blocks.extend(question_blocks(item.question, number, total, {"s": session.id, "k": item.card.id}, key))
            waiting = True
            break
    if not waiting:
        right = sum(1 for i in view.items if i.answer and i.answer.correct)
        blocks.append(section(_("✅ Done — %(right)s of %(total)s right.", right=right, total=total),
                              block_id="review-done"))
    text = f"{title} — " + n_("%(n)s question", "%(n)s questions", total)
    return RenderedMessage(escape(text), blocks if _EXACT.get() else blocks[:MAX_BLOCKS])


def certificate_message(name: str, pack_title: str, score: float, expires: datetime | None) -> RenderedMessage:
    until = " " + _("It is valid until *%(date)s*.", date=fmt_date(expires)) if expires else ""
    text = _("🎓 Congratulations! You earned *%(name)s* for *%(pack)s* with %(score)s.", name=escape(name),
             pack=escape(pack_title), score=fmt_percent(score)) + until
    return RenderedMessage(text, [section(text, block_id="certificate")])


def recert_invite_message(name: str, expires: datetime | None) -> RenderedMessage:
    if expires:
        text = _("🎓 Your certificate *%(name)s* expires on %(date)s. A short review below renews it.",
                 name=escape(name), date=fmt_date(expires))
    else:
        text = _("🎓 Your certificate *%(name)s* expires. A short review below renews it.", name=escape(name))
    return RenderedMessage(text, [section(text)])


def search_results(words: str, hits: Sequence[Any]) -> tuple[str, list[Block]]:
    if not hits:
        text = _("No lessons match “%(words)s”. Try other words, or `/learn packs` to browse.", words=escape(words))
        return text, [section(text)]
    blocks: list[Block] = [section(_("Lessons for “%(words)s”:", words=escape(words)))]
    for hit in hits:
        blocks.append(section(
            f"*{escape(hit.title)}*\n{escape(hit.pack_title)} · " + _("%(minutes)s min", minutes=hit.minutes),
            block_id=f"hit:{hit.pack_id}:{hit.lesson_id}"[:255],
            accessory=button(_("Send me this"), SEND_LESSON_ACTION, encode(p=hit.pack_id, l=hit.lesson_id)),
        ))
    return n_("%(n)s lesson for “%(words)s”", "%(n)s lessons for “%(words)s”", len(hits), words=escape(words)), blocks


def reminder_message(lesson: Lesson) -> RenderedMessage:
    text = n_("⏰ Your lesson *%(title)s* is still waiting — it takes about %(n)s minute.",
              "⏰ Your lesson *%(title)s* is still waiting — it takes about %(n)s minutes.", lesson.minutes,
              title=escape(lesson.title))
    return RenderedMessage(text, [section(text)])


def pause_offer_message() -> RenderedMessage:
    text = _("You've missed the last few lessons — that's fine, work gets busy. Want a break? "
             "Your place in each pack is kept.")
    return RenderedMessage(
        text,
        [
            section(text, block_id="pause-offer"),
            {
                "type": "actions",
                "block_id": "pause-choices",
                "elements": [
                    button(_("Pause for a week"), f"{PAUSE_OFFER_ACTION}:7", encode(days=7), style="primary"),
                    button(_("Pause for two weeks"), f"{PAUSE_OFFER_ACTION}:14", encode(days=14)),
                    button(_("Keep them coming"), f"{PAUSE_OFFER_ACTION}:0", encode(days=0)),
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
        "title": plain(_("Your comment"), 24),
        "submit": plain(_("Send"), 24),
        "close": plain(_("Cancel"), 24),
        "blocks": [
            section(_("What should the authors of *%(title)s* know?", title=escape(lesson_title))),
            {
                "type": "input",
                "block_id": "comment",
                "label": plain(_("Comment"), 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "max_length": 2000,
                    "placeholder": plain(_("What worked, what didn't, what was missing…"), 150),
                },
            },
        ],
    }


def typed_answer_modal(ref: dict[str, Any], question: Question) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": TYPED_ANSWER_VIEW,
        "private_metadata": encode(**ref, q=question.id),
        "title": plain(_("Your answer"), 24),
        "submit": plain(_("Answer"), 24),
        "close": plain(_("Cancel"), 24),
        "blocks": [
            section(_md(question.prompt)),
            {
                "type": "input",
                "block_id": "answer",
                "label": plain(_("Answer"), 2000),
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
        "title": plain(_("Reflect"), 24),
        "submit": plain(_("Save"), 24),
        "close": plain(_("Cancel"), 24),
        "blocks": [
            section(_md(prompt)),
            {"type": "input", "block_id": "reflection", "label": plain(_("Your thoughts"), 2000),
             "element": element},
            context(_("Only you see this. It is kept with your records, never graded.")),
        ],
    }


def comment_thanks_modal(comment: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain(_("Thank you"), 24),
        "close": plain(_("Done"), 24),
        "blocks": [section(_("Thanks! We passed this on to the authors:") + f"\n{quote(comment)}")],
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
        section(_("Hi %(name)s! Short lessons, on your schedule, in your time zone (%(zone)s).",
                  name=escape(learner.name) or _("there"), zone=escape(home.zone))),
    ]
    facts = [n_("🔥 Streak: *%(n)s* lesson day", "🔥 Streak: *%(n)s* lesson days", home.streak),
             _("🔁 Reviews due: *%(count)s*", count=home.reviews_due)]
    if home.certificates:
        facts.append("🎓 " + ", ".join(escape(c.name) for c in home.certificates[:3]))
    blocks.append(context(*facts))
    blocks.append(context(_("💬 *Ask me* in the Messages tab: type `help`, a topic or a question, and I'll find "
                            "the lessons on it — or pass your question to your facilitators.")))
    if home.until_resumed:
        status = _("⏸️ *Paused* until you resume.")
    elif home.paused_until is not None:
        status = _("⏸️ *Paused* until %(when)s.", when=fmt_when(home.paused_until))
    else:
        status = _("▶️ Lessons are on.")
    controls = [button(_("Resume"), HOME_RESUME_ACTION, encode(), style="primary") if home.paused_until
                else button(_("Pause a week"), HOME_PAUSE_ACTION, encode(days=7)),
                button(_("Change time"), HOME_TIME_ACTION, encode())]
    blocks.append(section(status, block_id="home-status"))
    blocks.append({"type": "actions", "block_id": "home-controls", "elements": controls})
    blocks.append({"type": "divider"})
    blocks.append(section(_("*Your packs*")))
    if not home.entries:
        blocks.append(context(_("You're not enrolled in any pack yet — pick one below, or try `/learn search`.")))
    for entry in home.entries[:12]:
        progress = entry.progress
        done = n_("%(done)s of %(n)s lesson done", "%(done)s of %(n)s lessons done", progress.lessons_total,
                  done=progress.lessons_done) if progress else ""
        accuracy = (" · " + _("%(share)s right", share=fmt_percent(progress.accuracy))
                    if progress and progress.accuracy is not None else "")
        if entry.status == "on_demand":
            when = _("lessons on request")
        elif entry.status == "completed" or entry.next_at is None:
            when = _("✅ finished") if entry.status == "completed" or entry.lessons_sent >= len(entry.pack.lessons) \
                else _("paused")
        else:
            when = _("next lesson %(when)s", when=fmt_when(entry.next_at))
        blocks.append(section(f"*{escape(entry.pack.title)}*\n{done}{accuracy} · {when}"))
    if home.recent:
        lines = [f"{'✅' if right else '❌'} {escape(truncate(prompt, 80))}" for _pack, prompt, right, _at in home.recent]
        blocks.append(section(_("*Recent answers*") + "\n" + "\n".join(lines), block_id="home-recent"))
    enrolled = {entry.pack.id for entry in home.entries if entry.status != "on_demand"}
    others = [p for p in home.available if p.id not in enrolled]
    if others:
        blocks.append({"type": "divider"})
        blocks.append(section(_("*More packs*")))
        for pack in others[:10]:
            blocks.append(
                section(
                    f"*{escape(pack.title)}* — " + n_("%(n)s lesson", "%(n)s lessons", len(pack.lessons))
                    + f"\n{escape(truncate(pack.description, 300))}",
                    accessory=button(_("Enroll"), HOME_ENROLL_ACTION, encode(p=pack.id), style="primary"),
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
            _("*👥 Your team*") + "\n" + n_("%(n)s direct report", "%(n)s direct reports", people) + " · "
            + _("%(count)s answered this week", count=active),
            block_id="home-team")]
    if home.organisation is not None:
        people, active = home.organisation
        blocks += [{"type": "divider"}, section(
            _("*🛠 Admin*") + "\n" + n_("%(n)s person in Sprout", "%(n)s people in Sprout", people) + " · "
            + _("%(count)s answered this week", count=active), block_id="home-admin")]
    if home.dial is not None:
        blocks.append(section(_dial_text(home.dial), block_id="home-dial"))
    if home.following:
        titles = {p.id: p.title for p in home.available}
        lines = [f"• {escape(titles.get(pack, pack))}: "
                 + _("%(following)s following, %(finished)s finished", following=following, finished=finished)
                 for pack, (following, finished) in sorted(home.following.items())][:15]
        blocks += [{"type": "divider"}, section(_("*🧭 Packs*") + "\n" + "\n".join(lines), block_id="home-packs")]
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
        "title": plain(_("Lesson time"), 24),
        "submit": plain(_("Save"), 24),
        "close": plain(_("Cancel"), 24),
        "blocks": [{"type": "input", "block_id": "time", "label": plain(_("Send my lessons at (my time)"), 2000),
                    "element": element}],
    }
