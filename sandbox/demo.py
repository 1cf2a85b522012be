"""``python app.py demo``: a simulated team receives a week of lessons, answers and rates them.

On the first evening one learner suggests a question for a later lesson with ``/learn suggest``; the
learning team's reviewer accepts it from the review queue on her Home tab, Sprout writes it into the
pack's ``contributions.yaml`` and, after a reload, learners receive the lesson with it, credited.

Everything goes the real way: signed slash commands and button clicks through Bolt's
HTTP endpoint, lessons through the planner, the outbox and the Web API (the built-in
emulator), records into an SQLite file in a temporary folder.
"""

from __future__ import annotations

import dataclasses
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.workspace import LocalWorkspace, Person

PERSONAS: list[tuple[Person, str, float]] = [
    (Person("U0DEMOANA", "Ana Souza", "Europe/Berlin"), "security-basics", 0.85),
    (Person("U0DEMOBILAL", "Bilal Khan", "Asia/Kolkata"), "security-basics", 0.6),
    (Person("U0DEMOCHEN", "Chen Wei", "America/New_York"), "onboarding-essentials", 0.75),
    (Person("U0DEMODANA", "Dana Okafor", "Australia/Sydney"), "feedback-essentials", 0.9),
    (Person("U0DEMOELI", "Eli Cohen", "America/Los_Angeles"), "data-privacy-basics", 0.5),
    (Person("U0DEMOFARAH", "Farah Haddad", "Asia/Kathmandu"), "security-basics", 0.7),
    (Person("U0DEMOGRETA", "Greta Lind", "Europe/Stockholm"), "feedback-essentials", 0.8),
    (Person("U0DEMOHIRO", "Hiro Tanaka", "Asia/Tokyo"), "onboarding-essentials", 0.65),
]
COMMENTS = [
    "Short and useful — I forwarded the checklist to my team.",
    "Could use a real example from our industry.",
    "Great podcast pick <!channel> <script>alert('hi')</script> & thanks!",
    "The second question was tricky, in a good way.",
]
STEP = timedelta(minutes=15)
# The learning team's reviewer (an admin here, as ADMIN_USER_IDS makes her) and what the first learner suggests.
REVIEWER = Person("U0DEMOFAY", "Fay Morgan", "Europe/London")
SUGGESTED = {
    "stem": "A message from a colleague asks you to approve a sign-in you did not start. What do you do?",
    "option1": "Decline it and tell the security team",
    "option2": "Approve it once, to see what happens",
    "option3": "Ignore it; it will time out",
    "right": "1",
    "explain": "An approval prompt you did not start means someone has your password: decline, then report it.",
}


def personas(count: int) -> list[tuple[Person, str, float]]:
    chosen = list(PERSONAS[:count])
    zones = ["Europe/London", "America/Chicago", "Asia/Singapore", "Africa/Lagos", "America/Sao_Paulo"]
    packs = ["security-basics", "onboarding-essentials", "feedback-essentials", "data-privacy-basics"]
    for i in range(len(chosen), count):
        chosen.append((Person(f"U0DEMO{i:04d}", f"Learner {i + 1}", zones[i % len(zones)]), packs[i % len(packs)], 0.7))
    return chosen


