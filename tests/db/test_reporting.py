"""Reporting queries on SQLite and PostgreSQL, checked against figures the test counts itself.

``Records`` writes learners, lessons, answers, ratings and certificates straight into the tables
and keeps its own list of what it wrote; the expected figures are computed from that list in
plain Python, never by calling the queries under test.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert

from db.models import (
    Answer,
    Certificate,
    Contribution,
    Delivery,
    DiscussionPrompt,
    Enrollment,
    Feedback,
    Learner,
    PromptPost,
    Review,
    ReviewCard,
    ReviewSession,
)
from db.reporting import Reporting, Scope
from learning.digest import finished_week, needs_attention
from learning.itemstats import difficulty, item_stats, point_biserial, rest_scores
from learning.review import AGAIN, GOOD, first_answer, review

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Lesson:
    id: int
    learner_id: int
    pack: str
    lesson: str
    sent_at: datetime
    status: str
    answers: list[tuple[str, bool, datetime]] = field(default_factory=list)
    rating: int | None = None
    rated_at: datetime | None = None
    comment: str | None = None
    reason: str | None = None


class Records:
    """Writes records directly (bulk inserts) and remembers them for the test's own arithmetic."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.learners: dict[int, dict] = {}
        self.enrollments: dict[tuple[int, str], dict] = {}
        self.lessons: list[Lesson] = []
        self.certificates: list[dict] = []
        self.contributions: list[dict] = []
        self._ids = itertools.count(1)

    def learner(self, uid: str, *, name: str | None = None, manager: str | None = None, role: str = "learner",
                team: str | None = None, tz: str | None = "UTC", active: bool = True,
                paused_until: datetime | None = None, **extra) -> int:
        values = dict(slack_user_id=uid, name=name or uid, role=role, manager_slack_user_id=manager, team=team,
                      timezone=tz, active=active, paused_until=paused_until, created_at=T0, updated_at=T0, **extra)
        with self.engine.begin() as conn:
            learner_id = conn.execute(insert(Learner).values(**values).returning(Learner.id)).scalar_one()
        self.learners[learner_id] = values
        return learner_id

    def enroll(self, learner_id: int, pack: str = "habits", *, at: datetime = T0, status: str = "active") -> int:
        key = (learner_id, pack)
        if key not in self.enrollments:
            with self.engine.begin() as conn:
                eid = conn.execute(insert(Enrollment).values(learner_id=learner_id, pack_id=pack, status=status,
                                                             enrolled_at=at).returning(Enrollment.id)).scalar_one()
            self.enrollments[key] = {"id": eid, "status": status, "enrolled_at": at}
        return self.enrollments[key]["id"]

    def lesson(self, learner_id: int, *, sent_at: datetime, pack: str = "habits", lesson: str | None = None,
               answers=(), rating: int | None = None, rated_at: datetime | None = None, comment: str | None = None,
               reason: str | None = None, status: str = "sent", prompt: str | None = None,
               pack_version: int = 1) -> Lesson:
        enrollment_id = self.enroll(learner_id, pack)
        lesson_id = lesson or f"l{next(self._ids)}"
        with self.engine.begin() as conn:
            delivery_id = conn.execute(insert(Delivery).values(
                enrollment_id=enrollment_id, learner_id=learner_id, pack_id=pack, lesson_id=lesson_id,
                pack_version=pack_version, kind="on_demand", local_date=sent_at.date(), due_at=sent_at,
                sent_at=sent_at if status == "sent" else None, status=status,
            ).returning(Delivery.id)).scalar_one()
            if answers:
                conn.execute(insert(Answer), [
                    {"delivery_id": delivery_id, "learner_id": learner_id, "question_id": q,
                     "prompt": prompt or f"Prompt of {q}?", "choice": "x", "correct": right, "answered_at": at}
                    for q, right, at in answers
                ])
            if rating is not None or comment is not None:
                conn.execute(insert(Feedback).values(
                    delivery_id=delivery_id, learner_id=learner_id, rating=rating,
                    rated_at=(rated_at or sent_at) if rating is not None else None, comment=comment,
                    commented_at=(rated_at or sent_at) if comment is not None else None, reason=reason))
        record = Lesson(delivery_id, learner_id, pack, lesson_id, sent_at, status, list(answers), rating,
                        (rated_at or sent_at) if rating is not None else None, comment, reason)
        self.lessons.append(record)
        return record

    def certificate(self, learner_id: int, *, issued_at: datetime, expires_at: datetime | None = None,
                    pack: str = "habits", name: str = "Habits certificate", status: str = "active") -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(Certificate).values(learner_id=learner_id, pack_id=pack, name=name, score=0.9,
                                                    issued_at=issued_at, expires_at=expires_at, status=status))
        self.certificates.append({"learner_id": learner_id, "pack": pack, "issued_at": issued_at,
                                  "expires_at": expires_at, "status": status})

    def contribution(self, learner_id: int | None, *, at: datetime, pack: str | None = None,
                     slack_user_id: str | None = None) -> None:
        """A reply in the thread of a discussion prompt taken from ``pack``'s discussion (None: typed in)."""
        n = next(self._ids)
        uid = slack_user_id or (self.learners[learner_id]["slack_user_id"] if learner_id else f"UOUT{n}")
        with self.engine.begin() as conn:
            prompt = conn.execute(insert(DiscussionPrompt).values(
                channel_id="C0TALK", text=None if pack else "Typed in?", pack_id=pack, weekday="mon",
                at_time="10:00", timezone="UTC", status="active", created_at=at).returning(DiscussionPrompt.id)
            ).scalar_one()
            post = conn.execute(insert(PromptPost).values(
                prompt_id=prompt, local_date=at.date(), text="What did you try?", channel_id="C0TALK",
                message_ts=f"{n}.000100", created_at=at).returning(PromptPost.id)).scalar_one()
            conn.execute(insert(Contribution).values(post_id=post, learner_id=learner_id, slack_user_id=uid,
                                                     message_ts=f"{n}.000200", created_at=at))
        self.contributions.append({"learner_id": learner_id, "pack": pack, "at": at})

    def review(self, learner_id: int, *, pack: str, correct: bool, at: datetime) -> None:
        n = next(self._ids)
        state = review(first_answer(GOOD, at - timedelta(days=3)), GOOD if correct else AGAIN, at)
        with self.engine.begin() as conn:
            card = conn.execute(insert(ReviewCard).values(
                learner_id=learner_id, pack_id=pack, lesson_id="l", question_id=f"q{n}", fsrs=state.fsrs,
                due=state.due, last_review=at, reviews=2, lapses=0 if correct else 1, long_right=0,
                created_at=at - timedelta(days=3)).returning(ReviewCard.id)).scalar_one()
            session = conn.execute(insert(ReviewSession).values(
                learner_id=learner_id, kind="review", local_date=date(2026, 1, 1) + timedelta(days=n), card_ids="[]",
                due_at=at, created_at=at).returning(ReviewSession.id)).scalar_one()
            conn.execute(insert(Review).values(session_id=session, card_id=card, learner_id=learner_id,
                                               question_id=f"q{n}", prompt="?", response="x", correct=correct,
                                               rating=3 if correct else 1, interval_days=1.0, answered_at=at))


