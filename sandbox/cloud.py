"""Slack's side of several workspaces at once, for a Sprout installed in each by OAuth.

One Web API address (``api_url``) that routes every call to the workspace its token belongs to, as
slack.com does, and the OAuth v2 flow an app is installed with:

1. the app sends a person's browser to ``authorize_url`` (``/oauth/v2/authorize?client_id&scope&state
   &redirect_uri``); Slack shows a consent page for the person's workspace;
2. on "Allow" Slack redirects the browser to ``redirect_uri?code=…&state=…`` (``approve`` gives that
   address for a chosen workspace and installer, as clicking "Allow" would);
3. the app exchanges the code at ``oauth.v2.access`` (client id and secret by HTTP Basic auth or as
   parameters) for the workspace's bot token. Codes are single use and expire after ten minutes.

Each workspace is a :class:`sandbox.emulator.SlackEmulator` serving on its own port too (its upload and
response URLs point there); the cloud only fronts the Web API and OAuth.
"""

from __future__ import annotations

import base64
import html
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from sandbox.emulator import SlackEmulator, _Handler, _PooledHTTPServer

CODE_TTL_SECONDS = 600  # Slack: an OAuth code must be exchanged within ten minutes
_JSON = {"Content-Type": "application/json; charset=utf-8"}


@dataclass
class _Grant:
    team_id: str
    user_id: str
    scopes: str
    redirect_uri: str | None
    issued_at: float


