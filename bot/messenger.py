"""The Web API wrapper the dispatcher sends through (it implements scheduler.sending.Sender)."""

from __future__ import annotations

import logging
from datetime import datetime

import aiohttp
import orjson
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.paging import TooManyPages, bounded_pages
from scheduler.sending import METADATA_EVENT_TYPE, OutgoingMessage, Pace, SendError, SentMessage

log = logging.getLogger(__name__)

# Errors after which sending the same message again cannot succeed.
# A look-up reads from the moment the send began: one page nearly always; a few more at most, each a
# minute on Tier 1, before it is asked again later rather than holding a sender.
MAX_LOOKUP_PAGES = 3

PERMANENT_ERRORS = frozenset(
    {
        "access_denied",
        "account_inactive",
        "cannot_dm_bot",
        "channel_not_found",
        "ekm_access_denied",
        "invalid_arguments",
        "invalid_auth",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "is_archived",
        "messages_tab_disabled",
        "metadata_too_large",
        "missing_scope",
        "msg_too_long",
        "no_text",
        "not_authed",
        "not_in_channel",
        "restricted_action",
        "team_access_not_granted",
        "token_expired",
        "token_revoked",
        "user_disabled",
        "user_not_found",
        "users_not_found",
    }
)


def interactive_client(*, token: str, base_url: str, timeout: int = 30) -> WebClient:
    """For calls that are safe to repeat (updates, views, ephemeral replies): slack-sdk retries them."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


def _json_text(value: object) -> str:
    """A request body as JSON text: orjson, because encoding every message's blocks with the standard
    library was the largest single cost of a fan-out after the HTTP exchange itself."""
    return orjson.dumps(value).decode()


class _Response(aiohttp.ClientResponse):
    """Slack's answers read with orjson too (chat.postMessage answers with the whole message, blocks
    included). slack-sdk asks for ``json()`` without a decoder; a body that is not JSON still raises a
    ``json.JSONDecodeError`` (orjson's error is one), which slack-sdk turns into a SlackApiError."""

    async def json(self, *, encoding=None, loads=orjson.loads, content_type="application/json"):
        return await super().json(encoding=encoding, loads=loads, content_type=content_type)


def _retry_after(error: SlackApiError) -> float:
    headers = error.response.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1.0, float(value))
    except (TypeError, ValueError):
        return 1.0