# -- the expected figures, counted in plain Python ------------------------------------------------


def expected_week(records: Records, members: set[int], start: datetime, end: datetime, enrolled_before: datetime):
    def within(t):
        return t is not None and start <= t < end

    sent = [x for x in records.lessons if x.learner_id in members and x.status == "sent" and within(x.sent_at)]
    answers = [(x.learner_id, right) for x in records.lessons if x.learner_id in members
               for _, right, at in x.answers if within(at)]
    ratings = [x.rating for x in records.lessons if x.learner_id in members and x.rating and within(x.rated_at)]
    return {
        "members": len(members),
        "enrolled": len({lid for (lid, _), e in records.enrollments.items() if lid in members
                         and e["status"] in ("active", "completed") and e["enrolled_at"] < enrolled_before}),
        "active": len({lid for lid, _ in answers}),
        "delivered": len(sent),
        "answered": sum(1 for x in sent if x.answers),
        "answers": len(answers),
        "correct": sum(1 for _, right in answers if right),
        "ratings": len(ratings),
        "rating_sum": sum(ratings),
        "certificates": sum(1 for c in records.certificates if c["learner_id"] in members
                            and within(c["issued_at"])),
    }


def as_dict(week) -> dict:
    return {k: getattr(week, k) for k in ("members", "enrolled", "active", "delivered", "answered", "answers",
                                          "correct", "ratings", "rating_sum", "certificates")}


WEEK = finished_week(date(2026, 11, 30), "Europe/Berlin")  # Mon 23 – Sun 29 Nov, Berlin


@pytest.fixture
def records(engine):
    return Records(engine)


