"""Who is who in the workspace, by email: users.lookupByEmail (Tier 3, scope users:read.email), paced.

Slack allows Tier 3 methods about 50 calls a minute per workspace and app. Every look-up takes a token
from one bucket first; a 429 anyway (another process, a lower limit than published) pauses the bucket
for Slack's Retry-After, so the calls after it wait too instead of drawing 429s of their own.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, ServerErrorRetryHandler

from learning.errors import SproutError
from scheduler.pacing import TokenBucket

log = logging.getLogger(__name__)

LOOKUP_METHOD = "users.lookupByEmail"
TIER_3_PER_MINUTE = 50.0
MAX_RATE_LIMITED = 10  # 429s in a row for one email before giving up (Slack is refusing, not pacing)


class SlackDirectory:
    """``user_id_for_email(email)``: the Slack user id of the active account with that email, or None."""

    def __init__(self, *, token: str, base_url: str, per_minute: float = TIER_3_PER_MINUTE, burst: int = 1,
                 client: WebClient | None = None) -> None:
        # A burst of one by default: steady calls at the rate, so no minute ever holds more than its share.
        self.bucket = TokenBucket(per_minute / 60.0, burst)
        self.client = client or WebClient(token=token, base_url=base_url, timeout=30, retry_handlers=[
            ServerErrorRetryHandler(max_retry_count=2), ConnectionErrorRetryHandler(max_retry_count=2)])
        self.calls = 0
        self.rate_limited = 0

    def user_id_for_email(self, email: str) -> str | None:
        refused = 0
        while True:
            self.bucket.acquire()
            self.calls += 1
            try:
                response = self.client.users_lookupByEmail(email=email)
            except SlackApiError as exc:
                error = exc.response.get("error") if exc.response is not None else None
                if exc.response is not None and exc.response.status_code == 429 and refused < MAX_RATE_LIMITED:
                    refused += 1
                    self.rate_limited += 1
                    wait = float(exc.response.headers.get("Retry-After", 1) or 1)
                    log.info("users.lookupByEmail: rate limited, waiting %.0fs", wait)
                    self.bucket.pause(wait)
                    continue
                if error == "users_not_found":
                    return None
                if error == "missing_scope":
                    raise SproutError("Slack refused users.lookupByEmail: the app needs the users:read.email "
                                      "scope (reinstall it with the manifest's scopes)") from None
                raise SproutError(f"Slack refused users.lookupByEmail: {error or exc}") from None
            user = response.get("user") or {}
            if user.get("deleted") or user.get("is_bot"):
                return None
            return user.get("id")

    def rate_per_minute(self) -> float:
        return self.bucket.full_rate * 60
