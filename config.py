"""Sprout's settings: every environment variable, read once (``load_settings``) and checked, into one
frozen ``Settings`` that ``app.py`` passes to what needs it. A bad value is one line naming the variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from dotenv import dotenv_values

BUNDLED_PACKS = Path(__file__).resolve().parent / "content_packs"


HISTORY_TIER_RATES = {1: 1.0, 3: 50.0}  # calls a minute, Slack's published tiers
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(Exception):
    """A missing or malformed setting: one line naming the variable, no traceback."""


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///sprout.db"
    database_url_explicit: bool = False  # DATABASE_URL was set (the sandbox otherwise uses a temporary file)
    content_packs_dir: Path = BUNDLED_PACKS
    # Where accepted contributions are written (<dir>/<pack id>/contributions.yaml); None: beside each pack.yaml.
    contributions_dir: Path | None = None
    contributions_dir_explicit: bool = False  # CONTRIBUTIONS_DIR was set (the sandbox otherwise uses a temporary one)
    port: int = 3000
    admin_user_ids: frozenset[str] = frozenset()
    default_timezone: str = "UTC"
    default_language: str = "en"  # Sprout's own text for people whose language is unknown (bot/locales)
    senders: int = 8  # sends in flight at once, over as many keep-alive connections
    # chat.postMessage across the workspace: a ceiling for the pace learned from Slack's 429s; None, none
    rate_per_minute: int | None = None
    burst: int = 20
    # conversations.history/.replies (look-ups after a doubtful send): Tier 3 for an organisation's own
    # app, Tier 1 (one a minute, 15 messages) for one distributed outside the Marketplace (hosted).
    history_tier: int = 3
    history_per_minute: float = 50
    lookup_per_minute: float = 50  # users.lookupByEmail (Tier 3), for roster rows that name people by email
    roster_sync_hours: float = 24  # `roster sync` on its own every this many hours; 0 turns it off
    link_check_hours: float = 24  # every lesson link checked every this many hours; 0 turns it off
    reminder_after_hours: float = 4.0  # 0 turns reminders off
    https_proxy: str | None = None
    lease_seconds: int = 30
    review_retention: float = 0.9  # FSRS desired retention
    review_questions: int = 3  # at most this many questions in a review DM
    slack_workspace_url: str | None = None  # the learners' xAPI account homePage
    xapi_base_iri: str = "https://sprout.example/xapi"
    xapi_lrs_url: str | None = None
    xapi_lrs_key: str | None = None
    xapi_lrs_secret: str | None = None
    xapi_lrs_since: datetime | None = None
    report_url: str | None = None  # where `python app.py report` is published; digests link to it
    log_level: str = "WARNING"
    # A hosted Sprout, installed in many workspaces with Slack's OAuth flow (SLACK_CLIENT_ID/SECRET):
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_redirect_uri: str | None = None  # https://<host>/slack/oauth_redirect, as in the app's OAuth settings
    slack_authorize_url: str = "https://slack.com/oauth/v2/authorize"
    secret_key: str | None = None  # SPROUT_SECRET_KEY: Fernet keys, newest first, sealing stored Slack tokens

    @property
    def hosted(self) -> bool:
        return bool(self.slack_client_id)

    def xapi(self):
        from learning.xapi import XapiSettings

        if not self.slack_workspace_url:
            raise SettingsError("SLACK_WORKSPACE_URL is needed for xAPI (e.g. https://acme.slack.com): "
                                "it identifies the learners' Slack accounts")
        return XapiSettings(homepage=self.slack_workspace_url, base_iri=self.xapi_base_iri)

    @property
    def uses_emulator(self) -> bool:
        return not self.slack_bot_token and not self.hosted

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        from db.engine import check_url
        from learning.schedule import is_time_zone

        def get(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if value and value.strip() else None

        def integer(name: str, default: int, low: int, high: int) -> int:
            raw = get(name)
            if raw is None:
                return default
            if not raw.isdigit() or not low <= int(raw) <= high:
                raise SettingsError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
            return int(raw)

        def number(name: str, default: float, low: float, high: float) -> float:
            raw = get(name)
            if raw is None:
                return default
            try:
                value = float(raw)
            except ValueError:
                value = float("nan")
            if not low <= value <= high:  # nan compares false: not a number
                raise SettingsError(f"{name} must be a number from {low:g} to {high:g}, not {raw!r}")
            return value

        def log_level() -> str:
            raw = (get("LOG_LEVEL") or "WARNING").upper()
            if raw not in LOG_LEVELS:
                raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {get('LOG_LEVEL')!r}")
            return raw

        def retention() -> float:
            raw = get("REVIEW_RETENTION")
            try:
                value = float(raw) if raw is not None else 0.9
            except ValueError:
                value = -1
            if not 0.7 <= value <= 0.99:
                raise SettingsError(f"REVIEW_RETENTION must be a number from 0.7 to 0.99, not {raw!r}")
            return value

        token = get("SLACK_BOT_TOKEN")
        secret = get("SLACK_SIGNING_SECRET")
        app_token = get("SLACK_APP_TOKEN")
        if token and not token.startswith("xoxb-"):
            raise SettingsError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
        if token and not secret:
            raise SettingsError("SLACK_SIGNING_SECRET is required when SLACK_BOT_TOKEN is set")
        if app_token and not app_token.startswith("xapp-"):
            raise SettingsError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
        if app_token and not token:
            raise SettingsError("SLACK_APP_TOKEN needs SLACK_BOT_TOKEN as well")
        client_id, client_secret = get("SLACK_CLIENT_ID"), get("SLACK_CLIENT_SECRET")
        redirect_uri = get("SLACK_REDIRECT_URI")
        authorize_url = get("SLACK_AUTHORIZE_URL") or "https://slack.com/oauth/v2/authorize"
        if bool(client_id) != bool(client_secret):
            raise SettingsError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together: a hosted Sprout needs both")
        if client_id and token:
            raise SettingsError("SLACK_BOT_TOKEN is for one workspace; a hosted Sprout (SLACK_CLIENT_ID) gets each "
                                "workspace's token when it is installed: set one or the other")
        if client_id and app_token:
            raise SettingsError("SLACK_APP_TOKEN (Socket Mode) is for one workspace; a hosted Sprout answers over "
                                "HTTP at /slack/events")
        if client_id and not secret:
            raise SettingsError("SLACK_SIGNING_SECRET is required when SLACK_CLIENT_ID is set")
        for name, value in (("SLACK_REDIRECT_URI", redirect_uri), ("SLACK_AUTHORIZE_URL", authorize_url)):
            if value and not value.startswith(("http://", "https://")):
                raise SettingsError(f"{name} must be an http(s) URL, not {value!r}")
        api_url = get("SLACK_API_URL") or "https://slack.com/api/"
        if not api_url.startswith(("http://", "https://")):
            raise SettingsError(f"SLACK_API_URL must be an http(s) URL, not {api_url!r}")
        if not api_url.endswith("/"):
            api_url += "/"
        database_url = get("DATABASE_URL") or "sqlite:///sprout.db"
        problem = check_url(database_url)
        if problem:
            raise SettingsError(f"DATABASE_URL {problem}")
        packs_dir = Path(get("CONTENT_PACKS_DIR") or BUNDLED_PACKS)
        if not packs_dir.is_dir():
            raise SettingsError(f"CONTENT_PACKS_DIR {str(packs_dir)!r} is not a folder")
        contributions_dir = Path(get("CONTRIBUTIONS_DIR")) if get("CONTRIBUTIONS_DIR") else None
        if contributions_dir is not None and not contributions_dir.is_dir():
            raise SettingsError(f"CONTRIBUTIONS_DIR {str(contributions_dir)!r} is not a folder")
        if contributions_dir is None and not os.access(packs_dir, os.W_OK):
            # An installed package or a read-only mount: accepted contributions go in the working folder (the
            # image's /data volume, beside a SQLite database), from where `packs contributions --export` takes them.
            contributions_dir = Path("contributions").resolve()
        admins = frozenset(a.strip() for a in (get("ADMIN_USER_IDS") or "").split(",") if a.strip())
        bad = [a for a in admins if not (a[:1] in "UW" and a[1:].isalnum() and a.isupper())]
        if bad:
            raise SettingsError(f"ADMIN_USER_IDS has {bad[0]!r}, which is not a Slack user id like U024BE7LH")
        default_tz = get("DEFAULT_TIMEZONE") or "UTC"
        if not is_time_zone(default_tz):
            raise SettingsError(f"DEFAULT_TIMEZONE {default_tz!r} is not an IANA time zone like Europe/Berlin")
        from bot.i18n import available_languages
        from learning.language import normalise

        default_language = normalise(get("DEFAULT_LANGUAGE") or "en")
        if default_language not in available_languages():
            raise SettingsError(f"DEFAULT_LANGUAGE {default_language!r} has no catalog; Sprout speaks "
                                f"{', '.join(available_languages())}")
        workspace_url = get("SLACK_WORKSPACE_URL")
        base_iri = get("XAPI_BASE_IRI") or "https://sprout.example/xapi"
        lrs_url, lrs_key, lrs_secret = get("XAPI_LRS_URL"), get("XAPI_LRS_KEY"), get("XAPI_LRS_SECRET")
        from learning.xapi import XapiSettings

        try:
            XapiSettings(homepage=workspace_url or "https://slack.com", base_iri=base_iri)
        except ValueError as exc:
            raise SettingsError(f"SLACK_WORKSPACE_URL / XAPI_BASE_IRI: {exc}") from None
        if lrs_url and not lrs_url.startswith(("http://", "https://")):
            raise SettingsError(f"XAPI_LRS_URL must be an http(s) URL, not {lrs_url!r}")
        if lrs_url and not (lrs_key and lrs_secret):
            raise SettingsError("XAPI_LRS_KEY and XAPI_LRS_SECRET are required when XAPI_LRS_URL is set")
        if lrs_url and not workspace_url and not client_id:
            raise SettingsError("SLACK_WORKSPACE_URL is required when XAPI_LRS_URL is set")
        lrs_since = parse_bound("XAPI_LRS_SINCE", get("XAPI_LRS_SINCE"))
        report_url = get("SPROUT_REPORT_URL")
        if report_url and not report_url.startswith(("http://", "https://")):
            raise SettingsError(f"SPROUT_REPORT_URL must be an http(s) URL, not {report_url!r}")
        if client_id:
            from db.engine import is_memory_sqlite

            if is_memory_sqlite(database_url):
                raise SettingsError("a hosted Sprout keeps each workspace's records in a file beside DATABASE_URL's: "
                                    "use a file (sqlite:///sprout.db) or PostgreSQL")
        history_tier = integer("SLACK_HISTORY_TIER", 1 if client_id else 3, 1, 4)
        if history_tier not in HISTORY_TIER_RATES:
            raise SettingsError("SLACK_HISTORY_TIER must be 1 (an app distributed outside the Slack Marketplace) "
                                "or 3 (an internal or Marketplace app)")
        history_per_minute = number("SLACK_HISTORY_RATE_PER_MINUTE", HISTORY_TIER_RATES[history_tier], 0.01, 10_000)
        return cls(
            history_tier=history_tier,
            history_per_minute=history_per_minute,
            lookup_per_minute=number("SLACK_LOOKUP_RATE_PER_MINUTE", 50, 0.01, 100_000),
            roster_sync_hours=number("ROSTER_SYNC_HOURS", 24, 0, 24 * 31),
            link_check_hours=number("LINK_CHECK_HOURS", 24, 0, 24 * 31),
            slack_client_id=client_id,
            slack_client_secret=client_secret,
            secret_key=get("SPROUT_SECRET_KEY"),
            slack_redirect_uri=redirect_uri,
            slack_authorize_url=authorize_url,
            report_url=report_url,
            slack_workspace_url=workspace_url,
            xapi_base_iri=base_iri,
            xapi_lrs_url=lrs_url,
            xapi_lrs_key=lrs_key,
            xapi_lrs_secret=lrs_secret,
            xapi_lrs_since=lrs_since,
            slack_bot_token=token,
            slack_signing_secret=secret,
            slack_app_token=app_token,
            slack_api_url=api_url,
            database_url=database_url,
            database_url_explicit=get("DATABASE_URL") is not None,
            content_packs_dir=packs_dir,
            contributions_dir=contributions_dir,
            contributions_dir_explicit=get("CONTRIBUTIONS_DIR") is not None,
            port=integer("PORT", 3000, 1, 65535),
            admin_user_ids=admins,
            default_timezone=default_tz,
            default_language=default_language,
            senders=integer("SPROUT_SENDERS", 8, 1, 64),
            rate_per_minute=integer("SLACK_RATE_PER_MINUTE", 600, 1, 10_000_000)
            if get("SLACK_RATE_PER_MINUTE") else None,
            burst=integer("SLACK_RATE_BURST", 20, 1, 10000),
            reminder_after_hours=number("REMINDER_AFTER_HOURS", 4, 0, 72),
            lease_seconds=integer("SPROUT_LEASE_SECONDS", 30, 1, 3600),
            https_proxy=get("HTTPS_PROXY") or get("https_proxy"),
            review_retention=retention(),
            review_questions=integer("REVIEW_QUESTIONS", 3, 1, 10),
            log_level=log_level(),
        )


def load_settings(environ: Mapping[str, str] | None = None, *, dotenv: Path | None = Path(".env")) -> Settings:
    """The environment, over the values in ``.env`` (python-dotenv), read once."""
    values: dict[str, str] = {}
    if dotenv is not None and dotenv.is_file():
        values.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return Settings.from_env(values)


def parse_bound(option: str, text: str | None) -> datetime | None:
    """--since / --until: a date (midnight UTC) or an ISO 8601 instant with a zone."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SettingsError(f"{option} {text!r} is not a date like 2026-01-31 or an instant like "
                            "2026-01-31T09:00:00Z") from None
    if value.tzinfo is None:
        raise SettingsError(f"{option} {text!r} needs a time zone, e.g. 2026-01-31T09:00:00Z")
    return value.astimezone(UTC)
