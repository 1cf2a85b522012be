"""Mentoring pairs' rounds, when the database says one is due: who is in, who meets whom (the rules are in
``learning.pairing``), then each group's DM opened and its two messages queued in the outbox.

A round is made once (its number is worked out from the programme's start, and unique), so a second
planner, a restart or a retry makes nothing twice. Opening a group DM asks Slack (a port given by
``bot/``): ``conversations.open`` gives the same conversation for the same people, so a crash between
opening it and recording it costs a second call, never a second message — the messages are queued only
with the recorded channel, under dedupe keys that name the pair.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from db.pairing import PairingPerson, PairingRecords, ProgrammeView
from learning.pairing import (
    Candidate,
    check_in_at,
    history_from,
    match,
    mentor_mix,
    pair_lesson,
    round_due,
    round_starts,
)
from learning.schedule import resolve_zone

log = logging.getLogger(__name__)

ChannelMembers = Callable[[str], Sequence[str]]  # a channel id -> its members' Slack ids
OpenGroup = Callable[[Sequence[str]], str]  # Slack user ids -> the group DM's channel id


@dataclass
class PairingPlan:
    rounds: list[int] = field(default_factory=list)
    pairs: int = 0
    opened: list[int] = field(default_factory=list)


class PairingPlanner:
    def __init__(self, *, records: PairingRecords, channel_members: ChannelMembers, open_group: OpenGroup,
                 default_timezone: str = "UTC") -> None:
        self.records = records
        self.channel_members = channel_members
        self.open_group = open_group
        self.default_timezone = default_timezone

    def plan(self, now: datetime) -> PairingPlan:
        plan = PairingPlan()
        for programme in self.records.due_programmes(now):
            try:
                self.run_round(programme, now, plan)
            except Exception:  # Slack down while reading a channel: the round is still due next time
                log.exception("pairing programme %s: round not made; will retry", programme.id)
        self.open_pairs(now, plan)
        return plan

    def people(self, programme: ProgrammeView, now: datetime) -> list[PairingPerson]:
        if programme.cohort_id is not None:
            return self.records.cohort_people(programme.cohort_id, now)
        return self.records.people_by_slack_id(self.channel_members(programme.channel_id or ""), now)

    def run_round(self, programme: ProgrammeView, now: datetime, plan: PairingPlan) -> None:
        number = round_due(programme.starts_at, programme.every_weeks, now)
        if number == 0:
            return
        started = round_starts(programme.starts_at, programme.every_weeks, number)
        after = round_starts(programme.starts_at, programme.every_weeks, number + 1)
        people = self.people(programme, now)
        if len(people) < 2:
            log.info("pairing programme %s: %d people in, no round %d", programme.id, len(people), number)
            self.records.skip_round(programme.id, after)
            return
        candidates = [Candidate(p.learner_id, resolve_zone(p.timezone, p.slack_timezone, default=self.default_timezone),
                                mentor=p.role == "mentor") for p in people]
        history = history_from(self.records.groups_of(c.key for c in candidates))
        # People whose stored role is mentor are paired with someone who is not, where the numbers allow.
        mentors = {c.key for c in candidates if c.mentor}
        groups = match(candidates, history, on=started.date(), seed=programme.id * 1_000_003 + number,
                       extra=mentor_mix(mentors) if mentors else None)
        round_id = self.records.create_round(programme_id=programme.id, number=number, started_at=started,
                                             check_in_at=check_in_at(started, programme.every_weeks),
                                             next_round_at=after, groups=groups, now=now)
        if round_id is not None:
            plan.rounds.append(round_id)
            plan.pairs += len(groups)
            log.info("pairing programme %s: round %d, %d groups", programme.id, number, len(groups))

    def open_pairs(self, now: datetime, plan: PairingPlan) -> None:
        for pair in self.records.unopened_pairs(now):
            ids = [m.slack_user_id for m in pair.members]
            if len(ids) < 2:
                continue
            try:
                channel = self.open_group(ids)
            except Exception as exc:  # one pair's failure (a member deactivated meanwhile) never stops the rest
                log.warning("pair %s: group DM not opened, will retry: %s", pair.pair_id, exc)
                continue
            lesson = pair_lesson(self.records.recent_lessons([m.learner_id for m in pair.members]))
            intro = {"pack": lesson[0], "lesson": lesson[1]} if lesson else {}
            if self.records.pair_opened(pair.pair_id, channel_id=channel, intro=intro, check_in_at=pair.check_in_at,
                                        now=now):
                plan.opened.append(pair.pair_id)


__all__ = ["ChannelMembers", "OpenGroup", "PairingPlan", "PairingPlanner"]
