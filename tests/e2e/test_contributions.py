"""Contributions end to end over signed HTTP against the emulator (which checks every view against Slack's
limits): ``/learn suggest`` with its form refused and accepted, one record for a double submit, the queue on
a facilitator's Home tab (never on a learner's), review by accepting, declining with a reason and editing,
the contributor told once, the accepted item written into the pack's contributions file and served from
the next reload as a new version, history untouched, and the export a maintainer can ``git apply``.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from sqlalchemy import select

import app
from bot.contributions import OUTCOME, QUEUE_NOTE, REVIEW_ACTION, review_modal
from db.models import Delivery, OutboxMessage, PackContribution
from sandbox import blockkit
from sandbox.clock import SimulatedClock
from sandbox.workspace import LocalWorkspace, Person
from tests.e2e.test_announcements import count, roster

FAC = Person("U0FAC", "Fay Facilitator", "Europe/Berlin")
ANN, BOB, ADA = "U0ANN", "U0BOB", "U0ADA"
SUNDAY = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
MONDAY_0900_BERLIN = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
NASTY = "Which is safest? <!channel> & <@U0FAC>"
PACK = """\
id: safety
title: Safety First
description: Two lessons.
version: 1
schedule: {days: [mon, tue, wed, thu, fri], time: "09:00"}
lessons:
  - id: one
    title: Lesson one
    minutes: 2
    body: The first lesson.
  - id: two
    title: Lesson two
    minutes: 2
    body: The second lesson.
    quiz:
      - id: q1
        prompt: Is this the second lesson?
        answer: true
        explain: It is.
