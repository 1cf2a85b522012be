"""Reporting: what digests and the organisation report count, aggregated in SQL.

Every figure is a GROUP BY in the database, never a loop over records in Python. Digest
queries take many *scopes* at once — a manager's direct reports, a team, or everyone, each
with its own week in its own time zone — passed as a ``VALUES`` CTE, so the outbox renders a
batch of digests with one query per kind of figure, however many managers are in it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    Float,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    column,
    distinct,
    exists,
    func,
    or_,
    select,
    union_all,
    update,
    values,
)
from sqlalchemy.dialects import postgresql, sqlite

from db.contributions import ACCEPTED
from db.engine import reading
from db.learning_records import _card_view, adopted_parameter_sets
from db.models import (
    Answer,
    Certificate,
    Contribution,
    Delivery,
    DiscussionPrompt,
    Enrollment,
    Feedback,
    HandledFlag,
    Learner,
    OrgSetting,
    OutboxMessage,
    PackContribution,
    PairMember,
    PromptPost,
    Review,
    ReviewCard,
)
from db.pairing import met_pairs
from db.types import UTCDateTime
from learning.digest import (
    CertificateEarned,
    ChartWeek,
    Comment,
    DigestWeek,
    MemberWeek,
    MissedQuestion,
    TeamWeek,
    WeekPoint,
)
from learning.itemstats import ItemSums
from learning.recall import OpenCard
from learning.review import ParameterSets

ENROLLED = ("active", "completed")
HOUR_COST_KEY = "learner_hour_cost"


@dataclass(frozen=True)
class Scope:
    """Whose records a digest counts, over which week.

    ``kind``: "manager" (``value`` = the manager's Slack user id: their direct reports),
    "team" (``value`` = the roster's team name) or "everyone".
    """

    key: str
    kind: str
    value: str | None
    week: DigestWeek


@dataclass(frozen=True)
class Person:
    """Someone who may ask for, or receive, a digest."""

    id: int
    slack_user_id: str
    name: str
    role: str
    timezone: str | None
    slack_timezone: str | None
    dm_channel_id: str | None
    digest_day: str | None
    digest_time: str | None
    digest_off: bool
    active: bool
    reports: int  # how many active learners name them as their manager
    language: str | None = None  # their choice (/learn language); None: Slack's locale
    slack_locale: str | None = None


@dataclass(frozen=True)
class ClaimedMessage:
    """An outbox message a dispatcher has claimed and not yet sent."""

    id: int
    kind: str
    channel: str
    attempts: int
    learner_id: int | None
    payload: dict | None
    claimed_at: datetime
    claimed_by: str


@dataclass(frozen=True)
class GroupOutcome:
    """A pack's or a team's records over the report's period."""

    group: str  # pack id, or team name ("" for people without a team)
    figures: TeamWeek
    reviews: int
    reviews_right: int

    @property
    def retention(self) -> float | None:
        return self.reviews_right / self.reviews if self.reviews else None


@dataclass(frozen=True)
class LessonFeedback:
    pack_id: str
    lesson_id: str
    ratings: int
    average_rating: float | None
    reasons: dict[str, int]
    comments: tuple[str, ...]


FEW_SCOPES = 50  # up to this many managers, their learners' answers are looked up learner by learner


def _answers_between(scopes: Sequence[Scope], low: datetime, high: datetime, *columns):
    """Where a digest query reads answers from, for answers given in ``[low, high)``.

    For a batch of a few managers (the dispatcher draws 25 at a time) each learner's answers are
    looked up through ``ix_answers_learner_id``. For many managers, a team or everyone, the window
    is read once by time (``ix_answers_answered_at``) into a CTE computed once (``AS MATERIALIZED``)
    and matched to the learners: a week or two is a few percent of everyone's history.
    """
    if len(scopes) <= FEW_SCOPES and all(s.kind == "manager" for s in scopes):
        return Answer.__table__
    cols = columns or (Answer.learner_id, Answer.delivery_id, Answer.correct, Answer.answered_at)
    return (
        select(*cols)
        .where(Answer.answered_at >= low, Answer.answered_at < high)
        .cte("answers_window")
        .prefix_with("MATERIALIZED")
    )


SCOPE_TEXT = ("scope_key", "kind", "value")
SCOPE_TIMES = ("cur_start", "cur_end", "prev_start", "prev_end", "att_start", "as_of", "exp_until")


@lru_cache(maxsize=16)
def _scopes_json(scopes: tuple[Scope, ...], sqlite_db: bool) -> str:
    """The scopes as JSON rows (cached: a batch's five queries share one list)."""

    def instant(value: datetime) -> str:
        value = value.astimezone(UTC)
        # SQLite compares the stored text: the exact format UTCDateTime writes there.
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite_db else value.isoformat()

    rows = [
        dict(zip(SCOPE_TEXT + SCOPE_TIMES,
                 (s.key, s.kind, s.value, *map(instant, (s.week.start, s.week.end, s.week.prev_start, s.week.prev_end,
                                                           s.week.attention_start, s.week.as_of,
                                                           s.week.expiry_until))),
                 strict=True))
        for s in scopes
    ]
    return json.dumps(rows, separators=(",", ":"))


def _one(condition) -> object:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class Reporting:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- people and their digest settings ------------------------------------------------------------

    def _people(self, *where) -> list[Person]:
        reports = (
            select(Learner.manager_slack_user_id.label("manager"), func.count().label("n"))
            .where(Learner.manager_slack_user_id.is_not(None), Learner.active.is_(True))
            .group_by(Learner.manager_slack_user_id)
            .subquery()
        )
        stmt = (
            select(
                Learner.id, Learner.slack_user_id, Learner.name, Learner.role, Learner.timezone,
                Learner.slack_timezone, Learner.dm_channel_id, Learner.digest_day, Learner.digest_time,
                Learner.digest_off, Learner.active, Learner.language, Learner.slack_locale,
                func.coalesce(reports.c.n, 0),
            )
            .outerjoin(reports, reports.c.manager == Learner.slack_user_id)
            .where(*where)
            .order_by(Learner.id)
        )
        with reading(self.engine) as conn:
            return [Person(*row[:-3], reports=int(row[-1]), language=row[-3], slack_locale=row[-2])
                    for row in conn.execute(stmt)]

    def person(self, slack_user_id: str) -> Person | None:
        found = self._people(Learner.slack_user_id == slack_user_id)
        return found[0] if found else None

    def people_by_id(self, ids: Iterable[int]) -> dict[int, Person]:
        ids = sorted(set(ids))
        return {p.id: p for p in self._people(Learner.id.in_(ids))} if ids else {}

    def teams(self) -> list[str]:
        with reading(self.engine) as conn:
            return list(conn.execute(
                select(Learner.team).where(Learner.team.is_not(None), Learner.active.is_(True))
                .group_by(Learner.team).order_by(Learner.team)
            ).scalars())

    def digest_recipients(self) -> list[Person]:
        """Active managers — by role, or because some active learner names them — with their settings."""
        managed = select(Learner.manager_slack_user_id).where(
            Learner.manager_slack_user_id.is_not(None), Learner.active.is_(True)
        )
        return self._people(
            Learner.active.is_(True),
            or_(Learner.role == "manager", Learner.slack_user_id.in_(managed)),
        )

    def set_digest_preferences(self, learner_id: int, now: datetime, **values_) -> None:
        """``digest_day`` ("mon".."sun"), ``digest_time`` ("HH:MM"), ``digest_off``."""
        unknown = set(values_) - {"digest_day", "digest_time", "digest_off"}
        if unknown:
            raise ValueError(f"not a digest preference: {sorted(unknown)}")
        with self.engine.begin() as conn:
            conn.execute(update(Learner).where(Learner.id == learner_id).values(updated_at=now, **values_))

    def existing_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these outbox dedupe keys are already queued (or sent): the planner skips them."""
        found: set[str] = set()
        with reading(self.engine) as conn:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                found.update(conn.execute(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk)))
                             .scalars())
        return found

    def claimed_with(self, worker: str, claimed_at: datetime, kinds: Sequence[str]) -> list[ClaimedMessage]:
        """The outbox messages of these kinds that ``worker`` claimed at ``claimed_at`` and is still sending:
        the rest of a dispatcher's batch, which a renderer may prepare at once."""
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.channel, OutboxMessage.attempts,
                       OutboxMessage.learner_id, OutboxMessage.payload, OutboxMessage.claimed_at,
                       OutboxMessage.claimed_by)
                .where(OutboxMessage.status == "sending", OutboxMessage.claimed_by == worker,
                       OutboxMessage.claimed_at == claimed_at, OutboxMessage.kind.in_(list(kinds)))
                .order_by(OutboxMessage.id)
            ).all()
        return [ClaimedMessage(r.id, r.kind, r.channel, r.attempts, r.learner_id,
                               json.loads(r.payload) if r.payload else None, r.claimed_at, r.claimed_by) for r in rows]

    def sent_message(self, dedupe_key: str) -> tuple[str, str] | None:
        """Where and when the outbox message with this key went, once it has been sent."""
        with reading(self.engine) as conn:
            row = conn.execute(
                select(OutboxMessage.sent_channel, OutboxMessage.sent_ts)
                .where(OutboxMessage.dedupe_key == dedupe_key, OutboxMessage.status == "sent")
            ).first()
        return (row.sent_channel, row.sent_ts) if row and row.sent_channel and row.sent_ts else None

    # -- what the team remembers (spaced review) -----------------------------------------------------

    def open_cards(self) -> list[OpenCard]:
        """Every review card still in play (not retired), with its FSRS state."""
        with reading(self.engine) as conn:
            return [OpenCard(r.learner_id, r.pack_id, r.lesson_id, r.question_id, _card_view(r).state)
                    for r in conn.execute(select(ReviewCard.__table__).where(ReviewCard.retired_at.is_(None))
                                          .order_by(ReviewCard.id))]

    def latest_fsrs_fits(self) -> list:
        """The newest ``review optimize`` fit of the workspace (pack_id None) and of each pack with its own."""
        from db.models import FsrsFit

        ranked = select(FsrsFit.__table__, func.row_number().over(
            partition_by=FsrsFit.pack_id, order_by=(FsrsFit.fitted_at.desc(), FsrsFit.id.desc())).label("n")).subquery()
        with reading(self.engine) as conn:
            return list(conn.execute(select(ranked).where(ranked.c.n == 1)
                                     .order_by(ranked.c.pack_id.is_not(None), ranked.c.pack_id)))

    def fsrs_parameter_sets(self) -> ParameterSets:
        """The workspace's and each pack's own adopted parameters."""
        with reading(self.engine) as conn:
            return adopted_parameter_sets(conn)

    # -- organisation settings -----------------------------------------------------------------------

    def setting(self, key: str) -> str | None:
        with reading(self.engine) as conn:
            return conn.execute(select(OrgSetting.value).where(OrgSetting.key == key)).scalar()

    def set_setting(self, key: str, value: str, now: datetime, *, by: str | None = None) -> None:
        dialect = self.engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(OrgSetting).values(key=key, value=value, updated_at=now, updated_by=by)
        stmt = stmt.on_conflict_do_update(index_elements=["key"],
                                          set_={"value": value, "updated_at": now, "updated_by": by})
        with self.engine.begin() as conn:
            conn.execute(stmt)

    # -- digest scopes -------------------------------------------------------------------------------

    def _scopes(self, scopes: Sequence[Scope]):
        """The scopes as a CTE read from one JSON parameter (``json_each`` / ``json_to_recordset``).

        One parameter, whatever the number of scopes, so the statement's shape never changes and
        SQLAlchemy compiles it once; a VALUES list of 500 managers took longer to compile than to run.
        """
        sqlite_db = self.engine.dialect.name == "sqlite"
        data = bindparam("scopes_json", _scopes_json(tuple(scopes), sqlite_db), type_=String)
        if sqlite_db:
            each = func.json_each(data).table_valued("value")
            return select(
                *[func.json_extract(each.c.value, f"$.{name}").label(name) for name in SCOPE_TEXT],
                *[cast(func.json_extract(each.c.value, f"$.{name}"), String).label(name) for name in SCOPE_TIMES],
            ).cte("scopes")
        record = func.json_to_recordset(cast(data, JSON)).table_valued(
            *[column(name, String) for name in SCOPE_TEXT],
            *[column(name, DateTime(timezone=True)) for name in SCOPE_TIMES],
        ).render_derived(name="scope_rows", with_types=True)
        return select(*[record.c[name] for name in SCOPE_TEXT + SCOPE_TIMES]).cte("scopes")

    @staticmethod
    def _members(scopes_cte, kinds: set[str]):
        """(scope, learner) for every active learner a scope covers, with the scope's windows."""
        s = scopes_cte
        cols = [s.c.scope_key, Learner.id.label("learner_id"), s.c.cur_start, s.c.cur_end, s.c.prev_start,
                s.c.prev_end, s.c.att_start, s.c.as_of, s.c.exp_until]
        parts = []

        def of_kind(kind: str, condition):
            # With one kind of scope the kind test is left out: the planner would take it for a reason
            # to look scopes up by kind, inside out, instead of walking from the scopes to their learners.
            return condition if len(kinds) == 1 else and_(s.c.kind == kind, condition)

        if "manager" in kinds:
            parts.append(select(*cols).join_from(s, Learner, of_kind("manager",
                                                                     Learner.manager_slack_user_id == s.c.value))
                         .where(Learner.active.is_(True)))
        if "team" in kinds:
            parts.append(select(*cols).join_from(s, Learner, of_kind("team", Learner.team == s.c.value))
                         .where(Learner.active.is_(True)))
        if "everyone" in kinds:
            parts.append(select(*cols).join_from(s, Learner, s.c.kind == "everyone").where(Learner.active.is_(True)))
        # A subquery, not a CTE: with one kind of scope it is a plain join the planner can flatten, so
        # it sees how few learners a batch of scopes covers and walks their records by learner_id.
        return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("members")

    @staticmethod
    def _bounds(scopes: Sequence[Scope]) -> tuple[datetime, datetime]:
        """The earliest and latest instants any scope looks at: a range the time indexes can use."""
        low = min(min(s.week.prev_start, s.week.attention_start) for s in scopes)
        high = max(max(s.week.end, s.week.as_of) for s in scopes)
        return low, high

    def team_weeks_statement(self, scopes: Sequence[Scope]):
        """The one query behind a digest's figures: per scope, this week and the week before."""
        s = self._scopes(scopes)
        m = self._members(s, {x.kind for x in scopes})
        low, high = self._bounds(scopes)

        def cur(col):
            return and_(col >= m.c.cur_start, col < m.c.cur_end)

        def prev(col):
            return and_(col >= m.c.prev_start, col < m.c.prev_end)

        def around(col):
            return [col >= m.c.prev_start, col < m.c.cur_end, col >= low, col < high]

        answered = exists().where(Answer.delivery_id == Delivery.id)
        # The status test stays inside the sums: in WHERE, SQLite would build a throwaway index on
        # status (a scan of every delivery) instead of walking the learners' deliveries.
        sent = Delivery.status == "sent"
        delivered = (
            select(
                m.c.scope_key,
                _one(and_(sent, cur(Delivery.sent_at))).label("cur_delivered"),
                _one(and_(sent, cur(Delivery.sent_at), answered)).label("cur_answered"),
                _one(and_(sent, prev(Delivery.sent_at))).label("prev_delivered"),
                _one(and_(sent, prev(Delivery.sent_at), answered)).label("prev_answered"),
            )
            .join_from(m, Delivery, Delivery.learner_id == m.c.learner_id)
            .where(*around(Delivery.sent_at))
            .group_by(m.c.scope_key)
            .subquery()
        )
        a = _answers_between(scopes, low, high)
        right = a.c.correct.is_(True)
        answers = (
            select(
                m.c.scope_key,
                func.count(distinct(case((cur(a.c.answered_at), a.c.learner_id)))).label("cur_active"),
                _one(cur(a.c.answered_at)).label("cur_answers"),
                _one(and_(cur(a.c.answered_at), right)).label("cur_correct"),
                func.count(distinct(case((prev(a.c.answered_at), a.c.learner_id)))).label("prev_active"),
                _one(prev(a.c.answered_at)).label("prev_answers"),
                _one(and_(prev(a.c.answered_at), right)).label("prev_correct"),
            )
            .join_from(m, a, a.c.learner_id == m.c.learner_id)
            .where(*around(a.c.answered_at))
            .group_by(m.c.scope_key)
            .subquery()
        )
        rated = Feedback.rating.is_not(None)
        ratings = (
            select(
                m.c.scope_key,
                _one(and_(rated, cur(Feedback.rated_at))).label("cur_ratings"),
                func.coalesce(func.sum(case((cur(Feedback.rated_at), Feedback.rating), else_=0)), 0)
                .label("cur_rating_sum"),
                _one(and_(rated, prev(Feedback.rated_at))).label("prev_ratings"),
                func.coalesce(func.sum(case((prev(Feedback.rated_at), Feedback.rating), else_=0)), 0)
                .label("prev_rating_sum"),
            )
            .join_from(m, Feedback, Feedback.learner_id == m.c.learner_id)
            .where(rated, *around(Feedback.rated_at))
            .group_by(m.c.scope_key)
            .subquery()
        )
        certificates = (
            select(
                m.c.scope_key,
                _one(cur(Certificate.issued_at)).label("cur_certificates"),
                _one(prev(Certificate.issued_at)).label("prev_certificates"),
            )
            .join_from(m, Certificate, Certificate.learner_id == m.c.learner_id)
            .where(*around(Certificate.issued_at))
            .group_by(m.c.scope_key)
            .subquery()
        )
        contributions = (
            select(
                m.c.scope_key,
                _one(cur(Contribution.created_at)).label("cur_contributions"),
                _one(prev(Contribution.created_at)).label("prev_contributions"),
            )
            .join_from(m, Contribution, Contribution.learner_id == m.c.learner_id)
            .where(*around(Contribution.created_at))
            .group_by(m.c.scope_key)
            .subquery()
        )
        met = met_pairs()
        meetings = (
            select(
                m.c.scope_key,
                func.count(distinct(case((cur(met.c.met_at), met.c.pair_id)))).label("cur_meetings"),
                func.count(distinct(case((prev(met.c.met_at), met.c.pair_id)))).label("prev_meetings"),
            )
            .join_from(m, PairMember, PairMember.learner_id == m.c.learner_id)
            .join(met, met.c.pair_id == PairMember.pair_id)
            .where(*around(met.c.met_at))
            .group_by(m.c.scope_key)
            .subquery()
        )
        accepted = PackContribution.state.in_(ACCEPTED)
        suggested = (
            select(
                m.c.scope_key,
                _one(cur(PackContribution.created_at)).label("cur_proposed"),
                _one(and_(accepted, cur(PackContribution.reviewed_at))).label("cur_accepted"),
                _one(prev(PackContribution.created_at)).label("prev_proposed"),
                _one(and_(accepted, prev(PackContribution.reviewed_at))).label("prev_accepted"),
            )
            .join_from(m, PackContribution, PackContribution.learner_id == m.c.learner_id)
            .where(or_(and_(*around(PackContribution.created_at)), and_(*around(PackContribution.reviewed_at))))
            .group_by(m.c.scope_key)
            .subquery()
        )
        enrolled = (
            select(
                m.c.scope_key,
                func.count(distinct(m.c.learner_id)).label("members"),
                func.count(distinct(case((Enrollment.enrolled_at < m.c.cur_end, m.c.learner_id)))).label("cur_enrolled"),
                func.count(distinct(case((Enrollment.enrolled_at < m.c.prev_end, m.c.learner_id))))
                .label("prev_enrolled"),
            )
            .join_from(m, Enrollment, and_(Enrollment.learner_id == m.c.learner_id, Enrollment.status.in_(ENROLLED)),
                       isouter=True)
            .group_by(m.c.scope_key)
            .subquery()
        )
        z = func.coalesce
        return (
            select(
                s.c.scope_key,
                z(enrolled.c.members, 0), z(enrolled.c.cur_enrolled, 0), z(answers.c.cur_active, 0),
                z(delivered.c.cur_delivered, 0), z(delivered.c.cur_answered, 0), z(answers.c.cur_answers, 0),
                z(answers.c.cur_correct, 0), z(ratings.c.cur_ratings, 0), z(ratings.c.cur_rating_sum, 0),
                z(certificates.c.cur_certificates, 0), z(contributions.c.cur_contributions, 0),
                z(meetings.c.cur_meetings, 0),
                z(suggested.c.cur_proposed, 0), z(suggested.c.cur_accepted, 0),
                z(enrolled.c.prev_enrolled, 0), z(answers.c.prev_active, 0),
                z(delivered.c.prev_delivered, 0), z(delivered.c.prev_answered, 0), z(answers.c.prev_answers, 0),
                z(answers.c.prev_correct, 0), z(ratings.c.prev_ratings, 0), z(ratings.c.prev_rating_sum, 0),
                z(certificates.c.prev_certificates, 0), z(contributions.c.prev_contributions, 0),
                z(meetings.c.prev_meetings, 0),
                z(suggested.c.prev_proposed, 0), z(suggested.c.prev_accepted, 0),
            )
            .select_from(s)
            .outerjoin(enrolled, enrolled.c.scope_key == s.c.scope_key)
            .outerjoin(delivered, delivered.c.scope_key == s.c.scope_key)
            .outerjoin(answers, answers.c.scope_key == s.c.scope_key)
            .outerjoin(ratings, ratings.c.scope_key == s.c.scope_key)
            .outerjoin(certificates, certificates.c.scope_key == s.c.scope_key)
            .outerjoin(contributions, contributions.c.scope_key == s.c.scope_key)
            .outerjoin(meetings, meetings.c.scope_key == s.c.scope_key)
            .outerjoin(suggested, suggested.c.scope_key == s.c.scope_key)
        )

    def team_weeks(self, scopes: Sequence[Scope]) -> dict[str, tuple[TeamWeek, TeamWeek]]:
        """Per scope key: (this week, the week before)."""
        if not scopes:
            return {}
        with reading(self.engine) as conn:
            rows = conn.execute(self.team_weeks_statement(scopes)).all()
        out = {}
        for row in rows:
            key, members, *numbers = row
            n = [int(v) for v in numbers]
            out[key] = (TeamWeek(int(members), *n[:13]), TeamWeek(int(members), *n[13:]))
        return out

    def members(self, scopes: Sequence[Scope]) -> dict[str, list[MemberWeek]]:
        """Per scope, each member's answers over the attention window and what is about to expire."""
        if not scopes:
            return {}
        s = self._scopes(scopes)
        m = self._members(s, {x.kind for x in scopes})
        low, high = min(x.week.attention_start for x in scopes), max(x.week.as_of for x in scopes)
        a = _answers_between(scopes, low, high)
        recent = (
            select(m.c.scope_key, m.c.learner_id, func.count().label("answers"),
                   _one(a.c.correct.is_(True)).label("correct"))
            .join_from(m, a, a.c.learner_id == m.c.learner_id)
            .where(a.c.answered_at >= m.c.att_start, a.c.answered_at < m.c.as_of, a.c.answered_at >= low,
                   a.c.answered_at < high)
            .group_by(m.c.scope_key, m.c.learner_id)
            .subquery()
        )
        since = (
            select(Enrollment.learner_id, func.min(Enrollment.enrolled_at).label("since"))
            .where(Enrollment.status == "active", Enrollment.learner_id.in_(select(m.c.learner_id)))
            .group_by(Enrollment.learner_id)
            .subquery()
        )
        first_expiry = (
            select(func.min(Certificate.expires_at))
            .where(Certificate.learner_id == m.c.learner_id, Certificate.status == "active",
                   Certificate.expires_at >= m.c.as_of, Certificate.expires_at < m.c.exp_until)
            .correlate(m)
            .scalar_subquery()
        )
        expiry_name = (
            select(Certificate.name)
            .where(Certificate.learner_id == m.c.learner_id, Certificate.status == "active",
                   Certificate.expires_at >= m.c.as_of, Certificate.expires_at < m.c.exp_until)
            .order_by(Certificate.expires_at, Certificate.id)
            .limit(1)
            .correlate(m)
            .scalar_subquery()
        )
        stmt = (
            select(
                m.c.scope_key, Learner.id, Learner.slack_user_id, Learner.name, since.c.since, Learner.paused_until,
                func.coalesce(recent.c.answers, 0), func.coalesce(recent.c.correct, 0),
                first_expiry, expiry_name,
            )
            .select_from(m)
            .join(Learner, Learner.id == m.c.learner_id)
            .outerjoin(since, since.c.learner_id == m.c.learner_id)
            .outerjoin(recent, and_(recent.c.scope_key == m.c.scope_key, recent.c.learner_id == m.c.learner_id))
            .order_by(m.c.scope_key, Learner.name, Learner.id)
        )
        out: dict[str, list[MemberWeek]] = {s_.key: [] for s_ in scopes}
        with reading(self.engine) as conn:
            for key, lid, uid, name, since_at, paused, n, right, expires, cert in conn.execute(stmt):
                out[key].append(MemberWeek(lid, uid, name, since_at, paused, int(n), int(right), expires, cert))
        return out

    def missed_questions(self, scopes: Sequence[Scope], *, limit: int = 3) -> dict[str, list[MissedQuestion]]:
        """Per scope, the questions answered wrong most often this week."""
        if not scopes:
            return {}
        s = self._scopes(scopes)
        m = self._members(s, {x.kind for x in scopes})
        low, high = min(x.week.start for x in scopes), max(x.week.end for x in scopes)
        a = _answers_between(scopes, low, high, Answer.learner_id, Answer.delivery_id, Answer.question_id,
                             Answer.prompt, Answer.correct, Answer.answered_at)
        wrong_count = _one(a.c.correct.is_(False))
        grouped = (
            select(m.c.scope_key, Delivery.pack_id, Delivery.lesson_id, a.c.question_id,
                   func.max(a.c.prompt).label("prompt"), wrong_count.label("wrong"),
                   func.count().label("answers"))
            .join_from(m, a, a.c.learner_id == m.c.learner_id)
            .join(Delivery, Delivery.id == a.c.delivery_id)
            .where(a.c.answered_at >= m.c.cur_start, a.c.answered_at < m.c.cur_end, a.c.answered_at >= low,
                   a.c.answered_at < high)
            .group_by(m.c.scope_key, Delivery.pack_id, Delivery.lesson_id, a.c.question_id)
            .having(wrong_count > 0)
            .subquery()
        )
        ranked = select(
            grouped,
            func.row_number().over(
                partition_by=grouped.c.scope_key,
                order_by=(grouped.c.wrong.desc(), grouped.c.answers.desc(), grouped.c.pack_id, grouped.c.lesson_id,
                          grouped.c.question_id),
            ).label("rank"),
        ).subquery()
        out: dict[str, list[MissedQuestion]] = {x.key: [] for x in scopes}
        with reading(self.engine) as conn:
            for r in conn.execute(select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.scope_key,
                                                                                        ranked.c.rank)):
                out[r.scope_key].append(MissedQuestion(r.pack_id, r.lesson_id, r.question_id, r.prompt, int(r.wrong),
                                                       int(r.answers)))
        return out

    def recent_comments(self, scopes: Sequence[Scope], *, limit: int = 3) -> dict[str, list[Comment]]:
        """Per scope, the latest comments written this week."""
        if not scopes:
            return {}
        s = self._scopes(scopes)
        m = self._members(s, {x.kind for x in scopes})
        low, high = self._bounds(scopes)
        ranked = (
            select(
                m.c.scope_key, Delivery.pack_id, Delivery.lesson_id, Feedback.comment, Feedback.rating,
                Feedback.commented_at,
                func.row_number().over(partition_by=m.c.scope_key,
                                       order_by=(Feedback.commented_at.desc(), Feedback.id.desc())).label("rank"),
            )
            .join_from(m, Feedback, Feedback.learner_id == m.c.learner_id)
            .join(Delivery, Delivery.id == Feedback.delivery_id)
            .where(Feedback.comment.is_not(None), Feedback.comment != "",
                   Feedback.commented_at >= m.c.cur_start, Feedback.commented_at < m.c.cur_end,
                   Feedback.commented_at >= low, Feedback.commented_at < high)
            .subquery()
        )
        out: dict[str, list[Comment]] = {x.key: [] for x in scopes}
        with reading(self.engine) as conn:
            for r in conn.execute(select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.scope_key,
                                                                                        ranked.c.rank)):
                out[r.scope_key].append(Comment(r.pack_id, r.lesson_id, r.comment, r.rating, r.commented_at))
        return out

    def certificates_earned(self, scopes: Sequence[Scope], *, limit: int = 5) -> dict[str, list[CertificateEarned]]:
        """Per scope, the latest certificates issued this week (the count is in ``team_weeks``)."""
        if not scopes:
            return {}
        s = self._scopes(scopes)
        m = self._members(s, {x.kind for x in scopes})
        ranked = (
            select(
                m.c.scope_key, Learner.name.label("learner_name"), Certificate.name, Certificate.pack_id,
                Certificate.issued_at,
                func.row_number().over(partition_by=m.c.scope_key,
                                       order_by=(Certificate.issued_at.desc(), Certificate.id.desc())).label("rank"),
            )
            .join_from(m, Certificate, Certificate.learner_id == m.c.learner_id)
            .join(Learner, Learner.id == m.c.learner_id)
            .where(Certificate.issued_at >= m.c.cur_start, Certificate.issued_at < m.c.cur_end)
            .subquery()
        )
        out: dict[str, list[CertificateEarned]] = {x.key: [] for x in scopes}
        with reading(self.engine) as conn:
            for r in conn.execute(select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.scope_key,
                                                                                        ranked.c.rank)):
                out[r.scope_key].append(CertificateEarned(r.learner_name, r.name, r.pack_id, r.issued_at))
        return out

    def weekly_series(self, charts: Sequence[tuple[Scope, Sequence[ChartWeek]]]) -> dict[str, list[WeekPoint]]:
        """Per scope, lessons answered, answers and right answers in each of its chart's weeks."""
        if not charts:
            return {}
        scopes = [scope for scope, _ in charts]
        s = self._scopes(scopes)
        m = self._members(s, {x.kind for x in scopes})
        weeks = (
            values(column("scope_key", String), column("week_no", Integer), column("w_start", UTCDateTime()),
                   column("w_end", UTCDateTime()), name="weeks")
            .data([(scope.key, w.number, w.start, w.end) for scope, ws in charts for w in ws])
            .cte("weeks")
        )
        low = min(w.start for _, ws in charts for w in ws)
        high = max(w.end for _, ws in charts for w in ws)
        stmt = (
            select(
                weeks.c.scope_key, weeks.c.week_no,
                func.count(distinct(Answer.delivery_id)), func.count(Answer.id),
                _one(Answer.correct.is_(True)),
            )
            .select_from(m)
            .join(weeks, weeks.c.scope_key == m.c.scope_key)
            .join(Answer, and_(Answer.learner_id == m.c.learner_id, Answer.answered_at >= weeks.c.w_start,
                               Answer.answered_at < weeks.c.w_end, Answer.answered_at >= low,
                               Answer.answered_at < high))
            .group_by(weeks.c.scope_key, weeks.c.week_no)
        )
        counts: dict[tuple[str, int], tuple[int, int, int]] = {}
        with reading(self.engine) as conn:
            for key, number, lessons, n, right in conn.execute(stmt):
                counts[(key, int(number))] = (int(lessons), int(n), int(right))
        return {
            scope.key: [WeekPoint(w.start_local, *counts.get((scope.key, w.number), (0, 0, 0))) for w in ws]
            for scope, ws in charts
        }

    # -- the organisation report ---------------------------------------------------------------------

    def outcomes(self, since: datetime, until: datetime, *, by: str) -> list[GroupOutcome]:
        """Per pack (``by="pack"``) or per team (``by="team"``), over ``[since, until)``.

        One grouped query per kind of record; the rows (one per pack or team) are joined here.
        """
        if by not in ("pack", "team"):
            raise ValueError("by is 'pack' or 'team'")
        team = func.coalesce(Learner.team, "")

        def key(pack_column):
            return pack_column if by == "pack" else team

        def period(col):
            return and_(col >= since, col < until)

        def run(stmt) -> dict[str, tuple]:
            with reading(self.engine) as conn:
                return {row[0]: tuple(row[1:]) for row in conn.execute(stmt)}

        def grouped(base, pack_column, *columns, learner, where, joins=()):
            stmt = select(key(pack_column).label("g"), *columns).select_from(base)
            for target, on in joins:
                stmt = stmt.join(target, on)
            if by == "team":
                stmt = stmt.join(Learner, Learner.id == learner)
            return stmt.where(*where).group_by(key(pack_column))

        enrolled = run(grouped(Enrollment, Enrollment.pack_id, func.count(distinct(Enrollment.learner_id)),
                               learner=Enrollment.learner_id,
                               where=[Enrollment.status.in_(ENROLLED), Enrollment.enrolled_at < until]))
        answered = exists().where(Answer.delivery_id == Delivery.id)
        delivered = run(grouped(Delivery, Delivery.pack_id, func.count(), _one(answered), learner=Delivery.learner_id,
                                where=[Delivery.status == "sent", period(Delivery.sent_at)]))
        answers = run(grouped(Answer, Delivery.pack_id, func.count(distinct(Answer.learner_id)), func.count(),
                              _one(Answer.correct.is_(True)), learner=Answer.learner_id,
                              joins=[(Delivery, Delivery.id == Answer.delivery_id)],
                              where=[period(Answer.answered_at)]))
        ratings = run(grouped(Feedback, Delivery.pack_id, func.count(Feedback.rating),
                              func.coalesce(func.sum(Feedback.rating), 0), learner=Feedback.learner_id,
                              joins=[(Delivery, Delivery.id == Feedback.delivery_id)],
                              where=[Feedback.rating.is_not(None), period(Feedback.rated_at)]))
        certificates = run(grouped(Certificate, Certificate.pack_id, func.count(), learner=Certificate.learner_id,
                                   where=[period(Certificate.issued_at)]))
        reviews = run(grouped(Review, ReviewCard.pack_id, func.count(), _one(Review.correct.is_(True)),
                              learner=Review.learner_id, joins=[(ReviewCard, ReviewCard.id == Review.card_id)],
                              where=[period(Review.answered_at)]))
        # Replies in discussion prompts' threads: by the replier's team, or by the pack whose discussion
        # entries the prompt was taken from (a prompt typed in belongs to no pack).
        contributions = run(grouped(Contribution, DiscussionPrompt.pack_id, func.count(),
                                    learner=Contribution.learner_id,
                                    joins=[(PromptPost, PromptPost.id == Contribution.post_id),
                                           (DiscussionPrompt, DiscussionPrompt.id == PromptPost.prompt_id)],
                                    where=[period(Contribution.created_at)]
                                    + ([DiscussionPrompt.pack_id.is_not(None)] if by == "pack" else [])))
        # Mentoring pairs that met (the first "yes" in the period), by each member's team; pairs belong to no pack.
        meetings: dict[str, tuple] = {}
        if by == "team":
            met = met_pairs()
            meetings = run(select(team.label("g"), func.count(distinct(met.c.pair_id)))
                           .select_from(met).join(PairMember, PairMember.pair_id == met.c.pair_id)
                           .join(Learner, Learner.id == PairMember.learner_id)
                           .where(period(met.c.met_at)).group_by(team))
        # Communities of practice: content proposed with /learn suggest (by its author's team, or by the pack it
        # is for) in the period, and the part of it accepted in the period.
        proposed = run(grouped(PackContribution, PackContribution.pack_id, func.count(),
                               learner=PackContribution.learner_id, where=[period(PackContribution.created_at)]))
        accepted = run(grouped(PackContribution, PackContribution.pack_id, func.count(),
                               learner=PackContribution.learner_id,
                               where=[PackContribution.state.in_(ACCEPTED), period(PackContribution.reviewed_at)]))
        groups = sorted(set(enrolled) | set(delivered) | set(answers) | set(ratings) | set(certificates)
                        | set(reviews) | set(contributions) | set(meetings) | set(proposed) | set(accepted))
        out = []
        for g in groups:
            (n_enrolled,) = enrolled.get(g, (0,))
            n_delivered, n_answered = delivered.get(g, (0, 0))
            active, n_answers, right = answers.get(g, (0, 0, 0))
            n_ratings, rating_sum = ratings.get(g, (0, 0))
            (n_certs,) = certificates.get(g, (0,))
            n_reviews, reviews_right = reviews.get(g, (0, 0))
            (n_contributions,) = contributions.get(g, (0,))
            (n_meetings,) = meetings.get(g, (0,))
            (n_proposed,), (n_accepted,) = proposed.get(g, (0,)), accepted.get(g, (0,))
            figures = TeamWeek(members=int(n_enrolled), enrolled=int(n_enrolled), active=int(active),
                               delivered=int(n_delivered), answered=int(n_answered), answers=int(n_answers),
                               correct=int(right), ratings=int(n_ratings), rating_sum=int(rating_sum),
                               certificates=int(n_certs), contributions=int(n_contributions),
                               meetings=int(n_meetings), proposed=int(n_proposed), accepted=int(n_accepted))
            out.append(GroupOutcome(g, figures, int(n_reviews), int(reviews_right)))
        return out

    def answered_lessons(self, since: datetime, until: datetime, *, by: str) -> list[tuple[str, str, str, int]]:
        """(pack or team, pack id, lesson id, lessons answered) — what the time cost is computed from."""
        group = Delivery.pack_id if by == "pack" else func.coalesce(Learner.team, "")
        answered = exists().where(Answer.delivery_id == Delivery.id)
        stmt = (
            select(group, Delivery.pack_id, Delivery.lesson_id, func.count())
            .join(Learner, Learner.id == Delivery.learner_id)
            .where(Delivery.status == "sent", Delivery.sent_at >= since, Delivery.sent_at < until, answered)
            .group_by(group, Delivery.pack_id, Delivery.lesson_id)
        )
        with reading(self.engine) as conn:
            return [(g, p, lesson, int(n)) for g, p, lesson, n in conn.execute(stmt)]

    def item_sums(self, since: datetime, until: datetime, *, after_handled: bool = False) -> list[ItemSums]:
        """Per question: first tries in the period and the sums its discrimination is computed from.

        A learner's *rest score* for a question is their share right on the pack's other questions
        (first tries in the period); learners who answered only this one are left out of the sums.

        ``after_handled`` (content health): a question an author marked handled counts only the first tries
        after that, so a fixed question is judged on its new answers.
        """
        first = (
            select(func.min(Answer.id).label("id"))
            .join(Delivery, Delivery.id == Answer.delivery_id)
            .group_by(Answer.learner_id, Delivery.pack_id, Delivery.lesson_id, Answer.question_id)
            .subquery()
        )
        x = case((Answer.correct.is_(True), 1), else_=0)
        tries = (
            select(Answer.id, Answer.learner_id, Delivery.pack_id, Delivery.lesson_id, Answer.question_id,
                   Answer.prompt, Answer.answered_at, x.label("x"))
            .join(first, first.c.id == Answer.id)
            .join(Delivery, Delivery.id == Answer.delivery_id)
            .where(Answer.answered_at >= since, Answer.answered_at < until)
        )
        if after_handled:
            tries = tries.outerjoin(HandledFlag, and_(
                HandledFlag.kind == "question", HandledFlag.pack_id == Delivery.pack_id,
                HandledFlag.lesson_id == Delivery.lesson_id, HandledFlag.subject == Answer.question_id,
            )).where(or_(HandledFlag.handled_at.is_(None), Answer.answered_at > HandledFlag.handled_at))
        tries = tries.cte("tries")
        # A question is its id: a pack edited mid-course asks it in more than one wording, and the
        # figures count every wording together. It is shown in the wording asked last.
        question = (tries.c.pack_id, tries.c.lesson_id, tries.c.question_id)
        ranked = select(
            *question, tries.c.prompt,
            func.row_number().over(partition_by=question,
                                   order_by=(tries.c.answered_at.desc(), tries.c.id.desc())).label("rank"),
        ).subquery()
        latest = select(ranked).where(ranked.c.rank == 1).subquery()
        per_learner = (
            select(tries.c.learner_id, tries.c.pack_id, func.count().label("n"), func.sum(tries.c.x).label("c"))
            .group_by(tries.c.learner_id, tries.c.pack_id)
            .subquery()
        )
        paired = per_learner.c.n > 1
        rest = case((paired, cast(per_learner.c.c - tries.c.x, Float) / cast(per_learner.c.n - 1, Float)))
        stmt = (
            select(
                tries.c.pack_id, tries.c.lesson_id, tries.c.question_id, func.max(latest.c.prompt),
                func.count(distinct(tries.c.prompt)), func.count(), func.sum(tries.c.x), _one(paired),
                func.coalesce(func.sum(case((paired, tries.c.x), else_=0)), 0),
                func.coalesce(func.sum(rest), 0.0), func.coalesce(func.sum(rest * rest), 0.0),
                func.coalesce(func.sum(rest * tries.c.x), 0.0),
            )
            .join(per_learner, and_(per_learner.c.learner_id == tries.c.learner_id,
                                    per_learner.c.pack_id == tries.c.pack_id))
            .join(latest, and_(latest.c.pack_id == tries.c.pack_id, latest.c.lesson_id == tries.c.lesson_id,
                               latest.c.question_id == tries.c.question_id))
            .group_by(tries.c.pack_id, tries.c.lesson_id, tries.c.question_id)
            .order_by(tries.c.pack_id, tries.c.lesson_id, tries.c.question_id)
        )
        with reading(self.engine) as conn:
            return [
                ItemSums(p, lesson, q, prompt, int(n), int(right), int(n_paired), float(sx), float(sy), float(sy2),
                         float(sxy), wordings=int(wordings))
                for p, lesson, q, prompt, wordings, n, right, n_paired, sx, sy, sy2, sxy in conn.execute(stmt)
            ]

    def lesson_feedback(self, since: datetime, until: datetime, *, comments: int = 3) -> list[LessonFeedback]:
        """Per lesson: ratings, the "not useful because…" reasons, and its latest comments."""
        in_period = or_(and_(Feedback.rated_at >= since, Feedback.rated_at < until),
                        and_(Feedback.commented_at >= since, Feedback.commented_at < until))
        reasons = ("too_easy", "too_hard", "not_relevant", "inaccurate")
        stmt = (
            select(
                Delivery.pack_id, Delivery.lesson_id, func.count(Feedback.rating), func.avg(Feedback.rating),
                *[_one(Feedback.reason == r) for r in reasons],
            )
            .join(Delivery, Delivery.id == Feedback.delivery_id)
            .where(in_period)
            .group_by(Delivery.pack_id, Delivery.lesson_id)
            .order_by(Delivery.pack_id, Delivery.lesson_id)
        )
        ranked = (
            select(
                Delivery.pack_id, Delivery.lesson_id, Feedback.comment,
                func.row_number().over(partition_by=(Delivery.pack_id, Delivery.lesson_id),
                                       order_by=(Feedback.commented_at.desc(), Feedback.id.desc())).label("rank"),
            )
            .join(Delivery, Delivery.id == Feedback.delivery_id)
            .where(Feedback.comment.is_not(None), Feedback.comment != "", Feedback.commented_at >= since,
                   Feedback.commented_at < until)
            .subquery()
        )
        latest: dict[tuple[str, str], list[str]] = {}
        with reading(self.engine) as conn:
            rows = conn.execute(stmt).all()
            for r in conn.execute(select(ranked).where(ranked.c.rank <= comments).order_by(ranked.c.rank)):
                latest.setdefault((r.pack_id, r.lesson_id), []).append(r.comment)
        return [
            LessonFeedback(p, lesson, int(n), float(avg) if avg is not None else None,
                           {r: int(v) for r, v in zip(reasons, counts, strict=True)},
                           tuple(latest.get((p, lesson), ())))
            for p, lesson, n, avg, *counts in rows
        ]

    def totals(self, since: datetime, until: datetime) -> TeamWeek:
        """The whole organisation over the period (active learners counted once across packs)."""
        answered = exists().where(Answer.delivery_id == Delivery.id)
        with reading(self.engine) as conn:
            people = conn.execute(select(func.count()).where(Learner.active.is_(True))).scalar() or 0
            enrolled = conn.execute(
                select(func.count(distinct(Enrollment.learner_id)))
                .where(Enrollment.status.in_(ENROLLED), Enrollment.enrolled_at < until)
            ).scalar() or 0
            delivered, n_answered = conn.execute(
                select(func.count(), _one(answered))
                .where(Delivery.status == "sent", Delivery.sent_at >= since, Delivery.sent_at < until)
            ).one()
            active, n_answers, right = conn.execute(
                select(func.count(distinct(Answer.learner_id)), func.count(), _one(Answer.correct.is_(True)))
                .where(Answer.answered_at >= since, Answer.answered_at < until)
            ).one()
            n_ratings, rating_sum = conn.execute(
                select(func.count(Feedback.rating), func.coalesce(func.sum(Feedback.rating), 0))
                .where(Feedback.rated_at >= since, Feedback.rated_at < until)
            ).one()
            certificates = conn.execute(
                select(func.count()).where(Certificate.issued_at >= since, Certificate.issued_at < until)
            ).scalar() or 0
            # Every reply in a prompt's thread, whoever wrote it (people not in the roster included).
            contributions = conn.execute(
                select(func.count()).where(Contribution.created_at >= since, Contribution.created_at < until)
            ).scalar() or 0
            # Mentoring pairs that met: counted once, at the first "yes" from any of its members.
            met = met_pairs()
            meetings = conn.execute(
                select(func.count()).select_from(met).where(met.c.met_at >= since, met.c.met_at < until)
            ).scalar() or 0
            proposed, accepted = conn.execute(select(
                _one(and_(PackContribution.created_at >= since, PackContribution.created_at < until)),
                _one(and_(PackContribution.state.in_(ACCEPTED), PackContribution.reviewed_at >= since,
                          PackContribution.reviewed_at < until)),
            )).one()
        return TeamWeek(int(people), int(enrolled), int(active), int(delivered), int(n_answered), int(n_answers),
                        int(right), int(n_ratings), int(rating_sum), int(certificates), int(contributions),
                        int(meetings), int(proposed or 0), int(accepted or 0))
