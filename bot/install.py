"""A hosted Sprout: installed in many workspaces with Slack's OAuth v2 flow.

The install pages (``/slack/install`` and ``/slack/oauth_redirect``) are Bolt's OAuth flow, keeping
installations and OAuth states in slack-sdk's SQLAlchemy stores on Sprout's own database (their tables
come from migration 0007). Every request to ``/slack/events`` is sent to the Bolt app of the workspace it
comes from (its ``team_id``), which checks its signature and answers as a single-workspace Sprout would;
a request from a workspace that has not installed Sprout is answered from memory (a command with a line
saying so, anything else with 503), never with a database query per request.
"""

from __future__ import annotations

import copy
import io
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator
from slack_sdk.oauth.token_rotation.rotator import SlackTokenRotationError
from slack_sdk.signature import SignatureVerifier

from bot.http import EVENTS_PATH, MAX_BODY
from bot.mrkdwn import escape
from db.workspaces import installed_team_ids

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600
# The bot scopes Sprout asks for when installed: manifest.yml's (tests/test_manifest.py keeps them equal).
BOT_SCOPES = (
    "chat:write", "commands", "im:write", "im:history", "users:read", "users:read.email", "channels:read",
    "groups:read", "channels:history", "groups:history", "files:write", "usergroups:read",
    "mpim:write", "mpim:history",
)


@dataclass(frozen=True)
class Workspace:
    """An installed workspace, as Sprout needs it: who it is and the bot token to act in it."""

    team_id: str
    team_name: str
    bot_token: str
    bot_user_id: str | None


# The token fields of slack-sdk's Installation and Bot: sealed on the way in, opened on the way out.
TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


class SealedInstallationStore(SQLAlchemyInstallationStore):
    """slack-sdk's SQLAlchemy installation store with every token sealed at rest (``db.vault.Vault``):
    the rest of Sprout, Bolt's OAuth flow included, sees plain tokens; the database never does."""

    def __init__(self, *, vault: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vault = vault

    def _sealed(self, record):
        record = copy.copy(record)
        for field in TOKEN_FIELDS:
            if hasattr(record, field):
                setattr(record, field, self.vault.seal(getattr(record, field)))
        return record

    def _opened(self, record):
        if record is None:
            return None
        for field in TOKEN_FIELDS:
            if hasattr(record, field):
                setattr(record, field, self.vault.open(getattr(record, field)))
        return record

    def save(self, installation: Installation) -> None:
        super().save(self._sealed(installation))

    def save_bot(self, bot) -> None:
        super().save_bot(self._sealed(bot))

    def find_bot(self, **kwargs: Any):
        return self._opened(super().find_bot(**kwargs))

    def find_installation(self, **kwargs: Any):
        return self._opened(super().find_installation(**kwargs))


class Installations:
    """Installed workspaces, kept by slack-sdk's SQLAlchemy installation store on Sprout's database,
    their tokens sealed with ``vault``."""

    def __init__(self, *, engine: Any, client_id: str, vault: Any) -> None:
        self.client_id = client_id
        self.store = SealedInstallationStore(vault=vault, client_id=client_id, engine=engine, logger=log)
        self.states = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine, logger=log)

    def find(self, team_id: str) -> Workspace | None:
        bot = self.store.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            return None
        return Workspace(team_id=team_id, team_name=getattr(bot, "team_name", None) or team_id,
                         bot_token=bot.bot_token, bot_user_id=bot.bot_user_id)

    def teams(self, team_ids: Iterable[str]) -> list[Workspace]:
        return [w for w in (self.find(t) for t in team_ids) if w is not None]

    def team_ids(self) -> list[str]:
        """Every workspace this app is installed in."""
        return installed_team_ids(self.store.engine, self.client_id)

    def refresh_expiring(
        self, team_ids: Iterable[str], *, client_secret: str, client: WebClient, minutes_before: int = 120
    ) -> list[str]:
        """With token rotation on in the app's settings, bot tokens expire (12 hours): refresh each that
        expires within ``minutes_before`` with slack-sdk's ``TokenRotator`` (what Bolt's authorize does) and
        keep the new one (sealed). The teams whose token changed. A refresh Slack refuses is logged and
        left for the next turn, while the old token still works."""
        rotator = TokenRotator(client_id=self.client_id, client_secret=client_secret, client=client)
        refreshed = []
        for team_id in team_ids:
            bot = self.store.find_bot(enterprise_id=None, team_id=team_id)
            if bot is None or not bot.bot_refresh_token:
                continue  # rotation off for this install: its token never expires
            try:
                fresh = rotator.perform_bot_token_rotation(bot=bot, minutes_before_expiration=minutes_before)
            except SlackTokenRotationError as exc:
                log.warning("could not refresh the bot token of %s: %s", team_id, exc.api_error.response.get("error"))
                continue
            if fresh is not None:
                self.store.save_bot(fresh)
                refreshed.append(team_id)
        return refreshed


def web_client(base_url: str) -> WebClient:
    """A Web API client without a token (OAuth exchanges, token rotation) for Slack at ``base_url``."""
    return WebClient(base_url=base_url)


