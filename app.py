"""Sprout's command line and its one composition root.

Settings are read once, here; everything else gets what it needs passed in.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import logging
import os
import re
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from config import (  # noqa: F401  (app.Settings and friends stay importable)
    BUNDLED_PACKS,
    HISTORY_TIER_RATES,
    LOG_LEVELS,
    Settings,
    SettingsError,
    load_settings,
    parse_bound,
)

log = logging.getLogger("sprout")

SANDBOX_TOKEN = "xoxb-sandbox-token"


@dataclass
class TickResult:
    queued: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    completed: int = 0
    reminders: int = 0
    profiles: int = 0
    reviews: int = 0


@dataclass
class Sprout:
    """Everything, wired. Built by ``build``; closed by ``close``."""

    settings: Settings
    engine: Any
    store: Any
    catalog: Any
    problems: list
    clock: Any
    messenger: Any
    planner: Any
    nudger: Any
    review_planner: Any
    planners: list  # more planners (digests, announcements, prompts…): each ``plan(now)`` queues its messages
    dispatcher: Any
    service: Any
    profile_lookup: Any
    admin: Any
    bolt: Any
    wsgi: Any
    emulator: Any = None
    signing_secret: str = ""
    redrawer: Any = None  # bot.redraw.Redrawer: messages a click changed that Slack may not show yet
    lrs: Any = None  # scheduler.lrs.LrsForwarder when XAPI_LRS_URL is set
    facilitation: Any = None  # bot.listeners.facilitator.Facilitation: announcements and prompts (Home blocks)
    first_runs: Any = None  # scheduler.first_runs.FirstRuns: the jobs due at start not run yet (/healthz)
    cohorts: Any = None  # bot.cohorts.CohortService: cohorts and track enrollment
    tracks: Any = None  # content_packs.tracks.TrackCatalog: curriculum tracks, reloaded with the packs
    health: Any = None  # bot.health.ContentHealth: flags for authors, link checks, retired lessons
    rules: Any = None  # bot.enrollment_rules.EnrollmentRules: who gets which pack by channel, group, roster
    pairing: Any = None  # bot.pairing.MentoringPairs: mentoring pairs' programmes, answers and opt-outs
    contributions: Any = None  # bot.contributions.ContributionService: /learn suggest and the review queue
    _closers: list = field(default_factory=list)

    def refresh_retired(self) -> bool:
        """Serve the packs without the lessons retired since (``packs retire`` runs in another process): no
        planner picks them and search no longer finds them. Whether anything changed."""
        if self.health is None:
            return False
        retired = self.health.records.retired()
        if not self.catalog.set_retired(retired):
            return False
        self.store.sync_lesson_index(self.catalog.search_rows())
        log.warning("retired lessons: %s", ", ".join(sorted(f"{p}/{lesson}" for p, lesson in retired)) or "none")
        return True

    def plan(self, now: datetime | None = None) -> TickResult:
        """Decide what is due at ``now`` (profiles, lessons, reminders) and queue it in the outbox."""
        from scheduler.profiles import refresh_profiles

        now = now or self.clock()
        result = TickResult()
        try:
            result.profiles = refresh_profiles(self.store, self.profile_lookup, now)
        except Exception:  # Slack being down must not stop lessons going out on known time zones
            log.exception("profile refresh failed")
        planned = self.planner.plan(now)
        nudges = self.nudger.plan(now)
        reviews = self.review_planner.plan(now)
        result.reviews = reviews.reviews + reviews.recerts
        for planner in self.planners:
            try:
                planner(now)
            except Exception:  # one feature's planner failing must not stop the lessons
                log.exception("planner %s failed", getattr(planner, "__qualname__", planner))
        result.queued = len(planned.queued)
        result.completed = len(planned.completed)
        result.reminders = len(nudges.reminders) + len(nudges.pause_offers)
        return result

    def tick(self, now: datetime | None = None) -> TickResult:
        """Plan what is due at ``now`` and send it; running it again at the same instant sends nothing."""
        result = self.plan(now)
        sent = self.dispatcher.dispatch()
        result.sent, result.retried, result.failed = sent.sent, sent.retried, sent.failed
        return result

    def next_due(self, now: datetime | None = None) -> datetime | None:
        """When the next lesson falls due for anyone (the sandbox's "jump to the next delivery")."""
        return self.planner.next_due(now or self.clock())

    def serve_http(self, *, host: str = "127.0.0.1", port: int = 0):
        """Start the HTTP front door in the background; it is stopped by ``close``."""
        from bot.http import HttpServer

        server = HttpServer(self.wsgi, host=host, port=port).start()
        self._closers.append(server.stop)
        return server

    def close(self) -> None:
        for close in reversed(self._closers):
            try:
                close()
            except Exception:  # closing is best effort
                log.debug("error while closing", exc_info=True)


DRAWING_THREADS = 2


def build(settings: Settings, *, clock=None, emulator=None, migrate: bool = True, listener_workers: int = 64,
          engine=None, verified_upstream: bool = False) -> Sprout:
    """The composition root: engine, store, packs, Slack clients, scheduler, Bolt, HTTP app.

    ``engine``: one the caller owns (a hosted Sprout's workspace, on a pool shared by all of them);
    otherwise one is made from ``DATABASE_URL`` and closed with the Sprout."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.admin import Admin, admin_subcommands, privacy_renderer
    from bot.asking import Asking
    from bot.coaching import CoachingService
    from bot.cohorts import CohortService, SlackDirectory
    from bot.contributions import ContributionService
    from bot.digest import Digests, digest_subcommand, with_digests
    from bot.enrollment_rules import EnrollmentRules, SlackMembership
    from bot.enrollment_rules import subcommand as rules_subcommand
    from bot.health import ContentHealth
    from bot.http import wsgi_app
    from bot.listeners import Deps, facilitator
    from bot.listeners import asking as asking_listeners
    from bot.listeners import coaching as coaching_listeners
    from bot.listeners import cohorts as cohort_listeners
    from bot.listeners import contributions as contribution_listeners
    from bot.listeners import health as health_listeners
    from bot.listeners import pairing as pairing_listeners
    from bot.listeners import rules as rules_listeners
    from bot.messenger import SlackMessenger, interactive_client
    from bot.outbox import outbox_renderer
    from bot.pairing import MentoringPairs, SlackGroups
    from bot.prompts import SlackChannels
    from bot.redraw import Redrawer
    from bot.service import LearningService
    from bot.slack_app import build_app, profile_lookup
    from content_packs.catalog import Catalog
    from content_packs.tracks import TRACKS_FOLDER, TrackCatalog
    from db.coaching import CoachingRecords
    from db.engine import make_engine, ping
    from db.health import ContentHealthRecords
    from db.migrate import upgrade
    from db.pacing import LearnedPaces
    from db.pairing import PairingRecords
    from db.reporting import Reporting
    from db.store import Store
    from scheduler.announcements import FacilitationPlanner
    from scheduler.coaching import CoachDigestPlanner
    from scheduler.digests import DigestPlanner
    from scheduler.dispatcher import POST_METHOD, ChannelPacer, Dispatcher
    from scheduler.first_runs import FirstRuns
    from scheduler.pacing import HISTORY_LIMIT, MethodPacer, history_bursts, method_rates, workspace_pace
    from scheduler.pairing import PairingPlanner
    from scheduler.planner import Planner
    from scheduler.reminders import Nudger
    from scheduler.reviews import ReviewPlanner
    from scheduler.runner import wall_clock
    from scheduler.tracks import TrackPlanner

    closers: list = []
    clock = clock or wall_clock
    token = settings.slack_bot_token
    secret = settings.slack_signing_secret
    api_url = settings.slack_api_url
    if emulator is None and settings.uses_emulator:
        from sandbox.emulator import SlackEmulator

        emulator = SlackEmulator(bot_token=SANDBOX_TOKEN)
        emulator.start()
        closers.append(emulator.stop)
    if emulator is not None:
        token, api_url = emulator.bot_token, emulator.api_url
        secret = secret or secrets.token_hex(16)

    if engine is None:
        engine = make_engine(settings.database_url)
        closers.append(engine.dispose)
    if migrate:
        upgrade(engine)
    store = Store(engine)
    pack_check = slack_limits_check()
    catalog, loaded = Catalog.from_directory(settings.content_packs_dir, contributions_dir=settings.contributions_dir,
                                             check=pack_check)
    for problem in loaded.problems:
        log.warning("pack not loaded: %s", problem)
    health_records = ContentHealthRecords(engine)
    catalog.set_retired(health_records.retired())  # before search indexes what is served
    store.sync_lesson_index(catalog.search_rows())
    tracks, loaded_tracks = TrackCatalog.from_directory(settings.content_packs_dir / TRACKS_FOLDER, catalog)
    for problem in loaded_tracks.problems:
        log.warning("track not loaded: %s", problem)
    lrs = None
    if settings.xapi_lrs_url:
        from learning.xapi import StatementBuilder
        from scheduler.lrs import HttpLrsClient, LrsForwarder, LrsSettings

        lrs_client = HttpLrsClient(LrsSettings(url=settings.xapi_lrs_url, key=settings.xapi_lrs_key,
                                               secret=settings.xapi_lrs_secret))
        closers.append(lrs_client.close)
        lrs = LrsForwarder(store=store, builder=StatementBuilder(settings.xapi(), catalog.get), client=lrs_client,
                           since=settings.xapi_lrs_since)

    client = interactive_client(token=token, base_url=api_url)
    messenger = SlackMessenger(token=token, base_url=api_url, connections=settings.senders,
                               proxy=None if emulator is not None else settings.https_proxy)
    services: dict[str, Any] = {}
    renderers: dict[str, Any] = {}  # outbox kinds of features beyond lessons and reviews
    reporting = Reporting(engine)
    digests = Digests(reporting=reporting, catalog=catalog, default_timezone=settings.default_timezone,
                      default_language=settings.default_language,
                      report_url=settings.report_url, admin_user_ids=settings.admin_user_ids)
    learned_paces = LearnedPaces(engine)
    dispatcher = Dispatcher(
        store=store,
        sender=messenger,
        # Digests are drawn in batches (one set of queries per batch), so they wrap the renderer.
        render=with_digests(outbox_renderer(store=store, catalog=catalog,
                                            reviews=lambda s: services["learning"].review_view(s),
                                            kinds=renderers, default_language=settings.default_language),
                     digests),
        clock=clock,
        workers=settings.senders,
        bucket=workspace_pace(ceiling_per_minute=settings.rate_per_minute, burst=settings.burst,
                              learned_per_minute=learned_paces.per_minute(POST_METHOD)),
        learned_paces=learned_paces,
        channel_pacer=ChannelPacer(),
        method_pacer=MethodPacer(method_rates(history_per_minute=settings.history_per_minute),
                                 bursts=history_bursts(settings.history_tier)),
        history_limit=HISTORY_LIMIT,
        lease=timedelta(seconds=settings.lease_seconds),
    )
    closers.append(dispatcher.close)
    planner = Planner(store=store, catalog=catalog, default_timezone=settings.default_timezone)
    nudger = Nudger(store=store, after=timedelta(hours=settings.reminder_after_hours))
    review_planner = ReviewPlanner(store=store, catalog=catalog, default_timezone=settings.default_timezone,
                                   max_questions=settings.review_questions)
    lookup = profile_lookup(client)
    service = LearningService(
        store=store,
        catalog=catalog,
        dispatcher=dispatcher,
        lookup_profile=lookup,
        default_timezone=settings.default_timezone,
        default_language=settings.default_language,
        review_retention=settings.review_retention,
        admin_user_ids=settings.admin_user_ids,
    )
    services["learning"] = service
    admin = Admin(service=service, store=store, catalog=catalog, packs_dir=settings.content_packs_dir, tracks=tracks,
                  contributions_dir=settings.contributions_dir, pack_check=pack_check)
    renderers["privacy_export"] = privacy_renderer(store)
    subcommands: dict[str, Any] = {}
    listeners: list[Any] = []
    facilitation = facilitator.Facilitation.build(service=service, client=client, store=store)
    renderers.update(facilitation.announcements.renderers())  # announcement, announcement_reminder
    renderers.update(facilitation.prompts.renderers())  # prompt
    listeners.append(functools.partial(facilitator.register, facilitation=facilitation))
    asking = Asking(service=service, store=store)  # the DM: answers, lessons found, questions passed on
    renderers.update(asking.renderers())  # dm_reply, learner_question
    listeners.append(functools.partial(asking_listeners.register, asking=asking))
    cohorts = CohortService(learning=service, tracks=tracks)
    listeners.append(functools.partial(cohort_listeners.register, cohorts=cohorts))
    health = ContentHealth(records=health_records, reporting=reporting, catalog=catalog, service=service)
    listeners.append(functools.partial(health_listeners.register, health=health))
    rules = EnrollmentRules(service=service, store=store, catalog=catalog, tracks=tracks,
                            membership=SlackMembership(client))
    admin.rules = rules  # each roster sync applies the rules that are on
    listeners.append(functools.partial(rules_listeners.register, rules=rules))
    pairing_records = PairingRecords(engine)
    pairing = MentoringPairs(service=service, records=pairing_records, channels=SlackChannels(client))
    renderers.update(pairing.renderers())  # pair_intro, pair_check_in
    listeners.append(functools.partial(pairing_listeners.register, pairs=pairing))
    groups = SlackGroups(client, SlackDirectory(client))
    coaching_records = CoachingRecords(engine)
    coaching = CoachingService(learning=service, records=coaching_records, store=store, catalog=catalog)
    renderers.update(coaching.renderers())  # coach_digest
    listeners.append(functools.partial(coaching_listeners.register, coaching=coaching))
    contributions = ContributionService(service=service, store=store, catalog=catalog,
                                        contributions_dir=settings.contributions_dir)
    renderers.update(contributions.renderers())  # contribution_outcome, contribution_queue
    listeners.append(functools.partial(contribution_listeners.register, contributions=contributions))
    # Messages drawn after a click's ack (bot.listeners.actions.later); closed after the listeners, which
    # hand it their drawing, and before the database.
    drawing = ThreadPoolExecutor(max_workers=DRAWING_THREADS, thread_name_prefix="sprout-drawing")
    closers.append(drawing.shutdown)
    deps = Deps(service=service, clock=clock, subcommands=subcommands, listeners=tuple(listeners),
                home_sections=(facilitation.announcements.home_blocks, cohorts.home_blocks, coaching.home_blocks,
                               contributions.home_blocks, health.home_blocks),
                message_handlers=(facilitation.prompts.on_message, asking.on_message), drawing=drawing,
                channel_joins=(rules.when_joined,))
    subcommands.update(admin_subcommands(admin, deps))
    subcommands.update(facilitator.subcommands(deps, facilitation))  # /learn announce …, /learn prompt …
    subcommands.update(asking_listeners.subcommands(asking))  # /learn questions [#channel | dm]
    subcommands.update(cohort_listeners.subcommands(deps, cohorts=cohorts))  # /learn cohort …, enroll <track>
    subcommands.update(pairing_listeners.subcommands(pairing))  # /learn pairs …
    subcommands.update(coaching_listeners.subcommands(deps, coaching))  # /learn coach …, /learn share coach on|off
    subcommands["digest"] = digest_subcommand(digests)
    subcommands["rules"] = rules_subcommand(rules)  # /learn rules [add … | preview n | on n | off n]
    subcommands.update(contribution_listeners.subcommands(contributions))  # /learn suggest
    listener_executor = ThreadPoolExecutor(max_workers=listener_workers, thread_name_prefix="sprout-listener")
    # Closed after the HTTP server (which stops first) and before the database: listeners at work finish.
    closers.append(listener_executor.shutdown)
    bolt = build_app(
        token=token,
        signing_secret=secret,
        client=client,
        deps=deps,
        listener_executor=listener_executor,
        verified_upstream=verified_upstream,
    )
    redrawer = Redrawer(service=service, store=store, client=client, lease=timedelta(seconds=settings.lease_seconds))
    first_runs = FirstRuns()
    wsgi = wsgi_app(bolt, healthy=lambda: ping(engine), starting=first_runs.waiting)
    return Sprout(
        settings=settings,
        engine=engine,
        store=store,
        catalog=catalog,
        problems=loaded.problems,
        clock=clock,
        messenger=messenger,
        planner=planner,
        nudger=nudger,
        review_planner=review_planner,
        planners=[DigestPlanner(store=store, reporting=reporting, default_timezone=settings.default_timezone).plan,
                  FacilitationPlanner(store=store, catalog=catalog, audience=facilitation.announcements.recipients,
                                      default_timezone=settings.default_timezone).plan,
                  TrackPlanner(store=store, catalog=catalog, tracks=tracks).plan,
                  PairingPlanner(records=pairing_records, channel_members=groups.channel_members,
                                 open_group=groups.open, default_timezone=settings.default_timezone).plan,
                  CoachDigestPlanner(store=store, recipients=coaching_records.digest_recipients,
                                     existing_keys=reporting.existing_keys,
                                     default_timezone=settings.default_timezone).plan,
                  contributions.plan],
        dispatcher=dispatcher,
        service=service,
        profile_lookup=lookup,
        admin=admin,
        bolt=bolt,
        wsgi=wsgi,
        emulator=emulator,
        signing_secret=secret,
        redrawer=redrawer,
        lrs=lrs,
        facilitation=facilitation,
        first_runs=first_runs,
        cohorts=cohorts,
        tracks=tracks,
        health=health,
        rules=rules,
        pairing=pairing,
        contributions=contributions,
        _closers=closers,
    )


# -- commands -----------------------------------------------------------------------------------


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def on_signal(signum, _frame) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


def _wait_until_stopped(stop: threading.Event) -> None:
    """Block the main thread until a signal sets `stop`.

    Never a bare `stop.wait()`: the kernel may deliver SIGTERM to any thread, and Python runs the
    handler only when the main thread next wakes up. A main thread parked in an untimed lock wait
    would then never see the signal (a sandbox under load once ignored SIGTERM for good).
    """
    while not stop.wait(0.25):
        pass


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """The bot and its scheduler; without a token, the sandbox workspace in the browser."""
    from bot.http import HttpServer
    from db.engine import ping
    from scheduler.runner import start_scheduler

    if settings.uses_emulator:
        if settings.database_url_explicit and not args.sandbox:
            raise SettingsError(
                "SLACK_BOT_TOKEN is not set but DATABASE_URL is: the sandbox would import its sample people into "
                "that database and 'send' its learners' lessons into a local emulator. Set SLACK_BOT_TOKEN (and "
                "SLACK_SIGNING_SECRET) to run the bot, or pass --sandbox to try the sandbox on that database on "
                "purpose.")
        return run_sandbox(settings, args)
    if settings.hosted:
        return run_hosted(settings, args)
    sprout = build(settings)
    host = args.host or "0.0.0.0"
    stop = _stop_on_signals()
    sprout.dispatcher.start_heartbeat()
    scheduler = start_scheduler(plan=sprout.plan, dispatch=sprout.dispatcher.dispatch,
                                plan_every=args.interval, dispatch_every=2, first_runs=sprout.first_runs)
    add_background_jobs(scheduler, sprout)
    socket_handler = None
    server = None
    try:
        if settings.slack_app_token:
            from bot.http import health_app
            from bot.socket_mode import SocketState, socket_mode_handler

            socket_handler = socket_mode_handler(sprout.bolt, settings.slack_app_token)
            state = SocketState(socket_handler.client)
            # /healthz on PORT as in HTTP mode, with the WebSocket's state: orchestrators need it most here.
            server = HttpServer(health_app(lambda: ping(sprout.engine), socket=state.problem), host=host,
                                port=args.port or settings.port).start()
            socket_handler.connect()
            print(f"Sprout is running in Socket Mode (health: {server.url}/healthz). Ctrl-C stops it.", flush=True)
        else:
            server = HttpServer(sprout.wsgi, host=host, port=args.port or settings.port).start()
            print(f"Sprout is listening on {server.url}/slack/events (health: /healthz). Ctrl-C stops it.",
                  flush=True)
        _wait_until_stopped(stop)
    finally:
        sprout.dispatcher.stop()  # at once: a fan-out in progress gives back what it has not handed to Slack
        scheduler.shutdown(wait=True)
        if socket_handler is not None:
            socket_handler.close()
        if server is not None:
            server.stop()
        sprout.close()
    return 0


# Slack retries an event for a few minutes; its id is kept a few days, then forgotten.
KEEP_EVENT_IDS = timedelta(days=3)


def add_background_jobs(scheduler, sprout: Sprout, suffix: str = "") -> None:
    """Forward records to the LRS, reload packs when their files change, draw messages left undrawn (at
    once, then every ten seconds), forget old event ids (daily), sync the roster and check links: the
    callables made here, their jobs in ``scheduler.runner``."""
    from bot.admin import packs_signature
    from scheduler.runner import BackgroundJobs
    from scheduler.runner import add_background_jobs as schedule

    seen = {"signature": packs_signature(sprout.settings.content_packs_dir, sprout.settings.contributions_dir)}

    def reload_when_changed() -> None:
        signature = packs_signature(sprout.settings.content_packs_dir, sprout.settings.contributions_dir)
        if signature != seen["signature"]:
            seen["signature"] = signature
            serving, problems = sprout.admin.reload_packs(sprout.clock())
            log.warning("packs reloaded: %d serving; %s", len(serving), "; ".join(problems) or "no problems")
        sprout.refresh_retired()  # a lesson retired by `packs retire` (another process), within seconds

    real_slack = not sprout.settings.uses_emulator  # the sandbox's people are the emulator's: nothing to sync
    jobs = BackgroundJobs(
        redraw_at_start=lambda: sprout.redrawer.catch_up(sprout.clock()),
        redraw=lambda: sprout.redrawer.run(sprout.clock()),
        forget_events=lambda: sprout.store.forget_processed_events(sprout.clock() - KEEP_EVENT_IDS),
        reload_packs=reload_when_changed,
        lrs=(lambda: sprout.lrs.tick(sprout.clock())) if sprout.lrs is not None else None,
        roster_sync=(lambda: sprout.admin.sync_roster(sprout.bolt.client, sprout.clock())) if real_slack else None,
        roster_sync_hours=sprout.settings.roster_sync_hours,
        # The sandbox's lessons link to the internet, which a sandbox may not reach: no checks there.
        link_check=(lambda: check_pack_links(sprout)) if real_slack else None,
        link_check_hours=sprout.settings.link_check_hours,
    )
    schedule(scheduler, jobs, suffix=suffix, first_runs=sprout.first_runs)


def check_pack_links(sprout: Sprout) -> list:
    """Check every link of every served lesson and record each result; forget links no lesson uses."""
    from scheduler.links import check_links

    records = sprout.health.records
    used = sprout.health.links_in_use()
    results = check_links(used, lambda r, now: records.record_link_check(r.url, ok=r.ok, status=r.status,
                                                                          error=r.error, now=now), sprout.clock)
    records.forget_links(used)
    return results


# -- a hosted Sprout: installed in many workspaces ----------------------------------------------------


def workspace_settings(settings: Settings, team_id: str, bot_token: str | None) -> Settings:
    """One workspace of a hosted Sprout, as a single-workspace Sprout: its own bot token, its own records
    (a PostgreSQL schema or an SQLite file of its own, db.workspaces) and its own xAPI account home page."""
    from db.workspaces import NotAWorkspace, workspace_database_url

    try:
        url = workspace_database_url(settings.database_url, team_id)
    except NotAWorkspace as exc:
        raise SettingsError(str(exc)) from None
    # Contributions are records of one workspace: each has its own folder of them (ids would clash otherwise).
    contributions = (settings.contributions_dir or Path("contributions").resolve()) / team_id
    return dataclasses.replace(
        settings, slack_client_id=None, slack_client_secret=None, slack_bot_token=bot_token, database_url=url,
        slack_workspace_url=f"https://app.slack.com/client/{team_id}", contributions_dir=contributions)


class Hosted:
    """A Sprout installed in many workspaces: the install pages, then one single-workspace Sprout per
    installed workspace (``build``), each with its own token, records and pacing; every request to
    ``/slack/events`` goes to the Sprout of the workspace it comes from."""

    def __init__(self, settings: Settings, *, clock=None, listener_workers: int = 16, migrate: bool = True) -> None:
        from bot.http import health_app
        from bot.install import Installations, installer_app, web_client, workspace_router
        from db.engine import ping
        from db.migrate import upgrade
        from db.vault import reseal_tokens
        from db.workspaces import WorkspaceDatabases
        from scheduler.runner import wall_clock

        self.settings = settings
        self.clock = clock or wall_clock
        self.listener_workers = listener_workers
        self.migrate = migrate
        self.databases = WorkspaceDatabases(settings.database_url)
        self.engine = self.databases.main
        if migrate:
            upgrade(self.engine)
        self.vault = vault_of(settings)
        self.installations = Installations(engine=self.engine, client_id=settings.slack_client_id, vault=self.vault)
        sealed = reseal_tokens(self.engine, self.vault.seal, only_plain=True)
        if sealed:
            log.warning("sealed %d Slack tokens an earlier version had stored in plain text", sealed)
        self.sprouts: dict[str, Sprout] = {}
        self.on_serve: list[Callable[[str, Sprout], None]] = []  # the scheduler's jobs for a new workspace
        self.on_gone: list[Callable[[str], None]] = []  # ... and for one that uninstalled Sprout
        self._lock = threading.RLock()
        installer = installer_app(
            installations=self.installations, client_secret=settings.slack_client_secret,
            signing_secret=settings.slack_signing_secret, client=web_client(settings.slack_api_url),
            redirect_uri=settings.slack_redirect_uri, authorization_url=settings.slack_authorize_url,
            on_installed=self.installed)
        self.wsgi = workspace_router(installer=installer, workspace_app=self.wsgi_of,
                                     signing_secret=settings.slack_signing_secret,
                                     extra=health_app(lambda: ping(self.engine), starting=self.first_jobs_waiting))
        self._looked_for_installs = 0.0  # when a request from an unknown workspace last made us look
        self.discover()

    def discover(self) -> list[str]:
        """Serve every workspace installed so far (by this instance or another) and stop serving those that
        uninstalled Sprout; the new ones' ids."""
        installed = set(self.installations.team_ids())
        new = sorted(installed - set(self.sprouts))
        for team in new:
            self.serve(team)
        for team in sorted(set(self.sprouts) - installed):
            self.forget_workspace(team)
        return new

    def uninstalled(self, team_id: str) -> None:
        """Slack said the app was uninstalled (or its bot token revoked): the installation goes and the
        workspace is no longer served. Its records stay, for a reinstall or an export."""
        self.installations.store.delete_bot(enterprise_id=None, team_id=team_id)
        self.installations.store.delete_installation(enterprise_id=None, team_id=team_id)
        log.warning("uninstalled from %s: no longer served; its records are kept", team_id)
        self.forget_workspace(team_id)

    def forget_workspace(self, team_id: str) -> None:
        with self._lock:
            sprout = self.sprouts.pop(team_id, None)
        for hook in self.on_gone:
            hook(team_id)
        if sprout is not None:
            sprout.dispatcher.stop()

            def close() -> None:
                sprout.close()
                self.databases.release(team_id)

            # Closed on a thread of its own: this may be one of the workspace's own listener threads.
            threading.Thread(target=close, name=f"close-{team_id}", daemon=True).start()

    def _listen_for_uninstall(self, team_id: str, sprout: Sprout) -> None:
        def app_uninstalled(body: dict) -> None:
            self.uninstalled(team_id)

        def tokens_revoked(event: dict) -> None:
            if (event.get("tokens") or {}).get("bot"):
                self.uninstalled(team_id)

        sprout.bolt.event("app_uninstalled")(app_uninstalled)
        sprout.bolt.event("tokens_revoked")(tokens_revoked)

    def serve(self, team_id: str) -> Sprout | None:
        """The Sprout of ``team_id``, built on first use (or again when the workspace's token changed)."""
        workspace = self.installations.find(team_id)
        if workspace is None:
            return None
        with self._lock:
            current = self.sprouts.get(team_id)
            if current is not None and current.settings.slack_bot_token == workspace.bot_token:
                return current
            sprout = build(workspace_settings(self.settings, team_id, workspace.bot_token), clock=self.clock,
                           migrate=self.migrate, listener_workers=self.listener_workers,
                           engine=self.databases.engine_for(team_id), verified_upstream=True)
            self._listen_for_uninstall(team_id, sprout)
            self.sprouts[team_id] = sprout
            if current is not None:
                current.dispatcher.stop()
                current.close()
        log.warning("serving workspace %s (%s)", team_id, workspace.team_name)
        for hook in self.on_serve:
            hook(team_id, sprout)
        return sprout

    def installed(self, workspace, installer_user_id: str | None) -> None:
        """Just installed: serve the workspace at once; the person who installed Sprout is its first admin."""
        sprout = self.serve(workspace.team_id)
        if sprout is None or not installer_user_id:
            return
        now = self.clock()
        learner = sprout.service.learner(installer_user_id, now)
        if learner.role != "admin":
            sprout.store.set_role(learner.id, "admin", now)
            sprout.store.audit(actor=installer_user_id, action="install", subject=installer_user_id,
                               detail="installed Sprout: admin of the workspace", now=now)

    # A signed request from a workspace not served here looks in the database (installed through another
    # instance a moment ago?) at most this often; otherwise an unknown team costs a dictionary look-up.
    LOOK_FOR_INSTALLS_EVERY = 10.0

    def wsgi_of(self, team_id: str):
        """The served workspace's app, from memory. The cache changes on install and uninstall here, on
        ``discover`` (a job, every minute), and on a miss at most every ``LOOK_FOR_INSTALLS_EVERY`` seconds."""
        sprout = self.sprouts.get(team_id)
        if sprout is None:
            now = time.monotonic()
            with self._lock:
                due = now - self._looked_for_installs >= self.LOOK_FOR_INSTALLS_EVERY
                if due:
                    self._looked_for_installs = now
            if due:
                self.discover()
                sprout = self.sprouts.get(team_id)
        return sprout.wsgi if sprout is not None else None

    def rotate_tokens(self) -> list[str]:
        """Refresh the bot tokens that expire within two hours (token rotation on), and serve each of those
        workspaces with its new token; the teams refreshed."""
        from bot.install import web_client

        with self._lock:
            teams = sorted(self.sprouts)
        refreshed = self.installations.refresh_expiring(
            teams, client_secret=self.settings.slack_client_secret, client=web_client(self.settings.slack_api_url))
        for team in refreshed:
            log.info("refreshed the bot token of %s", team)
            self.serve(team)
        return refreshed

    def first_jobs_waiting(self) -> int:
        """Across the workspaces served: the scheduler jobs due at their start that have not run yet."""
        return sum(sprout.first_runs.waiting() for _, sprout in self.each() if sprout.first_runs is not None)

    def each(self) -> list[tuple[str, Sprout]]:
        with self._lock:
            return sorted(self.sprouts.items())

    def tick(self, now: datetime | None = None) -> dict[str, TickResult]:
        return {team: sprout.tick(now) for team, sprout in self.each()}

    def close(self) -> None:
        with self._lock:
            sprouts, self.sprouts = list(self.sprouts.values()), {}
        for sprout in sprouts:
            sprout.close()
        self.databases.dispose()


def run_hosted(settings: Settings, args: argparse.Namespace) -> int:
    """Install pages and every installed workspace, each planned and sent for on jobs of its own."""
    from bot.http import HttpServer
    from bot.install import INSTALL_PATH
    from scheduler.runner import add_interval_job, add_tick_jobs, hosted_scheduler, remove_jobs

    stop = _stop_on_signals()
    hosted = Hosted(settings)
    scheduler = hosted_scheduler(max_workers=16)  # the shared pool holds 20 + 20 connections

    def schedule(team: str, sprout: Sprout) -> None:
        sprout.dispatcher.start_heartbeat()
        add_tick_jobs(scheduler, plan=sprout.plan, dispatch=sprout.dispatcher.dispatch, plan_every=args.interval,
                      dispatch_every=2, suffix=f"-{team}", first_runs=sprout.first_runs)
        add_background_jobs(scheduler, sprout, suffix=f"-{team}")

    hosted.on_serve.append(schedule)
    hosted.on_gone.append(lambda team: remove_jobs(scheduler, f"-{team}"))
    for team, sprout in hosted.each():
        schedule(team, sprout)
    # Installations made through another instance are picked up within a minute.
    add_interval_job(scheduler, "sprout-discover", hosted.discover, seconds=60)
    add_interval_job(scheduler, "sprout-rotate-tokens", hosted.rotate_tokens, seconds=300)
    scheduler.start()
    server = HttpServer(hosted.wsgi, host=args.host or "0.0.0.0", port=args.port or settings.port).start()
    print(f"Sprout (hosted, {len(hosted.sprouts)} workspaces installed) is listening on {server.url}/slack/events; "
          f"install it at {server.url}{INSTALL_PATH}. Ctrl-C stops it.", flush=True)
    try:
        _wait_until_stopped(stop)
    finally:
        for _team, sprout in hosted.each():
            sprout.dispatcher.stop()
        scheduler.shutdown(wait=True)
        server.stop()
        hosted.close()
    return 0


def for_team(settings: Settings, args: argparse.Namespace) -> Settings:
    """A command about one workspace's records: in a hosted Sprout, ``--team`` says which."""
    team = getattr(args, "team", None)
    if not settings.hosted:
        if team:
            raise SettingsError("--team is for a hosted Sprout (SLACK_CLIENT_ID set); this one has one workspace")
        return settings
    from bot.install import Installations
    from db.engine import make_engine
    from db.migrate import upgrade

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        upgrade(engine)
        installations = Installations(engine=engine, client_id=settings.slack_client_id, vault=vault_of(settings))
        teams = installations.team_ids()
        if not team:
            raise SettingsError("this Sprout is hosted: say which workspace with --team "
                                f"(installed: {', '.join(teams) or 'none yet'})")
        workspace = installations.find(team)
        if workspace is None:
            raise SettingsError(f"Sprout is not installed in workspace {team} "
                                f"(installed: {', '.join(teams) or 'none yet'})")
    finally:
        engine.dispose()
    return workspace_settings(settings, team, workspace.bot_token)


def run_sandbox(settings: Settings, args: argparse.Namespace) -> int:
    """No Slack token: the emulator, the real bot and database, a seeded workspace and the sandbox page.

    Each start is a fresh workspace (the emulator keeps its messages in memory), in a temporary
    SQLite file unless DATABASE_URL names a database.
    """
    import dataclasses
    import tempfile

    from bot.http import HttpServer, wsgi_app
    from db.engine import ping
    from learning.roster import parse_roster
    from sandbox.clock import SimulatedClock
    from sandbox.driver import SlackDriver
    from sandbox.emulator import SlackEmulator
    from sandbox.seed import PEOPLE, roster_csv
    from sandbox.web import sandbox_app
    from scheduler.runner import start_scheduler

    host = args.host or "127.0.0.1"
    port = args.port or settings.port
    stop = _stop_on_signals()
    clock = SimulatedClock(datetime.now(UTC), running=True)  # flows like time, jumps when asked
    with tempfile.TemporaryDirectory(prefix="sprout-sandbox-") as folder:
        if not settings.database_url_explicit:
            settings = dataclasses.replace(settings, database_url=f"sqlite:///{folder}/sandbox.db")
        if not settings.contributions_dir_explicit:  # a try-out leaves the packs folder as it found it
            settings = dataclasses.replace(settings, contributions_dir=Path(folder) / "contributions")
        emulator = SlackEmulator(bot_token=SANDBOX_TOKEN, clock=lambda: clock().timestamp())
        for person in PEOPLE:
            emulator.add_user(person.user_id, name=person.name, real_name=person.name, tz=person.tz,
                              email=getattr(person, "email", None))
        emulator.start()
        sprout = build(settings, clock=clock, emulator=emulator)
        routes: dict[str, Any] = {}
        server = None
        scheduler = None
        driver = None
        try:
            if not sprout.store.learner(PEOPLE[0].user_id):
                roster = parse_roster(roster_csv(), known_packs=sprout.catalog.ids())
                sprout.store.import_roster(roster.rows, clock())
            server = HttpServer(lambda environ, start: routes["app"](environ, start), host=host, port=port)
            driver = SlackDriver(emulator=emulator, request_url=f"http://127.0.0.1:{server.port}/slack/events",
                                 signing_secret=sprout.signing_secret)
            page = sandbox_app(emulator=emulator, driver=driver, clock=clock, tick=sprout.tick,
                               next_due=sprout.next_due, people=PEOPLE)
            routes["app"] = wsgi_app(sprout.bolt, healthy=lambda: ping(sprout.engine), extra={"/sandbox": page})
            server.start()
            sprout.dispatcher.start_heartbeat()
            scheduler = start_scheduler(plan=sprout.plan, dispatch=sprout.dispatcher.dispatch,
                                        plan_every=args.interval, dispatch_every=2)
            add_background_jobs(scheduler, sprout)
            shown = "127.0.0.1" if host in ("127.0.0.1", "localhost", "0.0.0.0", "::") else host
            where = "only on this computer" if host in ("127.0.0.1", "localhost", "::1") else (
                f"on {host}, reachable from other computers")
            print(f"Sprout sandbox: http://{shown}:{server.port}/sandbox (no SLACK_BOT_TOKEN, so a local workspace; "
                  f"listening {where}; Ctrl-C stops it)", flush=True)
            _wait_until_stopped(stop)
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=True)
            if server is not None:
                server.stop()
            if driver is not None:
                driver.close()
            sprout.close()
            emulator.stop()
    return 0


