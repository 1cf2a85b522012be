"""The DM you can talk to: what a learner types to Sprout is answered, and a question no lesson answers can
be passed to the facilitators.

A message in the DM (or in the thread of a lesson there) is read by ``learning.asking``: "help", "hi" or
"?" get the help; anything else is looked up with ``/learn search``'s search, and the best lessons come
back with its "Send me this" buttons. When nothing matches, the reply says so and offers a button that
passes the question on: to the channel an admin named (``/learn questions #channel``), else to every
facilitator and admin in a DM. The reply and the copies go through the outbox, so each is queued in the
unit of work that records the event (or the click) and sent once: Slack's retries are dropped by event
id, the same message under another event id by the reply's dedupe key, and a second click finds the
question already recorded.

Ignored: edits and deletions (the first reply stands; answering every typo fix would be noise), messages
from bots (Sprout's own included), and anything outside a DM. Someone Sprout has no record of (not in the
roster, never used ``/learn``) gets one short line pointing at ``/learn help``: no search, no record of
them, nothing for the facilitators.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.blocks import MAX_BLOCKS, Block, RenderedMessage, button, context, encode, search_results, section
from bot.mrkdwn import escape, quote, split_text, truncate
from bot.service import LearningService
from bot.text import render
from db.store import NewMessage, OutboxItem
from learning import asking
from learning.errors import Gone, SproutError
from scheduler.sending import OutgoingMessage

log = logging.getLogger(__name__)

ASK_FACILITATORS_ACTION = "ask_facilitators"
DM_REPLY = "dm_reply"  # outbox kind: Sprout's answer to what someone typed in its DM
QUESTION = "learner_question"  # outbox kind: a learner question, to a facilitator's DM or the admins' channel
# Message subtypes that are still a person writing something new: with a file, or sent to the channel too.
NEW_MESSAGE_SUBTYPES = (None, "file_share", "thread_broadcast")
MAX_BUTTON_VALUE = 2000  # Slack's limit on a button's value
MAX_QUESTION = 1500  # what of a question is passed on (it travels in the button's value)


@dataclass(frozen=True)
class DirectMessage:
    user_id: str
    channel_id: str
    ts: str
    thread_ts: str | None  # set when typed in a thread (a lesson's, or one of Sprout's replies)
    text: str  # as Slack sends it (entities, <@mentions>)


def direct_message(event: dict) -> DirectMessage | None:
    """The event as something a person newly typed to Sprout in its DM; None for anything else."""
    if event.get("type") != "message" or event.get("channel_type") != "im":
        return None
    if event.get("subtype") not in NEW_MESSAGE_SUBTYPES:
        return None  # message_changed, message_deleted, bot_message, channel_join…
    if event.get("bot_id") or event.get("bot_profile"):
        return None  # a bot, Sprout itself included (Slack echoes its posts to a subscribed app)
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    if not (user and channel and ts):
        return None
    if event.get("subtype") == "file_share" and not (event.get("text") or "").strip():
        return None  # a file with nothing said: not a question, and not a call for help
    thread_ts = event.get("thread_ts")
    return DirectMessage(user, channel, ts, thread_ts if thread_ts and thread_ts != ts else None,
                         event.get("text") or "")


@dataclass(frozen=True)
class Passed:
    """A question passed on: ``new`` unless it already was (a second click); where it went."""

    new: bool
    to_channel: str | None  # the admins' channel, or None for the facilitators' DMs
    facilitators: int


class Asking:
    """The use cases behind the DM: answer what was typed, pass a question on, choose where questions go."""

    def __init__(self, *, service: LearningService, store: Any) -> None:
        self.service = service
        self.store = store  # a Store with QuestionRecords

    # -- what someone typed ------------------------------------------------------------------

    def on_message(self, event: dict, now: datetime) -> bool:
        """A ``message`` event (``Deps.message_handlers``, inside the event's unit of work): True if it was
        someone writing to Sprout in its DM, whose answer is now queued."""
        message = direct_message(event)
        if message is None:
            return False
        learner = self.store.learner(message.user_id)
        if learner is None or not learner.active:
            reply, learner_id = stranger_reply(), None
        else:
            reply, learner_id = self.answer(message), learner.id
        queued = self.store.queue_messages([NewMessage(
            kind=DM_REPLY, dedupe_key=f"{DM_REPLY}:{message.channel_id}:{message.ts}", channel=message.channel_id,
            learner_id=learner_id,
            payload={"text": reply.text, "blocks": reply.blocks, "thread_ts": message.thread_ts},
        )], now)
        if queued:
            self.store.after_commit(lambda: self.service.dispatcher.dispatch(ids=queued))
        return bool(queued)

    def answer(self, message: DirectMessage) -> RenderedMessage:
        asked = asking.read(message.text)
        if asked.kind == "help":
            return help_reply()
        hits = self.service.search(asked.words) if asked.words else []
        if hits and any(hit.every_word for hit in hits):
            text, blocks = search_results(truncate(asked.text, 100), hits)
            return RenderedMessage(text, blocks)
        return no_match_reply(asked.text, message, partial=hits)

    # -- the button: pass it on ------------------------------------------------------------------

    def pass_question(self, slack_user_id: str, value: dict, now: datetime) -> Passed:
        """Record the question once and queue a copy for each facilitator (or the channel), together."""
        try:
            channel_id, ts, text = str(value["c"]), str(value["t"]), str(value["q"])
        except KeyError:
            raise Gone("That button no longer works; type your question again.") from None
        thread_ts = value.get("th")
        learner = self.service.learner(slack_user_id, now)
        channel = self.store.questions_channel()
        recipients = [channel] if channel else [
            uid for uid in self.store.facilitator_ids(self.service.admin_user_ids) if uid != slack_user_id]
        if not recipients:
            raise SproutError("There is no facilitator in Sprout yet to pass your question to — "
                              "please ask your learning team directly.")
        with self.store.unit_of_work():
            question_id, new = self.store.record_question(
                learner_id=learner.id, channel_id=channel_id, message_ts=ts, thread_ts=thread_ts,
                text=text[:MAX_QUESTION], passed_to=channel or "dm", now=now)
            if new:
                queued = self.store.queue_messages([
                    NewMessage(kind=QUESTION, dedupe_key=f"{QUESTION}:{question_id}:{to}", channel=to,
                               payload={"question": question_id}) for to in recipients], now)
                self.store.after_commit(lambda: self.service.dispatcher.dispatch(ids=queued))
        return Passed(new, channel, 0 if channel else len(recipients))

    # -- /learn questions ------------------------------------------------------------------------

    def where(self, slack_user_id: str, now: datetime) -> str:
        self.service.learner(slack_user_id, now)
        channel = self.store.questions_channel()
        return questions_setting_text(channel)

    def send_to(self, slack_user_id: str, channel_id: str | None, now: datetime) -> str:
        learner = self.service.require(slack_user_id, ("admin",), "choose where learner questions go", now)
        self.store.set_questions_channel(channel_id, now, by=learner.slack_user_id)
        return questions_setting_text(channel_id)

    def renderers(self) -> dict[str, Callable[[OutboxItem], OutgoingMessage | None]]:
        return question_renderers(self.store)


def question_renderers(store: Any) -> dict[str, Callable[[OutboxItem], OutgoingMessage | None]]:
    def reply(item: OutboxItem) -> OutgoingMessage | None:
        payload = item.payload or {}
        return OutgoingMessage(channel=item.channel, text=payload.get("text") or "", blocks=payload.get("blocks") or [],
                               thread_ts=payload.get("thread_ts"))

    def question(item: OutboxItem) -> OutgoingMessage | None:
        found = store.question(int((item.payload or {}).get("question", 0)))
        if found is None:
            return None  # forgotten meanwhile (/learn forget deletes what they typed)
        message = question_message(found)
        return OutgoingMessage(channel=item.channel, text=message.text, blocks=message.blocks)

    return {DM_REPLY: reply, QUESTION: question}


# -- what the replies look like (pure) --------------------------------------------------------------


def help_reply() -> RenderedMessage:
    text = render("dm_help.md.j2", unknown=None)
    return RenderedMessage(text, [section(chunk) for chunk in split_text(text)][:10])


def stranger_reply() -> RenderedMessage:
    text = render("dm_stranger.md.j2")
    return RenderedMessage(text, [section(text)])


def offer_value(message: DirectMessage, text: str) -> str:
    """The button's value: where the question was typed and its text, within Slack's 2,000 characters."""
    question = text[:MAX_QUESTION]
    value = encode(c=message.channel_id, t=message.ts, th=message.thread_ts, q=question)
    while len(value) > MAX_BUTTON_VALUE:  # quotes and backslashes take two characters in JSON
        question = question[: len(question) - (len(value) - MAX_BUTTON_VALUE) - 10]
        value = encode(c=message.channel_id, t=message.ts, th=message.thread_ts, q=question)
    return value


def no_match_reply(text: str, message: DirectMessage, *, partial: Sequence[Any] = ()) -> RenderedMessage:
    """No lesson has every word of the question: say so, show those that have some (``partial``), and offer
    to pass the question on."""
    said = render("dm_no_match.md.j2", asked=truncate(" ".join(text.split()), 150), partial=bool(partial))
    blocks: list[Block] = [section(said, block_id="no-match")]
    if partial:
        blocks += search_results(truncate(text, 100), partial[:3])[1][1:]
    blocks.append({"type": "actions", "block_id": "ask-facilitators", "elements": [
        button("Ask the facilitators", ASK_FACILITATORS_ACTION, offer_value(message, text), style="primary")]})
    return RenderedMessage(said, blocks)


def passed_message(passed: Passed, text: str, *, shown: Sequence[Block] | None = None) -> RenderedMessage:
    """The offer once taken: what it said (and the lessons it showed, ``shown``), the button replaced by
    where the question went."""
    said = render("dm_passed.md.j2", new=passed.new, channel=passed.to_channel, asked=truncate(text, 150))
    kept = [b for b in shown or () if b.get("block_id") not in ("ask-facilitators", "passed")]
    return RenderedMessage(said, [*kept, section(said, block_id="passed")][-MAX_BLOCKS:])


def question_message(q: Any) -> RenderedMessage:
    who = f"{escape(q.name)} (<@{q.slack_user_id}>)" if q.name else f"<@{q.slack_user_id}>"
    head = f"❓ *A learner question* from {who}"
    blocks: list[Block] = [section(head, block_id="question-from")]
    blocks += [section(chunk) for chunk in split_text(quote(q.text))][:20]
    blocks.append(context(render("learner_question.md.j2", in_thread=bool(q.thread_ts))))
    return RenderedMessage(f"❓ A learner question from {escape(q.name or 'a learner')}: "
                           f"{escape(truncate(' '.join(q.text.split()), 120))}", blocks)


def questions_setting_text(channel_id: str | None) -> str:
    return render("questions_setting.md.j2", channel=channel_id)


__all__ = [
    "ASK_FACILITATORS_ACTION", "Asking", "DM_REPLY", "DirectMessage", "Passed", "QUESTION", "direct_message",
    "help_reply", "no_match_reply", "passed_message", "question_message", "question_renderers", "stranger_reply",
]
