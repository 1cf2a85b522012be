"""Buttons in lesson messages and the Home tab."""

from __future__ import annotations

import re

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import blocks
from bot.listeners import Deps
from bot.listeners.errors import friendly
from bot.service import LessonView
from learning.errors import Gone


def _value(body: dict) -> dict:
    try:
        return blocks.decode(body["actions"][0]["value"])
    except (KeyError, IndexError, ValueError):
        raise Gone("That button no longer works; it may come from an older version of Sprout.") from None


def update_lesson(client: WebClient, view: LessonView, body: dict | None = None) -> None:
    """Redraw the lesson message from the records, so it always shows what was stored."""
    channel = view.state.channel_id or (body or {}).get("container", {}).get("channel_id")
    ts = view.state.message_ts or (body or {}).get("container", {}).get("message_ts")
    if not channel or not ts:
        return
    message = blocks.lesson_message(view.pack, view.lesson, view.state)
    client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)


def register(app: App, *, deps: Deps) -> None:
    @app.action(re.compile(rf"^{blocks.ANSWER_ACTION}:\d+$"))
    @friendly
    def answer(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        value = _value(body)
        outcome = deps.service.answer(body["user"]["id"], int(value["d"]), str(value["q"]), int(value["c"]),
                                      deps.clock())
        if not outcome.recorded:
            respond(text="You already answered this question — your first answer is the one that counts.",
                    response_type="ephemeral", replace_original=False)
        update_lesson(client, outcome.view, body)

    @app.action(re.compile(rf"^{blocks.RATE_ACTION}:\d$"))
    @friendly
    def rate(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        value = _value(body)
        outcome = deps.service.rate(body["user"]["id"], int(value["d"]), int(value["r"]), deps.clock())
        if not outcome.recorded:
            respond(text="You already rated this lesson — thanks!", response_type="ephemeral",
                    replace_original=False)
        update_lesson(client, outcome.view, body)

    @app.action(blocks.COMMENT_ACTION)
    @friendly
    def comment(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        value = _value(body)
        view = deps.service.lesson_view(int(value["d"]), body["user"]["id"])
        client.views_open(trigger_id=body["trigger_id"], view=blocks.comment_modal(view.state.id, view.lesson.title))

    @app.action(re.compile(rf"^{blocks.OPEN_LINK_ACTION}:\d+$"))
    @friendly
    def open_link(ack: Ack) -> None:
        # A URL button opens the page in the browser; Slack also tells us, and expects an ack.
        ack()

    @app.action(blocks.HOME_ENROLL_ACTION)
    @friendly
    def home_enroll(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        value = _value(body)
        user_id = body["user"]["id"]
        deps.service.enroll(user_id, str(value["p"]), deps.clock())
        publish_home(client, deps, user_id)

    register_pause_offer(app, deps=deps)


def register_pause_offer(app: App, *, deps: Deps) -> None:
    @app.action(re.compile(rf"^{blocks.PAUSE_OFFER_ACTION}:\d+$"))
    @friendly
    def pause_offer(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        days = int(_value(body).get("days", 0))
        user_id = body["user"]["id"]
        if days:
            outcome = deps.service.pause(user_id, f"{days} days", deps.clock())
            text = blocks.schedule_text(outcome)
        else:
            text = "👍 Lessons keep coming. Whenever you need a break: `/learn pause`."
        answer = blocks.pause_answer_message(text)
        container = body.get("container", {})
        client.chat_update(channel=container.get("channel_id"), ts=container.get("message_ts"), text=answer.text,
                           blocks=answer.blocks)


def publish_home(client: WebClient, deps: Deps, user_id: str) -> None:
    home = deps.service.home(user_id, deps.clock())
    entries = [blocks.HomePack(e.pack, e.status, e.lessons_sent, e.next_at) for e in home.entries]
    client.views_publish(
        user_id=user_id,
        view=blocks.home_view(name=home.learner.name, zone=home.zone, packs=entries, available=home.available),
    )