def _write_atomically(path: Path, write) -> int:
    """Write to FILE.part, then rename: an interrupted export never leaves half a file behind."""
    part = path.with_name(path.name + ".part")
    try:
        with open(part, "w", encoding="utf-8", newline="") as out:
            count = write(out)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    return count


def cmd_export_csv(settings: Settings, args: argparse.Namespace) -> int:
    from db.engine import make_engine
    from db.exports import Window, csv_header, csv_rows
    from db.migrate import upgrade
    from learning.csv_safe import write_csv

    window = Window(parse_bound("--since", args.since), parse_bound("--until", args.until))
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        count = _write_atomically(Path(args.out), lambda out: write_csv(
            out, csv_header(args.what), csv_rows(engine, args.what, window), bom=not args.no_bom))
    finally:
        engine.dispose()
    print(f"{args.out}: {count} {args.what.replace('_', ' ')}")
    return 0


def cmd_export_xapi(settings: Settings, args: argparse.Namespace) -> int:
    from content_packs.catalog import Catalog
    from db.engine import make_engine
    from db.exports import Window, xapi_records
    from db.migrate import upgrade
    from learning.xapi import StatementBuilder, export_statements, write_json_array

    window = Window(parse_bound("--since", args.since), parse_bound("--until", args.until))
    builder = StatementBuilder(settings.xapi(), Catalog.from_directory(
        settings.content_packs_dir, contributions_dir=settings.contributions_dir)[0].get)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        statements = export_statements(xapi_records(engine, window), builder, since=window.since, until=window.until)
        count = _write_atomically(Path(args.out), lambda out: write_json_array(out, statements))
    finally:
        engine.dispose()
    print(f"{args.out}: {count} xAPI statements")
    return 0


