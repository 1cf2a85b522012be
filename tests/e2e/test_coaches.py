"""Coaches end to end (issue 18, point 3): an admin makes someone a coach and assigns them learners, by
command (signed requests) and by the roster's coach columns (the CLI, emails resolved on the emulator); the
coach's Home shows each coachee's figures and struggles, their notes only while they share them; the weekly
coach digest goes out once, whatever the planner's reruns and a send whose answer was lost; and no one
sees or assigns what they may not. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

import app
from db.engine import make_engine
from db.models import CoachAssignment, Learner, OutboxMessage, Reflection, Review, ReviewCard, ReviewSession
from learning.roster import RosterRow
from sandbox.emulator import SlackEmulator
from sandbox.workspace import LocalWorkspace, Person
from tests.db.test_reporting import Records

MONDAY = datetime(2026, 11, 30, tzinfo=UTC)  # coach digests cover Mon 23 – Sun 29 November
NASTY = "<!channel> my <@U0BOSS> plan & <https://evil.example|https://good.example>"

ADMIN = Person("U0ADMIN", "Ida Admin", "UTC")
COACH = Person("U0COACH", "Cy Coach", "UTC")
OTHER_COACH = Person("U0COACH2", "Dee Coach", "UTC")
ANA = Person("U0ANA", "Ana Learner", "UTC")
BEN = Person("U0BEN", "Ben Learner", "UTC")
PEOPLE = [ADMIN, COACH, OTHER_COACH, ANA, BEN]


@pytest.fixture
def world(database_url, clock):
    settings = dataclasses.replace(app.Settings(), database_url=database_url)
    with LocalWorkspace(build=app.build, settings=settings, clock=clock, people=PEOPLE,
                        build_options={"listener_workers": 16}) as workspace:
        entries = [RosterRow(i + 2, p.user_id, p.name, None, "admin" if p is ADMIN else "learner", None, None, "UTC",
                             ()) for i, p in enumerate(PEOPLE)]
        workspace.sprout.store.import_roster(entries, MONDAY - timedelta(days=60))
        yield workspace


@pytest.fixture
def records(world):
    return Records(world.sprout.engine)


def ids(world) -> dict[str, int]:
    return {p.user_id: world.sprout.store.learner(p.user_id).id for p in PEOPLE}


def command(world, user_id: str, text: str) -> str:
    before = len(world.emulator.ephemerals(user_id))
    world.driver.command(user_id, "/learn", text)
    return world.emulator.wait_for(lambda: world.emulator.ephemerals(user_id)[before:])[-1]["text"]


def home(world, user_id: str) -> str:
    """Open the Home tab and return what it shows, once this opening's publish has landed."""
    def published():
        return [c for c in world.emulator.calls("views.publish") if c["params"].get("user_id") == user_id and c["ok"]]
    before = len(published())
    world.driver.app_home_opened(user_id)
    world.emulator.wait_for(lambda: len(published()) > before)
    return json.dumps(world.emulator.home_view(user_id)["blocks"], ensure_ascii=False)


def assignments(engine) -> dict[int, tuple[int, bool]]:
    with engine.connect() as conn:
        return {r.learner_id: (r.coach_id, r.shares_notes)
                for r in conn.execute(select(CoachAssignment.learner_id, CoachAssignment.coach_id,
                                             CoachAssignment.shares_notes))}


def reflect(engine, delivery_id: int, learner_id: int, text: str, at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Reflection).values(delivery_id=delivery_id, learner_id=learner_id, prompt="What now?",
                                               text=text, created_at=at, updated_at=at))


def missed_in_review(engine, learner_id: int, at: datetime) -> None:
    """A spaced review of lesson w2's MFA question, answered wrong again."""
    with engine.begin() as conn:
        card = conn.execute(insert(ReviewCard).values(
            learner_id=learner_id, pack_id="habits", lesson_id="w2", question_id="q-mfa", fsrs="{}", due=at,
            created_at=at).returning(ReviewCard.id)).scalar_one()
        session = conn.execute(insert(ReviewSession).values(
            learner_id=learner_id, kind="review", local_date=at.date(), card_ids=json.dumps([card]), due_at=at,
            sent_at=at, created_at=at).returning(ReviewSession.id)).scalar_one()
        conn.execute(insert(Review).values(session_id=session, card_id=card, learner_id=learner_id,
                                           question_id="q-mfa", prompt="Where do MFA codes come from?",
                                           response="Email", correct=False, rating=1, interval_days=1.0,
                                           answered_at=at))