class SlackMessenger:
    """New messages, over a pool of keep-alive connections (slack-sdk's AsyncWebClient on aiohttp).

    Its coroutines run on the dispatcher's event loop, so a fan-out reuses a handful of HTTPS
    connections instead of opening (and TLS-handshaking) one per message. No automatic
    retries here: a 429 pauses every sender (the dispatcher's buckets), and a 5xx or a dropped
    connection may mean the message arrived, which only the outbox can check. Before each
    call it awaits the dispatcher's ``pace`` for that method (Slack limits each method apart).
    """

    def __init__(
        self, *, token: str, base_url: str, connections: int = 8, timeout: int = 30, proxy: str | None = None
    ) -> None:
        self.token, self.base_url, self.connections, self.timeout = token, base_url, connections, timeout
        self.proxy = proxy
        self._client: AsyncWebClient | None = None
        # A learner's DM, learned from the answers to posts and opens: a look-up after a failed post
        # then needs no conversations.open (Tier 3, like the look-up itself).
        self._dm_channels: dict[str, str] = {}

    def _get_client(self) -> AsyncWebClient:
        # Created on first use, inside the loop that will drive it (aiohttp sessions belong to a loop).
        if self._client is None:
            # The proxy is passed in (read once from the settings): trust_env would make aiohttp
            # scan the whole environment on every request, which dominated a fan-out's CPU.
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.connections),
                                            json_serialize=_json_text, response_class=_Response)
            self._client = AsyncWebClient(token=self.token, base_url=self.base_url, session=session,
                                          timeout=self.timeout, proxy=self.proxy, retry_handlers=[])
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._client.session is not None:
            await self._client.session.close()
        self._client = None

    async def send(self, message: OutgoingMessage, *, pace: Pace | None = None) -> SentMessage:
        if message.file is not None:
            return await self._share_file(message, pace)
        kwargs = {
            "channel": message.channel,
            "text": message.text,
            "blocks": message.blocks or None,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if message.metadata is not None:
            kwargs["metadata"] = message.metadata
        if message.thread_ts:
            kwargs["thread_ts"] = message.thread_ts
        response = await self._call("chat_postMessage", pace, **kwargs)
        if message.channel.startswith(("U", "W")) and response["channel"].startswith("D"):
            self._remember_dm(message.channel, response["channel"])
        return SentMessage(channel=response["channel"], ts=response["ts"])

    def _remember_dm(self, user: str, channel: str) -> None:
        if len(self._dm_channels) > 100_000:
            self._dm_channels.clear()  # a cache: forgetting costs one conversations.open
        self._dm_channels[user] = channel

    async def _open_dm(self, channel: str, pace: Pace | None) -> str:
        """The conversation id for posting or reading: a user id becomes their DM with the bot."""
        if not channel.startswith(("U", "W")):
            return channel
        known = self._dm_channels.get(channel)
        if known is None:
            known = (await self._call("conversations_open", pace, users=channel))["channel"]["id"]
            self._remember_dm(channel, known)
        return known

    async def _share_file(self, message: OutgoingMessage, pace: Pace | None) -> SentMessage:
        """files.getUploadURLExternal, the upload, files.completeUploadExternal (slack-sdk's files_upload_v2).

        A file share cannot carry message metadata, so a crash between the upload and its record
        can repeat a file (never a lesson); the outbox records it as soon as Slack answers.
        """
        channel = await self._open_dm(message.channel, pace)
        attachment = message.file
        if pace is not None:  # slack-sdk's helper makes both calls; each has its own limit
            await pace("files.getUploadURLExternal")
            await pace("files.completeUploadExternal")
        response = await self._call(
            "files_upload_v2",
            None,
            channel=channel,
            content=attachment.content,
            filename=attachment.filename,
            title=attachment.title,
            alt_txt=attachment.alt_text or None,
            initial_comment=message.text or None,
            thread_ts=message.thread_ts,
        )
        files = response.get("files") or [response.get("file") or {}]
        shares = (files[0].get("shares") or {}) if files else {}
        for scope in ("private", "public"):
            for ts_list in (shares.get(scope) or {}).values():
                if ts_list:
                    return SentMessage(channel=channel, ts=ts_list[0].get("ts", ""))
        return SentMessage(channel=channel, ts="")

    async def find_sent(
        self, channel: str, *, outbox_id: int, since: datetime, thread_ts: str | None = None, pace: Pace | None = None,
        limit: int = 15,
    ) -> SentMessage | None:
        """Look for the message carrying ``outbox_id`` in its metadata, from ``since`` on.

        Slack's conversations.history lists only a channel's top-level messages, never thread
        replies, so a reply (a reminder in its lesson's thread) is looked for in its thread with
        conversations.replies. Both return metadata only when asked (``include_all_metadata``).
        ``since`` is when the send began, so the first page (``limit``: 15, Tier 1's most) nearly
        always holds the message; later pages are read up to ``MAX_LOOKUP_PAGES``, then it gives up
        and says so (the message is then treated as not in Slack only if every page was read).
        """
        channel = await self._open_dm(channel, pace)
        oldest = f"{since.timestamp():.6f}"
        try:
            for page in bounded_pages(f"looking for outbox {outbox_id} in {channel}", max_pages=MAX_LOOKUP_PAGES):
                if thread_ts:
                    try:
                        response = await self._call(
                            "conversations_replies", pace, channel=channel, ts=thread_ts, oldest=oldest,
                            include_all_metadata=True, limit=limit, cursor=page.cursor,
                        )
                    except SendError as exc:
                        if exc.reason == "thread_not_found":
                            return None  # no thread, so no reply in it; sending will say why
                        raise
                else:
                    response = await self._call(
                        "conversations_history", pace, channel=channel, oldest=oldest,
                        include_all_metadata=True, limit=limit, cursor=page.cursor,
                    )
                for message in response.get("messages", []):
                    metadata = message.get("metadata") or {}
                    payload = metadata.get("event_payload") or {}
                    if metadata.get("event_type") == METADATA_EVENT_TYPE and payload.get("outbox_id") == outbox_id:
                        return SentMessage(channel=channel, ts=message["ts"])
                if not page.next((response.get("response_metadata") or {}).get("next_cursor")):
                    return None
        except TooManyPages:
            # Pages left unread: the message may be on one of them. Not "not in Slack": ask again later.
            raise SendError(f"more than {MAX_LOOKUP_PAGES} pages of history since the send began",
                            ambiguous=True) from None
        return None

    async def _call(self, method: str, pace: Pace | None, **kwargs):
        """One Web API call (``method`` as slack-sdk names it: ``chat_postMessage``), after its turn."""
        api_method = method.replace("_", ".", 1)
        if pace is not None:
            await pace(api_method)
        try:
            return await getattr(self._get_client(), method)(**kwargs)
        except SlackApiError as exc:
            if not hasattr(exc.response, "status_code"):
                # slack-sdk could not read the answer (not JSON: a proxy's page, a cut-off body) and hands
                # over aiohttp's raw response. The call reached something, so the message may be in Slack.
                status = getattr(exc.response, "status", 0)
                raise SendError(f"unreadable answer (HTTP {status})", ambiguous=True) from None
            status = exc.response.status_code
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            if status == 429 or error == "ratelimited":
                raise SendError("ratelimited", retry_after=_retry_after(exc), method=api_method) from None
            if status >= 500:
                raise SendError(f"http_{status}", ambiguous=True) from None
            reason = error or f"http_{status}"
            raise SendError(reason, permanent=reason in PERMANENT_ERRORS) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise SendError(f"connection: {exc.__class__.__name__}", ambiguous=True) from None