def parse_instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SettingsError(f"--at {text!r} is not an ISO 8601 instant like 2026-12-01T14:00:00Z") from None
    if value.tzinfo is None:
        raise SettingsError(f"--at {text!r} needs a time zone, e.g. 2026-12-01T14:00:00Z")
    return value.astimezone(UTC)


def cmd_tick(settings: Settings, args: argparse.Namespace) -> int:
    from sandbox.clock import SimulatedClock
    from scheduler.runner import wall_clock

    if settings.uses_emulator:
        raise SettingsError(
            "SLACK_BOT_TOKEN is not set: tick sends through Slack's Web API. Set it (see README), "
            "or try `python app.py demo`."
        )
    clock = SimulatedClock(parse_instant(args.at), running=True) if args.at else wall_clock
    sprout = build(settings, clock=clock)
    try:
        result = sprout.tick()
        if sprout.lrs is not None:
            forwarded = sprout.lrs.tick(clock())
            print(f"xAPI: {forwarded.queued} queued, {forwarded.sent} sent to the LRS, {forwarded.retried} to retry")
    finally:
        sprout.close()
    print(
        f"tick at {clock():%Y-%m-%dT%H:%M:%SZ}: {result.queued} queued, {result.reminders} reminders, "
        f"{result.reviews} reviews, "
        f"{result.sent} sent, {result.retried} to retry, {result.failed} failed, "
        f"{result.completed} enrollments finished"
    )
    return 0


