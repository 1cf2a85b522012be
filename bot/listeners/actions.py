"""Buttons in lesson messages and the Home tab."""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import blocks
from bot.i18n import N_, _
from bot.listeners import Deps
from bot.listeners.errors import friendly
from bot.service import LessonView, ReviewView
from learning.errors import Gone

log = logging.getLogger(__name__)


def _value(body: dict) -> dict:
    try:
        return blocks.decode(body["actions"][0]["value"])
    except (KeyError, IndexError, ValueError):
        raise Gone(_("That button no longer works; it may come from an older version of Sprout.")) from None


def keep(deps: Deps, kind: str, ref_id: int, now, use_case: Callable[[Callable[[], None]], Any]) -> Any:
    """Run ``use_case``, handing it the mark that its message (``kind``, ``ref_id``) must be redrawn, which
    the use case makes in its own transaction when it records something: the records of a click, and the
    note that Slack does not show them yet, commit together. Called before the ack, so an acknowledged
    click is a kept record."""
    store = deps.service.store
    return use_case(lambda: store.mark_redraw(kind, ref_id, now))


def later(deps: Deps, work: Callable[[], None]) -> None:
    """Run ``work`` (drawing after an ack) on the drawing threads.

    Python runs one thread at a time. After a 09:30 delivery fifty clicks come at once; drawn in their
    listeners' threads, the clicks already acked would share the CPU equally with those still recording
    theirs, and every ack would wait for everyone's drawing. A few drawing threads take a few shares:
    acks go first, and the messages follow a moment later, in the order of the clicks."""
    if deps.drawing is None:
        work()
        return
    try:
        deps.drawing.submit(contextvars.copy_context().run, work)  # in the reader's language
    except RuntimeError:  # shutting down: the marks stay, and the redraw job draws them at the next start
        log.info("not drawing now: shutting down")


def show(deps: Deps, kind: str, ref_id: int, since, draw: Callable[[], bool]) -> None:
    """Draw a message after its records were kept, on the drawing threads. If Slack (or the database)
    refuses now, or where the message is is not known yet, the mark stays and the redraw job (bot.redraw)
    draws it later; the person's record is safe either way."""
    later(deps, lambda: draw_now(deps, kind, ref_id, since, draw))


def draw_now(deps: Deps, kind: str, ref_id: int, since, draw: Callable[[], bool]) -> None:
    try:
        if draw():
            deps.service.store.redrawn(kind, ref_id, since=since)
    except Exception:
        log.warning("could not redraw %s %s now; the redraw job will", kind, ref_id, exc_info=True)


def update_lesson(client: WebClient, view: LessonView, body: dict | None = None) -> bool:
    """Redraw the lesson message from the records, so it always shows what was stored. False when where
    the message is is not known (yet: its sending may not be recorded)."""
    channel = view.state.channel_id or (body or {}).get("container", {}).get("channel_id")
    ts = view.state.message_ts or (body or {}).get("container", {}).get("message_ts")
    if not channel or not ts:
        return False
    message = blocks.lesson_message(view.pack, view.lesson, view.state)
    client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)
    return True


def update_review(client: WebClient, view: ReviewView, body: dict | None = None) -> bool:
    channel = view.session.channel_id or (body or {}).get("container", {}).get("channel_id")
    ts = view.session.message_ts or (body or {}).get("container", {}).get("message_ts")
    if not channel or not ts:
        return False
    message = blocks.review_message(view)
    client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)
    return True


ALREADY = N_("You already answered this question — your first answer is the one that counts.")


