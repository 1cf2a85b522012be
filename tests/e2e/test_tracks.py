"""Tracks end to end: ``/learn enroll <track-id>`` starts the first pack; finishing it (or earning its
certificate, when the next pack is gated on it) enrolls the learner in the next pack, whose lessons come
at their usual time."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from db.models import Certificate, Enrollment, Learner
from sandbox.clock import SimulatedClock
from sandbox.workspace import Person
from tests.e2e.test_cohorts import answer, cohort_world, command, deliveries, run_until

ANA = Person("U0ANA", "Ana", "Europe/Berlin")  # gated track, earns the certificate
BOB = Person("U0BOB", "Bob", "Europe/Berlin")  # gated track, finishes without the certificate
CAT = Person("U0CAT", "Cat", "America/New_York")  # open track, finishes
DAN = Person("U0DAN", "Dan", "America/New_York")  # open track, answers only the first lesson
EVE = Person("U0EVE", "Eve", "Europe/Berlin")  # enrolls in a pack, not a track

SUNDAY = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def pack_yaml(pack_id: str, lessons: int, *, certificate: bool = False) -> str:
    text = textwrap.dedent(f"""\
        id: {pack_id}
        title: {pack_id.title()}
        description: A pack for tests.
        version: 1
        schedule: {{days: [mon, tue, wed, thu, fri, sat, sun], time: "09:00"}}
        lessons:
        """)
    for i in range(1, lessons + 1):
        text += (f"  - {{id: {pack_id}-{i}, title: {pack_id.title()} {i}, minutes: 2, body: Lesson {i}.,\n"
                 f"     quiz: [{{id: q1, prompt: \"Is this lesson {i}?\", answer: true, explain: It is.}}]}}\n")
    if certificate:
        text += "certificate: {name: One Certified, pass_score: 0.5}\n"
    return text


TRACKS = {
    "gated": "id: gated\ntitle: Gated path\ndescription: One, then two once One's certificate is earned.\n"
             "packs:\n  - one\n  - pack: two\n    gate: certificate\n",
    "open": "id: open\ntitle: Open path\ndescription: One, then three.\naudience: Everyone\npacks: [one, three]\n",
}


@pytest.fixture
def world(database_url, tmp_path):
    packs = tmp_path / "packs"
    for pack_id, lessons, certificate in (("one", 2, True), ("two", 1, False), ("three", 1, False)):
        (packs / pack_id).mkdir(parents=True)
        (packs / pack_id / "pack.yaml").write_text(pack_yaml(pack_id, lessons, certificate=certificate))
    (packs / "tracks").mkdir()
    for track_id, text in TRACKS.items():
        (packs / "tracks" / f"{track_id}.yaml").write_text(text)
    clock = SimulatedClock(SUNDAY)
    with cohort_world(database_url, packs, clock, [ANA, BOB, CAT, DAN, EVE]) as ws:
        assert ws.tracks.ids() == ["gated", "open"]
        yield ws


def track_enrollments(ws):
    with ws.sprout.engine.connect() as conn:
        return {
            (uid, pack): track
            for uid, pack, track in conn.execute(
                select(Learner.slack_user_id, Enrollment.pack_id, Enrollment.track_id)
                .join(Learner, Learner.id == Enrollment.learner_id)
                .where(Enrollment.status.in_(("active", "completed")))
            )
        }


def test_finishing_a_pack_enrolls_the_next_and_a_gate_waits_for_the_certificate(world):
    reply = command(world, ANA, "enroll gated")
    assert "You're on the *Gated path* track" in reply
    assert "1. *One*" in reply and "2. *Two* — after the *One* certificate" in reply
    assert "Your next lesson of *One* arrives *Mon 30 Nov, 09:00* (Europe/Berlin)" in reply
    command(world, BOB, "enroll gated")
    assert "2. *Three* — after finishing *One*" in command(world, CAT, "enroll open")
    command(world, DAN, "enroll open")
    assert "You can't start *Two* yet" in command(world, EVE, "enroll two"), "a track's gate holds (issue 18)"
    assert "You're enrolled in *One*" in command(world, EVE, "enroll one"), "a pack id is still a pack"
    assert track_enrollments(world) == {
        ("U0ANA", "one"): "gated", ("U0BOB", "one"): "gated", ("U0CAT", "one"): "open", ("U0DAN", "one"): "open",
        ("U0EVE", "one"): None}

    # Monday and Tuesday: the two lessons of One. Ana answers right; Bob wrong; Cat right then wrong; Dan once.
    run_until(world, datetime(2026, 11, 30, 20, 0, tzinfo=UTC))
    for person, right in ((ANA, True), (BOB, False), (CAT, True), (DAN, True)):
        answer(world, person, "one-1", right=right)
    run_until(world, datetime(2026, 12, 1, 20, 0, tzinfo=UTC))
    for person, right in ((ANA, True), (BOB, False), (CAT, False)):
        answer(world, person, "one-2", right=right)
    with world.sprout.engine.connect() as conn:
        certified = set(conn.execute(select(Learner.slack_user_id).join(Certificate,
                                                                        Certificate.learner_id == Learner.id)).scalars())
    assert certified == {"U0ANA", "U0CAT"}

    world.sprout.tick()  # the track planner runs with the lesson planner
    enrolled = track_enrollments(world)
    assert enrolled[("U0ANA", "two")] == "gated", "certificate earned: on to Two"
    assert ("U0BOB", "two") not in enrolled, "finished, but Two waits for the certificate"
    assert enrolled[("U0CAT", "three")] == "open", "finished (every lesson delivered and answered): on to Three"
    assert ("U0DAN", "three") not in enrolled, "one lesson still unanswered"

    # The next pack's first lesson comes at the learner's usual time the next day.
    run_until(world, datetime(2026, 12, 2, 20, 0, tzinfo=UTC))
    ana = [(lesson, f"{sent:%Y-%m-%d %H:%M}") for lesson, _, _, sent in deliveries(world, ANA)]
    assert ana[-1] == ("two-1", "2026-12-02 09:00")
    cat = [(lesson, f"{sent:%Y-%m-%d %H:%M}") for lesson, _, _, sent in deliveries(world, CAT)]
    assert cat[-1] == ("three-1", "2026-12-02 09:00")

    # Days later, still no certificate for Bob and still an unanswered lesson for Dan: no next pack.
    run_until(world, datetime(2026, 12, 5, 20, 0, tzinfo=UTC))
    enrolled = track_enrollments(world)
    assert ("U0BOB", "two") not in enrolled and ("U0DAN", "three") not in enrolled
    assert [lesson for lesson, *_ in deliveries(world, BOB)] == ["one-1", "one-2"]

    # Dan answers his last lesson: on to Three.
    answer(world, DAN, "one-2")
    world.sprout.tick()
    assert track_enrollments(world)[("U0DAN", "three")] == "open"


def test_packs_lists_the_tracks_with_their_steps_and_help_names_every_role(world):
    reply = command(world, EVE, "packs")
    assert "*One* (`one`)" in reply and "*Tracks*" in reply
    assert "*Gated path* (`gated`)" in reply and "1. One → 2. Two _(after the certificate)_" in reply
    assert "*Open path* (`open`) — for Everyone" in reply and "1. One → 2. Three" in reply
    assert reply.index("*Gated path*") < reply.index("*Open path*")
    help_text = command(world, EVE, "help")
    assert all(f"`/learn {verb}" in help_text for verb in ("cohort", "announce", "prompt", "role", "admin reload",
                                                          "digest", "enroll", "search", "privacy"))


def test_a_track_title_a_person_wrote_is_escaped_in_the_list(database_url, tmp_path):
    packs = tmp_path / "packs"
    (packs / "one").mkdir(parents=True)
    (packs / "one" / "pack.yaml").write_text(pack_yaml("one", 1))
    (packs / "tracks").mkdir()
    (packs / "tracks" / "loud.yaml").write_text(
        'id: loud\ntitle: "Hey <!channel> & team"\ndescription: "<https://evil.example|https://good.example>"\n'
        "packs: [one]\n")
    with cohort_world(database_url, packs, SimulatedClock(SUNDAY), [EVE]) as ws:
        reply = command(ws, EVE, "packs")
    assert "Hey &lt;!channel&gt; &amp; team" in reply and "<!channel>" not in reply
    assert "&lt;https://evil.example|https://good.example&gt;" in reply
