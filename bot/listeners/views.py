"""Modal submissions."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import blocks
from bot.listeners import Deps
from bot.listeners.actions import update_lesson
from bot.listeners.errors import friendly
from learning.errors import SproutError


def register(app: App, *, deps: Deps) -> None:
    @app.view(blocks.COMMENT_VIEW)
    @friendly
    def submit_comment(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        text = (view["state"]["values"].get("comment", {}).get("text", {}).get("value") or "").strip()
        if not text:
            ack(response_action="errors", errors={"comment": "Write a comment, or press Cancel."})
            return
        try:
            delivery_id = int(blocks.decode(view.get("private_metadata") or "")["d"])
            outcome = deps.service.comment(body["user"]["id"], delivery_id, text, deps.clock())
        except (KeyError, ValueError):
            ack(response_action="errors", errors={"comment": "This comment form has expired; please reopen it."})
            return
        except SproutError as exc:
            ack(response_action="errors", errors={"comment": exc.message})
            return
        ack(response_action="update", view=blocks.comment_thanks_modal(text))
        update_lesson(client, outcome.view)
