"""The planner decides what is due at ``now`` and writes it to the outbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from content_packs.catalog import Catalog
from db.store import NewDelivery, PlanningRow, Store
from learning.language import pack_language
from learning.progression import next_lesson
from learning.schedule import (
    UnknownTimeZone,
    due_slot,
    local_instant,
    next_due_at,
    next_slot,
    parse_days,
    parse_hhmm,
    resolve_zone,
    zone,
)

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class PlanResult:
    queued: list[int] = field(default_factory=list)  # outbox ids
    completed: list[int] = field(default_factory=list)  # enrollment ids finished


class Planner:
    def __init__(self, *, store: Store, catalog: Catalog, default_timezone: str = "UTC") -> None:
        self.store = store
        self.catalog = catalog
        self.default_timezone = default_timezone

    def _schedule(self, row: PlanningRow):
        pack = self.catalog.get(row.pack_id)
        if pack is None:
            return None
        try:
            tz = zone(resolve_zone(row.timezone, row.slack_timezone, default=self.default_timezone))
            at = parse_hhmm(row.delivery_time) if row.delivery_time else parse_hhmm(pack.schedule.time)
            days = parse_days(row.delivery_days) if row.delivery_days else tuple(pack.schedule.days)
        except (ValueError, UnknownTimeZone) as exc:
            log.warning("cannot plan enrollment %s: %s", row.enrollment_id, exc)
            return None
        return pack, tz, at, days

    def next_due(self, now: datetime) -> datetime | None:
        """The earliest instant after ``now`` at which some lesson falls due (the sandbox's "jump")."""
        earliest: datetime | None = None
        for row in self.store.planning_rows(now, due_only=False):
            schedule = self._schedule(row)
            if schedule is None:
                continue
            _, tz, at, days = schedule
            after = max(now, row.enrolled_at, row.paused_until or EPOCH)
            if row.starts_on is not None:
                after = max(after, local_instant(row.starts_on, time(0, 0), tz))
            slot = next_slot(after, tz=tz, at=at, days=days)
            if earliest is None or slot.due_at < earliest:
                earliest = slot.due_at
        return earliest

    def plan(self, now: datetime) -> PlanResult:
        """Queue every lesson due at ``now``; another instance holding the planning lock means skip."""
        with self.store.planning_lock() as mine:
            if not mine:
                return PlanResult()
            return self._plan(now)

    def schedule_basis(self) -> dict[str, str]:
        """Each loaded pack's schedule, and the default time zone, as the text the planner stores beside it."""
        return {pack.id: f"{pack.schedule.time} {','.join(pack.schedule.days)} {self.default_timezone}"
                for pack in self.catalog}

    def _plan(self, now: datetime) -> PlanResult:
        """Only enrollments whose stored ``next_due_at`` has come (or is not worked out yet) are read; each is
        then judged by the same rules as always (``due_slot``), and its next due instant written back."""
        result = PlanResult()
        self.store.replan_changed_schedules(self.schedule_basis())
        due: list[tuple[PlanningRow, object]] = []
        later: list[tuple[int, int, datetime]] = []  # (enrollment, schedule_changes as read, next due)
        schedules = {}
        for row in self.store.planning_rows(now):
            schedule = self._schedule(row)
            if schedule is None:
                continue  # the pack is not loaded (removed or broken): nothing to send, nothing lost
            _, tz, at, days = schedule
            not_before = max(row.enrolled_at, row.resumed_at or EPOCH, row.paused_until or EPOCH)
            slot = due_slot(now, tz=tz, at=at, days=days, not_before=not_before, last_local_date=row.last_local_date)
            if slot is not None and (row.starts_on is None or slot.local_date >= row.starts_on):
                due.append((row, slot))
                schedules[row.enrollment_id] = (tz, at, days, not_before)
            else:
                later.append((row.enrollment_id, row.schedule_changes,
                              next_due_at(now, tz=tz, at=at, days=days, not_before=not_before,
                                          last_local_date=row.last_local_date, starts_on=row.starts_on)))
        if due:
            self._queue(due, now, result)
            finished = set(result.completed)
            for row, slot in due:
                if row.enrollment_id in finished:
                    continue
                tz, at, days, not_before = schedules[row.enrollment_id]
                later.append((row.enrollment_id, row.schedule_changes,
                              next_due_at(now, tz=tz, at=at, days=days, not_before=not_before,
                                          last_local_date=slot.local_date, starts_on=row.starts_on)))
        self.store.set_next_due(later)
        return result

    def _queue(self, due: list, now: datetime, result: PlanResult) -> None:
        delivered = self.store.delivered_lessons(row.enrollment_id for row, _ in due)
        new: list[NewDelivery] = []
        for row, slot in due:
            pack = self.catalog.get(row.pack_id)
            assert pack is not None
            lesson = next_lesson(pack, delivered[row.enrollment_id], row.start_lesson_id)
            if lesson is None:
                result.completed.append(row.enrollment_id)
                continue
            new.append(
                NewDelivery(
                    enrollment_id=row.enrollment_id,
                    learner_id=row.learner_id,
                    channel=row.dm_channel_id or row.slack_user_id,
                    pack_id=pack.id,
                    lesson_id=lesson.id,
                    pack_version=pack.version,
                    kind="scheduled",
                    local_date=slot.local_date,
                    due_at=slot.due_at,
                    language=self.catalog.language_shown(
                        pack.id, lesson.id, pack_language(self.catalog.languages(pack.id), row.language,
                                                          row.slack_locale)),
                )
            )
        result.queued = self.store.queue_deliveries(new, now)
        self.store.complete_enrollments(result.completed, now)
