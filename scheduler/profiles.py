"""Slack time zones and locales for learners: looked up at most once a day."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from db.store import Store

log = logging.getLogger(__name__)


class Profile(Protocol):
    name: str
    timezone: str | None
    locale: str | None


def refresh_profiles(
    store: Store,
    lookup: Callable[[str], Profile | None],
    now: datetime,
    *,
    max_age: timedelta = timedelta(days=1),
    limit: int = 50,
) -> int:
    """Refresh up to ``limit`` stale profiles (users.info is Tier 4: well within limits at 50 a minute)."""
    refreshed = 0
    for learner_id, slack_user_id in store.profiles_to_refresh(now - max_age, limit=limit):
        profile = lookup(slack_user_id)
        # Unknown users are marked checked too, so one missing user is not asked about every minute.
        store.update_slack_profile(
            learner_id,
            name=profile.name if profile else None,
            slack_timezone=profile.timezone if profile else None,
            slack_locale=profile.locale if profile else None,
            now=now,
        )
        refreshed += 1
    return refreshed
