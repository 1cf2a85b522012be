"""Managers' weekly digests end to end: planned on the simulated clock, drawn, sent through the emulator
(which validates every block against Slack's limits), and ``/learn digest`` over signed HTTP, all as
app.build wires them.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

import app
from db.reporting import Reporting
from learning.roster import RosterRow
from sandbox.workspace import LocalWorkspace, Person
from tests.db.test_reporting import Records, expected_week
from tests.e2e.conftest import BERLIN, NEW_YORK

MONDAY = datetime(2026, 11, 30, tzinfo=UTC)  # digests cover Mon 23 – Sun 29 November
REPORT_URL = "https://reports.example.com/sprout/latest.html"
NASTY = "<!channel> read this <@U0BERLIN> & <https://evil.example|https://good.example>"


@pytest.fixture
def world(database_url, clock):
    settings = dataclasses.replace(app.Settings(), database_url=database_url, report_url=REPORT_URL)
    with LocalWorkspace(build=app.build, settings=settings, clock=clock, people=[BERLIN, NEW_YORK],
                        build_options={"listener_workers": 16}) as workspace:
        yield workspace


@pytest.fixture
def hooks(world):
    """The reporting queries on the world's database (settings such as an hour's cost are read there)."""
    return SimpleNamespace(reporting=Reporting(world.sprout.engine))


@pytest.fixture
def records(world):
    return Records(world.sprout.engine)


def roster(world, *rows: tuple[str, str, str, str | None, str | None, str]) -> dict[str, int]:
    """People as the roster CSV would give them: (user id, name, role, manager, team, time zone)."""
    entries = [RosterRow(i + 2, uid, name, None, role, manager, team, tz, ()) for i, (uid, name, role, manager, team, tz)
               in enumerate(rows)]
    world.sprout.store.import_roster(entries, MONDAY - timedelta(days=60))
    for uid, name, _, _, _, tz in rows:
        world.add_person(Person(uid, name, tz))
    return {uid: world.sprout.store.learner(uid).id for uid, *_ in rows}


def command(world, user_id: str, text: str) -> dict:
    before = len(world.emulator.ephemerals(user_id))
    world.driver.command(user_id, "/learn", text)
    return world.emulator.wait_for(lambda: world.emulator.ephemerals(user_id)[before:])[-1]


def digests_in(world, user_id: str) -> list[dict]:
    return [m for m in world.emulator.dm_messages(user_id)
            if m.get("blocks") and m["blocks"][0].get("block_id") == "digest-header"]


def files_in(world, user_id: str) -> list[dict]:
    return [m for m in world.emulator.dm_messages(user_id) if m.get("files")]


def field(message: dict, label: str) -> str:
    fields = next(b for b in message["blocks"] if b.get("block_id") == "figures")["fields"]
    return next(f["text"] for f in fields if f["text"].startswith(f"*{label}*")).split("\n", 1)[1]


def all_text(message: dict) -> str:
    out = [message.get("text") or ""]
    for block in message.get("blocks") or []:
        for part in [block.get("text")] + block.get("fields", []) + block.get("elements", []):
            if isinstance(part, dict) and "text" in part:
                out.append(part["text"] if isinstance(part["text"], str) else part["text"].get("text", ""))
    return "\n".join(out)


def tick_through(world, clock, start: datetime, end: datetime, step: timedelta) -> None:
    clock.set(start)
    while clock() <= end:
        world.sprout.tick()
        clock.set(clock() + step)


def test_digests_arrive_at_eight_in_each_managers_own_zone(world, clock, hooks, records):
    ids = roster(
        world,
        ("U0MGRBER", "Mia Berlin", "manager", None, "Platform", "Europe/Berlin"),
        ("U0MGRNY", "Noah New York", "manager", None, "Sales", "America/New_York"),
        ("U0REPB1", "Rita Berlin", "learner", "U0MGRBER", "Platform", "Europe/Berlin"),
        ("U0REPB2", "Ravi Berlin", "learner", "U0MGRBER", "Platform", "Europe/Berlin"),
        ("U0REPN1", "Nora New York", "learner", "U0MGRNY", "Sales", "America/New_York"),
    )
    week_start = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # Mon 23 Nov, 00:00 in Berlin
    b1, b2, n1 = ids["U0REPB1"], ids["U0REPB2"], ids["U0REPN1"]
    for lid in (b1, b2, n1):
        records.enroll(lid, "habits", at=MONDAY - timedelta(days=60))
    for day in range(5):  # this week: Rita answers everything, Ravi half, both rate
        at = week_start + timedelta(days=day, hours=9)
        records.lesson(b1, sent_at=at, answers=[("q1", True, at + timedelta(hours=1)),
                                                ("q2", day % 2 == 0, at + timedelta(hours=1))], rating=4)
        records.lesson(b2, sent_at=at, answers=[("q1", False, at + timedelta(hours=2))] if day < 3 else [],
                       rating=2 if day == 0 else None, comment=NASTY if day == 0 else None)
    for day in range(3):  # the week before: fewer lessons
        at = week_start - timedelta(days=7 - day, hours=-9)
        records.lesson(b1, sent_at=at, answers=[("q1", True, at + timedelta(hours=1))])
    later = week_start + timedelta(days=6, hours=10)
    records.lesson(n1, sent_at=later, answers=[("q1", True, later)])  # Sunday in New York: in its week
    records.certificate(b1, issued_at=week_start + timedelta(days=3), name="Habits <certified>")

    tick_through(world, clock, MONDAY + timedelta(hours=5), MONDAY + timedelta(hours=14), timedelta(minutes=30))

    berlin, new_york = digests_in(world, "U0MGRBER"), digests_in(world, "U0MGRNY")
    assert len(berlin) == 1 and len(new_york) == 1, "one digest each, however often the planner ran"
    sent_at = {
        "U0MGRBER": datetime.fromtimestamp(float(berlin[0]["ts"]), UTC).astimezone(ZoneInfo("Europe/Berlin")),
        "U0MGRNY": datetime.fromtimestamp(float(new_york[0]["ts"]), UTC).astimezone(ZoneInfo("America/New_York")),
    }
    assert {u: t.strftime("%a %H:%M") for u, t in sent_at.items()} == {"U0MGRBER": "Mon 08:00",
                                                                        "U0MGRNY": "Mon 08:00"}

    # The figures, against the records this test wrote (and the week before).
    digest = berlin[0]
    team = {b1, b2}
    now_week = expected_week(records, team, week_start, week_start + timedelta(days=7),
                             week_start + timedelta(days=7))
    before = expected_week(records, team, week_start - timedelta(days=7), week_start, week_start)
    assert field(digest, "Lessons delivered") == f"{now_week['delivered']}  _▲ {now_week['delivered'] - before['delivered']}_"
    assert now_week["delivered"] == 10 and before["delivered"] == 3
    accuracy = round(100 * now_week["correct"] / now_week["answers"])
    assert field(digest, "Quiz accuracy").startswith(f"{accuracy}% of {now_week['answers']} answers")
    assert field(digest, "Active") == "2  _▲ 1_"
    assert field(digest, "Average rating").startswith("3.7 / 5 (6)")  # five 4s and a 2
    text = all_text(digest)
    assert "Needs attention (1)" in text and "*Ravi Berlin* — 0% right (3 answers)" in text
    assert "Habits &lt;certified&gt;" in text, "certificate names are escaped"
    # A person's comment is escaped: no broadcast, no mention, no disguised link.
    assert "&lt;!channel&gt; read this &lt;@U0BERLIN&gt; &amp; &lt;https://evil.example|https://good.example&gt;" in text
    assert "<!channel>" not in text and "<@U0BERLIN>" not in text
    assert "Nora New York" not in text, "another manager's report"
    ny_text = all_text(new_york[0])
    assert field(new_york[0], "Lessons delivered").startswith("1") and "Rita" not in ny_text

    # The chart: a PNG in the digest's thread, shortly after it.
    chart = files_in(world, "U0MGRBER")
    assert len(chart) == 1 and chart[0]["thread_ts"] == digest["ts"]
    (upload,) = world.emulator.uploaded_files(world.emulator.dm_channel_id("U0MGRBER"))
    assert upload["content"].startswith(b"\x89PNG") and len(upload["content"]) < 60_000
    assert upload["alt_txt"].startswith("Lessons answered per week")


def test_a_300_person_team_stays_within_slacks_limits(world, clock, hooks, records):
    people = [("U0BIGBOSS", "Big Boss", "manager", None, "Support", "UTC")]
    people += [(f"U0P{i:04d}", f"Person {i} <b>", "learner", "U0BIGBOSS", "Support", "UTC") for i in range(300)]
    ids = roster(world, *people)
    inside = MONDAY - timedelta(days=3)
    long_prompt = "<!here> Which of these " + "very " * 400 + "options?"
    for n, uid in enumerate(u for u, *_ in people[1:]):
        lid = ids[uid]
        records.enroll(lid, "habits", at=MONDAY - timedelta(days=40))
        if n < 60:  # sixty answer (badly), the other 240 are silent
            records.lesson(lid, sent_at=inside, lesson="l1", prompt=long_prompt,
                           answers=[(f"q{k}", k == 0, inside) for k in range(4)],
                           rating=1 + n % 5, comment=("x" * 1900 + NASTY) if n < 5 else None)
        if n < 25:
            records.certificate(lid, issued_at=inside, name="A certificate with a long name " * 4)
    tick_through(world, clock, MONDAY + timedelta(hours=8), MONDAY + timedelta(hours=8, minutes=10),
                 timedelta(minutes=10))

    (digest,) = digests_in(world, "U0BIGBOSS")  # the emulator refuses invalid blocks: it was accepted
    assert len(digest["blocks"]) <= 50
    text = all_text(digest)
    assert "Needs attention (300)" in text and "290 more need attention" in text and REPORT_URL in text
    assert "<!channel>" not in text and "<!here>" not in text and "&lt;!here&gt;" in text
    assert "*Person 100 &lt;b&gt;* — no answer in 7+ days" in text
    assert "20 more" in text, "25 certificates: five named, the rest counted"
    assert len(digest["text"]) < 3000

    on_demand = command(world, "U0BIGBOSS", "digest")  # validated by the emulator's response URL too
    assert on_demand["blocks"][0]["text"]["text"] == "🌱 This week so far"
    assert len(on_demand["blocks"]) <= 50


def test_the_digest_goes_out_even_when_the_chart_upload_fails(world, clock, hooks, records):
    ids = roster(world, ("U0MGRUTC", "Uma UTC", "manager", None, None, "UTC"),
                 ("U0REPUTC", "Ulf UTC", "learner", "U0MGRUTC", None, "UTC"))
    at = MONDAY - timedelta(days=2)
    records.lesson(ids["U0REPUTC"], sent_at=at, answers=[("q1", True, at)])
    world.emulator.fail_next(method="files.completeUploadExternal", status=500)

    tick_through(world, clock, MONDAY + timedelta(hours=8), MONDAY + timedelta(hours=8, minutes=1),
                 timedelta(minutes=1))
    assert len(digests_in(world, "U0MGRUTC")) == 1
    assert files_in(world, "U0MGRUTC") == [], "the upload failed"
    assert [c["error"] for c in world.emulator.calls("files.completeUploadExternal")] == ["server_error"]

    tick_through(world, clock, MONDAY + timedelta(hours=8, minutes=30), MONDAY + timedelta(hours=8, minutes=30),
                 timedelta(minutes=1))
    (chart,) = files_in(world, "U0MGRUTC")  # retried, once
    assert chart["thread_ts"] == digests_in(world, "U0MGRUTC")[0]["ts"]
    assert len(digests_in(world, "U0MGRUTC")) == 1


def test_learn_digest_shows_only_what_each_person_may_see(world, clock, hooks, records):
    ids = roster(
        world,
        ("U0MGRA", "Ada Manager", "manager", None, "Platform", "Europe/Berlin"),
        ("U0MGRB", "Bea Manager", "manager", None, "Sales", "Europe/Berlin"),
        ("U0ADMIN", "Ida Admin", "admin", None, None, "Europe/Berlin"),
        ("U0REPA", "Alf Platform", "learner", "U0MGRA", "Platform", "Europe/Berlin"),
        ("U0REPB", "Ben Sales", "learner", "U0MGRB", "Sales", "Europe/Berlin"),
    )
    for uid in ("U0REPA", "U0REPB"):  # both silent: they show up in "needs attention"
        records.enroll(ids[uid], "habits", at=MONDAY - timedelta(days=30))
    clock.set(MONDAY + timedelta(days=2, hours=12))

    learner = command(world, BERLIN.user_id, "digest")
    assert "The digest is for managers" in learner["text"] and "/learn packs" in learner["text"]
    assert "Alf" not in learner["text"] and "Ben" not in learner["text"]
    assert "no digest to change" in command(world, BERLIN.user_id, "digest off")["text"]

    mine = all_text(command(world, "U0MGRA", "digest"))
    assert "This week so far" in mine and "Alf Platform" in mine and "Ben Sales" not in mine
    assert "Only admins" in command(world, "U0MGRA", "digest team Sales")["text"]
    assert "Only admins" in command(world, "U0MGRA", "digest cost 1 USD")["text"]

    everyone = all_text(command(world, "U0ADMIN", "digest"))
    assert "Everyone" in everyone and "Alf Platform" in everyone and "Ben Sales" in everyone
    sales = all_text(command(world, "U0ADMIN", "digest team Sales"))
    assert "Team Sales" in sales and "Ben Sales" in sales and "Alf Platform" not in sales
    assert "No one is in team" in command(world, "U0ADMIN", "digest team Nowhere")["text"]
    assert "45.00 USD" in command(world, "U0ADMIN", "digest cost 45 USD")["text"]
    assert hooks.reporting.setting("learner_hour_cost") == "45 USD"

    reply = command(world, "U0MGRA", "digest fri 17:00")["text"]
    assert "Fridays at 17:00" in reply and "Europe/Berlin" in reply
    assert "didn't understand" in command(world, "U0MGRA", "digest sometime")["text"]
    assert "is off" in command(world, "U0MGRB", "digest off")["text"]
    stored = {p.slack_user_id: p for p in hooks.reporting.digest_recipients()}
    assert (stored["U0MGRA"].digest_day, stored["U0MGRA"].digest_time) == ("fri", "17:00")
    assert stored["U0MGRB"].digest_off

    # Friday 17:00 in Berlin (16:00 UTC): A's digest, for the seven days before; B's is off.
    friday = MONDAY + timedelta(days=4, hours=16)
    tick_through(world, clock, friday, friday, timedelta(minutes=1))
    (digest,) = digests_in(world, "U0MGRA")
    assert "Fri 27 Nov – Thu 03 Dec 2026" in all_text(digest)
    next_monday = MONDAY + timedelta(days=7, hours=7)  # 08:00 in Berlin: the old default, no longer theirs
    tick_through(world, clock, next_monday, next_monday, timedelta(minutes=1))
    assert len(digests_in(world, "U0MGRA")) == 1 and digests_in(world, "U0MGRB") == []


REFUSED = {  # what each may not do: the command, the action logged, a sentence of the refusal
    "learner": [("digest", "digest", "The digest is for managers"), ("digest off", "digest off", "no digest to change"),
                ("digest fri 17:00", "digest schedule", "no digest to change"),
                ("digest team Sales", "digest team", "Only admins"), ("digest cost 1 USD", "digest cost", "Only admins")],
    "manager": [("digest team Sales", "digest team", "Only admins"), ("digest cost 1 USD", "digest cost", "Only admins")],
}


@pytest.mark.parametrize("role", ["learner", "manager"])
def test_every_digest_refusal_is_an_ephemeral_reply_and_a_log_line(world, clock, hooks, records, caplog, role):
    ids = roster(
        world,
        ("U0ASKER", "Asa Asker", role, None, "Platform", "Europe/Berlin"),
        ("U0REPS", "Sam Sales", "learner", "U0OTHER", "Sales", "Europe/Berlin"),
        ("U0MINE", "Mo Mine", "learner", "U0ASKER" if role == "manager" else None, "Platform", "Europe/Berlin"),
    )
    records.enroll(ids["U0REPS"], "habits", at=MONDAY - timedelta(days=30))  # silent: "needs attention"
    clock.set(MONDAY + timedelta(days=2, hours=12))
    for text, action, sentence in REFUSED[role]:
        caplog.clear()
        reply = command(world, "U0ASKER", text)
        assert sentence in reply["text"] and f"Your role in Sprout is {role}" in reply["text"], text
        assert "Sam Sales" not in all_text(reply), "no one else's figures"
        refused = [r.getMessage() for r in caplog.records
                   if r.levelname == "WARNING" and r.getMessage().startswith("refused ")]
        assert refused == [f"refused {action} to U0ASKER (role {role})"], text
    assert hooks.reporting.setting("learner_hour_cost") is None, "a refused cost is not stored"
    assert world.emulator.dm_messages("U0ASKER") == [], "refusals are ephemeral, never a DM"

    # The role is read from the database each time: promoted, the same person may; demoted, not.
    world.sprout.store.set_role(ids["U0ASKER"], "admin", clock())
    assert "Team Sales" in all_text(command(world, "U0ASKER", "digest team Sales"))
    world.sprout.store.set_role(ids["U0ASKER"], role, clock())
    assert "Only admins" in command(world, "U0ASKER", "digest team Sales")["text"]


def test_peoples_text_survives_json_and_mrkdwn_escaping():
    """No emulator needed: the template's two escapes, on text built to break either."""
    from content_packs.catalog import Catalog
    from learning.digest import (
        Attention,
        CertificateEarned,
        Comment,
        Digest,
        MemberWeek,
        MissedQuestion,
        TeamWeek,
        finished_week,
    )

    tricky = 'He said "stop" \\ then\nleft\t<!everyone> </script> {{ 1 }} {% raw %} \u2028 \x07'
    week = finished_week(MONDAY.date(), "Asia/Kolkata")
    member = MemberWeek(1, "U1", tricky, week.as_of - timedelta(days=20), None, 0, 0, None, None)
    digest = Digest(
        title=f"Team {tricky}", week=week, current=TeamWeek(members=1, enrolled=1, delivered=2, answered=1),
        previous=TeamWeek(members=1, enrolled=1),
        attention=[Attention(member, ("silent",))],
        missed=[MissedQuestion("p", "l", "q", tricky, 1, 1)],
        comments=[Comment("p", "l", tricky, 2, week.start)],
        certificates=[CertificateEarned(tricky, tricky, "p", week.start)],
    )
    from bot.digest import digest_message

    message = digest_message(digest, catalog=Catalog({}), report_url="https://r.example/?a=1&b=<2>")
    text = all_text({"text": message.text, "blocks": message.blocks})
    escaped = 'He said "stop" \\ then'
    assert escaped in text and "&lt;!everyone&gt; &lt;/script&gt; {{ 1 }} {% raw %}" in text
    assert "<!everyone>" not in text and "</script>" not in text
    assert "<https://r.example/?a=1&amp;b=&lt;2&gt;|" in text


def test_a_manager_with_no_reports_gets_a_short_note():
    from bot.digest import digest_message
    from content_packs.catalog import Catalog
    from learning.digest import Digest, TeamWeek, finished_week

    digest = Digest(title="Your direct reports (0 people)", week=finished_week(MONDAY.date(), "UTC"),
                    current=TeamWeek(), previous=TeamWeek())
    message = digest_message(digest, catalog=Catalog({}))
    assert [b.get("block_id", b["type"]) for b in message.blocks] == ["digest-header", "digest-scope",
                                                                       "digest-empty", "divider", "digest-footer"]
    assert "no one reports to you" in message.text
