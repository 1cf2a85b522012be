"""A hosted Sprout installed in two workspaces by Slack's OAuth flow, through real HTTP: each workspace's
people, lessons and records stay in that workspace, even for a person with the same user id in both."""

from __future__ import annotations

import dataclasses
import http.client
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, func, inspect, select

import app
from bot.http import HttpServer
from db.engine import make_engine
from db.models import Answer, Learner
from db.workspaces import workspace_database_url
from sandbox.clock import SimulatedClock
from sandbox.cloud import SlackCloud
from sandbox.driver import SlackDriver
from sandbox.emulator import SlackEmulator

ROOT = Path(__file__).resolve().parents[2]
SECRET = "hosted-signing-secret"
KEY = "8Jd0cS5Kpm0DzZtQm8pA7pN1VvO6d9Qe1m3iWfTbq2E="  # a Fernet key: SPROUT_SECRET_KEY seals stored tokens
MONDAY_0930_UTC = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


class World:
    def __init__(self, database_url: str) -> None:
        self.cloud = SlackCloud().start()
        self.acme = self.cloud.add_workspace(SlackEmulator(bot_token="xoxb-acme", team_id="T0ACME", team_name="Acme"))
        self.globex = self.cloud.add_workspace(SlackEmulator(bot_token="xoxb-globex", team_id="T0GLOBEX",
                                                             team_name="Globex"))
        # The same user id in both workspaces (Enterprise Grid shares ids): two people to Sprout.
        self.acme.add_user("U0SAME", name="Sam at Acme", tz="UTC")
        self.globex.add_user("U0SAME", name="Sam at Globex", tz="UTC")
        self.acme.add_user("U0ADA", name="Ada", tz="UTC")
        self.globex.add_user("U0GLO", name="Gloria", tz="UTC")
        self.database_url = database_url
        self.clock = SimulatedClock(datetime(2026, 11, 29, 12, tzinfo=UTC))
        app_box: dict = {}
        self.server = HttpServer(lambda environ, start: app_box["wsgi"](environ, start), port=0)
        self.settings = dataclasses.replace(
            app.Settings(), database_url=database_url, slack_signing_secret=SECRET, slack_api_url=self.cloud.api_url,
            slack_client_id=self.cloud.client_id, slack_client_secret=self.cloud.client_secret, secret_key=KEY,
            slack_redirect_uri=f"{self.server.url}/slack/oauth_redirect", slack_authorize_url=self.cloud.authorize_url,
            reminder_after_hours=0)
        self.hosted = app.Hosted(self.settings, clock=self.clock)
        app_box["wsgi"] = self.hosted.wsgi
        self.server.start()

    def driver(self, emulator: SlackEmulator, secret: str = SECRET) -> SlackDriver:
        return SlackDriver(emulator=emulator, request_url=f"{self.server.url}/slack/events", signing_secret=secret)

    def install(self, team_id: str, user_id: str) -> str:
        """Open the install page, press "Add to Slack", then "Allow" as ``user_id``; the final page's text."""
        with urllib.request.urlopen(f"{self.server.url}/slack/install") as response:
            page = response.read().decode()
            # Bolt's state cookie is Secure (Sprout is served over https); this browser sends it over http.
            cookie = response.headers["Set-Cookie"].split(";")[0]
        assert cookie.startswith("slack-app-oauth-state=")
        authorize = unescape(re.search(r'href="([^"]*oauth/v2/authorize[^"]*)"', page).group(1))
        assert authorize.startswith(self.cloud.authorize_url)
        back = self.cloud.approve(authorize, team_id=team_id, user_id=user_id)
        assert back.startswith(f"{self.server.url}/slack/oauth_redirect?")
        with urllib.request.urlopen(urllib.request.Request(back, headers={"Cookie": cookie})) as response:
            return response.read().decode()

    def command(self, emulator: SlackEmulator, user_id: str, text: str) -> str:
        before = len(emulator.ephemerals(user_id))
        self.driver(emulator).command(user_id, "/learn", text)
        reply = emulator.wait_for(lambda: emulator.ephemerals(user_id)[before:])[-1]
        return reply.get("text") or ""

    def records(self, team_id: str):
        return self.hosted.sprouts[team_id].engine

    def stop(self) -> None:
        self.server.stop()
        self.hosted.close()
        self.cloud.stop()