def parse_moment(text: str, option: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 instant; an instant without a zone is UTC."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SettingsError(f"{option} {text!r} is not a date like 2026-09-01 or an instant like "
                            "2026-09-01T00:00:00Z") from None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    """The organisation report for the L&D team: one self-contained HTML file."""
    from bot.digest import organisation_report
    from bot.health import ContentHealth, report_rows
    from content_packs.catalog import Catalog
    from db.engine import make_engine
    from db.health import ContentHealthRecords
    from db.migrate import upgrade
    from db.reporting import Reporting

    now = datetime.now(UTC)
    until = parse_moment(args.until, "--until") if args.until else now
    since = parse_moment(args.since, "--since") if args.since else until - timedelta(days=90)
    if since >= until:
        raise SettingsError("--since must be before --until")
    catalog, _ = Catalog.from_directory(settings.content_packs_dir, contributions_dir=settings.contributions_dir)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        reporting = Reporting(engine)
        records = ContentHealthRecords(engine)
        catalog.set_retired(records.retired())
        health = ContentHealth(records=records, reporting=reporting, catalog=catalog, service=None)
        html = organisation_report(reporting, catalog, since=since, until=until, now=now,
                                   retention=settings.review_retention, health=report_rows(health, now))
    finally:
        engine.dispose()
    out = Path(args.out)
    out.write_text(html, encoding="utf-8")
    print(f"{out}: learning report {since:%Y-%m-%d} to {until:%Y-%m-%d} ({len(html) // 1024} KB, self-contained)")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from sandbox.demo import run_demo

    return run_demo(build=build, base_settings=settings, learners=args.learners, days=args.days, seed=args.seed,
                    verbose=not args.quiet)


