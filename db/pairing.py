"""Storage for mentoring pairs: programmes, their rounds and pairs, "did you meet?" answers, and who is
out of the rounds. A repository of its own over the engine (one ``engine.begin()`` per unit of work).

Once-only lives in unique keys: one running programme per audience (``audience_key``), one round per
programme and number, one answer per person and pair, and each pair's two messages are outbox messages
whose dedupe keys name the pair (``pair_intro:<pair id>``, ``pair_check_in:<pair id>``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, and_, case, distinct, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from db.engine import reading
from db.models import (
    AuditEntry,
    Cohort,
    CohortMember,
    Delivery,
    Learner,
    OutboxMessage,
    Pair,
    PairAnswer,
    PairingPreference,
    PairingProgramme,
    PairingRound,
    PairMember,
)

INTRO = "pair_intro"
CHECK_IN = "pair_check_in"
_CHUNK = 1000


def intro_key(pair_id: int) -> str:
    return f"{INTRO}:{pair_id}"


def check_in_key(pair_id: int) -> str:
    return f"{CHECK_IN}:{pair_id}"


@dataclass(frozen=True)
class ProgrammeView:
    id: int
    cohort_id: int | None
    cohort_name: str | None
    channel_id: str | None
    every_weeks: int
    starts_at: datetime
    next_round_at: datetime | None
    status: str
    created_at: datetime
    rounds: int = 0
    pairs: int = 0
    meetings: int = 0  # pairs in which someone answered "yes, we met"


@dataclass(frozen=True)
class PairingPerson:
    learner_id: int
    slack_user_id: str
    name: str
    timezone: str | None
    slack_timezone: str | None
    role: str


@dataclass(frozen=True)
class UnopenedPair:
    pair_id: int
    round_id: int
    programme_id: int
    check_in_at: datetime
    members: tuple[PairingPerson, ...]


@dataclass(frozen=True)
class PairView:
    id: int
    round_id: int
    programme_id: int
    programme_status: str
    channel_id: str | None
    check_in_at: datetime
    every_weeks: int
    members: tuple[tuple[int, str], ...]  # (learner id, Slack user id)
    answers: dict[int, bool]  # learner id -> met


@dataclass(frozen=True)
class Preference:
    opted_out: bool
    snoozed_until: datetime | None


def _audit(conn, *, actor: str, action: str, subject: str | None, detail: dict | None, now: datetime) -> None:
    conn.execute(AuditEntry.__table__.insert().values(
        at=now, actor=actor[:64], action=action[:64], subject=subject[:200] if subject else None,
        detail=json.dumps(detail, separators=(",", ":"), default=str) if detail is not None else None,
    ))


_PERSON = (Learner.id, Learner.slack_user_id, Learner.name, Learner.timezone, Learner.slack_timezone, Learner.role)


def _person(row) -> PairingPerson:
    return PairingPerson(row[0], row[1], row[2] or "", row[3], row[4], row[5])


def met_pairs():
    """Pairs in which someone said they met, with the first such answer's time."""
    return (select(PairAnswer.pair_id, func.min(PairAnswer.answered_at).label("met_at"))
            .where(PairAnswer.met.is_(True)).group_by(PairAnswer.pair_id).subquery("met"))


