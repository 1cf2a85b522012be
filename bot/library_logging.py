"""The Slack libraries' logging, set once by app.py (no Slack import: any command may call it)."""

from __future__ import annotations

import logging
import re

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


# What a Slack token or an OAuth secret looks like in a log line: slack-sdk logs whole requests and
# responses at DEBUG (oauth.v2.access answers with the tokens, and is sent the client secret).
_SECRETS = re.compile(
    r"(?:xox[abeposr](?:\.xox[abp])?-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|gAAAAA[A-Za-z0-9_=-]{20,})"
)
_SECRET_FIELDS = re.compile(
    r"""(?<![A-Za-z_])(?P<key>["']?(?:client_secret|refresh_token|access_token|bot_token|user_token|token|code|"""
    r"""Authorization)["']?\s*[:=]\s*)(?P<quote>["']?)(?P<value>(?:Bearer\s+)?[^"'&\s,}]+)(?P=quote)""",
    re.IGNORECASE,
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with every token and OAuth secret replaced by ``[redacted]``.

    >>> redact('body: {"ok": true, "access_token": "xoxb-1-abc", "refresh_token": "xoxe-1-def"}')
    'body: {"ok": true, "access_token": "[redacted]", "refresh_token": "[redacted]"}'
    >>> redact("client_id=1.2&client_secret=s3cr3t&code=42 (status_code=200)")
    'client_id=1.2&client_secret=[redacted]&code=[redacted] (status_code=200)'
    """
    text = _SECRET_FIELDS.sub(lambda m: f"{m['key']}{m['quote']}{REDACTED}{m['quote']}", text)
    return _SECRETS.sub(REDACTED, text)


class RedactSecrets(logging.Filter):
    """On a handler: every record through it, from any logger, leaves with its secrets redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def redact_secrets_in_logs() -> None:
    """Put ``RedactSecrets`` on every handler of the root logger (set up by ``logging.basicConfig``)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())