def cmd_simulate(settings: Settings, args: argparse.Namespace) -> int:
    """Simulated learners under no review, the anchors' fixed rules and Sprout (REVIEW_RETENTION and
    REVIEW_QUESTIONS as configured, beside other retentions): a table of expected recall and workload."""
    from learning.memory import MODELS
    from learning.simulation import compare, table, verdict_lines

    retentions = sorted({*(args.retention or (0.8, 0.85, 0.9, 0.95)), settings.review_retention})
    for model in ("fsrs", "dhp") if args.model == "both" else (args.model,):
        comparison = compare(model, learners=args.learners, questions=args.questions, days=args.days,
                             seeds=range(args.seed, args.seed + args.seeds), retentions=retentions,
                             per_review=settings.review_questions)
        print(f"ground truth {MODELS[model].name}: {args.learners} learners × {args.seeds} seed(s), "
              f"{args.questions} questions, {args.days} days, {settings.review_questions} questions a review DM")
        print("\n".join([*table(comparison), *verdict_lines(comparison.verdict()), ""]))
    return 0


def vault_of(settings: Settings):
    """The vault sealing a hosted Sprout's Slack tokens; a hosted Sprout without a key does not start."""
    from db.vault import HOW_TO_MAKE_A_KEY, Vault, VaultError

    if not settings.secret_key:
        raise SettingsError(f"a hosted Sprout keeps Slack tokens sealed: set SPROUT_SECRET_KEY ({HOW_TO_MAKE_A_KEY})")
    try:
        return Vault.from_setting(settings.secret_key)
    except VaultError as exc:
        raise SettingsError(str(exc)) from None


def cmd_secrets_new_key(settings: Settings, args: argparse.Namespace) -> int:
    from db.vault import new_key

    print(new_key())
    return 0


def cmd_secrets_rotate(settings: Settings, args: argparse.Namespace) -> int:
    """Seal every stored token again with SPROUT_SECRET_KEY's first key (plain ones for the first time)."""
    from db.engine import make_engine
    from db.migrate import upgrade
    from db.vault import VaultError, reseal_tokens

    vault = vault_of(settings)
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        upgrade(engine)
        try:
            changed = reseal_tokens(engine, vault.reseal)
        except VaultError as exc:
            raise SettingsError(str(exc)) from None
    finally:
        engine.dispose()
    print(f"{changed} stored tokens sealed with the first key of SPROUT_SECRET_KEY; the others can go")
    return 0


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    """Say what the upgrade will do (revision now, the migrations to apply, the backup), then do it."""
    from db.engine import make_engine
    from db.migrate import current_revision, upgrade

    if settings.hosted:  # the installations' database, then every installed workspace's records
        from db.workspaces import WorkspaceDatabases, installed_team_ids

        databases = WorkspaceDatabases(settings.database_url, pool_size=2)
        try:
            print("installations database:")
            upgrade(databases.main, report=lambda line: print(f"  {line}"))
            print(f"installations database at revision {current_revision(databases.main)}")
            for team in installed_team_ids(databases.main, settings.slack_client_id):
                print(f"workspace {team}:")
                engine = databases.engine_for(team)
                upgrade(engine, report=lambda line: print(f"  {line}"))
                print(f"workspace {team} at revision {current_revision(engine)}")
        finally:
            databases.dispose()
        return 0
    engine = make_engine(settings.database_url)
    try:
        print(f"database {engine.url.render_as_string(hide_password=True)}")
        done = upgrade(engine, report=print)
        if not done.steps:
            print(done.describe())
    finally:
        engine.dispose()
    return 0


def slack_limits_check():
    """The check every pack passes before Sprout serves it (and ``packs validate`` runs): Slack's limits on the
    lesson as ``bot.blocks`` renders it, judged by the emulator's Block Kit validator — the one statement of
    those limits in Sprout, so the check and the emulator agree (``bot`` may not import ``sandbox``; this
    composition root may)."""
    from bot.pack_limits import SlackLimits
    from sandbox.blockkit import validate_blocks, validate_view

    return SlackLimits(validate_blocks=validate_blocks, validate_view=validate_view)


def cmd_packs_validate(settings: Settings, args: argparse.Namespace) -> int:
    from content_packs.loader import load_packs
    from content_packs.tracks import TRACKS_FOLDER, load_tracks

    directory = Path(args.dir) if args.dir else settings.content_packs_dir
    result = load_packs(directory, contributions_dir=None if args.dir else settings.contributions_dir,
                        check=slack_limits_check())
    tracks = load_tracks(directory / TRACKS_FOLDER, result.packs.values())
    for problem in [*result.problems, *tracks.problems]:
        print(problem)
    if result.problems or tracks.problems:
        return 1
    lessons = sum(len(p.lessons) for p in result.packs.values())
    shown = f", {len(tracks.tracks)} track{'' if len(tracks.tracks) == 1 else 's'}" if tracks.tracks else ""
    translations = sum(len(by_lang) for by_lang in result.translations.values())
    shown += f", {translations} translation{'' if translations == 1 else 's'}" if translations else ""
    print(f"{len(result.packs)} packs, {lessons} lessons{shown}: all valid")
    return 0


def cmd_packs_contributions(settings: Settings, args: argparse.Namespace) -> int:
    """The accepted contributions Sprout wrote: listed, or (--export) as a patch against a packs folder."""
    from content_packs.contributions import CONTRIBUTIONS_FILE, contributions_patch

    source = settings.contributions_dir or settings.content_packs_dir
    if not args.export:
        files = sorted(Path(source).glob(f"*/{CONTRIBUTIONS_FILE}"))
        for file in files:
            print(file)
        print(f"{len(files)} contributions file{'' if len(files) == 1 else 's'} in {source}")
        return 0
    against = Path(args.against) if args.against else settings.content_packs_dir
    if not against.is_dir():
        raise SettingsError(f"--against {str(against)!r} is not a folder")
    if Path(source).resolve() == against.resolve():
        print(f"sprout: contributions are written beside the packs in {source} (CONTRIBUTIONS_DIR is not set), so "
              "that folder has them already: commit them from there with git, or give --against the packs folder "
              "of a clean checkout", file=sys.stderr)
        return 1
    patch = contributions_patch(against=against, source=Path(source),
                                prefix=args.prefix if args.prefix is not None else against.name)
    if args.out:
        Path(args.out).write_text(patch, encoding="utf-8")
    else:
        sys.stdout.write(patch)
    changed = patch.count("diff --git ")
    print(f"{changed} contributions file{'' if changed == 1 else 's'} changed"
          + (f"; apply with: git apply {args.out}" if args.out and changed else ""), file=sys.stderr)
    return 0


def cmd_packs_new(settings: Settings, args: argparse.Namespace) -> int:
    from content_packs.starter import new_pack

    packs_dir = Path(args.dir) if args.dir else settings.content_packs_dir
    result = new_pack(args.id, packs_dir=packs_dir)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if result.written is None:
        return 1
    print(f"{result.written}: starter pack written; edit it, then check it with: python app.py packs validate {packs_dir}")
    return 0


def cmd_packs_import_gift(settings: Settings, args: argparse.Namespace) -> int:
    from content_packs.gift import import_gift_file

    gift_file = Path(args.file)
    out_dir = Path(args.out) if args.out else settings.content_packs_dir
    result = import_gift_file(gift_file, pack_id=args.pack, out_dir=out_dir, title=args.title, overwrite=args.force)
    for issue in result.issues:
        print(issue.format(gift_file))
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if result.written is None:
        return 1
    kinds = ", ".join(f"{n} {kind.replace('_', '/')}" for kind, n in sorted(result.imported.items()))
    print(f"{result.written}: {sum(result.imported.values())} questions ({kinds}) in {len(result.pack.lessons)} "
          f"lessons; {len(result.skipped)} skipped")
    return 0


def cmd_packs_import_rss(settings: Settings, args: argparse.Namespace) -> int:
    from content_packs.rss import import_rss

    packs_dir = Path(args.dir) if args.dir else settings.content_packs_dir
    result = import_rss(args.feed, pack_id=args.pack, lesson_id=args.lesson, packs_dir=packs_dir,
                        limit=args.limit, lesson_title=args.title)
    for issue in result.issues:
        print(issue.format(args.feed))
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if result.problems:
        return 1
    if not result.written:
        print(f"{result.file}: no new episodes")
        return 0
    where = "new lesson" if result.created_lesson else "lesson"
    print(f"{result.file}: {len(result.added)} episodes added to {where} {args.lesson!r}")
    if not result.comments_kept:
        print(f"{result.file}: note: the file was written out whole, so its comments were not kept")
    return 0


