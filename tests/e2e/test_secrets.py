"""A hosted Sprout's Slack tokens are sealed at rest (SPROUT_SECRET_KEY), can be re-sealed with a new key,
and never reach a log, even at DEBUG."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from html import unescape
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import text

import app
from db.engine import make_engine
from sandbox.cloud import SlackCloud
from sandbox.driver import SlackDriver
from sandbox.emulator import SlackEmulator
from tests.e2e.test_hosted import KEY, World

ROOT = Path(__file__).resolve().parents[2]
TOKEN_COLUMNS = {"slack_installations": ("bot_token", "user_token"), "slack_bots": ("bot_token",)}


def stored_tokens(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return [value for name, columns in TOKEN_COLUMNS.items() for column in columns
                    for value in conn.execute(text(f"SELECT {column} FROM {name}")).scalars() if value]
    finally:
        engine.dispose()


@pytest.fixture
def world(database_url):
    world = World(database_url)
    try:
        yield world
    finally:
        world.stop()


def test_tokens_are_sealed_in_the_database_and_the_workspace_is_served(world):
    world.install("T0ACME", "U0ADA")
    tokens = stored_tokens(world.database_url)
    assert tokens and all(t.startswith("gAAAAA") for t in tokens), tokens
    assert not [t for t in tokens if "xoxb-acme" in t]
    assert Fernet(KEY.encode()).decrypt(tokens[0].encode()).decode() == "xoxb-acme"
    assert world.hosted.sprouts["T0ACME"].settings.slack_bot_token == "xoxb-acme"
    assert "is now a facilitator" in world.command(world.acme, "U0ADA", "role <@U0SAME|sam> facilitator")


def test_a_hosted_sprout_without_a_key_does_not_start_and_says_how_to_make_one(database_url, capsys):
    env = {"DATABASE_URL": database_url, "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "c",
           "SLACK_SIGNING_SECRET": "s"}
    assert app.main(["run"], environ=env) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "SPROUT_SECRET_KEY" in err[0] and "python app.py secrets new-key" in err[0]
    assert app.main(["run"], environ={**env, "SPROUT_SECRET_KEY": "not-a-key"}) == 2
    assert "not a Fernet key" in capsys.readouterr().err
    assert app.main(["secrets", "new-key"], environ={}) == 0
    Fernet(capsys.readouterr().out.strip().encode())  # a key that works


def test_rotation_reseals_every_token_with_the_new_key_and_old_ones_open_meanwhile(world, capsys):
    world.install("T0ACME", "U0ADA")
    world.install("T0GLOBEX", "U0GLO")
    before = stored_tokens(world.database_url)
    new = Fernet.generate_key().decode()
    env = {"DATABASE_URL": world.database_url, "SLACK_CLIENT_ID": world.cloud.client_id,
           "SLACK_CLIENT_SECRET": world.cloud.client_secret, "SLACK_SIGNING_SECRET": "s"}

    # Both keys, the new one first: the old tokens still open, and new ones are sealed with the new key.
    both = app.Hosted(dataclasses.replace(world.settings, secret_key=f"{new},{KEY}"), clock=world.clock)
    try:
        assert both.installations.find("T0ACME").bot_token == "xoxb-acme"
    finally:
        both.close()
    assert app.main(["secrets", "rotate"], environ={**env, "SPROUT_SECRET_KEY": f"{new},{KEY}"}) == 0
    assert "sealed with the first key" in capsys.readouterr().out
    after = stored_tokens(world.database_url)
    assert len(after) == len(before) and set(after).isdisjoint(before)
    assert {Fernet(new.encode()).decrypt(t.encode()).decode() for t in after} >= {"xoxb-acme", "xoxb-globex"}

    # The old key can go.
    only_new = app.Hosted(dataclasses.replace(world.settings, secret_key=new), clock=world.clock)
    try:
        assert sorted(only_new.sprouts) == ["T0ACME", "T0GLOBEX"]
        assert only_new.sprouts["T0GLOBEX"].settings.slack_bot_token == "xoxb-globex"
    finally:
        only_new.close()
    # ... and the old key alone opens nothing: rotate says which key is missing rather than half-working.
    assert app.main(["secrets", "rotate"], environ={**env, "SPROUT_SECRET_KEY": KEY}) == 2
    assert "does not hold" in capsys.readouterr().err


def test_tokens_an_earlier_version_stored_in_plain_text_are_sealed_at_the_next_start(world):
    world.install("T0ACME", "U0ADA")
    engine = make_engine(world.database_url)
    try:
        with engine.begin() as conn:  # as a version without SPROUT_SECRET_KEY left them
            conn.execute(text("UPDATE slack_bots SET bot_token = 'xoxb-acme'"))
            conn.execute(text("UPDATE slack_installations SET bot_token = 'xoxb-acme'"))
    finally:
        engine.dispose()
    world.hosted.close()
    world.hosted = app.Hosted(world.settings, clock=world.clock)
    tokens = stored_tokens(world.database_url)
    assert tokens and all(t.startswith("gAAAAA") for t in tokens)
    assert world.hosted.sprouts["T0ACME"].settings.slack_bot_token == "xoxb-acme"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_token_or_secret_reaches_the_log_at_debug(database_url):
    cloud = SlackCloud().start()
    acme = cloud.add_workspace(SlackEmulator(bot_token="xoxb-acme-SECRET-1", team_id="T0ACME", team_name="Acme"))
    acme.add_user("U0ADA", name="Ada", tz="UTC")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": database_url, "SLACK_CLIENT_ID": cloud.client_id,
           "SLACK_CLIENT_SECRET": cloud.client_secret, "SLACK_SIGNING_SECRET": "log-secret",
           "SLACK_API_URL": cloud.api_url, "SLACK_AUTHORIZE_URL": cloud.authorize_url,
           "SLACK_REDIRECT_URI": f"{url}/slack/oauth_redirect", "SPROUT_SECRET_KEY": KEY,
           "PORT": str(port), "LOG_LEVEL": "DEBUG"}
    env.pop("SLACK_BOT_TOKEN", None)
    process = subprocess.Popen([sys.executable, "app.py", "run", "--host", "127.0.0.1"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "hosted" in process.stdout.readline()
        with urllib.request.urlopen(f"{url}/slack/install", timeout=10) as response:
            page = response.read().decode()
            cookie = response.headers["Set-Cookie"].split(";")[0]
        authorize = unescape(re.search(r'href="([^"]*oauth/v2/authorize[^"]*)"', page).group(1))
        back = cloud.approve(authorize, team_id="T0ACME", user_id="U0ADA")
        with urllib.request.urlopen(urllib.request.Request(back, headers={"Cookie": cookie}), timeout=30) as response:
            assert response.status == 200
        driver = SlackDriver(emulator=acme, request_url=f"{url}/slack/events", signing_secret="log-secret")
        assert driver.command("U0ADA", "/learn", "help").status == 200
        acme.wait_for(lambda: acme.ephemerals("U0ADA"), timeout=30)
        time.sleep(0.5)  # the listener's own log lines
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        cloud.stop()
    assert "DEBUG" in log and "oauth.v2.access" in log, "the debug log of the install is there, to be checked"
    assert "xoxb-acme-SECRET-1" not in log
    assert cloud.client_secret not in log
    assert not re.search(r"xox[bpe]-[A-Za-z0-9]", log), re.search(r".{80}xox[bpe]-.{40}", log)


def test_with_token_rotation_on_a_workspace_keeps_working_past_its_tokens_expiry(world):
    """Slack's rotating tokens (an hour here, 12 in Slack): the hosted Sprout refreshes a bot token that
    expires within two hours with oauth.v2.access grant_type=refresh_token, keeps the new one sealed,
    and serves the workspace with it once the first has expired."""
    now = [time.time()]
    world.acme.clock = lambda: now[0]
    world.cloud.enable_token_rotation(expires_in=3600)
    world.install("T0ACME", "U0ADA")
    first = world.hosted.sprouts["T0ACME"].settings.slack_bot_token
    assert first.startswith("xoxe.xoxb-")

    now[0] += 3000  # 50 minutes on: the token expires within two hours
    assert world.hosted.rotate_tokens() == ["T0ACME"]
    second = world.hosted.sprouts["T0ACME"].settings.slack_bot_token
    assert second.startswith("xoxe.xoxb-") and second != first
    assert world.cloud.refreshes == ["T0ACME", "T0ACME"]  # the install's token, then the refresh
    sealed = stored_tokens(world.database_url)
    assert all(t.startswith("gAAAAA") for t in sealed)
    assert {Fernet(KEY.encode()).decrypt(t.encode()).decode() for t in sealed} >= {second}

    now[0] += 1000  # the first token has expired; the second has not
    expired = WebClient(token=first, base_url=world.cloud.api_url)
    with pytest.raises(SlackApiError) as refused:
        expired.auth_test()
    assert refused.value.response["error"] == "token_expired"
    before = len(world.acme.calls())
    assert "is now a facilitator" in world.command(world.acme, "U0ADA", "role <@U0SAME|sam> facilitator")
    assert all(c["error"] != "token_expired" for c in world.acme.calls()[before:])
    assert world.hosted.rotate_tokens() == ["T0ACME"]  # and again when the second nears its end