@pytest.fixture
def reporting(engine):
    return Reporting(engine)


def random_team(records: Records, rng: random.Random, manager: str, size: int, *, team: str) -> set[int]:
    members = set()
    first = WEEK.prev_start - timedelta(days=5)
    span = (WEEK.end + timedelta(days=3) - first).total_seconds()
    for i in range(size):
        lid = records.learner(f"U{manager}{i}", manager=manager, team=team)
        records.enroll(lid, "habits", at=first + timedelta(days=rng.randint(0, 16)))
        members.add(lid)
        for _ in range(rng.randint(2, 9)):
            sent = first + timedelta(seconds=rng.uniform(0, span))
            answers = []
            if rng.random() < 0.7:
                for q in ("q1", "q2")[: rng.randint(1, 2)]:
                    answers.append((q, rng.random() < 0.65, sent + timedelta(hours=rng.uniform(0, 40))))
            rating = rng.randint(1, 5) if answers and rng.random() < 0.5 else None
            records.lesson(lid, sent_at=sent, answers=answers, rating=rating,
                           rated_at=sent + timedelta(hours=rng.uniform(0, 30)),
                           status="sent" if rng.random() < 0.95 else "failed")
        if rng.random() < 0.3:
            records.certificate(lid, issued_at=first + timedelta(seconds=rng.uniform(0, span)))
    return members


def test_figures_for_each_manager_and_the_week_before(records, reporting):
    rng = random.Random(5)
    berlin = random_team(records, rng, "UMGRA", 7, team="Support")
    other = random_team(records, rng, "UMGRB", 5, team="Sales")
    gone = records.learner("UGONE", manager="UMGRA", active=False)  # left the company: not counted
    records.lesson(gone, sent_at=WEEK.start + timedelta(hours=2), answers=[("q1", True, WEEK.start + timedelta(hours=3))])
    # Exactly on the boundaries: the start is in, the end is out.
    edge = min(berlin)
    records.lesson(edge, sent_at=WEEK.start, answers=[("q1", False, WEEK.start)])
    records.lesson(edge, sent_at=WEEK.end, answers=[("q1", True, WEEK.end)])

    scopes = [Scope("a", "manager", "UMGRA", WEEK), Scope("b", "manager", "UMGRB", WEEK),
              Scope("sales", "team", "Sales", WEEK), Scope("all", "everyone", None, WEEK),
              Scope("nobody", "manager", "UNOBODY", WEEK)]
    weeks = reporting.team_weeks(scopes)
    everyone = berlin | other
    for key, members in (("a", berlin), ("b", other), ("sales", other), ("all", everyone), ("nobody", set())):
        current, previous = weeks[key]
        assert as_dict(current) == expected_week(records, members, WEEK.start, WEEK.end, WEEK.end), key
        assert as_dict(previous) == expected_week(records, members, WEEK.prev_start, WEEK.prev_end,
                                                  WEEK.prev_end), key
    assert weeks["a"][0].delivered > 0 and weeks["a"][1].delivered > 0, "the data covers both weeks"


def test_scopes_with_different_zones_count_their_own_weeks(records, reporting):
    new_york = finished_week(date(2026, 11, 30), "America/New_York")
    lid = records.learner("UONE", manager="UMGR")
    between = WEEK.end + timedelta(hours=2)  # after Berlin's week ended, before New York's did
    records.lesson(lid, sent_at=between, answers=[("q1", True, between)])
    weeks = reporting.team_weeks([Scope("berlin", "manager", "UMGR", WEEK), Scope("ny", "manager", "UMGR", new_york)])
    assert weeks["berlin"][0].delivered == 0
    assert weeks["ny"][0].delivered == 1 and weeks["ny"][0].accuracy == 1.0


