"""Managers' digests in Slack, and the organisation report as one HTML page.

- ``digest_message``: a ``Digest`` (learning/digest.py) drawn as Block Kit from ``digest.json.j2``
  and a plain-text fallback from ``digest.txt.j2``, always within Slack's limits;
- ``Digests``: the service behind them — renders the outbox kinds "digest" and "digest_chart" in
  batches (``with_digests`` wraps the outbox renderer), and answers ``/learn digest …``;
- ``organisation_report``: the L&D team's self-contained HTML report (``report.html.j2``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup

from bot.charts import bar_chart_svg, weekly_chart_png, weekly_chart_svg
from bot.i18n import N_, Speaker, _, fmt_date, fmt_day, fmt_day_month, fmt_number, for_learner, n_, speaking
from bot.mrkdwn import escape, truncate
from bot.text import environment, render
from content_packs.catalog import Catalog
from db.reporting import HOUR_COST_KEY, GroupOutcome, Person, Reporting, Scope
from db.store import OutboxItem
from learning.digest import (
    DAY_NAMES,
    Attention,
    Change,
    Digest,
    DigestCommandError,
    DigestWeek,
    Money,
    Outcome,
    chart_weeks,
    digest_schedule,
    finished_week,
    format_money,
    needs_attention,
    parse_digest_command,
    parse_money,
    time_cost,
    week_from_payload,
    week_so_far,
)
from learning.errors import NotAllowed
from learning.itemstats import item_stats
from learning.recall import team_recall
from learning.review import ParameterSets
from learning.schedule import resolve_zone, zone
from learning.simulation import dial
from scheduler.sending import Attachment, OutgoingMessage

log = logging.getLogger(__name__)

DIGEST_KINDS = ("digest", "digest_chart")
SHOWN_ATTENTION = 10
SHOWN_CERTIFICATES = 5
COMMENT_CHARS = 500
PROMPT_CHARS = 200
NAME_CHARS = 60
MAX_BLOCKS = 50

Renderer = Callable[[Sequence[OutboxItem]], list[Any]]


@dataclass(frozen=True)
class DigestMessage:
    text: str
    blocks: list[dict[str, Any]]


# -- drawing a digest ---------------------------------------------------------------------------


def _count_change(change: Change) -> str:
    delta = change.delta
    if delta is None:
        return ""
    if delta == 0:
        return _("no change")
    return f"{'▲' if delta > 0 else '▼'} {_count(abs(delta))}"


def _share_change(change: Change) -> str:
    if change.current is None:
        return ""
    if change.previous is None:
        return _("nothing to compare")
    points = round(change.delta * 100)
    if points == 0:
        return _("no change")
    return f"{'▲' if points > 0 else '▼'} " + _("%(points)s pts", points=abs(points))


def _rating_change(change: Change) -> str:
    if change.current is None:
        return ""
    if change.previous is None:
        return _("nothing to compare")
    delta = round(change.delta, 1)
    if delta == 0:
        return _("no change")
    return f"{'▲' if delta > 0 else '▼'} {_one_place(abs(delta))}"


def _percent(value: float | None) -> str:
    """0.853 → "85%" ("85 %" in German): the locale's percent sign and spacing."""
    # Translators: the percent sign as written after a number, with any space before it ("85 %").
    return "—" if value is None else fmt_number(round(value * 100), "#,##0") + _("%")


def _count(value: float) -> str:
    """1234 → "1,234" ("1.234" in German)."""
    return fmt_number(value, "#,##0")


def _one_place(value: float) -> str:
    """4.25 → "4.2" ("4,2" in German), as Python's ``:.1f`` rounds."""
    return fmt_number(float(f"{value:.1f}"), "0.0")


def _reasons(entry: Attention, zone_name: str) -> str:
    parts = []
    for reason in entry.reasons:
        if reason == "silent":
            parts.append(_("no answer in 7+ days"))
        elif reason == "accuracy":
            parts.append(_("%(share)s right", share=_percent(entry.accuracy)) + " ("
                         + n_("%(n)s answer", "%(n)s answers", entry.member.answers) + ")")
        elif reason == "expiring":
            when = entry.member.certificate_expires_at.astimezone(zone(zone_name))
            what = escape(entry.member.certificate_name or _("certificate"))
            parts.append(_("%(what)s expires %(day)s", what=what, day=fmt_day(when)))
    return "; ".join(parts)