def cmd_roster_sync(settings: Settings, args: argparse.Namespace) -> int:
    if settings.uses_emulator:
        raise SettingsError("SLACK_BOT_TOKEN is not set: roster sync reads the workspace's members from Slack.")
    sprout = build(settings)
    try:
        with progress("Reading the workspace's members", total=None) as advance:
            added, updated, inactive = sprout.admin.sync_roster(sprout.bolt.client, datetime.now(UTC),
                                                                progress=advance)
    finally:
        sprout.close()
    print(f"roster sync: {added} added, {updated} updated, {inactive} marked inactive (their records stay)")
    return 0


def cmd_health(settings: Settings, args: argparse.Namespace) -> int:
    """Ask a running Sprout's /healthz (the container's HEALTHCHECK): exit 0 when it answers 200."""
    import json
    import urllib.error
    import urllib.request

    url = args.url or f"http://127.0.0.1:{settings.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as response:
            body = response.read().decode("utf-8", "replace")
            status = response.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read().decode("utf-8", "replace"), exc.code
    except (OSError, ValueError) as exc:
        print(f"sprout: {url} did not answer: {getattr(exc, 'reason', exc)}", file=sys.stderr)
        return 1
    try:
        shown = json.dumps(json.loads(body))
    except ValueError:
        shown = body.strip()[:200]
    print(f"{url}: {status} {shown}")
    return 0 if status == 200 else 1


def cmd_review_optimize(settings: Settings, args: argparse.Namespace) -> int:
    """Fit FSRS parameters to this workspace's reviews, and to each pack's alone when it has enough of its
    own; adopt each fit (and reschedule the open cards it applies to) only if it predicts held-out
    learners' reviews better than the defaults and than the parameters it would replace."""
    from db.engine import make_engine
    from db.migrate import upgrade
    from db.store import Store
    from learning.fitting import (
        DEFAULT_PARAMETERS,
        MIN_GAIN,
        NotEnoughReviews,
        OptimizerMissing,
        by_pack,
        fit,
    )
    from learning.review import ParameterSets, replay

    now = datetime.now(UTC)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        store = Store(engine)
        histories = store.review_histories()
        in_use = store.fsrs_parameter_sets()
        try:
            result = fit(histories, current=in_use.workspace)
            # A pack that holds every review would only repeat the workspace's fit.
            packs = {pack_id: (found, fit(found, current=None))
                     for pack_id, found in by_pack(histories).items() if len(found) < len(histories)}
        except OptimizerMissing as exc:
            print(f"sprout: {exc}", file=sys.stderr)
            return 1
        except NotEnoughReviews as exc:
            print(f"not fitted: {exc}; the defaults stay")
            return 0
        print(f"{result.reviews} reviews from {result.learners} learners; {result.held_out_reviews} reviews of "
              f"held-out learners judge the fit")
        print(f"log loss on held-out reviews: fitted {result.log_loss:.4f}, FSRS-6 defaults "
              f"{result.default_log_loss:.4f}"
              + ("" if result.current_log_loss is None else f", in use {result.current_log_loss:.4f}")
              + " (lower predicts better)")
        print("fitted parameters: " + ", ".join(f"{p:.4f}" for p in result.parameters))
        workspace = result.parameters if result.better else in_use.workspace
        fits = [(None, result, result.better)]
        own = dict(in_use.packs)
        for pack_id, (found, first) in packs.items():
            # Judged against what the pack would otherwise be scheduled with, after the workspace's decision.
            replaced = in_use.packs.get(pack_id, workspace)
            pack_fit = first if replaced is None else dataclasses.replace(
                first, current_log_loss=_held_out_log_loss(replaced, found))
            adopted_for_pack, verdict = pack_fit.better, "adopted for this pack"
            if (not adopted_for_pack and pack_fit.current_log_loss is not None
                    and pack_fit.default_log_loss <= pack_fit.current_log_loss - MIN_GAIN):
                # Its own fit gains nothing, but the parameters it would keep predict it worse than the
                # defaults do (a pack unlike the rest of the workspace): the defaults are adopted for it.
                pack_fit = dataclasses.replace(pack_fit, parameters=DEFAULT_PARAMETERS,
                                               log_loss=pack_fit.default_log_loss)
                adopted_for_pack, verdict = True, "FSRS-6's defaults predict it best: adopted for this pack"
            elif not adopted_for_pack:
                verdict = "not adopted, the pack keeps " + ("its parameters" if pack_id in in_use.packs
                                                            else "the workspace's")
            fits.append((pack_id, pack_fit, adopted_for_pack))
            if adopted_for_pack:
                own[pack_id] = pack_fit.parameters
            print(f"pack {pack_id}: {first.reviews} reviews from {first.learners} learners; log loss "
                  f"fitted {first.log_loss:.4f}, FSRS-6 defaults {first.default_log_loss:.4f}"
                  + ("" if pack_fit.current_log_loss is None else f", in use {pack_fit.current_log_loss:.4f}")
                  + f"; {verdict}")
        final = ParameterSets(workspace, own)
        states, moved = {}, {pack_id: 0 for pack_id, _fit, _adopted in fits}
        for h in histories:
            if h.retired or final.for_pack(h.pack_id) == in_use.for_pack(h.pack_id):
                continue
            states[h.card_id] = replay(h.answers, desired_retention=settings.review_retention,
                                       parameters=final.for_pack(h.pack_id))
            moved[h.pack_id if h.pack_id in own and own[h.pack_id] != in_use.packs.get(h.pack_id) else None] += 1
        adopted = any(better for _pack, _fit, better in fits)
        if not result.better:
            than = "the defaults" if result.current_log_loss is None else "the defaults or the parameters in use"
            print(f"not adopted: the fitted parameters predict no better than {than}"
                  + ("" if adopted else "; scheduling is unchanged"))
        if args.dry_run:
            if adopted:
                print(f"dry run: better, would be adopted and {len(states)} open cards rescheduled; nothing written")
            return 0
        store.record_fits([(pack_id, f, better, moved[pack_id]) for pack_id, f, better in fits],
                          rescheduled=states, now=now)
        if not adopted:
            return 0
    finally:
        engine.dispose()
    print(f"adopted: new reviews use the fitted parameters; {len(states)} open cards rescheduled")
    return 0


def _held_out_log_loss(parameters, histories) -> float:
    """``parameters``' log loss on the held-out learners of ``histories``, split as ``fit`` splits them."""
    from learning.fitting import log_loss, split

    return log_loss(parameters, split(histories)[1])


