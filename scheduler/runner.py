"""APScheduler only ticks; the database decides what is due, so a restart loses nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)

TICK_JOB_ID = "sprout-tick"


def _tick(tick: Callable[[], object]) -> None:
    try:
        tick()
    except Exception:  # the next tick tries again; nothing is lost because the outbox holds it
        log.exception("tick failed")


def start_scheduler(*, tick: Callable[[], object], interval_seconds: int = 60) -> BackgroundScheduler:
    """Tick now and then every ``interval_seconds``, never two ticks at once (in-memory job store)."""
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        _tick,
        "interval",
        args=[tick],
        seconds=interval_seconds,
        id=TICK_JOB_ID,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    return scheduler
