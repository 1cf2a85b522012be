"""The Bolt app: built once by app.py, with every dependency passed in."""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot.listeners import Deps, register_all
from bot.mrkdwn import escape
from bot.service import SlackProfile
from db.store import Store

log = logging.getLogger(__name__)


def _quiet_token_warning(record: logging.LogRecord) -> bool:
    """We pass both a client (pointed at SLACK_API_URL) and its token, as the house style asks;
    Bolt warns that the token is then unused, on every start."""
    return "`token` will be unused" not in record.getMessage()


def build_app(
    *,
    token: str,
    signing_secret: str,
    client: WebClient,
    deps: Deps,
    store: Store,
    listener_executor: Executor,
) -> App:
    """A Bolt app in HTTP mode (also usable with Socket Mode).

    ``listener_executor`` runs the listeners after each request is acknowledged. Its owner sizes it
    (after a 09:30 delivery hundreds of learners click within the same minute, and each click waits on
    the database and on chat.update) and shuts it down, waiting for the listeners at work, before the
    database goes away.
    """
    bolt_logger = logging.getLogger("sprout.bolt")
    if _quiet_token_warning not in bolt_logger.filters:
        bolt_logger.addFilter(_quiet_token_warning)
    app = App(
        token=token,
        signing_secret=signing_secret,
        client=client,
        process_before_response=False,
        listener_executor=listener_executor,
        logger=bolt_logger,
    )

    @app.middleware
    def handle_event_once(body: dict, next) -> BoltResponse | None:  # noqa: A002 - Bolt's argument name
        """Slack retries an event it thinks we missed; the event id makes the retry a no-op."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not store.mark_event_processed(event_id, deps.clock()):
            log.info("event %s already handled; ignoring Slack's retry", event_id)
            return BoltResponse(status=200, body="")
        return next()

    @app.error
    def unexpected(error: Exception) -> None:
        """Listeners handle their own errors (bot.listeners.errors); this catches the framework's."""
        log.error("unhandled error: %s", error, exc_info=error)

    register_all(app, deps=deps)
    return app


def profile_lookup(client: WebClient):
    """users.info as a SlackProfile (None when Slack does not know the user)."""
    from slack_sdk.errors import SlackApiError

    def lookup(user_id: str) -> SlackProfile | None:
        try:
            user = client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            log.warning("users.info %s failed: %s", user_id, exc.response.get("error"))
            return None
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name") or ""
        return SlackProfile(name=name, timezone=user.get("tz"), email=profile.get("email"))

    return lookup


__all__ = ["build_app", "escape", "profile_lookup"]
