"""Modal submissions."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import blocks
from bot.i18n import _
from bot.listeners import Deps
from bot.listeners.actions import keep, publish_home, record_answer, show, update_lesson
from bot.listeners.errors import friendly
from learning.errors import SproutError


def register(app: App, *, deps: Deps) -> None:
    @app.view(blocks.COMMENT_VIEW)
    @friendly
    def submit_comment(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        text = (view["state"]["values"].get("comment", {}).get("text", {}).get("value") or "").strip()
        if not text:
            ack(response_action="errors", errors={"comment": _("Write a comment, or press Cancel.")})
            return
        now = deps.clock()
        try:
            delivery_id = int(blocks.decode(view.get("private_metadata") or "")["d"])
            outcome = keep(deps, "lesson", delivery_id, now,
                           lambda kept: deps.service.comment(body["user"]["id"], delivery_id, text, now, kept=kept))
        except (KeyError, ValueError):
            ack(response_action="errors", errors={"comment": _("This comment form has expired; please reopen it.")})
            return
        except SproutError as exc:
            ack(response_action="errors", errors={"comment": exc.message})
            return
        ack(response_action="update", view=blocks.comment_thanks_modal(text))
        show(deps, "lesson", delivery_id, now, lambda: update_lesson(client, outcome.view))

    @app.view(blocks.TIME_VIEW)
    @friendly
    def delivery_time(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        chosen = (view["state"]["values"].get("time", {}).get("time", {}) or {}).get("selected_time")
        if not chosen:
            ack(response_action="errors", errors={"time": _("Pick a time.")})
            return
        deps.service.set_time(body["user"]["id"], chosen, deps.clock())
        ack()
        publish_home(client, deps, body["user"]["id"])

    @app.view(blocks.TYPED_ANSWER_VIEW)
    @friendly
    def typed_answer(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        text = (view["state"]["values"].get("answer", {}).get("text", {}).get("value") or "").strip()
        if not text:
            ack(response_action="errors", errors={"answer": _("Type an answer, or press Cancel.")})
            return
        try:
            meta = blocks.decode(view.get("private_metadata") or "")
            ref = {"d": meta["d"]} if "d" in meta else {"s": meta["s"], "k": meta["k"]}
            question_id = str(meta["q"])
        except (KeyError, ValueError):
            ack(response_action="errors", errors={"answer": _("This form has expired; please reopen it.")})
            return
        try:
            record_answer(deps, client, body["user"]["id"], ref, question_id, text, ack=ack)
        except SproutError as exc:  # refused before anything was kept: say so in the form
            ack(response_action="errors", errors={"answer": exc.message})

    @app.view(blocks.REFLECTION_VIEW)
    @friendly
    def reflection(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        text = (view["state"]["values"].get("reflection", {}).get("text", {}).get("value") or "").strip()
        if not text:
            ack(response_action="errors", errors={"reflection": _("Write something, or press Cancel.")})
            return
        now = deps.clock()
        try:
            delivery_id = int(blocks.decode(view.get("private_metadata") or "")["d"])
            outcome = keep(deps, "lesson", delivery_id, now,
                           lambda kept: deps.service.reflect(body["user"]["id"], delivery_id, text, now, kept=kept))
        except (KeyError, ValueError):
            ack(response_action="errors", errors={"reflection": _("This form has expired; please reopen it.")})
            return
        except SproutError as exc:
            ack(response_action="errors", errors={"reflection": exc.message})
            return
        ack()
        show(deps, "lesson", delivery_id, now, lambda: update_lesson(client, outcome.view))