def test_who_needs_attention(records, reporting):
    as_of = WEEK.as_of
    old = as_of - timedelta(days=30)
    quiet = records.learner("UQUIET", name="Quiet", manager="UM")
    records.enroll(quiet, at=old)
    records.lesson(quiet, sent_at=as_of - timedelta(days=9), answers=[("q1", True, as_of - timedelta(days=8))])
    newbie = records.learner("UNEW", name="Newbie", manager="UM")
    records.enroll(newbie, at=as_of - timedelta(days=2))
    resting = records.learner("UREST", name="Resting", manager="UM", paused_until=as_of + timedelta(days=5))
    records.enroll(resting, at=old)
    lost = records.learner("ULOST", name="Lost", manager="UM")
    records.enroll(lost, at=old)
    records.lesson(lost, sent_at=as_of - timedelta(days=3),
                   answers=[("q1", False, as_of - timedelta(days=3)), ("q2", False, as_of - timedelta(days=3))])
    records.lesson(lost, sent_at=as_of - timedelta(days=2),
                   answers=[("q1", True, as_of - timedelta(days=2)), ("q2", False, as_of - timedelta(days=2))])
    fine = records.learner("UFINE", name="Fine", manager="UM")
    records.enroll(fine, at=old)
    records.lesson(fine, sent_at=as_of - timedelta(days=1), answers=[("q1", True, as_of - timedelta(hours=20))])
    records.certificate(fine, issued_at=old, expires_at=as_of + timedelta(days=12), name="Security <b>")
    records.certificate(fine, issued_at=old, expires_at=as_of + timedelta(days=60), name="Later", pack="other")
    records.certificate(newbie, issued_at=old, expires_at=as_of - timedelta(days=1), name="Already expired")

    members = reporting.members([Scope("s", "manager", "UM", WEEK)])["s"]
    assert {m.name for m in members} == {"Quiet", "Newbie", "Resting", "Lost", "Fine"}
    lost_row = next(m for m in members if m.name == "Lost")
    assert (lost_row.answers, lost_row.correct) == (4, 1)
    flagged = {a.member.name: a.reasons for a in needs_attention(members, as_of)}
    assert flagged == {"Quiet": ("silent",), "Lost": ("accuracy",), "Fine": ("expiring",)}
    fine_row = next(m for m in members if m.name == "Fine")
    assert fine_row.certificate_name == "Security <b>"
    assert fine_row.certificate_expires_at == as_of + timedelta(days=12)


def test_most_missed_questions_comments_and_certificates(records, reporting):
    inside = WEEK.start + timedelta(days=2)
    team = [records.learner(f"U{i}", name=f"P{i}", manager="UM") for i in range(4)]
    # q3 missed by 4, q1 by 3 (of 4), q2 by 3 (of 3: ties go to more answers first), q4 by 1, q5 never
    plan = {"q1": [False, False, False, True], "q2": [False, False, False], "q3": [False] * 4, "q4": [False, True],
            "q5": [True, True]}
    for q, results in plan.items():
        for lid, right in zip(team, results, strict=False):
            records.lesson(lid, sent_at=inside, lesson=f"lesson-{q}", answers=[(q, right, inside)])
    outside = WEEK.start - timedelta(hours=1)
    records.lesson(team[0], sent_at=outside, lesson="old", answers=[("q9", False, outside)])
    for n in range(5):
        records.lesson(team[n % 4], sent_at=inside + timedelta(hours=n), rating=2 + n % 3,
                       comment=f"comment {n} <!channel>", rated_at=inside + timedelta(hours=n))
    records.certificate(team[1], issued_at=inside)
    records.certificate(team[2], issued_at=outside)

    scope = Scope("s", "manager", "UM", WEEK)
    missed = reporting.missed_questions([scope])["s"]
    assert [(q.question_id, q.wrong, q.answers) for q in missed] == [("q3", 4, 4), ("q1", 3, 4), ("q2", 3, 3)]
    assert missed[0].lesson_id == "lesson-q3" and missed[0].prompt == "Prompt of q3?"
    comments = reporting.recent_comments([scope])["s"]
    assert [c.text for c in comments] == ["comment 4 <!channel>", "comment 3 <!channel>", "comment 2 <!channel>"]
    earned = reporting.certificates_earned([scope])["s"]
    assert [(c.learner_name, c.name) for c in earned] == [("P1", "Habits certificate")]


def test_weekly_series_for_the_chart(records, reporting):
    from learning.digest import chart_weeks

    lid = records.learner("UONE", manager="UM")
    weeks = chart_weeks(WEEK)
    records.lesson(lid, sent_at=weeks[0].start, answers=[("q1", True, weeks[0].start), ("q2", False, weeks[0].start)])
    records.lesson(lid, sent_at=weeks[7].start, answers=[("q1", True, weeks[7].start)])
    records.lesson(lid, sent_at=weeks[7].start, answers=[("q1", True, weeks[7].end)])  # the next week
    series = reporting.weekly_series([(Scope("s", "manager", "UM", WEEK), weeks)])["s"]
    assert [(p.answered, p.answers, p.correct) for p in series] == [(1, 2, 1)] + [(0, 0, 0)] * 6 + [(1, 1, 1)]
    assert series[0].start_local == date(2026, 10, 5)


