"""What Slack interactions do: the use cases behind the listeners.

Nothing here reads a Slack payload or builds blocks; it takes domain values and
returns them, so listeners stay thin and these rules are tested without HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.i18n import N_, Speaker, _, fmt_day, for_learner, is_available, language_names
from bot.i18n import available_languages as catalog_languages
from bot.mrkdwn import escape, truncate
from content_packs.catalog import Catalog
from content_packs.schema import Lesson, Pack, Question
from db.learning_records import CardView, ReviewAnswer, SessionView
from db.models import FEEDBACK_REASONS
from db.store import DeliveryState, LearnerView, NewDelivery, Store
from learning.errors import Gone, NotAllowed, NothingToSend, NotYours, SproutError, UnknownPack
from learning.language import pack_language
from learning.pausing import UNTIL_RESUMED, is_paused, parse_pause
from learning.progression import Grade, grade_shown, next_lesson, shown_choice
from learning.review import ParameterSets, first_answer, rating_for, review
from learning.schedule import next_slot, parse_days, parse_hhmm, resolve_zone, zone
from learning.streaks import LessonDay, PackProgress, current_streak
from scheduler.dispatcher import Dispatcher

if TYPE_CHECKING:
    from learning.simulation import Forecast

log = logging.getLogger(__name__)

PARAMETERS_READ_EVERY = timedelta(minutes=1)

# What a rule's ``Invalid`` means, in the reader's language (learning/ writes no one's language).
INVALID = {
    "pause_length": N_("Say how long: `/learn pause 3 days`, `/learn pause 2 weeks`, or just `/learn pause`."),
    "pause_too_long": N_("A pause can last at most a year; `/learn pause` without a length pauses until you resume."),
    "not_a_time": N_("%(text)s is not a time like 09:30"),
    "not_a_weekday": N_("%(text)s is not a weekday (use mon, tue, wed, thu, fri, sat, sun)"),
    "no_weekday": N_("name at least one weekday"),
}


def invalid_text(exc: ValueError) -> str:
    """A rule's refusal as a sentence for the reader, anything quoted from their input escaped."""
    code = getattr(exc, "code", None)
    if code in INVALID:
        params = {k: escape(truncate(str(v), 200)) for k, v in getattr(exc, "params", {}).items()}
        return _(INVALID[code], **params)
    return escape(truncate(str(exc), 200))


@dataclass(frozen=True)
class SlackProfile:
    name: str
    timezone: str | None
    email: str | None
    locale: str | None = None  # users.info with include_locale: "de-DE"


ProfileLookup = Callable[[str], SlackProfile | None]


@dataclass(frozen=True)
class EnrollOutcome:
    pack: Pack
    created: bool
    next_at: datetime | None  # in the learner's zone
    zone: str


@dataclass(frozen=True)
class LessonView:
    """A delivered lesson with its content, ready to render."""

    pack: Pack  # as shown: in the language the lesson was sent in
    lesson: Lesson  # as shown
    state: DeliveryState  # its answers' choices as shown
    original: Lesson | None = None  # the pack's own text, what is graded and recorded; None: ``lesson`` is

    @property
    def own(self) -> Lesson:
        return self.original or self.lesson


def shown_view(catalog: Catalog, state: DeliveryState) -> LessonView | None:
    """A delivered lesson in the language it was sent in (``state.language``): a translation's text where it
    has the lesson, else the pack's own; None when the lesson or its pack is gone."""
    original = catalog.lesson(state.pack_id, state.lesson_id)
    pack = catalog.shown(state.pack_id, state.language)
    lesson = catalog.shown_lesson(state.pack_id, state.lesson_id, state.language)
    if original is None or pack is None or lesson is None:
        return None
    if lesson is original:
        return LessonView(pack, lesson, state)
    answers = []
    for a in state.answers:
        own, shown = original.question(a.question_id), lesson.question(a.question_id)
        answers.append(replace(a, choice=shown_choice(own, shown, a.choice)) if own and shown else a)
    return LessonView(pack, lesson, replace(state, answers=tuple(answers)), original)


class _Drawn:
    """What a click's outcome carries to draw its message: the lesson as recorded, read when first asked
    for, after the click's transaction committed and its ack went out, not while the write lock is held."""

    def __init__(self, load: Callable[[], LessonView]) -> None:
        self._load = load
        self._view: LessonView | None = None

    @property
    def view(self) -> LessonView:
        if self._view is None:
            self._view = self._load()
        return self._view


def _nothing() -> None:
    return None


class AnswerOutcome(_Drawn):
    def __init__(self, load: Callable[[], LessonView], recorded: bool, grade: Grade) -> None:
        super().__init__(load)
        self.recorded = recorded
        self.grade = grade


