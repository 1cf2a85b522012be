"""The one place where errors in listeners become replies.

Listeners do not let exceptions escape to Bolt: when a listener that has already
acked raises, Bolt (1.2x, ThreadListenerRunner) resets the ack and holds the HTTP
response for the full three seconds, so Slack would show the person a timeout.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

from learning.errors import SproutError

log = logging.getLogger(__name__)

SORRY = "Sorry — something went wrong on our side. Please try again in a minute."
_NEEDED = ("body", "respond", "client")


def tell(body: dict, respond: Any, client: Any, message: str) -> None:
    """An ephemeral reply to whoever triggered the request, however they triggered it."""
    try:
        if respond is not None and (body.get("response_url") or body.get("response_urls")):
            respond(text=message, response_type="ephemeral", replace_original=False)
        elif client is not None and body.get("user", {}).get("id") and body.get("channel", {}).get("id"):
            client.chat_postEphemeral(channel=body["channel"]["id"], user=body["user"]["id"], text=message)
        else:
            log.info("no way to show the user: %s", message)
    except Exception:
        log.exception("could not tell the user: %s", message)


def friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a Bolt listener: a SproutError becomes its message, anything else a logged apology."""
    original = inspect.signature(func)
    names = list(original.parameters)

    @functools.wraps(func)
    def listener(**kwargs: Any) -> Any:
        try:
            return func(**{name: kwargs[name] for name in names if name in kwargs})
        except SproutError as exc:
            log.info("%s: %s", func.__name__, exc.message)
            tell(kwargs.get("body") or {}, kwargs.get("respond"), kwargs.get("client"), exc.message)
        except Exception:
            log.exception("listener %s failed", func.__name__)
            tell(kwargs.get("body") or {}, kwargs.get("respond"), kwargs.get("client"), SORRY)
        return None

    # Bolt injects arguments by name: ask for what the listener needs plus what replying needs.
    # (Bolt reads positional-or-keyword names with inspect.getfullargspec.)
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    extra = [inspect.Parameter(n, kind) for n in _NEEDED if n not in names]
    params = [p.replace(kind=kind, default=inspect.Parameter.empty) for p in original.parameters.values()]
    listener.__signature__ = original.replace(parameters=params + extra)  # type: ignore[attr-defined]
    del listener.__wrapped__  # so inspect.signature reads __signature__, not the wrapped function
    return listener