class PairingRecords:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _insert(self, model):
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(model)
        if self.engine.dialect.name == "sqlite":
            return sqlite.insert(model)
        return insert(model)

    # -- programmes ------------------------------------------------------------------------

    def start_programme(
        self, *, cohort_id: int | None, channel_id: str | None, every_weeks: int, created_by: int | None,
        actor: str, now: datetime,
    ) -> ProgrammeView | None:
        """A running programme whose first round is due at once; None if one already runs for that audience
        (a second command, or a retried one)."""
        audience = f"cohort:{cohort_id}" if cohort_id is not None else f"channel:{channel_id}"
        with self.engine.begin() as conn:
            programme_id = conn.execute(
                self._insert(PairingProgramme)
                .values(cohort_id=cohort_id, channel_id=channel_id, audience_key=audience, every_weeks=every_weeks,
                        starts_at=now, next_round_at=now, status="active", created_by=created_by, created_at=now)
                .on_conflict_do_nothing(index_elements=["audience_key"])
                .returning(PairingProgramme.id)
            ).scalar()
            if programme_id is None:
                return None
            _audit(conn, actor=actor, action="pairs_start", subject=f"pairs:{programme_id}",
                   detail={"audience": audience, "every_weeks": every_weeks}, now=now)
        return self.programme(programme_id)

    def _programmes(self, *where) -> list[ProgrammeView]:
        met = met_pairs()
        rounds = (select(PairingRound.programme_id, func.count(distinct(PairingRound.id)).label("rounds"),
                         func.count(distinct(Pair.id)).label("pairs"),
                         func.count(distinct(met.c.pair_id)).label("meetings"))
                  .outerjoin(Pair, Pair.round_id == PairingRound.id)
                  .outerjoin(met, met.c.pair_id == Pair.id)
                  .group_by(PairingRound.programme_id).subquery())
        z = func.coalesce
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(PairingProgramme.__table__, Cohort.name.label("cohort_name"), z(rounds.c.rounds, 0),
                       z(rounds.c.pairs, 0), z(rounds.c.meetings, 0))
                .outerjoin(Cohort, Cohort.id == PairingProgramme.cohort_id)
                .outerjoin(rounds, rounds.c.programme_id == PairingProgramme.id)
                .where(*where).order_by(PairingProgramme.id)
            ).all()
        return [ProgrammeView(r.id, r.cohort_id, r.cohort_name, r.channel_id, r.every_weeks, r.starts_at,
                              r.next_round_at, r.status, r.created_at, int(r[-3]), int(r[-2]), int(r[-1]))
                for r in rows]

    def programme(self, programme_id: int) -> ProgrammeView | None:
        found = self._programmes(PairingProgramme.id == programme_id)
        return found[0] if found else None

    def active_programmes(self) -> list[ProgrammeView]:
        return self._programmes(PairingProgramme.status == "active")

    def due_programmes(self, now: datetime) -> list[ProgrammeView]:
        """Running programmes whose next round has come (ix_pairing_programmes_next_round_at)."""
        return self._programmes(PairingProgramme.status == "active", PairingProgramme.next_round_at <= now)

    def stop_programme(self, programme_id: int, *, actor: str, now: datetime) -> bool:
        """No more rounds; the messages of its pairs not sent yet (a check-in still to come) are cancelled."""
        with self.engine.begin() as conn:
            stopped = conn.execute(
                update(PairingProgramme)
                .where(PairingProgramme.id == programme_id, PairingProgramme.status == "active")
                .values(status="stopped", audience_key=None, next_round_at=None, stopped_at=now)
            ).rowcount
            if not stopped:
                return False
            pair_ids = list(conn.execute(
                select(Pair.id).join(PairingRound, PairingRound.id == Pair.round_id)
                .where(PairingRound.programme_id == programme_id)).scalars())
            keys = [k for p in pair_ids for k in (intro_key(p), check_in_key(p))]
            for start in range(0, len(keys), _CHUNK):
                conn.execute(update(OutboxMessage)
                             .where(OutboxMessage.dedupe_key.in_(keys[start:start + _CHUNK]),
                                    OutboxMessage.status == "pending")
                             .values(status="cancelled", last_error="pairing stopped", claimed_by=None))
            _audit(conn, actor=actor, action="pairs_stop", subject=f"pairs:{programme_id}", detail=None, now=now)
        return True

    # -- who takes part ----------------------------------------------------------------------

    def _in_rounds(self, now: datetime):
        """Active learners who are neither opted out nor snoozed at ``now``."""
        out = (select(PairingPreference.learner_id)
               .where(or_(PairingPreference.opted_out.is_(True), PairingPreference.snoozed_until > now)))
        return and_(Learner.active.is_(True), Learner.id.not_in(out))

    def cohort_people(self, cohort_id: int, now: datetime) -> list[PairingPerson]:
        with reading(self.engine) as conn:
            return [_person(r) for r in conn.execute(
                select(*_PERSON).join(CohortMember, CohortMember.learner_id == Learner.id)
                .where(CohortMember.cohort_id == cohort_id, self._in_rounds(now)).order_by(Learner.id))]

    def people_by_slack_id(self, slack_user_ids: Iterable[str], now: datetime) -> list[PairingPerson]:
        """The known learners among these Slack ids (a channel's members) who take part at ``now``."""
        ids = sorted(set(slack_user_ids))
        out: list[PairingPerson] = []
        with reading(self.engine) as conn:
            for start in range(0, len(ids), _CHUNK):
                out += [_person(r) for r in conn.execute(
                    select(*_PERSON).where(Learner.slack_user_id.in_(ids[start:start + _CHUNK]),
                                           self._in_rounds(now)))]
        return sorted(out, key=lambda p: p.learner_id)

    def groups_of(self, learner_ids: Iterable[int]) -> list[tuple[date, tuple[int, ...]]]:
        """Every past group (in any programme) that had one of these learners: (the round's start date,
        its members) — the history the next round avoids repeating."""
        ids = sorted(set(learner_ids))
        if not ids:
            return []
        theirs = select(PairMember.pair_id).where(PairMember.learner_id.in_(ids)).distinct()
        groups: dict[int, tuple[datetime, list[int]]] = {}
        with reading(self.engine) as conn:
            for pair_id, started_at, learner_id in conn.execute(
                select(Pair.id, PairingRound.started_at, PairMember.learner_id)
                .join(PairingRound, PairingRound.id == Pair.round_id)
                .join(PairMember, PairMember.pair_id == Pair.id)
                .where(Pair.id.in_(theirs)).order_by(Pair.id)
            ):
                groups.setdefault(pair_id, (started_at, []))[1].append(learner_id)
        return [(started.date(), tuple(members)) for started, members in groups.values()]

    # -- rounds ------------------------------------------------------------------------------

    def create_round(
        self, *, programme_id: int, number: int, started_at: datetime, check_in_at: datetime,
        next_round_at: datetime, groups: Sequence[Sequence[int]], now: datetime,
    ) -> int | None:
        """The round, its pairs and their members, and the programme's next due instant, together. None if the
        round exists already (another planner made it) or the programme was stopped meanwhile."""
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(PairingProgramme)
                .where(PairingProgramme.id == programme_id, PairingProgramme.status == "active")
                .values(next_round_at=next_round_at)
            ).rowcount
            if not moved:
                return None
            round_id = conn.execute(
                self._insert(PairingRound)
                .values(programme_id=programme_id, number=number, started_at=started_at, check_in_at=check_in_at)
                .on_conflict_do_nothing(index_elements=["programme_id", "number"])
                .returning(PairingRound.id)
            ).scalar()
            if round_id is None:
                return None
            for group in groups:
                pair_id = conn.execute(
                    Pair.__table__.insert().values(round_id=round_id, created_at=now).returning(Pair.id)
                ).scalar_one()
                conn.execute(PairMember.__table__.insert(),
                             [{"pair_id": pair_id, "learner_id": learner_id} for learner_id in group])
        return round_id

    def skip_round(self, programme_id: int, next_round_at: datetime) -> None:
        """Too few people to pair this time: try again at the next round's time."""
        with self.engine.begin() as conn:
            conn.execute(update(PairingProgramme)
                         .where(PairingProgramme.id == programme_id, PairingProgramme.status == "active")
                         .values(next_round_at=next_round_at))

    def unopened_pairs(self, now: datetime, limit: int = 200) -> list[UnopenedPair]:
        """Pairs of running programmes whose group DM is not open yet, while their round's check-in is still
        ahead (a pair that could not be opened for half a round is left alone)."""
        with reading(self.engine) as conn:
            heads = conn.execute(
                select(Pair.id, Pair.round_id, PairingRound.programme_id, PairingRound.check_in_at)
                .join(PairingRound, PairingRound.id == Pair.round_id)
                .join(PairingProgramme, PairingProgramme.id == PairingRound.programme_id)
                .where(Pair.channel_id.is_(None), PairingProgramme.status == "active",
                       PairingRound.check_in_at > now)
                .order_by(Pair.id).limit(limit)
            ).all()
            if not heads:
                return []
            members: dict[int, list[PairingPerson]] = {}
            for row in conn.execute(select(PairMember.pair_id, *_PERSON)
                                    .join(Learner, Learner.id == PairMember.learner_id)
                                    .where(PairMember.pair_id.in_([h.id for h in heads]))
                                    .order_by(PairMember.pair_id, Learner.id)):
                members.setdefault(row[0], []).append(_person(row[1:]))
        return [UnopenedPair(h.id, h.round_id, h.programme_id, h.check_in_at, tuple(members.get(h.id, ())))
                for h in heads]

    def pair_opened(self, pair_id: int, *, channel_id: str, intro: dict, check_in_at: datetime,
                    now: datetime) -> bool:
        """The pair's group DM, and its first prompt and its one "did you meet?" queued, together (once)."""
        with self.engine.begin() as conn:
            opened = conn.execute(
                update(Pair).where(Pair.id == pair_id, Pair.channel_id.is_(None))
                .values(channel_id=channel_id, opened_at=now)
            ).rowcount
            if not opened:
                return False
            rows = [
                {"kind": INTRO, "dedupe_key": intro_key(pair_id), "channel": channel_id, "not_before": now,
                 "payload": json.dumps({"pair": pair_id, **intro}, separators=(",", ":"))},
                {"kind": CHECK_IN, "dedupe_key": check_in_key(pair_id), "channel": channel_id,
                 "not_before": check_in_at, "payload": json.dumps({"pair": pair_id}, separators=(",", ":"))},
            ]
            conn.execute(self._insert(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"]),
                         [{**r, "status": "pending", "attempts": 0, "created_at": now} for r in rows])
        return True

    def pair(self, pair_id: int) -> PairView | None:
        with reading(self.engine) as conn:
            head = conn.execute(
                select(Pair.id, Pair.round_id, PairingRound.programme_id, PairingProgramme.status, Pair.channel_id,
                       PairingRound.check_in_at, PairingProgramme.every_weeks)
                .join(PairingRound, PairingRound.id == Pair.round_id)
                .join(PairingProgramme, PairingProgramme.id == PairingRound.programme_id)
                .where(Pair.id == pair_id)
            ).first()
            if head is None:
                return None
            members = tuple((r[0], r[1]) for r in conn.execute(
                select(Learner.id, Learner.slack_user_id).join(PairMember, PairMember.learner_id == Learner.id)
                .where(PairMember.pair_id == pair_id).order_by(Learner.id)))
            answers = {r[0]: bool(r[1]) for r in conn.execute(
                select(PairAnswer.learner_id, PairAnswer.met).where(PairAnswer.pair_id == pair_id))}
        return PairView(head[0], head[1], head[2], head[3], head[4], head[5], head[6], members, answers)

    def record_answer(self, pair_id: int, learner_id: int, met: bool, now: datetime) -> bool:
        """"Did you meet?" from one member, once: False for a second click (or a retried request)."""
        with self.engine.begin() as conn:
            return conn.execute(
                self._insert(PairAnswer)
                .values(pair_id=pair_id, learner_id=learner_id, met=met, answered_at=now)
                .on_conflict_do_nothing(index_elements=["pair_id", "learner_id"])
                .returning(PairAnswer.id)
            ).scalar() is not None

    def recent_lessons(self, learner_ids: Sequence[int]) -> dict[int, list[tuple[str, str, datetime]]]:
        """Per learner, the lessons sent to them, newest first: (pack id, lesson id, sent at)."""
        out: dict[int, list[tuple[str, str, datetime]]] = {i: [] for i in learner_ids}
        if not learner_ids:
            return out
        with reading(self.engine) as conn:
            for learner_id, pack_id, lesson_id, sent_at in conn.execute(
                select(Delivery.learner_id, Delivery.pack_id, Delivery.lesson_id, Delivery.sent_at)
                .where(Delivery.learner_id.in_(list(learner_ids)), Delivery.status == "sent",
                       Delivery.sent_at.is_not(None))
                .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
            ):
                out[learner_id].append((pack_id, lesson_id, sent_at))
        return out

    # -- in and out --------------------------------------------------------------------------

    def preference(self, learner_id: int) -> Preference:
        with reading(self.engine) as conn:
            row = conn.execute(select(PairingPreference.opted_out, PairingPreference.snoozed_until)
                               .where(PairingPreference.learner_id == learner_id)).first()
        return Preference(bool(row[0]), row[1]) if row else Preference(False, None)

    def set_preference(self, learner_id: int, *, opted_out: bool, snoozed_until: datetime | None,
                       now: datetime) -> None:
        values = {"opted_out": opted_out, "snoozed_until": snoozed_until, "updated_at": now}
        with self.engine.begin() as conn:
            conn.execute(self._insert(PairingPreference).values(learner_id=learner_id, **values)
                         .on_conflict_do_update(index_elements=["learner_id"], set_=values))

    def current_pairs_of(self, learner_id: int) -> list[tuple[int, str | None, tuple[str, ...]]]:
        """The pairs of a learner in running programmes' latest rounds: (pair id, group DM, Slack ids)."""
        latest = (select(PairingRound.programme_id, func.max(PairingRound.number).label("n"))
                  .group_by(PairingRound.programme_id).subquery())
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(Pair.id, Pair.channel_id)
                .join(PairMember, PairMember.pair_id == Pair.id)
                .join(PairingRound, PairingRound.id == Pair.round_id)
                .join(latest, and_(latest.c.programme_id == PairingRound.programme_id,
                                   latest.c.n == PairingRound.number))
                .join(PairingProgramme, PairingProgramme.id == PairingRound.programme_id)
                .where(PairMember.learner_id == learner_id, PairingProgramme.status == "active")
                .order_by(Pair.id)
            ).all()
            out = []
            for pair_id, channel_id in rows:
                others = tuple(conn.execute(
                    select(Learner.slack_user_id).join(PairMember, PairMember.learner_id == Learner.id)
                    .where(PairMember.pair_id == pair_id, Learner.id != learner_id).order_by(Learner.id)).scalars())
                out.append((pair_id, channel_id, others))
        return out

    # -- figures -----------------------------------------------------------------------------

    def meetings(self, since: datetime, until: datetime) -> int:
        """Pairs that met (someone said so) with the first "yes" in [since, until)."""
        met = met_pairs()
        with reading(self.engine) as conn:
            return int(conn.execute(select(func.count()).select_from(met)
                                    .where(met.c.met_at >= since, met.c.met_at < until)).scalar() or 0)

    def answers_by_round(self, round_id: int) -> dict[str, int]:
        with reading(self.engine) as conn:
            row = conn.execute(
                select(func.count(distinct(case((PairAnswer.met.is_(True), PairAnswer.pair_id)))),
                       func.count(distinct(PairAnswer.pair_id)))
                .join(Pair, Pair.id == PairAnswer.pair_id).where(Pair.round_id == round_id)
            ).one()
        return {"met": int(row[0]), "answered": int(row[1])}


__all__ = [
    "CHECK_IN", "INTRO", "PairView", "PairingPerson", "PairingRecords", "Preference", "ProgrammeView",
    "UnopenedPair", "check_in_key", "intro_key", "met_pairs",
]
