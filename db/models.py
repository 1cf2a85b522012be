"""The records. Idempotency lives in unique keys here, not only in Python."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Everyone is a learner for lessons; a coach and a mentor too (they may learn as well). The role adds
# what a person may do or see beyond their own lessons: nothing for a mentor here (mentoring pairs are
# matched by role), their coachees' progress for a coach (``CoachAssignment``).
ROLES = ("learner", "manager", "facilitator", "admin", "coach", "mentor")
FEEDBACK_REASONS = ("too_easy", "too_hard", "not_relevant", "inaccurate")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Learner(Base):
    """A person in the workspace. Everyone is a learner; some also manage, facilitate or administer."""

    __tablename__ = "learners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slack_user_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    timezone: Mapped[str | None] = mapped_column(String(64))  # set by the roster; wins over Slack's
    slack_timezone: Mapped[str | None] = mapped_column(String(64))  # users.info tz
    # The language Sprout speaks to them: their own choice (/learn language de) wins over Slack's locale.
    language: Mapped[str | None] = mapped_column(String(16))
    slack_locale: Mapped[str | None] = mapped_column(String(16))  # users.info include_locale, "de-DE"
    slack_profile_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    role: Mapped[str] = mapped_column(String(16), default="learner")
    manager_slack_user_id: Mapped[str | None] = mapped_column(String(32), index=True)
    team: Mapped[str | None] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(100))  # the roster's; enrollment rules can match it
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    dm_channel_id: Mapped[str | None] = mapped_column(String(32))
    delivery_time: Mapped[str | None] = mapped_column(String(5))  # "HH:MM", overrides the pack's
    delivery_days: Mapped[str | None] = mapped_column(String(40))  # "mon,wed,fri", overrides the pack's
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    digest_day: Mapped[str | None] = mapped_column(String(3))  # managers: "mon".."sun"; default Monday
    digest_time: Mapped[str | None] = mapped_column(String(5))  # managers: "HH:MM"; default 08:00
    digest_off: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Set when Sprout publishes their Home tab: only people who have opened it get it republished on changes.
    home_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint(f"role IN {ROLES}", name="role"),)


class Enrollment(Base):
    __tablename__ = "enrollments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    pack_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    starts_on: Mapped[date | None] = mapped_column(Date)  # no lesson before this local date (a cohort's start)
    start_lesson_id: Mapped[str | None] = mapped_column(String(64))  # begin here (joining a cohort mid-way)
    track_id: Mapped[str | None] = mapped_column(String(64))
    # When the planner next needs to look at this enrollment; NULL: not worked out yet. Cleared by triggers
    # (migration 0010) whenever a time zone, lesson time or days, pause or status it came from changes, and
    # ``schedule_changes`` counted up, so a planner that read the old values cannot write a stale time back.
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    schedule_changes: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    __table_args__ = (
        UniqueConstraint("learner_id", "pack_id"),
        # on_demand: lessons pulled by search, without following the pack's schedule
        CheckConstraint("status IN ('active', 'completed', 'left', 'on_demand')", name="status"),
        Index("ix_enrollments_status", "status"),
        Index("ix_enrollments_due", "status", "next_due_at"),
    )


class PlannedSchedule(Base):
    """Each pack's schedule (time, days, default time zone) as the planner last saw it: when a pack's file or
    the default time zone changes, the planner works out its enrollments' next due times again."""

    __tablename__ = "planned_schedules"

    pack_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    basis: Mapped[str] = mapped_column(String(200))


