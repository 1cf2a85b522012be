"""Issue 19's governance, end to end over signed HTTP: learners' ratings and "inaccurate" reports raise flags
on a facilitator's Home tab, each with its evidence; "Mark handled" puts one away until the problem comes
back; a learner cannot handle one; a retired lesson is never sent again, nor found, and its records stay."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

import app
from content_packs.loader import BUNDLED_DIR
from db.models import Delivery, Feedback, HandledFlag, Learner, OutboxMessage, RetiredLesson
from sandbox.clock import SimulatedClock
from sandbox.workspace import LocalWorkspace, Person

FAY = Person("U0FAY", "Fay Facilitator", "UTC")
LEARNERS = [Person(f"U0L{i}", f"Learner {i}", "UTC") for i in range(1, 7)]
MONDAY_0930 = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)  # the pack sends at 09:30


@pytest.fixture
def world(database_url, tmp_path):
    packs = tmp_path / "packs"
    shutil.copytree(BUNDLED_DIR / "security-basics", packs / "security-basics")
    clock = SimulatedClock(datetime(2026, 11, 29, 12, tzinfo=UTC))
    settings = dataclasses.replace(app.Settings(), database_url=database_url, content_packs_dir=packs,
                                   reminder_after_hours=0)
    with LocalWorkspace(build=app.build, settings=settings, clock=clock, people=[FAY, *LEARNERS],
                        build_options={"listener_workers": 8}) as ws:
        ws.clock = clock
        store = ws.sprout.store
        store.set_role(ws.sprout.service.learner(FAY.user_id, clock()).id, "facilitator", clock())
        yield ws


def command(ws, person, text):
    before = len(ws.emulator.ephemerals(person.user_id))
    ws.driver.command(person.user_id, "/learn", text)
    return ws.emulator.wait_for(lambda: ws.emulator.ephemerals(person.user_id)[before:])[-1]["text"]


def lessons(ws, person):
    return [m for m in ws.emulator.dm_messages(person.user_id)
            if (m.get("metadata") or {}).get("event_payload", {}).get("kind") == "lesson"]


def first_lesson(ws, people, when):
    """Each of ``people`` enrolled and sent the pack's first lesson at ``when``."""
    for person in people:
        command(ws, person, "enroll security-basics")
    ws.clock.set(when)
    ws.sprout.tick()
    return {p.user_id: ws.emulator.wait_for(lambda p=p: lessons(ws, p))[-1] for p in people}


def answered(ws, person, message):
    """Answer every question of a lesson (the first option each time), so its rating buttons show."""
    while True:
        current = ws.emulator.message(message["channel"], message["ts"])
        if any(e.get("action_id", "").startswith("rate:") for b in current["blocks"] for e in b.get("elements", [])):
            return current
        ws.driver.click(person.user_id, current, action_id="answer:0")
        ws.emulator.wait_for(lambda c=current: ws.emulator.message(message["channel"], message["ts"]) != c)


def feedback_count(ws, **where):
    with ws.sprout.engine.connect() as conn:
        stmt = select(Feedback.id)
        for column, value in where.items():
            stmt = stmt.where(getattr(Feedback, column) == value)
        return len(conn.execute(stmt).all())


def home(ws, person):
    before = ws.emulator.home_view(person.user_id)
    ws.driver.app_home_opened(person.user_id)
    return ws.emulator.wait_for(lambda: (v := ws.emulator.home_view(person.user_id)) and v != before and v) \
        if before is None else ws.emulator.wait_for(lambda: ws.emulator.home_view(person.user_id))


def health_text(view):
    blocks = view["blocks"]
    start = next(i for i, b in enumerate(blocks) if b.get("block_id") == "home-health")
    return "\n".join(b["text"]["text"] for b in blocks[start:] if b.get("type") == "section")


def flag_buttons(view, label):
    """The actions block under the flag whose section starts with ``label``."""
    blocks = view["blocks"]
    for i, b in enumerate(blocks):
        if b.get("type") == "section" and b["text"]["text"].startswith(f"*{label}*"):
            return blocks[i + 1]
    raise LookupError(label)