def installer_app(
    *,
    installations: Installations,
    client_secret: str,
    signing_secret: str,
    client: WebClient,
    redirect_uri: str | None,
    authorization_url: str | None,
    on_installed: Callable[[Workspace, str | None], None],
) -> App:
    """Bolt's OAuth flow: the install page, the redirect that exchanges the code for the workspace's bot
    token (oauth.v2.access), then ``on_installed(workspace, installer's user id)`` so the workspace is served
    at once."""

    def success(args: SuccessArgs) -> BoltResponse:
        installation: Installation = args.installation
        workspace = installations.find(installation.team_id or "")
        if workspace is not None:
            on_installed(workspace, installation.user_id)
        log.warning("installed in %s (%s) by %s", installation.team_id, installation.team_name, installation.user_id)
        name = escape(installation.team_name or installation.team_id or "your workspace")
        return BoltResponse(status=200, headers={"Content-Type": "text/html; charset=utf-8"},
                            body=_page("Sprout is installed",
                                       f"Sprout is now in {name}. Type <code>/learn</code> in Slack to begin."))

    def failure(args: FailureArgs) -> BoltResponse:
        log.warning("installation failed: %s", args.reason)
        return BoltResponse(status=args.suggested_status_code, headers={"Content-Type": "text/html; charset=utf-8"},
                            body=_page("Sprout was not installed", "Something went wrong; please start again from "
                                       f'<a href="{INSTALL_PATH}">the install page</a>.'))

    settings = OAuthSettings(
        client_id=installations.client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=installations.store,
        installation_store_bot_only=True,
        state_store=installations.states,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        redirect_uri=redirect_uri,
        authorization_url=authorization_url,
        callback_options=CallbackOptions(success=success, failure=failure),
        state_expiration_seconds=STATE_SECONDS,
    )
    return App(signing_secret=signing_secret, oauth_settings=settings, client=client,
               logger=logging.getLogger("sprout.bolt.installer"))


def _page(title: str, text: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body style='font-family:sans-serif;max-width:40em;margin:4em auto'><h1>{title}</h1><p>{text}</p>"
            "</body></html>")


def team_of(body: bytes, content_type: str) -> str | None:
    """The workspace a Slack request comes from: ``team_id`` of a slash command or an Events API callback,
    ``team.id`` (or the user's ``team_id``) of an interactivity payload."""
    try:
        if "json" in content_type:
            data = json.loads(body or b"{}")
        else:
            form = parse_qs(body.decode("utf-8"))
            if "payload" in form:
                data = json.loads(form["payload"][0])
            else:
                return (form.get("team_id") or [None])[0]
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    team = data.get("team_id")
    if not team and isinstance(data.get("team"), dict):
        team = data["team"].get("id")
    if not team and isinstance(data.get("user"), dict):
        team = data["user"].get("team_id")
    if not team and data.get("authorizations"):
        first = data["authorizations"][0]
        team = first.get("team_id") if isinstance(first, dict) else None
    return team if isinstance(team, str) else None


def workspace_router(
    *,
    installer: App,
    workspace_app: Callable[[str], Callable | None],
    signing_secret: str,
    extra: Callable | None = None,
) -> Callable:
    """WSGI: the install pages to the installer, each ``/slack/events`` request to its workspace's app
    (``workspace_app(team_id)``: a WSGI app, or None when the workspace has not installed Sprout),
    anything else to ``extra`` (health, the sandbox page…).

    The open internet reaches this door, so a request costs as little as possible until it has proved
    it comes from Slack: a body over ``MAX_BODY`` is refused (413) before it is read; the signature is
    checked, once, with the app's signing secret, before the body is parsed or any database touched
    (the workspace apps behind it do not check again); only then is the team read from it."""
    install = SlackRequestHandler(installer, path=EVENTS_PATH)
    verifier = SignatureVerifier(signing_secret)

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path in (INSTALL_PATH, REDIRECT_PATH):
            return install(environ, start_response)
        if path != EVENTS_PATH:
            if extra is not None:
                return extra(environ, start_response)
            return _answer(start_response, "404 Not Found", b"not found")
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared and (not declared.isdigit() or int(declared) > MAX_BODY):
            return _answer(start_response, "413 Payload Too Large", b"request body too large")
        body = environ["wsgi.input"].read(int(declared) if declared else MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return _answer(start_response, "413 Payload Too Large", b"request body too large")
        headers = {
            "x-slack-request-timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
            "x-slack-signature": environ.get("HTTP_X_SLACK_SIGNATURE", ""),
        }
        if not verifier.is_valid_request(body, headers):
            return _answer(start_response, "401 Unauthorized", b"invalid request")
        environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        team = team_of(body, environ.get("CONTENT_TYPE", ""))
        if not team:  # url_verification, ssl_check: the installer app answers them
            return install(environ, start_response)
        app = workspace_app(team)
        if app is None:
            # Signed by Slack for a workspace not served here: not installed, uninstalled, or installed through
            # another instance a moment ago. No database is asked (``workspace_app`` looks at most every few
            # seconds). A person who typed a command is told; anything else gets 503, so Slack sends an event
            # again later, when the workspace is served if it was installed.
            if _is_command(body, environ.get("CONTENT_TYPE", "")):
                reply = json.dumps({"response_type": "ephemeral", "text": NOT_INSTALLED}).encode()
                start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(reply)))])
                return [reply]
            return _answer(start_response, "503 Service Unavailable", b"this workspace is not served here")
        return app(environ, start_response)

    return application


NOT_INSTALLED = ("Sprout is not installed in this workspace (or was removed from it): "
                 "ask a Slack admin to add it from Sprout's install page.")


def _is_command(body: bytes, content_type: str) -> bool:
    if "json" in content_type:
        return False
    try:
        return "command" in parse_qs(body.decode("utf-8"))
    except UnicodeDecodeError:
        return False


def _answer(start_response: Callable, status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


__all__ = ["BOT_SCOPES", "INSTALL_PATH", "REDIRECT_PATH", "Installations", "Workspace", "installer_app", "team_of",
           "workspace_router"]
