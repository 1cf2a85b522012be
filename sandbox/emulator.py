"""A local Slack: the Web API methods Sprout uses, served over real HTTP.

The bot is pointed at it with ``WebClient(base_url=emulator.api_url)`` and cannot tell it from
Slack: same request formats (form or JSON, token in a header or a parameter), same response
shapes, same errors, Block Kit validated with Slack's limits, cursor pagination, rate limits
answered with HTTP 429 and ``Retry-After``. Tests read back what a person would see
(``messages``, ``dm_messages``, ``ephemerals``, ``home_view``, ``open_views``) and inject faults.

All workspace state sits behind one lock; the hot paths (posting, reading history) are
dictionary look-ups and bisections so that benchmarks can push tens of thousands of calls through.
Events are never sent by the emulator itself: the :class:`sandbox.driver.SlackDriver` plays that part.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import contextlib
import copy
import email.parser
import email.policy
import itertools
import json
import logging
import math
import mimetypes
import queue
import random
import socket
import string
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from sandbox import blockkit
from sandbox.socket_mode import SocketModeServer

log = logging.getLogger(__name__)

TRIGGER_TTL_SECONDS = 3.0  # Slack: a trigger_id expires three seconds after it is issued
RESPONSE_URL_TTL_SECONDS = 30 * 60  # Slack: a response_url works for 30 minutes ...
RESPONSE_URL_MAX_USES = 5  # ... and up to five times
VIEW_STACK_LIMIT = 3  # Slack: views.push fails with push_limit_reached past three views

# Slack's Web API rate tiers: requests a minute, per method, per workspace and app.
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
# The tier of each emulated method, from its page in Slack's method reference. chat.postMessage,
# auth.test and chat.getPermalink are "special" (chat.postMessage: ``set_rate_limit`` for the workspace
# limit, ``set_channel_rate_limit`` for about one a second per channel), api.test is not limited.
METHOD_TIERS = {
    "team.info": 3,
    "chat.update": 3,
    "chat.delete": 3,
    "chat.postEphemeral": 4,
    "conversations.open": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.members": 4,
    "conversations.info": 3,
    "conversations.list": 2,
    "users.info": 4,
    "users.list": 2,
    "users.lookupByEmail": 3,
    "usergroups.list": 2,
    "usergroups.users.list": 2,
    "apps.connections.open": 1,
    "views.open": 4,
    "views.push": 4,
    "views.update": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "files.info": 4,
}
# Enforced unless asked otherwise: the reads Sprout makes in bulk after a crash or an ambiguous failure,
# where Slack's limit (Tier 3) is far below the posting rate. The other tiers stay off by default: a
# test workspace of a few hundred people refreshing profiles or opening Home tabs at once would wait
# out Tier 4 minutes that prove nothing about delivery.
DEFAULT_TIERED_METHODS = ("conversations.history", "conversations.replies")
SLACKBOT_ID = "USLACKBOT"

# Slack shows long zone names ("Eastern Standard Time"); zoneinfo only knows abbreviations.
_TZ_LABELS = {
    "UTC": "Coordinated Universal Time",
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "IST": "India Standard Time",
    "WET": "Western European Time",
    "WEST": "Western European Summer Time",
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "EET": "Eastern European Time",
    "EEST": "Eastern European Summer Time",
    "MSK": "Moscow Time",
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "MST": "Mountain Standard Time",
    "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "AKST": "Alaska Standard Time",
    "AKDT": "Alaska Daylight Time",
    "HST": "Hawaii-Aleutian Standard Time",
    "JST": "Japan Standard Time",
    "KST": "Korea Standard Time",
    "HKT": "Hong Kong Time",
    "AEST": "Australian Eastern Standard Time",
    "AEDT": "Australian Eastern Daylight Time",
    "ACST": "Australian Central Standard Time",
    "ACDT": "Australian Central Daylight Time",
    "AWST": "Australian Western Standard Time",
    "NZST": "New Zealand Standard Time",
    "NZDT": "New Zealand Daylight Time",
    "SAST": "South Africa Standard Time",
}

_HTML_5XX = (
    "<html><head><title>{status} {reason}</title></head>"
    "<body><center><h1>{status} {reason}</h1></center><hr><center>slack-edge</center></body></html>"
)
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """An ``{"ok": false}`` answer; extra keys (``errors``, ``response_metadata``) ride along."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class _RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def format_ts(key: int) -> str:
    """Slack's ``ts`` string for a time in microseconds: ``"1733050000.000100"``."""
    return f"{key // 1_000_000}.{key % 1_000_000:06d}"


def parse_ts(value: Any) -> int | None:
    """The microsecond key of a ``ts`` (string or number); ``None`` when it is not one."""
    if value is None or value == "":
        return None
    text = value if isinstance(value, str) else f"{float(value):.6f}"
    seconds, _, fraction = text.partition(".")
    if not seconds.isdigit() or (fraction and not fraction.isdigit()):
        return None
    return int(seconds) * 1_000_000 + int((fraction + "000000")[:6])


def _b36(n: int) -> str:
    digits = string.digits + string.ascii_uppercase
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def _truthy(value: Any) -> bool:
    return value is True or value == 1 or (isinstance(value, str) and value.lower() in ("true", "1"))


def _int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError("invalid_arguments") from None


def _encode_cursor(prefix: str, value: Any) -> str:
    return base64.b64encode(f"{prefix}:{value}".encode()).decode()