def ana_works(records, learner_id: int, now: datetime):
    """Ana's last days: three lessons this week, the MFA question missed in its lesson and again in a review,
    one lesson a fortnight ago, and a lesson she commented on (her own words)."""
    for day, question, prompt, right in ((1, "q-pw", "A good password?", True),
                                         (2, "q-mfa", "Where do MFA codes come from?", False),
                                         (3, "q-phish", "Is this phishing?", False)):
        at = now - timedelta(days=day)
        records.lesson(learner_id, sent_at=at, lesson=f"w{day}", answers=[(question, right, at)], prompt=prompt)
    missed_in_review(records.engine, learner_id, now - timedelta(hours=12))
    old = now - timedelta(days=14)
    records.lesson(learner_id, sent_at=old, lesson="old", answers=[("q-old", True, old)])
    return records.lesson(learner_id, sent_at=now - timedelta(hours=5), lesson="c", comment="Loved it & more")


def test_an_admin_assigns_a_coach_who_sees_figures_and_notes_only_while_shared(world, clock, records):
    now = MONDAY + timedelta(days=2, hours=12)
    clock.set(now)
    people = ids(world)
    engine = world.sprout.engine

    # Not an admin or a facilitator: refused, nothing written.
    refused = command(world, ANA.user_id, f"coach <@{COACH.user_id}> <@{ANA.user_id}>")
    assert "Only facilitators can assign coaches" in refused and "Your role in Sprout is learner" in refused
    # Not a coach yet: the admin is told how to make them one.
    assert "is not a coach in Sprout" in command(world, ADMIN.user_id, f"coach <@{COACH.user_id}> <@{ANA.user_id}>")
    assert assignments(engine) == {}

    assert "is now a coach" in command(world, ADMIN.user_id, f"role <@{COACH.user_id}> coach")
    assert "is now a coach" in command(world, ADMIN.user_id, f"role <@{OTHER_COACH.user_id}> coach")
    # A coach may not assign either (not even themselves a coachee).
    assert "Only facilitators" in command(world, COACH.user_id, f"coach <@{COACH.user_id}> <@{BEN.user_id}>")
    reply = command(world, ADMIN.user_id, f"coach <@{COACH.user_id}> <@{ANA.user_id}>")
    assert f"<@{ANA.user_id}>: now their coachee" in reply
    again = command(world, ADMIN.user_id, f"coach <@{COACH.user_id}> <@{ANA.user_id}>")
    assert "already their coachee" in again, "a second assignment changes nothing"
    command(world, ADMIN.user_id, f"coach <@{OTHER_COACH.user_id}> <@{BEN.user_id}>")
    assert assignments(engine) == {people[ANA.user_id]: (people[COACH.user_id], False),
                                   people[BEN.user_id]: (people[OTHER_COACH.user_id], False)}
    assert f"<@{ANA.user_id}>" in command(world, ADMIN.user_id, f"coach <@{COACH.user_id}>")
    assert "is not a person" in command(world, ADMIN.user_id, f"coach <@{COACH.user_id}> <!channel>")

    commented = ana_works(records, people[ANA.user_id], now)
    reflect(engine, commented.id, people[ANA.user_id], NASTY, now - timedelta(hours=4))

    coach_home = home(world, COACH.user_id)
    assert "Your coachees* (1)" in coach_home and "Ana Learner" in coach_home
    # Three lessons answered this week, four in 30 days; five answers (a review's too), two right; her
    # latest answer was the review at midnight; the MFA question (missed twice) comes before the other.
    assert "Lessons: *3* in 7 days · 4 in 30 days · 40% right (5 answers, 30 days) · last active Wed 02 Dec" \
        in coach_home
    assert "Struggles with: “Where do MFA codes come from?” (2 of 2 wrong, habits / w2); “Is this phishing?” " \
           "(1 of 1 wrong, habits / w3)" in coach_home
    assert "Keeps their reflections and comments private" in coach_home
    assert "U0BOSS" not in coach_home and "Loved it" not in coach_home, "private: no note of hers"
    assert "Ben Learner" not in coach_home, "another coach's coachee"
    assert "Ana Learner" not in home(world, OTHER_COACH.user_id), "a coach sees only their own coachees"
    admin_home = home(world, ADMIN.user_id)
    assert "Your coachees" not in admin_home and "Where do MFA" not in admin_home, "an admin is not her coach"

    # Ana's Home says who her coach is and what they see; her button shares her notes.
    ana_home = home(world, ANA.user_id)
    assert f"Your coach*: <@{COACH.user_id}>" in ana_home and "private (only you see them)" in ana_home
    world.driver.click(ANA.user_id, world.emulator.home_view(ANA.user_id), action_id="coach_share")
    world.emulator.wait_for(lambda: "sees your reflections" in json.dumps(world.emulator.home_view(ANA.user_id)))
    assert assignments(engine)[people[ANA.user_id]] == (people[COACH.user_id], True)

    shared = home(world, COACH.user_id)
    assert "&lt;!channel&gt; my &lt;@U0BOSS&gt; plan &amp; &lt;https://evil.example|https://good.example&gt;" in shared
    assert "<!channel>" not in shared and "<@U0BOSS>" not in shared, "her words are escaped"
    assert "Loved it &amp; more" in shared
    assert "Loved it" not in home(world, OTHER_COACH.user_id)

    assert "private" in command(world, ANA.user_id, "share coach off")
    # The coach's Home, published with her notes, is drawn again at once: they leave it without a reopening.
    world.emulator.wait_for(lambda: "Loved it" not in json.dumps(world.emulator.home_view(COACH.user_id)))
    assert "Keeps their reflections" in json.dumps(world.emulator.home_view(COACH.user_id), ensure_ascii=False)
    assert "Usage" in command(world, ANA.user_id, "share coach maybe")
    assert "no coach" in command(world, ADMIN.user_id, "share coach on")

    # A facilitator may assign too; moving Ana to another coach makes her notes private again.
    command(world, ANA.user_id, "share coach on")
    command(world, ADMIN.user_id, f"role <@{BEN.user_id}> facilitator")
    moved = command(world, BEN.user_id, f"coach <@{OTHER_COACH.user_id}> <@{ANA.user_id}>")
    assert f"their coach was <@{COACH.user_id}>" in moved
    assert assignments(engine)[people[ANA.user_id]] == (people[OTHER_COACH.user_id], False)
    assert "Ana Learner" not in home(world, COACH.user_id)
    removed = command(world, ADMIN.user_id, f"coach <@{OTHER_COACH.user_id}> remove <@{ANA.user_id}>")
    assert "no longer coached by them" in removed and people[ANA.user_id] not in assignments(engine)


