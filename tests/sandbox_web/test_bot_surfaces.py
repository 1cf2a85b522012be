"""Every surface Sprout draws, built by the bot's own builders and drawn as the sandbox page draws it.

Nothing may fall back to a "[type]" placeholder; every block and element type the bot's source can emit
(read from bot/ itself: dict literals and the Block Kit templates) must be one the renderer draws, and one
that some surface below shows — so a new type in the bot fails here until the sandbox can draw it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

import bot
from bot import blocks as bk
from bot.announcements import (
    Created,
    FormChoices,
    announce_modal,
    announcement_message,
    created_text,
    home_blocks,
    note_modal,
    reminder_message,
    status_text,
    upcoming_text,
)
from bot.cohorts import (
    CohortStatus,
    MemberStanding,
    cohorts_home_blocks,
    cohorts_text,
    message_modal,
    status_blocks,
    status_modal,
)
from bot.contributions import outcome_message as contribution_outcome
from bot.contributions import queue_blocks, queue_note, suggest_modal, targets
from bot.contributions import review_modal as contribution_review_modal
from bot.digest import digest_message
from bot.prompts import prompt_message
from bot.service import Dial, Home, HomeEntry, ReviewItem, ReviewView, SearchResult
from content_packs.catalog import Catalog
from content_packs.loader import BUNDLED_DIR
from content_packs.schema import Pack
from db.cohorts import CohortView
from db.contributions import ContributionView
from db.facilitation import AnnouncementFigures, AnnouncementView
from db.learning_records import CardView, ReviewAnswer, SessionView
from db.store import AnswerView, DeliveryState, LearnerView
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
from learning.review import CardState
from learning.simulation import Forecast
from learning.streaks import PackProgress
from sandbox.blockkit_html import (
    BLOCK_TYPES,
    ELEMENT_TYPES,
    TEXT_TYPES,
    VIEW_TYPES,
    Conversation,
    render_message,
    render_view,
)
from tests.sandbox_web.test_blockkit_html import only_our_tags, page

NOW = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)
USERS = {"U0ANA": "Ana Souza", "U0BILAL": "Bilal Khan", "U0FELIX": "Felix Moreau"}
CHANNELS = [Conversation("C0GENERAL", "general"), Conversation("C0CHAMPS", "security-champions", True)]
NASTY = "<script>alert(1)</script> <!channel> & **bold**"
BOT_DIR = Path(bot.__file__).resolve().parent


# -- what the bot can emit, read from its source ----------------------------------------------------


def types_in_python(source: str) -> tuple[set[str], list[str]]:
    """``"type"`` values of dict literals (and ``dict(type=…)``): the constants, and any that are not."""
    found: set[str] = set()
    dynamic: list[str] = []

    def note(value: ast.expr) -> None:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            found.add(value.value)
        else:
            dynamic.append(ast.unparse(value))

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "type":
                    note(value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            for keyword in node.keywords:
                if keyword.arg == "type":
                    note(keyword.value)
    return found, dynamic


def types_in_template(text: str) -> tuple[set[str], list[str]]:
    found = set(re.findall(r'"type"\s*:\s*"([^"]+)"', text))
    dynamic = re.findall(r'"type"\s*:\s*(?!")([^,}\s]+)', text)
    return found, dynamic


def bot_types() -> tuple[set[str], list[str]]:
    found: set[str] = set()
    dynamic: list[str] = []
    for path in sorted(BOT_DIR.rglob("*.py")):
        more, unknown = types_in_python(path.read_text(encoding="utf-8"))
        found |= more
        dynamic += [f"{path.relative_to(BOT_DIR)}: {expr}" for expr in unknown]
    for path in sorted((BOT_DIR / "templates").glob("*.j2")):
        more, unknown = types_in_template(path.read_text(encoding="utf-8"))
        found |= more
        dynamic += [f"templates/{path.name}: {expr}" for expr in unknown]
    return found, dynamic


def test_the_scan_finds_types_in_code_and_in_templates():
    found, dynamic = types_in_python('x = {"type": "video_player", "text": t}\ny = dict(type=kind)\n')
    assert (found, dynamic) == ({"video_player"}, ["kind"])
    found, dynamic = types_in_template('{"type": "rich_text", "elements": []}, {"type": {{ kind|tojson }}}')
    assert found == {"rich_text"} and dynamic == ["{{"]
    everything, _ = bot_types()
    assert {"conversations_select", "timepicker", "datepicker", "input", "header", "modal"} <= everything


def test_every_type_the_bot_emits_is_one_the_sandbox_draws():
    found, dynamic = bot_types()
    assert dynamic == [], "a block or element type the scan cannot read: make it a literal"
    unknown = found - (BLOCK_TYPES | ELEMENT_TYPES | TEXT_TYPES | VIEW_TYPES)
    assert not unknown, f"the bot emits {sorted(unknown)}, which sandbox/blockkit_html.py does not draw"


# -- domain values for the builders -----------------------------------------------------------------


PACK = Pack.model_validate(
    {
        "id": "every-kind",
        "title": "Every kind <of> question",
        "description": "A pack with one of everything the lesson message can show.",
        "version": 1,
        "schedule": {"days": ["mon"], "time": "09:00"},
        "certificate": {"name": "Habit keeper", "valid_days": 365},
        "discussion": ["What did you **try** this week?"],
        "lessons": [
            {
                "id": "all-of-it",
                "title": "All of it",
                "minutes": 4,
                "body": "**Bold**, _italic_, a [link](https://example.org/a) and `code`.\n\n- one\n- two",
                "links": [
                    {"kind": "podcast", "title": "Listen", "url": "https://example.org/p", "minutes": 20},
                    {"kind": "article", "title": "Read", "url": "https://example.org/r"},
                    {"kind": "video", "title": "Watch", "url": "https://example.org/v", "minutes": 5},
                ],
                "reflect": "What will you do differently?",
                "quiz": [
                    {
                        "id": "single",
                        "prompt": "Pick one",
                        "choices": ["a", "b"],
                        "answer": "a",
                        "feedback": {"b": "Not b."},
                        "explain": "Because a.",
                    },
                    {
                        "id": "many",
                        "prompt": "Pick some",
                        "choices": ["x", "y", "z"],
                        "answers": ["x", "y"],
                        "explain": "x and y.",
                    },
                    {"id": "truth", "prompt": "True?", "answer": True, "explain": "It is."},
                    {"id": "typed", "prompt": "Type it", "accept": ["yes"], "explain": "Yes."},
                    {
                        "id": "long",
                        "prompt": "Long options",
                        "choices": ["o" * 80, "p" * 80],
                        "answer": "o" * 80,
                        "explain": "Lettered.",
                    },
                ],
            }
        ],
    }
)
LESSON = PACK.lessons[0]
LEARNER = LearnerView(
    1,
    "U0ANA",
    "Ana <3",
    None,
    "learner",
    "Europe/Berlin",
    None,
    "U0MAYA",
    "Platform",
    True,
    "D1",
    "09:00",
    None,
    None,
    None,
)


def delivery(**changes) -> DeliveryState:
    return DeliveryState(
        id=7,
        learner_id=1,
        slack_user_id="U0ANA",
        learner_name="Ana",
        pack_id=PACK.id,
        lesson_id=LESSON.id,
        pack_version=1,
        kind="scheduled",
        status="sent",
        due_at=NOW,
        sent_at=NOW,
        channel_id="D1",
        message_ts="1.0",
        **changes,
    )


def answered(*question_ids: str) -> tuple[AnswerView, ...]:
    choices = {"single": "b", "many": "x; y", "truth": "True", "typed": "yes", "long": "o" * 80}
    return tuple(
        AnswerView(q, LESSON.question(q).prompt, choices[q], q != "single", NOW) for q in question_ids
    )


def announcement(**changes) -> AnnouncementView:
    values = dict(
        id=12,
        author_id=7,
        author_name="Felix <Moreau>",
        author_slack_user_id="U0FELIX",
        text=NASTY,
        audience_kind="channel",
        audience_value="C0GENERAL",
        send_at=NOW,
        send_local=False,
        ask_ack=True,
        status="sent",
        reminder_sent_at=None,
        created_at=NOW,
    )
    return AnnouncementView(**{**values, **changes})


def figures(a: AnnouncementView, **changes) -> AnnouncementFigures:
    values = dict(
        announcement=a,
        recipients=3,
        waiting=0,
        sent=3,
        failed=1,
        cancelled=0,
        acked=1,
        not_acked=2,
        not_acked_people=(("Ana Souza", "U0ANA"), ("", "U0BILAL")),
        reminders=0,
    )
    return AnnouncementFigures(**{**values, **changes})


def cohort_status(*, started: bool = True) -> CohortStatus:
    cohort = CohortView(3, "Spring <starters>", PACK.id, date(2026, 11, 2), "current", 7, NOW, 3)
    members = [
        MemberStanding("U0ANA", "Ana", "Europe/Berlin", "on_track", 1, 1, 5, 4, None),
        MemberStanding("U0BILAL", "Bilal", "Asia/Kolkata", "behind", 0, 1, 0, 0, "All of it"),
        MemberStanding("U0NEW", "New", "UTC", "not_started", 0, 0, 0, 0, None),
    ]
    return CohortStatus(cohort, PACK, date(2026, 11, 2), started, LESSON if started else None, 1, members)


DIAL = Dial(0.9, [Forecast(0.85, 8.2, 0.91), Forecast(0.9, 10.4, 0.93), Forecast(0.95, 15.9, 0.96)], False)


def home(**changes) -> Home:
    values = dict(
        learner=LEARNER,
        zone="Europe/Berlin",
        available=[PACK],
        streak=3,
        reviews_due=2,
        entries=[HomeEntry(PACK, "active", 1, NOW, PackProgress(1, 1, 5, 4))],
        recent=[("single", "Pick one", False, NOW)],
    )
    return Home(**{**values, **changes})


def review(kind: str, *, done: bool) -> ReviewView:
    questions = [LESSON.question("single"), LESSON.question("many")]
    state = CardState("{}", NOW, NOW - timedelta(days=3), 2, 0, 0, False)
    cards = {i: CardView(i, 1, PACK.id, LESSON.id, q.id, state) for i, q in enumerate(questions, 1)}
    answers = {1: ReviewAnswer(1, "single", "Pick one", "a", True, 6.0)}
    if done:
        answers[2] = ReviewAnswer(2, "many", "Pick some", "x; y", True, 30.0)
    session = SessionView(
        5,
        1,
        "U0ANA",
        kind,
        PACK.id if kind == "recert" else None,
        NOW.date(),
        (1, 2),
        "D1",
        "2.0",
        cards,
        answers,
    )
    items = [ReviewItem(cards[i], LESSON, q, answers.get(i)) for i, q in enumerate(questions, 1)]
    return ReviewView(session, items, PACK if kind == "recert" else None)


def digest() -> Digest:
    week = finished_week(date(2026, 11, 30), "Europe/London")
    current = TeamWeek(5, 5, 4, 12, 10, 30, 21, 6, 25, 1, 3)
    previous = TeamWeek(5, 4, 3, 10, 6, 20, 15, 2, 8, 0, 1)
    quiet = MemberWeek(2, "U0BILAL", "Bilal <b>", NOW - timedelta(days=20), None, 0, 0, None)
    return Digest(
        "Your direct reports",
        week,
        current,
        previous,
        attention=[Attention(quiet, ("silent",))],
        missed=[MissedQuestion(PACK.id, LESSON.id, "single", "Pick one", 3, 4)],
        comments=[Comment(PACK.id, LESSON.id, NASTY, 2, NOW)],
        certificates=[CertificateEarned("Ana", "Habit keeper", PACK.id, NOW)],
    )


@pytest.fixture(scope="module")
def catalog():
    return Catalog.from_directory(BUNDLED_DIR)[0]


# -- the surfaces ----------------------------------------------------------------------------------

Surface = tuple[str, dict]  # ("message" | "view", payload)
SURFACES: dict[str, Callable[[Catalog], Surface]] = {}


def surface(name: str):
    def register(build: Callable[[Catalog], Surface]) -> Callable[[Catalog], Surface]:
        SURFACES[name] = build
        return build

    return register


def message(rendered) -> Surface:
    return "message", {"text": rendered.text, "blocks": rendered.blocks}


def text_message(text: str) -> Surface:
    return "message", {"text": text, "blocks": bk.text_blocks(text)}


def reply(text: str, blocks: list[dict]) -> Surface:
    return "message", {"text": text, "blocks": blocks}


# A learner's DM, question by question.
for _answered in [
    (),
    ("single",),
    ("single", "many"),
    ("single", "many", "truth"),
    ("single", "many", "truth", "typed"),
]:
    surface(f"lesson with {len(_answered)} answered")(
        lambda _c, done=_answered: message(bk.lesson_message(PACK, LESSON, delivery(answers=answered(*done))))
    )
ALL = ("single", "many", "truth", "typed", "long")
surface("lesson to reflect on and rate")(
    lambda _c: message(bk.lesson_message(PACK, LESSON, delivery(answers=answered(*ALL))))
)
surface("lesson rated low, asking why")(
    lambda _c: message(
        bk.lesson_message(PACK, LESSON, delivery(answers=answered(*ALL), reflection=NASTY, rating=2))
    )
)
surface("lesson done and commented")(
    lambda _c: message(
        bk.lesson_message(
            PACK,
            LESSON,
            delivery(answers=answered(*ALL), reflection="Mine", rating=2, reason="too_easy", comment=NASTY),
        )
    )
)
surface("a bundled lesson")(
    lambda c: message(
        bk.lesson_message(c.get("security-basics"), c.get("security-basics").lessons[0], delivery())
    )
)
surface("lesson gone")(lambda _c: message(bk.missing_lesson_message(delivery())))
surface("review, half done")(lambda _c: message(bk.review_message(review("review", done=False))))
surface("recertification, done")(lambda _c: message(bk.review_message(review("recert", done=True))))
surface("certificate")(lambda _c: message(bk.certificate_message("Habit keeper", PACK.title, 0.9, NOW)))
surface("recertification invite")(lambda _c: message(bk.recert_invite_message("Habit keeper", NOW)))
surface("reminder")(lambda _c: message(bk.reminder_message(LESSON)))
surface("pause offer")(lambda _c: message(bk.pause_offer_message()))
surface("pause answer")(lambda _c: message(bk.pause_answer_message("Paused for a week.")))
surface("search results")(
    lambda _c: reply(
        *bk.search_results("phish", [SearchResult(PACK.id, LESSON.id, LESSON.title, PACK.title, 4)])
    )
)
surface("no search results")(lambda _c: reply(*bk.search_results("zzz", [])))
surface("help")(lambda _c: text_message(bk.help_text("frobnicate")))
surface("packs")(lambda c: text_message(bk.packs_text(list(c), {"security-basics"})))
surface("comment modal")(lambda _c: ("view", bk.comment_modal(7, LESSON.title)))
surface("typed answer modal")(lambda _c: ("view", bk.typed_answer_modal({"d": 7}, LESSON.question("typed"))))
surface("reflection modal")(lambda _c: ("view", bk.reflection_modal(7, LESSON.reflect, draft="So far")))
surface("thanks modal")(lambda _c: ("view", bk.comment_thanks_modal(NASTY)))
surface("lesson time modal")(lambda _c: ("view", bk.time_modal("07:45")))
surface("learner Home")(lambda _c: ("view", bk.home_view(home())))
surface("paused learner Home")(lambda _c: ("view", bk.home_view(home(paused_until=NOW, entries=[]))))
surface("manager Home")(lambda _c: ("view", bk.home_view(home(team=(5, 3)))))
surface("admin Home")(
    lambda _c: ("view", bk.home_view(home(organisation=(40, 21), following={PACK.id: (3, 1)}, dial=DIAL)))
)
surface("facilitator Home")(
    lambda _c: (
        "view",
        bk.home_view(
            home(following={PACK.id: (3, 1)}),
            role_sections=[
                *home_blocks(
                    [
                        figures(announcement()),
                        figures(announcement(id=13, status="scheduled", ask_ack=False)),
                    ],
                    zone_name="Europe/Paris",
                ),
                *cohorts_home_blocks([cohort_status(), cohort_status(started=False)]),
            ],
        ),
    )
)
surface("facilitator Home, nothing yet")(
    lambda _c: (
        "view",
        bk.home_view(home(), role_sections=[*home_blocks([], zone_name="UTC"), *cohorts_home_blocks([])]),
    )
)

# The facilitator's announcement form in every shape it takes.
CHOICES = FormChoices(
    cohorts=("Spring <starters>", "Autumn"),
    teams=(),
    zone="Europe/Paris",
    today=date(2026, 11, 30),
    everyone=7,
)
for _audience in ("everyone", "cohort", "team", "channel"):
    for _when in ("now", "local", "mine"):
        surface(f"announcement form: {_audience}, {_when}")(
            lambda _c, a=_audience, w=_when: ("view", announce_modal(CHOICES, audience=a, when=w))
        )
surface("announcement form: too many cohorts to list")(
    lambda _c: (
        "view",
        announce_modal(
            FormChoices(tuple(f"c{i}" for i in range(101)), (), "UTC", date(2026, 11, 30), 1),
            audience="cohort",
        ),
    )
)
surface("announcement sent note")(lambda _c: ("view", note_modal("Sent", "📣 On its way.")))
surface("announcement copy asking for Got it")(
    lambda _c: message(announcement_message(announcement(), acked=False))
)
surface("announcement copy acknowledged")(
    lambda _c: message(announcement_message(announcement(), acked=True))
)
surface("announcement copy, no acknowledgement")(
    lambda _c: message(announcement_message(announcement(ask_ack=False), acked=False))
)
surface("announcement reminder in its thread")(
    lambda _c: message(reminder_message(announcement(), in_thread=True))
)
surface("announcement reminder, whole copy")(
    lambda _c: message(reminder_message(announcement(), in_thread=False))
)
surface("announcement status")(
    lambda _c: text_message(status_text(figures(announcement()), zone_name="Europe/Paris"))
)
surface("announcements still to go")(
    lambda _c: text_message(
        upcoming_text([(announcement(status="scheduled", send_local=True), 4)], zone_name="Europe/Paris")
    )
)
surface("announcement created")(
    lambda _c: text_message(created_text(Created(announcement(), 3, "UTC", sending=True)))
)
surface("discussion prompt")(lambda _c: message(prompt_message(PACK.discussion[0])))

# Cohorts and the manager's digest.
surface("cohort status")(lambda _c: reply("status", status_blocks(cohort_status())))
surface("cohort status modal")(lambda _c: ("view", status_modal(cohort_status())))
surface("cohort status modal, not started")(lambda _c: ("view", status_modal(cohort_status(started=False))))
surface("cohort refusal modal")(lambda _c: ("view", message_modal("Only facilitators can see cohorts.")))
surface("cohorts list")(
    lambda _c: text_message(cohorts_text([cohort_status(), cohort_status(started=False)]))
)
surface("manager digest")(
    lambda c: message(digest_message(digest(), catalog=c, report_url="https://x.example/r"))
)


def contribution(kind="question", state="proposed", reason=None) -> ContributionView:
    content = {"question": {"prompt": NASTY, "choices": ["A link", "An attachment"], "answer": "A link",
                            "explain": "One copy."},
               "link": {"kind": "article", "title": NASTY, "url": "https://example.org/a"},
               "lesson": {"title": "Doors", "minutes": 2, "body": NASTY}}[kind]
    return ContributionView(3, 1, "U0ANA", "Ana <b>", None, "security-basics",
                            None if kind == "lesson" else "spot-phishing", kind, content, None, state, "U0FAY", "Fay",
                            reason, None, NOW, None)


surface("contribution form: a question")(lambda c: ("view", suggest_modal("question", targets(c))))
surface("contribution form: a lesson")(lambda c: ("view", suggest_modal("lesson", targets(c))))
surface("contribution review form")(lambda c: ("view", contribution_review_modal(contribution("link"), c)))
surface("contributions to review on Home")(
    lambda c: ("view", bk.home_view(home(), role_sections=queue_blocks(
        [contribution(), contribution("link"), contribution("lesson")], 4, c))))
surface("contribution declined DM")(
    lambda c: message(contribution_outcome(contribution(state="declined", reason=NASTY), c)))
surface("contributions weekly note")(lambda c: message(queue_note([contribution()], 1, c)))


def draw(kind: str, payload: dict) -> str:
    if kind == "view":
        return render_view({**payload, "id": "V1"}, users=USERS, conversations=CHANNELS)
    return render_message(payload, users=USERS, conversations=CHANNELS)


def walk(payload: dict) -> Iterator[tuple[str, str]]:
    """("view" | "block" | "element" | "text", type) for everything in a message or view."""
    if payload.get("type") in VIEW_TYPES:
        yield "view", payload["type"]
    for block in payload.get("blocks") or []:
        yield "block", block["type"]
        children = [block.get("accessory"), block.get("element"), *(block.get("elements") or [])]
        for element in [c for c in children if isinstance(c, dict)]:
            yield ("text" if element["type"] in TEXT_TYPES else "element"), element["type"]
        texts = [block.get("text"), block.get("label"), block.get("hint"), *(block.get("fields") or [])]
        yield from (("text", t["type"]) for t in texts if isinstance(t, dict))


@pytest.mark.parametrize("name", list(SURFACES))
def test_each_surface_draws_without_a_placeholder(name, catalog):
    kind, payload = SURFACES[name](catalog)
    shown = draw(kind, payload)
    assert "sk-unsupported" not in shown, re.findall(r'sk-unsupported">([^<]*)<', shown)
    only_our_tags(shown)
    known = {"view": VIEW_TYPES, "block": BLOCK_TYPES, "element": ELEMENT_TYPES, "text": TEXT_TYPES}
    assert all(t in known[where] for where, t in walk(payload)), list(walk(payload))
    parsed = page(shown)
    wanted = {
        e["action_id"]
        for b in payload.get("blocks") or []
        for e in [b.get("accessory"), b.get("element"), *(b.get("elements") or [])]
        if isinstance(e, dict) and "action_id" in e
    }
    drawn = {a["data-action-id"] for _, a in parsed.elements if "data-action-id" in a}
    assert wanted <= drawn, f"elements the person could not use: {wanted - drawn}"
    assert "<script>" not in shown


def test_these_surfaces_show_every_type_the_bot_emits(catalog):
    shown = {t for build in SURFACES.values() for _, t in walk(build(catalog)[1])}
    emitted, _ = bot_types()
    assert emitted <= shown, f"no surface here shows {sorted(emitted - shown)}: add the surface that does"


# -- what the facilitator and the manager see -------------------------------------------------------


def test_the_announcement_form_offers_the_workspaces_channels():
    view = {**announce_modal(CHOICES, audience="channel"), "id": "V9"}
    parsed = page(render_view(view, users=USERS, conversations=CHANNELS))
    (menu,) = parsed.tags("select", **{"data-type": "conversations_select"})
    assert (menu["data-action-id"], menu["data-block-id"], menu["data-sk"]) == (
        "channel",
        "channel",
        "select",
    )
    options = [(o["value"], o.get("selected", "no")) for o in parsed.tags("option")]
    assert [v for v, _ in options if v.startswith("C")] == ["C0GENERAL", "C0CHAMPS"], "public and private"
    assert "# general" in parsed.text and "🔒 security-champions" in parsed.text
    assert "Which channel's members?" in parsed.text and "invite Sprout first" in parsed.text
    radios = parsed.tags("input", type="radio", checked=None)
    assert [r["value"] for r in radios] == ["channel", "now"]
    assert parsed.tags("div", **{"data-input-block": "audience", "data-dispatch": "1"})
    assert (
        parsed.tags("div", **{"data-input-block": "ack", "data-optional": "1"})
        and "(optional)" in parsed.text
    )

    # What was picked shows as picked, as Slack keeps it while the form is redrawn.
    view["state"] = {
        "values": {
            "channel": {"channel": {"type": "conversations_select", "selected_conversation": "C0CHAMPS"}}
        }
    }
    parsed = page(render_view(view, users=USERS, conversations=CHANNELS))
    assert [o["value"] for o in parsed.tags("option", selected=None)] == ["C0CHAMPS"]


def test_the_announcement_form_at_a_local_time_has_day_and_time_pickers():
    view = {**announce_modal(CHOICES, audience="cohort", when="local"), "id": "V9"}
    parsed = page(render_view(view))
    assert parsed.tags("input", type="date", value="2026-11-30", **{"data-action-id": "date"})
    assert parsed.tags("input", type="time", value="09:00", **{"data-action-id": "time", "data-sk": "time"})
    assert "it reaches Tokyo before New York" in parsed.text
    assert [o["value"] for o in parsed.tags("option") if o["value"]] == ["Spring <starters>", "Autumn"]
    assert "Schedule" in parsed.text and parsed.tags("strong"), "the Got it choice is mrkdwn"
    view["state"] = {"values": {"time": {"time": {"type": "timepicker", "selected_time": "17:15"}}}}
    assert page(render_view(view)).tags("input", type="time", value="17:15")


def test_a_copy_of_an_announcement_shows_what_was_typed_and_a_got_it_button():
    copy = announcement_message(announcement(), acked=False)
    parsed = page(render_message({"text": copy.text, "blocks": copy.blocks}, users=USERS))
    (button,) = parsed.tags("button", **{"data-action-id": "announcement_ack"})
    assert button["class"] == "sk-btn sk-primary" and button["data-value"] == '{"a":12}'
    assert "Announcement from Felix <Moreau>" in parsed.text
    assert "<script>alert(1)</script> <!channel> & bold" in parsed.text and parsed.tags("strong")
    assert not parsed.tags("span", **{"class": "sk-mention sk-broadcast"})


def test_the_announcement_status_names_the_channel_and_who_has_not_acknowledged():
    text = status_text(figures(announcement()), zone_name="Europe/Paris")
    parsed = page(render_message({"text": text, "blocks": bk.text_blocks(text)}, conversations=CHANNELS))
    assert "to the members of #general" in parsed.text
    assert "Not yet: Ana Souza, U0BILAL" in parsed.text and "1 could not be delivered" in parsed.text


def test_the_cohort_status_modal_names_people_and_who_is_behind():
    parsed = page(render_view({**status_modal(cohort_status()), "id": "V3"}, users=USERS))
    assert "Cohort progress" in parsed.text and "Spring <starters> — Every kind <of> question" in parsed.text
    assert "Behind (1): @Bilal Khan" in parsed.text and "Not started (1): @U0NEW" in parsed.text
    assert "@Ana Souza · 1 of 1 lessons done · 80% right" in parsed.text
    assert [b["data-sk"] for b in parsed.tags("button")] == ["close", "close"], "only Close"


def test_the_facilitator_home_shows_announcements_and_cohorts_with_their_buttons():
    _, view = SURFACES["facilitator Home"](None)
    parsed = page(render_view({**view, "id": "VH"}, users=USERS, conversations=CHANNELS))
    assert "📣 Announcements" in parsed.text and "🧑‍🤝‍🧑 Cohorts" in parsed.text
    assert (
        "3 sent · ✅ 1 acknowledged · ⏳ 2 not yet" in parsed.text
        and "to the members of #general" in parsed.text
    )
    progress = parsed.tags("button", **{"data-action-id": "cohort_status"})
    assert [b["data-value"] for b in progress] == ['{"c":3}', '{"c":3}']


def test_the_managers_digest_has_its_figures_people_and_escaped_comments(catalog):
    rendered = digest_message(digest(), catalog=catalog, report_url="https://x.example/r")
    parsed = page(render_message({"text": rendered.text, "blocks": rendered.blocks}))
    assert "Your team's week: 23 Nov – 29 Nov" in parsed.text
    fields = parsed.tags("div", **{"class": "sk-field sk-text"})
    assert len(fields) == 10 and "Lessons answered" in parsed.text
    assert "Bilal <b>" in parsed.text and NASTY.replace("**bold**", "") in parsed.text.replace("**bold**", "")
    assert not parsed.tags("span", **{"class": "sk-mention sk-broadcast"})
    assert {a["href"] for a in parsed.tags("a")} >= {"https://x.example/r"}
