"""Whether a start is done: the scheduler jobs due at once that have not run yet.

Apart from ``scheduler.runner`` so that building a Sprout (``tick`` included) does not import APScheduler."""

from __future__ import annotations

import threading
from collections.abc import Iterable


class FirstRuns:
    """The jobs added to run at once that have not run yet: /healthz shows how many, so whoever watches a
    start (an orchestrator, a benchmark sampling memory) can tell when the first planning and sending are
    done rather than guess with a sleep."""

    def __init__(self) -> None:
        self._waiting: set[str] = set()
        self._lock = threading.Lock()
        self._watched: set[int] = set()  # the schedulers listened to (id), once each

    def expect(self, scheduler, job_ids: Iterable[str]) -> None:
        """Call before the jobs are added, so that a job running at once is not missed."""
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

        with self._lock:
            self._waiting.update(job_ids)
            if id(scheduler) not in self._watched:
                self._watched.add(id(scheduler))
                scheduler.add_listener(self._ran, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def forget(self, suffix: str) -> None:
        with self._lock:
            self._waiting = {job for job in self._waiting if not job.endswith(suffix)}

    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)

    def _ran(self, event) -> None:
        with self._lock:
            self._waiting.discard(event.job_id)