def test_ratings_and_reports_raise_flags_that_handling_puts_away_until_they_come_back(world):
    ws = world
    sent = first_lesson(ws, LEARNERS[:3], MONDAY_0930)
    ws.clock.set(MONDAY_0930 + timedelta(hours=1))
    for person in LEARNERS[:3]:
        sent[person.user_id] = answered(ws, person, sent[person.user_id])
        ws.driver.click(person.user_id, sent[person.user_id], action_id="rate:1")
    for person in LEARNERS[:2]:
        ws.driver.click(person.user_id, sent[person.user_id], action_id="reason:inaccurate")
    ws.emulator.wait_for(lambda: feedback_count(ws, reason="inaccurate") == 2 and feedback_count(ws, rating=1) == 3)

    view = home(ws, FAY)
    text = health_text(view)
    assert "*Reported inaccurate* · Security Basics › " in text and "2 learners said it is inaccurate" in text
    assert "*Low rating* · Security Basics › " in text and "rated 1.0 of 5 by 3 learners" in text
    # Wrong content is read before unloved content.
    assert text.index("Reported inaccurate") < text.index("Low rating")

    # The evidence: each learner's stars and reason, in a modal.
    buttons = flag_buttons(view, "Low rating")
    ws.driver.click(FAY.user_id, {"type": "home", **view}, action_id="health_evidence",
                    value=buttons["elements"][0]["value"])
    modal = ws.emulator.wait_for(lambda: ws.emulator.open_views(FAY.user_id))[-1]
    shown = json.dumps(modal["blocks"], ensure_ascii=False)
    assert shown.count("★☆☆☆☆") == 3 and shown.count("inaccurate") >= 2

    # The organisation report lists both, with the learners' stars and reasons behind each.
    out = ws.sprout.settings.content_packs_dir.parent / "report.html"
    assert app.main(["report", "--out", str(out)], environ={
        "DATABASE_URL": ws.sprout.settings.database_url,
        "CONTENT_PACKS_DIR": str(ws.sprout.settings.content_packs_dir)}) == 0
    page = out.read_text()
    assert 'class="health-inaccurate"' in page and 'class="health-low_rating"' in page
    assert page.count("★☆☆☆☆") >= 3

    # A learner cannot mark it handled, whatever they send.
    key = buttons["elements"][1]["value"]
    ws.driver.click(LEARNERS[0].user_id, {"type": "home", **view}, action_id="health_handled", value=key)
    refusal = ws.emulator.wait_for(lambda: ws.emulator.open_views(LEARNERS[0].user_id))[-1]
    assert "can mark content flags handled. Your role in Sprout is learner" in json.dumps(refusal)
    with ws.sprout.engine.connect() as conn:
        assert conn.execute(select(HandledFlag.id)).all() == []

    # Handled: the low rating goes, the report stays; a second click of the same button says it has gone.
    ws.clock.set(MONDAY_0930 + timedelta(hours=2))
    click = ws.driver.click(FAY.user_id, {"type": "home", **view}, action_id="health_handled", value=key)
    ws.emulator.wait_for(lambda: "Low rating" not in health_text(ws.emulator.home_view(FAY.user_id)))
    assert "Reported inaccurate" in health_text(ws.emulator.home_view(FAY.user_id))
    ws.driver.close_view(FAY.user_id, modal)
    ws.driver.resend(click)  # a double click
    ws.emulator.wait_for(lambda: any("no longer raised" in json.dumps(v) for v in ws.emulator.open_views(FAY.user_id)))
    with ws.sprout.engine.connect() as conn:
        assert len(conn.execute(select(HandledFlag.id)).all()) == 1

    # The problem comes back: three more learners rate the same lesson low after it was handled.
    later = first_lesson(ws, LEARNERS[3:], MONDAY_0930 + timedelta(days=1))
    ws.clock.set(MONDAY_0930 + timedelta(days=1, hours=1))
    for person in LEARNERS[3:]:
        ws.driver.click(person.user_id, answered(ws, person, later[person.user_id]), action_id="rate:2")
    ws.emulator.wait_for(lambda: feedback_count(ws, rating=2) == 3)
    assert "rated 2.0 of 5 by 3 learners" in health_text(home(ws, FAY))  # only what came after counts


def test_a_learners_home_has_no_content_health(world):
    assert not any(b.get("block_id") == "home-health" for b in home(world, LEARNERS[0])["blocks"])
    assert "Nothing flagged" in health_text(home(world, FAY))


def test_a_retired_lesson_is_never_sent_again_nor_found_and_its_records_stay(world, database_url):
    ws = world
    first_lesson(ws, LEARNERS[:2], MONDAY_0930)
    second = ws.sprout.catalog.get("security-basics").lessons[1]
    # The second lesson is queued for Tuesday, then retired before it goes out.
    ws.clock.set(MONDAY_0930 + timedelta(days=1))
    ws.sprout.plan()
    with ws.sprout.engine.connect() as conn:
        queued = conn.execute(select(OutboxMessage.id).join(Delivery, Delivery.id == OutboxMessage.delivery_id)
                              .where(Delivery.lesson_id == second.id, OutboxMessage.status == "pending")).all()
    assert len(queued) == 2

    assert app.main(["packs", "retire", f"security-basics/{second.id}", "--reason", "out of date",
                     "--dir", str(ws.sprout.settings.content_packs_dir)],
                    environ={"DATABASE_URL": database_url}) == 0
    assert ws.sprout.refresh_retired()  # what the pack-reload job does every few seconds
    ws.sprout.dispatcher.dispatch()
    assert all(second.title not in json.dumps(m) for p in LEARNERS[:2] for m in lessons(ws, p))
    with ws.sprout.engine.connect() as conn:
        statuses = conn.execute(select(OutboxMessage.status, OutboxMessage.last_error)
                                .where(OutboxMessage.id.in_([q.id for q in queued]))).all()
        assert statuses == [("cancelled", "lesson retired")] * 2
        assert conn.execute(select(RetiredLesson.reason)).scalars().all() == ["out of date"]
        assert len(conn.execute(select(Delivery.id).where(Delivery.lesson_id == second.id)).all()) == 2  # kept

    # The next day brings the lesson after it; search no longer offers it.
    third = ws.sprout.catalog.get("security-basics").lessons[1]
    assert third.id != second.id
    ws.clock.set(MONDAY_0930 + timedelta(days=2))
    ws.sprout.tick()
    got = ws.emulator.wait_for(lambda: [m for m in lessons(ws, LEARNERS[0]) if third.title in json.dumps(m)])
    assert got
    found = command(ws, LEARNERS[0], f"search {second.title}")
    assert f"*{second.title}*" not in found, found
    with ws.sprout.engine.connect() as conn:
        assert conn.execute(select(Learner.id).where(Learner.slack_user_id == LEARNERS[0].user_id)).first()