class Transcript:
    """Prints the transcript; in a terminal, under a progress bar of the simulated days."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.progress = None
        self.task = None

    def start_progress(self, total: int) -> None:
        if sys.stdout.isatty():
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.description}"),
                                     TimeElapsedColumn(), transient=True)
            self.progress.start()
            self.task = self.progress.add_task("", total=total)

    def advance(self, description: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, advance=1, description=description)

    def stop_progress(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def line(self, text: str) -> None:
        if not self.verbose:
            return
        if self.progress is not None:
            self.progress.console.print(text, markup=False, highlight=False)
        else:
            print(text, flush=True)


def _blocks_with(message: dict, prefix: str) -> list[dict]:
    return [b for b in message.get("blocks") or [] if str(b.get("block_id", "")).startswith(prefix)]


def _button(message: dict, action_prefix: str) -> list[dict]:
    found = []
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("type") == "button" and str(element.get("action_id", "")).startswith(action_prefix):
                found.append(element)
    return found


def run_demo(
    *, build: Callable[..., Any], base_settings: Any, learners: int = 6, days: int = 7, seed: int = 7,
    verbose: bool = True,
) -> int:
    from sandbox.clock import SimulatedClock

    rng = random.Random(seed)
    started = time.monotonic()
    today = datetime.now(UTC)
    # Sunday 12:00 UTC before the coming week: every zone's Monday 09:30 lies ahead.
    sunday = (today - timedelta(days=(today.weekday() + 1) % 7)).replace(hour=12, minute=0, second=0, microsecond=0)
    clock = SimulatedClock(sunday)
    team = personas(max(1, min(learners, 50)))
    out = Transcript(verbose)

    with tempfile.TemporaryDirectory(prefix="sprout-demo-") as folder:
        database = Path(folder) / "sprout.db"
        contributions = Path(folder) / "contributions"
        contributions.mkdir()
        settings = dataclasses.replace(base_settings, slack_bot_token=None, slack_signing_secret=None,
                                       slack_app_token=None, database_url=f"sqlite:///{database}",
                                       contributions_dir=contributions,
                                       admin_user_ids=base_settings.admin_user_ids | {REVIEWER.user_id})
        people = [p for p, _, _ in team] + [REVIEWER]
        with LocalWorkspace(build=build, settings=settings, clock=clock, people=people) as ws:
            emu, drv, sprout = ws.emulator, ws.driver, ws.sprout
            out.line(f"Sprout demo: {len(team)} learners, {days} days, records in {database}")
            out.line(f"Slack emulator at {emu.api_url}; Bolt at {ws.server.url}/slack/events\n")
            for person, pack_id, _ in team:
                response = drv.command(person.user_id, "/learn", f"enroll {pack_id}")
                if response.status != 200:
                    print(f"enrolling {person.name} failed: HTTP {response.status}", file=sys.stderr)
                    return 1
            emu.wait_for(lambda: all(emu.ephemerals(p.user_id) for p, _, _ in team))
            for person, pack_id, _ in team:
                confirmation = emu.ephemerals(person.user_id)[-1].get("text", "")
                out.line(f"{person.name:<14} ({person.tz}) enrolled in {pack_id}: {confirmation.splitlines()[-1]}")
            out.line("")

            seen: dict[str, int] = {p.user_id: 0 for p, _, _ in team}
            end = sunday + timedelta(days=days, hours=12)
            contribute_at = sunday + timedelta(days=1, hours=6)  # Monday 18:00 UTC
            out.start_progress(int((end - clock()) / STEP))
            while clock() < end:
                clock.advance(STEP)
                out.advance(f"{clock():%a %d %b %H:%M} UTC")
                if contribute_at is not None and clock() >= contribute_at:
                    contribute_at = None
                    if not _contribute(ws, team, out):
                        return 1
                sprout.tick()
                for person, _, skill in team:
                    messages = emu.dm_messages(person.user_id)
                    for message in messages[seen[person.user_id]:]:
                        _learn(ws, person, message, skill, rng, out)
                    seen[person.user_id] = len(messages)
            out.stop_progress()

            _summary(sprout, team, time.monotonic() - started, verbose)
    return 0


def _kind(message: dict) -> str:
    return ((message.get("metadata") or {}).get("event_payload") or {}).get("kind", "")


def _answer_controls(message: dict) -> list[dict]:
    """The controls of the question waiting for an answer: choice buttons, Submit, or "Type your answer"."""
    return [e for b in message.get("blocks") or [] if b.get("type") == "actions" for e in b.get("elements") or []
            if str(e.get("action_id", "")).startswith(("answer:", "submit_multi", "type_answer"))]


def _learn(ws: LocalWorkspace, person: Person, message: dict, skill: float, rng: random.Random, out: Transcript) -> None:
    """One simulated learner reads a lesson or a review, answers its questions, rates a lesson, maybe comments."""
    emu = ws.emulator
    header = next((b for b in message.get("blocks") or [] if b.get("type") == "header"), None)
    if header is None:
        return
    local = datetime.fromtimestamp(float(message["ts"]), UTC).astimezone(ZoneInfo(person.tz))
    out.line(f"{local:%a %d %b %H:%M} {person.tz:<20} {person.name:<14} ← {header['text']['text']}")
    credit = next((e.get("text", "") for b in message.get("blocks") or [] if b.get("type") == "context"
                   for e in b.get("elements", []) if "With contributions from" in e.get("text", "")), None)
    if credit:
        out.line(f"{'':>44}{credit}")
    channel, ts = message["channel"], message["ts"]

    def current() -> dict:
        return emu.message(channel, ts) or message

    for _ in range(12):
        if not _answer_controls(current()):
            break
        right = _answer(ws, person, current, skill, rng)
        out.line(f"{'':>44}answered “{_short(right[0])}” → {'✅ right' if right[1] else '❌ wrong'}")
    if _kind(message) in ("review", "recert"):
        done = next((b for b in current().get("blocks") or [] if b.get("block_id") == "review-done"), None)
        if done:
            out.line(f"{'':>44}{done['text']['text']}")
        return
    _rate(ws, person, current, skill, rng, out)


def _contribute(ws: LocalWorkspace, team: list, out: Transcript) -> bool:
    """A learner suggests a question; the reviewer accepts it from her Home tab; the packs reload."""
    emu, drv, sprout = ws.emulator, ws.driver, ws.sprout
    proposer = next((p for p, pack, _ in team if pack == "security-basics"), team[0][0])
    pack = sprout.catalog.get("security-basics")
    if pack is None or len(pack.lessons) < 2:
        return True
    lesson = pack.lessons[min(3, len(pack.lessons) - 1)]  # one the team has not received yet
    before = {v["id"] for v in emu.open_views(proposer.user_id)}
    drv.command(proposer.user_id, "/learn", "suggest")
    form = emu.wait_for(lambda: [v for v in emu.open_views(proposer.user_id)
                                 if v["id"] not in before and v.get("callback_id") == "contribution_suggest"])[-1]
    sent = drv.submit_view(proposer.user_id, form, {"target": f"{pack.id}/{lesson.id}", **SUGGESTED})
    if sent.view_errors:
        print(f"the suggestion was refused: {sent.view_errors}", file=sys.stderr)
        return False
    out.line(f"\n{proposer.name} suggests a question for “{lesson.title}”: “{_short(SUGGESTED['stem'])}”")

    drv.app_home_opened(REVIEWER.user_id)
    queued = emu.wait_for(lambda: [b for b in (emu.home_view(REVIEWER.user_id) or {}).get("blocks", [])
                                   if str(b.get("block_id", "")).startswith("home-contribution:")])
    contribution = queued[0]["block_id"].split(":", 1)[1]
    out.line(f"{REVIEWER.name} (learning team) sees it in the review queue on her Home tab and opens it")
    before = {v["id"] for v in emu.open_views(REVIEWER.user_id)}
    drv.click(REVIEWER.user_id, emu.home_view(REVIEWER.user_id), action_id="contribution_review",
              value=f'{{"c":{contribution}}}')
    review = emu.wait_for(lambda: [v for v in emu.open_views(REVIEWER.user_id)
                                   if v["id"] not in before and v.get("callback_id") == "contribution_review"])[-1]
    decided = drv.submit_view(REVIEWER.user_id, review, {"decision": "accept"})
    if decided.view_errors:
        print(f"accepting the suggestion failed: {decided.view_errors}", file=sys.stderr)
        return False
    sprout.dispatcher.dispatch()
    told = emu.wait_for(lambda: [m for m in emu.dm_messages(proposer.user_id)
                                 if (m.get("metadata") or {}).get("event_payload", {}).get("kind")
                                 == "contribution_outcome"])
    out.line(f"{REVIEWER.name} accepts it; {proposer.name} is told: {_short(told[-1].get('text', ''), 70)}")
    written = sprout.settings.contributions_dir / pack.id / "contributions.yaml"
    before = len(emu.ephemerals(REVIEWER.user_id))
    drv.command(REVIEWER.user_id, "/learn", "admin reload")
    reloaded = emu.wait_for(lambda: emu.ephemerals(REVIEWER.user_id)[before:])[-1].get("text", "")
    served = sprout.catalog.get(pack.id)
    out.line(f"Written to {written.name} ({written.stat().st_size} bytes); {reloaded} "
             f"{pack.id} is now version {served.version if served else '?'}\n")
    return True


def _answer(ws: LocalWorkspace, person: Person, current: Callable[[], dict], skill: float,
            rng: random.Random) -> tuple[str, bool]:
    """Answer the waiting question the way its kind asks, right with probability ``skill``."""
    emu, drv, sprout = ws.emulator, ws.driver, ws.sprout
    message = current()
    control = _answer_controls(message)[0]
    value = sprout_value(control)
    ref = {"d": value["d"]} if "d" in value else {"s": value["s"], "k": value["k"]}
    question = sprout.service.question_for(person.user_id, ref, str(value["q"]))
    know = rng.random() < skill
    results = len(_blocks_with(message, "result:"))
    if question.kind in ("single", "true_false"):
        right = question.correct_index
        pick = right if know else rng.choice([i for i in range(len(question.options)) if i != right])
        drv.click(person.user_id, message, action_id=f"answer:{pick}")
    elif question.kind == "multiple":
        picks = [i for i, option in enumerate(question.options) if option in question.answers]
        if not know:
            picks = picks[:-1] or [i for i in range(len(question.options)) if i not in picks][:1]
        drv.select(person.user_id, message, "pick", [str(i) for i in picks])
        drv.click(person.user_id, current(), action_id="submit_multi")
    else:
        drv.click(person.user_id, message, action_id="type_answer")
        modal = _modal_with(emu, person.user_id, "answer")
        typed = question.accept[0] if know else "I am not sure"
        drv.submit_view(person.user_id, modal, {"answer": {"text": typed}})

    def verdicts() -> list[dict]:
        found = _blocks_with(current(), "result:")
        return found if len(found) > results else []

    return question.prompt, "✅ Right" in emu.wait_for(verdicts)[-1]["text"]["text"]


def _rate(ws: LocalWorkspace, person: Person, current: Callable[[], dict], skill: float, rng: random.Random,
          out: Transcript) -> None:
    emu, drv = ws.emulator, ws.driver
    if not _button(current(), "rate:"):
        return
    rating = max(1, min(5, round(rng.gauss(3.2 + 1.5 * skill, 0.8))))
    drv.click(person.user_id, current(), action_id=f"rate:{rating}")
    emu.wait_for(lambda: _blocks_with(current(), "rated"))
    out.line(f"{'':>44}rated {rating}/5")
    if rng.random() < 0.3:
        comment = rng.choice(COMMENTS)
        drv.click(person.user_id, current(), action_id="comment")
        view = _modal_with(emu, person.user_id, "comment")
        drv.submit_view(person.user_id, view, {"comment": {"text": comment}})
        emu.wait_for(lambda: _blocks_with(current(), "commented"))
        out.line(f"{'':>44}commented: {comment}")


def _modal_with(emu, user_id: str, block_id: str) -> dict:
    """The person's open modal that has ``block_id`` (the one just opened, not an earlier thank-you)."""
    def found() -> dict | None:
        return next((v for v in reversed(emu.open_views(user_id))
                     if any(b.get("block_id") == block_id for b in v.get("blocks", []))), None)

    return emu.wait_for(found)


