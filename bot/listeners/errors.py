"""How listeners run, and the one place where their errors become replies.

Bolt answers Slack only after a listener returns (``process_before_response``), so two wrappers decide what
happens before the answer:

- ``friendly`` (clicks, forms, commands): the listener runs on the listener pool and Slack is answered the
  moment it calls ``ack()``. A listener that keeps a record calls ``ack()`` after committing it, so an
  acknowledged click is a kept record even if the process dies a millisecond later; drawing the message and
  replying go on after the answer. An error becomes a reply to the person: a SproutError its message, a
  database that cannot be reached "catching up", anything else a logged apology.
- ``at_least_once`` (Events API): the listener runs before the answer, and the event's id is recorded in the
  same transaction as what the listener did. A listener that fails records nothing and Slack is answered
  with an error, so Slack's retry does the work; a retry of an event that was handled does nothing.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bot.i18n import N_, _, current, speaking
from db.engine import database_unavailable
from learning.errors import SproutError

log = logging.getLogger(__name__)

SORRY = N_("Sorry — something went wrong on our side. Please try again in a minute.")
CATCHING_UP = N_("Sprout is catching up — please try again in a minute.")
# Slack shows an error if the answer takes more than three seconds; past this, the answer goes out without
# waiting for the listener (which carries on).
ACK_DEADLINE_SECONDS = 2.5
_NEEDED = ("body", "respond", "client", "ack", "context")


def _speaker(context: Any) -> Any:
    """The language to answer in: what ``bot.slack_app``'s middleware put in Bolt's context, else the
    current one (a direct call, a test)."""
    found = context.get("speaker") if context is not None and hasattr(context, "get") else None
    return found if found is not None else current()


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


def _with_injected(
    listener: Callable[..., Any], original: inspect.Signature, needed: tuple[str, ...], provided: tuple[str, ...] = ()
) -> None:
    """Bolt injects arguments by name (read with inspect.getfullargspec): ask for what the listener needs
    plus what the wrapper needs, less what the wrapper gives it itself (``provided``), which Bolt does not
    know and would warn about on every call."""
    names = list(original.parameters)
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    extra = [inspect.Parameter(n, kind) for n in needed if n not in names]
    params = [p.replace(kind=kind, default=inspect.Parameter.empty) for p in original.parameters.values()
              if p.name not in provided]
    listener.__signature__ = original.replace(parameters=params + extra)  # type: ignore[attr-defined]
    del listener.__wrapped__  # so inspect.signature reads __signature__, not the wrapped function


def friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a Bolt listener for a click, a form or a command (see the module's docstring)."""
    original = inspect.signature(func)
    names = list(original.parameters)

    @functools.wraps(func)
    def listener(**kwargs: Any) -> None:
        bolt_ack = kwargs["ack"]
        acked = threading.Event()
        lock = threading.Lock()

        def ack(*args: Any, **options: Any) -> Any:
            with lock:
                if not acked.is_set():
                    bolt_ack(*args, **options)
                    acked.set()

        def run() -> None:
            given = {**kwargs, "ack": ack}
            try:
                with speaking(_speaker(kwargs.get("context"))):
                    func(**{name: given[name] for name in names if name in given})
            except SproutError as exc:
                ack()
                log.info("%s: %s", func.__name__, exc.message)
                tell(kwargs.get("body") or {}, kwargs.get("respond"), kwargs.get("client"), exc.message)
            except Exception as exc:
                ack()
                if database_unavailable(exc):
                    log.warning("listener %s: the database is unavailable: %s", func.__name__, exc)
                    message = CATCHING_UP
                else:
                    log.exception("listener %s failed", func.__name__)
                    message = SORRY
                with speaking(_speaker(kwargs.get("context"))):
                    message = _(message)
                tell(kwargs.get("body") or {}, kwargs.get("respond"), kwargs.get("client"), message)
            finally:
                acked.set()  # a listener that never acks: Bolt answers with an empty 200

        context = kwargs.get("context")
        runner = getattr(context, "listener_runner", None) if context is not None else None
        if runner is None:  # not dispatched by Bolt's App (a direct call): run here
            run()
            return None
        # The listener's thread speaks the request's language (bot.i18n's context variable).
        runner.listener_executor.submit(contextvars.copy_context().run, run)
        if not acked.wait(ACK_DEADLINE_SECONDS):
            log.warning("listener %s did not ack within %.1f s: answered without it", func.__name__,
                        ACK_DEADLINE_SECONDS)
            ack()
        return None

    _with_injected(listener, original, _NEEDED)
    return listener


class _AlreadyHandled(Exception):
    """Another delivery of the same event committed first."""


def at_least_once(*, store: Any, clock: Callable[[], Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap an Events API listener (see the module's docstring).

    The listener may take ``once``: a context manager that opens the unit of work recording the event's id;
    what the listener records inside it commits with the id, or not at all. Slack calls belong outside it
    (before or after). A listener that never enters ``once`` has its event recorded when it returns.
    """

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        original = inspect.signature(func)
        names = list(original.parameters)

        @functools.wraps(func)
        def listener(**kwargs: Any) -> None:
            event_id = (kwargs.get("body") or {}).get("event_id")
            if event_id and store.event_handled(event_id):
                log.info("event %s already handled; ignoring Slack's retry", event_id)
                return
            entered: list[bool] = []

            @contextmanager
            def once() -> Iterator[None]:
                with store.unit_of_work():
                    if event_id and not store.mark_event_processed(event_id, clock()):
                        raise _AlreadyHandled
                    entered.append(True)
                    yield

            given = {**kwargs, "once": once}
            try:
                with speaking(_speaker(kwargs.get("context"))):
                    func(**{name: given[name] for name in names if name in given})
            except _AlreadyHandled:
                log.info("event %s was handled meanwhile by another delivery", event_id)
                return
            except SproutError as exc:  # a refusal is an outcome: Slack's retry would be refused too
                log.info("%s: %s", func.__name__, exc.message)
            if event_id and not entered:
                store.mark_event_processed(event_id, clock())

        _with_injected(listener, original, ("body", "context"), provided=("once",))
        return listener

    return wrap
