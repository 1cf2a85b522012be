"""A planner step for curriculum tracks: a learner who has finished a pack of a track is enrolled
in the track's next pack, whose lessons then come at their usual time (the lesson planner's job).

Finished means every lesson delivered and every question answered; a step gated on the
certificate waits for the previous pack's certificate instead. Enrolling is idempotent (one
enrollment per learner and pack), so running this twice, or on two instances, enrolls once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from content_packs.catalog import Catalog
from content_packs.tracks import Track, TrackCatalog, TrackPack
from db.cohorts import TrackEnrollment
from db.store import Store
from learning.cohorts import may_start, pack_finished

log = logging.getLogger(__name__)

FOLLOWING = ("active", "completed")  # an enrollment on its schedule, or done with it


@dataclass
class TrackPlan:
    enrolled: list[tuple[int, str, str]] = field(default_factory=list)  # (learner id, pack id, track id)


@dataclass(frozen=True)
class _Candidate:
    track: Track
    current: TrackEnrollment
    step: TrackPack


class TrackPlanner:
    def __init__(self, *, store: Store, catalog: Catalog, tracks: TrackCatalog) -> None:
        self.store = store
        self.catalog = catalog
        self.tracks = tracks

    def plan(self, now: datetime) -> TrackPlan:
        with self.store.planning_lock() as mine:
            if not mine:
                return TrackPlan()
            return self._plan(now)

    def _candidates(self) -> list[_Candidate]:
        """For each learner and each track they follow: the furthest pack of it they take, if a next one
        exists and they are not taking it yet."""
        by_learner: dict[int, list[TrackEnrollment]] = defaultdict(list)
        for row in self.store.track_enrollments():
            by_learner[row.learner_id].append(row)
        found = []
        for rows in by_learner.values():
            packs = {row.pack_id: row for row in rows}
            for track_id in sorted({row.track_id for row in rows if row.track_id}):
                track = self.tracks.get(track_id)
                if track is None:
                    continue  # the track was removed: nothing more happens, nothing is lost
                taking = [i for i, step in enumerate(track.packs)
                          if step.pack in packs and packs[step.pack].status in FOLLOWING]
                if not taking or taking[-1] + 1 >= len(track.packs):
                    continue
                step = track.packs[taking[-1] + 1]
                if step.pack in packs and packs[step.pack].status == "left":
                    continue  # they left that pack on purpose
                found.append(_Candidate(track, packs[track.packs[taking[-1]].pack], step))
        return found

    def _plan(self, now: datetime) -> TrackPlan:
        result = TrackPlan()
        candidates = [c for c in self._candidates()
                      if self.catalog.get(c.current.pack_id) is not None and self.catalog.get(c.step.pack) is not None]
        if not candidates:
            return result
        progress = self.store.lessons_and_answers(c.current.enrollment_id for c in candidates)
        certified = self.store.certified([(c.current.learner_id, c.current.pack_id) for c in candidates
                                          if c.step.gate == "certificate"])
        for c in candidates:
            delivered, answered = progress[c.current.enrollment_id]
            pack = self.catalog.get(c.current.pack_id)
            finished = pack_finished(pack, delivered, answered, c.current.start_lesson_id)
            if not may_start(c.step, previous_finished=finished,
                             previous_certified=(c.current.learner_id, pack.id) in certified):
                continue
            try:
                self.store.enroll_in_track(c.current.learner_id, c.step.pack, c.track.id, now)
            except Exception:  # one learner's failure must not stop the others
                log.exception("could not enroll learner %s in %s (track %s)", c.current.learner_id, c.step.pack,
                              c.track.id)
                continue
            log.info("track %s: learner %s moves on to %s", c.track.id, c.current.learner_id, c.step.pack)
            result.enrolled.append((c.current.learner_id, c.step.pack, c.track.id))
        return result


__all__ = ["TrackPlan", "TrackPlanner"]
