"""What Slack interactions do: the use cases behind the listeners.

Nothing here reads a Slack payload or builds blocks; it takes domain values and
returns them, so listeners stay thin and these rules are tested without HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from content_packs.catalog import Catalog
from content_packs.schema import Lesson, Pack
from db.store import DeliveryState, LearnerView, NewDelivery, Store
from learning.errors import Gone, NothingToSend, NotYours, SproutError, UnknownPack
from learning.pausing import UNTIL_RESUMED, is_paused, parse_pause
from learning.progression import Grade, grade, next_lesson
from learning.schedule import next_slot, parse_days, parse_hhmm, resolve_zone, zone
from scheduler.dispatcher import Dispatcher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackProfile:
    name: str
    timezone: str | None
    email: str | None


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

    pack: Pack
    lesson: Lesson
    state: DeliveryState


@dataclass(frozen=True)
class AnswerOutcome:
    view: LessonView
    recorded: bool
    grade: Grade


@dataclass(frozen=True)
class FeedbackOutcome:
    view: LessonView
    recorded: bool


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


@dataclass(frozen=True)
class Home:
    learner: LearnerView
    zone: str
    entries: list[HomeEntry]
    available: list[Pack]


class LearningService:
    def __init__(
        self,
        *,
        store: Store,
        catalog: Catalog,
        dispatcher: Dispatcher,
        lookup_profile: ProfileLookup,
        default_timezone: str = "UTC",
        profile_max_age: timedelta = timedelta(days=1),
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.dispatcher = dispatcher
        self.lookup_profile = lookup_profile
        self.default_timezone = default_timezone
        self.profile_max_age = profile_max_age

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
                now=now,
            )
        checked = learner.slack_profile_checked_at
        if checked is None or now - checked > self.profile_max_age:
            profile = self.lookup_profile(slack_user_id)
            if profile is not None:
                self.store.update_slack_profile(learner.id, name=profile.name, slack_timezone=profile.timezone, now=now)
                learner = self.store.learner(slack_user_id) or learner
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
            raise SproutError(str(exc)) from None
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
            raise SproutError("Give a 24-hour time, like `/learn time 08:15`.") from None
        learner = self.learner(slack_user_id, now)
        self.store.set_preferences(learner.id, now, delivery_time=at.strftime("%H:%M"))
        return self.schedule(slack_user_id, now, change="time")

    def set_days(self, slack_user_id: str, text: str, now: datetime) -> ScheduleOutcome:
        try:
            days = parse_days(text)
        except ValueError as exc:
            raise SproutError(f"{exc}. For example `/learn days mon,wed,fri`.") from None
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

    # -- packs ------------------------------------------------------------------------------

    def pack(self, pack_id: str) -> Pack:
        pack = self.catalog.get(pack_id.strip().lower())
        if pack is None:
            known = ", ".join(f"`{i}`" for i in self.catalog.ids()) or "none yet"
            raise UnknownPack(f"There is no pack called `{pack_id}`. Packs: {known}.")
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
                raise NothingToSend(f"You're not enrolled in *{pack.title}*. Try `/learn enroll {pack.id}`.")
        if not enrollments:
            raise NothingToSend("You're not enrolled in any pack yet. See `/learn packs`.")
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
                    )
                ],
                now,
            )
            self.dispatcher.dispatch(ids=queued)
            return LessonView(pack, lesson, self._state_for(enrollment.id, lesson.id))
        raise NothingToSend("You've received every lesson of your packs. 🎉 See `/learn packs` for more.")

    def _state_for(self, enrollment_id: int, lesson_id: str) -> DeliveryState:
        delivery_id = self.store.delivery_id_for(enrollment_id, lesson_id)
        state = self.store.delivery_state(delivery_id) if delivery_id else None
        if state is None:
            raise Gone("That lesson could not be queued.")
        return state

    # -- a delivered lesson -----------------------------------------------------------------

    def lesson_view(self, delivery_id: int, slack_user_id: str | None = None) -> LessonView:
        state = self.store.delivery_state(delivery_id)
        if state is None:
            raise Gone("This lesson is no longer available.")
        if slack_user_id is not None and state.slack_user_id != slack_user_id:
            raise NotYours("This lesson was sent to someone else.")
        lesson = self.catalog.lesson(state.pack_id, state.lesson_id)
        pack = self.catalog.get(state.pack_id)
        if lesson is None or pack is None:
            raise Gone("This lesson is no longer available: its pack was removed or changed.")
        return LessonView(pack, lesson, state)

    def answer(
        self, slack_user_id: str, delivery_id: int, question_id: str, choice_index: int, now: datetime
    ) -> AnswerOutcome:
        view = self.lesson_view(delivery_id, slack_user_id)
        question = view.lesson.question(question_id)
        if question is None:
            raise Gone("This question is no longer part of the lesson.")
        try:
            result = grade(question, choice_index)
        except ValueError:
            raise Gone("That choice is no longer part of the question.") from None
        recorded = self.store.record_answer(
            delivery_id=delivery_id,
            learner_id=view.state.learner_id,
            question_id=question.id,
            prompt=question.prompt,
            choice=result.choice,
            correct=result.correct,
            now=now,
        )
        return AnswerOutcome(self.lesson_view(delivery_id), recorded, result)

    def rate(self, slack_user_id: str, delivery_id: int, rating: int, now: datetime) -> FeedbackOutcome:
        if not 1 <= rating <= 5:
            raise SproutError("A rating is from 1 to 5.")
        view = self.lesson_view(delivery_id, slack_user_id)
        recorded = self.store.record_rating(
            delivery_id=delivery_id, learner_id=view.state.learner_id, rating=rating, now=now
        )
        return FeedbackOutcome(self.lesson_view(delivery_id), recorded)

    def comment(self, slack_user_id: str, delivery_id: int, text: str, now: datetime) -> FeedbackOutcome:
        text = text.strip()
        if not text:
            raise SproutError("The comment is empty.")
        view = self.lesson_view(delivery_id, slack_user_id)
        recorded = self.store.record_comment(
            delivery_id=delivery_id, learner_id=view.state.learner_id, comment=text, now=now
        )
        return FeedbackOutcome(self.lesson_view(delivery_id), recorded)

    # -- home -------------------------------------------------------------------------------

    def home(self, slack_user_id: str, now: datetime) -> Home:
        learner = self.learner(slack_user_id, now)
        entries = []
        for enrollment in self.store.enrollments(learner.id):
            pack = self.catalog.get(enrollment.pack_id)
            if pack is None:
                continue
            finished = enrollment.status != "active" or enrollment.lessons_sent >= len(pack.lessons)
            entries.append(
                HomeEntry(
                    pack=pack,
                    status=enrollment.status,
                    lessons_sent=enrollment.lessons_sent,
                    next_at=None if finished else self._next_at(learner, pack, now),
                )
            )
        return Home(learner=learner, zone=self.zone_of(learner), entries=entries, available=list(self.catalog))