def _decode_cursor(cursor: str, prefix: str) -> str:
    try:
        raw = base64.b64decode(cursor.encode(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise ApiError("invalid_cursor") from None
    head, _, value = raw.partition(":")
    if head != prefix or not value:
        raise ApiError("invalid_cursor")
    return value


class _Bucket:
    """A token bucket; ``wait`` is how long until one token is there (0 when one is)."""

    __slots__ = ("rate", "capacity", "tokens", "stamp")

    def __init__(self, rate_per_second: float, capacity: float, now: float) -> None:
        self.rate = rate_per_second
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = now

    def wait(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


@dataclass(slots=True)
class _User:
    id: str
    name: str
    real_name: str
    email: str | None
    tz: str
    is_bot: bool
    deleted: bool
    is_admin: bool
    updated: int
    bot_id: str | None = None
    locale: str = "en-US"  # sent only when a call asks with include_locale


@dataclass(slots=True)
class _Message:
    key: int
    channel: str
    user: str | None
    text: str
    bot_id: str | None = None
    blocks: list | None = None
    attachments: list | None = None
    metadata: dict | None = None
    parent: int | None = None
    replies: list[int] = field(default_factory=list)
    edited: dict | None = None
    files: list[str] | None = None
    subtype: str | None = None
    client_msg_id: str | None = None


@dataclass(slots=True)
class _Channel:
    id: str
    name: str | None
    is_private: bool
    is_im: bool
    user: str | None
    created: int
    members: dict[str, None]
    keys: list[int] = field(default_factory=list)
    messages: dict[int, _Message] = field(default_factory=dict)
    is_mpim: bool = False  # a multi-person DM (private, the bot and 2-8 people)


@dataclass(slots=True)
class _File:
    id: str
    name: str
    length: int
    created: int
    title: str = ""
    alt_txt: str | None = None
    snippet_type: str | None = None
    data: bytes | None = None
    completed: bool = False
    shares: dict[str, list[int]] = field(default_factory=dict)


@dataclass(slots=True)
class _ResponseUrl:
    user: str
    channel: str | None
    message_key: int | None
    ephemeral: bool
    issued_at: float
    uses: int = 0


class SlackEmulator:
    """One Slack workspace with one installed app, served on a loopback port."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-sandbox",
        team_id: str = "T0SPROUT",
        team_name: str = "Sprout Sandbox",
        team_domain: str = "sprout-sandbox",
        bot_user_id: str = "U0SPROUTBOT",
        bot_id: str = "B0SPROUTBOT",
        app_id: str = "A0SPROUT",
        bot_name: str = "sprout",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        include_slackbot: bool = True,
        seed: int = 0,
        rate_tiers: Iterable[str] | None = DEFAULT_TIERED_METHODS,
        app_token: str | None = None,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token  # Socket Mode's app-level token (xapp-…, connections:write)
        self.socket: SocketModeServer | None = None  # started by the first apps.connections.open
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.bot_name = bot_name
        self.host = host
        self.port = port
        self.clock = clock
        self.rate_clock: Callable[[], float] = time.monotonic
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._random = random.Random(seed)
        self._last_key = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

        self._users: dict[str, _User] = {}
        self._emails: dict[str, str] = {}
        self._channels: dict[str, _Channel] = {}
        self._channel_names: dict[str, str] = {}
        self._dms: dict[str, str] = {}
        self._mpims: dict[frozenset[str], str] = {}  # the people of a group DM (without the bot) -> its id
        self._ephemerals: dict[str, list[dict]] = defaultdict(list)
        self._ephemeral_by_key: dict[int, dict] = {}
        self._views: dict[str, dict] = {}
        self._view_owner: dict[str, str] = {}
        self._external_ids: dict[str, str] = {}
        self._modal_stacks: dict[str, list[str]] = defaultdict(list)
        self._home_views: dict[str, str] = {}
        self._files: dict[str, _File] = {}
        self._upload_tokens: dict[str, str] = {}
        self._triggers: dict[str, list] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._user_errors: dict[str, str] = {}
        self._usergroups: dict[str, dict] = {}  # id -> usergroup object (users kept in "users")
        self._usergroups_plan = True  # False: usergroups.* answer plan_upgrade_required (a free workspace)

        self._calls: list[dict] = []
        self._calls_by_method: dict[str, list[dict]] = defaultdict(list)
        self._count_method: Counter[str] = Counter()
        self._count_status: Counter[int] = Counter()
        self._count_method_status: dict[str, Counter[int]] = defaultdict(Counter)

        self._latency = 0.0
        self._rate_limits: dict[str, _Bucket] = {}
        self._history_max_limit: int | None = None  # 15 on Tier 1 (set_history_tier)
        self._endless_pages: str | None = None
        self._hold: list | None = None  # [method, calls left before holding, gate] (hold_answers)
        self._token_expiry: dict[str, float] = {}  # rotating tokens: when each expires (inf: never)
        self._held = 0
        self._channel_rate: tuple[float, float] | None = None
        self._channel_buckets: dict[str, _Bucket] = {}
        self._failure: tuple[float, int, frozenset[str] | None, random.Random, float] | None = None
        self._fail_queue: list[list] = []
        if rate_tiers:
            self.set_rate_tiers(rate_tiers)

        now = int(self.clock())
        self._users[bot_user_id] = _User(
            id=bot_user_id,
            name=bot_name,
            real_name=bot_name.capitalize(),
            email=None,
            tz="America/Los_Angeles",
            is_bot=True,
            deleted=False,
            is_admin=False,
            updated=now,
            bot_id=bot_id,
        )
        if include_slackbot:
            self._users[SLACKBOT_ID] = _User(
                id=SLACKBOT_ID,
                name="slackbot",
                real_name="Slackbot",
                email=None,
                tz="America/Los_Angeles",
                is_bot=False,
                deleted=False,
                is_admin=False,
                updated=0,
            )
        self._methods: dict[str, Callable[[dict], dict]] = {
            name.replace("__", "."): getattr(self, f"_m_{name}")
            for name in (
                "api__test",
                "auth__test",
                "team__info",
                "chat__postMessage",
                "chat__update",
                "chat__delete",
                "chat__postEphemeral",
                "chat__getPermalink",
                "conversations__open",
                "conversations__history",
                "conversations__replies",
                "conversations__members",
                "conversations__info",
                "conversations__list",
                "users__info",
                "users__list",
                "users__lookupByEmail",
                "usergroups__list",
                "usergroups__users__list",
                "views__open",
                "views__push",
                "views__update",
                "views__publish",
                "files__getUploadURLExternal",
                "files__completeUploadExternal",
                "files__info",
            )
        }

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> SlackEmulator:
        """Serve on a free loopback port (when ``port=0``) from daemon threads."""
        if self._server is not None:
            return self
        handler = type("_BoundHandler", (_Handler,), {"emulator": self})
        server = _PooledHTTPServer((self.host, self.port), handler)
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="slack-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        if self.socket is not None:
            self.socket.stop()
            self.socket = None
        self.release_answers()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """What ``WebClient(base_url=...)`` takes; the trailing slash matters to slack_sdk."""
        return f"{self.base_url}/api/"

    # ------------------------------------------------------------------ workspace setup
    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        real_name: str | None = None,
        email: str | None = None,
        tz: str = "UTC",
        is_bot: bool = False,
        deleted: bool = False,
        is_admin: bool = False,
        locale: str = "en-US",
    ) -> dict:
        ZoneInfo(tz)  # an unknown zone is a test bug: fail here, not in users.info
        with self._lock:
            user = _User(
                id=user_id,
                name=name,
                real_name=real_name if real_name is not None else name,
                email=email,
                tz=tz,
                is_bot=is_bot,
                deleted=deleted,
                is_admin=is_admin,
                updated=int(self.clock()),
                bot_id=f"B{user_id[1:]}" if is_bot else None,
                locale=locale,
            )
            old = self._users.get(user_id)
            if old is not None and old.email:
                self._emails.pop(old.email.lower(), None)
            self._users[user_id] = user
            if email:
                self._emails[email.lower()] = user_id
            return self._render_user(user)

    def set_user_locale(self, user_id: str, locale: str) -> None:
        """The person changes Slack's language (Preferences > Language & region)."""
        with self._lock:
            self._users[user_id].locale = locale
            self._users[user_id].updated = int(self.clock())

    def deactivate_user(self, user_id: str) -> None:
        with self._lock:
            self._users[user_id].deleted = True

    def users(self) -> list[dict]:
        """Every user as ``users.list`` shows them (the bot and Slackbot included)."""
        with self._lock:
            return [self._render_user(u) for u in self._users.values()]

    def add_channel(
        self,
        name: str,
        *,
        members: Iterable[str] = (),
        is_private: bool = False,
        bot_is_member: bool = True,
    ) -> str:
        with self._lock:
            if name in self._channel_names:
                raise ValueError(f"channel name taken: {name}")
            channel_id = self._new_id("C")
            member_ids = dict.fromkeys(members)
            if bot_is_member:
                member_ids[self.bot_user_id] = None
            self._channels[channel_id] = _Channel(
                id=channel_id,
                name=name,
                is_private=is_private,
                is_im=False,
                user=None,
                created=int(self.clock()),
                members=member_ids,
            )
            self._channel_names[name] = channel_id
            return channel_id

    def join_channel(self, channel_id: str, user_id: str) -> None:
        with self._lock:
            self._channels[channel_id].members[user_id] = None

    def add_usergroup(self, handle: str, *, name: str | None = None, users: Iterable[str] = (),
                      disabled: bool = False) -> str:
        """A user group (``@handle``) with these members; its id (S…)."""
        with self._lock:
            if any(g["handle"] == handle for g in self._usergroups.values()):
                raise ValueError(f"user group handle taken: {handle}")
            group_id = self._new_id("S")
            now = int(self.clock())
            self._usergroups[group_id] = {
                "id": group_id, "team_id": self.team_id, "is_usergroup": True, "is_subteam": True,
                "name": name or handle, "description": "", "handle": handle, "is_external": False,
                "date_create": now, "date_update": now, "date_delete": now if disabled else 0,
                "auto_type": None, "auto_provision": False, "enterprise_subteam_id": "",
                "created_by": self.bot_user_id, "updated_by": self.bot_user_id,
                "deleted_by": self.bot_user_id if disabled else None, "prefs": {"channels": [], "groups": []},
                "users": list(dict.fromkeys(users)),
            }
            return group_id

    def change_usergroup(self, group_id: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()) -> dict:
        """Add and remove members, as an admin editing the group would; the change as
        ``subteam_members_changed`` reports it (added, removed, the dates)."""
        with self._lock:
            group = self._usergroups[group_id]
            users: list[str] = group["users"]
            added = [u for u in dict.fromkeys(add) if u not in users]
            removed = [u for u in dict.fromkeys(remove) if u in users]
            group["users"] = [u for u in users if u not in removed] + added
            previous, group["date_update"] = group["date_update"], max(int(self.clock()), group["date_update"] + 1)
            return {"date_previous_update": previous, "date_update": group["date_update"],
                    "added_users": added, "removed_users": removed}

    def set_usergroups_plan(self, available: bool) -> None:
        """False: the workspace's plan has no user groups (``plan_upgrade_required``)."""
        with self._lock:
            self._usergroups_plan = available

    def ensure_dm(self, user_id: str) -> str:
        """The bot's DM with ``user_id``, opened if needed (as a person opening it would)."""
        with self._lock:
            if user_id not in self._users:
                raise KeyError(user_id)
            return self._dm_channel(user_id).id

    # ------------------------------------------------------------------ reading (for tests)
    def messages(self, channel_id: str, *, include_replies: bool = True) -> list[dict]:
        """What is in a channel, oldest first; thread replies carry ``thread_ts``."""
        with self._lock:
            channel = self._channels.get(channel_id)
            if channel is None:
                return []
            keys = sorted(channel.messages) if include_replies else channel.keys
            return [self._view_message(channel.messages[k]) for k in keys]

    def message(self, channel_id: str, ts: str) -> dict | None:
        with self._lock:
            channel = self._channels.get(channel_id)
            msg = channel.messages.get(parse_ts(ts) or -1) if channel else None
            return self._view_message(msg) if msg else None

    def api_message(self, channel_id: str, ts: str) -> dict | None:
        """A message exactly as the Web API renders it (what interaction payloads carry)."""
        with self._lock:
            channel = self._channels.get(channel_id)
            msg = channel.messages.get(parse_ts(ts) or -1) if channel else None
            return copy.deepcopy(self._render_message(msg, metadata=False)) if msg else None

    def dm_channel_id(self, user_id: str) -> str | None:
        with self._lock:
            return self._dms.get(user_id)

    def dm_messages(self, user_id: str) -> list[dict]:
        channel_id = self.dm_channel_id(user_id)
        return self.messages(channel_id) if channel_id else []

    def group_dms(self) -> dict[str, tuple[str, ...]]:
        """Every multi-person DM (``conversations.open`` with several ``users``): id -> its people, bot left out."""
        with self._lock:
            return {channel_id: tuple(u for u in self._channels[channel_id].members if u != self.bot_user_id)
                    for channel_id in self._mpims.values()}

    def ephemerals(self, user_id: str) -> list[dict]:
        """Ephemeral messages shown to ``user_id`` (chat.postEphemeral and response URLs)."""
        with self._lock:
            return [copy.deepcopy(e) for e in self._ephemerals.get(user_id, ()) if not e.get("deleted")]

    def home_view(self, user_id: str) -> dict | None:
        with self._lock:
            view_id = self._home_views.get(user_id)
            return copy.deepcopy(self._views[view_id]) if view_id else None

    def open_views(self, user_id: str) -> list[dict]:
        """The user's modal stack, root first."""
        with self._lock:
            return [copy.deepcopy(self._views[v]) for v in self._modal_stacks.get(user_id, ())]

    def view(self, view_id: str) -> dict | None:
        with self._lock:
            view = self._views.get(view_id)
            return copy.deepcopy(view) if view else None

    def view_owner(self, view_id: str) -> str | None:
        with self._lock:
            return self._view_owner.get(view_id)

    def uploaded_files(self, channel_id: str | None = None) -> list[dict]:
        """Files uploaded through the v2 flow; only those shared to ``channel_id`` if given."""
        with self._lock:
            out = []
            for f in self._files.values():
                if f.data is None or (channel_id is not None and channel_id not in f.shares):
                    continue
                info = self._render_file(f)
                info["content"] = f.data
                out.append(info)
            return out

    def calls(self, method: str | None = None) -> list[dict]:
        with self._lock:
            source = self._calls if method is None else self._calls_by_method.get(method, [])
            return [dict(c) for c in source]

    def stats(self) -> dict:
        with self._lock:
            return {
                "total": sum(self._count_method.values()),
                "by_method": dict(self._count_method),
                "by_status": dict(self._count_status),
                "by_method_status": {m: dict(c) for m, c in self._count_method_status.items()},
                "ratelimited": self._count_status.get(429, 0),
                "server_errors": sum(n for s, n in self._count_status.items() if s >= 500),
            }

    def reset_stats(self) -> None:
        with self._lock:
            self._calls.clear()
            self._calls_by_method.clear()
            self._count_method.clear()
            self._count_status.clear()
            self._count_method_status.clear()

    def channel_id(self, name: str) -> str | None:
        with self._lock:
            return self._channel_names.get(name.lstrip("#"))

    def wait_for(self, predicate: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.005) -> Any:
        """Poll until ``predicate()`` is truthy: Bolt acks first and calls the API afterwards.

        The deadline is generous on purpose: it only bounds a test that is failing anyway, and a busy
        two-core CI machine can take seconds to run what a laptop does in milliseconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError("condition not met within timeout")
            time.sleep(interval)

    # ------------------------------------------------------------------ fault injection
    def set_rate_limit(
        self, method: str, per_minute: float | None, *, burst: int | None = None, minute: float = 60.0
    ) -> None:
        """Token bucket per method across the workspace (``"*"``: every method).

        ``burst`` is the bucket size; by default a whole minute's allowance, which is how Slack's
        tiers behave ("50+ per minute, bursts allowed"). ``None`` removes the limit. ``minute``: how
        many real seconds a minute lasts, so a test can run an hour of Tier 1 in a minute.
        """
        with self._lock:
            if not per_minute:
                self._rate_limits.pop(method, None)
                return
            capacity = float(burst if burst is not None else per_minute)
            self._rate_limits[method] = _Bucket(per_minute / minute, max(1.0, capacity), self.rate_clock())

    def set_history_tier(self, tier: int, *, minute: float = 60.0) -> None:
        """conversations.history and .replies as Slack serves them to an app of that kind.

        Tier 1 (a commercially distributed app outside the Marketplace, since May 2025): one call a
        minute with no burst, and ``limit`` at most 15 (asking for more gets 15). Tier 3 (internal and
        Marketplace apps): 50 a minute, ``limit`` up to 999 (replies: 1000)."""
        if tier not in (1, 3):
            raise ValueError("Slack serves history at Tier 1 or Tier 3")
        for method in ("conversations.history", "conversations.replies"):
            self.set_rate_limit(method, TIER_PER_MINUTE[tier], burst=1 if tier == 1 else None, minute=minute)
        with self._lock:
            self._history_max_limit = 15 if tier == 1 else None

    def set_endless_pages(self, method: str | None) -> None:
        """``method`` (users.list, conversations.members, conversations.list, conversations.history) always
        says another page follows: a cursor that never ends, to try the bounds of a caller's loop."""
        with self._lock:
            self._endless_pages = method

    def set_rate_tiers(self, methods: Iterable[str] | str = "all", *, burst: int | None = None) -> None:
        """Enforce Slack's published tier for ``methods`` (``"all"``: every tiered method emulated).

        Each method gets its own bucket at its tier's rate (Tier 3: 50 a minute), holding ``burst``
        calls (default: a minute's allowance). ``set_rate_limit(method, None)`` lifts one again.
        """
        chosen = list(METHOD_TIERS) if methods == "all" else list(methods)
        for method in chosen:
            if method not in METHOD_TIERS:
                raise ValueError(f"{method} has no published tier here")
            self.set_rate_limit(method, TIER_PER_MINUTE[METHOD_TIERS[method]], burst=burst)

    def rate_limits(self) -> dict[str, float]:
        """The limits in force: calls a minute by method (``"*"``: every method)."""
        with self._lock:
            return {method: bucket.rate * 60 for method, bucket in self._rate_limits.items()}

    def set_channel_rate_limit(self, per_second: float | None = 1.0, *, burst: int = 3) -> None:
        """Slack's chat.postMessage limit: about one message per second per channel, short bursts allowed."""
        with self._lock:
            self._channel_rate = (per_second, float(max(1, burst))) if per_second else None
            self._channel_buckets.clear()

    def set_failure_rate(
        self,
        share: float,
        *,
        status: int = 500,
        methods: Iterable[str] | None = None,
        seed: int | None = None,
        after_processing: bool | float = False,
    ) -> None:
        """That share of calls fails with ``status``. ``after_processing``: the call takes effect first
        (the message is posted) and only the answer is lost — the case that makes retries dangerous.
        A number between 0 and 1 is the share of the failures that come after processing."""
        with self._lock:
            if share <= 0:
                self._failure = None
                return
            after = float(after_processing)
            if not 0.0 <= after <= 1.0:
                raise ValueError("after_processing is a share between 0 and 1")
            self._failure = (share, status, frozenset(methods) if methods else None, random.Random(seed), after)

    def fail_next(
        self, n: int = 1, *, status: int = 503, method: str | None = None, after_processing: bool = False
    ) -> None:
        with self._lock:
            self._fail_queue.append([n, status, method, after_processing])

    def set_user_error(self, user_id: str, error: str | None) -> None:
        """Posting into ``user_id``'s DM fails with ``error`` (e.g. ``"account_inactive"``)."""
        with self._lock:
            if error is None:
                self._user_errors.pop(user_id, None)
            else:
                self._user_errors[user_id] = error

    def set_latency(self, seconds: float) -> None:
        self._latency = max(0.0, seconds)

    # ------------------------------------------------------------------ driver hooks
    def issue_trigger_id(self, user_id: str) -> str:
        with self._lock:
            now = self.clock()
            trigger_id = (
                f"{int(now)}.{self._random.randrange(10**9, 10**10)}.{self._random.getrandbits(64):016x}"
            )
            self._triggers[trigger_id] = [user_id, now, False]
            return trigger_id

    def issue_response_url(
        self,
        user_id: str,
        channel_id: str | None,
        *,
        message_ts: str | None = None,
        ephemeral: bool = False,
    ) -> str:
        with self._lock:
            token = f"{self.team_id}/{_b36(next(self._ids))}/{self._random.getrandbits(96):024x}"
            self._response_urls[token] = _ResponseUrl(
                user=user_id,
                channel=channel_id,
                message_key=parse_ts(message_ts),
                ephemeral=ephemeral,
                issued_at=self.clock(),
            )
            return f"{self.base_url}/response/{token}"

    def respond(self, response_url: str, payload: dict) -> tuple[int, dict]:
        """Apply a POST to a response URL as Slack does; returns (HTTP status, body)."""
        token = response_url.split("/response/", 1)[-1]
        with self._lock:
            ctx = self._response_urls.get(token)
            if ctx is None:
                return 404, {"ok": False, "error": "invalid_token"}
            if self.clock() - ctx.issued_at > RESPONSE_URL_TTL_SECONDS:
                return 404, {"ok": False, "error": "expired_url"}
            if ctx.uses >= RESPONSE_URL_MAX_USES:
                return 404, {"ok": False, "error": "used_url"}
            ctx.uses += 1
            try:
                self._apply_response(ctx, payload)
            except ApiError as exc:
                return 400, {"ok": False, "error": exc.error, **exc.extra}
            return 200, {"ok": True}

    def set_view_state(self, view_id: str, block_id: str, action_id: str, value: dict) -> None:
        """What a person typed or picked in a view, kept until the view is submitted or closed."""
        with self._lock:
            view = self._views[view_id]
            view["state"]["values"].setdefault(block_id, {})[action_id] = value

    def apply_view_response(self, user_id: str, view_id: str, response: dict | None) -> None:
        """What Slack does with the bot's answer to a view_submission."""
        with self._lock:
            stack = self._modal_stacks[user_id]
            action = (response or {}).get("response_action")
            if action == "errors":
                return
            if action == "clear":
                self._clear_stack(user_id)
                return
            if action in ("update", "push"):
                view = response.get("view") if response else None
                errors = blockkit.validate_view(view)
                if errors:
                    raise ApiError(
                        "invalid_arguments", response_metadata={"messages": blockkit.slack_messages(errors)}
                    )
                if action == "update":
                    self._replace_view(view_id, view)
                else:
                    if len(stack) >= VIEW_STACK_LIMIT:
                        raise ApiError("push_limit_reached")
                    stack.append(self._new_view(user_id, view, previous=view_id)["id"])
                return
            if view_id in stack:
                self._pop_view(user_id, view_id)

    def close_view(self, user_id: str, view_id: str) -> None:
        with self._lock:
            view = self._views.get(view_id)
            if view is not None and view.get("clear_on_close"):
                self._clear_stack(user_id)
            elif view_id in self._modal_stacks.get(user_id, ()):
                self._pop_view(user_id, view_id)

    def record_user_message(
        self, user_id: str, channel_id: str, text: str, *, thread_ts: str | None = None
    ) -> dict:
        """A message a person typed; returns it as the Web API renders it."""
        with self._lock:
            channel = self._channels.get(channel_id)
            if channel is None:
                raise KeyError(channel_id)
            parent = self._thread_parent(channel, thread_ts) if thread_ts else None
            msg = self._store(
                channel,
                user=user_id,
                text=text,
                blocks=[self._rich_text_block(text)],
                parent=parent,
                client_msg_id=f"{self._random.getrandbits(128):032x}",
            )
            return copy.deepcopy(self._render_message(msg, metadata=False))

    def edit_user_message(self, channel_id: str, ts: str, text: str) -> tuple[dict, dict]:
        """A person edits a message they typed: (the message before, after), as the Web API renders them."""
        with self._lock:
            channel = self._channels[channel_id]
            msg = channel.messages[parse_ts(ts)]
            before = copy.deepcopy(self._render_message(msg, metadata=False))
            msg.text, msg.blocks = text, [self._rich_text_block(text)]
            msg.edited = {"user": msg.user, "ts": format_ts(self._next_key())}
            return before, copy.deepcopy(self._render_message(msg, metadata=False))

    def delete_user_message(self, channel_id: str, ts: str) -> dict:
        """A person deletes a message they typed; returns it as it was."""
        with self._lock:
            channel = self._channels[channel_id]
            msg = channel.messages[parse_ts(ts)]
            before = copy.deepcopy(self._render_message(msg, metadata=False))
            self._remove_message(channel, msg)
            return before

    def channel_info(self, channel_id: str) -> dict | None:
        with self._lock:
            channel = self._channels.get(channel_id)
            return self._render_channel(channel) if channel else None

    def user_info(self, user_id: str) -> dict | None:
        with self._lock:
            user = self._users.get(user_id)
            return self._render_user(user) if user else None

    # ------------------------------------------------------------------ HTTP entry point
    def handle_http(
        self, verb: str, target: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Route one request; ``headers`` is anything with ``.get`` (case-insensitive for http.server)."""
        parts = urlsplit(target)
        path = parts.path
        if path.startswith("/api/"):
            return self._handle_api(path[5:], parts.query, headers, body)
        if path.startswith("/upload/v1/") and verb == "POST":
            return self._handle_upload(path[len("/upload/v1/") :], headers, body)
        if path.startswith("/response/") and verb == "POST":
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                payload = dict(parse_qsl(body.decode("utf-8", "replace")))
                payload = json.loads(payload.get("payload", "{}")) if "payload" in payload else payload
            status, answer = self.respond(path, payload if isinstance(payload, dict) else {})
            return status, {"Content-Type": "application/json; charset=utf-8"}, _dumps(answer)
        if path.startswith("/files/") and verb == "GET":
            file_id = path[len("/files/") :].split("/", 1)[0]
            with self._lock:
                f = self._files.get(file_id)
                data = f.data if f and f.completed else None
            if data is None:
                return 404, {"Content-Type": "text/plain"}, b"file not found"
            mime = mimetypes.guess_type(f.name)[0] or "application/octet-stream"
            return 200, {"Content-Type": mime}, data
        if path == "/health":
            return 200, {"Content-Type": "text/plain"}, b"ok"
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def _handle_api(
        self, method: str, query: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if self._latency:
            time.sleep(self._latency)
        try:
            params = self._parse_params(query, headers, body)
            parse_error = None
        except ApiError as exc:
            params, parse_error = {}, exc
        auth = headers.get("Authorization") or ""
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else params.get("token")
        params.pop("token", None)
        now = self.clock()

        with self._lock:
            failure, after_processing = self._injected_failure(method) or (None, False)
        if failure and after_processing and method in self._methods and self.knows_token(token):
            with self._lock, contextlib.suppress(ApiError, _RateLimited):
                self._methods[method](params)  # it happens; only the answer is lost
        if failure:
            if failure == 429:
                self._record(method, params, status=429, error="ratelimited", at=now)
                return 429, {**_JSON, "Retry-After": "1"}, _dumps({"ok": False, "error": "ratelimited"})
            self._record(method, params, status=failure, error="server_error", at=now)
            if failure in (502, 503, 504):
                html = _HTML_5XX.format(status=failure, reason=_REASONS[failure])
                return failure, {"Content-Type": "text/html"}, html.encode()
            body_out = {"ok": False, "error": "internal_error" if failure == 500 else "fatal_error"}
            return failure, {"Content-Type": "application/json; charset=utf-8"}, _dumps(body_out)

        handler = self._methods.get(method)
        if handler is None and method != "apps.connections.open":  # answered with the token, below
            self._record(method, params, status=404, error="unknown_method", at=now)
            return 404, _JSON, _dumps({"ok": False, "error": "unknown_method", "req_method": method})

        status = 200
        extra_headers: dict[str, str] = {}
        try:
            if parse_error is not None:
                raise parse_error
            if method == "apps.connections.open":
                result = {"ok": True, **self._connections_open(token)}
                self._record(method, params, status=status, error=None, at=now)
                return status, {**_JSON, **extra_headers}, _dumps(result)
            if method != "api.test":
                if not token:
                    raise ApiError("not_authed")
                if self.app_token and token == self.app_token:
                    raise ApiError("not_allowed_token_type")  # an app-level token only opens connections
                if not self.knows_token(token):
                    raise ApiError("invalid_auth")
                if self._token_expired(token):
                    raise ApiError("token_expired")
            with self._lock:
                self._check_rate_limits(method)
                if method == self._endless_pages:  # the first page again, and always another to come
                    result = handler({k: v for k, v in params.items() if k != "cursor"})
                    result = {**result, "has_more": True, "response_metadata": {
                        "next_cursor": base64.b64encode(f"endless:{next(self._ids)}".encode()).decode()}}
                else:
                    result = handler(params)
            result = {"ok": True, **result}
        except _RateLimited as exc:
            status = 429
            extra_headers["Retry-After"] = str(exc.retry_after)
            result = {"ok": False, "error": "ratelimited"}
        except ApiError as exc:
            result = {"ok": False, "error": exc.error, **exc.extra}
        self._record(method, params, status=status, error=result.get("error"), at=now)
        self._maybe_hold(method)
        return status, {**_JSON, **extra_headers}, _dumps(result)

    def _maybe_hold(self, method: str) -> None:
        """A held answer: the call took effect, its answer waits (a network that stalls after Slack acted)."""
        with self._lock:
            hold = self._hold
            if hold is None or hold[0] != method:
                return
            hold[1] -= 1
            if hold[1] >= 0:
                return
            self._held += 1
            gate = hold[2]
        gate.wait(timeout=120)

    # -- Socket Mode
    def _connections_open(self, token: str | None) -> dict:
        """apps.connections.open: a WebSocket URL for the app-level token (connections:write)."""
        if not token:
            raise ApiError("not_authed")
        if token.startswith(("xoxb-", "xoxp-", "xoxe.")) and self.knows_token(token):
            raise ApiError("not_allowed_token_type")
        if not self.app_token or token != self.app_token:
            raise ApiError("invalid_auth")
        with self._lock:
            if self.socket is None:
                self.socket = SocketModeServer(host=self.host, app_id=self.app_id).start()
            return {"url": self.socket.issue_url()}

    # -- token rotation (Slack's "rotating tokens": xoxe.xoxb- access tokens that expire, refresh tokens)
    def knows_token(self, token: str | None) -> bool:
        with self._lock:
            return bool(token) and (token == self.bot_token or token in self._token_expiry)

    def _token_expired(self, token: str) -> bool:
        with self._lock:
            expires = self._token_expiry.get(token)
        return expires is not None and self.clock() >= expires

    def issue_rotating_token(self, expires_in: int) -> tuple[str, str]:
        """A new bot access token that expires in ``expires_in`` seconds, and the refresh token for it.
        Earlier access tokens keep working until their own expiry, as Slack's do."""
        with self._lock:
            number = next(self._ids)
            access = f"xoxe.xoxb-1-{self.team_id}-{number:06d}"
            refresh = f"xoxe-1-{self.team_id}-{number:06d}"
            self._token_expiry[self.bot_token] = self._token_expiry.get(self.bot_token, math.inf)
            self.bot_token = access
            self._token_expiry[access] = self.clock() + expires_in
            return access, refresh

    def hold_answers(self, method: str, *, after: int = 0) -> None:
        """From the call after the first ``after`` on, ``method`` takes effect but its answer is held until
        ``release_answers`` (or two minutes): the caller is left not knowing, as when a process dies mid-call."""
        with self._lock:
            self._hold = [method, after, threading.Event()]
            self._held = 0

    def held_answers(self) -> int:
        with self._lock:
            return self._held

    def release_answers(self) -> None:
        with self._lock:
            hold, self._hold = self._hold, None
        if hold is not None:
            hold[2].set()

    def _parse_params(self, query: str, headers: Any, body: bytes) -> dict[str, Any]:
        params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
        if not body:
            return params
        raw_type = headers.get("Content-Type") or ""
        ctype = raw_type.lower()
        if ctype.startswith("application/json"):
            try:
                data = json.loads(body)
            except ValueError:
                raise ApiError("invalid_json") from None
            if not isinstance(data, dict):
                raise ApiError("invalid_json")
            params.update(data)
        elif ctype.startswith("multipart/form-data"):
            for name, _filename, value in _multipart_parts(raw_type, body):
                params[name] = value.decode("utf-8", "replace")
        else:
            try:
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
            except UnicodeDecodeError:
                raise ApiError("invalid_form_data") from None
        return params

    def _injected_failure(self, method: str) -> tuple[int, bool] | None:
        for entry in self._fail_queue:
            remaining, status, only, after = entry
            if only is None or only == method:
                entry[0] = remaining - 1
                if entry[0] <= 0:
                    self._fail_queue.remove(entry)
                return status, after
        if self._failure is not None:
            share, status, methods, rng, after = self._failure
            if (methods is None or method in methods) and rng.random() < share:
                return status, after >= 1.0 or (after > 0.0 and rng.random() < after)
        return None

    def _check_rate_limits(self, method: str) -> None:
        if not self._rate_limits:
            return
        buckets = [b for b in (self._rate_limits.get(method), self._rate_limits.get("*")) if b is not None]
        if not buckets:
            return
        now = self.rate_clock()
        wait = max(b.wait(now) for b in buckets)
        if wait > 0:
            raise _RateLimited(max(1, math.ceil(wait)))
        for b in buckets:
            b.take()

    def _record(self, method: str, params: dict, *, status: int, error: str | None, at: float) -> None:
        call = {
            "method": method,
            "params": params,
            "ok": error is None,
            "error": error,
            "http_status": status,
            "at": at,
        }
        with self._lock:
            self._calls.append(call)
            self._calls_by_method[method].append(call)
            self._count_method[method] += 1
            self._count_status[status] += 1
            self._count_method_status[method][status] += 1

    def _handle_upload(self, token: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Slack's upload URL takes raw bytes or a multipart form and answers ``OK - <bytes>``."""
        ctype = headers.get("Content-Type") or ""
        data = body
        if ctype.lower().startswith("multipart/form-data"):
            parts = _multipart_parts(ctype, body)
            files = [p for p in parts if p[1] is not None] or parts
            data = files[0][2] if files else b""
        with self._lock:
            file_id = self._upload_tokens.get(token)
            f = self._files.get(file_id) if file_id else None
            if f is None:
                return 404, {"Content-Type": "text/plain"}, b"invalid upload url"
            f.data = data
        return 200, {"Content-Type": "text/plain; charset=utf-8"}, f"OK - {len(data)}".encode()

    # ------------------------------------------------------------------ id, ts and rendering helpers
    def _new_id(self, prefix: str) -> str:
        return f"{prefix}0{_b36(next(self._ids)):0>8}"

    def _next_key(self) -> int:
        key = max(int(self.clock() * 1_000_000), self._last_key + 1)
        self._last_key = key
        return key

    def _random_id(self, length: int = 5) -> str:
        alphabet = string.ascii_letters + string.digits
        return "".join(self._random.choice(alphabet) for _ in range(length))

    def _render_user(self, user: _User, *, include_locale: bool = False) -> dict:
        zone = ZoneInfo(user.tz)
        moment = datetime.fromtimestamp(self.clock(), tz=UTC).astimezone(zone)
        offset = moment.utcoffset()
        abbreviation = moment.tzname() or user.tz
        first, _, last = user.real_name.partition(" ")
        profile: dict[str, Any] = {
            "title": "",
            "phone": "",
            "skype": "",
            "real_name": user.real_name,
            "real_name_normalized": user.real_name,
            "display_name": "" if user.is_bot else user.name,
            "display_name_normalized": "" if user.is_bot else user.name,
            "fields": None,
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
            "avatar_hash": f"g{abs(hash(user.id)) % 16**11:011x}",
            "first_name": first,
            "last_name": last,
            "image_24": "https://secure.gravatar.com/avatar/0.jpg?s=24",
            "image_48": "https://secure.gravatar.com/avatar/0.jpg?s=48",
            "image_72": "https://secure.gravatar.com/avatar/0.jpg?s=72",
            "team": self.team_id,
        }
        if user.email:
            profile["email"] = user.email
        if user.bot_id:
            profile["bot_id"] = user.bot_id
            profile["api_app_id"] = self.app_id if user.id == self.bot_user_id else ""
            profile["always_active"] = True
        rendered = {
            "id": user.id,
            "team_id": self.team_id,
            "name": user.name,
            "deleted": user.deleted,
            "color": "9f69e7",
            "real_name": user.real_name,
            "tz": user.tz,
            "tz_label": _TZ_LABELS.get(abbreviation, abbreviation),
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "profile": profile,
            "is_admin": user.is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": user.is_bot,
            "is_app_user": False,
            "updated": user.updated,
            "is_email_confirmed": bool(user.email),
            "who_can_share_contact_card": "EVERYONE",
        }
        if include_locale:
            rendered["locale"] = user.locale
        if user.deleted:
            # users.list and users.info leave the admin and owner flags out for deactivated accounts.
            for key in ("is_admin", "is_owner", "is_primary_owner", "is_restricted", "is_ultra_restricted"):
                rendered.pop(key)
        return rendered

    def _bot_profile(self) -> dict:
        return {
            "id": self.bot_id,
            "app_id": self.app_id,
            "name": self.bot_name,
            "icons": {
                "image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png",
                "image_48": "https://a.slack-edge.com/80588/img/plugins/app/bot_48.png",
                "image_72": "https://a.slack-edge.com/80588/img/plugins/app/service_72.png",
            },
            "deleted": False,
            "updated": self._users[self.bot_user_id].updated,
            "team_id": self.team_id,
        }

    def _render_message(self, msg: _Message, *, metadata: bool) -> dict:
        channel = self._channels[msg.channel]
        out: dict[str, Any] = {"type": "message"}
        if msg.subtype:
            out["subtype"] = msg.subtype
        out["text"] = msg.text
        if msg.user:
            out["user"] = msg.user
        out["ts"] = format_ts(msg.key)
        if msg.client_msg_id:
            out["client_msg_id"] = msg.client_msg_id
        if msg.bot_id:
            out["bot_id"] = msg.bot_id
            out["app_id"] = self.app_id
        out["team"] = self.team_id
        if msg.bot_id:
            out["bot_profile"] = self._bot_profile()
        if msg.blocks is not None:
            out["blocks"] = msg.blocks
        if msg.attachments:
            out["attachments"] = msg.attachments
        if msg.files:
            out["files"] = [self._render_file(self._files[f]) for f in msg.files]
            out["upload"] = True
            out["display_as_bot"] = False
        if msg.edited:
            out["edited"] = msg.edited
        if msg.parent is not None:
            out["thread_ts"] = format_ts(msg.parent)
            parent = channel.messages.get(msg.parent)
            if parent is not None and parent.user:
                out["parent_user_id"] = parent.user
        elif msg.replies:
            reply_users = list(
                dict.fromkeys(channel.messages[k].user for k in msg.replies if k in channel.messages)
            )
            out["thread_ts"] = out["ts"]
            out["reply_count"] = len(msg.replies)
            out["reply_users_count"] = len(reply_users)
            out["latest_reply"] = format_ts(msg.replies[-1])
            out["reply_users"] = reply_users
            out["is_locked"] = False
            out["subscribed"] = False
        if metadata and msg.metadata is not None:
            out["metadata"] = msg.metadata
        return out

    def _view_message(self, msg: _Message) -> dict:
        return copy.deepcopy(
            {
                "ts": format_ts(msg.key),
                "channel": msg.channel,
                "user": msg.user,
                "bot_id": msg.bot_id,
                "text": msg.text,
                "blocks": msg.blocks,
                "attachments": msg.attachments,
                "metadata": msg.metadata,
                "thread_ts": format_ts(msg.parent) if msg.parent is not None else None,
                "edited": msg.edited is not None,
                "reply_count": len(msg.replies),
                "files": [self._render_file(self._files[f]) for f in msg.files] if msg.files else [],
                "subtype": msg.subtype,
            }
        )

    def _render_channel(self, channel: _Channel) -> dict:
        last = format_ts(channel.keys[-1]) if channel.keys else "0000000000.000000"
        if channel.is_im:
            return {
                "id": channel.id,
                "created": channel.created,
                "is_archived": False,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": self.team_id,
                "updated": channel.created * 1000,
                "user": channel.user,
                "is_user_deleted": self._users[channel.user].deleted
                if channel.user in self._users
                else False,
                "last_read": last,
                "latest": None,
                "unread_count": 0,
                "unread_count_display": 0,
                "is_open": True,
                "priority": 0,
            }
        return {
            "id": channel.id,
            "name": channel.name,
            "is_channel": not channel.is_mpim,
            "is_group": channel.is_mpim,
            "is_im": False,
            "is_mpim": channel.is_mpim,
            "is_private": channel.is_private,
            "created": channel.created,
            "is_archived": False,
            "is_general": False,
            "unlinked": 0,
            "name_normalized": channel.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": self.team_id,
            "updated": channel.created * 1000,
            "parent_conversation": None,
            "creator": self.bot_user_id,
            "is_ext_shared": False,
            "shared_team_ids": [self.team_id],
            "pending_connected_team_ids": [],
            "is_member": self.bot_user_id in channel.members,
            "last_read": last,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
        }

    def _render_file(self, f: _File) -> dict:
        mime = mimetypes.guess_type(f.name)[0] or "application/octet-stream"
        filetype = f.snippet_type or (f.name.rsplit(".", 1)[-1].lower() if "." in f.name else "binary")
        shares: dict[str, dict[str, list[dict]]] = {}
        for channel_id, keys in f.shares.items():
            channel = self._channels[channel_id]
            bucket = "private" if channel.is_private or channel.is_im else "public"
            shares.setdefault(bucket, {})[channel_id] = [
                {
                    "ts": format_ts(k),
                    "channel_name": channel.name or "directmessage",
                    "team_id": self.team_id,
                    "share_user_id": self.bot_user_id,
                    "source": "UNKNOWN",
                    "reply_users": [],
                    "reply_users_count": 0,
                    "reply_count": 0,
                }
                for k in keys
            ]
        url = f"{self.base_url}/files/{f.id}/{f.name}"
        out = {
            "id": f.id,
            "created": f.created,
            "timestamp": f.created,
            "name": f.name,
            "title": f.title or f.name,
            "mimetype": mime,
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": self.bot_user_id,
            "user_team": self.team_id,
            "editable": False,
            "size": len(f.data) if f.data is not None else f.length,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": "public" in shares,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": url,
            "url_private_download": url + "?download=1",
            "permalink": f"https://{self.team_domain}.slack.com/files/{self.bot_user_id}/{f.id}/{f.name}",
            "permalink_public": f"https://slack-files.com/{self.team_id}-{f.id}-{f.id[-10:].lower()}",
            "comments_count": 0,
            "is_starred": False,
            "shares": shares,
            "channels": [
                c for c in f.shares if not self._channels[c].is_im and not self._channels[c].is_private
            ],
            "groups": [c for c in f.shares if self._channels[c].is_private],
            "ims": [c for c in f.shares if self._channels[c].is_im],
            "has_more_shares": False,
            "has_rich_preview": False,
            "file_access": "visible",
        }
        if f.alt_txt:
            out["alt_txt"] = f.alt_txt
        return out

    def _rich_text_block(self, text: str) -> dict:
        return {
            "type": "rich_text",
            "block_id": self._random_id(),
            "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
        }

    def _assign_ids(self, blocks: list[dict]) -> list[dict]:
        """Slack fills in missing block_id and action_id values with short random strings."""
        taken = {b["block_id"] for b in blocks if isinstance(b.get("block_id"), str)}
        for block in blocks:
            if "block_id" not in block:
                new = self._random_id()
                while new in taken:
                    new = self._random_id()
                taken.add(new)
                block["block_id"] = new
            elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
            for key in ("accessory", "element"):
                if isinstance(block.get(key), dict):
                    elements.append(block[key])
            for el in elements:
                if isinstance(el, dict) and el.get("type") not in (None, "image") and "action_id" not in el:
                    el["action_id"] = self._random_id()
        return blocks

    # ------------------------------------------------------------------ state helpers
    def _dm_channel(self, user_id: str) -> _Channel:
        channel_id = self._dms.get(user_id)
        if channel_id is not None:
            return self._channels[channel_id]
        channel_id = self._new_id("D")
        channel = _Channel(
            id=channel_id,
            name=None,
            is_private=False,
            is_im=True,
            user=user_id,
            created=int(self.clock()),
            members=dict.fromkeys((user_id, self.bot_user_id)),
        )
        self._channels[channel_id] = channel
        self._dms[user_id] = channel_id
        return channel

    def _channel_for_post(self, value: Any) -> _Channel:
        if not isinstance(value, str) or not value:
            raise ApiError("channel_not_found")
        if value[0] in "UW" and value in self._users:
            return self._dm_channel(value)
        channel = self._channels.get(value)
        if channel is None:
            name_id = self._channel_names.get(value.lstrip("#"))
            channel = self._channels.get(name_id) if name_id else None
        if channel is None:
            raise ApiError("channel_not_found")
        if not channel.is_im and self.bot_user_id not in channel.members:
            raise ApiError("channel_not_found" if channel.is_private else "not_in_channel")
        return channel

    def _channel_for_read(self, value: Any) -> _Channel:
        channel = self._channels.get(value) if isinstance(value, str) else None
        if channel is None or (channel.is_private and self.bot_user_id not in channel.members):
            raise ApiError("channel_not_found")
        return channel

    def _check_user_error(self, channel: _Channel) -> None:
        if channel.is_im and channel.user in self._user_errors:
            raise ApiError(self._user_errors[channel.user])

    def _thread_parent(self, channel: _Channel, thread_ts: Any) -> int:
        key = parse_ts(thread_ts)
        msg = channel.messages.get(key) if key is not None else None
        if msg is None or (msg.subtype == "tombstone" and not msg.replies):
            raise ApiError("thread_not_found")
        return msg.parent if msg.parent is not None else msg.key

    def _store(
        self,
        channel: _Channel,
        *,
        user: str | None,
        text: str,
        bot_id: str | None = None,
        blocks: list | None = None,
        attachments: list | None = None,
        metadata: dict | None = None,
        parent: int | None = None,
        files: list[str] | None = None,
        client_msg_id: str | None = None,
        broadcast: bool = False,
    ) -> _Message:
        key = self._next_key()
        msg = _Message(
            key=key,
            channel=channel.id,
            user=user,
            text=text,
            bot_id=bot_id,
            blocks=blocks,
            attachments=attachments,
            metadata=metadata,
            parent=parent,
            files=files,
            client_msg_id=client_msg_id,
            subtype="thread_broadcast" if broadcast and parent is not None else None,
        )
        channel.messages[key] = msg
        if parent is None or broadcast:
            channel.keys.append(key)  # keys only grow, so the list stays sorted
        if parent is not None:
            channel.messages[parent].replies.append(key)
        return msg

    def _message_content(
        self, p: dict, *, require: bool = True
    ) -> tuple[str, list | None, list | None, bool]:
        """text, blocks, attachments and whether text was truncated; raises Slack's errors."""
        blocks = _json_param(p, "blocks", "invalid_blocks_format")
        attachments = _json_param(p, "attachments", "invalid_attachments")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise ApiError("invalid_blocks_format")
            errors = blockkit.validate_blocks(blocks, surface=blockkit.MESSAGE)
            if errors:
                raise ApiError(
                    "invalid_blocks",
                    errors=errors,
                    response_metadata={"messages": blockkit.slack_messages(errors)},
                )
            blocks = self._assign_ids(blocks)
        if attachments is not None and not isinstance(attachments, list):
            raise ApiError("invalid_attachments")
        if attachments is not None and len(attachments) > 100:
            raise ApiError("too_many_attachments")
        text = p.get("text")
        text = "" if text is None else str(text)
        if require and not text and not blocks and not attachments:
            raise ApiError("no_text")
        text, truncated = blockkit.truncate_message_text(text)
        return text, blocks, attachments, truncated

    def _apply_response(self, ctx: _ResponseUrl, payload: dict) -> None:
        if _truthy(payload.get("delete_original")):
            self._delete_original(ctx)
            return
        text, blocks, attachments, _ = self._message_content(payload)
        channel = self._channels.get(ctx.channel) if ctx.channel else None
        if _truthy(payload.get("replace_original")):
            if ctx.ephemeral and ctx.message_key in self._ephemeral_by_key:
                eph = self._ephemeral_by_key[ctx.message_key]
                eph.update(text=text, blocks=blocks, attachments=attachments)
                return
            if channel is not None and ctx.message_key in channel.messages:
                msg = channel.messages[ctx.message_key]
                msg.text, msg.blocks = text, blocks
                if attachments is not None:
                    msg.attachments = attachments
                return
        if channel is None:
            raise ApiError("channel_not_found")
        thread = payload.get("thread_ts")
        parent = self._thread_parent(channel, thread) if thread else None
        if payload.get("response_type") == "in_channel":
            self._store(
                channel,
                user=self.bot_user_id,
                bot_id=self.bot_id,
                text=text,
                blocks=blocks,
                attachments=attachments,
                parent=parent,
            )
        else:
            self._add_ephemeral(ctx.user, channel, text, blocks, attachments, parent, source="response_url")

    def _delete_original(self, ctx: _ResponseUrl) -> None:
        if ctx.ephemeral and ctx.message_key in self._ephemeral_by_key:
            self._ephemeral_by_key[ctx.message_key]["deleted"] = True
            return
        channel = self._channels.get(ctx.channel) if ctx.channel else None
        if channel is None or ctx.message_key not in channel.messages:
            raise ApiError("message_not_found")
        self._remove_message(channel, channel.messages[ctx.message_key])

    def _add_ephemeral(
        self,
        user_id: str,
        channel: _Channel,
        text: str,
        blocks: list | None,
        attachments: list | None,
        parent: int | None,
        *,
        source: str,
    ) -> dict:
        key = self._next_key()
        entry = {
            "ts": format_ts(key),
            "channel": channel.id,
            "user": user_id,
            "bot_id": self.bot_id,
            "text": text,
            "blocks": blocks,
            "attachments": attachments,
            "thread_ts": format_ts(parent) if parent is not None else None,
            "source": source,
            "is_ephemeral": True,
        }
        self._ephemerals[user_id].append(entry)
        self._ephemeral_by_key[key] = entry
        return entry

    def _remove_message(self, channel: _Channel, msg: _Message) -> None:
        if msg.parent is None and msg.replies:
            # A parent with replies stays as a tombstone so the thread survives, as in Slack.
            msg.subtype, msg.text, msg.blocks, msg.attachments, msg.files = (
                "tombstone",
                "This message was deleted.",
                None,
                None,
                None,
            )
            msg.user, msg.bot_id = SLACKBOT_ID, None
            return
        del channel.messages[msg.key]
        if msg.parent is None or msg.subtype == "thread_broadcast":
            index = bisect.bisect_left(channel.keys, msg.key)
            if index < len(channel.keys) and channel.keys[index] == msg.key:
                del channel.keys[index]
        if msg.parent is not None:
            parent = channel.messages.get(msg.parent)
            if parent is not None:
                parent.replies.remove(msg.key)
                if parent.subtype == "tombstone" and not parent.replies:
                    self._remove_message(channel, parent)

    def _check_channel_rate(self, channel: _Channel) -> None:
        if self._channel_rate is None:
            return
        per_second, burst = self._channel_rate
        now = self.rate_clock()
        bucket = self._channel_buckets.get(channel.id)
        if bucket is None:
            bucket = self._channel_buckets[channel.id] = _Bucket(per_second, burst, now)
        wait = bucket.wait(now)
        if wait > 0:
            raise _RateLimited(max(1, math.ceil(wait)))
        bucket.take()

    # views
    def _check_trigger(self, trigger_id: Any) -> str:
        if not trigger_id:
            raise ApiError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] missing required field: trigger_id"]},
            )
        entry = self._triggers.get(trigger_id)
        if entry is None:
            raise ApiError("invalid_trigger_id")
        user_id, issued, used = entry
        if used:
            raise ApiError("exchanged_trigger_id")
        if self.clock() - issued > TRIGGER_TTL_SECONDS:
            raise ApiError("expired_trigger_id")
        entry[2] = True
        return user_id

    def _view_param(self, p: dict, kind: str) -> dict:
        view = _json_param(p, "view", "invalid_arguments")
        if not isinstance(view, dict):
            raise ApiError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: view"]}
            )
        errors = blockkit.validate_view(view)
        if not errors and view.get("type") != kind:
            errors = [blockkit.pointer_error(f"must be {kind}", "/view/type")]
        if errors:
            raise ApiError(
                "invalid_arguments", response_metadata={"messages": blockkit.slack_messages(errors)}
            )
        external_id = view.get("external_id")
        if external_id and external_id in self._external_ids:
            raise ApiError("duplicate_external_id")
        return view

    def _new_view(
        self, user_id: str, view: dict, *, previous: str | None = None, root: str | None = None
    ) -> dict:
        view_id = self._new_id("V")
        stored = self._build_view(view_id, view, previous=previous, root=root or view_id)
        self._views[view_id] = stored
        self._view_owner[view_id] = user_id
        if stored["external_id"]:
            self._external_ids[stored["external_id"]] = view_id
        return stored

    def _build_view(
        self, view_id: str, view: dict, *, previous: str | None, root: str, state: dict | None = None
    ) -> dict:
        kind = view["type"]
        blocks = self._assign_ids(copy.deepcopy(view.get("blocks") or []))
        title = view.get("title") or {"type": "plain_text", "text": "View Title"}
        return {
            "id": view_id,
            "team_id": self.team_id,
            "type": kind,
            "blocks": blocks,
            "private_metadata": view.get("private_metadata") or "",
            "callback_id": view.get("callback_id") or "",
            "state": state if state is not None else {"values": {}},
            "hash": f"{int(self.clock())}.{self._random.getrandbits(32):08x}",
            "title": title,
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close") if kind == "modal" else None,
            "submit": view.get("submit") if kind == "modal" else None,
            "previous_view_id": previous,
            "root_view_id": root,
            "app_id": self.app_id,
            "external_id": view.get("external_id") or "",
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }

    def _replace_view(self, view_id: str, view: dict) -> dict:
        old = self._views[view_id]
        if old["external_id"]:
            self._external_ids.pop(old["external_id"], None)
        stored = self._build_view(view_id, view, previous=old["previous_view_id"], root=old["root_view_id"])
        # Slack keeps what a person entered in blocks that survive the update (same block_id).
        kept = {b["block_id"] for b in stored["blocks"]}
        stored["state"]["values"] = {b: v for b, v in old["state"]["values"].items() if b in kept}
        self._views[view_id] = stored
        if stored["external_id"]:
            self._external_ids[stored["external_id"]] = view_id
        return stored

    def _pop_view(self, user_id: str, view_id: str) -> None:
        stack = self._modal_stacks[user_id]
        index = stack.index(view_id)
        for gone in stack[index:]:
            self._forget_view(gone)
        del stack[index:]

    def _clear_stack(self, user_id: str) -> None:
        for gone in self._modal_stacks.get(user_id, ()):
            self._forget_view(gone)
        self._modal_stacks[user_id] = []

    def _forget_view(self, view_id: str) -> None:
        view = self._views.pop(view_id, None)
        self._view_owner.pop(view_id, None)
        if view and view["external_id"]:
            self._external_ids.pop(view["external_id"], None)

    # ------------------------------------------------------------------ Web API methods
    def _m_api__test(self, p: dict) -> dict:
        return {"args": p} if p else {}

    def _m_auth__test(self, p: dict) -> dict:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _m_team__info(self, p: dict) -> dict:
        return {
            "team": {
                "id": self.team_id,
                "name": self.team_name,
                "url": f"https://{self.team_domain}.slack.com/",
                "domain": self.team_domain,
                "email_domain": "",
                "icon": {
                    "image_default": True,
                    "image_34": "https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-34.png",
                },
                "avatar_base_url": "https://ca.slack-edge.com/",
                "is_verified": False,
            }
        }

    def _m_chat__postMessage(self, p: dict) -> dict:
        channel = self._channel_for_post(p.get("channel"))
        self._check_user_error(channel)
        text, blocks, attachments, truncated = self._message_content(p)
        metadata = _metadata_param(p)
        parent = self._thread_parent(channel, p["thread_ts"]) if p.get("thread_ts") else None
        self._check_channel_rate(channel)
        msg = self._store(
            channel,
            user=self.bot_user_id,
            bot_id=self.bot_id,
            text=text,
            blocks=blocks,
            attachments=attachments,
            metadata=metadata,
            parent=parent,
            broadcast=_truthy(p.get("reply_broadcast")),
        )
        out = {
            "channel": channel.id,
            "ts": format_ts(msg.key),
            "message": self._render_message(msg, metadata=True),
        }
        if truncated:
            out.update(_TRUNCATION_WARNING)
        return out

    def _m_chat__update(self, p: dict) -> dict:
        channel = self._channels.get(p.get("channel") or "")
        if channel is None:
            raise ApiError("channel_not_found")
        key = parse_ts(p.get("ts"))
        msg = channel.messages.get(key) if key is not None else None
        if msg is None or msg.subtype == "tombstone":
            raise ApiError("message_not_found")
        if msg.bot_id != self.bot_id:
            raise ApiError("cant_update_message")
        has_text = p.get("text") is not None
        if not has_text and p.get("blocks") is None and p.get("attachments") is None:
            raise ApiError("no_text")
        text, blocks, attachments, truncated = self._message_content(p, require=False)
        metadata = _metadata_param(p)
        if has_text:
            msg.text = text
        if p.get("blocks") is not None:
            msg.blocks = blocks or None
        if p.get("attachments") is not None:
            msg.attachments = attachments or None
        if metadata is not None:
            msg.metadata = metadata
        msg.edited = {"user": self.bot_user_id, "ts": format_ts(self._next_key())}
        rendered = self._render_message(msg, metadata=True)
        out = {"channel": channel.id, "ts": format_ts(msg.key), "text": msg.text, "message": rendered}
        if truncated:
            out.update(_TRUNCATION_WARNING)
        return out

    def _m_chat__delete(self, p: dict) -> dict:
        channel = self._channels.get(p.get("channel") or "")
        if channel is None:
            raise ApiError("channel_not_found")
        key = parse_ts(p.get("ts"))
        msg = channel.messages.get(key) if key is not None else None
        if msg is None or msg.subtype == "tombstone":
            raise ApiError("message_not_found")
        if msg.bot_id != self.bot_id:
            raise ApiError("cant_delete_message")
        self._remove_message(channel, msg)
        return {"channel": channel.id, "ts": format_ts(key)}

    def _m_chat__postEphemeral(self, p: dict) -> dict:
        channel = self._channel_for_post(p.get("channel"))
        user_id = p.get("user")
        if not user_id:
            raise ApiError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: user"]}
            )
        if user_id not in self._users or user_id not in channel.members:
            raise ApiError("user_not_in_channel")
        self._check_user_error(channel)
        text, blocks, attachments, truncated = self._message_content(p)
        parent = self._thread_parent(channel, p["thread_ts"]) if p.get("thread_ts") else None
        entry = self._add_ephemeral(
            user_id, channel, text, blocks, attachments, parent, source="chat.postEphemeral"
        )
        out = {"message_ts": entry["ts"]}
        if truncated:
            out.update(_TRUNCATION_WARNING)
        return out

    def _m_chat__getPermalink(self, p: dict) -> dict:
        channel = self._channel_for_read(p.get("channel"))
        key = parse_ts(p.get("message_ts"))
        msg = channel.messages.get(key) if key is not None else None
        if msg is None:
            raise ApiError("message_not_found")
        link = f"https://{self.team_domain}.slack.com/archives/{channel.id}/p{format_ts(msg.key).replace('.', '')}"
        if msg.parent is not None:
            link += f"?thread_ts={format_ts(msg.parent)}&cid={channel.id}"
        return {"channel": channel.id, "permalink": link}

    def _m_conversations__open(self, p: dict) -> dict:
        channel_id = p.get("channel")
        if channel_id:
            channel = self._channel_for_read(channel_id)
            return {"no_op": True, "already_open": True, "channel": self._open_shape(channel, p)}
        users = list(dict.fromkeys(u.strip() for u in str(p.get("users") or "").split(",") if u.strip()))
        if not users:
            raise ApiError("users_list_not_supplied")
        if len(users) > 8:
            raise ApiError("too_many_users")
        if len(users) > 1:
            return self._open_mpim(users, p)
        user = self._users.get(users[0])
        if user is None:
            raise ApiError("user_not_found")
        if user.deleted:
            raise ApiError("user_disabled")
        existed = users[0] in self._dms
        channel = self._dm_channel(users[0])
        out: dict[str, Any] = {"channel": self._open_shape(channel, p)}
        if existed:
            out = {"no_op": True, "already_open": True, **out}
        return out

    def _open_mpim(self, users: list[str], p: dict) -> dict:
        """A multi-person DM, as Slack opens one: the same people (in any order) always get the same
        conversation, the bot is in it, and its name lists them in the order given the first time."""
        for user_id in users:
            user = self._users.get(user_id)
            if user is None or user_id == self.bot_user_id:
                raise ApiError("user_not_found")
            if user.deleted:
                raise ApiError("user_disabled")
        key = frozenset(users)
        existing = self._mpims.get(key)
        if existing is not None:
            return {"no_op": True, "already_open": True, "channel": self._open_shape(self._channels[existing], p)}
        channel_id = self._new_id("G")
        names = [self._users[u].name for u in users]
        channel = _Channel(id=channel_id, name="mpdm-" + "--".join(names) + "-1", is_private=True, is_im=False,
                           user=None, created=int(self.clock()),
                           members=dict.fromkeys([*users, self.bot_user_id]), is_mpim=True)
        self._channels[channel_id] = channel
        self._mpims[key] = channel_id
        return {"channel": self._open_shape(channel, p)}

    def _open_shape(self, channel: _Channel, p: dict) -> dict:
        return self._render_channel(channel) if _truthy(p.get("return_im")) else {"id": channel.id}

    def _m_conversations__history(self, p: dict) -> dict:
        channel = self._channel_for_read(p.get("channel"))
        if not channel.is_im and self.bot_user_id not in channel.members:
            raise ApiError("not_in_channel")
        limit = min(max(_int(p.get("limit"), self._history_max_limit or 100), 1), self._history_max_limit or 999)
        inclusive = _truthy(p.get("inclusive"))
        latest = parse_ts(p.get("latest"))
        oldest = parse_ts(p.get("oldest")) or 0
        keys = channel.keys
        if latest is None:
            hi = len(keys)
        else:
            hi = bisect.bisect_right(keys, latest) if inclusive else bisect.bisect_left(keys, latest)
        lo = bisect.bisect_left(keys, oldest) if inclusive else bisect.bisect_right(keys, oldest)
        if p.get("cursor"):
            boundary = parse_ts(_decode_cursor(p["cursor"], "next_ts"))
            if boundary is None:
                raise ApiError("invalid_cursor")
            hi = min(hi, bisect.bisect_left(keys, boundary))
        start = max(lo, hi - limit)
        with_metadata = _truthy(p.get("include_all_metadata"))
        page = [
            self._render_message(channel.messages[k], metadata=with_metadata)
            for k in reversed(keys[start:hi])
        ]
        has_more = start > lo
        out: dict[str, Any] = {
            "messages": page,
            "has_more": has_more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
        }
        if has_more:
            out["response_metadata"] = {"next_cursor": _encode_cursor("next_ts", format_ts(keys[start]))}
        return out

    def _m_conversations__replies(self, p: dict) -> dict:
        channel = self._channel_for_read(p.get("channel"))
        key = parse_ts(p.get("ts"))
        msg = channel.messages.get(key) if key is not None else None
        if msg is None:
            raise ApiError("thread_not_found")
        parent = channel.messages[msg.parent] if msg.parent is not None else msg
        # Slack answers with the parent first, then the replies oldest first, whatever the window.
        inclusive = _truthy(p.get("inclusive"))
        latest = parse_ts(p.get("latest"))
        oldest = parse_ts(p.get("oldest")) or 0
        selected = [parent.key] + [
            k
            for k in parent.replies
            if (k >= oldest if inclusive else k > oldest)
            and (latest is None or (k <= latest if inclusive else k < latest))
        ]
        start = 0
        if p.get("cursor"):
            boundary = parse_ts(_decode_cursor(p["cursor"], "next_ts"))
            if boundary is None or boundary not in selected:
                raise ApiError("invalid_cursor")
            start = selected.index(boundary)
        limit = min(max(_int(p.get("limit"), self._history_max_limit or 1000), 1), self._history_max_limit or 1000)
        page = selected[start : start + limit]
        more = start + limit < len(selected)
        with_metadata = _truthy(p.get("include_all_metadata"))
        return {
            "messages": [self._render_message(channel.messages[k], metadata=with_metadata) for k in page],
            "has_more": more,
            "response_metadata": {
                "next_cursor": _encode_cursor("next_ts", format_ts(selected[start + limit])) if more else ""
            },
        }

    def _m_conversations__members(self, p: dict) -> dict:
        channel = self._channel_for_read(p.get("channel"))
        members = list(channel.members)
        page, next_cursor = _paginate(members, p, "user", default_limit=100)
        return {"members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _m_conversations__info(self, p: dict) -> dict:
        channel = self._channel_for_read(p.get("channel"))
        rendered = self._render_channel(channel)
        if _truthy(p.get("include_num_members")) and not channel.is_im:
            rendered["num_members"] = len(channel.members)
        return {"channel": rendered}

    def _m_conversations__list(self, p: dict) -> dict:
        types = set(str(p.get("types") or "public_channel").split(","))
        chosen = []
        for channel in self._channels.values():
            kind = ("im" if channel.is_im else "mpim" if channel.is_mpim
                    else "private_channel" if channel.is_private else "public_channel")
            if kind not in types:
                continue
            if kind == "private_channel" and self.bot_user_id not in channel.members:
                continue
            chosen.append(channel.id)
        page, next_cursor = _paginate(chosen, p, "channel", default_limit=100)
        return {
            "channels": [self._render_channel(self._channels[c]) for c in page],
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _m_users__info(self, p: dict) -> dict:
        user = self._users.get(p.get("user") or "")
        if user is None:
            raise ApiError("user_not_found")
        return {"user": self._render_user(user, include_locale=_truthy(p.get("include_locale")))}

    def _m_users__list(self, p: dict) -> dict:
        ids = list(self._users)
        page, next_cursor = _paginate(ids, p, "users", default_limit=0)
        return {
            "members": [self._render_user(self._users[u], include_locale=_truthy(p.get("include_locale")))
                        for u in page],
            "cache_ts": int(self.clock()),
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _m_users__lookupByEmail(self, p: dict) -> dict:
        user_id = self._emails.get(str(p.get("email") or "").lower())
        user = self._users.get(user_id) if user_id else None
        if user is None or user.deleted:
            raise ApiError("users_not_found")
        return {"user": self._render_user(user)}

    def _render_usergroup(self, group: dict, *, include_users: bool, include_count: bool) -> dict:
        rendered = {k: v for k, v in group.items() if k != "users"}
        if include_users:
            rendered["users"] = list(group["users"])
        if include_count:
            rendered["user_count"] = len(group["users"])
        return rendered

    def _m_usergroups__list(self, p: dict) -> dict:
        if not self._usergroups_plan:
            raise ApiError("plan_upgrade_required")
        disabled = _truthy(p.get("include_disabled"))
        return {"usergroups": [
            self._render_usergroup(g, include_users=_truthy(p.get("include_users")),
                                   include_count=_truthy(p.get("include_count")))
            for g in self._usergroups.values() if disabled or not g["date_delete"]]}

    def _m_usergroups__users__list(self, p: dict) -> dict:
        """Slack's: every member's id at once (no cursor); a disabled group only with include_disabled."""
        if not self._usergroups_plan:
            raise ApiError("plan_upgrade_required")
        if not p.get("usergroup"):
            raise ApiError("invalid_arguments")
        group = self._usergroups.get(str(p["usergroup"]))
        if group is None or (group["date_delete"] and not _truthy(p.get("include_disabled"))):
            raise ApiError("no_such_subteam")
        return {"users": list(group["users"])}

    def _m_views__open(self, p: dict) -> dict:
        view = self._view_param(p, "modal")
        user_id = self._check_trigger(p.get("trigger_id") or p.get("interactivity_pointer"))
        self._clear_stack(user_id)
        stored = self._new_view(user_id, view)
        self._modal_stacks[user_id] = [stored["id"]]
        return {"view": stored}

    def _m_views__push(self, p: dict) -> dict:
        view = self._view_param(p, "modal")
        user_id = self._check_trigger(p.get("trigger_id") or p.get("interactivity_pointer"))
        stack = self._modal_stacks.get(user_id) or []
        if not stack:
            raise ApiError("not_found")
        if len(stack) >= VIEW_STACK_LIMIT:
            raise ApiError("push_limit_reached")
        stored = self._new_view(user_id, view, previous=stack[-1], root=stack[0])
        stack.append(stored["id"])
        return {"view": stored}

    def _m_views__update(self, p: dict) -> dict:
        view_id = p.get("view_id") or self._external_ids.get(p.get("external_id") or "")
        if not view_id and not p.get("external_id"):
            raise ApiError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] missing view_id or external_id"]},
            )
        current = self._views.get(view_id or "")
        if current is None:
            raise ApiError("not_found")
        view = _json_param(p, "view", "invalid_arguments")
        if not isinstance(view, dict):
            raise ApiError("invalid_arguments")
        errors = blockkit.validate_view(view)
        if not errors and view.get("type") != current["type"]:
            errors = [blockkit.pointer_error(f"must be {current['type']}", "/view/type")]
        if errors:
            raise ApiError(
                "invalid_arguments", response_metadata={"messages": blockkit.slack_messages(errors)}
            )
        if p.get("hash") and p["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        external_id = view.get("external_id")
        if external_id and self._external_ids.get(external_id, view_id) != view_id:
            raise ApiError("duplicate_external_id")
        return {"view": self._replace_view(view_id, view)}

    def _m_views__publish(self, p: dict) -> dict:
        user_id = p.get("user_id")
        user = self._users.get(user_id or "")
        if user is None:
            raise ApiError("user_not_found")
        view = _json_param(p, "view", "invalid_arguments")
        if not isinstance(view, dict):
            raise ApiError("invalid_arguments")
        errors = blockkit.validate_view(view)
        if not errors and view.get("type") != "home":
            errors = [blockkit.pointer_error("must be home", "/view/type")]
        if errors:
            raise ApiError(
                "invalid_arguments", response_metadata={"messages": blockkit.slack_messages(errors)}
            )
        current_id = self._home_views.get(user_id)
        if current_id is not None:
            if p.get("hash") and p["hash"] != self._views[current_id]["hash"]:
                raise ApiError("hash_conflict")
            stored = self._replace_view(current_id, view)
        else:
            stored = self._new_view(user_id, view)
            self._home_views[user_id] = stored["id"]
        return {"view": stored}

    def _m_files__getUploadURLExternal(self, p: dict) -> dict:
        filename = p.get("filename")
        if not filename:
            raise ApiError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] missing required field: filename"]},
            )
        if p.get("length") in (None, ""):
            raise ApiError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] missing required field: length"]},
            )
        length = _int(p.get("length"), 0)
        if length < 0:
            raise ApiError("invalid_arguments")
        file_id = self._new_id("F")
        token = f"{self._random.getrandbits(128):032x}"
        self._files[file_id] = _File(
            id=file_id,
            name=str(filename),
            length=length,
            created=int(self.clock()),
            alt_txt=p.get("alt_txt"),
            snippet_type=p.get("snippet_type"),
        )
        self._upload_tokens[token] = file_id
        return {"upload_url": f"{self.base_url}/upload/v1/{token}", "file_id": file_id}

    def _m_files__completeUploadExternal(self, p: dict) -> dict:
        items = _json_param(p, "files", "invalid_arguments")
        if not isinstance(items, list) or not items:
            raise ApiError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: files"]}
            )
        files: list[_File] = []
        for item in items:
            f = self._files.get(item.get("id") if isinstance(item, dict) else "")
            if f is None or f.data is None:
                raise ApiError("file_not_found")
            files.append(f)
        targets = [c for c in str(p.get("channels") or "").split(",") if c]
        if p.get("channel_id"):
            targets.insert(0, p["channel_id"])
        channels = [self._channel_for_post(c) for c in dict.fromkeys(targets)]
        for channel in channels:
            self._check_user_error(channel)
        thread = p.get("thread_ts")
        for item, f in zip(items, files, strict=True):
            f.title = item.get("title") or f.title or f.name
            f.completed = True
        comment = p.get("initial_comment")
        blocks = None if comment else _json_param(p, "blocks", "invalid_blocks_format")
        for channel in channels:
            parent = self._thread_parent(channel, thread) if thread else None
            msg = self._store(
                channel,
                user=self.bot_user_id,
                bot_id=self.bot_id,
                text=str(comment or ""),
                blocks=self._assign_ids(blocks) if isinstance(blocks, list) else None,
                parent=parent,
                files=[f.id for f in files],
            )
            for f in files:
                f.shares.setdefault(channel.id, []).append(msg.key)
        return {"files": [self._render_file(f) for f in files]}

    def _m_files__info(self, p: dict) -> dict:
        f = self._files.get(p.get("file") or "")
        if f is None or not f.completed:
            raise ApiError("file_not_found")
        return {"file": self._render_file(f), "comments": [], "response_metadata": {"next_cursor": ""}}


