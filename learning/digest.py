"""A manager's weekly digest: which week, what counts, who needs attention, and what it costs.

Pure rules, no SQL and no Slack. ``db.reporting`` aggregates the records into the value
types below (one row per team and week, one row per person); this module turns them into
the figures, changes and lists a digest shows, and decides when a digest is due.

What the figures mean (a week is ``[start, end)`` in UTC, from local midnights):

- *enrolled*: direct reports with an enrollment (active or completed) that began before the end;
- *active*: direct reports who answered at least one question in the week;
- *delivered*: lessons sent to them in the week; *answered*: of those, the ones with at least
  one answer (whenever given); *completion* = answered / delivered;
- *accuracy*: right answers / answers given in the week;
- *rating*: the average of the ratings given in the week; *certificates*: issued in the week.

Each figure is shown beside the same figure for the week before (for "this week so far", the
same stretch of last week), so a change is never a partial week against a whole one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from learning.errors import SproutError
from learning.schedule import WEEKDAYS, Slot, due_slot, local_instant, parse_hhmm, zone

DEFAULT_DAY = "mon"
DEFAULT_TIME = "08:00"
SILENT_DAYS = 7  # no answer for this long (and enrolled at least this long): needs attention
LOW_ACCURACY = 0.5  # below this share right, over at least MIN_ANSWERS_FOR_ACCURACY answers
MIN_ANSWERS_FOR_ACCURACY = 3  # one wrong answer is not a trend
EXPIRY_DAYS = 30  # a certificate expiring within this many days
CHART_WEEKS = 8
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

DAY_NAMES = {
    "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
    "fri": "Friday", "sat": "Saturday", "sun": "Sunday",
}


# -- which week ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestWeek:
    """The stretch a digest covers, and the same stretch a week earlier, in UTC instants.

    ``start_local``/``end_local`` are the manager's local dates (``end_local`` exclusive).
    ``as_of`` is the instant the attention rules look back from.
    """

    zone: str
    start_local: date
    end_local: date
    start: datetime
    end: datetime
    prev_start: datetime
    prev_end: datetime
    as_of: datetime
    so_far: bool = False  # "this week so far" (on demand) rather than a finished week

    @property
    def attention_start(self) -> datetime:
        return self.as_of - timedelta(days=SILENT_DAYS)

    @property
    def expiry_until(self) -> datetime:
        return self.as_of + timedelta(days=EXPIRY_DAYS)

    @property
    def last_local(self) -> date:
        """The last local date covered (inclusive), for "23–29 Nov"."""
        return self.end_local - timedelta(days=1)

    def payload(self) -> dict[str, str]:
        return {"week_start": self.start_local.isoformat(), "week_end": self.end_local.isoformat(), "zone": self.zone}


def finished_week(end_local: date, zone_name: str) -> DigestWeek:
    """The seven local days before ``end_local`` (the digest's day), and the seven before those."""
    tz = zone(zone_name)
    start_local = end_local - timedelta(days=7)
    midnight = time(0, 0)
    start = local_instant(start_local, midnight, tz)
    end = local_instant(end_local, midnight, tz)
    return DigestWeek(
        zone=zone_name,
        start_local=start_local,
        end_local=end_local,
        start=start,
        end=end,
        prev_start=local_instant(start_local - timedelta(days=7), midnight, tz),
        prev_end=start,
        as_of=end,
    )


def week_from_payload(payload: dict) -> DigestWeek:
    return finished_week(date.fromisoformat(payload["week_end"]), payload["zone"])


def week_so_far(now: datetime, zone_name: str, *, week_starts: str = DEFAULT_DAY) -> DigestWeek:
    """From the latest local ``week_starts`` midnight to ``now``; compared with the same stretch a week earlier."""
    tz = zone(zone_name)
    local_now = now.astimezone(tz)
    back = (local_now.weekday() - WEEKDAYS.index(week_starts)) % 7
    start_local = local_now.date() - timedelta(days=back)
    midnight = time(0, 0)
    start = local_instant(start_local, midnight, tz)
    week_ago = local_now.date() - timedelta(days=7)
    return DigestWeek(
        zone=zone_name,
        start_local=start_local,
        end_local=local_now.date() + timedelta(days=1),
        start=start,
        end=now,
        prev_start=local_instant(start_local - timedelta(days=7), midnight, tz),
        prev_end=min(local_instant(week_ago, local_now.time().replace(tzinfo=None), tz), start),
        as_of=now,
        so_far=True,
    )


@dataclass(frozen=True)
class ChartWeek:
    number: int  # 0 = the oldest
    start_local: date
    start: datetime
    end: datetime


def chart_weeks(week: DigestWeek, count: int = CHART_WEEKS) -> list[ChartWeek]:
    """The ``count`` local weeks ending where ``week`` ends, oldest first."""
    tz = zone(week.zone)
    midnight = time(0, 0)
    out = []
    for number in range(count):
        first = week.end_local - timedelta(days=7 * (count - number))
        out.append(ChartWeek(number, first, local_instant(first, midnight, tz),
                             local_instant(first + timedelta(days=7), midnight, tz)))
    return out


# -- when a digest is due -------------------------------------------------------------------------


def digest_schedule(day: str | None, at: str | None) -> tuple[str, time]:
    """A manager's digest day and time, with the defaults; a malformed stored value falls back too."""
    day = (day or DEFAULT_DAY).strip().lower()[:3]
    if day not in WEEKDAYS:
        day = DEFAULT_DAY
    try:
        when = parse_hhmm(at or DEFAULT_TIME)
    except ValueError:
        when = parse_hhmm(DEFAULT_TIME)
    return day, when


def due_digest(now: datetime, *, zone_name: str, day: str | None, at: str | None) -> DigestWeek | None:
    """The finished week whose digest is due at ``now``, if any.

    The same catch-up rule as lessons (``learning.schedule.due_slot``): due from the local
    time until the end of that local day, never made up the next day.
    """
    digest_day, when = digest_schedule(day, at)
    slot: Slot | None = due_slot(now, tz=zone(zone_name), at=when, days=(digest_day,), not_before=EPOCH,
                                 last_local_date=None)
    if slot is None:
        return None
    return finished_week(slot.local_date, zone_name)


def digest_key(manager_id: int, week: DigestWeek) -> str:
    return f"digest:{manager_id}:{week.start_local.isoformat()}"


def chart_key(manager_id: int, week: DigestWeek) -> str:
    return f"digest_chart:{manager_id}:{week.start_local.isoformat()}"


# -- /learn digest --------------------------------------------------------------------------------


class DigestCommandError(SproutError):
    pass


@dataclass(frozen=True)
class DigestCommand:
    """``/learn digest …`` parsed: show, off, on, schedule (day and/or time), or cost (admins)."""

    action: str
    day: str | None = None
    at: time | None = None
    team: str | None = None
    cost: Money | None = None


USAGE = (
    "`/learn digest` — your team's week so far · `/learn digest off` / `on` · "
    "`/learn digest mon 08:00` — when the weekly digest arrives (your time zone)"
)


def parse_digest_command(text: str) -> DigestCommand:
    """``""``, ``off``, ``on``, ``mon 08:00`` (either part alone, any order), ``team NAME``, ``cost 45 USD``."""
    words = text.strip().split()
    if not words:
        return DigestCommand("show")
    head = words[0].lower()
    if head in ("off", "stop") and len(words) == 1:
        return DigestCommand("off")
    if head in ("on", "start") and len(words) == 1:
        return DigestCommand("on")
    if head == "team":
        name = " ".join(words[1:]).strip()
        if not name:
            raise DigestCommandError("Which team? For example `/learn digest team Support`.")
        return DigestCommand("show", team=name)
    if head in ("all", "everyone", "organisation", "organization") and len(words) == 1:
        return DigestCommand("show")
    if head == "cost":
        try:
            return DigestCommand("cost", cost=parse_money(" ".join(words[1:])))
        except ValueError as exc:
            raise DigestCommandError(f"{exc}. For example `/learn digest cost 45 USD` (per learner hour).") from None
    day: str | None = None
    at: time | None = None
    for word in words:
        lowered = word.lower().rstrip(",")
        if lowered[:3] in WEEKDAYS and DAY_NAMES[lowered[:3]].lower().startswith(lowered) and day is None:
            day = lowered[:3]
            continue
        if ":" in lowered and at is None:
            try:
                at = parse_hhmm(lowered)
            except ValueError:
                raise DigestCommandError(f"`{word}` is not a 24-hour time like 08:00. {USAGE}") from None
            continue
        raise DigestCommandError(f"I didn't understand `{word}`. {USAGE}")
    return DigestCommand("schedule", day=day, at=at)


# -- the figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamWeek:
    """One team's records over one week, as counted in SQL."""

    members: int = 0
    enrolled: int = 0
    active: int = 0
    delivered: int = 0
    answered: int = 0
    answers: int = 0
    correct: int = 0
    ratings: int = 0
    rating_sum: int = 0
    certificates: int = 0
    contributions: int = 0  # replies in discussion prompts' threads
    meetings: int = 0  # mentoring pairs (with a member here) that said they met
    # Communities of practice: content the team proposed with /learn suggest, and how much of it was accepted.
    proposed: int = 0
    accepted: int = 0

    @property
    def completion(self) -> float | None:
        return self.answered / self.delivered if self.delivered else None

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answers if self.answers else None

    @property
    def average_rating(self) -> float | None:
        return self.rating_sum / self.ratings if self.ratings else None


@dataclass(frozen=True)
class Change:
    """A figure this week beside the week before. ``percent``: a share shown in percentage points."""

    current: float | None
    previous: float | None
    percent: bool = False

    @property
    def delta(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def direction(self) -> str:
        """"up", "down", "same" or "new" (nothing to compare with)."""
        delta = self.delta
        if delta is None:
            return "new" if self.current is not None else "none"
        if abs(delta) < 1e-9:
            return "same"
        return "up" if delta > 0 else "down"


@dataclass(frozen=True)
class Figures:
    enrolled: Change
    active: Change
    delivered: Change
    answered: Change
    completion: Change
    accuracy: Change
    rating: Change
    ratings: Change
    certificates: Change
    contributions: Change
    meetings: Change
    proposed: Change
    accepted: Change


def figures(current: TeamWeek, previous: TeamWeek) -> Figures:
    def count(name: str) -> Change:
        return Change(getattr(current, name), getattr(previous, name))

    return Figures(
        enrolled=count("enrolled"),
        active=count("active"),
        delivered=count("delivered"),
        answered=count("answered"),
        completion=Change(current.completion, previous.completion, percent=True),
        accuracy=Change(current.accuracy, previous.accuracy, percent=True),
        rating=Change(current.average_rating, previous.average_rating),
        ratings=count("ratings"),
        certificates=count("certificates"),
        contributions=count("contributions"),
        meetings=count("meetings"),
        proposed=count("proposed"),
        accepted=count("accepted"),
    )


# -- who needs attention --------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberWeek:
    """One direct report, as counted in SQL over the attention window (the 7 days up to ``as_of``)."""

    learner_id: int
    slack_user_id: str
    name: str
    enrolled_since: datetime | None  # earliest active enrollment; None = nothing in progress
    paused_until: datetime | None
    answers: int
    correct: int
    certificate_expires_at: datetime | None  # the earliest active certificate expiring soon
    certificate_name: str | None = None


@dataclass(frozen=True)
class Attention:
    member: MemberWeek
    reasons: tuple[str, ...]  # "silent", "accuracy", "expiring"

    @property
    def accuracy(self) -> float | None:
        return self.member.correct / self.member.answers if self.member.answers else None


def attention_reasons(member: MemberWeek, as_of: datetime) -> tuple[str, ...]:
    reasons = []
    paused = member.paused_until is not None and member.paused_until > as_of
    silent_since = as_of - timedelta(days=SILENT_DAYS)
    if (member.answers == 0 and not paused and member.enrolled_since is not None
            and member.enrolled_since <= silent_since):
        reasons.append("silent")
    if member.answers >= MIN_ANSWERS_FOR_ACCURACY and member.correct / member.answers < LOW_ACCURACY:
        reasons.append("accuracy")
    if (member.certificate_expires_at is not None
            and as_of <= member.certificate_expires_at < as_of + timedelta(days=EXPIRY_DAYS)):
        reasons.append("expiring")
    return tuple(reasons)


def needs_attention(members: Iterable[MemberWeek], as_of: datetime) -> list[Attention]:
    """Everyone a rule flags: expiring certificates first (they have a date), then silence, then accuracy."""
    flagged = [Attention(m, r) for m in members if (r := attention_reasons(m, as_of))]
    order = {"expiring": 0, "silent": 1, "accuracy": 2}

    def key(entry: Attention):
        expires = entry.member.certificate_expires_at or datetime.max.replace(tzinfo=UTC)
        return (min(order[r] for r in entry.reasons), expires, entry.member.name.lower(), entry.member.learner_id)

    return sorted(flagged, key=key)


# -- the lists ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MissedQuestion:
    pack_id: str
    lesson_id: str
    question_id: str
    prompt: str
    wrong: int
    answers: int


@dataclass(frozen=True)
class Comment:
    pack_id: str
    lesson_id: str
    text: str
    rating: int | None
    at: datetime


@dataclass(frozen=True)
class CertificateEarned:
    learner_name: str
    name: str
    pack_id: str
    issued_at: datetime


@dataclass(frozen=True)
class WeekPoint:
    """One week of the chart: lessons answered and answers right."""

    start_local: date
    answered: int
    answers: int
    correct: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answers if self.answers else None


@dataclass(frozen=True)
class Digest:
    """Everything one digest says, before it is drawn."""

    title: str  # "Your direct reports", "Everyone", "Team Support"
    week: DigestWeek
    current: TeamWeek
    previous: TeamWeek
    attention: list[Attention] = field(default_factory=list)
    missed: list[MissedQuestion] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    certificates: list[CertificateEarned] = field(default_factory=list)

    @property
    def figures(self) -> Figures:
        return figures(self.current, self.previous)

    @property
    def empty(self) -> bool:
        return self.current.members == 0


# -- cost against outcome -------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    amount: float
    currency: str


_MONEY = re.compile(r"^\s*(?:(?P<c1>[A-Za-z]{3})\s*)?(?P<amount>\d+(?:[.,]\d{1,2})?)\s*(?P<c2>[A-Za-z]{3})?\s*$")


def parse_money(text: str) -> Money:
    """``"45 USD"``, ``"EUR 38.50"`` → Money. Raises ValueError with a readable message."""
    match = _MONEY.match(text or "")
    currency = match and (match.group("c1") or match.group("c2"))
    if not match or not currency or (match.group("c1") and match.group("c2")):
        raise ValueError(f"{text.strip()!r} is not an amount with a currency like 45 USD" if text.strip()
                         else "Give an amount with a currency like 45 USD")
    return Money(float(match.group("amount").replace(",", ".")), currency.upper())


def format_money(money: Money) -> str:
    return f"{money.amount:,.2f} {money.currency}"


@dataclass(frozen=True)
class Outcome:
    """What a pack (or team) cost and what came of it."""

    pack_cost: Money | None
    time_cost: Money | None
    active_learners: int
    completed_lessons: int
    certificates: int

    @property
    def total(self) -> Money | None:
        """Both costs in one currency; None when nothing is priced or the currencies differ."""
        parts = [m for m in (self.pack_cost, self.time_cost) if m is not None]
        if not parts or len({m.currency for m in parts}) > 1:
            return None
        return Money(sum(m.amount for m in parts), parts[0].currency)

    def per(self, outcome: int) -> Money | None:
        total = self.total
        if total is None or outcome <= 0:
            return None
        return Money(total.amount / outcome, total.currency)

    @property
    def per_active_learner(self) -> Money | None:
        return self.per(self.active_learners)

    @property
    def per_completed_lesson(self) -> Money | None:
        return self.per(self.completed_lessons)

    @property
    def per_certificate(self) -> Money | None:
        return self.per(self.certificates)


def time_cost(minutes_answered: Sequence[tuple[int, int]], hourly: Money | None) -> Money | None:
    """Learners' time: Σ lesson minutes × answered lessons, at the hourly rate."""
    if hourly is None:
        return None
    minutes = sum(m * n for m, n in minutes_answered)
    return Money(minutes / 60 * hourly.amount, hourly.currency)