class Delivery(Base):
    """One lesson sent (or to be sent) to one learner."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    pack_id: Mapped[str] = mapped_column(String(64))
    lesson_id: Mapped[str] = mapped_column(String(64))
    pack_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="scheduled")
    local_date: Mapped[date] = mapped_column(Date)  # the learner's own date of the slot
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str | None] = mapped_column(String(200))
    # The language the lesson is shown in (its pack's or a translation's); None: recorded before 0021.
    language: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        # The same lesson never goes to the same learner twice within an enrollment...
        UniqueConstraint("enrollment_id", "lesson_id"),
        # ...and a pack never sends two scheduled lessons on one of the learner's days.
        Index(
            "uq_deliveries_scheduled_day",
            "enrollment_id",
            "local_date",
            unique=True,
            sqlite_where=text("kind = 'scheduled'"),
            postgresql_where=text("kind = 'scheduled'"),
        ),
        CheckConstraint("kind IN ('scheduled', 'on_demand', 'triggered')", name="kind"),
        CheckConstraint("status IN ('queued', 'sent', 'failed')", name="status"),
    )


class Answer(Base):
    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(64))
    prompt: Mapped[str] = mapped_column(Text)  # as asked: later edits of the pack never rewrite history
    choice: Mapped[str] = mapped_column(Text)
    correct: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # The language the question was asked in; prompt and choice are the pack's own (original) text whatever
    # it was, so item analysis compares answers across languages. None: recorded before 0021.
    language: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (UniqueConstraint("delivery_id", "question_id"),)


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), unique=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    commented_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    reason: Mapped[str | None] = mapped_column(String(20))  # "not useful because…"

    __table_args__ = (
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        CheckConstraint(f"reason IS NULL OR reason IN {FEEDBACK_REASONS}", name="reason"),
    )


class Cohort(Base):
    """A named group of learners taking a pack together, from a start date, each in their own zone."""

    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    pack_id: Mapped[str] = mapped_column(String(64))
    start_on: Mapped[date] = mapped_column(Date)
    join_mode: Mapped[str] = mapped_column(String(16), default="current")  # late joiners: current lesson or start
    created_by: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("join_mode IN ('current', 'start')", name="join_mode"),)


class CohortMember(Base):
    __tablename__ = "cohort_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("cohort_id", "learner_id"),)


class Announcement(Base):
    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)  # Markdown, as the facilitator wrote it
    audience_kind: Mapped[str] = mapped_column(String(16))
    audience_value: Mapped[str | None] = mapped_column(String(100))
    send_at: Mapped[datetime] = mapped_column(UTCDateTime())
    send_local: Mapped[bool] = mapped_column(Boolean, default=False)  # send_at's wall time in each person's zone
    ask_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("audience_kind IN ('cohort', 'team', 'channel', 'everyone')", name="audience_kind"),
        CheckConstraint("status IN ('scheduled', 'sent', 'cancelled')", name="status"),
        Index("ix_announcements_status_send_at", "status", "send_at"),
    )


class AnnouncementReceipt(Base):
    """One person's copy of an announcement, and whether they pressed "Got it"."""

    __tablename__ = "announcement_receipts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("announcement_id", "learner_id"),)


class DiscussionPrompt(Base):
    """A weekly discussion prompt in a community channel: typed in, or taken in turn from a pack's discussion."""

    __tablename__ = "discussion_prompts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text)
    pack_id: Mapped[str | None] = mapped_column(String(64))
    weekday: Mapped[str] = mapped_column(String(3))
    at_time: Mapped[str] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PromptPost(Base):
    __tablename__ = "prompt_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("discussion_prompts.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    channel_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("prompt_id", "local_date"),)


class Contribution(Base):
    """A reply in a prompt's thread: counted once per message, whatever Slack retries."""

    __tablename__ = "contributions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("prompt_posts.id", ondelete="CASCADE"))
    learner_id: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    slack_user_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (UniqueConstraint("post_id", "message_ts"),)


class PairingProgramme(Base):
    """Mentoring pairs in a cohort or a channel, a new round every ``every_weeks``.

    ``audience_key`` ("cohort:<id>", "channel:<id>") is set while the programme runs and cleared when it
    stops: its unique key allows one running programme per audience, whatever a retried command repeats.
    """

    __tablename__ = "pairing_programmes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    audience_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    every_weeks: Mapped[int] = mapped_column(SmallInteger)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_round_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)  # None once stopped
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("status IN ('active', 'stopped')", name="status"),
        CheckConstraint("every_weeks BETWEEN 1 AND 12", name="every_weeks"),
        CheckConstraint("(cohort_id IS NULL AND channel_id IS NOT NULL) OR (cohort_id IS NOT NULL AND "
                        "channel_id IS NULL)", name="audience"),
    )


class PairingRound(Base):
    """One round of a programme: its number is worked out from the start, so a round is made once."""

    __tablename__ = "pairing_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("pairing_programmes.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    check_in_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("programme_id", "number"),)


