"""The Bolt app: built once by app.py, with every dependency passed in."""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App
from slack_sdk import WebClient

from bot.listeners import Deps, register_all
from bot.mrkdwn import escape
from bot.service import SlackProfile
from db.engine import database_unavailable

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
    listener_executor: Executor,
    verified_upstream: bool = False,
) -> App:
    """A Bolt app in HTTP mode (also usable with Socket Mode).

    Bolt answers Slack after the listener returns (``process_before_response``): events are handled
    before Slack hears back, so a failure gets Slack's retry (``bot.listeners.errors.at_least_once``);
    clicks, forms and commands run on ``listener_executor`` and Slack hears back as soon as they ack,
    which a listener that keeps a record does once it is committed (``friendly``). The executor's owner
    sizes it (after a 09:30 delivery hundreds of learners click within the same minute, and each click
    waits on the database and on chat.update) and shuts it down, waiting for the listeners at work,
    before the database goes away.

    ``verified_upstream``: every request reaches this app through a front door that has already checked
    Slack's signature with the same secret (a hosted Sprout's ``workspace_router``), so it is checked once.
    """
    bolt_logger = logging.getLogger("sprout.bolt")
    if _quiet_token_warning not in bolt_logger.filters:
        bolt_logger.addFilter(_quiet_token_warning)
    app = App(
        token=token,
        signing_secret=signing_secret,
        client=client,
        process_before_response=True,
        listener_executor=listener_executor,
        logger=bolt_logger,
        request_verification_enabled=not verified_upstream,
    )

    @app.error
    def unexpected(error: Exception, body: dict) -> None:
        """Clicks and commands handle their own errors (bot.listeners.errors); an event's listener that
        failed lands here, and Slack, answered with an error, sends the event again."""
        what = body.get("event", {}).get("type") if body.get("type") == "event_callback" else body.get("type")
        if database_unavailable(error):
            log.warning("%s not handled, the database is unavailable (Slack will retry): %s", what, error)
        else:
            log.error("%s not handled (Slack will retry it if it was an event): %s", what, error, exc_info=error)

    @app.middleware
    def speak_their_language(context, next) -> None:  # noqa: A002 (Bolt injects ``next`` by name)
        """Everything said while handling the request is in the language of whoever sent it: their choice,
        their Slack locale, or DEFAULT_LANGUAGE, looked up when something is first said. The listener
        wrappers (bot.listeners.errors) speak ``context["speaker"]`` around the listener."""
        user_id = context.user_id
        if user_id:
            context["speaker"] = lambda: deps.service.speaker_for(user_id)
        next()

    register_all(app, deps=deps)
    return app


def profile_lookup(client: WebClient):
    """users.info as a SlackProfile (None when Slack does not know the user)."""
    from slack_sdk.errors import SlackApiError

    def lookup(user_id: str) -> SlackProfile | None:
        try:
            user = client.users_info(user=user_id, include_locale=True)["user"]
        except SlackApiError as exc:
            log.warning("users.info %s failed: %s", user_id, exc.response.get("error"))
            return None
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name") or ""
        return SlackProfile(name=name, timezone=user.get("tz"), email=profile.get("email"), locale=user.get("locale"))

    return lookup


__all__ = ["build_app", "escape", "profile_lookup"]