def test_item_sums_give_the_same_discrimination_as_the_reference(records, reporting):
    rng = random.Random(11)
    since, until = T0, T0 + timedelta(days=60)
    responses: dict[int, dict[str, bool]] = {}
    for i in range(12):
        lid = records.learner(f"UL{i}")
        skill = rng.random()
        responses[lid] = {}
        for q in ("q1", "q2", "q3", "q4"):
            if rng.random() < 0.85 or q == "q1":
                right = rng.random() < (0.2 + 0.7 * skill if q != "q4" else 0.9 - 0.7 * skill)
                at = since + timedelta(days=rng.randint(0, 50))
                records.lesson(lid, sent_at=at, lesson=f"lesson-{q}", answers=[(q, right, at)])
                responses[lid][q] = right
    # A second pack's answers do not count towards the first pack's rest scores.
    records.lesson(min(responses), sent_at=since, pack="other", lesson="x", answers=[("q1", True, since)])
    by_question = {s.question_id: item_stats(s) for s in reporting.item_sums(since, until) if s.pack_id == "habits"}
    for q in ("q1", "q2", "q3", "q4"):
        xs, ys = rest_scores({k: v for k, v in responses.items() if v}, q)
        answered = [v[q] for v in responses.values() if q in v]
        assert by_question[q].answered == len(answered)
        assert by_question[q].difficulty == pytest.approx(difficulty(sum(answered), len(answered)))
        expected = point_biserial(xs, ys)
        if expected is None:
            assert by_question[q].discrimination is None
        else:
            assert by_question[q].discrimination == pytest.approx(expected)


def test_outcomes_by_pack_and_team_with_retention(records, reporting):
    since, until = T0, T0 + timedelta(days=30)
    a = records.learner("UA", team="Support")
    b = records.learner("UB", team="Support")
    c = records.learner("UC")  # no team
    records.lesson(a, pack="habits", sent_at=since + timedelta(days=1), answers=[("q1", True, since + timedelta(days=1))],
                   rating=4)
    records.lesson(a, pack="habits", sent_at=since + timedelta(days=2))
    records.lesson(b, pack="privacy", sent_at=since + timedelta(days=3),
                   answers=[("q1", False, since + timedelta(days=3)), ("q2", True, since + timedelta(days=3))],
                   rating=2, reason="too_hard", comment="Too long <script>")
    records.lesson(c, pack="privacy", sent_at=until + timedelta(days=1), answers=[("q1", True, until)])  # after
    records.certificate(a, issued_at=since + timedelta(days=5), pack="habits")
    records.review(a, pack="habits", correct=True, at=since + timedelta(days=6))
    records.review(a, pack="habits", correct=False, at=since + timedelta(days=7))
    records.review(b, pack="privacy", correct=True, at=since + timedelta(days=7))

    packs = {o.group: o for o in reporting.outcomes(since, until, by="pack")}
    assert packs["habits"].figures.delivered == 2 and packs["habits"].figures.answered == 1
    assert packs["habits"].figures.enrolled == 1 and packs["habits"].figures.active == 1
    assert packs["habits"].figures.certificates == 1 and packs["habits"].retention == 0.5
    assert packs["privacy"].figures.enrolled == 2, "c is enrolled in privacy; their lesson was after the period"
    assert packs["privacy"].figures.accuracy == 0.5 and packs["privacy"].figures.average_rating == 2
    teams = {o.group: o for o in reporting.outcomes(since, until, by="team")}
    assert teams["Support"].figures.delivered == 3 and teams["Support"].figures.answers == 3
    assert teams["Support"].reviews == 3 and teams["Support"].reviews_right == 2
    assert teams[""].figures.delivered == 0 and teams[""].figures.enrolled == 1
    lessons = {(f.pack_id, f.lesson_id): f for f in reporting.lesson_feedback(since, until)}
    privacy = next(f for (p, _), f in lessons.items() if p == "privacy")
    assert privacy.reasons["too_hard"] == 1 and privacy.comments == ("Too long <script>",)
    answered = reporting.answered_lessons(since, until, by="pack")
    assert sorted((g, n) for g, _, _, n in answered) == [("habits", 1), ("privacy", 1)]


