"""Enrollment rules end to end: a facilitator adds a rule (off), previews whom it matches, turns it on; the
people it matches are enrolled once each, now and when they match later (a channel joined, a user group
changed, a roster imported or synced), whatever Slack repeats. Signed requests through the emulator, on
SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

import app
from db.models import Enrollment, EnrollmentRule, Learner, RuleEnrollment
from sandbox.clock import SimulatedClock
from sandbox.workspace import LocalWorkspace, Person

ADA = Person("U0ADA", "Ada Admin", "Europe/London")
FAY = Person("U0FAY", "Fay Facilitator", "Europe/London")
LEO = Person("U0LEO", "Leo Learner", "Europe/Berlin", "leo@example.com")
NIA = Person("U0NIA", "Nia New", "Asia/Tokyo", "nia@example.com")
OLA = Person("U0OLA", "Ola Ops", "Europe/Oslo", "ola@example.com")
MONDAY_0900 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(database_url):
    clock = SimulatedClock(datetime(2026, 11, 29, 12, tzinfo=UTC))
    settings = dataclasses.replace(app.Settings(), database_url=database_url,
                                   admin_user_ids=frozenset({ADA.user_id}))
    with LocalWorkspace(build=app.build, settings=settings, clock=clock, people=[ADA, FAY, LEO, NIA, OLA],
                        build_options={"listener_workers": 8}) as ws:
        ws.clock = clock
        assert "is now a facilitator" in say(ws, ADA, f"role <@{FAY.user_id}> facilitator")
        ws.new_hires = ws.emulator.add_channel("new-hires", members=[LEO.user_id, NIA.user_id])
        ws.champions = ws.emulator.add_usergroup("security-champions", users=[LEO.user_id, OLA.user_id])
        yield ws


def say(ws, person, text):
    before = len(ws.emulator.ephemerals(person.user_id))
    ws.driver.command(person.user_id, "/learn", text)
    return ws.emulator.wait_for(lambda: ws.emulator.ephemerals(person.user_id)[before:])[-1]["text"]


def rows(ws, *columns, where=()):
    with ws.sprout.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(*columns).where(*where)))


def enrolled(ws, pack_id):
    return [r[0] for r in rows(ws, Learner.slack_user_id, where=[Enrollment.learner_id == Learner.id,
                                                                  Enrollment.pack_id == pack_id])]


def applied(ws):
    return len(rows(ws, RuleEnrollment.id))


# -- channel rules ------------------------------------------------------------------------------


def test_a_channel_rule_previews_then_enrolls_members_now_and_later_joiners_once(world):
    added = say(world, FAY, f"rules add channel <#{world.new_hires}|new-hires> onboarding-essentials")
    assert "Rule *#1* (off)" in added and f"<#{world.new_hires}>" in added
    preview = say(world, FAY, "rules preview 1")
    assert "*2 people* would be enrolled now" in preview
    assert preview.split("now: ")[1].split(".\n")[0] == "Leo Learner, Nia New"  # not the bot, a member too
    assert enrolled(world, "onboarding-essentials") == [], "a draft enrolls nobody"

    on = say(world, FAY, "rules on 1")
    assert "2 people enrolled now" in on
    assert enrolled(world, "onboarding-essentials") == [LEO.user_id, NIA.user_id]

    world.emulator.add_user("U0PIA", name="Pia Joiner", email="pia@example.com", tz="Europe/Paris")
    first = world.driver.member_joined_channel("U0PIA", world.new_hires)
    assert first.status == 200
    assert enrolled(world, "onboarding-essentials") == [LEO.user_id, NIA.user_id, "U0PIA"]
    world.driver.event(first.payload["event"], event_id=first.payload["event_id"], retry_num=1)  # Slack's retry
    world.driver.member_joined_channel("U0PIA", world.new_hires)  # left and joined again: a new event
    assert enrolled(world, "onboarding-essentials") == [LEO.user_id, NIA.user_id, "U0PIA"]
    assert applied(world) == 3
    assert rows(world, Enrollment.status, where=[Enrollment.pack_id == "onboarding-essentials"]) == [("active",)] * 3

    # Enrolled by a rule is enrolled as by hand: the first lesson arrives on the pack's schedule.
    world.clock.set(MONDAY_0900)
    world.sprout.tick()
    assert world.emulator.wait_for(lambda: world.emulator.dm_messages("U0PIA"))


def test_a_non_facilitator_can_neither_add_nor_preview_nor_turn_on_a_rule(world):
    refused = say(world, LEO, f"rules add channel <#{world.new_hires}|new-hires> onboarding-essentials")
    assert "Only facilitators" in refused and "Your role in Sprout is learner" in refused
    assert rows(world, EnrollmentRule.id) == []
    say(world, FAY, f"rules add channel <#{world.new_hires}|new-hires> onboarding-essentials")
    for text in ("rules", "rules preview 1", "rules on 1", "rules off 1"):
        assert "Only facilitators" in say(world, LEO, text)
    assert rows(world, EnrollmentRule.active) == [(False,)]
    assert enrolled(world, "onboarding-essentials") == []


def test_a_learner_who_left_the_pack_or_the_workspace_is_not_enrolled_again(world):
    say(world, FAY, "rules add channel #new-hires onboarding-essentials")  # unescaped: looked up by name
    assert "2 people enrolled now" in say(world, FAY, "rules on 1")
    with world.sprout.engine.begin() as conn:  # Leo leaves the pack
        conn.execute(update(Enrollment).where(Enrollment.pack_id == "onboarding-essentials",
                                              Enrollment.learner_id == world.sprout.store.learner(LEO.user_id).id)
                     .values(status="left"))
    world.driver.member_joined_channel(LEO.user_id, world.new_hires)
    world.sprout.admin.sync_roster(world.sprout.bolt.client, world.clock())
    assert rows(world, Learner.slack_user_id, Enrollment.status,
                where=[Enrollment.learner_id == Learner.id, Learner.slack_user_id == LEO.user_id]) == [
        (LEO.user_id, "left")]

    world.emulator.add_user("U0GONE", name="Gone Soon", tz="UTC")
    world.sprout.admin.sync_roster(world.sprout.bolt.client, world.clock())  # known to Sprout
    world.emulator.deactivate_user("U0GONE")
    world.driver.user_change("U0GONE")  # a leaver
    world.driver.member_joined_channel("U0GONE", world.new_hires)
    world.sprout.admin.sync_roster(world.sprout.bolt.client, world.clock())
    assert "U0GONE" not in enrolled(world, "onboarding-essentials")


def test_turning_a_rule_off_stops_it_for_later_joiners(world):
    say(world, FAY, f"rules add channel <#{world.new_hires}|new-hires> onboarding-essentials")
    say(world, FAY, "rules on 1")
    assert "is off" in say(world, FAY, "rules off 1")
    world.driver.member_joined_channel(OLA.user_id, world.new_hires)
    assert OLA.user_id not in enrolled(world, "onboarding-essentials")
    listing = say(world, FAY, "rules")
    assert "*#1* ⚪ off" in listing and "2 enrolled by it" in listing


# -- user group rules ---------------------------------------------------------------------------


def test_a_group_rule_enrolls_members_and_those_the_group_gains_once(world):
    mention = f"<!subteam^{world.champions}|@security-champions>"
    assert "Rule *#1* (off)" in say(world, FAY, f"rules add group {mention} security-basics")
    preview = say(world, FAY, "rules preview 1")
    assert "*2 people* would be enrolled now" in preview and "Ola Ops" in preview
    assert "2 people enrolled now" in say(world, FAY, "rules on 1")
    assert enrolled(world, "security-basics") == [LEO.user_id, OLA.user_id]

    changed = world.driver.subteam_members_changed(world.champions, add=[NIA.user_id])
    assert changed.status == 200 and changed.payload["event"]["added_users"] == [NIA.user_id]
    world.driver.event(changed.payload["event"], event_id=changed.payload["event_id"], retry_num=1)
    assert enrolled(world, "security-basics") == [LEO.user_id, NIA.user_id, OLA.user_id]
    assert applied(world) == 3

    # An event Sprout missed: the daily roster sync catches it up.
    world.emulator.add_user("U0QUI", name="Qui Quiet", tz="UTC")
    world.emulator.change_usergroup(world.champions, add=["U0QUI"])
    world.sprout.admin.sync_roster(world.sprout.bolt.client, world.clock())
    world.sprout.admin.sync_roster(world.sprout.bolt.client, world.clock())
    assert enrolled(world, "security-basics") == [LEO.user_id, NIA.user_id, OLA.user_id, "U0QUI"]
    assert applied(world) == 4


def test_a_group_by_handle_and_an_unknown_group(world):
    assert "Rule *#1* (off)" in say(world, FAY, "rules add group @security-champions security-basics")
    assert rows(world, EnrollmentRule.target, EnrollmentRule.label) == [(world.champions, "security-champions")]
    assert "There is no user group @nope" in say(world, FAY, "rules add group <!subteam^S0NOPE|@nope> security-basics")
    assert "already there" in say(world, FAY, f"rules add group <!subteam^{world.champions}> security-basics")
    assert len(rows(world, EnrollmentRule.id)) == 1


def test_a_non_facilitator_cannot_make_a_group_rule(world):
    assert "Only facilitators" in say(world, OLA, "rules add group @security-champions security-basics")
    assert rows(world, EnrollmentRule.id) == []


# -- roster department rules ----------------------------------------------------------------------


def _import(ws, tmp_path, database_url, text):
    roster = tmp_path / "roster.csv"
    roster.write_text(text)
    env = {"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": ws.emulator.bot_token, "SLACK_SIGNING_SECRET": "s",
           "SLACK_API_URL": ws.emulator.api_url}
    return app.main(["roster", "import", str(roster)], environ=env)


def test_a_department_rule_enrolls_the_roster_department_now_and_after_each_import(world, tmp_path, database_url,
                                                                                    capsys):
    header = "slack_user_id,name,department,team\n"
    assert _import(world, tmp_path, database_url, header + f"{LEO.user_id},Leo,Sales,Berlin\n"
                                                           f"{NIA.user_id},Nia,Engineering,Tokyo\n") == 0
    assert "Rule *#1* (off)" in say(world, FAY, "rules add department sales feedback-essentials")
    preview = say(world, FAY, "rules preview 1")
    assert "*1 person* would be enrolled now: Leo" in preview
    assert "1 person enrolled now" in say(world, FAY, "rules on 1")
    assert enrolled(world, "feedback-essentials") == [LEO.user_id]

    capsys.readouterr()
    again = header + f"{LEO.user_id},Leo,Sales,Berlin\n{NIA.user_id},Nia,Engineering,Tokyo\n{OLA.user_id},Ola,Sales,\n"
    assert _import(world, tmp_path, database_url, again) == 0
    assert "1 enrolled by rules" in capsys.readouterr().out
    assert _import(world, tmp_path, database_url, again) == 0
    assert enrolled(world, "feedback-essentials") == [LEO.user_id, OLA.user_id]
    assert applied(world) == 2


def test_a_team_rule_and_a_non_facilitator(world, tmp_path, database_url):
    assert _import(world, tmp_path, database_url, f"slack_user_id,team\n{OLA.user_id},Platform\n") == 0
    assert "Only facilitators" in say(world, NIA, "rules add department Sales feedback-essentials")
    say(world, FAY, "rules add team platform feedback-essentials")
    assert "1 person enrolled now" in say(world, FAY, "rules on 1")
    assert enrolled(world, "feedback-essentials") == [OLA.user_id]


def test_a_rule_for_a_gated_pack_is_refused_with_the_reason(world):
    refused = say(world, FAY, "rules add department Sales data-privacy-basics")
    assert "comes after *Security Basics*" in refused and "security-basics" in refused
    assert rows(world, EnrollmentRule.id) == []
    assert "There is no pack called `nope`" in say(world, FAY, "rules add department Sales nope")


def test_what_a_person_typed_is_escaped(world):
    reply = say(world, FAY, "rules add department <!channel>&co feedback-essentials")
    assert "<!channel>" not in reply
    reply = say(world, FAY, "rules add department R&D *bold* feedback-essentials")
    assert "R&amp;D" in reply and "<!" not in reply


# -- rules from a file ----------------------------------------------------------------------------


def test_a_rules_file_adds_drafts_and_a_broken_one_names_its_line_and_changes_nothing(world, tmp_path,
                                                                                      database_url, capsys):
    env = {"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": world.emulator.bot_token, "SLACK_SIGNING_SECRET": "s",
           "SLACK_API_URL": world.emulator.api_url}
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules:\n"
                      "  - channel: '#new-hires'\n"
                      "    pack: onboarding-essentials\n"
                      "  - group: '@no-such-group'\n"
                      "    pack: security-basics\n"
                      "  - department: Sales\n"
                      "    pack: nope\n")
    assert app.main(["rules", "import", str(broken)], environ=env) == 1
    err = capsys.readouterr().err
    assert f"{broken}:7: unknown pack 'nope'" in err and "nothing changed" in err
    broken.write_text(broken.read_text().replace("pack: nope", "pack: feedback-essentials"))
    assert app.main(["rules", "import", str(broken)], environ=env) == 1
    assert f"{broken}:4: There is no user group @no-such-group" in capsys.readouterr().err
    assert rows(world, EnrollmentRule.id) == []

    good = tmp_path / "rules.yaml"
    good.write_text(broken.read_text().replace("@no-such-group", "@security-champions"))
    assert app.main(["rules", "import", str(good)], environ=env) == 0
    assert "3 rules added" in capsys.readouterr().out
    assert rows(world, EnrollmentRule.kind, EnrollmentRule.target, EnrollmentRule.active) == sorted([
        ("channel", world.new_hires, False), ("group", world.champions, False), ("department", "Sales", False)])
    assert app.main(["rules", "import", str(good)], environ=env) == 0
    assert "0 rules added, 3 already there" in capsys.readouterr().out
    assert enrolled(world, "security-basics") == [], "imported rules are drafts"