def _lesson_title(catalog: Catalog, pack_id: str, lesson_id: str) -> str:
    lesson = catalog.lesson(pack_id, lesson_id)
    pack = catalog.get(pack_id)
    if lesson is None:
        return f"{pack_id} / {lesson_id}"
    return f"{lesson.title} ({pack.title})" if pack else lesson.title


def _period(week: DigestWeek) -> str:
    if week.so_far:
        return _("since %(day)s", day=fmt_day(week.start_local))
    return f"{fmt_day(week.start_local)} – {fmt_day(week.last_local)} {week.last_local:%Y}"


def digest_context(digest: Digest, *, catalog: Catalog, report_url: str | None = None) -> dict[str, Any]:
    """What the templates need: figures formatted, lists cut to size. People's text stays raw here:
    the templates escape it."""
    week = digest.week
    f = digest.figures
    cur = digest.current
    if week.so_far:
        header = _("🌱 This week so far")
    else:
        header = _("🌱 Your team's week: %(start)s – %(end)s", start=fmt_day_month(week.start_local),
                   end=fmt_day_month(week.last_local))
    attention = digest.attention
    figures = [
        {"label": _("Enrolled"), "value": _("%(enrolled)s of %(members)s", enrolled=_count(cur.enrolled),
                                            members=_count(cur.members)), "change": _count_change(f.enrolled)},
        {"label": _("Active"), "value": _count(cur.active), "change": _count_change(f.active)},
        {"label": _("Lessons delivered"), "value": _count(cur.delivered), "change": _count_change(f.delivered)},
        {"label": _("Lessons answered"), "value": _count(cur.answered), "change": _count_change(f.answered)},
        {"label": _("Completion"), "value": _percent(cur.completion), "change": _share_change(f.completion)},
        {"label": _("Quiz accuracy"), "value": n_("%(share)s of %(n)s answer", "%(share)s of %(n)s answers",
                                                  cur.answers, share=_percent(cur.accuracy))
         if cur.answers else "—", "change": _share_change(f.accuracy)},
        {"label": _("Average rating"), "value": f"{_one_place(cur.average_rating)} / 5 ({_count(cur.ratings)})"
         if cur.ratings else "—", "change": _rating_change(f.rating)},
        {"label": _("Certificates earned"), "value": _count(cur.certificates),
         "change": _count_change(f.certificates)},
        {"label": _("Discussion replies"), "value": _count(cur.contributions),
         "change": _count_change(f.contributions)},
        {"label": _("Communities of practice"), "value": _("%(proposed)s proposed · %(accepted)s accepted",
                                                          proposed=_count(cur.proposed), accepted=_count(cur.accepted)),
         "change": _count_change(f.proposed)},
    ]
    if f.meetings.current or f.meetings.previous:
        # Only where mentoring pairs run. Slack allows ten fields in a section and there are ten already: the
        # pairs that met join the communities of practice, which they are.
        figures[-1]["value"] += " · " + n_("%(n)s pair met", "%(n)s pairs met", cur.meetings)
    rating = (n_("Average *%(average)s / 5* from %(n)s rating", "Average *%(average)s / 5* from %(n)s ratings",
                 cur.ratings, average=_one_place(cur.average_rating)) if cur.ratings else "")
    return {
        "header": truncate(header, 150),
        "scope": digest.title,
        "period": _period(week),
        "zone": week.zone,
        "so_far": week.so_far,
        "empty": digest.empty,
        "compared_with": _("the same days last week") if week.so_far else _("the week before"),
        "this_week": _("so far this week") if week.so_far else _("this week"),
        "figures": figures,
        "attention": [
            {"name": truncate(a.member.name or a.member.slack_user_id, NAME_CHARS), "reasons": _reasons(a, week.zone)}
            for a in attention[:SHOWN_ATTENTION]
        ],
        "attention_total": len(attention),
        "attention_more": max(0, len(attention) - SHOWN_ATTENTION),
        "missed": [
            {"prompt": truncate(q.prompt, PROMPT_CHARS), "lesson": truncate(_lesson_title(catalog, q.pack_id,
                                                                                       q.lesson_id), 150),
             "wrong": q.wrong, "answers": q.answers}
            for q in digest.missed
        ],
        "rating": rating,
        "rating_short": f"{_one_place(cur.average_rating)}/5" if cur.ratings else "",
        "comments": [
            {"text": truncate(c.text, COMMENT_CHARS), "lesson": truncate(_lesson_title(catalog, c.pack_id,
                                                                                     c.lesson_id), 150),
             "rating": c.rating}
            for c in digest.comments
        ],
        "certificates": [
            {"learner": truncate(c.learner_name, NAME_CHARS), "name": truncate(c.name, 150)}
            for c in digest.certificates[:SHOWN_CERTIFICATES]
        ],
        "certificates_total": cur.certificates,
        "certificates_more": max(0, cur.certificates - min(len(digest.certificates), SHOWN_CERTIFICATES)),
        "delivered": _count(cur.delivered),
        "answered": _count(cur.answered),
        "delivered_count": cur.delivered,
        "answered_count": cur.answered,
        "completion": _percent(cur.completion) if cur.delivered else "",
        "accuracy": _percent(cur.accuracy) if cur.answers else "",
        "report_url": report_url,
    }


