"""How long a learner wants a break."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from learning.errors import Invalid

UNTIL_RESUMED = datetime(9999, 1, 1, tzinfo=UTC)

_DURATION = re.compile(r"^(\d{1,3})\s*(d|day|days|w|wk|week|weeks)$")


def parse_pause(text: str) -> timedelta | None:
    """``"3 days"``, ``"2 weeks"``, ``"1w"`` → a duration; ``""`` → None (until resumed).

    Raises ValueError with a sentence for the learner otherwise.
    """
    text = text.strip().lower()
    if not text:
        return None
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise Invalid("pause_length", "Say how long: `/learn pause 3 days`, `/learn pause 2 weeks`, or just `/learn pause`.")
    count = int(match.group(1))
    days = count * 7 if match.group(2).startswith("w") else count
    if days > 365:
        raise Invalid("pause_too_long", "A pause can last at most a year; `/learn pause` without a length pauses until you resume.")
    return timedelta(days=days)


def is_paused(paused_until: datetime | None, now: datetime) -> bool:
    return paused_until is not None and paused_until > now