class SlackCloud:
    def __init__(
        self,
        *,
        client_id: str = "1111111111.2222222222",
        client_secret: str = "sandbox-client-secret",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.host = host
        self.port = port
        self.clock = clock
        self._workspaces: dict[str, SlackEmulator] = {}
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self._server: _PooledHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.installs: list[dict] = []  # every successful oauth.v2.access, for tests to read
        self.rotation_expires_in: int | None = None  # token rotation off, as in a new app's settings
        self._refresh_tokens: dict[str, str] = {}  # refresh token -> team (each is used once)
        self.refreshes: list[str] = []  # the team of every rotating token handed out

    # -- set-up ---------------------------------------------------------------------------

    def add_workspace(self, emulator: SlackEmulator) -> SlackEmulator:
        """A workspace the app can be installed in; started if it is not serving yet."""
        with self._lock:
            if emulator.team_id in self._workspaces:
                raise ValueError(f"workspace {emulator.team_id} is already in the cloud")
            if any(w.bot_token == emulator.bot_token for w in self._workspaces.values()):
                raise ValueError("each workspace needs its own bot token")
            self._workspaces[emulator.team_id] = emulator
        if emulator._server is None:
            emulator.start()
        return emulator

    def workspace(self, team_id: str) -> SlackEmulator:
        return self._workspaces[team_id]

    @property
    def workspaces(self) -> list[SlackEmulator]:
        return list(self._workspaces.values())

    def start(self) -> SlackCloud:
        if self._server is None:
            handler = type("_CloudHandler", (_Handler,), {"emulator": self})
            self._server = _PooledHTTPServer((self.host, self.port), handler)
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                            name="slack-cloud", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None
        for workspace in self._workspaces.values():
            workspace.stop()

    def __enter__(self) -> SlackCloud:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url}/oauth/v2/authorize"

    # -- what a person's browser does -----------------------------------------------------

    def approve(self, authorize_url: str, *, team_id: str, user_id: str) -> str:
        """Where Slack sends the browser after ``user_id`` presses "Allow" on the consent page for
        ``authorize_url`` in workspace ``team_id``: the app's redirect URI with a code and the state."""
        query = dict(parse_qsl(urlsplit(authorize_url).query))
        error = self._authorize_error(query)
        if error:
            raise ValueError(error)
        workspace = self._workspaces.get(team_id)
        if workspace is None or workspace.user_info(user_id) is None:
            raise ValueError(f"{user_id} is not a member of {team_id}")
        code = f"{team_id[1:]}.{secrets.token_hex(16)}"
        with self._lock:
            self._grants[code] = _Grant(team_id, user_id, query.get("scope", ""), query.get("redirect_uri"),
                                        self.clock())
        redirect = query.get("redirect_uri") or ""
        joiner = "&" if "?" in redirect else "?"
        return f"{redirect}{joiner}{urlencode({'code': code, 'state': query.get('state', '')})}"

    def _authorize_error(self, query: dict[str, str]) -> str | None:
        if query.get("client_id") != self.client_id:
            return "invalid_client_id"
        if not query.get("scope"):
            return "invalid_scope"
        redirect = query.get("redirect_uri")
        if redirect and urlsplit(redirect).scheme not in ("http", "https"):
            return "bad_redirect_uri"
        return None

    # -- HTTP -----------------------------------------------------------------------------

    def handle_http(self, verb: str, target: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(target)
        if parts.path == "/oauth/v2/authorize" and verb == "GET":
            return self._consent_page(dict(parse_qsl(parts.query)))
        if parts.path == "/oauth/v2/approve" and verb == "GET":
            query = dict(parse_qsl(parts.query))
            try:
                location = self.approve(query.get("authorize", ""), team_id=query.get("team", ""),
                                        user_id=query.get("user", ""))
            except ValueError as exc:
                return 400, {"Content-Type": "text/plain; charset=utf-8"}, str(exc).encode()
            return 302, {"Location": location, "Content-Type": "text/plain"}, b""
        if parts.path == "/api/oauth.v2.access":
            return self._oauth_access(parts.query, headers, body)
        if parts.path.startswith("/api/"):
            workspace = self._workspace_for(parts.query, headers, body)
            if workspace is None:
                if parts.path == "/api/api.test":
                    return next(iter(self._workspaces.values())).handle_http(verb, target, headers, body)
                return 200, _JSON, json.dumps({"ok": False, "error": "invalid_auth"}).encode()
            return workspace.handle_http(verb, target, headers, body)
        if parts.path == "/health":
            return 200, {"Content-Type": "text/plain"}, b"ok"
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def _token(self, query: str, headers: Any, body: bytes) -> str | None:
        auth = headers.get("Authorization") or ""
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        params = dict(parse_qsl(query))
        content_type = (headers.get("Content-Type") or "").lower()
        if body and "json" not in content_type and "multipart" not in content_type:
            params.update(parse_qsl(body.decode("utf-8", "replace")))
        return params.get("token")

    def _workspace_for(self, query: str, headers: Any, body: bytes) -> SlackEmulator | None:
        token = self._token(query, headers, body)
        return next((w for w in self._workspaces.values() if token and w.knows_token(token)), None)

    def _oauth_access(self, query: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        params = dict(parse_qsl(query))
        if body:
            params.update(parse_qsl(body.decode("utf-8", "replace")))
        client_id, client_secret = params.get("client_id"), params.get("client_secret")
        auth = headers.get("Authorization") or ""
        if auth[:6].lower() == "basic ":
            try:
                client_id, _, client_secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
            except ValueError:
                client_id = client_secret = None

        def answer(result: dict) -> tuple[int, dict[str, str], bytes]:
            return 200, _JSON, json.dumps(result).encode()

        if client_id != self.client_id:
            return answer({"ok": False, "error": "invalid_client_id"})
        if client_secret != self.client_secret:
            return answer({"ok": False, "error": "bad_client_secret"})
        if params.get("grant_type") == "refresh_token":
            return answer(self._refresh(params.get("refresh_token") or ""))
        with self._lock:
            grant = self._grants.pop(params.get("code") or "", None)
        if grant is None or self.clock() - grant.issued_at > CODE_TTL_SECONDS:
            return answer({"ok": False, "error": "invalid_code"})
        if grant.redirect_uri and params.get("redirect_uri") not in (None, grant.redirect_uri):
            return answer({"ok": False, "error": "bad_redirect_uri"})
        workspace = self._workspaces[grant.team_id]
        result = {
            "ok": True,
            "access_token": workspace.bot_token,
            "token_type": "bot",
            "scope": grant.scopes,
            "bot_user_id": workspace.bot_user_id,
            "app_id": workspace.app_id,
            "team": {"id": workspace.team_id, "name": workspace.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": grant.user_id},
        }
        if self.rotation_expires_in is not None:
            result.update(self._rotating(workspace))
        self.installs.append({"team_id": workspace.team_id, "user_id": grant.user_id, "scope": grant.scopes})
        return answer(result)

    def enable_token_rotation(self, expires_in: int = 12 * 3600) -> None:
        """As when token rotation is turned on in the app's settings: every install and refresh hands out
        an access token that expires in ``expires_in`` seconds (Slack: 12 hours) and a refresh token."""
        self.rotation_expires_in = expires_in

    def _rotating(self, workspace: SlackEmulator) -> dict:
        access, refresh = workspace.issue_rotating_token(self.rotation_expires_in)
        with self._lock:
            self._refresh_tokens[refresh] = workspace.team_id
        self.refreshes.append(workspace.team_id)
        return {"access_token": access, "refresh_token": refresh, "expires_in": self.rotation_expires_in}

    def _refresh(self, refresh_token: str) -> dict:
        """oauth.v2.access with grant_type=refresh_token: a new access token (and refresh token) for the old."""
        with self._lock:
            team_id = self._refresh_tokens.pop(refresh_token, None)
        if team_id is None or self.rotation_expires_in is None:
            return {"ok": False, "error": "invalid_refresh_token"}
        workspace = self._workspaces[team_id]
        return {"ok": True, "token_type": "bot", "scope": "", "bot_user_id": workspace.bot_user_id,
                "app_id": workspace.app_id, "team": {"id": team_id, "name": workspace.team_name},
                "enterprise": None, "is_enterprise_install": False, **self._rotating(workspace)}

    def _consent_page(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        error = self._authorize_error(query)
        if error:
            return 400, {"Content-Type": "text/plain; charset=utf-8"}, error.encode()
        authorize = f"{self.authorize_url}?{urlencode(query)}"
        rows = []
        for w in self._workspaces.values():
            people = [u for u in w.users() if not u.get("is_bot") and u["id"] != "USLACKBOT" and not u.get("deleted")]
            for person in people[:20]:
                link = "/oauth/v2/approve?" + urlencode({"authorize": authorize, "team": w.team_id, "user": person["id"]})
                rows.append(f'<li><a href="{html.escape(link)}">Allow as {html.escape(person.get("real_name") or person["id"])}'
                            f' in {html.escape(w.team_name)}</a></li>')
        scopes = html.escape(query.get("scope", "").replace(",", ", "))
        page = (f"<!doctype html><title>Install</title><h1>An app wants to join your workspace</h1>"
                f"<p>It asks for: {scopes}</p><ul>{''.join(rows)}</ul>")
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()


__all__ = ["CODE_TTL_SECONDS", "SlackCloud"]