def fit_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Slack's limits, enforced once more after the template: a digest is never refused for size."""
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            block["text"]["text"] = truncate(block["text"]["text"], 150)
        elif kind == "section":
            if "text" in block:
                block["text"]["text"] = truncate(block["text"]["text"], 3000)
            if "fields" in block:
                block["fields"] = block["fields"][:10]
                for item in block["fields"]:
                    item["text"] = truncate(item["text"], 2000)
        elif kind == "context":
            block["elements"] = block["elements"][:10]
            for item in block["elements"]:
                item["text"] = truncate(item["text"], 3000)
    if len(blocks) > MAX_BLOCKS:
        blocks = blocks[: MAX_BLOCKS - 1] + [blocks[-1]]
    return blocks


def digest_message(digest: Digest, *, catalog: Catalog, report_url: str | None = None) -> DigestMessage:
    context = digest_context(digest, catalog=catalog, report_url=report_url)
    blocks = json.loads(environment().get_template("digest.json.j2").render(**context))
    text = truncate(render("digest.txt.j2", **context), 3000)
    return DigestMessage(text=text, blocks=fit_blocks(blocks))


def chart_alt_text(points) -> str:
    answered = ", ".join(str(p.answered) for p in points)
    accuracy = ", ".join(_percent(p.accuracy) for p in points)
    return truncate(_("Lessons answered per week, oldest first: %(answered)s. Quiz accuracy: %(accuracy)s.",
                      answered=answered, accuracy=accuracy), 1000)


# -- the service ---------------------------------------------------------------------------------


