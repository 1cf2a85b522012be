from __future__ import annotations

import time
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from scheduler.first_runs import FirstRuns
from scheduler.runner import add_tick_jobs


def wait_for(condition, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_first_jobs_are_waited_for_until_each_has_run_once_even_when_it_fails():
    scheduler = BackgroundScheduler(timezone=UTC)
    first_runs = FirstRuns()
    scheduler.start()
    try:
        def failing_dispatch():
            raise RuntimeError("the job failed, but it has run")

        add_tick_jobs(scheduler, plan=lambda: None, dispatch=failing_dispatch, suffix="-T1", first_runs=first_runs)
        first_runs.expect(scheduler, ["never-added"])
        assert wait_for(lambda: first_runs.waiting() == 1)
        time.sleep(0.2)
        assert first_runs.waiting() == 1  # the job never added is still waited for
        first_runs.forget("-added")
        scheduler.add_job(lambda: None, id="never-added", next_run_time=datetime.now(UTC))
        assert wait_for(lambda: first_runs.waiting() == 0)
    finally:
        scheduler.shutdown(wait=True)