def cmd_packs_retire(settings: Settings, args: argparse.Namespace) -> int:
    """Retire a lesson: no learner receives it again; its records stay. A running Sprout notices within
    seconds (its pack-reload job reads the retired lessons)."""
    from bot.health import ContentHealth
    from content_packs.catalog import Catalog
    from db.engine import make_engine
    from db.health import ContentHealthRecords
    from db.migrate import upgrade
    from learning.errors import SproutError

    catalog, _ = Catalog.from_directory(Path(args.dir) if args.dir else settings.content_packs_dir)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        records = ContentHealthRecords(engine)
        catalog.set_retired(records.retired())
        health = ContentHealth(records=records, reporting=None, catalog=catalog, service=None)
        done = health.retire(args.lesson, by="cli", reason=args.reason, now=datetime.now(UTC))
    except SproutError as exc:
        print(f"sprout: {exc.message}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if not done.new:
        print(f"{args.lesson} was already retired; nothing changed")
        return 0
    print(f"{args.lesson} retired: {done.cancelled} queued message{'s' if done.cancelled != 1 else ''} cancelled, "
          f"{done.cards} open review card{'s' if done.cards != 1 else ''} stopped; its records stay")
    return 0


def cmd_packs_links(settings: Settings, args: argparse.Namespace) -> int:
    """Check every lesson link now (as the daily job does) and print the ones that do not answer."""
    from bot.health import ContentHealth
    from content_packs.catalog import Catalog
    from db.engine import make_engine
    from db.health import ContentHealthRecords
    from db.migrate import upgrade
    from scheduler.links import check_links

    catalog, _ = Catalog.from_directory(Path(args.dir) if args.dir else settings.content_packs_dir)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        records = ContentHealthRecords(engine)
        catalog.set_retired(records.retired())
        used = ContentHealth(records=records, reporting=None, catalog=catalog, service=None).links_in_use()
        with progress("Checking links", total=len(used)) as advance:
            def record(result, now):
                records.record_link_check(result.url, ok=result.ok, status=result.status, error=result.error,
                                          now=now)
                advance(1)

            results = check_links(used, record, lambda: datetime.now(UTC))
        records.forget_links(used)
    finally:
        engine.dispose()
    failing = [r for r in results if not r.ok]
    for r in failing:
        where = ", ".join(f"{p}/{lesson}" for p, lesson in used[r.url])
        print(f"{r.url}: {f'HTTP {r.status}' if r.status is not None else r.error} ({where})")
    print(f"{len(results)} links checked, {len(failing)} not answering")
    return 1 if failing else 0


def cmd_learner_forget(settings: Settings, args: argparse.Namespace) -> int:
    from bot.contributions import forget_credits
    from content_packs.catalog import Catalog
    from content_packs.loader import PackError
    from db.engine import make_engine
    from db.migrate import upgrade
    from db.store import Store

    engine = make_engine(settings.database_url)
    now = datetime.now(UTC)
    try:
        upgrade(engine)
        store = Store(engine)
        # The name on their accepted contributions first, while the records still say which items are theirs.
        catalog, _ = Catalog.from_directory(settings.content_packs_dir, contributions_dir=settings.contributions_dir)
        try:
            uncredited = forget_credits(store, catalog, settings.contributions_dir, args.slack_user_id, now)
        except (OSError, PackError) as exc:
            print(f"sprout: {args.slack_user_id} not forgotten: a contributions file naming them cannot be "
                  f"rewritten ({_plain(str(exc))}); fix it and run this again", file=sys.stderr)
            return 1
        forgotten = store.forget(args.slack_user_id, now)
    finally:
        engine.dispose()
    if not forgotten:
        print(f"sprout: no learner {args.slack_user_id}", file=sys.stderr)
        return 1
    print(f"{args.slack_user_id}: personal data deleted; records kept under a pseudonym (logged)")
    for file in uncredited:
        print(f"  credited as \"a former colleague\" in {file}: commit it, as with any contribution")
    return 0


def cmd_roster_import(settings: Settings, args: argparse.Namespace) -> int:
    from content_packs.catalog import Catalog
    from db.engine import make_engine
    from db.migrate import upgrade
    from db.store import Store
    from learning.errors import SproutError
    from learning.roster import emails_to_look_up, look_up_emails, parse_roster, resolve_emails

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{path}: cannot read: {exc}", file=sys.stderr)
        return 1
    catalog, _ = Catalog.from_directory(settings.content_packs_dir, contributions_dir=settings.contributions_dir)
    roster = parse_roster(text, known_packs=catalog.ids())
    if roster.problems:
        for problem in roster.problems:
            print(problem.format(str(path)), file=sys.stderr)
        print(f"{path}: nothing imported ({len(roster.problems)} problems)", file=sys.stderr)
        return 1
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        store = Store(engine)
        rows, skipped = roster.rows, []
        emails = emails_to_look_up(rows)
        if emails:
            known = store.slack_ids_by_email(emails)
            directory = None
            if not settings.uses_emulator and any(e not in known for e in emails):
                from bot.directory import SlackDirectory

                directory = SlackDirectory(token=settings.slack_bot_token or "", base_url=settings.slack_api_url,
                                           per_minute=settings.lookup_per_minute)
            todo = sum(1 for e in emails if e not in known)
            try:
                with progress(f"Looking up {todo} emails in Slack", total=todo) as advance:
                    found = look_up_emails(emails, known=known, directory=directory, progress=advance)
            except SproutError as exc:
                print(f"{path}: {exc.message}; nothing imported", file=sys.stderr)
                return 1
            resolved = resolve_emails(rows, found, skip_unknown=args.skip_unknown)
            if resolved.problems:
                for problem in resolved.problems:
                    print(problem.format(str(path)), file=sys.stderr)
                hint = " (--skip-unknown imports the others)" if not args.skip_unknown else ""
                print(f"{path}: nothing imported ({len(resolved.problems)} problems){hint}", file=sys.stderr)
                return 1
            rows, skipped = resolved.rows, resolved.skipped
        coaches = {row.coach_slack_user_id for row in rows if row.coach_slack_user_id}
        if coaches:
            from db.coaching import CoachingRecords
            from learning.roster import coach_problems

            problems = coach_problems(rows, CoachingRecords(engine).roles(coaches))
            if problems:
                for problem in problems:
                    print(problem.format(str(path)), file=sys.stderr)
                print(f"{path}: nothing imported ({len(problems)} problems)", file=sys.stderr)
                return 1
        rules = _offline_rules(settings, store, catalog)
        now = datetime.now(UTC)
        # The rows and what the department and team rules that are on make of them: all of it, or none.
        with progress(f"Importing {len(rows)} people", total=len(rows)) as advance, store.unit_of_work():
            created, updated, enrolled = store.import_roster(rows, now, progress=advance)
            by_rules = rules.apply_attribute_rules(now)
    finally:
        engine.dispose()
    for problem in skipped:
        print(f"skipped: {problem.format(str(path))}")
    print(f"{path}: {created} added, {updated} updated, {enrolled} new enrollments"
          + (f", {by_rules} enrolled by rules" if by_rules else "")
          + (f", {len(skipped)} skipped" if skipped else ""))
    return 0


def _offline_rules(settings: Settings, store, catalog, *, membership=None):
    """Enrollment rules for a command-line job (no Bolt app): the packs and tracks from disk."""
    from bot.enrollment_rules import EnrollmentRules
    from content_packs.tracks import TRACKS_FOLDER, TrackCatalog

    tracks, _ = TrackCatalog.from_directory(settings.content_packs_dir / TRACKS_FOLDER, catalog)
    return EnrollmentRules(service=None, store=store, catalog=catalog, tracks=tracks, membership=membership)


def cmd_rules_import(settings: Settings, args: argparse.Namespace) -> int:
    """Enrollment rules from a YAML file, every one checked (and its channel or user group found in Slack)
    before any is written; they arrive off, to be previewed and turned on in Slack."""
    from content_packs.catalog import Catalog
    from db.engine import make_engine
    from db.migrate import upgrade
    from db.store import Store
    from learning.enrollment_rules import RuleProblem, parse_rules_file
    from learning.errors import SproutError

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{path}: cannot read: {exc}", file=sys.stderr)
        return 1
    catalog, _ = Catalog.from_directory(settings.content_packs_dir)
    parsed = parse_rules_file(text, known_packs=catalog.ids())
    problems = list(parsed.problems)
    if not problems:
        engine = make_engine(settings.database_url)
        try:
            upgrade(engine)
            store = Store(engine)
            membership = None
            if not settings.uses_emulator and any(r.spec.who.kind in ("channel", "group") for r in parsed.rules):
                from bot.enrollment_rules import SlackMembership
                from bot.messenger import interactive_client

                membership = SlackMembership(interactive_client(token=settings.slack_bot_token or "",
                                                                base_url=settings.slack_api_url))
            rules = _offline_rules(settings, store, catalog, membership=membership)
            resolved = []
            for entry in parsed.rules:
                try:
                    gated = rules.gate(entry.spec.pack_id)
                    if gated is not None:
                        raise SproutError(gated)
                    resolved.append((entry, rules.resolve(entry.spec)))
                except SproutError as exc:
                    problems.append(RuleProblem(entry.line, _plain(exc.message)))
            if not problems:
                now = datetime.now(UTC)
                with store.unit_of_work():
                    added = [rules.create(entry.spec, created_by="rules import", now=now, resolved=target)
                             for entry, target in resolved]
        finally:
            engine.dispose()
    if problems:
        for problem in problems:
            print(problem.format(str(path)), file=sys.stderr)
        print(f"{path}: nothing changed ({len(problems)} problems)", file=sys.stderr)
        return 1
    for one in added:
        state = "new, off" if one.created else ("already there, on" if one.rule.active else "already there, off")
        print(f"rule #{one.rule.id} ({state}): {one.rule.kind} {one.rule.label} -> {one.rule.pack_id}")
    new = sum(1 for one in added if one.created)
    print(f"{path}: {new} rules added, {len(added) - new} already there. Rules start off: see whom one matches "
          "with `/learn rules preview <n>` in Slack, then `/learn rules on <n>`.")
    return 0


def _plain(message: str) -> str:
    """A reply written for Slack, for a terminal: no bold, no channel mentions' brackets."""
    return re.sub(r"<#([A-Z0-9]+)(?:\|([^>]*))?>", lambda m: f"#{m.group(2) or m.group(1)}", message).replace("*", "")


class progress:
    """A rich progress bar when a person is watching (stdout or else stderr is a terminal), nothing otherwise:
    piped or redirected, only the summary line is printed."""

    def __init__(self, description: str, *, total: int | None) -> None:
        self.description, self.total = description, total
        self._progress = None

    def __enter__(self):
        terminal = next((stream for stream in (sys.stdout, sys.stderr) if stream.isatty()), None)
        if terminal is not None:
            from rich.console import Console
            from rich.progress import Progress

            self._progress = Progress(console=Console(file=terminal), transient=True)
            self._progress.start()
            task = self._progress.add_task(self.description, total=self.total)
            return lambda n=1: self._progress.advance(task, n)
        return lambda n=1: None

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()


TEAM_HELP = "a hosted Sprout's workspace (team id, T…) whose records this is about"
WORKSPACE_COMMANDS = ("cmd_tick", "cmd_report", "cmd_export_csv", "cmd_export_xapi", "cmd_roster_import",
                      "cmd_rules_import", "cmd_roster_sync", "cmd_learner_forget", "cmd_review_optimize",
                      "cmd_packs_retire", "cmd_packs_links")


def parser() -> argparse.ArgumentParser:
    # `sprout …` when installed (the console script), `python app.py …` from a checkout.
    prog = "python app.py" if Path(sys.argv[0]).name == "app.py" else "sprout"
    root = argparse.ArgumentParser(prog=prog, description="Sprout: microlearning in Slack.")
    sub = root.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run the bot (HTTP or Socket Mode) and the scheduler; "
                                     "without SLACK_BOT_TOKEN, the sandbox workspace in your browser")
    run.add_argument("--host", help="address to listen on (default 0.0.0.0 with a token; without one, the "
                                    "sandbox listens on 127.0.0.1 only unless told otherwise)")
    run.add_argument("--port", type=int, help="port (default: PORT or 3000)")
    run.add_argument("--interval", type=int, default=60, help="seconds between scheduler ticks (default 60)")
    run.add_argument("--sandbox", action="store_true",
                     help="with no SLACK_BOT_TOKEN but DATABASE_URL set: run the sandbox on that database anyway")
    run.set_defaults(func=cmd_run)

    tick = sub.add_parser("tick", help="send everything due at an instant, once, and exit")
    tick.add_argument("--at", help="the instant, ISO 8601 with a zone (default: now)")
    tick.set_defaults(func=cmd_tick)
    tick.add_argument("--team", help=TEAM_HELP)

    demo = sub.add_parser("demo", help="a simulated team receives a week of lessons (no Slack needed)")
    demo.add_argument("--learners", type=int, default=6, help="how many simulated learners (default 6)")
    demo.add_argument("--days", type=int, default=7, help="how many days to simulate (default 7)")
    demo.add_argument("--seed", type=int, default=7, help="random seed for the learners' answers")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    demo.set_defaults(func=cmd_demo)

    simulate = sub.add_parser("simulate", help="simulated learners' memory under Sprout's reviews and fixed rules: "
                              "expected recall and review questions a week (no Slack, no database)")
    simulate.add_argument("--learners", type=int, default=500, help="learners in a cohort (default 500)")
    simulate.add_argument("--questions", type=int, default=40, help="one-question lessons in the pack (default 40)")
    simulate.add_argument("--days", type=int, default=90, help="days simulated (default 90)")
    simulate.add_argument("--seed", type=int, default=1, help="the first cohort's random seed (default 1)")
    simulate.add_argument("--seeds", type=int, default=1, help="cohorts, each with its own seed (default 1)")
    simulate.add_argument("--retention", type=float, nargs="+",
                          help="Sprout desired retentions to compare (default 0.8 0.85 0.9 0.95, and REVIEW_RETENTION)")
    simulate.add_argument("--model", choices=("fsrs", "dhp", "both"), default="fsrs",
                          help="the learners' memory: FSRS-6 with drawn parameters, or DHP half-life (default fsrs)")
    simulate.set_defaults(func=cmd_simulate)

    report = sub.add_parser("report", help="the organisation report: one self-contained HTML page")
    report.add_argument("--out", default="report.html", help="the HTML file to write (default: report.html)")
    report.add_argument("--since", help="start: a date or an ISO 8601 instant (default: 90 days before --until)")
    report.add_argument("--until", help="end, not included: a date or an ISO 8601 instant (default: now)")
    report.add_argument("--team", help=TEAM_HELP)
    report.set_defaults(func=cmd_report)

    health = sub.add_parser("health", help="ask a running Sprout's /healthz; exit 0 when healthy (for a "
                                           "container's health check)")
    health.add_argument("--url", help="the health address (default: http://127.0.0.1:PORT/healthz)")
    health.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for an answer (default 5)")
    health.set_defaults(func=cmd_health)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="apply every migration (Alembic upgrade head)").set_defaults(func=cmd_db)
    secrets_parser = sub.add_parser("secrets", help="the key sealing a hosted Sprout's Slack tokens")
    secrets_sub = secrets_parser.add_subparsers(dest="secrets_command", metavar="ACTION", required=True)
    secrets_sub.add_parser("new-key", help="print a new key for SPROUT_SECRET_KEY").set_defaults(
        func=cmd_secrets_new_key)
    secrets_sub.add_parser("rotate", help="seal every stored token with SPROUT_SECRET_KEY's first key "
                                          "(keys comma-separated, newest first)").set_defaults(func=cmd_secrets_rotate)

    packs = sub.add_parser("packs", help="content packs")
    packs_sub = packs.add_subparsers(dest="packs_command", metavar="ACTION", required=True)
    validate = packs_sub.add_parser("validate", help="check packs; one line per problem, exit 1 if any")
    validate.add_argument("dir", nargs="?", help="folder of packs (default: CONTENT_PACKS_DIR)")
    validate.set_defaults(func=cmd_packs_validate)
    contributions = packs_sub.add_parser("contributions", help="accepted contributions (/learn suggest): list the "
                                         "files, or --export them as a patch to commit")
    contributions.add_argument("--export", action="store_true",
                               help="print a unified diff (git format) of the contributions files against --against")
    contributions.add_argument("--against", metavar="DIR",
                               help="the packs folder the patch applies to (default: CONTENT_PACKS_DIR)")
    contributions.add_argument("--prefix", metavar="PATH",
                               help="that folder's path in the repository (default: its name, e.g. content_packs)")
    contributions.add_argument("--out", metavar="FILE", help="write the patch to FILE instead of standard output")
    contributions.set_defaults(func=cmd_packs_contributions)
    new = packs_sub.add_parser("new", help="write a commented starter pack to edit")
    new.add_argument("id", help="the new pack's id: lowercase letters, digits and dashes")
    new.add_argument("--dir", help="folder of packs (default: CONTENT_PACKS_DIR)")
    new.set_defaults(func=cmd_packs_new)
    gift = packs_sub.add_parser("import-gift", help="turn a Moodle GIFT question file into a new pack")
    gift.add_argument("file", help="the .gift file (Moodle: Question bank > Export > GIFT format)")
    gift.add_argument("--pack", required=True, metavar="ID", help="the new pack's id")
    gift.add_argument("--title", help="the pack's title (default: made from the id)")
    gift.add_argument("--out", metavar="DIR", help="folder of packs to write into (default: CONTENT_PACKS_DIR)")
    gift.add_argument("--force", action="store_true", help="replace an existing pack with this id")
    gift.set_defaults(func=cmd_packs_import_gift)
    rss = packs_sub.add_parser("import-rss", help="add a podcast's episodes to a lesson as links")
    rss.add_argument("feed", help="the podcast's RSS feed: a file or an http(s) URL")
    rss.add_argument("--pack", required=True, metavar="ID", help="the pack to add to")
    rss.add_argument("--lesson", required=True, metavar="ID",
                     help="the lesson to add to; created (links only, no quiz) if the pack has none with this id")
    rss.add_argument("--title", help="title of a lesson this creates (default: the podcast's name)")
    rss.add_argument("--limit", type=int, metavar="N", help="add at most N new episodes, in the feed's order")
    rss.add_argument("--dir", help="folder of packs (default: CONTENT_PACKS_DIR)")
    rss.set_defaults(func=cmd_packs_import_rss)

    retire = packs_sub.add_parser("retire", help="retire a lesson: no learner receives it again; its records stay")
    retire.add_argument("lesson", metavar="PACK/LESSON", help="e.g. security-basics/usb-drops")
    retire.add_argument("--reason", help="why, kept with the record")
    retire.add_argument("--dir", help="folder of packs (default: CONTENT_PACKS_DIR)")
    retire.set_defaults(func=cmd_packs_retire)
    links = packs_sub.add_parser("links", help="check every lesson link now (HEAD, with a timeout); exit 1 if any "
                                               "does not answer")
    links.add_argument("--dir", help="folder of packs (default: CONTENT_PACKS_DIR)")
    links.set_defaults(func=cmd_packs_links)

    export = sub.add_parser("export", help="records as CSV or as xAPI statements")
    export_sub = export.add_subparsers(dest="export_command", metavar="FORMAT", required=True)
    ecsv = export_sub.add_parser("csv", help="one kind of record as CSV (UTF-8, every cell quoted, formulas neutralised)")
    ecsv.add_argument("--what", required=True, choices=["answers", "deliveries", "feedback", "certificates",
                                                         "reviews", "link_opens"])
    ecsv.add_argument("--since", required=True, metavar="DATE", help="from this date (UTC) or instant, inclusive")
    ecsv.add_argument("--until", metavar="DATE", help="up to this date (UTC) or instant, exclusive")
    ecsv.add_argument("--out", required=True, metavar="FILE")
    ecsv.add_argument("--no-bom", action="store_true", help="no UTF-8 byte-order mark (Excel needs it for accents)")
    ecsv.add_argument("--team", help=TEAM_HELP)
    ecsv.set_defaults(func=cmd_export_csv)
    exapi = export_sub.add_parser("xapi", help="every record as an xAPI 1.0.3 statement, one JSON array")
    exapi.add_argument("--since", required=True, metavar="DATE")
    exapi.add_argument("--until", metavar="DATE")
    exapi.add_argument("--out", required=True, metavar="FILE.json")
    exapi.add_argument("--team", help=TEAM_HELP)
    exapi.set_defaults(func=cmd_export_xapi)

    roster = sub.add_parser("roster", help="people and roles")
    roster_sub = roster.add_subparsers(dest="roster_command", metavar="ACTION", required=True)
    imp = roster_sub.add_parser("import", help="import a roster CSV (all rows or none)")
    imp.add_argument("file", help="CSV with slack_user_id or email, name, role, manager_slack_user_id or "
                                  "manager_email, team, department, timezone, packs")
    imp.add_argument("--skip-unknown", action="store_true",
                     help="import the rows whose emails Slack knows and list the others (default: none on any)")
    imp.add_argument("--team", help=TEAM_HELP)
    imp.set_defaults(func=cmd_roster_import)
    sync = roster_sub.add_parser("sync", help="read the workspace's members from Slack (users.list); mark people "
                                              "who left as inactive")
    sync.add_argument("--team", help=TEAM_HELP)
    sync.set_defaults(func=cmd_roster_sync)

    rules_parser = sub.add_parser("rules", help="enrollment rules: who gets which pack by channel, user group, "
                                                "department or team")
    rules_sub = rules_parser.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    rules_import = rules_sub.add_parser("import", help="add the rules of a YAML file, off (all of them or none)")
    rules_import.add_argument("file", help="YAML: rules: [{channel: '#new-hires', pack: onboarding-essentials}, "
                                           "{group: '@security-champions', pack: …}, {department: Sales, pack: …}]")
    rules_import.add_argument("--team", help=TEAM_HELP)
    rules_import.set_defaults(func=cmd_rules_import)

    learner = sub.add_parser("learner", help="one person's data")
    learner_sub = learner.add_subparsers(dest="learner_command", metavar="ACTION", required=True)
    forget = learner_sub.add_parser("forget", help="delete a person's personal data, keeping records "
                                                   "under a pseudonym")
    forget.add_argument("slack_user_id")
    forget.add_argument("--team", help=TEAM_HELP)
    forget.set_defaults(func=cmd_learner_forget)

    review = sub.add_parser("review", help="spaced review")
    review_sub = review.add_subparsers(dest="review_command", metavar="ACTION", required=True)
    optimize = review_sub.add_parser(
        "optimize", help="fit FSRS parameters to this workspace's reviews (at least "
                         "1,000 from 50 learners); adopt them only if they predict held-out reviews better")
    optimize.add_argument("--dry-run", action="store_true", help="fit and compare, write nothing")
    optimize.add_argument("--team", help=TEAM_HELP)
    optimize.set_defaults(func=cmd_review_optimize)
    return root


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    from bot.library_logging import redact_secrets_in_logs, settle_library_logging
    from db.engine import unreachable
    from db.migrate import UpgradeRefused

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]  # `python app.py` is `python app.py run`
    args = parser().parse_args(argv)
    try:
        settings = load_settings(environ)
        logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        settle_library_logging(settings.log_level)
        redact_secrets_in_logs()  # tokens never reach a log, at any level
        # An upgrade (its plan, its backup) is always worth a line in the log, whatever the level.
        logging.getLogger("db.migrate").setLevel(min(logging.INFO, logging.getLevelName(settings.log_level)))
        if args.func.__name__ in WORKSPACE_COMMANDS:
            settings = for_team(settings, args)
        return args.func(settings, args)
    except SettingsError as exc:
        print(f"sprout: {exc}", file=sys.stderr)
        return 2
    except UpgradeRefused as exc:
        print(f"sprout: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        problem = unreachable(exc)
        if problem is None:
            raise
        print(f"sprout: DATABASE_URL {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