class Digests:
    """Digests for managers (and admins), built in batches from ``db.reporting``."""

    def __init__(
        self,
        *,
        reporting: Reporting,
        catalog: Catalog,
        default_timezone: str = "UTC",
        report_url: str | None = None,
        admin_user_ids: Iterable[str] = (),
        default_language: str = "en",
    ) -> None:
        self.reporting = reporting
        self.default_language = default_language
        self.catalog = catalog
        self.default_timezone = default_timezone
        self.report_url = report_url
        self.admin_user_ids = frozenset(admin_user_ids)
        # Per dispatcher (worker id): the claim being drawn, and what of it is prepared but not yet taken.
        self._claims: dict[str, tuple[datetime, dict[int, Any]]] = {}
        self._lock = threading.Lock()

    def speaker_of(self, person: Person | None) -> Speaker:
        """A digest is written in its reader's language: their choice, Slack's locale, DEFAULT_LANGUAGE."""
        if person is None:
            return for_learner(None, None, default=self.default_language)
        return for_learner(person.language, person.slack_locale, default=self.default_language)

    def zone_of(self, person: Person | None) -> str:
        if person is None:
            return self.default_timezone
        return resolve_zone(person.timezone, person.slack_timezone, default=self.default_timezone)

    # -- building ------------------------------------------------------------------------------

    def build(self, scopes: Sequence[tuple[Scope, str]]) -> dict[str, Digest]:
        """Digests for many scopes at once: one query per kind of figure, whatever their number."""
        only = [scope for scope, _title in scopes]
        if not only:
            return {}
        weeks = self.reporting.team_weeks(only)
        members = self.reporting.members(only)
        missed = self.reporting.missed_questions(only)
        comments = self.reporting.recent_comments(only)
        certificates = self.reporting.certificates_earned(only, limit=SHOWN_CERTIFICATES)
        out = {}
        for scope, title in scopes:
            current, previous = weeks[scope.key]
            team = members.get(scope.key, [])
            out[scope.key] = Digest(
                title=f"{_(title)} (" + n_("%(n)s person", "%(n)s people", current.members) + ")",
                week=scope.week,
                current=current,
                previous=previous,
                attention=needs_attention(team, scope.week.as_of),
                missed=missed.get(scope.key, []),
                comments=comments.get(scope.key, []),
                certificates=certificates.get(scope.key, []),
            )
        return out

    def message(self, digest: Digest) -> DigestMessage:
        return digest_message(digest, catalog=self.catalog, report_url=self.report_url)

    # -- the outbox ----------------------------------------------------------------------------

    def render(self, items: Sequence[OutboxItem]) -> list[OutgoingMessage | None | Exception]:
        """Draw "digest" and "digest_chart" outbox items. None: nothing to send (the manager is gone).
        An exception stands for an item that could not be drawn (the dispatcher retries it later).

        The dispatcher claims up to 500 messages at once and draws them 25 at a time; a set of digest
        queries costs about the same for 25 managers as for 500 (each reads the week's records), so
        the first chunk of a claim prepares every digest of the claim at once (``_prepared``) and
        the later chunks take theirs from what was prepared. Charts are prepared as their figures;
        each PNG is drawn with its own chunk.
        """
        prepared = self._prepared(items)
        out: list[OutgoingMessage | None | Exception] = []
        for item in items:
            ready = prepared.get(item.id)
            if ready is None or isinstance(ready, Exception):
                out.append(ready)
                continue
            try:
                if isinstance(ready, DigestMessage):
                    out.append(OutgoingMessage(channel=item.channel, text=ready.text, blocks=ready.blocks))
                else:
                    scope, points, speaker = ready
                    with speaking(speaker):
                        out.append(self._chart_message(item, scope, points))
            except Exception as exc:  # one broken digest never holds up the others
                log.exception("could not draw outbox %s (%s)", item.id, item.kind)
                out.append(exc)
        return out

    def _prepared(self, items: Sequence[OutboxItem]) -> dict[int, Any]:
        """Each item's drawn digest, or its chart's (scope, points), or None (the manager is gone)."""
        claimed = [i for i in items if i.claimed_by and i.claimed_at]
        if not claimed:
            return self._prepare(items)
        with self._lock:
            worker = claimed[0].claimed_by
            claim = self._claims.get(worker)
            if claim is None or claim[0] != claimed[0].claimed_at:  # a new claim: what was left is stale
                claim = (claimed[0].claimed_at, {})
                self._claims[worker] = claim
            ahead = claim[1]
            missing = [i for i in items if i.id not in ahead]
            if missing:
                batch = {i.id: i for i in missing}
                for sibling in self.reporting.claimed_with(worker, claimed[0].claimed_at, DIGEST_KINDS):
                    if sibling.id not in ahead:
                        batch.setdefault(sibling.id, _outbox_item(sibling))
                ahead.update(self._prepare(list(batch.values())))
            return {i.id: ahead.pop(i.id, None) for i in items}

    def _prepare(self, items: Sequence[OutboxItem]) -> dict[int, Any]:
        """One set of queries for all ``items``: digests drawn, charts' weekly figures read."""
        people = self.reporting.people_by_id(i.learner_id for i in items if i.learner_id is not None)
        scopes: dict[int, Scope] = {}
        speakers: dict[int, Speaker] = {}
        for item in items:
            person = people.get(item.learner_id) if item.learner_id is not None else None
            if person is None or not item.payload:
                continue
            scopes[item.id] = Scope(f"o{item.id}", "manager", person.slack_user_id, week_from_payload(item.payload))
            speakers[item.id] = self.speaker_of(person)
        digests: dict[str, Digest] = {}
        # One set of queries per language among the managers (usually one or two), not per manager.
        for speaker in {s.language: s for s in speakers.values()}.values():
            with speaking(speaker):
                digests.update(self.build([(scopes[i.id], N_("Your direct reports")) for i in items
                                           if i.kind == "digest" and i.id in scopes
                                           and speakers[i.id].language == speaker.language]))
        charts = [(scopes[i.id], chart_weeks(scopes[i.id].week)) for i in items
                  if i.kind == "digest_chart" and i.id in scopes]
        series = self.reporting.weekly_series(charts) if charts else {}
        out: dict[int, Any] = {}
        for item in items:
            scope = scopes.get(item.id)
            if scope is None:
                out[item.id] = None
            elif item.kind == "digest":
                try:
                    with speaking(speakers[item.id]):
                        out[item.id] = self.message(digests[scope.key])
                except Exception as exc:  # one broken digest never holds up the others
                    log.exception("could not draw outbox %s (%s)", item.id, item.kind)
                    out[item.id] = exc
            else:
                out[item.id] = (scope, series[scope.key], speakers[item.id])
        return out

    def render_one(self, item: OutboxItem) -> OutgoingMessage | None:
        """One item on its own, for ``outbox_renderer(kinds=…)``. Prefer ``with_digests``: it draws a
        batch of digests with one set of queries instead of one set per digest."""
        (message,) = self.render([item])
        if isinstance(message, Exception):
            raise message
        return message

    def _chart_message(self, item: OutboxItem, scope: Scope, points) -> OutgoingMessage:
        week = scope.week
        png = weekly_chart_png(points, title=_("Your team, last 8 weeks"))
        channel, thread_ts = item.channel, None
        sent = self.reporting.sent_message(item.payload.get("digest_key", "")) if item.payload else None
        if sent is not None:  # in the digest's thread when the digest is already out
            channel, thread_ts = sent
        return OutgoingMessage(
            channel=channel,
            text=_("📊 Your team's last eight weeks, to %(day)s: lessons answered and quiz accuracy.",
                   day=fmt_day_month(week.last_local)),
            thread_ts=thread_ts,
            file=Attachment(
                filename=f"sprout-digest-{week.start_local.isoformat()}.png",
                content=png,
                title=_("Your team, 8 weeks to %(date)s", date=fmt_date(week.last_local)),
                alt_text=chart_alt_text(points),
            ),
        )

    # -- /learn digest -------------------------------------------------------------------------

    def _reply(self, text: str) -> DigestMessage:
        return DigestMessage(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn",
                                                                               "text": truncate(text, 3000)}}])

    def role_of(self, slack_user_id: str, person: Person | None) -> str:
        """The stored role, as ``LearningService.role_of`` has it: ADMIN_USER_IDS are always admins."""
        if slack_user_id in self.admin_user_ids:
            return "admin"
        return person.role if person is not None else "learner"

    @staticmethod
    def _refuse(slack_user_id: str, role: str, action: str, why: str) -> NotAllowed:
        """A refusal, logged as ``LearningService.require`` logs one; raised, it becomes an ephemeral
        reply in the one place listeners turn domain errors into replies (bot.listeners.errors)."""
        log.warning("refused %s to %s (role %s)", action, slack_user_id, role)
        return NotAllowed(f"{why} Your role in Sprout is {role}.\n\n{render('help.md.j2', unknown=None)}")

    def command(self, slack_user_id: str, text: str, now: datetime) -> DigestMessage:
        """``/learn digest [off | on | mon 08:00 | team NAME | cost 45 USD]``, checked against the stored role.

        Managers see their direct reports only; admins (role admin, or ADMIN_USER_IDS) see everyone
        or one team; anyone else is refused (``NotAllowed``, logged) and told what they can do instead.
        Nobody sees anyone else's figures. The role is read from the database on every command.
        """
        person = self.reporting.person(slack_user_id)
        try:
            command = parse_digest_command(text)
        except DigestCommandError as exc:
            return self._reply(exc.message)
        role = self.role_of(slack_user_id, person)
        admin = role == "admin"
        # A manager by role, or because some active learner names them as their manager.
        manager = person is not None and (person.role == "manager" or person.reports > 0)
        if command.action == "cost":
            if not admin:
                raise self._refuse(slack_user_id, role, "digest cost",
                                   "Only admins can set what an hour of learners' time costs.")
            cost = command.cost
            self.reporting.set_setting(HOUR_COST_KEY, f"{cost.amount:g} {cost.currency}", now, by=slack_user_id)
            return self._reply(f"An hour of a learner's time now counts as *{format_money(cost)}* in the "
                               "organisation report's cost figures.")
        if command.action in ("off", "on", "schedule"):
            # A coach's weekly coach digest keeps the same day, time and off switch (bot.coaching).
            if not (manager or (person is not None and person.role == "coach")) or person is None:
                raise self._refuse(slack_user_id, role, f"digest {command.action}",
                                   "The weekly digest goes to managers: no one reports to you in Sprout's "
                                   "records, so there is no digest to change.")
            return self._change_schedule(person, command, now)
        if command.team is not None:
            if not admin:
                raise self._refuse(slack_user_id, role, "digest team",
                                   "Only admins can see a whole team's digest."
                                   + (" Yours, `/learn digest`, covers your direct reports." if manager else ""))
            return self._on_demand(person, Scope("team", "team", command.team, self._week(person, now)),
                                   f"Team {command.team}", team=command.team)
        if admin:
            return self._on_demand(person, Scope("everyone", "everyone", None, self._week(person, now)),
                                   "Everyone")
        if manager:
            return self._on_demand(person, Scope("mine", "manager", slack_user_id, self._week(person, now)),
                                   "Your direct reports")
        raise self._refuse(slack_user_id, role, "digest",
                           "The digest is for managers: it shows how the people who report to you are doing, "
                           "and no one sees anyone's figures but their own."
                           + (" Your coachees are on your Home tab, and in your weekly coach digest."
                              if role == "coach" else ""))

    def _week(self, person: Person | None, now: datetime) -> DigestWeek:
        day, _time = digest_schedule(person.digest_day if person else None, None)
        return week_so_far(now, self.zone_of(person), week_starts=day)

    def _on_demand(self, person: Person | None, scope: Scope, title: str, *, team: str | None = None) -> DigestMessage:
        digest = self.build([(scope, title)])[scope.key]
        if team is not None and digest.empty:
            teams = ", ".join(f"`{escape(t)}`" for t in self.reporting.teams()[:30]) or "none in the roster"
            return self._reply(f"No one is in team `{escape(team)}`. Teams: {teams}.")
        return self.message(digest)

    def _change_schedule(self, person: Person, command, now: datetime) -> DigestMessage:
        zone_name = self.zone_of(person)
        if command.action == "off":
            self.reporting.set_digest_preferences(person.id, now, digest_off=True)
            return self._reply("🔕 Your weekly digest is off. `/learn digest on` brings it back; "
                               "`/learn digest` still shows this week so far.")
        values: dict[str, Any] = {"digest_off": False}
        if command.day:
            values["digest_day"] = command.day
        if command.at:
            values["digest_time"] = command.at.strftime("%H:%M")
        self.reporting.set_digest_preferences(person.id, now, **values)
        day, at = digest_schedule(values.get("digest_day", person.digest_day),
                                  values.get("digest_time", person.digest_time))
        return self._reply(f"📬 Your weekly digest arrives on *{DAY_NAMES[day]}s at {at:%H:%M}* your time "
                           f"({zone_name}), covering the seven days before.")


