"""The Slack libraries' logging, set once by app.py (no Slack import: any command may call it)."""

from __future__ import annotations

import logging

# slack-sdk and Bolt decide whether to format a debug line (a whole request or response, body included)
# from their logger's *own* level, and a logger whose level was never set has 0, which is "at most DEBUG":
# every Web API call and every request then built lines the handlers dropped, a tenth of a fan-out's CPU.
# These are the loggers Sprout's clients and app use; each gets the level Sprout logs at.
LIBRARY_LOGGERS = (
    "slack_sdk.web.base_client",  # WebClient
    "slack_sdk.web.async_base_client",  # AsyncWebClient (and the helper that makes its requests)
    "sprout.bolt",  # the Bolt app's logger (build_app)
    "sprout.bolt.installer",  # a hosted Sprout's installer app
)


def settle_library_logging(level: int | str) -> None:
    """Give the Slack libraries' loggers Sprout's level, so they format debug lines only when asked to."""
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(level)
