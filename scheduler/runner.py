"""APScheduler only ticks; the database decides what is due, so a restart or deploy loses nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from db.engine import database_unavailable
from scheduler.first_runs import FirstRuns

log = logging.getLogger(__name__)

PLAN_JOB_ID = "sprout-plan"
DISPATCH_JOB_ID = "sprout-dispatch"
ROSTER_SYNC_JOB_ID = "sprout-roster-sync"
# The first sync waits this long after a start, so a deploy's first minutes go to lessons, not users.list.
ROSTER_SYNC_FIRST_AFTER = timedelta(minutes=10)
LINK_CHECK_JOB_ID = "sprout-link-check"
LINK_CHECK_FIRST_AFTER = timedelta(hours=1)


def wall_clock() -> datetime:
    """The real time: the edge's, passed in to everything else as a clock or as ``now``."""
    return datetime.now(UTC)


def run_job(name: str, job: Callable[[], object]) -> None:
    try:
        job()
    except Exception as exc:  # the next run tries again; nothing is lost because the outbox holds it
        if database_unavailable(exc):  # a restart or an outage: one line each run, not a traceback
            log.warning("%s: the database is unavailable, trying again at the next run: %s", name,
                        str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        else:
            log.exception("%s failed", name)


def start_scheduler(
    *, plan: Callable[[], object], dispatch: Callable[[], object], plan_every: int = 60, dispatch_every: int = 2,
    first_runs: FirstRuns | None = None,
) -> BackgroundScheduler:
    """Plan every minute and send every few seconds, each never overlapping itself (in-memory job store).

    Sending runs on its own short interval so a retry due in three seconds goes in three
    seconds, not at the next minute.
    """
    scheduler = BackgroundScheduler(timezone=UTC)
    add_tick_jobs(scheduler, plan=plan, dispatch=dispatch, plan_every=plan_every, dispatch_every=dispatch_every,
                  first_runs=first_runs)
    scheduler.start()
    return scheduler


def add_tick_jobs(
    scheduler: BackgroundScheduler,
    *,
    plan: Callable[[], object],
    dispatch: Callable[[], object],
    plan_every: int = 60,
    dispatch_every: int = 2,
    suffix: str = "",
    first_runs: FirstRuns | None = None,
) -> None:
    """The planning and sending jobs of one workspace (``suffix`` tells a hosted Sprout's workspaces apart);
    adding them again replaces them. Both run at once; ``first_runs`` is told to wait for them."""
    if first_runs is not None:
        first_runs.expect(scheduler, (PLAN_JOB_ID + suffix, DISPATCH_JOB_ID + suffix))
    now = datetime.now(UTC)
    for job_id, job, every in ((PLAN_JOB_ID, plan, plan_every), (DISPATCH_JOB_ID, dispatch, dispatch_every)):
        scheduler.add_job(
            run_job,
            "interval",
            args=[job_id + suffix, job],
            seconds=every,
            id=job_id + suffix,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            next_run_time=now,
        )


def add_roster_sync_job(
    scheduler: BackgroundScheduler, *, sync: Callable[[], object], every_hours: float, suffix: str = ""
) -> bool:
    """``roster sync`` on its own every ``every_hours`` (0: never): members in, leavers out. The events
    (team_join, user_change) keep the roster current between runs; this catches what they missed. Whether
    the job was added."""
    if every_hours <= 0:
        return False
    scheduler.add_job(run_job, "interval", args=[ROSTER_SYNC_JOB_ID + suffix, sync], seconds=every_hours * 3600,
                      id=ROSTER_SYNC_JOB_ID + suffix, replace_existing=True, max_instances=1, coalesce=True,
                      next_run_time=datetime.now(UTC) + ROSTER_SYNC_FIRST_AFTER)
    return True


def add_link_check_job(
    scheduler: BackgroundScheduler, *, check: Callable[[], object], every_hours: float, suffix: str = ""
) -> bool:
    """Every lesson link checked every ``every_hours`` (0: never), the first time an hour after a start (a
    restart does not re-check them all), and never during a click. Whether the job was added."""
    if every_hours <= 0:
        return False
    scheduler.add_job(run_job, "interval", args=[LINK_CHECK_JOB_ID + suffix, check], seconds=every_hours * 3600,
                      id=LINK_CHECK_JOB_ID + suffix, replace_existing=True, max_instances=1, coalesce=True,
                      next_run_time=datetime.now(UTC) + LINK_CHECK_FIRST_AFTER)
    return True


@dataclass(frozen=True)
class BackgroundJobs:
    """One workspace's jobs beside planning and sending, as the composition root makes them."""

    redraw_at_start: Callable[[], object]  # messages left undrawn by a crash: once, at the start
    redraw: Callable[[], object]  # every ten seconds
    forget_events: Callable[[], object]  # old Slack event ids: at the start, then daily
    reload_packs: Callable[[], object]  # every five seconds: files changed, lessons retired
    lrs: Callable[[], object] | None = None  # forward records to the LRS, every ten seconds
    roster_sync: Callable[[], object] | None = None
    roster_sync_hours: float = 0
    link_check: Callable[[], object] | None = None
    link_check_hours: float = 0


def add_background_jobs(scheduler: BackgroundScheduler, jobs: BackgroundJobs, *, suffix: str = "",
                        first_runs: FirstRuns | None = None) -> None:
    """Each in a job of its own, so a hanging LRS or a slow link check never delays Slack; none overlaps
    itself. ``first_runs`` is told to wait for the two that run at once."""
    if first_runs is not None:
        first_runs.expect(scheduler, ("sprout-redraw-at-start" + suffix, "sprout-forget-events" + suffix))
    scheduler.add_job(run_job, args=["sprout-redraw-at-start" + suffix, jobs.redraw_at_start],
                      id="sprout-redraw-at-start" + suffix, replace_existing=True)  # once, now
    add_interval_job(scheduler, "sprout-redraw" + suffix, jobs.redraw, seconds=10)
    add_interval_job(scheduler, "sprout-forget-events" + suffix, jobs.forget_events, seconds=24 * 3600,
                     first=datetime.now(UTC))
    if jobs.lrs is not None:
        add_interval_job(scheduler, "sprout-lrs" + suffix, jobs.lrs, seconds=10)
    add_interval_job(scheduler, "sprout-packs" + suffix, jobs.reload_packs, seconds=5)
    if jobs.roster_sync is not None:
        add_roster_sync_job(scheduler, suffix=suffix, every_hours=jobs.roster_sync_hours, sync=jobs.roster_sync)
    if jobs.link_check is not None:
        add_link_check_job(scheduler, suffix=suffix, every_hours=jobs.link_check_hours, check=jobs.link_check)


def add_interval_job(scheduler: BackgroundScheduler, job_id: str, job: Callable[[], object], *, seconds: float,
                     first: datetime | None = None) -> None:
    """``job`` every ``seconds`` under ``job_id`` (replacing one of that id), never overlapping itself; first at
    ``first``, or one interval from now."""
    extra = {} if first is None else {"next_run_time": first}
    scheduler.add_job(run_job, "interval", args=[job_id, job], seconds=seconds, id=job_id, replace_existing=True,
                      max_instances=1, coalesce=True, **extra)


def hosted_scheduler(*, max_workers: int = 16) -> BackgroundScheduler:
    """The scheduler of a hosted Sprout, shared by its workspaces: at most ``max_workers`` jobs at once across
    them (each holds at most a few connections of the shared pool, so planners holding their lock connection
    always find another); a job that waits its turn runs late rather than being skipped."""
    return BackgroundScheduler(timezone=UTC, executors={"default": ThreadPoolExecutor(max_workers=max_workers)},
                               job_defaults={"misfire_grace_time": None, "coalesce": True})


def remove_jobs(scheduler: BackgroundScheduler, suffix: str) -> None:
    """Every job of one workspace (a hosted Sprout's workspace that uninstalled it)."""
    for job in scheduler.get_jobs():
        if job.id.endswith(suffix):
            job.remove()