class Pair(Base):
    """Two people (or three) of a round, and their group DM once Sprout has opened it."""

    __tablename__ = "pairs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("pairing_rounds.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PairMember(Base):
    __tablename__ = "pair_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)

    __table_args__ = (UniqueConstraint("pair_id", "learner_id"),)


class PairAnswer(Base):
    """"Did you meet?", answered by one member of a pair: once per person, whatever they click again."""

    __tablename__ = "pair_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    met: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (UniqueConstraint("pair_id", "learner_id"),)


class PairingPreference(Base):
    """Someone out of the pairing rounds: for good (``opted_out``) or until ``snoozed_until``."""

    __tablename__ = "pairing_preferences"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())




CONTRIBUTION_KINDS = ("question", "link", "lesson")
CONTRIBUTION_STATES = ("proposed", "accepted", "changed", "declined")


class PackContribution(Base):
    """A question, link or short lesson someone proposed for a pack with ``/learn suggest``, and what a
    facilitator decided: accepted as proposed, changed (edited, then accepted), or declined with a reason.
    One per submitted form (``submission_key``: the modal's view id), whatever a double submit repeats."""

    __tablename__ = "pack_contributions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    pack_id: Mapped[str] = mapped_column(String(64))
    lesson_id: Mapped[str | None] = mapped_column(String(64))  # None for a whole lesson
    kind: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)  # JSON: the item as proposed
    accepted_content: Mapped[str | None] = mapped_column(Text)  # JSON: as accepted (edited, if changed)
    state: Mapped[str] = mapped_column(String(16), default="proposed")
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    pack_version: Mapped[int | None] = mapped_column(Integer)  # the version it is served from, once accepted
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (
        Index("ix_pack_contributions_state_created_at", "state", "created_at"),
        CheckConstraint("kind IN ('question', 'link', 'lesson')", name="kind"),
        CheckConstraint("state IN ('proposed', 'accepted', 'changed', 'declined')", name="state"),
    )


class LearnerQuestion(Base):
    """A question a learner typed to Sprout that no lesson answered, passed to the facilitators at their
    request: one per message they typed, whatever Slack or a double click repeats."""

    __tablename__ = "learner_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str] = mapped_column(String(32))  # where they asked (their DM with Sprout)
    message_ts: Mapped[str] = mapped_column(String(32))  # the message they typed
    thread_ts: Mapped[str | None] = mapped_column(String(32))  # the lesson's thread, if asked in one
    text: Mapped[str] = mapped_column(Text)
    passed_to: Mapped[str] = mapped_column(String(32))  # a channel id, or "dm" (each facilitator's DM)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (UniqueConstraint("channel_id", "message_ts"),)


RULE_KINDS = ("channel", "group", "department", "team")
RULE_OUTCOMES = ("enrolled", "already")


class EnrollmentRule(Base):
    """"Everyone in #new-hires gets onboarding-essentials": who (a channel's or a user group's members, or
    everyone with a roster department or team) gets which pack. Made as a draft (off); a facilitator turns
    it on after a preview."""

    __tablename__ = "enrollment_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(100))  # a channel id, a user group id, or the roster value
    label: Mapped[str] = mapped_column(String(200))  # as people know it: "new-hires", "security-champions"
    pack_id: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("kind", "target", "pack_id"),
        CheckConstraint(f"kind IN {RULE_KINDS}", name="kind"),
    )


class RuleEnrollment(Base):
    """A rule applied to a person, once: written with the enrollment it made ("enrolled") or found
    ("already"). It stays when they leave the pack, so the rule never enrolls them again."""

    __tablename__ = "rule_enrollments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("enrollment_rules.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("rule_id", "learner_id"),
        CheckConstraint(f"outcome IN {RULE_OUTCOMES}", name="outcome"),
    )


class CoachAssignment(Base):
    """A learner's coach: one per learner (a second assignment replaces the first), set by an admin or a
    facilitator (``/learn coach``) or by the roster's ``coach`` column.

    ``shares_notes`` is the learner's own choice to show this coach their reflections and comments:
    private until they turn it on, and back to private when the coach changes, since they chose to share
    with a person, not with whoever coaches them next."""

    __tablename__ = "coach_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), unique=True)
    coach_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    shares_notes: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    sharing_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assigned_by: Mapped[str] = mapped_column(String(64))  # the Slack id of who assigned, or "roster import"
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Privileged actions and privacy requests, with who did them."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)


