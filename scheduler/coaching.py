"""Weekly coach digests: queue each coach's digest when their local digest time has passed.

The manager digest's rules (``scheduler.digests``), with the same settings (``/learn digest off``, a day
and a time): due from the coach's local day and time until the end of that local day, never made up the
next day. The outbox's dedupe key — coach and the week's first local date — makes a second digest for
the same week impossible, across retries, restarts and instances; the dispatcher's handed-at record and
history look-up make a doubtful send (Slack took it, the answer was lost) go out once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from db.coaching import Coach
from db.store import NewMessage, Store
from learning.coaching import coach_digest_key
from learning.digest import due_digest
from learning.schedule import UnknownTimeZone, resolve_zone

log = logging.getLogger(__name__)

KIND = "coach_digest"


class CoachDigestPlanner:
    def __init__(self, *, store: Store, recipients: Callable[[], Sequence[Coach]],
                 existing_keys: Callable[[Sequence[str]], set[str]], default_timezone: str = "UTC") -> None:
        self.store = store
        self.recipients = recipients
        self.existing_keys = existing_keys
        self.default_timezone = default_timezone

    def plan(self, now: datetime) -> list[int]:
        """Queue every coach digest due at ``now`` that is not queued yet; the outbox ids."""
        candidates: list[NewMessage] = []
        for coach in self.recipients():
            if coach.digest_off:
                continue
            zone_name = resolve_zone(coach.timezone, coach.slack_timezone, default=self.default_timezone)
            try:
                week = due_digest(now, zone_name=zone_name, day=coach.digest_day, at=coach.digest_time)
            except UnknownTimeZone as exc:  # a broken default: log it, plan the others
                log.warning("cannot plan the coach digest of learner %s: %s", coach.id, exc)
                continue
            if week is None:
                continue
            candidates.append(NewMessage(kind=KIND, dedupe_key=coach_digest_key(coach.id, week),
                                         channel=coach.dm_channel_id or coach.slack_user_id, learner_id=coach.id,
                                         payload=week.payload()))
        if not candidates:
            return []
        # All day on the digest day every coach is "due": write only the new ones.
        queued = self.existing_keys([c.dedupe_key for c in candidates])
        new = [c for c in candidates if c.dedupe_key not in queued]
        return self.store.queue_messages(new, now) if new else []