@pytest.fixture
def world(database_url):
    world = World(database_url)
    try:
        yield world
    finally:
        world.stop()


def lessons(emulator: SlackEmulator, user_id: str) -> list[dict]:
    return [m for m in emulator.dm_messages(user_id)
            if (m.get("metadata") or {}).get("event_payload", {}).get("kind") == "lesson"]


def test_two_workspaces_installed_by_oauth_keep_their_people_and_records_apart(world):
    assert world.hosted.sprouts == {}
    assert "Sprout is now in Acme" in world.install("T0ACME", "U0ADA")
    assert "Sprout is now in Globex" in world.install("T0GLOBEX", "U0GLO")
    assert sorted(world.hosted.sprouts) == ["T0ACME", "T0GLOBEX"]
    assert world.hosted.installations.find("T0ACME").bot_token == "xoxb-acme"

    assert "Security" in world.command(world.acme, "U0SAME", "enroll security-basics")
    world.command(world.globex, "U0SAME", "enroll onboarding-essentials")
    world.clock.set(MONDAY_0930_UTC)
    results = world.hosted.tick()
    assert results["T0ACME"].sent == 1 and results["T0GLOBEX"].sent == 1

    # Each Sam got their own workspace's lesson, from their own workspace's bot.
    acme_lessons, globex_lessons = lessons(world.acme, "U0SAME"), lessons(world.globex, "U0SAME")
    assert len(acme_lessons) == 1 and len(globex_lessons) == 1
    assert acme_lessons[0]["metadata"]["event_payload"]["outbox_id"]
    acme_text = str(acme_lessons[0]["blocks"])
    globex_text = str(globex_lessons[0]["blocks"])
    assert "Security" in acme_text and "Security" not in globex_text

    # Sam answers in Acme: the answer is Acme's record only.
    world.driver(world.acme).click("U0SAME", acme_lessons[0], action_id="answer:0")
    world.acme.wait_for(lambda: _count(world.records("T0ACME"), Answer) == 1)
    assert _count(world.records("T0GLOBEX"), Answer) == 0

    # Two people called U0SAME, each known only to their own workspace.
    with world.records("T0ACME").connect() as conn:
        assert sorted(conn.execute(select(Learner.slack_user_id, Learner.name)).all()) == [
            ("U0ADA", "Ada"), ("U0SAME", "Sam at Acme")]
    with world.records("T0GLOBEX").connect() as conn:
        assert sorted(conn.execute(select(Learner.slack_user_id, Learner.name)).all()) == [
            ("U0GLO", "Gloria"), ("U0SAME", "Sam at Globex")]
    # Sam's next lesson in Globex is Globex's pack's, and Acme's Sam gets nothing from it.
    assert "On its way" in world.command(world.globex, "U0SAME", "next")  # its reply too, before the next command
    world.globex.wait_for(lambda: len(lessons(world.globex, "U0SAME")) == 2)
    assert all("Security" not in str(m["blocks"]) for m in lessons(world.globex, "U0SAME"))
    assert len(lessons(world.acme, "U0SAME")) == 1

    # The installer is the workspace's first admin, there and only there.
    assert "is now a facilitator" in world.command(world.acme, "U0ADA", "role <@U0SAME|sam> facilitator")
    assert "Only admins" in world.command(world.globex, "U0SAME", "role <@U0GLO|gloria> facilitator")

    # On PostgreSQL the workspaces share one pool of connections, each switched to its workspace's schema.
    if world.database_url.startswith("postgresql"):
        assert world.records("T0ACME").pool is world.records("T0GLOBEX").pool is world.hosted.engine.pool
    # The installations live in the main database; each workspace's records in a database of its own.
    with world.hosted.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        assert {"slack_bots", "slack_installations", "slack_oauth_states"} <= tables
        assert "learners" not in tables or conn.execute(select(func.count()).select_from(Learner)).scalar() == 0