def _outbox_item(row) -> OutboxItem:
    return OutboxItem(id=row.id, kind=row.kind, channel=row.channel, attempts=row.attempts, learner_id=row.learner_id,
                      delivery_id=None, claimed_at=row.claimed_at, status="sending", payload=row.payload,
                      claimed_by=row.claimed_by)


def digest_subcommand(digests: Digests) -> Callable[[Any], None]:
    """``/learn digest …`` for ``Deps.subcommands``: the reply is ephemeral, wherever it was typed.

    Ephemeral rather than a DM: typed in a channel, a team's figures must not be posted there, and
    an answer "at once" should not wait for the outbox's pacing or add to the weekly DM's history.
    """

    def digest(ctx: Any) -> None:  # bot.listeners.CommandContext
        message = digests.command(ctx.user_id, ctx.args, ctx.now)
        ctx.respond(text=message.text, blocks=message.blocks, response_type="ephemeral")

    return digest


def with_digests(render_: Renderer, digests: Digests) -> Renderer:
    """The outbox renderer, extended with the digest kinds (drawn together, in one batch)."""

    def combined(items: Sequence[OutboxItem]) -> list[Any]:
        mine = [i for i in items if i.kind in DIGEST_KINDS]
        if not mine:
            return render_(items)
        others = [i for i in items if i.kind not in DIGEST_KINDS]
        drawn: dict[int, Any] = {}
        try:
            drawn.update(zip((i.id for i in mine), digests.render(mine), strict=True))
        except Exception as exc:  # the lessons in the same batch still go out
            log.exception("could not draw digests %s", [i.id for i in mine])
            drawn.update((i.id, exc) for i in mine)
        if others:
            drawn.update(zip((i.id for i in others), render_(others), strict=True))
        return [drawn[i.id] for i in items]

    return combined


