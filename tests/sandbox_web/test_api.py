"""The sandbox page's API over HTTP, against the real Sprout, database and emulator."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tests.sandbox_web.conftest import BY_NAME

ANA, BILAL, CHEN, DANA, LUCAS, MAYA, FELIX = (
    BY_NAME[n] for n in ("Ana", "Bilal", "Chen", "Dana", "Lucas", "Maya", "Felix")
)


def lesson_of(sandbox, person):
    """The one lesson in the person's DM (reminders and other messages may come too)."""
    lessons = [
        m
        for m in sandbox.emulator.dm_messages(person.user_id)
        if (m.get("metadata") or {}).get("event_payload", {}).get("kind") == "lesson"
    ]
    assert len(lessons) == 1, lessons
    return lessons[0]


def wait_person(sandbox, person, predicate):
    return sandbox.emulator.wait_for(
        lambda: (data := sandbox.get(f"person?user={person.user_id}")) and predicate(data) and data,
        timeout=10,
    )


def test_the_page_and_its_files_are_served_with_a_strict_policy(sandbox):
    with urllib.request.urlopen(sandbox.url, timeout=10) as response:
        page = response.read().decode()
        policy = response.headers["Content-Security-Policy"]
    assert 'data-prefix="/sandbox"' in page and "/sandbox/static/sandbox.js" in page
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert "http" not in page.replace("http-equiv", ""), "nothing is loaded from anywhere else"
    for name, kind in (("sandbox.js", "javascript"), ("sandbox.css", "css")):
        with urllib.request.urlopen(f"{sandbox.url}/static/{name}", timeout=10) as response:
            assert kind in response.headers["Content-Type"]
    for path in ("/static/../wsgi.py", "/static/index.html", "/nope", "/api/nope"):
        try:
            urllib.request.urlopen(sandbox.url + path, timeout=10)
        except urllib.error.HTTPError as exc:
            assert exc.code == 404, path
        else:
            raise AssertionError(f"{path} was served")


def test_the_people_with_roles_and_local_times(sandbox):
    state = sandbox.get("state")
    assert state["now"] == "2026-11-29T12:00:00+00:00" and state["bot"]["name"] == "Sprout"
    assert state["next_due"] == "2026-11-29T23:00:00+00:00"  # Dana's Monday 10:00 in Sydney comes first
    people = {p["id"]: p for p in state["people"]}
    assert people[MAYA.user_id]["role"] == "manager" and people[FELIX.user_id]["role"] == "facilitator"
    assert (
        people[BILAL.user_id]["local_time"] == "17:30" and people[BILAL.user_id]["utc_offset"] == "UTC+5:30"
    )
    assert people[DANA.user_id]["local_day"] == "Sun 29 Nov" and people[DANA.user_id]["local_time"] == "23:00"


def test_jump_to_the_next_delivery_then_a_day_that_passes_every_slot_at_its_time(sandbox):
    status, moved = sandbox.post("clock", {"step": "next"})
    assert status == 200 and moved["sent"] == 1
    assert moved["now"] == "2026-11-29T23:00:00+00:00"  # Monday 10:00 in Sydney
    person = sandbox.get(f"person?user={DANA.user_id}")
    assert "Monday, November 30th" in person["messages_html"] and "10:00 AM" in person["messages_html"]
    assert "Situation-Behavior-Impact" in person["messages_html"]

    status, moved = sandbox.post("clock", {"step": "day"})
    assert status == 200 and moved["now"] == "2026-11-30T23:00:00+00:00"
    assert moved["sent"] >= 5 and len(moved["ticks"]) >= 6
    # Each lesson went out at its learner's own 09:00/09:30/10:00, not at the end of the day.
    for person, local_time in (
        (BILAL, "09:30"),
        (ANA, "09:30"),
        (MAYA, "10:00"),
        (LUCAS, "09:00"),
        (CHEN, "09:00"),
    ):
        sent = datetime.fromtimestamp(float(lesson_of(sandbox, person)["ts"]), UTC).astimezone(
            ZoneInfo(person.tz)
        )
        assert (sent.strftime("%a %H:%M"), person.name) == (f"Mon {local_time}", person.name)
    lesson_of(sandbox, DANA)  # her next one is on Wednesday

    status, moved = sandbox.post("clock", {"step": "hour"})
    assert status == 200 and moved["now"] == "2026-12-01T00:00:00+00:00"
    assert sandbox.post("clock", {"step": "fortnight"})[0] == 400