@dataclass(frozen=True)
class ReviewItem:
    card: CardView
    lesson: Lesson  # as shown
    question: Question  # as shown
    answer: ReviewAnswer | None  # its response as shown
    original: Question | None = None  # the pack's own, graded and recorded; None: ``question`` is
    language: str | None = None  # the language the question is shown in

    @property
    def own(self) -> Question:
        return self.original or self.question


@dataclass(frozen=True)
class ReviewView:
    session: SessionView
    items: list[ReviewItem]
    pack: Pack | None  # a recertification's pack

    @property
    def finished(self) -> bool:
        return all(i.answer is not None for i in self.items)


@dataclass(frozen=True)
class ReviewOutcome:
    view: ReviewView
    recorded: bool
    grade: Grade


class FeedbackOutcome(_Drawn):
    def __init__(self, load: Callable[[], LessonView], recorded: bool) -> None:
        super().__init__(load)
        self.recorded = recorded


@dataclass(frozen=True)
class ScheduleOutcome:
    """The learner's schedule after a change, ready to confirm."""

    change: str  # paused, resumed, time, days
    zone: str
    paused_until: datetime | None  # in the learner's zone; None = not paused
    until_resumed: bool
    delivery_time: str | None
    delivery_days: tuple[str, ...] | None
    next_lessons: list[tuple[Pack, datetime]]


@dataclass(frozen=True)
class HomeEntry:
    pack: Pack
    status: str
    lessons_sent: int
    next_at: datetime | None
    progress: PackProgress | None = None


@dataclass(frozen=True)
class Home:
    learner: LearnerView
    zone: str
    entries: list[HomeEntry]
    available: list[Pack]
    streak: int = 0
    reviews_due: int = 0
    paused_until: datetime | None = None  # in the learner's zone
    until_resumed: bool = False
    recent: list[tuple[str, str, bool, datetime]] = field(default_factory=list)
    certificates: list = field(default_factory=list)
    team: tuple[int, int] | None = None  # managers: (direct reports, active this week)
    organisation: tuple[int, int] | None = None  # admins: (people, active this week)
    dial: Dial | None = None  # admins: what REVIEW_RETENTION and its neighbours cost and keep
    following: dict[str, tuple[int, int]] | None = None  # facilitators and admins: pack → (following, finished)


@dataclass(frozen=True)
class Dial:
    """The retention dial on an admin's Home tab: the configured desired retention, the forecasts for it and
    its neighbours (``learning.simulation.dial``), and whether they use the workspace's fitted parameters."""

    retention: float
    forecasts: list[Forecast]
    fitted: bool


@dataclass(frozen=True)
class SearchResult:
    pack_id: str
    lesson_id: str
    title: str
    pack_title: str
    minutes: int
    every_word: bool = True  # False: no lesson has every word searched for; this one has some


def _grade(question: Question, response: int | list[int] | str) -> Grade:
    """Grade a lesson's or a review's answer, turning a response that cannot be graded into a sentence."""
    return _grade_shown(question, question, response)[1]


def _grade_shown(own: Question, shown: Question, response: int | list[int] | str) -> tuple[Grade, Grade]:
    """(what is recorded, what the learner is told): see learning.progression.grade_shown."""
    if isinstance(response, str) and not response.strip():
        raise SproutError(_("Type an answer first."))
    question = shown
    try:
        return grade_shown(own, shown, response)
    except ValueError:
        if question.kind == "multiple":
            raise SproutError(_("Tick at least one answer, then press Submit.")) from None
        raise Gone(_("That choice is no longer part of the question.")) from None


