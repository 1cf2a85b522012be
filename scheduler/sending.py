"""What the dispatcher needs from whoever speaks to Slack: a small protocol, implemented in bot/."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

METADATA_EVENT_TYPE = "sprout_delivery"


@dataclass(frozen=True)
class Attachment:
    """A file to share with the message (a digest's chart): uploaded with Slack's files upload v2 flow."""

    filename: str
    content: bytes
    title: str
    alt_text: str = ""


@dataclass(frozen=True)
class OutgoingMessage:
    channel: str  # a user id (their DM with the bot) or a channel id
    text: str  # the notification and screen-reader text
    blocks: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None
    file: Attachment | None = None  # when set, the message is a file share with ``text`` as its comment


@dataclass(frozen=True)
class SentMessage:
    channel: str
    ts: str


class SendError(Exception):
    """A send that did not succeed.

    ``permanent``: sending again cannot help (the user left, our blocks are invalid).
    ``ambiguous``: the message may have reached Slack (a 5xx or a dropped connection),
    so before sending again the channel's history must be checked.
    ``retry_after``: Slack's rate limit (429) said to wait that long; ``method`` is the Web API
    method that said it (``"chat.postMessage"``, ``"conversations.history"``…).
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        ambiguous: bool = False,
        retry_after: float | None = None,
        method: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.ambiguous = ambiguous
        self.retry_after = retry_after
        self.method = method

    @property
    def rate_limited(self) -> bool:
        return self.retry_after is not None and not self.permanent


class Interrupted(Exception):
    """The dispatcher is stopping: the call it was waiting to make was not made."""


# Awaited before each Web API call with the method's name: waits for a turn under Slack's limit for
# that method, or raises Interrupted when the dispatcher stops meanwhile.
Pace = Callable[[str], Awaitable[None]]


class Sender(Protocol):
    """Coroutines, run on the dispatcher's event loop: one loop drives every send of a fan-out."""

    async def send(self, message: OutgoingMessage, *, pace: Pace | None = None) -> SentMessage: ...

    async def find_sent(
        self, channel: str, *, outbox_id: int, since: datetime, thread_ts: str | None = None, pace: Pace | None = None,
        limit: int = 15,
    ) -> SentMessage | None:
        """The message carrying this outbox id in its metadata, if Slack has it: in the channel's
        history from ``since``, or, for a reply (``thread_ts``), in that thread; ``limit`` messages a page."""
        ...

    async def aclose(self) -> None: ...