def test_answer_rate_and_comment_through_the_api(sandbox):
    sandbox.post("clock", {"step": "next"})
    lesson = lesson_of(sandbox, DANA)
    surface = {"kind": "message", "channel": lesson["channel"], "ts": lesson["ts"]}
    before = sandbox.get(f"version?user={DANA.user_id}")["version"]
    assert sandbox.get(f"version?user={DANA.user_id}")["version"] == before, "nothing changed, same version"

    button = next(e for b in lesson["blocks"] if b["type"] == "actions" for e in b["elements"])
    value = json.loads(button["value"])
    question = sandbox.sprout.catalog.lesson(
        "feedback-essentials", sandbox.sprout.store.delivery_state(value["d"]).lesson_id
    ).question(value["q"])
    status, answer = sandbox.post(
        "action",
        {
            "user": DANA.user_id,
            "surface": surface,
            "action_id": f"answer:{question.correct_index}",
            "value": json.dumps({**value, "c": question.correct_index}, separators=(",", ":")),
        },
    )
    assert status == 200, answer
    shown = wait_person(sandbox, DANA, lambda d: "✅ Right" in d["messages_html"])
    assert question.explain.replace('"', "&quot;") in shown["messages_html"]
    assert shown["version"] != before

    # Somebody else cannot press Dana's buttons from the page, and a gone button says so.
    assert (
        sandbox.post("action", {"user": ANA.user_id, "surface": surface, "action_id": "answer:0"})[0] == 404
    )
    assert (
        sandbox.post("action", {"user": DANA.user_id, "surface": surface, "action_id": "answer:9"})[0] == 409
    )

    for _ in range(5):  # the remaining questions, then the rating
        blocks = sandbox.emulator.message(lesson["channel"], lesson["ts"])["blocks"]
        answers = [
            e
            for b in blocks
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"].startswith("answer:")
        ]
        if not answers:
            break
        sandbox.post(
            "action",
            {
                "user": DANA.user_id,
                "surface": surface,
                "action_id": answers[0]["action_id"],
                "value": answers[0]["value"],
            },
        )
        sandbox.emulator.wait_for(
            lambda a=answers[0]: (
                a["value"]
                not in json.dumps(sandbox.emulator.message(lesson["channel"], lesson["ts"])["blocks"])
            )
        )
    sandbox.emulator.wait_for(
        lambda: "rate:4" in json.dumps(sandbox.emulator.message(lesson["channel"], lesson["ts"]))
    )
    assert sandbox.post("action", {"user": DANA.user_id, "surface": surface, "action_id": "rate:4"})[0] == 200
    wait_person(sandbox, DANA, lambda d: "4/5" in d["messages_html"])

    assert (
        sandbox.post("action", {"user": DANA.user_id, "surface": surface, "action_id": "comment"})[0] == 200
    )
    modal = wait_person(sandbox, DANA, lambda d: d["modal"])["modal"]
    view = {"user": DANA.user_id, "view_id": modal["view_id"]}
    # Empty: the Slack client refuses it itself. Blank: Sprout answers response_action "errors".
    status, empty = sandbox.post("submit", {**view, "values": {"comment": {"text": ""}}})
    assert status == 200 and empty["errors"] == {"comment": "Please complete this required field."}
    status, blank = sandbox.post("submit", {**view, "values": {"comment": {"text": "   "}}})
    assert status == 200 and blank["errors"] == {"comment": "Write a comment, or press Cancel."}
    shown = sandbox.get(f"person?user={DANA.user_id}")["modal"]
    assert shown["errors"] == blank["errors"] and "Write a comment, or press Cancel." in shown["html"]

    nasty = "<script>alert(1)</script> <!channel>"
    status, sent = sandbox.post("submit", {**view, "values": {"comment": {"text": nasty}}})
    assert status == 200 and sent["errors"] is None
    thanks = sandbox.get(f"person?user={DANA.user_id}")["modal"]
    assert (
        "Thank you" in thanks["html"]
        and "&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt;" in thanks["html"]
    )
    assert "<script>" not in thanks["html"] and "sk-broadcast" not in thanks["html"]
    assert sandbox.post("close", {"user": DANA.user_id, "view_id": thanks["view_id"]})[0] == 200
    final = wait_person(
        sandbox, DANA, lambda d: d["modal"] is None and "passed on to the authors" in d["messages_html"]
    )
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt;" in final["messages_html"]
        and "<script>" not in final["messages_html"]
    )


def test_slash_commands_and_the_home_tab(sandbox):
    status, _ = sandbox.post("command", {"user": FELIX.user_id, "text": "/learn packs"})
    assert status == 200
    shown = wait_person(sandbox, FELIX, lambda d: d["messages"])
    assert shown["messages"][0]["kind"] == "ephemeral" and "Only visible to you" in shown["messages_html"]
    assert "data-privacy-basics" in shown["messages_html"]
    assert sandbox.post("command", {"user": FELIX.user_id, "text": "learn packs"})[0] == 400

    assert shown["home"] is None
    assert sandbox.post("home", {"user": CHEN.user_id})[0] == 200
    home = wait_person(sandbox, CHEN, lambda d: d["home"])["home"]
    assert "Onboarding Essentials" in home["html"] and "America/New_York" in home["html"]
    enroll = next(e for b in home["blocks"] if b.get("accessory") for e in [b["accessory"]])
    status, _ = sandbox.post(
        "action",
        {
            "user": CHEN.user_id,
            "surface": {"kind": "view", "view_id": home["view_id"]},
            "action_id": enroll["action_id"],
            "value": enroll["value"],
        },
    )
    assert status == 200
    wait_person(sandbox, CHEN, lambda d: d["home"]["html"].count("lessons done") == 2)


def test_requests_that_are_not_the_page_own_json_are_refused(sandbox):
    body = json.dumps({"user": ANA.user_id, "text": "/learn packs"}).encode()
    form = urllib.request.Request(
        f"{sandbox.url}/api/command", data=body, method="POST", headers={"Content-Type": "text/plain"}
    )
    try:
        urllib.request.urlopen(form, timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code == 415
    else:
        raise AssertionError("a text/plain POST was accepted")
    status, _ = sandbox.post(
        "command", {"user": ANA.user_id, "text": "/learn packs"}, headers={"Origin": "https://evil.example"}
    )
    assert status == 403
    assert sandbox.post("command", {"user": "U0NOBODY", "text": "/learn packs"})[0] == 404
    assert sandbox.emulator.ephemerals(ANA.user_id) == []
