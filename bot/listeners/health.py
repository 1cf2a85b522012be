"""The Home tab's content-health buttons: a flag's evidence (a modal) and "Mark handled".

Both check the stored role on the server (``ContentHealth``): a forged click is refused and writes nothing.
The Home tab has no channel for an ephemeral reply, so a refusal or a flag that has gone opens as a small
modal."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.cohorts import message_modal
from bot.health import AUTHORS, EVIDENCE_ACTION, HANDLED_ACTION, ContentHealth, evidence_modal
from bot.listeners import Deps
from bot.listeners.actions import refresh_home
from bot.listeners.errors import friendly
from learning.errors import Gone, NotAllowed


def register(app: App, *, deps: Deps, health: ContentHealth) -> None:
    def key(body: dict) -> str:
        value = str((body.get("actions") or [{}])[0].get("value") or "")
        if not value.isalnum() or len(value) > 64:
            raise Gone("That button no longer works; open the Home tab again.")
        return value

    def refused(client: WebClient, body: dict, exc: Exception) -> None:
        client.views_open(trigger_id=body["trigger_id"], view=message_modal(str(exc)))

    @app.action(EVIDENCE_ACTION)
    @friendly
    def evidence(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        now = deps.clock()
        try:
            deps.service.require(body["user"]["id"], AUTHORS, "see content health", now)
            shown = health.evidence(health.find(key(body), now), now)
        except (NotAllowed, Gone) as exc:
            refused(client, body, exc)
            return
        client.views_open(trigger_id=body["trigger_id"], view=evidence_modal(shown))

    @app.action(HANDLED_ACTION)
    @friendly
    def handled(ack: Ack, body: dict, client: WebClient) -> None:
        now = deps.clock()
        try:
            health.handle(body["user"]["id"], key(body), now)
        except (NotAllowed, Gone) as exc:
            ack()
            refused(client, body, exc)
            return
        ack()  # after the record: an acknowledged click is a kept one
        refresh_home(client, deps, body["user"]["id"])