def _count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_workspace_without_sprout_is_told_to_install_and_bad_signatures_are_refused(world):
    world.install("T0ACME", "U0ADA")
    initech = world.cloud.add_workspace(SlackEmulator(bot_token="xoxb-initech", team_id="T0INITECH",
                                                      team_name="Initech"))
    initech.add_user("U0PETER", name="Peter")
    response = world.driver(initech).command("U0PETER", "/learn", "next")
    assert response.status == 200
    told = initech.wait_for(lambda: initech.ephemerals("U0PETER"))[-1].get("text", "")
    assert "install" in told.lower()
    assert initech.dm_messages("U0PETER") == [] and "T0INITECH" not in world.hosted.sprouts

    forged = world.driver(world.acme, secret="not-the-secret").command("U0SAME", "/learn", "next")
    assert forged.status == 401
    assert lessons(world.acme, "U0SAME") == []


def test_a_restart_serves_every_installed_workspace_and_commands_name_their_workspace(world, tmp_path):
    world.install("T0ACME", "U0ADA")
    world.install("T0GLOBEX", "U0GLO")
    world.command(world.acme, "U0SAME", "enroll security-basics")
    world.command(world.globex, "U0SAME", "enroll security-basics")
    world.clock.set(MONDAY_0930_UTC)
    world.hosted.tick()
    world.hosted.close()

    again = app.Hosted(world.settings, clock=world.clock)  # a new process: the tokens come from the database
    try:
        assert sorted(again.sprouts) == ["T0ACME", "T0GLOBEX"]
        assert again.sprouts["T0GLOBEX"].settings.slack_bot_token == "xoxb-globex"
    finally:
        again.close()
    world.hosted = app.Hosted(world.settings, clock=world.clock)

    env = {"DATABASE_URL": world.database_url, "SLACK_CLIENT_ID": world.cloud.client_id,
           "SLACK_CLIENT_SECRET": world.cloud.client_secret, "SLACK_SIGNING_SECRET": SECRET,
           "SPROUT_SECRET_KEY": KEY,
           "SLACK_API_URL": world.cloud.api_url, "PATH": "/usr/bin:/bin"}
    out = tmp_path / "deliveries.csv"

    def export(*team: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "app.py", "export", "csv", "--what", "deliveries", "--since",
                               "2026-11-01", "--out", str(out), *team], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)

    missing = export()
    assert missing.returncode == 2 and "--team" in missing.stderr and "T0ACME, T0GLOBEX" in missing.stderr
    unknown = export("--team", "T0NOBODY")
    assert unknown.returncode == 2 and "not installed in workspace T0NOBODY" in unknown.stderr
    done = export("--team", "T0GLOBEX")
    assert done.returncode == 0, done.stderr
    assert "1 deliveries" in done.stdout
    upgraded = subprocess.run([sys.executable, "app.py", "db", "upgrade"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "workspace T0ACME at revision" in upgraded.stdout and "workspace T0GLOBEX at revision" in upgraded.stdout


def test_one_pool_of_connections_switches_between_workspaces_and_a_rollback_does_not_undo_it(database_url):
    from sqlalchemy import text

    from db.migrate import upgrade
    from db.workspaces import WorkspaceDatabases

    databases = WorkspaceDatabases(database_url, pool_size=1)  # one connection: every switch is tried
    try:
        acme, globex = databases.engine_for("T0ACME"), databases.engine_for("T0GLOBEX")
        for engine, name in ((acme, "Ada at Acme"), (globex, "Gloria at Globex")):
            upgrade(engine)
            with engine.begin() as conn:
                conn.execute(Learner.__table__.insert().values(slack_user_id="U0SAME", name=name, role="learner",
                                                               active=True, created_at=MONDAY_0930_UTC,
                                                               updated_at=MONDAY_0930_UTC))
        for _ in range(3):
            for engine, name in ((acme, "Ada at Acme"), (globex, "Gloria at Globex")):
                with engine.connect() as conn:
                    conn.rollback()
                    assert conn.execute(select(Learner.name)).scalars().all() == [name]
        upgrade(databases.main)
        with databases.main.connect() as conn:  # the main database has no workspace's records
            assert conn.execute(text("SELECT count(*) FROM learners")).scalar() == 0
    finally:
        databases.dispose()


def test_workspace_records_go_beside_the_main_database(database_url):
    url = workspace_database_url(database_url, "T0ACME")
    assert url != database_url
    if database_url.startswith("sqlite"):
        assert url.endswith("sprout.T0ACME.db")
    else:
        assert "search_path%3D" in url or "search_path=" in url
        assert "_t0acme" in url
    with pytest.raises(ValueError):
        workspace_database_url(database_url, "../../etc")
    engine = make_engine(url)
    try:
        from db.migrate import upgrade

        upgrade(engine)  # the workspace's schema is made where its search_path says
        with engine.connect() as conn:
            assert "learners" in inspect(conn).get_table_names()
    finally:
        engine.dispose()


def test_an_uninstalled_workspace_is_no_longer_served_and_keeps_its_records(world):
    world.install("T0ACME", "U0ADA")
    world.install("T0GLOBEX", "U0GLO")
    world.command(world.acme, "U0SAME", "enroll security-basics")
    world.driver(world.acme).event({"type": "app_uninstalled"})
    world.acme.wait_for(lambda: "T0ACME" not in world.hosted.sprouts)
    assert world.hosted.installations.find("T0ACME") is None
    assert world.hosted.installations.team_ids() == ["T0GLOBEX"]
    world.clock.set(MONDAY_0930_UTC)
    assert list(world.hosted.tick()) == ["T0GLOBEX"]
    assert lessons(world.acme, "U0SAME") == []
    # Its records stay where they were, for a reinstall or an export.
    url = workspace_database_url(world.database_url, "T0ACME")
    engine = make_engine(url)
    try:
        assert _count(engine, Learner) == 2
    finally:
        engine.dispose()
    # A revoked user token is not an uninstall; a revoked bot token is.
    world.driver(world.globex).event({"type": "tokens_revoked", "tokens": {"oauth": ["U0GLO"], "bot": []}})
    assert "Security" in world.command(world.globex, "U0GLO", "enroll security-basics")
    assert "T0GLOBEX" in world.hosted.sprouts and world.hosted.installations.find("T0GLOBEX") is not None
    world.driver(world.globex).event({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}})
    world.globex.wait_for(lambda: "T0GLOBEX" not in world.hosted.sprouts)


@pytest.mark.parametrize(("env", "message"), [
    ({"SLACK_CLIENT_ID": "1.2"}, "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together"),
    ({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s"}, "SLACK_SIGNING_SECRET is required"),
    ({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x",
      "SLACK_BOT_TOKEN": "xoxb-1"}, "set one or the other"),
    ({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x",
      "DATABASE_URL": "sqlite://"}, "use a file"),
])
def test_hosted_settings_that_cannot_work_are_refused(env, message):
    with pytest.raises(app.SettingsError, match=message):
        app.Settings.from_env(env)


def test_the_install_page_asks_for_the_manifests_scopes():
    import yaml

    from bot.install import BOT_SCOPES

    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert set(BOT_SCOPES) == set(manifest["oauth_config"]["scopes"]["bot"])


def test_a_second_instance_serves_a_workspace_installed_through_the_first(world):
    other = app.Hosted(world.settings, clock=world.clock)
    try:
        world.install("T0GLOBEX", "U0GLO")
        assert other.sprouts == {}
        assert other.discover() == ["T0GLOBEX"]
        assert other.sprouts["T0GLOBEX"].settings.slack_bot_token == "xoxb-globex"
        world.hosted.uninstalled("T0GLOBEX")
        assert other.discover() == [] and other.sprouts == {}
    finally:
        other.close()


def test_python_app_py_run_hosted_serves_the_install_page_and_stops_on_sigterm(database_url):
    import os
    import signal
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": database_url, "SLACK_CLIENT_ID": "1111.2222", "SLACK_CLIENT_SECRET": "c",
           "SPROUT_SECRET_KEY": KEY,
           "SLACK_SIGNING_SECRET": SECRET, "PORT": str(port)}
    env.pop("SLACK_BOT_TOKEN", None)
    process = subprocess.Popen([sys.executable, "app.py", "run", "--host", "127.0.0.1"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stdout.readline()
        assert "hosted, 0 workspaces installed" in banner and f"{port}/slack/install" in banner, banner
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert response.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/slack/install", timeout=5) as response:
            page = response.read().decode()
        assert "slack.com/oauth/v2/authorize?" in page and "client_id=1111.2222" in page
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0  # a generous deadline: it stops in about a second
    finally:
        if process.poll() is None:
            process.kill()


class Statements:
    """Every SQL statement the HTTP server's threads run while counting (any engine of this process)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __enter__(self) -> Statements:
        event.listen(Engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(Engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, *args) -> None:
        if threading.current_thread().name.startswith("waitress"):
            self.seen.append(statement)


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_body_over_a_mebibyte_gets_413_before_it_is_read(world):
    world.install("T0ACME", "U0ADA")
    host, port = world.server.host, world.server.port
    with Statements() as statements:
        # Only the headers are sent: the answer comes without Sprout waiting for (or reading) the body.
        connection = http.client.HTTPConnection(host, port, timeout=30)
        connection.putrequest("POST", "/slack/events")
        connection.putheader("Content-Type", "application/x-www-form-urlencoded")
        connection.putheader("Content-Length", str(2 * 1024 * 1024))
        connection.endheaders()
        status = connection.getresponse().status
        connection.close()
        # A body with no length (chunked) is cut off at the same size.
        chunked = http.client.HTTPConnection(host, port, timeout=30)
        try:
            chunked.request("POST", "/slack/events", body=iter([b"team_id=T0ACME&text=" + b"x" * (1024 * 1024)]),
                            headers={"Content-Type": "application/x-www-form-urlencoded"}, encode_chunked=True)
            chunked_status = chunked.getresponse().status
        except (BrokenPipeError, ConnectionResetError):
            chunked_status = 413  # refused while the body was still being sent
        finally:
            chunked.close()
    assert status == 413 and chunked_status == 413
    assert statements.seen == []
    assert lessons(world.acme, "U0SAME") == []


def test_a_forged_request_naming_an_installed_team_is_refused_before_any_query(world):
    world.install("T0ACME", "U0ADA")
    world.install("T0GLOBEX", "U0GLO")
    forger = world.driver(world.acme, secret="not-the-secret")
    with Statements() as statements:
        answers = [forger.command("U0SAME", "/learn", "next").status for _ in range(1000)]
    assert set(answers) == {401}
    assert statements.seen == [], f"{len(statements.seen)} statements for forged requests: {statements.seen[:3]}"
    assert lessons(world.acme, "U0SAME") == [] and world.acme.ephemerals("U0SAME") == []

    # The same request, signed with the app's secret, is served: the door is shut only to forgeries.
    assert world.driver(world.acme).command("U0SAME", "/learn", "next").status == 200


def test_signed_requests_from_a_workspace_not_installed_cost_a_look_up_in_memory(world):
    world.install("T0ACME", "U0ADA")
    stranger = world.driver(world.globex)  # signed with the app's secret, from a team that never installed
    started = time.monotonic()
    with Statements() as statements:
        answers = [stranger.command("U0GLO", "/learn", "next").status for _ in range(1000)]
    elapsed = time.monotonic() - started
    # 503, so Slack sends an event again later; the database is asked at most once per LOOK_FOR_INSTALLS_EVERY
    # (a workspace installed through another instance a moment ago), never once per request.
    assert set(answers) == {200}  # a command: the person is told that Sprout is not installed there
    events = [stranger.app_home_opened("U0GLO").status for _ in range(3)]
    assert set(events) == {503}  # Slack sends an event again later: served then, if it was installed
    looks = 1 + int(elapsed // world.hosted.LOOK_FOR_INSTALLS_EVERY)
    queries = [s for s in statements.seen if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
    assert len(queries) <= looks, f"{len(queries)} queries in {elapsed:.1f} s: {queries[:3]}"
    assert all("FROM slack_bots" in q for q in queries), queries
    told = world.globex.wait_for(lambda: world.globex.ephemerals("U0GLO"))[-1].get("text", "")
    assert "not installed" in told

    world.install("T0GLOBEX", "U0GLO")  # once installed, the same request is served
    assert stranger.command("U0GLO", "/learn", "next").status == 200