def sprout_value(button: dict) -> dict:
    import json

    return json.loads(button["value"])


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summary(sprout: Any, team: list, elapsed: float, verbose: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    rows = {row.slack_user_id: row for row in sprout.store.learner_summary()}
    reviews = sprout.store.review_summary()
    table = Table(title="Sprout demo — the week in records", title_justify="left")
    for column in ("learner", "time zone", "pack", "lessons", "answered", "accuracy", "reviews right", "avg rating",
                   "comments"):
        table.add_column(column, justify="left" if column in ("learner", "time zone", "pack") else "right")
    totals = [0, 0, 0, 0, 0, 0]
    for person, pack_id, _ in team:
        row = rows.get(person.user_id)
        if row is None:
            continue
        accuracy = f"{row.correct / row.answered:.0%}" if row.answered else "—"
        rating = f"{row.average_rating:.1f}" if row.average_rating is not None else "—"
        reviewed, reviewed_right = reviews.get(person.user_id, (0, 0))
        table.add_row(person.name, person.tz, pack_id, str(row.delivered), str(row.answered), accuracy,
                      f"{reviewed_right}/{reviewed}" if reviewed else "—", rating, str(row.comments))
        totals[0] += row.delivered
        totals[1] += row.answered
        totals[2] += row.correct
        totals[3] += row.comments
        totals[4] += reviewed
        totals[5] += reviewed_right
    overall = f"{totals[2] / totals[1]:.0%}" if totals[1] else "—"
    table.add_row("all", "", "", str(totals[0]), str(totals[1]), overall, f"{totals[5]}/{totals[4]}", "",
                  str(totals[3]), style="bold")
    console = Console(width=None if sys.stdout.isatty() else 136)
    console.print()
    console.print(table)
    counts = sprout.store.outbox_counts()
    console.print(f"outbox: {counts}; finished in {elapsed:.1f}s")