def test_a_coach_is_still_a_learner_and_gets_no_admin_rights(world, clock):
    clock.set(MONDAY + timedelta(hours=9))
    command(world, ADMIN.user_id, f"role <@{COACH.user_id}> coach")
    command(world, ADMIN.user_id, f"role <@{ANA.user_id}> mentor")
    for person in (COACH, ANA):
        assert "Security Basics" in command(world, person.user_id, "enroll security-basics")
        command(world, person.user_id, "next")
        world.sprout.dispatcher.dispatch()
        world.emulator.wait_for(lambda p=person: world.emulator.dm_messages(p.user_id))
        assert "Only admins" in command(world, person.user_id, f"role <@{BEN.user_id}> admin")
        assert "Only facilitators" in command(world, person.user_id, "cohort list")
    assert world.sprout.store.learner(BEN.user_id).role == "learner"
    assert "No one yet" in home(world, COACH.user_id)
    assert "Your coachees" not in home(world, ANA.user_id), "a mentor is not a coach"


def coach_digests(world, user_id: str) -> list[dict]:
    return [m for m in world.emulator.dm_messages(user_id)
            if m.get("blocks") and m["blocks"][0].get("block_id") == "coach-digest-header"]


def test_the_weekly_coach_digest_goes_out_once_even_when_slacks_answer_is_lost(world, clock, records):
    people = ids(world)
    engine = world.sprout.engine
    for coach in (COACH, OTHER_COACH):
        world.sprout.store.set_role(people[coach.user_id], "coach", MONDAY - timedelta(days=30))
    clock.set(MONDAY - timedelta(days=20))
    command(world, ADMIN.user_id, f"coach <@{COACH.user_id}> <@{ANA.user_id}> <@{BEN.user_id}>")
    command(world, BEN.user_id, "share coach on")
    ana_works(records, people[ANA.user_id], MONDAY)
    for who in (ANA, BEN):
        note = records.lesson(people[who.user_id], sent_at=MONDAY - timedelta(days=2), lesson="r")
        reflect(engine, note.id, people[who.user_id], f"{who.name} thinks <!here>", MONDAY - timedelta(days=2))

    # 08:00 UTC on Monday: Slack takes the digest but its answer is lost (a 500 after processing).
    world.emulator.fail_next(1, status=500, method="chat.postMessage", after_processing=True)
    clock.set(MONDAY + timedelta(hours=8))
    world.sprout.tick()
    for minutes in (1, 30, 90, 600):  # the planner keeps running all day; the dispatcher retries
        clock.set(MONDAY + timedelta(hours=8, minutes=minutes))
        world.sprout.tick()

    assert [c["http_status"] for c in world.emulator.calls("chat.postMessage")][:1] == [500], "the lost answer"
    (digest,) = coach_digests(world, COACH.user_id)
    text = json.dumps(digest["blocks"], ensure_ascii=False)
    assert "Mon 23 Nov – Sun 29 Nov 2026" in text and "2 coachees" in text
    assert "Lessons: *3* this week" in text and "“Where do MFA codes come from?” (2 of 2 wrong" in text
    assert "Ben Learner thinks &lt;!here&gt;" in text, "Ben shares his notes"
    assert "Ana Learner thinks" not in text, "Ana does not"
    with engine.connect() as conn:
        rows = conn.execute(select(OutboxMessage.status).where(OutboxMessage.kind == "coach_digest")).scalars().all()
    assert rows == ["sent"]
    assert coach_digests(world, OTHER_COACH.user_id) == [], "a coach with no coachees gets none"
    assert coach_digests(world, ANA.user_id) == []

    # The coach moves theirs to Friday 17:00 with the manager's command; the next Monday brings none.
    assert "Fridays at 17:00" in command(world, COACH.user_id, "digest fri 17:00")
    clock.set(MONDAY + timedelta(days=4, hours=17, minutes=1))
    world.sprout.tick()
    assert len(coach_digests(world, COACH.user_id)) == 2
    assert "Fri 27 Nov – Thu 03 Dec 2026" in json.dumps(coach_digests(world, COACH.user_id)[-1], ensure_ascii=False)
    clock.set(MONDAY + timedelta(days=7, hours=8))
    world.sprout.tick()
    assert len(coach_digests(world, COACH.user_id)) == 2


