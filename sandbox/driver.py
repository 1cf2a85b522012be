"""Plays Slack's part towards the bot: signed slash commands, interactions and events over HTTP.

Every request is built in the shape Slack sends (field for field), signed the way Slack signs
(``v0=`` HMAC-SHA256 of ``v0:<timestamp>:<body>``), and posted to the bot's request URL with a
real HTTP client. What Slack would do with the bot's answer is applied to the emulator: a slash
command's immediate reply becomes an ephemeral message, a view submission's ``response_action``
updates the modal stack. Trigger ids and response URLs are issued by the emulator, so
``views.open`` and ``respond()`` work as they do against Slack.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import http.client
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from sandbox.emulator import SlackEmulator

SIGNATURES = ("valid", "bad", "stale", "missing")
STALE_SECONDS = 10 * 60  # well past the five minutes Bolt and slack_sdk accept

_TEXT_INPUTS = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
_ONE_OPTION = {"static_select", "external_select", "radio_buttons", "overflow"}
_MANY_OPTIONS = {"multi_static_select", "multi_external_select", "checkboxes"}
_PICKED_ID = {
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
}
_PICKED_IDS = {
    "multi_users_select": "selected_users",
    "multi_conversations_select": "selected_conversations",
    "multi_channels_select": "selected_channels",
}
_PICKED_VALUE = {
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
}


@dataclass(frozen=True)
class DriverResponse:
    """The bot's HTTP answer, and the payload that was sent to get it."""

    status: int
    headers: dict[str, str]
    body: bytes
    payload: Any = field(default=None, compare=False)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None

    @property
    def view_errors(self) -> dict[str, str] | None:
        """``errors`` of a ``response_action: errors`` answer to a view submission."""
        try:
            data = self.json()
        except ValueError:
            return None
        if isinstance(data, dict) and data.get("response_action") == "errors":
            return data.get("errors") or {}
        return None


