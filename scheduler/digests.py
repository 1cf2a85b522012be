"""Weekly digests: queue each manager's digest (and its chart) when their local digest time has passed.

The same rules as lessons: due from the manager's local day and time until the end of that local
day (a process that was down at 08:00 catches up the same day; a day missed entirely is not made
up). The outbox's dedupe key — manager and the week's first local date — makes a digest for the
same week impossible twice, across restarts and instances.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from db.reporting import Person, Reporting
from db.store import NewMessage, Store
from learning.digest import chart_key, digest_key, due_digest
from learning.schedule import UnknownTimeZone, resolve_zone

log = logging.getLogger(__name__)


@dataclass
class DigestPlan:
    digests: list[int] = field(default_factory=list)  # outbox ids
    charts: list[int] = field(default_factory=list)


class DigestPlanner:
    def __init__(
        self,
        *,
        store: Store,
        reporting: Reporting,
        default_timezone: str = "UTC",
        chart_after: timedelta = timedelta(seconds=5),
    ) -> None:
        self.store = store
        self.reporting = reporting
        self.default_timezone = default_timezone
        # The chart goes a moment after the digest, so it can be threaded under it.
        self.chart_after = chart_after

    def _channel(self, person: Person) -> str:
        return person.dm_channel_id or person.slack_user_id

    def plan(self, now: datetime) -> DigestPlan:
        """Queue every digest due at ``now`` that is not queued yet."""
        candidates: list[tuple[NewMessage, NewMessage]] = []
        for person in self.reporting.digest_recipients():
            if person.digest_off:
                continue
            zone_name = resolve_zone(person.timezone, person.slack_timezone, default=self.default_timezone)
            try:
                week = due_digest(now, zone_name=zone_name, day=person.digest_day, at=person.digest_time)
            except UnknownTimeZone as exc:  # a broken default: log it, plan the others
                log.warning("cannot plan the digest of learner %s: %s", person.id, exc)
                continue
            if week is None:
                continue
            key = digest_key(person.id, week)
            payload = week.payload()
            candidates.append((
                NewMessage(kind="digest", dedupe_key=key, channel=self._channel(person), learner_id=person.id,
                           payload=payload),
                NewMessage(kind="digest_chart", dedupe_key=chart_key(person.id, week), channel=self._channel(person),
                           learner_id=person.id, payload={**payload, "digest_key": key},
                           not_before=now + self.chart_after),
            ))
        plan = DigestPlan()
        if not candidates:
            return plan
        # All day on the digest day every manager is "due": ask which are queued already, and only
        # write (and take SQLite's write lock) for the new ones.
        queued = self.reporting.existing_keys([d.dedupe_key for d, _ in candidates])
        new = [pair for pair in candidates if pair[0].dedupe_key not in queued]
        if not new:
            return plan
        plan.digests = self.store.queue_messages([d for d, _ in new], now)
        plan.charts = self.store.queue_messages([c for _, c in new], now)
        return plan