# -- the roster's coach columns (the CLI, on the emulator) ----------------------------------------------


@pytest.fixture
def directory(engine):  # engine: the schema exists even when an import stops early
    with SlackEmulator(bot_token="xoxb-coach-roster") as emulator:
        for uid, name in (("U0ANA", "Ana"), ("U0BO", "Bo"), ("U0CY", "Cy"), ("U0DEE", "Dee")):
            emulator.add_user(uid, name=name, email=f"{name.lower()}@example.com", tz="Europe/Berlin")
        yield emulator


def roster_coaches(database_url) -> dict[str, str | None]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            coach = Learner.__table__.alias("coach")
            return dict(conn.execute(
                select(Learner.slack_user_id, coach.c.slack_user_id)
                .join(CoachAssignment, CoachAssignment.learner_id == Learner.id)
                .join(coach, coach.c.id == CoachAssignment.coach_id)).all())
    finally:
        engine.dispose()


def test_the_roster_assigns_coaches_by_id_or_email_all_or_nothing(directory, database_url, tmp_path, capsys):
    env = {"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-coach-roster", "SLACK_SIGNING_SECRET": "s",
           "SLACK_API_URL": directory.api_url}
    bad = tmp_path / "bad.csv"
    bad.write_text("email,name,role,coach,coach_email\n"
                   "ana@example.com,Ana,learner,U0BO,\n"  # Bo is a learner in this file, not a coach
                   "bo@example.com,Bo,learner,,\n"
                   "dee@example.com,Dee,learner,,nobody@example.com\n"
                   "cy@example.com,Cy,learner,U0ZZZ,\n")  # nobody Sprout knows
    assert app.main(["roster", "import", str(bad)], environ=env) == 1
    err = capsys.readouterr().err
    assert f"{bad}:4: coach_email: no Slack account has the coach's email nobody@example.com" in err
    assert roster_coaches(database_url) == {}

    bad.write_text("email,name,role,coach,coach_email\n"
                   "ana@example.com,Ana,learner,U0BO,\n"
                   "bo@example.com,Bo,learner,,\n"
                   "cy@example.com,Cy,learner,U0ZZZ,\n")
    assert app.main(["roster", "import", str(bad)], environ=env) == 1
    err = capsys.readouterr().err
    assert f"{bad}:2: coach: U0BO is a learner in this file, not a coach" in err
    assert f"{bad}:4: coach: U0ZZZ is not in Sprout yet: give them a row with role coach" in err
    assert "nothing imported (2 problems)" in err and roster_coaches(database_url) == {}

    good = tmp_path / "hr.csv"
    good.write_text("email,name,role,coach,coach_email\n"
                    "ana@example.com,Ana,learner,U0BO,\n"
                    "dee@example.com,Dee,learner,,bo@example.com\n"
                    "bo@example.com,Bo,coach,,\n")  # made a coach in the same file, on a later line
    assert app.main(["roster", "import", str(good)], environ=env) == 0, capsys.readouterr().err
    assert roster_coaches(database_url) == {"U0ANA": "U0BO", "U0DEE": "U0BO"}

    # A file without coach columns leaves coaches alone; a blank coach cell takes the coach away.
    (tmp_path / "plain.csv").write_text("email,name,role\nana@example.com,Ana,learner\n")
    assert app.main(["roster", "import", str(tmp_path / "plain.csv")], environ=env) == 0
    assert roster_coaches(database_url) == {"U0ANA": "U0BO", "U0DEE": "U0BO"}
    (tmp_path / "blank.csv").write_text("email,name,coach\ndee@example.com,Dee,\n")
    assert app.main(["roster", "import", str(tmp_path / "blank.csv")], environ=env) == 0
    assert roster_coaches(database_url) == {"U0ANA": "U0BO"}