class SlackDriver:
    """Sends what Slack would send when people use the app."""

    def __init__(
        self,
        *,
        emulator: SlackEmulator,
        request_url: str | None = None,
        signing_secret: str = "",
        verification_token: str = "sandbox-verification-token",
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
        socket_mode: bool = False,
    ) -> None:
        """``socket_mode``: send everything down the emulator's Socket Mode connection, as envelopes,
        instead of signed HTTP requests to ``request_url``; the app's acknowledgement is the answer."""
        self.emulator = emulator
        self.socket_mode = socket_mode
        self.request_url = None if socket_mode else request_url
        self.signing_secret = signing_secret
        self.verification_token = verification_token
        # The bot compares the signature timestamp with its own wall clock, so this stays real
        # time even when the emulator runs on simulated time.
        self.clock = clock
        self.timeout = timeout
        self._local = threading.local()
        self._message_state: dict[tuple[str, str], dict[str, dict]] = {}
        if socket_mode:
            return
        parts = urlsplit(request_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"request_url must be an http(s) URL, not {request_url!r}")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    # ------------------------------------------------------------------ slash commands
    def command(
        self, user_id: str, command: str, text: str = "", *, channel_id: str | None = None
    ) -> DriverResponse:
        """A slash command typed by ``user_id`` (in their DM with the app unless ``channel_id``)."""
        emu = self.emulator
        user = self._user(user_id)
        channel_id = channel_id or emu.ensure_dm(user_id)
        response_url = emu.issue_response_url(user_id, channel_id)
        fields = [
            ("token", self.verification_token),
            ("team_id", emu.team_id),
            ("team_domain", emu.team_domain),
            ("channel_id", channel_id),
            ("channel_name", self._channel_name(channel_id)),
            ("user_id", user_id),
            ("user_name", user["name"]),
            ("command", command),
            ("text", text),
            ("api_app_id", emu.app_id),
            ("is_enterprise_install", "false"),
            ("response_url", response_url),
            ("trigger_id", emu.issue_trigger_id(user_id)),
        ]
        response = self._send(
            urlencode(fields).encode(), "application/x-www-form-urlencoded", payload=dict(fields)
        )
        if response.status == 200 and response.body.strip():
            # Slack shows a command's immediate answer as if it had been posted to its response_url.
            reply = _immediate_reply(response)
            if reply is not None:
                emu.respond(response_url, reply)
        return response

    # ------------------------------------------------------------------ interactions
    def click(
        self,
        user_id: str,
        surface: dict,
        action_id: str | None = None,
        value: str | None = None,
        text: str | None = None,
    ) -> DriverResponse:
        """Press a button in a message, an ephemeral message, the Home tab or an open modal.

        The button is found by ``action_id``, ``value`` or its label ``text`` (any combination).
        Naming a menu, overflow or radio element with ``value`` picks that option instead.
        """
        if action_id is None and value is None and text is None:
            raise ValueError("say which button: action_id, value or text")
        kind, fresh = self._surface(surface)
        for block, element in _elements(fresh.get("blocks") or []):
            if action_id is not None and element.get("action_id") != action_id:
                continue
            if element.get("type") != "button":
                if action_id is not None and value is not None:
                    return self.select(user_id, surface, action_id, value)  # type: ignore[return-value]
                continue
            if value is not None and element.get("value") != value:
                continue
            if text is not None and (element.get("text") or {}).get("text") != text:
                continue
            action = {
                "action_id": element["action_id"],
                "block_id": block["block_id"],
                "text": element["text"],
                "type": "button",
                "action_ts": self._action_ts(),
            }
            for key in ("value", "style"):
                if key in element:
                    action[key] = element[key]
            return self._block_actions(user_id, kind, fresh, action)
        raise LookupError(f"no button matching action_id={action_id!r} value={value!r} text={text!r}")

    def select(self, user_id: str, surface: dict, action_id: str, option_value: Any) -> DriverResponse | None:
        """Pick in a menu, overflow, radio group, checkbox group, user or date picker.

        Inside a modal's input block the choice is only remembered (Slack sends nothing until the
        view is submitted unless the block has ``dispatch_action``); then ``None`` is returned.
        """
        kind, fresh = self._surface(surface)
        for block, element in _elements(fresh.get("blocks") or []):
            if element.get("action_id") != action_id or element.get("type") == "button":
                continue
            state = _state_value(element, option_value)
            self._remember(kind, fresh, block["block_id"], action_id, state)
            if block.get("type") == "input" and not block.get("dispatch_action"):
                return None
            action = {"type": element["type"], "action_id": action_id, "block_id": block["block_id"], **state}
            if "placeholder" in element:
                action["placeholder"] = element["placeholder"]
            action["action_ts"] = self._action_ts()
            kind, fresh = self._surface(surface)
            return self._block_actions(user_id, kind, fresh, action)
        raise LookupError(f"no selectable element with action_id={action_id!r}")

    def submit_view(
        self, user_id: str, view: str | dict, values: dict[str, Any] | None = None
    ) -> DriverResponse:
        """Submit the open modal ``view`` with ``values``, then apply the bot's ``response_action``.

        ``values`` maps action_ids to what the person entered, or block_ids to such maps:
        ``{"answer": "b"}`` or ``{"comment": {"text": "Great lesson"}}``. Text inputs take strings,
        menus and radio groups an option value, checkboxes and multi-selects a list of them,
        user/conversation pickers ids, date and time pickers ``"2026-12-01"`` / ``"09:30"``.
        """
        emu = self.emulator
        view_id = view if isinstance(view, str) else view["id"]
        current = emu.view(view_id)
        stack = [v["id"] for v in emu.open_views(user_id)]
        if current is None or not stack or stack[-1] != view_id:
            raise LookupError(f"view {view_id} is not the open modal of {user_id}")
        blocks = current.get("blocks") or []
        by_block = {b["block_id"]: b for b in blocks}
        for key, entered in (values or {}).items():
            block = by_block.get(key)
            if block is not None and isinstance(entered, dict) and "type" not in entered:
                for aid, value in entered.items():
                    element = _element_in(block, aid)
                    emu.set_view_state(view_id, key, aid, _state_value(element, value))
                continue
            found = next(((b, e) for b, e in _elements(blocks) if e.get("action_id") == key), None)
            if found is None:
                raise LookupError(f"no block_id or action_id {key!r} in view {view_id}")
            emu.set_view_state(view_id, found[0]["block_id"], key, _state_value(found[1], entered))
        current = emu.view(view_id)
        assert current is not None
        state = current["state"]["values"]
        missing = []
        for block in blocks:
            if block.get("type") != "input" or not isinstance(block.get("element"), dict):
                continue
            element = block["element"]
            entry = state.get(block["block_id"], {}).get(element["action_id"])
            if entry is None:
                entry = _initial_state(element)
                emu.set_view_state(view_id, block["block_id"], element["action_id"], entry)
            if not block.get("optional") and _is_empty(entry):
                missing.append(block["block_id"])
        if missing:
            # The Slack client refuses to submit a modal with an empty required input.
            raise ValueError(f"required inputs are empty: {', '.join(missing)}")
        submitted = emu.view(view_id)
        payload = {
            "type": "view_submission",
            "team": {"id": emu.team_id, "domain": emu.team_domain},
            "user": self._user_ref(user_id),
            "api_app_id": emu.app_id,
            "token": self.verification_token,
            "trigger_id": emu.issue_trigger_id(user_id),
            "view": submitted,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        response = self._send_payload(payload)
        if response.status == 200:
            try:
                answer = response.json()
            except ValueError:
                answer = None
            emu.apply_view_response(user_id, view_id, answer if isinstance(answer, dict) else None)
        return response

    def close_view(self, user_id: str, view: str | dict) -> DriverResponse | None:
        """Press Cancel; Slack tells the bot only when the view asked with ``notify_on_close``."""
        emu = self.emulator
        view_id = view if isinstance(view, str) else view["id"]
        current = emu.view(view_id)
        if current is None:
            raise LookupError(f"no view {view_id}")
        response = None
        if current.get("notify_on_close"):
            payload = {
                "type": "view_closed",
                "team": {"id": emu.team_id, "domain": emu.team_domain},
                "user": self._user_ref(user_id),
                "api_app_id": emu.app_id,
                "token": self.verification_token,
                "view": current,
                "is_cleared": bool(current.get("clear_on_close")),
                "is_enterprise_install": False,
                "enterprise": None,
            }
            response = self._send_payload(payload)
        emu.close_view(user_id, view_id)
        return response

    # ------------------------------------------------------------------ events
    def event(
        self,
        event: dict,
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> DriverResponse:
        """An Events API ``event_callback``; a retry repeats ``event_id`` with the retry headers."""
        emu = self.emulator
        event = dict(event)
        event.setdefault("event_ts", self._event_ts())
        context = json.dumps(
            {"tid": emu.team_id, "aid": emu.app_id, "event_id": event_id}, separators=(",", ":")
        )
        envelope = {
            "token": self.verification_token,
            "team_id": emu.team_id,
            "context_team_id": emu.team_id,
            "context_enterprise_id": None,
            "api_app_id": emu.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(float(event["event_ts"])),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": emu.team_id,
                    "user_id": emu.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + base64.urlsafe_b64encode(context.encode()).decode().rstrip("="),
        }
        headers = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        body = json.dumps(envelope).encode()
        return self._send(body, "application/json", extra=headers, payload=envelope)

    def app_home_opened(self, user_id: str) -> DriverResponse:
        emu = self.emulator
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": emu.ensure_dm(user_id),
            "tab": "home",
        }
        home = emu.home_view(user_id)
        if home is not None:
            event["view"] = home
        return self.event(event)

    def member_joined_channel(
        self, user_id: str, channel_id: str, *, inviter: str | None = None
    ) -> DriverResponse:
        emu = self.emulator
        emu.join_channel(channel_id, user_id)
        info = emu.channel_info(channel_id) or {}
        event = {
            "type": "member_joined_channel",
            "user": user_id,
            "channel": channel_id,
            "channel_type": "G" if info.get("is_private") else "C",
            "team": emu.team_id,
        }
        if inviter:
            event["inviter"] = inviter
        return self.event(event)

    def subteam_members_changed(
        self, group_id: str, *, add: list[str] | tuple[str, ...] = (), remove: list[str] | tuple[str, ...] = (),
        event_id: str | None = None,
    ) -> DriverResponse:
        """Slack's ``subteam_members_changed``: the user group's members change in the emulator first, then
        the event carries the delta (not a snapshot), with counts as strings, as Slack sends them."""
        emu = self.emulator
        change = emu.change_usergroup(group_id, add=add, remove=remove)
        return self.event({
            "type": "subteam_members_changed",
            "subteam_id": group_id,
            "team_id": emu.team_id,
            "date_previous_update": change["date_previous_update"],
            "date_update": change["date_update"],
            "added_users": change["added_users"],
            "added_users_count": str(len(change["added_users"])),
            "removed_users": change["removed_users"],
            "removed_users_count": str(len(change["removed_users"])),
        }, event_id=event_id)

    def team_join(self, user_id: str) -> DriverResponse:
        """Slack's ``team_join``: a new member (added to the emulator first), their whole user object."""
        return self.event({"type": "team_join", "user": self._user(user_id)})

    def user_change(self, user_id: str) -> DriverResponse:
        """Slack's ``user_change``: a member's profile changed, or the account was deactivated
        (``emulator.deactivate_user`` first; the user object then says ``deleted: true``)."""
        return self.event({"type": "user_change", "user": self._user(user_id), "cache_ts": int(time.time())})

    def user_message(
        self, user_id: str, channel_id: str | None, text: str, thread_ts: str | None = None
    ) -> DriverResponse:
        """``user_id`` types ``text``: stored in the emulator, then sent as a ``message`` event."""
        emu = self.emulator
        channel_id = channel_id or emu.ensure_dm(user_id)
        stored = emu.record_user_message(user_id, channel_id, text, thread_ts=thread_ts)
        info = emu.channel_info(channel_id) or {}
        channel_type = ("im" if info.get("is_im") else "mpim" if info.get("is_mpim")
                        else "group" if info.get("is_private") else "channel")
        event = {
            "client_msg_id": stored["client_msg_id"],
            "type": "message",
            "text": stored["text"],
            "user": user_id,
            "ts": stored["ts"],
            "blocks": stored["blocks"],
            "team": emu.team_id,
            "channel": channel_id,
            "event_ts": stored["ts"],
            "channel_type": channel_type,
        }
        if "thread_ts" in stored:
            event["thread_ts"] = stored["thread_ts"]
            event["parent_user_id"] = stored.get("parent_user_id")
        return self.event(event)

    def edit_message(self, user_id: str, channel_id: str, ts: str, text: str) -> DriverResponse:
        """``user_id`` edits a message they typed: Slack sends a ``message_changed`` event (no ``user`` at the
        top; the message before and after inside)."""
        emu = self.emulator
        before, after = emu.edit_user_message(channel_id, ts, text)
        return self.event(self._message_event(channel_id, subtype="message_changed", hidden=True,
                                              message={**after, "channel": channel_id},
                                              previous_message=before))

    def delete_message(self, user_id: str, channel_id: str, ts: str) -> DriverResponse:
        """``user_id`` deletes a message they typed: a ``message_deleted`` event."""
        before = self.emulator.delete_user_message(channel_id, ts)
        return self.event(self._message_event(channel_id, subtype="message_deleted", hidden=True,
                                              deleted_ts=ts, previous_message=before))

    def echo_message(self, channel_id: str, ts: str) -> DriverResponse:
        """The ``message`` event Slack sends for a message already in the channel, as it is stored — for the
        bot's own posts, which Slack echoes to a subscribed app (with ``bot_id``, ``bot_profile`` and,
        for a bot user, ``user``)."""
        message = self.emulator.api_message(channel_id, ts)
        if message is None:
            raise LookupError(f"message {ts} in {channel_id} is gone")
        if message.get("bot_id") and "user" not in message:
            message["user"] = self.emulator.bot_user_id
        return self.event({**message, "channel": channel_id, "event_ts": message["ts"],
                           "channel_type": self._channel_type(channel_id)})

    def _channel_type(self, channel_id: str) -> str:
        info = self.emulator.channel_info(channel_id) or {}
        return ("im" if info.get("is_im") else "mpim" if info.get("is_mpim")
                else "group" if info.get("is_private") else "channel")

    def _message_event(self, channel_id: str, *, subtype: str, **fields: Any) -> dict:
        ts = self._event_ts()
        return {"type": "message", "subtype": subtype, "channel": channel_id, "ts": ts, "event_ts": ts,
                "channel_type": self._channel_type(channel_id), **fields}

    def url_verification(self, challenge: str | None = None) -> DriverResponse:
        """The handshake Slack performs when the request URL is saved in the app settings."""
        payload = {
            "token": self.verification_token,
            "challenge": challenge or uuid.uuid4().hex,
            "type": "url_verification",
        }
        return self._send(json.dumps(payload).encode(), "application/json", payload=payload)

    def resend(self, response: DriverResponse) -> DriverResponse:
        """Send the same interaction payload again: a double click, or a request Slack repeats."""
        if not isinstance(response.payload, dict) or "type" not in response.payload:
            raise ValueError("only interaction payloads (block_actions, view_submission, …) can be resent")
        return self._send_payload(response.payload)

    def post_raw(
        self, body: bytes, headers: dict[str, str] | None = None, *, signature: str = "valid"
    ) -> DriverResponse:
        """Any body, signed as asked: ``valid``, ``bad`` (wrong secret), ``stale`` (old timestamp), ``missing``."""
        headers = dict(headers or {})
        content_type = (
            headers.pop("Content-Type", None) or headers.pop("content-type", None) or "application/json"
        )
        return self._send(body, content_type, extra=headers, signature=signature)

    # ------------------------------------------------------------------ signing and transport
    def sign(self, body: bytes, timestamp: str, *, secret: str | None = None) -> str:
        """Slack's request signature: ``v0=`` + hex HMAC-SHA256 of ``v0:<timestamp>:<body>``."""
        key = (secret if secret is not None else self.signing_secret).encode()
        return "v0=" + hmac.new(key, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()

    def _signature_headers(self, body: bytes, mode: str) -> dict[str, str]:
        if mode not in SIGNATURES:
            raise ValueError(f"signature must be one of {SIGNATURES}")
        if mode == "missing":
            return {}
        now = int(self.clock())
        if mode == "stale":
            now -= STALE_SECONDS
        timestamp = str(now)
        secret = self.signing_secret + "-forged" if mode == "bad" else None
        return {
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": self.sign(body, timestamp, secret=secret),
        }

    def _send_over_socket(self, payload: Any, headers: dict[str, str]) -> DriverResponse:
        """The envelope Slack would send for ``payload``, down the socket; the acknowledgement's payload is
        the answer (status 504 when none came within Slack's 3 seconds, after Slack's own retries)."""
        from sandbox.socket_mode import NotAcknowledged

        if not isinstance(payload, dict):
            raise ValueError("Socket Mode carries events, commands and interactions, not raw bodies")
        if payload.get("type") == "url_verification":
            raise ValueError("Socket Mode apps have no request URL to verify")
        retry = int(headers.get("X-Slack-Retry-Num") or 0)
        if "command" in payload:
            kind, accepts = "slash_commands", True
        elif payload.get("type") == "event_callback":
            kind, accepts = "events_api", False
        else:
            kind, accepts = "interactive", payload.get("type") in ("view_submission", "block_suggestion")
        socket = self.emulator.wait_for(lambda: self.emulator.socket, timeout=30)
        try:
            answer = socket.deliver(kind, payload, accepts_response_payload=accepts, first_attempt=retry)
        except NotAcknowledged:
            return DriverResponse(status=504, headers={}, body=b"", payload=payload)
        body = json.dumps(answer).encode() if answer else b""
        return DriverResponse(status=200, headers={"Content-Type": "application/json"}, body=body, payload=payload)

    def _send_payload(self, payload: dict) -> DriverResponse:
        body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()
        return self._send(body, "application/x-www-form-urlencoded", payload=payload)

    def _send(
        self,
        body: bytes,
        content_type: str,
        *,
        extra: dict[str, str] | None = None,
        signature: str = "valid",
        payload: Any = None,
    ) -> DriverResponse:
        if self.socket_mode:
            return self._send_over_socket(payload, extra or {})
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "Accept": "application/json,*/*",
            "Accept-Encoding": "identity",
            "Content-Length": str(len(body)),
            **self._signature_headers(body, signature),
            **(extra or {}),
        }
        for attempt in (1, 2):
            conn, reused = self._connection()
            try:
                conn.request("POST", self._path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                self._local.conn = None
                if reused and attempt == 1:
                    continue  # the server closed an idle keep-alive connection; nothing was processed
                raise
            if response.getheader("Connection", "").lower() == "close" or response.will_close:
                conn.close()
                self._local.conn = None
            return DriverResponse(
                status=response.status,
                headers={k: v for k, v in response.getheaders()},
                body=data,
                payload=payload,
            )
        raise AssertionError("unreachable")

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn, True
        factory = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        conn = factory(self._host, self._port, timeout=self.timeout)
        self._local.conn = conn
        return conn, False

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ------------------------------------------------------------------ helpers
    def _user(self, user_id: str) -> dict:
        user = self.emulator.user_info(user_id)
        if user is None:
            raise LookupError(f"no user {user_id} in the emulator")
        return user

    def _user_ref(self, user_id: str) -> dict:
        user = self._user(user_id)
        return {
            "id": user_id,
            "username": user["name"],
            "name": user["name"],
            "team_id": self.emulator.team_id,
        }

    def _channel_name(self, channel_id: str) -> str:
        info = self.emulator.channel_info(channel_id)
        if info is None:
            raise LookupError(f"no channel {channel_id} in the emulator")
        return "directmessage" if info.get("is_im") else info["name"]

    def _action_ts(self) -> str:
        return f"{self.emulator.clock():.6f}"

    def _event_ts(self) -> str:
        return f"{self.emulator.clock():.6f}"

    def _surface(self, surface: dict) -> tuple[str, dict]:
        """("view" | "message" | "ephemeral", the surface as it is now in the emulator)."""
        emu = self.emulator
        if surface.get("type") in ("modal", "home") and "id" in surface:
            view = emu.view(surface["id"])
            if view is None:
                raise LookupError(f"view {surface['id']} is no longer open")
            return "view", view
        if surface.get("is_ephemeral"):
            live = [e for e in emu.ephemerals(surface["user"]) if e["ts"] == surface["ts"]]
            if not live:
                raise LookupError(f"ephemeral message {surface['ts']} is gone")
            return "ephemeral", live[0]
        channel, ts = surface.get("channel"), surface.get("ts")
        if not channel or not ts:
            raise ValueError("pass a message (with channel and ts), an ephemeral message or a view")
        message = emu.api_message(channel, ts)
        if message is None:
            raise LookupError(f"message {ts} in {channel} is gone")
        message["channel"] = channel
        return "message", message

    def _remember(self, kind: str, surface: dict, block_id: str, action_id: str, state: dict) -> None:
        if kind == "view":
            self.emulator.set_view_state(surface["id"], block_id, action_id, state)
        else:
            values = self._message_state.setdefault((surface["channel"], surface["ts"]), {})
            values.setdefault(block_id, {})[action_id] = state

    def _block_actions(self, user_id: str, kind: str, surface: dict, action: dict) -> DriverResponse:
        emu = self.emulator
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user_ref(user_id),
            "api_app_id": emu.app_id,
            "token": self.verification_token,
        }
        if kind == "view":
            payload["container"] = {"type": "view", "view_id": surface["id"]}
        else:
            payload["container"] = {
                "type": "message",
                "message_ts": surface["ts"],
                "channel_id": surface["channel"],
                "is_ephemeral": kind == "ephemeral",
            }
        payload["trigger_id"] = emu.issue_trigger_id(user_id)
        payload["team"] = {"id": emu.team_id, "domain": emu.team_domain}
        payload["enterprise"] = None
        payload["is_enterprise_install"] = False
        if kind == "view":
            payload["view"] = surface
            payload["state"] = copy.deepcopy(surface["state"])
        else:
            channel_id = surface["channel"]
            payload["channel"] = {"id": channel_id, "name": self._channel_name(channel_id)}
            if kind == "message":
                message = {k: v for k, v in surface.items() if k != "channel"}
                payload["message"] = message
            values = self._message_state.get((channel_id, surface["ts"]), {})
            payload["state"] = {"values": copy.deepcopy(values)}
            payload["response_url"] = emu.issue_response_url(
                user_id, channel_id, message_ts=surface["ts"], ephemeral=kind == "ephemeral"
            )
        payload["actions"] = [action]
        return self._send_payload(payload)


def _immediate_reply(response: DriverResponse) -> dict | None:
    content_type = response.headers.get("Content-Type") or response.headers.get("content-type") or ""
    if "json" in content_type:
        try:
            data = response.json()
        except ValueError:
            return None
        if isinstance(data, dict) and any(data.get(k) for k in ("text", "blocks", "attachments")):
            return data
        return None
    return {"text": response.text}


def _elements(blocks: list[dict]) -> Iterator[tuple[dict, dict]]:
    """(block, element) for every interactive element, in reading order."""
    for block in blocks:
        kind = block.get("type")
        if kind == "actions":
            for element in block.get("elements") or []:
                yield block, element
        elif kind == "section" and isinstance(block.get("accessory"), dict):
            yield block, block["accessory"]
        elif kind == "input" and isinstance(block.get("element"), dict):
            yield block, block["element"]


def _element_in(block: dict, action_id: str) -> dict:
    for _block, element in _elements([block]):
        if element.get("action_id") == action_id:
            return element
    raise LookupError(f"no action_id {action_id!r} in block {block.get('block_id')!r}")


def _options(element: dict) -> list[dict]:
    if "option_groups" in element:
        return [o for group in element["option_groups"] for o in group.get("options") or []]
    return list(element.get("options") or [])


def _option(element: dict, value: Any) -> dict:
    if isinstance(value, dict):
        return value
    for option in _options(element):
        if option.get("value") == value:
            return copy.deepcopy(option)
    raise LookupError(f"{element.get('action_id')!r} has no option with value {value!r}")


def _state_value(element: dict, value: Any) -> dict:
    """What Slack reports in ``state.values`` (and in the action) for ``value`` in ``element``."""
    kind = element.get("type")
    if isinstance(value, dict) and "type" in value:
        return dict(value)  # already in Slack's state shape
    if kind in _TEXT_INPUTS:
        return {"type": kind, "value": None if value is None else str(value)}
    if kind in _ONE_OPTION:
        return {"type": kind, "selected_option": None if value is None else _option(element, value)}
    if kind in _MANY_OPTIONS:
        values = value if isinstance(value, list | tuple) else [value]
        return {"type": kind, "selected_options": [_option(element, v) for v in values]}
    if kind in _PICKED_ID:
        return {"type": kind, _PICKED_ID[kind]: value}
    if kind in _PICKED_IDS:
        return {"type": kind, _PICKED_IDS[kind]: list(value) if isinstance(value, list | tuple) else [value]}
    if kind in _PICKED_VALUE:
        return {"type": kind, _PICKED_VALUE[kind]: value}
    if kind == "rich_text_input":
        return {"type": kind, "rich_text_value": value}
    return {"type": kind, "value": value}


def _initial_state(element: dict) -> dict:
    """An untouched input reports its initial value, or an empty one."""
    kind = element.get("type")
    if kind in _TEXT_INPUTS:
        return {"type": kind, "value": element.get("initial_value")}
    if kind in _ONE_OPTION:
        return {"type": kind, "selected_option": copy.deepcopy(element.get("initial_option"))}
    if kind in _MANY_OPTIONS:
        return {"type": kind, "selected_options": copy.deepcopy(element.get("initial_options") or [])}
    if kind in _PICKED_ID:
        initial = {"users_select": "initial_user", "conversations_select": "initial_conversation"}
        return {"type": kind, _PICKED_ID[kind]: element.get(initial.get(kind, "initial_channel"))}
    if kind in _PICKED_IDS:
        initial = {
            "multi_users_select": "initial_users",
            "multi_conversations_select": "initial_conversations",
        }
        return {
            "type": kind,
            _PICKED_IDS[kind]: list(element.get(initial.get(kind, "initial_channels")) or []),
        }
    if kind in _PICKED_VALUE:
        initial = {
            "datepicker": "initial_date",
            "timepicker": "initial_time",
            "datetimepicker": "initial_date_time",
        }
        return {"type": kind, _PICKED_VALUE[kind]: element.get(initial[kind])}
    if kind == "rich_text_input":
        return {"type": kind, "rich_text_value": element.get("initial_value")}
    return {"type": kind, "value": None}


def _is_empty(entry: dict) -> bool:
    picked = [v for k, v in entry.items() if k != "type"]
    return all(v in (None, "", []) for v in picked)