def record_answer(deps: Deps, client: WebClient, user_id: str, ref: dict, question_id: str, response,
                  body: dict | None = None, tell=None, ack=None) -> None:
    """An answer to a lesson's or a review's question, whichever the button or modal belongs to: the answer,
    its review card and any certificate are kept in one transaction, then ``ack``, then the message."""
    now = deps.clock()
    if "d" in ref:
        kind, ref_id, update = "lesson", int(ref["d"]), update_lesson
        outcome = keep(deps, kind, ref_id, now,
                       lambda kept: deps.service.answer(user_id, ref_id, question_id, response, now, kept=kept))
    else:
        kind, ref_id, update = "review", int(ref["s"]), update_review
        outcome = keep(deps, kind, ref_id, now,
                       lambda kept: deps.service.review_answer(user_id, ref_id, int(ref["k"]), response, now,
                                                              kept=kept))
    if ack is not None:
        ack()
    if not outcome.recorded and tell is not None:
        tell(_(ALREADY))

    def draw() -> None:
        draw_now(deps, kind, ref_id, now, lambda: update(client, outcome.view, body))
        if outcome.recorded:
            refresh_home(client, deps, user_id)  # progress, streak, reviews due, recent answers, a certificate

    later(deps, draw)


def _ref(value: dict) -> dict:
    return {"d": value["d"]} if "d" in value else {"s": value["s"], "k": value["k"]}