_JSON = {"Content-Type": "application/json; charset=utf-8"}
_TRUNCATION_WARNING = {
    "warning": "message_truncated",
    "response_metadata": {
        "warnings": ["message_truncated"],
        "messages": [
            "[WARN] Your message was truncated but still posted. The `text` field accepts up to 40,000 characters."
        ],
    },
}


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _json_param(p: dict, key: str, error: str) -> Any:
    """Slack takes structured arguments as JSON strings in forms and as values in JSON bodies."""
    value = p.get(key)
    if isinstance(value, str):
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(error) from None
    return value


def _metadata_param(p: dict) -> dict | None:
    metadata = _json_param(p, "metadata", "invalid_metadata_format")
    if metadata is None:
        return None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not metadata["event_type"]
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise ApiError("invalid_metadata_format")
    return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}


def _paginate(items: list[str], p: dict, prefix: str, *, default_limit: int) -> tuple[list[str], str]:
    """Slack's cursor pagination over an ordered list; a limit of 0 means everything."""
    limit = _int(p.get("limit"), default_limit)
    start = 0
    if p.get("cursor"):
        marker = _decode_cursor(p["cursor"], prefix)
        try:
            start = items.index(marker)
        except ValueError:
            raise ApiError("invalid_cursor") from None
    if limit <= 0:
        return items[start:], ""
    end = start + limit
    next_cursor = _encode_cursor(prefix, items[end]) if end < len(items) else ""
    return items[start:end], next_cursor