# -- the organisation report ---------------------------------------------------------------------


def _money(value: Money | None) -> str:
    return "—" if value is None else format_money(value)


def _outcome_row(outcome: GroupOutcome, label: str, cost: Outcome) -> dict[str, Any]:
    f = outcome.figures
    return {
        "label": label,
        "id": outcome.group,
        "enrolled": f.enrolled,
        "active": f.active,
        "participation": _percent(f.active / f.enrolled) if f.enrolled else "—",
        "delivered": f.delivered,
        "answered": f.answered,
        "completion": _percent(f.completion),
        "accuracy": _percent(f.accuracy),
        "accuracy_value": f.accuracy,
        "completion_value": f.completion,
        "answers": f.answers,
        "retention": _percent(outcome.retention),
        "reviews": outcome.reviews,
        "rating": f"{f.average_rating:.1f}" if f.ratings else "—",
        "ratings": f.ratings,
        "certificates": f.certificates,
        "contributions": f.contributions,
        "meetings": f.meetings,
        "proposed": f.proposed,
        "accepted": f.accepted,
        "pack_cost": _money(cost.pack_cost),
        "time_cost": _money(cost.time_cost),
        "total_cost": _money(cost.total),
        "per_active": _money(cost.per_active_learner),
        "per_lesson": _money(cost.per_completed_lesson),
        "per_certificate": _money(cost.per_certificate),
    }