class LearningService:
    def __init__(
        self,
        *,
        store: Store,
        catalog: Catalog,
        dispatcher: Dispatcher,
        lookup_profile: ProfileLookup,
        default_timezone: str = "UTC",
        default_language: str = "en",
        profile_max_age: timedelta = timedelta(days=1),
        review_retention: float = 0.9,
        admin_user_ids: frozenset[str] = frozenset(),
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.dispatcher = dispatcher
        self.lookup_profile = lookup_profile
        self.default_timezone = default_timezone
        self.default_language = default_language
        self.profile_max_age = profile_max_age
        self.review_retention = review_retention
        self.admin_user_ids = admin_user_ids
        self._parameters: tuple[datetime, ParameterSets] | None = None

    def fsrs_parameters(self, now: datetime, pack_id: str | None = None) -> tuple[float, ...] | None:
        """The FSRS parameters ``pack_id`` is scheduled with (its own adopted fit, else the workspace's;
        with no pack, the workspace's), read at most once a minute: every answer schedules its
        card with them, and in a burst of clicks a query each was a share of the time before the ack. They
        change only when ``review optimize`` adopts new ones, and a card scheduled with the old ones during
        that minute is rescheduled at its next review."""
        if self._parameters is None or not timedelta(0) <= now - self._parameters[0] < PARAMETERS_READ_EVERY:
            self._parameters = (now, self.store.fsrs_parameter_sets())
        return self._parameters[1].for_pack(pack_id)

    # -- who --------------------------------------------------------------------------------

    def learner(self, slack_user_id: str, now: datetime) -> LearnerView:
        """The learner, created from their Slack profile on first contact and refreshed at most daily."""
        learner = self.store.learner(slack_user_id)
        if learner is None:
            profile = self.lookup_profile(slack_user_id)
            return self.store.ensure_learner(
                slack_user_id,
                name=profile.name if profile else "",
                slack_timezone=profile.timezone if profile else None,
                email=profile.email if profile else None,
                slack_locale=profile.locale if profile else None,
                now=now,
            )
        checked = learner.slack_profile_checked_at
        if checked is None or now - checked > self.profile_max_age:
            profile = self.lookup_profile(slack_user_id)
            if profile is not None:
                self.store.update_slack_profile(learner.id, name=profile.name, slack_timezone=profile.timezone,
                                                slack_locale=profile.locale, now=now)
                learner = self.store.learner(slack_user_id) or learner
        return learner

    # -- which language ----------------------------------------------------------------------

    def speaker_of(self, learner: LearnerView | None) -> Speaker:
        """Who Sprout speaks as to ``learner``: their choice, else Slack's locale, else DEFAULT_LANGUAGE."""
        if learner is None:
            return for_learner(None, None, default=self.default_language)
        return for_learner(learner.language, learner.slack_locale, default=self.default_language)

    def speaker_for(self, slack_user_id: str) -> Speaker:
        """The language of whoever clicked or typed. Someone Sprout has not met yet is asked of Slack (their
        locale), without making them a learner: that happens only when they do something that needs it."""
        try:
            learner = self.store.learner(slack_user_id)
            if learner is None:
                profile = self.lookup_profile(slack_user_id)
                return for_learner(None, profile.locale if profile else None, default=self.default_language)
        except Exception:  # the database (or Slack) is away: "catching up" must still be said, in the default
            log.warning("could not read the language of %s; using %s", slack_user_id, self.default_language)
            return for_learner(None, None, default=self.default_language)
        return self.speaker_of(learner)

    def set_language(self, slack_user_id: str, text: str, now: datetime) -> Speaker:
        """``/learn language de|en|auto``: the learner's choice (``auto``: Slack's locale again). A language
        without a catalog changes nothing and says which there are."""
        wanted = text.strip().split()[0].lower() if text.strip() else ""
        if wanted in ("", "auto"):
            chosen = None
        elif is_available(wanted) or is_available(wanted.replace("_", "-").split("-")[0]):
            chosen = wanted if is_available(wanted) else wanted.replace("_", "-").split("-")[0]  # de-AT → de
        else:
            shown = escape(truncate(wanted, 20)) or _("nothing")
            raise SproutError(_("Sprout does not speak `%(language)s` yet. Languages: %(languages)s, or `auto` to "
                                "follow your Slack language.", language=shown,
                                languages=language_names(catalog_languages())))
        learner = self.learner(slack_user_id, now)
        self.store.set_language(learner.id, chosen, now)
        return for_learner(chosen, learner.slack_locale, default=self.default_language)

    def role_of(self, learner: LearnerView) -> str:
        """The stored role, except that ADMIN_USER_IDS are always admins."""
        return "admin" if learner.slack_user_id in self.admin_user_ids else learner.role

    def require(self, slack_user_id: str, roles: tuple[str, ...], action: str, now: datetime) -> LearnerView:
        """The person, if their stored role allows ``action``; otherwise a refusal, logged.

        Every privileged command, button and form calls this on the server: hiding a button is
        never the only check.
        """
        learner = self.learner(slack_user_id, now)
        role = self.role_of(learner)
        if role not in roles and not (role == "admin" and "facilitator" in roles):
            log.warning("refused %s to %s (role %s)", action, slack_user_id, role)
            raise NotAllowed(_("Only %(roles)ss can %(action)s. Your role in Sprout is %(role)s; an admin can "
                               "change it.", roles=" or ".join(sorted(set(roles))), action=action, role=role))
        return learner

    def zone_of(self, learner: LearnerView) -> str:
        return resolve_zone(learner.timezone, learner.slack_timezone, default=self.default_timezone)

    def _next_at(self, learner: LearnerView, pack: Pack, now: datetime) -> datetime:
        tz = zone(self.zone_of(learner))
        at = parse_hhmm(learner.delivery_time or pack.schedule.time)
        days = parse_days(learner.delivery_days) if learner.delivery_days else tuple(pack.schedule.days)
        after = max(now, learner.paused_until or now)
        return next_slot(after, tz=tz, at=at, days=days).due_at.astimezone(tz)

    # -- the learner's own schedule --------------------------------------------------------

    def pause(self, slack_user_id: str, length: str, now: datetime) -> ScheduleOutcome:
        try:
            duration = parse_pause(length)
        except ValueError as exc:
            raise SproutError(invalid_text(exc)) from None
        learner = self.learner(slack_user_id, now)
        until = UNTIL_RESUMED if duration is None else now + duration
        self.store.set_preferences(learner.id, now, paused_until=until)
        return self.schedule(slack_user_id, now, change="paused")

    def resume(self, slack_user_id: str, now: datetime) -> ScheduleOutcome:
        learner = self.learner(slack_user_id, now)
        self.store.set_preferences(learner.id, now, paused_until=None, resumed_at=now)
        return self.schedule(slack_user_id, now, change="resumed")

    def set_time(self, slack_user_id: str, text: str, now: datetime) -> ScheduleOutcome:
        try:
            at = parse_hhmm(text)
        except ValueError:
            raise SproutError(_("Give a 24-hour time, like `/learn time 08:15`.")) from None
        learner = self.learner(slack_user_id, now)
        self.store.set_preferences(learner.id, now, delivery_time=at.strftime("%H:%M"))
        return self.schedule(slack_user_id, now, change="time")

    def set_days(self, slack_user_id: str, text: str, now: datetime) -> ScheduleOutcome:
        try:
            days = parse_days(text)
        except ValueError as exc:
            # The reason quotes what the person typed: escaped, so `<!channel>` stays text.
            raise SproutError(_("%(reason)s. For example `/learn days mon,wed,fri`.",
                                reason=invalid_text(exc))) from None
        learner = self.learner(slack_user_id, now)
        self.store.set_preferences(learner.id, now, delivery_days=",".join(days))
        return self.schedule(slack_user_id, now, change="days")

    def schedule(self, slack_user_id: str, now: datetime, *, change: str = "") -> ScheduleOutcome:
        learner = self.learner(slack_user_id, now)
        tz = zone(self.zone_of(learner))
        paused = is_paused(learner.paused_until, now)
        next_lessons = []
        for enrollment in self.store.enrollments(learner.id):
            pack = self.catalog.get(enrollment.pack_id)
            if pack is None or enrollment.status != "active" or enrollment.lessons_sent >= len(pack.lessons):
                continue
            if paused and learner.paused_until == UNTIL_RESUMED:
                continue
            next_lessons.append((pack, self._next_at(learner, pack, now)))
        return ScheduleOutcome(
            change=change,
            zone=self.zone_of(learner),
            paused_until=learner.paused_until.astimezone(tz) if paused else None,
            until_resumed=paused and learner.paused_until == UNTIL_RESUMED,
            delivery_time=learner.delivery_time,
            delivery_days=parse_days(learner.delivery_days) if learner.delivery_days else None,
            next_lessons=sorted(next_lessons, key=lambda pair: pair[1]),
        )

    # -- languages --------------------------------------------------------------------------

    def reading_language(self, learner: LearnerView, pack_id: str) -> str:
        """The language ``learner`` reads ``pack_id`` in: their choice, else Slack's locale, when the pack
        is written in it or has a translation into it; else the pack's own language."""
        return pack_language(self.catalog.languages(pack_id), learner.language, learner.slack_locale)

    def shown_language(self, learner: LearnerView, pack_id: str, lesson_id: str) -> str:
        """The language a lesson is sent to ``learner`` in (a partial translation falls back lesson by lesson)."""
        return self.catalog.language_shown(pack_id, lesson_id, self.reading_language(learner, pack_id))

    # -- packs ------------------------------------------------------------------------------

    def pack(self, pack_id: str) -> Pack:
        pack = self.catalog.get(pack_id.strip().lower())
        if pack is None:
            known = ", ".join(f"`{i}`" for i in self.catalog.ids()) or _("none yet")
            raise UnknownPack(_("There is no pack called `%(pack)s`. Packs: %(known)s.",
                                pack=escape(truncate(pack_id, 64)), known=known))
        return pack

    def enrolled_pack_ids(self, slack_user_id: str) -> set[str]:
        learner = self.store.learner(slack_user_id)
        return {e.pack_id for e in self.store.enrollments(learner.id)} if learner else set()

    def enroll(self, slack_user_id: str, pack_id: str, now: datetime) -> EnrollOutcome:
        pack = self.pack(pack_id)
        learner = self.learner(slack_user_id, now)
        enrollment, created = self.store.enroll(learner.id, pack.id, now)
        delivered = self.store.delivered_lessons([enrollment.id])[enrollment.id]
        finished = next_lesson(pack, delivered) is None
        return EnrollOutcome(
            pack=pack,
            created=created,
            next_at=None if finished else self._next_at(learner, pack, now),
            zone=self.zone_of(learner),
        )

    def send_next_now(self, slack_user_id: str, now: datetime, pack_id: str | None = None) -> LessonView:
        """Just in time: the learner's next lesson, now, through the outbox like every message."""
        learner = self.learner(slack_user_id, now)
        enrollments = [e for e in self.store.enrollments(learner.id) if e.status == "active"]
        if pack_id:
            pack = self.pack(pack_id)
            enrollments = [e for e in enrollments if e.pack_id == pack.id]
            if not enrollments:
                raise NothingToSend(_("You're not enrolled in *%(title)s*. Try `/learn enroll %(pack)s`.",
                                       title=escape(pack.title), pack=pack.id))
        if not enrollments:
            raise NothingToSend(_("You're not enrolled in any pack yet. See `/learn packs`."))
        delivered = self.store.delivered_lessons(e.id for e in enrollments)
        tz = zone(self.zone_of(learner))
        for enrollment in enrollments:
            pack = self.catalog.get(enrollment.pack_id)
            if pack is None:
                continue
            lesson = next_lesson(pack, delivered[enrollment.id])
            if lesson is None:
                continue
            queued = self.store.queue_deliveries(
                [
                    NewDelivery(
                        enrollment_id=enrollment.id,
                        learner_id=learner.id,
                        channel=learner.dm_channel_id or learner.slack_user_id,
                        pack_id=pack.id,
                        lesson_id=lesson.id,
                        pack_version=pack.version,
                        kind="on_demand",
                        local_date=now.astimezone(tz).date(),
                        due_at=now,
                        language=self.shown_language(learner, pack.id, lesson.id),
                    )
                ],
                now,
            )
            self.store.after_commit(lambda queued=queued: self.dispatcher.dispatch(ids=queued))
            return LessonView(pack, lesson, self._state_for(enrollment.id, lesson.id))
        raise NothingToSend(_("You've received every lesson of your packs. 🎉 See `/learn packs` for more."))

    def _state_for(self, enrollment_id: int, lesson_id: str) -> DeliveryState:
        delivery_id = self.store.delivery_id_for(enrollment_id, lesson_id)
        state = self.store.delivery_state(delivery_id) if delivery_id else None
        if state is None:
            raise Gone(_("That lesson could not be queued."))
        return state

    # -- a delivered lesson -----------------------------------------------------------------

    def lesson_view(self, delivery_id: int, slack_user_id: str | None = None) -> LessonView:
        state = self.store.delivery_state(delivery_id)
        if state is None:
            raise Gone(_("This lesson is no longer available."))
        if slack_user_id is not None and state.slack_user_id != slack_user_id:
            raise NotYours(_("This lesson was sent to someone else."))
        view = shown_view(self.catalog, state)
        if view is None:
            raise Gone(_("This lesson is no longer available: its pack was removed or changed."))
        return view

    def answer(
        self, slack_user_id: str, delivery_id: int, question_id: str, response: int | list[int] | str, now: datetime,
        *, kept: Callable[[], None] = _nothing,
    ) -> AnswerOutcome:
        """Record a lesson question's answer once; the first answer also starts its review card and may
        complete a certificate, all in one transaction, with ``kept`` (what the caller must remember of it,
        such as a message to redraw) when an answer was recorded.

        Reads that decide nothing about the write come before the transaction: on SQLite it holds the
        database's one write lock, which every click in a burst waits for in turn."""
        view = self.lesson_view(delivery_id, slack_user_id)
        question = view.lesson.question(question_id)
        own = view.own.question(question_id)
        if question is None or own is None:
            raise Gone(_("This question is no longer part of the lesson."))
        kept_grade, result = _grade_shown(own, question, response)
        waited = now - view.state.sent_at if view.state.sent_at else None
        card = first_answer(rating_for(result.correct, answered_after=waited), now,
                            desired_retention=self.review_retention,
                            parameters=self.fsrs_parameters(now, view.pack.id))
        with self.store.unit_of_work():
            recorded = self.store.record_answer(
                delivery_id=delivery_id,
                learner_id=view.state.learner_id,
                question_id=question.id,
                prompt=own.prompt,
                choice=kept_grade.choice,
                correct=kept_grade.correct,
                now=now,
                language=view.state.language,
            )
            if recorded:
                self.store.create_card(
                    learner_id=view.state.learner_id, pack_id=view.pack.id, lesson_id=view.lesson.id,
                    question_id=question.id, now=now, state=card,
                )
                self.check_certificate(view.state.learner_id, view.pack, now)
                kept()
        return AnswerOutcome(lambda: self.lesson_view(delivery_id), recorded, result)

    def question_for(self, slack_user_id: str, ref: dict, question_id: str):
        """The question a button or modal points at, lesson or review, checked to be the person's own."""
        if "d" in ref:
            view = self.lesson_view(int(ref["d"]), slack_user_id)
            question = view.lesson.question(question_id)
        else:
            session = self.review_view(int(ref["s"]), slack_user_id)
            card = session.session.cards.get(int(ref["k"]))
            lesson = self.catalog.lesson(card.pack_id, card.lesson_id) if card else None
            question = lesson.question(question_id) if lesson else None
        if question is None:
            raise Gone(_("This question is no longer part of the lesson."))
        return question

    def _feedback(self, delivery_id: int, record: Callable[[], bool], kept: Callable[[], None]) -> FeedbackOutcome:
        """``record`` and ``kept`` in one transaction (see ``answer``)."""
        with self.store.unit_of_work():
            recorded = record()
            if recorded:
                kept()
        return FeedbackOutcome(lambda: self.lesson_view(delivery_id), recorded)

    def reason(self, slack_user_id: str, delivery_id: int, reason: str, now: datetime, *,
               kept: Callable[[], None] = _nothing) -> FeedbackOutcome:
        if reason not in FEEDBACK_REASONS:
            raise Gone(_("That choice is not available any more."))
        self.lesson_view(delivery_id, slack_user_id)
        return self._feedback(delivery_id, lambda: self.store.record_reason(delivery_id=delivery_id, reason=reason,
                                                                            now=now), kept)

    def reflect(self, slack_user_id: str, delivery_id: int, text: str, now: datetime, *,
                kept: Callable[[], None] = _nothing) -> FeedbackOutcome:
        text = text.strip()
        if not text:
            raise SproutError(_("Write something, or press Cancel."))
        view = self.lesson_view(delivery_id, slack_user_id)
        if not view.lesson.reflect:
            raise Gone(_("This lesson no longer asks for a reflection."))
        return self._feedback(delivery_id, lambda: self.store.record_reflection(
            delivery_id=delivery_id, learner_id=view.state.learner_id, prompt=view.own.reflect or view.lesson.reflect,
            text=text,
            now=now), kept)

    def open_link(self, slack_user_id: str, delivery_id: int, link_index: int, now: datetime) -> bool:
        """The "experienced" record: the learner opened one of the lesson's links."""
        view = self.lesson_view(delivery_id, slack_user_id)
        if not 0 <= link_index < len(view.lesson.links):
            return False
        return self.store.record_link_open(delivery_id=delivery_id, learner_id=view.state.learner_id,
                                           link_index=link_index, url=view.lesson.links[link_index].url, now=now)

    # -- spaced review ----------------------------------------------------------------------

    def review_view(self, session_id: int, slack_user_id: str | None = None) -> ReviewView:
        session = self.store.review_session(session_id)
        if session is None:
            raise Gone(_("This review is no longer available."))
        if slack_user_id is not None and session.slack_user_id != slack_user_id:
            raise NotYours(_("This review was sent to someone else."))
        items = []
        learner = self.store.learner(session.slack_user_id)
        for card_id in session.card_ids:
            card = session.cards.get(card_id)
            lesson = self.catalog.lesson(card.pack_id, card.lesson_id) if card else None
            question = lesson.question(card.question_id) if lesson else None
            if card is None or question is None:
                continue
            # A review is asked in the language the learner reads now (see reading_language).
            reading = self.reading_language(learner, card.pack_id) if learner else None
            language = self.catalog.language_shown(card.pack_id, card.lesson_id, reading)
            shown_lesson = self.catalog.shown_lesson(card.pack_id, card.lesson_id, reading) or lesson
            shown = shown_lesson.question(card.question_id) or question
            answer = session.answers.get(card_id)
            if shown is question:
                items.append(ReviewItem(card, lesson, question, answer, None, language))
                continue
            if answer is not None:
                answer = replace(answer, response=shown_choice(question, shown, answer.response))
            items.append(ReviewItem(card, shown_lesson, shown, answer, question, language))
        pack = self.catalog.get(session.pack_id) if session.pack_id else None
        return ReviewView(session, items, pack)

    def review_answer(
        self, slack_user_id: str, session_id: int, card_id: int, response: int | list[int] | str, now: datetime,
        *, kept: Callable[[], None] = _nothing,
    ) -> ReviewOutcome:
        """A review question's answer, the card's next state and a renewed certificate, in one transaction
        with ``kept`` (see ``answer``)."""
        view = self.review_view(session_id, slack_user_id)
        item = next((i for i in view.items if i.card.id == card_id), None)
        if item is None:
            raise Gone(_("This question is no longer part of the review."))
        kept_grade, result = _grade_shown(item.own, item.question, response)
        waited = now - view.session.sent_at if view.session.sent_at else None
        rating = rating_for(result.correct, answered_after=waited)
        new_state = review(item.card.state, rating, now, desired_retention=self.review_retention,
                           parameters=self.fsrs_parameters(now, item.card.pack_id))
        with self.store.unit_of_work():
            recorded = self.store.record_review(
                session_id=session_id, card=item.card, learner_id=view.session.learner_id,
                prompt=item.own.prompt, response=kept_grade.choice, correct=kept_grade.correct, rating=rating,
                new_state=new_state, now=now, language=item.language,
            )
            view = self.review_view(session_id)  # inside: whether the review is finished decides a renewal
            if recorded and view.session.kind == "recert" and view.finished and view.pack and view.pack.certificate:
                self._renew_after_recert(view, now)
            if recorded:
                kept()
        return ReviewOutcome(view, recorded, result)

    def _renew_after_recert(self, view: ReviewView, now: datetime) -> None:
        pack = view.pack
        answered = [i.answer for i in view.items if i.answer is not None]
        score = sum(a.correct for a in answered) / len(answered) if answered else 0.0
        if score < pack.certificate.pass_score:
            return
        learner = self.store.learner_by_id(view.session.learner_id)
        self.store.issue_certificate(
            learner_id=learner.id, pack_id=pack.id, name=pack.certificate.name, score=score, now=now,
            expires_at=now + timedelta(days=pack.certificate.valid_days) if pack.certificate.valid_days else None,
            channel=learner.dm_channel_id or learner.slack_user_id, renew=True,
        )

    # -- certificates -----------------------------------------------------------------------

    def check_certificate(self, learner_id: int, pack: Pack, now: datetime) -> int | None:
        """Issue the pack's certificate when every lesson's questions are answered with enough accuracy."""
        if pack.certificate is None:
            return None
        needed = {(lesson.id, q.id) for lesson in pack.lessons for q in lesson.quiz}
        answered = self.store.answered_questions(learner_id, pack.id)
        if not needed or not needed <= set(answered):
            return None
        score = sum(answered[key] for key in needed) / len(needed)
        # A cheap early exit; the database itself refuses a second active certificate (two answers at once).
        if score < pack.certificate.pass_score or self.store.active_certificate(learner_id, pack.id):
            return None
        learner = self.store.learner_by_id(learner_id)
        return self.store.issue_certificate(
            learner_id=learner_id, pack_id=pack.id, name=pack.certificate.name, score=score, now=now,
            expires_at=now + timedelta(days=pack.certificate.valid_days) if pack.certificate.valid_days else None,
            channel=learner.dm_channel_id or learner.slack_user_id,
        )

    def rate(self, slack_user_id: str, delivery_id: int, rating: int, now: datetime, *,
             kept: Callable[[], None] = _nothing) -> FeedbackOutcome:
        if not 1 <= rating <= 5:
            raise SproutError(_("A rating is from 1 to 5."))
        view = self.lesson_view(delivery_id, slack_user_id)
        return self._feedback(delivery_id, lambda: self.store.record_rating(
            delivery_id=delivery_id, learner_id=view.state.learner_id, rating=rating, now=now), kept)

    def comment(self, slack_user_id: str, delivery_id: int, text: str, now: datetime, *,
                kept: Callable[[], None] = _nothing) -> FeedbackOutcome:
        text = text.strip()
        if not text:
            raise SproutError(_("The comment is empty."))
        view = self.lesson_view(delivery_id, slack_user_id)
        return self._feedback(delivery_id, lambda: self.store.record_comment(
            delivery_id=delivery_id, learner_id=view.state.learner_id, comment=text, now=now), kept)

    # -- home -------------------------------------------------------------------------------

    def home(self, slack_user_id: str, now: datetime) -> Home:
        learner = self.learner(slack_user_id, now)
        tz = zone(self.zone_of(learner))
        answers = self.store.pack_answers(learner.id)
        paused = is_paused(learner.paused_until, now)
        entries = []
        for enrollment in self.store.enrollments(learner.id):
            # The pack's title and description in the language the learner reads it in.
            pack = self.catalog.shown(enrollment.pack_id, self.reading_language(learner, enrollment.pack_id))
            if pack is None:
                continue
            lessons, answered, correct = answers.get(pack.id, (set(), 0, 0))
            finished = enrollment.status != "active" or enrollment.lessons_sent >= len(pack.lessons)
            entries.append(
                HomeEntry(
                    pack=pack,
                    status=enrollment.status,
                    lessons_sent=enrollment.lessons_sent,
                    next_at=None if finished or (paused and learner.paused_until == UNTIL_RESUMED)
                    else self._next_at(learner, pack, now),
                    progress=PackProgress(len(lessons & {lesson.id for lesson in pack.lessons}), len(pack.lessons),
                                          answered, correct),
                )
            )
        days = [LessonDay(d, a) for d, a in self.store.lesson_days(learner.id)]
        return Home(
            learner=learner,
            zone=self.zone_of(learner),
            entries=entries,
            available=[self.catalog.shown(p.id, self.reading_language(learner, p.id)) or p for p in self.catalog],
            streak=current_streak(days, now.astimezone(tz).date()),
            reviews_due=self.store.reviews_due_count(learner.id, now),
            paused_until=learner.paused_until.astimezone(tz) if paused else None,
            until_resumed=paused and learner.paused_until == UNTIL_RESUMED,
            recent=self.store.recent_results(learner.id, limit=5),
            certificates=[c for c in self.store.certificates(learner.id) if c.status == "active"],
            **self._role_figures(learner, now),
        )

    def has_home(self, slack_user_id: str) -> bool:
        """Whether this person has a Home tab to keep up to date (it was published when they opened it)."""
        return self.store.has_home(slack_user_id)

    def home_published(self, slack_user_id: str, now: datetime) -> None:
        self.store.mark_home_published(slack_user_id, now)

    def _role_figures(self, learner: LearnerView, now: datetime) -> dict:
        """What a manager, facilitator or admin sees of others, checked against their role (``role_of``:
        the people in ADMIN_USER_IDS are admins whatever their stored role)."""
        week_ago = now - timedelta(days=7)
        figures: dict = {}
        role = self.role_of(learner)
        team = self.store.team_overview(learner.slack_user_id, week_ago)
        if role == "manager" or team[0] > 0:
            figures["team"] = team
        if role == "admin":
            figures["organisation"] = self.store.team_overview(None, week_ago)
            # The simulator brings numpy: imported when an admin's Home is drawn, not at every start.
            from learning.simulation import dial

            parameters = self.fsrs_parameters(now)
            figures["dial"] = Dial(self.review_retention, dial(self.review_retention, parameters),
                                   parameters is not None)
        if role in ("facilitator", "admin"):
            figures["following"] = self.store.pack_following()
        return figures

    # -- just in time -----------------------------------------------------------------------

    def search(self, words: str, slack_user_id: str | None = None) -> list[SearchResult]:
        """Lessons matching ``words`` in any language they are shown in, each titled in the language the
        searcher reads its pack in."""
        if not words.strip():
            raise SproutError(_("Search for what? For example `/learn search phishing`."))
        learner = self.store.learner(slack_user_id) if slack_user_id else None
        results = []
        for hit in self.store.search_lessons(words, limit=10):
            reading = self.reading_language(learner, hit.pack_id) if learner else None
            pack = self.catalog.shown(hit.pack_id, reading)
            lesson = pack.lesson(hit.lesson_id) if pack else None
            if lesson is not None:
                results.append(SearchResult(pack.id, lesson.id, lesson.title, pack.title, lesson.minutes,
                                            hit.every_word))
        return results[:5]

    def send_lesson(self, slack_user_id: str, pack_id: str, lesson_id: str, now: datetime,
                    *, kind: str = "on_demand") -> LessonView:
        """One particular lesson, now (a search result, a channel-join trigger), recorded as ``kind``."""
        pack = self.pack(pack_id)
        lesson = pack.lesson(lesson_id)
        if lesson is None:
            raise Gone(_("That lesson is no longer in its pack."))
        learner = self.learner(slack_user_id, now)
        enrollment, _created = self.store.enroll(learner.id, pack.id, now,
                                          status="active" if kind == "triggered" else "on_demand")
        delivered = self.store.delivery_id_for(enrollment.id, lesson.id)
        if delivered is not None:
            state = self.store.delivery_state(delivered)
            if state and state.sent_at:
                raise NothingToSend(_("You already have *%(title)s* in your DMs with Sprout on %(day)s.",
                                      title=escape(lesson.title),
                                      day=fmt_day(state.sent_at.astimezone(zone(self.zone_of(learner))))))
            raise NothingToSend(_("You already have *%(title)s* in your DMs with Sprout.", title=escape(lesson.title)))
        tz = zone(self.zone_of(learner))
        queued = self.store.queue_deliveries(
            [NewDelivery(enrollment_id=enrollment.id, learner_id=learner.id,
                         channel=learner.dm_channel_id or learner.slack_user_id, pack_id=pack.id,
                         lesson_id=lesson.id, pack_version=pack.version, kind=kind,
                         local_date=now.astimezone(tz).date(), due_at=now,
                         language=self.shown_language(learner, pack.id, lesson.id))],
            now,
        )
        self.store.after_commit(lambda: self.dispatcher.dispatch(ids=queued))  # visible to the sender
        return LessonView(pack, lesson, self._state_for(enrollment.id, lesson.id))

    def has_channel_triggers(self) -> bool:
        return any(pack.triggers and pack.triggers.channel_join for pack in self.catalog)

    def on_channel_join(self, slack_user_id: str, channel_id: str, channel_name: str, now: datetime) -> list[Pack]:
        """A learner joined a channel that some pack's triggers name: that pack's first lesson, once."""
        sent = []
        for pack in self.catalog:
            if not pack.triggers or channel_name not in pack.triggers.channel_join or not pack.lessons:
                continue
            learner = self.learner(slack_user_id, now)
            queued = self.store.trigger_first_lesson(
                learner_id=learner.id, pack_id=pack.id, channel_id=channel_id, lesson_id=pack.lessons[0].id,
                pack_version=pack.version, channel=learner.dm_channel_id or learner.slack_user_id,
                local_date=now.astimezone(zone(self.zone_of(learner))).date(), now=now,
                language=self.shown_language(learner, pack.id, pack.lessons[0].id),
            )
            if queued is not None:
                self.store.after_commit(lambda queued=queued: self.dispatcher.dispatch(ids=[queued]))
                sent.append(pack)
        return sent