def register(app: App, *, deps: Deps) -> None:
    def private(respond: Respond):
        return lambda text: respond(text=text, response_type="ephemeral", replace_original=False)

    @app.action(re.compile(rf"^{blocks.ANSWER_ACTION}:\d+$"))
    @friendly
    def answer(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        value = _value(body)
        record_answer(deps, client, body["user"]["id"], _ref(value), str(value["q"]), int(value["c"]), body,
                      private(respond), ack)

    @app.action(blocks.PICK_ACTION)
    def pick(ack: Ack) -> None:
        ack()  # ticking a box changes nothing until Submit

    @app.action(blocks.SUBMIT_MULTI_ACTION)
    @friendly
    def submit_multi(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        value = _value(body)
        state = (body.get("state") or {}).get("values", {}).get(str(value.get("b")), {})
        picked = [int(o["value"]) for o in (state.get(blocks.PICK_ACTION) or {}).get("selected_options") or []]
        record_answer(deps, client, body["user"]["id"], _ref(value), str(value["q"]), picked, body,
                      private(respond), ack)

    @app.action(blocks.TYPE_ANSWER_ACTION)
    @friendly
    def type_answer(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        value = _value(body)
        question = deps.service.question_for(body["user"]["id"], _ref(value), str(value["q"]))
        client.views_open(trigger_id=body["trigger_id"], view=blocks.typed_answer_modal(_ref(value), question))

    @app.action(blocks.REFLECT_ACTION)
    @friendly
    def reflect(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        view = deps.service.lesson_view(int(_value(body)["d"]), body["user"]["id"])
        client.views_open(trigger_id=body["trigger_id"],
                          view=blocks.reflection_modal(view.state.id, view.lesson.reflect or "", view.state.reflection))

    @app.action(re.compile(rf"^{blocks.REASON_ACTION}:\w+$"))
    @friendly
    def reason(ack: Ack, body: dict, client: WebClient) -> None:
        value, now = _value(body), deps.clock()
        delivery_id = int(value["d"])
        outcome = keep(deps, "lesson", delivery_id, now,
                       lambda kept: deps.service.reason(body["user"]["id"], delivery_id, str(value["r"]), now,
                                                        kept=kept))
        ack()
        show(deps, "lesson", delivery_id, now, lambda: update_lesson(client, outcome.view, body))

    @app.action(blocks.SEND_LESSON_ACTION)
    @friendly
    def send_lesson(ack: Ack, body: dict, respond: Respond, client: WebClient) -> None:
        ack()
        value = _value(body)
        view = deps.service.send_lesson(body["user"]["id"], str(value["p"]), str(value["l"]), deps.clock())
        respond(text=_("On its way: *%(title)s* — check your DMs with Sprout.", title=blocks.escape(view.lesson.title)),
                response_type="ephemeral", replace_original=False)
        refresh_home(client, deps, body["user"]["id"])

    @app.action(re.compile(rf"^{blocks.RATE_ACTION}:\d$"))
    @friendly
    def rate(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        value, now = _value(body), deps.clock()
        delivery_id = int(value["d"])
        outcome = keep(deps, "lesson", delivery_id, now,
                       lambda kept: deps.service.rate(body["user"]["id"], delivery_id, int(value["r"]), now,
                                                      kept=kept))
        ack()
        if not outcome.recorded:
            respond(text=_("You already rated this lesson — thanks!"), response_type="ephemeral",
                    replace_original=False)
        show(deps, "lesson", delivery_id, now, lambda: update_lesson(client, outcome.view, body))
        if outcome.recorded:
            refresh_home(client, deps, body["user"]["id"])  # a rated lesson without questions keeps the streak

    @app.action(blocks.COMMENT_ACTION)
    @friendly
    def comment(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        value = _value(body)
        view = deps.service.lesson_view(int(value["d"]), body["user"]["id"])
        client.views_open(trigger_id=body["trigger_id"], view=blocks.comment_modal(view.state.id, view.lesson.title))

    @app.action(re.compile(rf"^{blocks.OPEN_LINK_ACTION}:\d+$"))
    @friendly
    def open_link(ack: Ack, body: dict) -> None:
        # A URL button opens the page in the browser; Slack also tells us, which is the "experienced" record.
        value = _value(body)
        deps.service.open_link(body["user"]["id"], int(value["d"]), int(value["l"]), deps.clock())
        ack()

    @app.action(blocks.HOME_ENROLL_ACTION)
    @friendly
    def home_enroll(ack: Ack, body: dict, client: WebClient) -> None:
        value = _value(body)
        user_id = body["user"]["id"]
        deps.service.enroll(user_id, str(value["p"]), deps.clock())
        ack()
        publish_home(client, deps, user_id)

    register_pause_offer(app, deps=deps)

    @app.action(blocks.HOME_PAUSE_ACTION)
    @friendly
    def home_pause(ack: Ack, body: dict, client: WebClient) -> None:
        deps.service.pause(body["user"]["id"], f"{int(_value(body).get('days', 7))} days", deps.clock())
        ack()
        publish_home(client, deps, body["user"]["id"])

    @app.action(blocks.HOME_RESUME_ACTION)
    @friendly
    def home_resume(ack: Ack, body: dict, client: WebClient) -> None:
        deps.service.resume(body["user"]["id"], deps.clock())
        ack()
        publish_home(client, deps, body["user"]["id"])

    @app.action(blocks.HOME_TIME_ACTION)
    @friendly
    def home_time(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        learner = deps.service.learner(body["user"]["id"], deps.clock())
        client.views_open(trigger_id=body["trigger_id"], view=blocks.time_modal(learner.delivery_time))


def register_pause_offer(app: App, *, deps: Deps) -> None:
    @app.action(re.compile(rf"^{blocks.PAUSE_OFFER_ACTION}:\d+$"))
    @friendly
    def pause_offer(ack: Ack, body: dict, client: WebClient) -> None:
        days = int(_value(body).get("days", 0))
        user_id = body["user"]["id"]
        if days:
            outcome = deps.service.pause(user_id, f"{days} days", deps.clock())
            text = blocks.schedule_text(outcome)
        else:
            text = _("👍 Lessons keep coming. Whenever you need a break: `/learn pause`.")
        ack()
        answer = blocks.pause_answer_message(text)
        container = body.get("container", {})
        client.chat_update(channel=container.get("channel_id"), ts=container.get("message_ts"), text=answer.text,
                           blocks=answer.blocks)
        if days:
            refresh_home(client, deps, user_id)


def publish_home(client: WebClient, deps: Deps, user_id: str) -> None:
    def draw_and_publish() -> None:
        now = deps.clock()
        home = deps.service.home(user_id, now)
        sections = [block for section in deps.home_sections for block in section(user_id, now)]
        client.views_publish(user_id=user_id, view=blocks.home_view(home, role_sections=sections))
        deps.service.home_published(user_id, now)

    deps.home.publish(user_id, draw_and_publish)


def refresh_home(client: WebClient, deps: Deps, user_id: str) -> None:
    """After a change (an answer, a review, a certificate, the schedule, an enrollment), republish the
    Home tab — only for people who have one, so the many who never open it cost one lookup. Called
    after the ack and after the person's own reply; a failure here is logged and changes nothing else."""
    try:
        if deps.service.has_home(user_id):
            publish_home(client, deps, user_id)
    except Exception:
        log.warning("could not refresh the Home tab of %s", user_id, exc_info=True)