"""


@pytest.fixture
def packs(tmp_path):
    """A clean git checkout holding the pack: what a maintainer applies the export to."""
    repo = tmp_path / "repo"
    (repo / "content_packs" / "safety").mkdir(parents=True)
    (repo / "content_packs" / "safety" / "pack.yaml").write_text(PACK)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "packs"], check=True)
    return repo


def make_world(database_url, packs_dir, contributions_dir=None):
    clock = SimulatedClock(SUNDAY)
    settings = dataclasses.replace(app.Settings(), database_url=database_url, reminder_after_hours=0,
                                   content_packs_dir=packs_dir, contributions_dir=contributions_dir,
                                   admin_user_ids=frozenset({ADA}))
    ws = LocalWorkspace(build=app.build, settings=settings, clock=clock, people=[FAC],
                        build_options={"listener_workers": 16})
    ws.clock = clock
    return ws


@pytest.fixture
def world(database_url, packs, tmp_path):
    """Sprout serving a copy of the packs (as from an installed package), writing contributions elsewhere."""
    served = tmp_path / "served"
    shutil.copytree(packs / "content_packs", served)
    (tmp_path / "contributions").mkdir()
    with make_world(database_url, served, tmp_path / "contributions") as ws:
        roster(ws, [(FAC.user_id, FAC.name, "facilitator", None, FAC.tz), (ANN, "Ann", "learner", "crew", "UTC"),
                    (BOB, "Bob", "learner", "crew", "UTC"), (ADA, "Ada", "admin", None, "UTC")])
        ws.contributions_dir = tmp_path / "contributions"
        yield ws


def command(ws, user, text):
    before = len(ws.emulator.ephemerals(user))
    ws.driver.command(user, "/learn", text)
    return ws.emulator.wait_for(lambda: ws.emulator.ephemerals(user)[before:])[-1]["text"]


def open_modal(ws, user, start, callback_id):
    before = {v["id"] for v in ws.emulator.open_views(user)}
    start()
    return ws.emulator.wait_for(lambda: [v for v in ws.emulator.open_views(user)
                                         if v["id"] not in before and v["callback_id"] == callback_id])[-1]


def suggest_form(ws, user, kind=""):
    form = open_modal(ws, user, lambda: ws.driver.command(user, "/learn", f"suggest {kind}".strip()),
                      "contribution_suggest")
    assert not blockkit.validate_view({k: form[k] for k in ("type", "title", "submit", "close", "blocks")})
    return form


def titled(ws, view, title):
    return ws.emulator.wait_for(lambda: (ws.emulator.view(view["id"]) or {}).get("title", {}).get("text") == title
                                and ws.emulator.view(view["id"]))


def question_values(stem=NASTY, **extra):
    values = {"target": "safety/one", "stem": stem, "option1": "Share a link with access controls",
              "option2": "Email an attachment", "option3": "", "right": "1",
              "explain": "A link keeps one copy you can limit & withdraw."}
    values.update(extra)
    return values


def home(ws, user):
    ws.driver.app_home_opened(user)
    return ws.emulator.wait_for(lambda: ws.emulator.home_view(user))


def home_text(ws, user):
    return json.dumps((ws.emulator.home_view(user) or {}).get("blocks", []), ensure_ascii=False)


def review_form(ws, user, contribution_id):
    surface = home(ws, user)
    ws.emulator.wait_for(lambda: f"home-contribution:{contribution_id}" in home_text(ws, user))
    surface = ws.emulator.home_view(user)
    return open_modal(ws, user, lambda: ws.driver.click(user, surface, action_id=REVIEW_ACTION,
                                                        value=json.dumps({"c": contribution_id}, separators=(",", ":"))),
                      "contribution_review")


def outcome_dms(ws, user, kind=OUTCOME):
    ws.sprout.dispatcher.dispatch()
    return [m for m in ws.emulator.dm_messages(user)
            if (m.get("metadata") or {}).get("event_payload", {}).get("kind") == kind]


def records(ws):
    with ws.sprout.engine.connect() as conn:
        return conn.execute(select(PackContribution).order_by(PackContribution.id)).all()


def text_of(message):
    return json.dumps(message.get("blocks") or [], ensure_ascii=False) + message.get("text", "")


def test_a_suggested_question_is_reviewed_written_and_served_from_the_next_reload(world):
    ws = world
    command(ws, ANN, "enroll safety")
    ws.clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    ws.sprout.tick()  # lesson one goes out at version 1
    with ws.sprout.engine.connect() as conn:
        assert conn.execute(select(Delivery.lesson_id, Delivery.pack_version)).all() == [("one", 1)]

    form = suggest_form(ws, ANN)
    refused = ws.driver.submit_view(ANN, form, question_values(option2="share a link with ACCESS controls",
                                                               right="3"))
    assert refused.view_errors == {"option2": "This is the same as option 1.",
                                   "right": "Option 3 is empty: pick one you filled in."}
    assert count(ws, PackContribution) == 0
    form = ws.emulator.view(form["id"])
    sent = ws.driver.submit_view(ANN, form, question_values())
    assert sent.view_errors is None, sent.text
    titled(ws, form, "Thank you")
    ws.driver.resend(sent)  # a double submit: the same form again
    ws.driver.resend(sent)
    [record] = records(ws)
    assert (record.kind, record.pack_id, record.lesson_id, record.state) == ("question", "safety", "one", "proposed")
    assert json.loads(record.content) == {"prompt": NASTY, "choices": ["Share a link with access controls",
                                                                      "Email an attachment"],
                                          "answer": "Share a link with access controls",
                                          "explain": "A link keeps one copy you can limit & withdraw."}

    # Bob's link is pending too: Ann's Home shows her own only; the facilitator's the queue, escaped.
    bob_form = suggest_form(ws, BOB, "link")
    assert ws.driver.submit_view(BOB, bob_form, {"target": "safety/two", "link_kind": "article", "title": "Guide",
                                                 "url": "https://example.org/guide"}).view_errors is None
    home(ws, ANN)
    ws.emulator.wait_for(lambda: "Your contributions" in home_text(ws, ANN))
    assert "waiting for review" in home_text(ws, ANN) and "Guide" not in home_text(ws, ANN)
    assert "Contributions to review" not in home_text(ws, ANN) and REVIEW_ACTION not in home_text(ws, ANN)
    home(ws, FAC.user_id)
    ws.emulator.wait_for(lambda: "Contributions to review* (2)" in home_text(ws, FAC.user_id))
    text = home_text(ws, FAC.user_id)
    assert "&lt;!channel&gt; &amp; &lt;@U0FAC&gt;" in text and "<!channel>" not in text and "Guide" in text

    # The weekly note: Monday from 09:00 in the facilitator's zone, once.
    ws.clock.set(MONDAY_0900_BERLIN + timedelta(days=7))
    ws.sprout.tick()
    ws.clock.set(MONDAY_0900_BERLIN + timedelta(days=7, hours=3))
    ws.sprout.tick()
    [note] = outcome_dms(ws, FAC.user_id, QUEUE_NOTE)
    assert "2 contributions waiting for review" in note["text"] and "<!channel>" not in text_of(note)
    assert outcome_dms(ws, ADA, QUEUE_NOTE), "admins get it too"

    review = review_form(ws, FAC.user_id, record.id)
    assert not blockkit.validate_view({k: review[k] for k in ("type", "title", "submit", "close", "blocks")})
    accepted = ws.driver.submit_view(FAC.user_id, review, {"decision": "accept"})
    assert accepted.view_errors is None, accepted.text
    done = titled(ws, review, "Reviewed")
    assert "accepted by Fay Facilitator" in json.dumps(done["blocks"]) and "version 2" in json.dumps(done["blocks"])
    ws.driver.resend(accepted)  # a double click on Decide
    [record] = records(ws)[:1]
    assert (record.state, record.pack_version) == ("accepted", 2)
    written = yaml.safe_load((ws.contributions_dir / "safety" / "contributions.yaml").read_text())
    assert written["version"] == 2 and written["questions"] == [{
        "lesson": "one", "id": f"c{record.id}", "prompt": NASTY,
        "choices": ["Share a link with access controls", "Email an attachment"],
        "answer": "Share a link with access controls", "explain": "A link keeps one copy you can limit & withdraw.",
        "contributed_by": "Ann"}]
    [dm] = outcome_dms(ws, ANN)
    assert "was accepted" in text_of(dm) and "<!channel>" not in text_of(dm) and "&lt;!channel&gt;" in text_of(dm)

    # Not served until the packs are reloaded; then served as version 2.
    assert ws.sprout.catalog.lesson("safety", "one").quiz == []
    assert "Reloaded: 1 packs serving." in command(ws, ADA, "admin reload")
    served = ws.sprout.catalog.get("safety")
    assert served.version == 2 and served.lesson("one").quiz[0].contributed_by == "Ann"
    # Lesson one, on request: the contributed question and its credit, escaped, at version 2.
    ws.sprout.service.send_lesson(BOB, "safety", "one", ws.clock())  # Bob's copy, as "Send me this" sends it
    ws.sprout.dispatcher.dispatch()
    shown = ws.emulator.wait_for(lambda: [m for m in ws.emulator.dm_messages(BOB) if "Lesson one" in text_of(m)
                                          and "With contributions from Ann" in text_of(m)])
    with ws.sprout.engine.connect() as conn:
        versions = conn.execute(select(Delivery.lesson_id, Delivery.pack_version).order_by(Delivery.id)).all()
    assert versions == [("one", 1), ("two", 1), ("one", 2)], "earlier deliveries keep the version they were sent at"
    assert "&lt;!channel&gt;" in text_of(shown[-1]) and "<!channel>" not in text_of(shown[-1])
    assert len(outcome_dms(ws, ANN)) == 1, "told once"


def test_decline_needs_a_reason_and_an_edited_lesson_is_recorded_as_changed(world):
    ws = world
    form = suggest_form(ws, BOB, "link")
    refused = ws.driver.submit_view(BOB, form, {"target": "safety/two", "link_kind": "video", "title": "Talk",
                                                "url": "http://example.org/talk", "minutes": "ten"})
    assert refused.view_errors == {"url": "Links must start with https://",
                                   "minutes": "A whole number of minutes, from 1 to 600 (or leave it empty)."}
    assert ws.driver.submit_view(BOB, ws.emulator.view(form["id"]),
                                 {"url": "https://example.org/talk", "minutes": "12"}).view_errors is None
    form = suggest_form(ws, ANN)
    ws.driver.select(ANN, form, "contribution_kind", "lesson")
    form = ws.emulator.wait_for(lambda: any(b.get("block_id") == "body"
                                            for b in ws.emulator.view(form["id"])["blocks"])
                                and ws.emulator.view(form["id"]))
    assert not blockkit.validate_view({k: form[k] for k in ("type", "title", "submit", "close", "blocks")})
    refused = ws.driver.submit_view(ANN, form, {"target": "safety/", "title": "Tailgating", "minutes": "45",
                                                "body": "Hold the door? See [this](http://example.org).",
                                                "stem": "Let them in?"})
    assert refused.view_errors == {
        "minutes": "The honest reading time: a whole number of minutes from 1 to 30.",
        "body": "Links must start with https://", "option1": "Give at least 2 options.",
        "right": "Pick the right option.",
        "explain": "Explain the answer: learners see it after answering, right or wrong."}
    ok = ws.driver.submit_view(ANN, ws.emulator.view(form["id"]), {
        "minutes": "3", "body": "Hold the door? **Not** for strangers: ask for their badge.", "option1": "Yes",
        "option2": "No", "right": "2", "explain": "Ask for a badge first."})
    assert ok.view_errors is None, ok.text
    link, lesson = records(ws)

    review = review_form(ws, FAC.user_id, link.id)
    refused = ws.driver.submit_view(FAC.user_id, review, {"decision": "decline"})
    assert refused.view_errors == {"reason": "Say why it is declined: the contributor is told."}
    assert ws.driver.submit_view(FAC.user_id, ws.emulator.view(review["id"]),
                                 {"reason": "We link <!here> only to our own talks."}).view_errors is None
    [dm] = outcome_dms(ws, BOB)
    assert "not added" in text_of(dm) and "&lt;!here&gt;" in text_of(dm) and "<!here>" not in text_of(dm)

    review = review_form(ws, FAC.user_id, lesson.id)
    ok = ws.driver.submit_view(FAC.user_id, review, {"title": "Tailgating at the door", "decision": "accept"})
    assert ok.view_errors is None, ok.text
    link, lesson = records(ws)
    assert (link.state, link.reason, link.accepted_content) == ("declined", "We link <!here> only to our own talks.",
                                                                None)
    assert lesson.state == "changed" and json.loads(lesson.content)["title"] == "Tailgating"
    assert json.loads(lesson.accepted_content)["title"] == "Tailgating at the door"
    [dm] = outcome_dms(ws, ANN)
    assert "accepted with a few changes" in text_of(dm)
    written = yaml.safe_load((ws.contributions_dir / "safety" / "contributions.yaml").read_text())
    assert written["lessons"] == [{"id": f"c{lesson.id}-tailgating-at-the-door", "title": "Tailgating at the door",
                                   "minutes": 3, "body": "Hold the door? **Not** for strangers: ask for their badge.",
                                   "quiz": [{"id": "q1", "prompt": "Let them in?", "choices": ["Yes", "No"],
                                             "answer": "No", "explain": "Ask for a badge first."}],
                                   "contributed_by": "Ann"}]
    ws.sprout.admin.reload_packs(ws.clock())
    served = ws.sprout.catalog.get("safety")
    assert [x.id for x in served.lessons] == ["one", "two", f"c{lesson.id}-tailgating-at-the-door"]
    assert served.lessons[-1].contributed_by == "Ann" and served.lesson("two").links == []


def test_a_learner_cannot_review(world):
    ws = world
    form = suggest_form(ws, ANN)
    assert ws.driver.submit_view(ANN, form, question_values(stem="Which?")).view_errors is None
    [record] = records(ws)
    home(ws, FAC.user_id)
    ws.emulator.wait_for(lambda: f"home-contribution:{record.id}" in home_text(ws, FAC.user_id))
    # Bob presses the Review button of the facilitator's Home (a forged click): refused on the server.
    ws.driver.click(BOB, ws.emulator.home_view(FAC.user_id), action_id=REVIEW_ACTION)
    [shown] = ws.emulator.wait_for(lambda: ws.emulator.open_views(BOB))
    assert shown["title"]["text"] == "Not allowed" and "Only facilitators" in json.dumps(shown["blocks"])
    ws.driver.close_view(BOB, shown)
    # A review form submitted by a learner (say, one demoted since it opened) changes nothing.
    trigger = ws.emulator.issue_trigger_id(BOB)
    ws.sprout.bolt.client.views_open(trigger_id=trigger,
                                     view=review_modal(ws.sprout.store.pack_contribution(record.id), ws.sprout.catalog))
    forged = ws.emulator.open_views(BOB)[-1]
    refused = ws.driver.submit_view(BOB, forged, {"decision": "accept"})
    assert "Only facilitators" in refused.view_errors["decision"]
    assert records(ws)[0].state == "proposed"
    assert not (ws.contributions_dir / "safety").exists()
    assert outcome_dms(ws, ANN) == []
    with ws.sprout.engine.connect() as conn:
        assert conn.execute(select(OutboxMessage.kind).where(OutboxMessage.kind == OUTCOME)).all() == []


def test_the_export_is_a_patch_git_applies_on_a_clean_tree(world, packs, capsys):
    ws = world
    for stem in ("First?", "Second?"):
        form = suggest_form(ws, ANN)
        assert ws.driver.submit_view(ANN, form, question_values(stem=stem)).view_errors is None
    for record in records(ws):
        review = review_form(ws, FAC.user_id, record.id)
        assert ws.driver.submit_view(FAC.user_id, review, {"decision": "accept"}).view_errors is None
    env = {"DATABASE_URL": ws.sprout.settings.database_url, "CONTENT_PACKS_DIR": str(ws.sprout.settings.content_packs_dir),
           "CONTRIBUTIONS_DIR": str(ws.contributions_dir)}
    patch_file = packs.parent / "contributions.patch"
    assert app.main(["packs", "contributions", "--export", "--against", str(packs / "content_packs"),
                     "--out", str(patch_file)], environ=env) == 0
    patch = patch_file.read_text()
    assert patch.startswith("diff --git a/content_packs/safety/contributions.yaml b/content_packs/safety/")
    subprocess.run(["git", "-C", str(packs), "apply", "--check", str(patch_file)], check=True)
    subprocess.run(["git", "-C", str(packs), "apply", str(patch_file)], check=True)
    capsys.readouterr()
    assert app.main(["packs", "validate", str(packs / "content_packs")], environ=env) == 0
    assert "1 packs, 2 lessons: all valid" in capsys.readouterr().out
    # Applied: the checkout now holds the contributions; a second export has nothing left to change.
    assert app.main(["packs", "contributions", "--export", "--against", str(packs / "content_packs")],
                    environ=env) == 0
    assert capsys.readouterr().out == ""


def test_a_broken_contributions_file_keeps_the_previous_version_serving(world):
    ws = world
    form = suggest_form(ws, ANN)
    assert ws.driver.submit_view(ANN, form, question_values(stem="Which?")).view_errors is None
    [record] = records(ws)
    assert ws.driver.submit_view(FAC.user_id, review_form(ws, FAC.user_id, record.id),
                                 {"decision": "accept"}).view_errors is None
    command(ws, ADA, "admin reload")
    assert ws.sprout.catalog.get("safety").version == 2
    file = ws.contributions_dir / "safety" / "contributions.yaml"
    file.write_text(file.read_text().replace("lesson: one", "lesson: three"))
    reply = command(ws, ADA, "admin reload")
    assert f"{file}:" in reply and "questions.0.lesson: no lesson 'three' in the pack" in reply
    served = ws.sprout.catalog.get("safety")
    assert served.version == 2 and served.lesson("one").quiz[0].id == f"c{record.id}", "the previous version serves"


def test_contributions_count_in_the_managers_digest_and_the_report(world):
    """Communities of practice: what the team proposed this week and what of it was accepted, counted in SQL."""
    from db.reporting import Reporting
    from learning.roster import RosterRow
    from tests.e2e.test_digest import command as digest_command
    from tests.e2e.test_digest import field

    ws = world
    ws.sprout.store.import_roster([RosterRow(2, "U0MIA", "Mia", None, "manager", None, "crew", "UTC", ()),
                                   RosterRow(3, ANN, "Ann", None, "learner", "U0MIA", "crew", "UTC", ()),
                                   RosterRow(4, BOB, "Bob", None, "learner", "U0MIA", "crew", "UTC", ())], ws.clock())
    ws.emulator.add_user("U0MIA", name="Mia", real_name="Mia", tz="UTC")
    ws.clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))  # a Tuesday: this week so far
    for user, stem in ((ANN, "One?"), (ANN, "Two?"), (BOB, "Three?")):
        assert ws.driver.submit_view(user, suggest_form(ws, user), question_values(stem=stem)).view_errors is None
    first, second, third = records(ws)
    assert ws.driver.submit_view(FAC.user_id, review_form(ws, FAC.user_id, first.id),
                                 {"decision": "accept"}).view_errors is None
    assert ws.driver.submit_view(FAC.user_id, review_form(ws, FAC.user_id, third.id),
                                 {"decision": "decline", "reason": "Duplicate."}).view_errors is None

    ws.clock.set(datetime(2026, 12, 1, 11, 0, tzinfo=UTC))
    digest = digest_command(ws, "U0MIA", "digest")
    assert field(digest, "Communities of practice").startswith("3 proposed · 1 accepted")
    reporting = Reporting(ws.sprout.engine)
    since, until = datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC)
    totals = reporting.totals(since, until)
    assert (totals.proposed, totals.accepted) == (3, 1)
    by_team = {o.group: (o.figures.proposed, o.figures.accepted) for o in reporting.outcomes(since, until, by="team")}
    by_pack = {o.group: (o.figures.proposed, o.figures.accepted) for o in reporting.outcomes(since, until, by="pack")}
    assert by_team["crew"] == (3, 1) and by_pack["safety"] == (3, 1)
    earlier = reporting.totals(since - timedelta(days=7), since)
    assert (earlier.proposed, earlier.accepted) == (0, 0)


def test_forgetting_a_contributor_takes_their_name_off_the_contributions_file(world, capsys):
    ws = world
    assert ws.driver.submit_view(ANN, suggest_form(ws, ANN), question_values(stem="Ann's?")).view_errors is None
    assert ws.driver.submit_view(ANN, suggest_form(ws, ANN, "link"), {
        "target": "safety/two", "link_kind": "article", "title": "Ann's guide",
        "url": "https://example.org/ann"}).view_errors is None
    assert ws.driver.submit_view(BOB, suggest_form(ws, BOB), question_values(stem="Bob's?")).view_errors is None
    for record in records(ws):
        assert ws.driver.submit_view(FAC.user_id, review_form(ws, FAC.user_id, record.id),
                                     {"decision": "accept"}).view_errors is None
    file = ws.contributions_dir / "safety" / "contributions.yaml"
    version = yaml.safe_load(file.read_text())["version"]
    assert file.read_text().count("contributed_by: Ann") == 2

    env = {"DATABASE_URL": ws.sprout.settings.database_url,
           "CONTENT_PACKS_DIR": str(ws.sprout.settings.content_packs_dir), "CONTRIBUTIONS_DIR": str(ws.contributions_dir)}
    capsys.readouterr()
    assert app.main(["learner", "forget", ANN], environ=env) == 0
    assert str(file) in capsys.readouterr().out
    written = yaml.safe_load(file.read_text())
    credits = {item.get("prompt") or item.get("title"): item["contributed_by"]
               for section in ("questions", "links") for item in written.get(section, [])}
    assert credits == {"Ann's?": "a former colleague", "Ann's guide": "a former colleague", "Bob's?": "Bob"}
    assert "Ann" not in file.read_text().replace("Ann's", ""), "no other trace of the name"
    assert written["version"] == version, "the content is the same: records keep their meaning"
    assert "Reloaded: 1 packs serving." in command(ws, ADA, "admin reload")
    assert ws.sprout.catalog.get("safety").lesson("one").quiz[0].contributed_by == "a former colleague"
    # Run again (say after a failure): nothing left to change, no learner to forget.
    assert app.main(["learner", "forget", ANN], environ=env) == 1