def test_digest_recipients_and_settings(records, reporting, engine):
    now = T0
    records.learner("UBOSS", role="manager", tz="Europe/Berlin")
    records.learner("ULEAD", tz="America/New_York")  # a learner whom someone names as manager
    records.learner("UMEMBER", manager="ULEAD")
    records.learner("UOLD", role="manager", active=False)
    records.learner("UADMIN", role="admin")
    recipients = {p.slack_user_id: p for p in reporting.digest_recipients()}
    assert set(recipients) == {"UBOSS", "ULEAD"}
    assert recipients["ULEAD"].reports == 1 and recipients["UBOSS"].reports == 0
    reporting.set_digest_preferences(recipients["ULEAD"].id, now, digest_day="fri", digest_time="17:00")
    lead = reporting.person("ULEAD")
    assert (lead.digest_day, lead.digest_time, lead.digest_off) == ("fri", "17:00", False)
    with pytest.raises(ValueError):
        reporting.set_digest_preferences(lead.id, now, role="admin")
    assert reporting.setting("learner_hour_cost") is None
    reporting.set_setting("learner_hour_cost", "45 USD", now, by="UADMIN")
    reporting.set_setting("learner_hour_cost", "50 USD", now, by="UADMIN")
    assert reporting.setting("learner_hour_cost") == "50 USD"


def test_discussion_replies_by_pack_by_team_and_in_total(records, reporting):
    since, until = T0, T0 + timedelta(days=30)
    rng = random.Random(7)
    people = [records.learner(f"UC{i}", team=("Support", "Sales", None)[i % 3]) for i in range(9)]
    for _ in range(60):
        who = rng.choice(people + [None])  # None: someone who is not in the roster
        at = since + timedelta(hours=rng.uniform(-72, 24 * 30 + 72))  # some before, some after the period
        records.contribution(who, at=at, pack=rng.choice(["habits", "privacy", None]))

    inside = [c for c in records.contributions if since <= c["at"] < until]
    assert 0 < len(inside) < len(records.contributions), "the data straddles the period"
    team_of = {lid: v["team"] or "" for lid, v in records.learners.items()}
    expected_team: dict[str, int] = {}
    expected_pack: dict[str, int] = {}
    for c in inside:
        if c["learner_id"] is not None:
            expected_team[team_of[c["learner_id"]]] = expected_team.get(team_of[c["learner_id"]], 0) + 1
        if c["pack"] is not None:
            expected_pack[c["pack"]] = expected_pack.get(c["pack"], 0) + 1

    assert reporting.totals(since, until).contributions == len(inside)
    by_pack = {o.group: o.figures.contributions for o in reporting.outcomes(since, until, by="pack")}
    by_team = {o.group: o.figures.contributions for o in reporting.outcomes(since, until, by="team")}
    assert {g: n for g, n in by_pack.items() if n} == expected_pack
    assert {g: n for g, n in by_team.items() if n} == expected_team


def test_item_statistics_group_a_question_by_its_id_across_pack_versions(records, reporting):
    """A pack edited mid-course: q1 was asked in its old wording, then in the new one. One question, one row."""
    since, until = T0, T0 + timedelta(days=60)
    old, new = "Which one is safest? (first wording)", "A rewritten question"
    assert old > new, "the old wording sorts last, so a MAX() over the text would pick it"
    results: dict[int, dict[str, bool]] = {}
    for i in range(10):
        lid = records.learner(f"UV{i}")
        edited = i >= 6  # learners who reached q1's lesson after the edit
        at = since + timedelta(days=2 * i)
        right = i % 3 != 0
        records.lesson(lid, sent_at=at, lesson="spot-phishing", pack_version=2 if edited else 1,
                       prompt=new if edited else old, answers=[("q1", right, at)])
        records.lesson(lid, sent_at=at + timedelta(hours=1), lesson="passwords", pack_version=2 if edited else 1,
                       answers=[("q2", i % 2 == 0, at + timedelta(hours=1))])
        results[lid] = {"q1": right, "q2": i % 2 == 0}
    by_question = {s.question_id: s for s in reporting.item_sums(since, until)}
    assert sorted(by_question) == ["q1", "q2"], "one row per question, whatever the version"
    q1 = item_stats(by_question["q1"])
    assert q1.answered == 10 and by_question["q1"].right == sum(r["q1"] for r in results.values())
    xs, ys = rest_scores(results, "q1")
    assert q1.discrimination == pytest.approx(point_biserial(xs, ys))
    assert q1.prompt == new, "shown in the wording asked last"
    assert by_question["q1"].wordings == 2 and by_question["q2"].wordings == 1