def retention_dial(retention: float, parameters: tuple[float, ...] | None) -> dict:
    """The retention dial's forecast: what each retention near the configured one costs and keeps, from the
    memory simulation with the workspace's fitted parameters when it has them."""
    rows = [{"retention": f"{f.retention:.2f}", "per_week": f"{f.per_week:.0f}", "recall": _percent(f.recall),
             "configured": abs(f.retention - retention) < 1e-9} for f in dial(retention, parameters)]
    return {"retention": f"{retention:.2f}", "forecasts": rows, "fitted": parameters is not None}


def fit_rows(reporting: Reporting, catalog: Catalog) -> list[dict]:
    """Each scope's newest fit (the workspace's, each pack's own) with the held-out log losses it was judged
    on, and what schedules that scope now."""
    rows = []
    for fit in reporting.latest_fsrs_fits():
        pack = catalog.get(fit.pack_id) if fit.pack_id else None
        rows.append({"scope": "Workspace (every pack without its own)" if fit.pack_id is None
                     else (pack.title if pack else fit.pack_id), "id": fit.pack_id,
                     "date": f"{fit.fitted_at:%d %b %Y}", "reviews": f"{fit.reviews:,}", "learners": fit.learners,
                     "held_out": f"{fit.held_out_reviews:,}", "fitted": f"{fit.log_loss:.3f}",
                     "defaults": f"{fit.default_log_loss:.3f}",
                     "in_use": None if fit.current_log_loss is None else f"{fit.current_log_loss:.3f}",
                     "adopted": fit.adopted, "rescheduled": fit.rescheduled})
    return rows


def memory_rows(reporting: Reporting, catalog: Catalog, now: datetime, *, retention: float,
                parameters: tuple[float, ...] | ParameterSets | None) -> list[dict]:
    rows = []
    for pack in team_recall(reporting.open_cards(), now, retention=retention, parameters=parameters):
        known = catalog.get(pack.pack_id)
        forgetting = []
        for q in pack.forgetting:
            lesson = catalog.lesson(q.pack_id, q.lesson_id)
            question = lesson.question(q.question_id) if lesson else None
            forgetting.append({"prompt": question.prompt if question else q.question_id,
                               "lesson": lesson.title if lesson else q.lesson_id, "question": q.question_id,
                               "recall": _percent(q.recall), "below": q.below, "learners": q.learners})
        rows.append({"id": pack.pack_id, "label": known.title if known else pack.pack_id,
                     "recall": _percent(pack.recall), "cards": pack.cards, "learners": pack.learners,
                     "forgetting": forgetting})
    return rows