class LinkOpen(Base):
    """A learner opened a lesson's link (Slack reports URL-button clicks): the "experienced" record."""

    __tablename__ = "link_opens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    link_index: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (UniqueConstraint("delivery_id", "link_index"),)


class Reflection(Base):
    """The learner's own answer to a lesson's reflection prompt: their work, never graded."""

    __tablename__ = "reflections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), unique=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    prompt: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewCard(Base):
    """A question the learner has answered, scheduled for spaced review (FSRS state as JSON)."""

    __tablename__ = "review_cards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    pack_id: Mapped[str] = mapped_column(String(64))
    lesson_id: Mapped[str] = mapped_column(String(64))
    question_id: Mapped[str] = mapped_column(String(64))
    fsrs: Mapped[str] = mapped_column(Text)
    due: Mapped[datetime] = mapped_column(UTCDateTime())
    last_review: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviews: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    long_right: Mapped[int] = mapped_column(Integer, default=0)  # right in a row at 21+ day intervals
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("learner_id", "pack_id", "lesson_id", "question_id"),
        # The planner's scan: cards due by a horizon that are still in play.
        Index("ix_review_cards_due_live", "due", "learner_id",
              sqlite_where=text("retired_at IS NULL"), postgresql_where=text("retired_at IS NULL")),
    )


class ReviewSession(Base):
    """A short review DM: a few due cards (or a recertification's questions), sent through the outbox."""

    __tablename__ = "review_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="review")
    pack_id: Mapped[str | None] = mapped_column(String(64))  # recertification: the pack
    local_date: Mapped[date] = mapped_column(Date)
    card_ids: Mapped[str] = mapped_column(Text)  # JSON list, in the order asked
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("learner_id", "local_date", "kind"),
        CheckConstraint("kind IN ('review', 'recert')", name="kind"),
    )


class Review(Base):
    """One answer in a review session: a record, and the next step of its card."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("review_sessions.id", ondelete="CASCADE"))
    card_id: Mapped[int] = mapped_column(ForeignKey("review_cards.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(64))
    prompt: Mapped[str] = mapped_column(Text)
    response: Mapped[str] = mapped_column(Text)
    correct: Mapped[bool] = mapped_column(Boolean)
    rating: Mapped[int] = mapped_column(SmallInteger)  # FSRS: 1 Again, 2 Hard, 3 Good, 4 Easy
    interval_days: Mapped[float] = mapped_column(Float)  # until the card is due again
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    language: Mapped[str | None] = mapped_column(String(16))  # as for answers

    __table_args__ = (UniqueConstraint("session_id", "card_id"),)


class FsrsFit(Base):
    """One ``review optimize``: FSRS parameters fitted to this workspace's reviews, their log loss and the
    defaults' on held-out learners' reviews, and whether they were adopted (only when they predict better).
    Scheduling uses the newest adopted row's parameters; with none, FSRS-6's defaults."""

    __tablename__ = "fsrs_fits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parameters: Mapped[str] = mapped_column(Text)  # JSON list of FSRS-6's 21 parameters
    log_loss: Mapped[float] = mapped_column(Float)
    default_log_loss: Mapped[float] = mapped_column(Float)
    current_log_loss: Mapped[float | None] = mapped_column(Float)  # the parameters in use then, if fitted
    reviews: Mapped[int] = mapped_column(Integer)
    learners: Mapped[int] = mapped_column(Integer)
    held_out_reviews: Mapped[int] = mapped_column(Integer)
    adopted: Mapped[bool] = mapped_column(Boolean)
    rescheduled: Mapped[int] = mapped_column(Integer, default=0)  # open cards given a new due date
    fitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # A pack's own parameters, fitted to its reviews alone; None: the workspace's (every pack without its own).
    pack_id: Mapped[str | None] = mapped_column(String(64), index=True)


class RetiredLesson(Base):
    """A lesson the content team retired (``packs retire``): no learner receives it again, its review cards
    stop, and every record of it stays. The pack file is not touched, so retiring is undone by deleting
    the row."""

    __tablename__ = "retired_lessons"

    pack_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lesson_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    retired_by: Mapped[str] = mapped_column(String(64))  # a Slack id, or "cli"
    reason: Mapped[str | None] = mapped_column(Text)
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LinkCheck(Base):
    """The latest check of a lesson link (a scheduled HEAD, never during a click): whether it answered, and
    since when it has not."""

    __tablename__ = "link_checks"

    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[int | None] = mapped_column(Integer)  # the HTTP status, None when nothing answered
    error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # failed checks in a row
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HandledFlag(Base):
    """An author marked a content-health flag as handled. The flag then counts only the evidence recorded
    after ``handled_at``: it stays away unless the problem comes back."""

    __tablename__ = "handled_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    pack_id: Mapped[str] = mapped_column(String(64))
    lesson_id: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(2000), default="")  # a question id or a URL; "" for the lesson
    handled_by: Mapped[str] = mapped_column(String(64))
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("kind", "pack_id", "lesson_id", "subject"),)


class Certificate(Base):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), index=True)
    pack_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(150))
    score: Mapped[float] = mapped_column(Float)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    recert_invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("learner_id", "pack_id", "issued_at"),
        # At most one active certificate per learner and pack, whatever answers arrive at once.
        Index("uq_certificates_active", "learner_id", "pack_id", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
        CheckConstraint("status IN ('active', 'expired', 'renewed')", name="status"),
    )


class TriggerFire(Base):
    """A channel join that sent a pack's first lesson: once per learner and pack."""

    __tablename__ = "trigger_fires"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    pack_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(32))
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("learner_id", "pack_id"),)