def _multipart_parts(content_type: str, body: bytes) -> list[tuple[str, str | None, bytes]]:
    """(field name, filename, raw bytes) for each part of a multipart/form-data body."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    parts = []
    if message.is_multipart():
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition") or ""
            filename = part.get_param("filename", header="content-disposition")
            parts.append(
                (
                    str(name),
                    filename if filename is None else str(filename),
                    part.get_payload(decode=True) or b"",
                )
            )
    return parts


class _Headers(dict):
    """Request headers with case-insensitive ``get``, as handlers expect of ``self.headers``."""

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return dict.get(self, key.lower(), default)

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and dict.__contains__(self, key.lower())


class _PooledHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that reuses its threads.

    slack_sdk opens a new connection for every call, so starting a thread per connection
    (about 0.1 ms) is a large share of each request. Idle workers wait for the next connection;
    when none is idle a new one starts, so a slow keep-alive client never starves the others.
    """

    daemon_threads = True
    block_on_close = False
    request_queue_size = 256
    max_idle_workers = 64

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._pool_lock = threading.Lock()
        self._idle = 0
        self._workers = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._pool_lock:
            if self._idle:
                self._idle -= 1
            else:
                self._workers += 1
                threading.Thread(target=self._work, name="slack-emulator-worker", daemon=True).start()
        self._jobs.put((request, client_address))

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            request, client_address = job
            try:
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)
            with self._pool_lock:
                if self._idle >= self.max_idle_workers:
                    self._workers -= 1
                    return
                self._idle += 1

    def server_close(self) -> None:
        super().server_close()
        with self._pool_lock:
            for _ in range(self._workers):
                self._jobs.put(None)
            self._workers = self._idle = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for clients that want it
    timeout = 300  # an idle keep-alive connection gives its worker back after five minutes
    server_version = "SlackEmulator/1.0"
    sys_version = ""
    emulator: SlackEmulator

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in one write; without NODELAY, Nagle and delayed ACKs add 40 ms
        # to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def parse_request(self) -> bool:
        """http.server's parser without the email package, which costs more than the request itself."""
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = requestline
        words = requestline.split()
        if len(words) != 3 or not words[2].startswith("HTTP/1."):
            self.request_version = "HTTP/0.9" if len(words) < 3 else words[-1]
            self.close_connection = True
            self.send_error(400, "Bad request syntax")
            return False
        self.command, self.path, self.request_version = words
        headers = _Headers()
        while True:
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("iso-8859-1").partition(":")
            headers[name.strip().lower()] = value.strip()
            if len(headers) > 100:
                self.send_error(431, "Too many headers")
                return False
        self.headers = headers  # type: ignore[assignment]
        connection = headers.get("connection", "").lower()
        if self.request_version == "HTTP/1.0":
            self.close_connection = connection != "keep-alive"
        else:
            self.close_connection = connection == "close"
        if headers.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            status, headers, payload = self.emulator.handle_http(self.command, self.path, self.headers, body)
        except Exception:  # a bug in the emulator must look like a Slack outage, not hang the client
            log.exception("emulator failed on %s %s", self.command, self.path)
            status, headers, payload = 500, dict(_JSON), _dumps({"ok": False, "error": "fatal_error"})
        reason = self.responses.get(status, ("",))[0]
        head = [
            f"HTTP/1.1 {status} {reason}",
            f"Date: {self.date_time_string()}",
            f"Server: {self.server_version}",
        ]
        head += [f"{key}: {value}" for key, value in headers.items()]
        head.append(f"Content-Length: {len(payload)}")
        if self.close_connection:
            head.append("Connection: close")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)

    do_GET = _serve
    do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature fixed by http.server
        return None