def organisation_report(
    reporting: Reporting, catalog: Catalog, *, since: datetime, until: datetime, now: datetime,
    retention: float = 0.9, health: Sequence[dict] | None = None,
) -> str:
    """The L&D team's report over ``[since, until)`` as one self-contained HTML page (charts inline as SVG),
    with what the team remembers now, the retention dial at the configured ``retention`` (REVIEW_RETENTION)
    and the content-health flags (``bot.health.report_rows``)."""
    hourly_text = reporting.setting(HOUR_COST_KEY)
    try:
        hourly = parse_money(hourly_text) if hourly_text else None
    except ValueError:
        log.warning("org setting %s=%r is not an amount like 45 USD; time is not costed", HOUR_COST_KEY, hourly_text)
        hourly = None

    def minutes(pack_id: str, lesson_id: str) -> int:
        lesson = catalog.lesson(pack_id, lesson_id)
        return lesson.minutes if lesson else 0

    answered_by = {}
    for by in ("pack", "team"):
        grouped: dict[str, list[tuple[int, int]]] = {}
        for group, pack_id, lesson_id, n in reporting.answered_lessons(since, until, by=by):
            grouped.setdefault(group, []).append((minutes(pack_id, lesson_id), n))
        answered_by[by] = grouped

    packs = []
    for outcome in reporting.outcomes(since, until, by="pack"):
        pack = catalog.get(outcome.group)
        pack_cost = Money(pack.cost.amount, pack.cost.currency) if pack and pack.cost else None
        cost = Outcome(pack_cost, time_cost(answered_by["pack"].get(outcome.group, []), hourly),
                       outcome.figures.active, outcome.figures.answered, outcome.figures.certificates)
        packs.append(_outcome_row(outcome, pack.title if pack else outcome.group, cost))
    teams = []
    for outcome in reporting.outcomes(since, until, by="team"):
        cost = Outcome(None, time_cost(answered_by["team"].get(outcome.group, []), hourly),
                       outcome.figures.active, outcome.figures.answered, outcome.figures.certificates)
        teams.append(_outcome_row(outcome, outcome.group or "(no team)", cost))

    items = []
    for stats in map(item_stats, reporting.item_sums(since, until)):
        lesson = catalog.lesson(stats.pack_id, stats.lesson_id)
        items.append({
            "pack": stats.pack_id,
            "lesson": lesson.title if lesson else stats.lesson_id,
            "question": stats.question_id,
            "prompt": stats.prompt,
            "wordings": stats.wordings,
            "answered": stats.answered,
            "difficulty": _percent(stats.difficulty),
            "discrimination": "—" if stats.discrimination is None else f"{stats.discrimination:+.2f}",
            "flags": stats.flags,
        })
    items.sort(key=lambda i: (not i["flags"], i["pack"], i["lesson"], i["question"]))
    lessons = []
    for fb in reporting.lesson_feedback(since, until):
        lesson = catalog.lesson(fb.pack_id, fb.lesson_id)
        lessons.append({
            "pack": fb.pack_id,
            "lesson": lesson.title if lesson else fb.lesson_id,
            "ratings": fb.ratings,
            "rating": "—" if fb.average_rating is None else f"{fb.average_rating:.1f}",
            "reasons": fb.reasons,
            "comments": fb.comments,
        })

    totals = reporting.totals(since, until)
    end_week = finished_week(until.date(), "UTC")
    weeks = chart_weeks(end_week, count=max(1, min(26, ((until - since).days + 6) // 7)))
    org = Scope("org", "everyone", None, end_week)
    series = reporting.weekly_series([(org, weeks)])["org"]
    charts = {
        "weekly": Markup(weekly_chart_svg(series, title="Everyone: lessons answered and accuracy per week")),
        "completion": Markup(bar_chart_svg([p["label"] for p in packs], [p["completion_value"] for p in packs],
                                           title="Completion by pack")) if packs else None,
        "accuracy": Markup(bar_chart_svg([t["label"] for t in teams], [t["accuracy_value"] for t in teams],
                                         title="Quiz accuracy by team")) if teams else None,
    }
    parameters = reporting.fsrs_parameter_sets()
    return environment().get_template("report.html.j2").render(
        since=since, until=until, now=now, totals=totals, packs=packs, teams=teams, items=items,
        lessons=lessons, charts=charts, hourly=_money(hourly) if hourly else None,
        memory=memory_rows(reporting, catalog, now, retention=retention, parameters=parameters),
        dial=retention_dial(retention, parameters.workspace), health=health, fits=fit_rows(reporting, catalog),
    )