class LessonIndex(Base):
    """Every loaded lesson's text in each language it is shown in, for /learn search (SQLite FTS5 over the
    ``*_stems`` columns, see db.stemming, or a PostgreSQL tsvector beside it in the language's configuration)."""

    __tablename__ = "lesson_index"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_id: Mapped[str] = mapped_column(String(64))
    lesson_id: Mapped[str] = mapped_column(String(64))
    pack_version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    questions: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16), server_default="en")
    title_stems: Mapped[str] = mapped_column(Text, server_default="")
    body_stems: Mapped[str] = mapped_column(Text, server_default="")
    questions_stems: Mapped[str] = mapped_column(Text, server_default="")

    __table_args__ = (UniqueConstraint("pack_id", "lesson_id", "language"),)


class OrgSetting(Base):
    """Settings an admin changes at run time (e.g. the hourly cost of a learner's time)."""

    __tablename__ = "org_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str | None] = mapped_column(String(32))


class OutboxMessage(Base):
    """A message to send. The dedupe key makes the same message impossible to queue twice."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    learner_id: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))  # where to post: a user id (their DM) or a channel id
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The first time this message was handed to Slack: a look-up after a doubtful send reads from here.
    handed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_channel: Mapped[str | None] = mapped_column(String(32))
    sent_ts: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[str | None] = mapped_column(Text)  # JSON, what a kind needs beyond the ids above
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_outbox_status_not_before", "status", "not_before"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')", name="status"),
    )


class Worker(Base):
    """A running dispatcher. Its heartbeat says its claims are alive; a silent worker's claims are recovered."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(200), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LearnedPace(Base):
    """The rate Slack was found to accept for a Web API method in this workspace (its database or schema):
    where a restart or another instance starts pacing from instead of the cautious default."""

    __tablename__ = "learned_paces"

    method: Mapped[str] = mapped_column(String(64), primary_key=True)
    per_minute: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProcessedEvent(Base):
    """Events API deliveries already handled, so Slack's retries are processed once."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


REDRAW_KINDS = ("lesson", "review", "receipt")


class PendingRedraw(Base):
    """A message whose records changed (an answer, a rating, a read receipt) that Slack may not show yet.

    Written in the same transaction as the record and cleared once ``chat.update`` has drawn it, so a
    process that dies after acknowledging a click, or an update that Slack refused (a 429, a 5xx), leaves
    it for the redraw job: the learner's message always ends up showing what was stored.
    ``ref_id`` is a delivery (lesson), a review session (review) or an announcement receipt (receipt).
    """

    __tablename__ = "pending_redraws"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    ref_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("kind IN ('lesson', 'review', 'receipt')", name="kind"),)