def main(argv: list[str] | None = None) -> None:
    """``python -m sandbox.emulator --port 8999``: serve a workspace until interrupted."""
    parser = argparse.ArgumentParser(description="Run the local Slack emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8999)
    parser.add_argument("--bot-token", default="xoxb-sandbox")
    parser.add_argument("--demo-users", type=int, default=3, help="how many people to add to the workspace")
    parser.add_argument("--rate-limit", type=int, metavar="PER_MINUTE",
                        help="answer chat.postMessage above this workspace rate with 429 and Retry-After")
    parser.add_argument("--rate-burst", type=int, default=10, help="messages allowed at once under --rate-limit")
    parser.add_argument("--fail-share", type=float, default=0.0,
                        help="share of chat.postMessage calls answered with HTTP 500")
    parser.add_argument("--fail-after-share", type=float, default=0.0,
                        help="share of those 500s that come after the message was posted (only the answer is lost)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for --fail-share")
    parser.add_argument("--rate-tiers", default=",".join(DEFAULT_TIERED_METHODS),
                        help="methods held to Slack's published tier, comma-separated, 'all' or 'none' "
                             "(default: %(default)s)")
    args = parser.parse_args(argv)
    tiers = None if args.rate_tiers == "none" else "all" if args.rate_tiers == "all" else args.rate_tiers.split(",")
    emulator = SlackEmulator(bot_token=args.bot_token, host=args.host, port=args.port, rate_tiers=None)
    if tiers:
        emulator.set_rate_tiers(tiers)
    if args.rate_limit:
        emulator.set_rate_limit("chat.postMessage", args.rate_limit, burst=args.rate_burst)
    if args.fail_share:
        emulator.set_failure_rate(args.fail_share, status=500, methods=["chat.postMessage"], seed=args.seed,
                                  after_processing=args.fail_after_share)
    for i in range(1, args.demo_users + 1):
        emulator.add_user(
            f"U0DEMO{i:04d}", name=f"learner{i}", real_name=f"Learner {i}", email=f"learner{i}@example.com"
        )
    if args.demo_users:
        emulator.add_channel(
            "general", members=[u["id"] for u in emulator.users() if u["id"].startswith("U0DEMO")]
        )
    emulator.start()
    print(f"Slack emulator: {emulator.api_url}  (bot token {args.bot_token})", flush=True)
    try:
        forever = threading.Event()
        while not forever.wait(0.25):  # timed: Ctrl-C may land on another thread (see app.py)
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
