"""Socket Mode for real: `python app.py run` with SLACK_APP_TOKEN opens the emulator's WebSocket through
apps.connections.open, and every command, click and event arrives as a Socket Mode envelope."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select

from db.engine import make_engine
from db.models import Answer, Feedback
from sandbox.driver import SlackDriver
from sandbox.emulator import SlackEmulator
from tests.e2e.processes import free_port, health

ROOT = Path(__file__).resolve().parents[2]
APP_TOKEN = "xapp-1-A0SPROUT-1-socket"
PACKS = ROOT / "tests" / "e2e" / "packs"


@contextmanager
def sprout_in_socket_mode(database_url: str, emulator: SlackEmulator, **extra: str):
    """``python app.py run`` in Socket Mode; its log goes to a file (a pipe nobody reads would fill up
    and stop it)."""
    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in the finally below)
    env = {**os.environ, "DATABASE_URL": database_url, "SLACK_BOT_TOKEN": emulator.bot_token,
           "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_SIGNING_SECRET": "unused-in-socket-mode",
           "SLACK_API_URL": emulator.api_url, "PORT": str(port), **extra}
    process = subprocess.Popen([sys.executable, "app.py", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=log, text=True)
    try:
        banner = process.stdout.readline()
        log.seek(0)
        assert "Socket Mode" in banner and f"{port}/healthz" in banner, (banner, log.read())
        emulator.wait_for(lambda: emulator.socket is not None and emulator.socket.connected())
        emulator.wait_for(lambda: health(port) == (200, {"ok": True, "database": "reachable",
                                                         "socket_mode": "connected"}))
        yield process, port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def command(emulator: SlackEmulator, driver: SlackDriver, user: str, text: str) -> str:
    before = len(emulator.ephemerals(user))
    assert driver.command(user, "/learn", text).status == 200
    return emulator.wait_for(lambda: emulator.ephemerals(user)[before:])[-1].get("text", "")


def lesson_of(emulator: SlackEmulator, user: str) -> dict:
    return emulator.wait_for(lambda: [m for m in emulator.dm_messages(user)
                                      if (m.get("metadata") or {}).get("event_type") == "sprout_delivery"])[0]


def answer_buttons(message: dict) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
            if e["action_id"].startswith("answer:")]


def fresh(emulator: SlackEmulator, message: dict) -> dict:
    return emulator.message(message["channel"], message["ts"])


def count(database_url: str, model) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(model)).scalar_one()
    finally:
        engine.dispose()


def test_a_lesson_answered_and_rated_and_a_command_over_the_socket(database_url):
    with SlackEmulator(bot_token="xoxb-socket", app_token=APP_TOKEN) as emulator:
        emulator.add_user("U0ANA", name="Ana", tz="Europe/Berlin")
        with sprout_in_socket_mode(database_url, emulator):
            driver = SlackDriver(emulator=emulator, socket_mode=True)
            assert "/learn" in command(emulator, driver, "U0ANA", "help")
            assert "enrolled in *Security Basics*" in command(emulator, driver, "U0ANA", "enroll security-basics")
            assert "On its way" in command(emulator, driver, "U0ANA", "next")
            lesson = lesson_of(emulator, "U0ANA")
            # Every question answered (the first choice each time), then the lesson rated.
            while answer_buttons(fresh(emulator, lesson)):
                shown = fresh(emulator, lesson)
                answered = sum(b.get("block_id", "").startswith("result:") for b in shown["blocks"])
                assert driver.click("U0ANA", shown, action_id=answer_buttons(shown)[0]).status == 200
                emulator.wait_for(lambda seen=answered: sum(b.get("block_id", "").startswith("result:")
                                                            for b in fresh(emulator, lesson)["blocks"]) > seen)
            emulator.wait_for(lambda: "rate-prompt" in [b.get("block_id") for b in fresh(emulator, lesson)["blocks"]])
            assert driver.click("U0ANA", fresh(emulator, lesson), action_id="rate:5").status == 200
            emulator.wait_for(lambda: "rated" in [b.get("block_id") for b in fresh(emulator, lesson)["blocks"]])
        socket_server = emulator.socket
    assert count(database_url, Answer) >= 1 and count(database_url, Feedback) == 1
    # Everything came as envelopes, and every envelope was acknowledged in time.
    kinds = {e["type"] for e in socket_server.delivered}
    assert kinds == {"slash_commands", "interactive"}
    assert socket_server.misses == []


def test_a_disconnect_in_a_burst_of_clicks_loses_none_and_doubles_none(database_url):
    learners = [f"U0B{i:03d}" for i in range(30)]
    with SlackEmulator(bot_token="xoxb-socket", app_token=APP_TOKEN) as emulator:
        for user in learners:
            emulator.add_user(user, name=user, tz="UTC")
        with sprout_in_socket_mode(database_url, emulator) as (_, port):
            driver = SlackDriver(emulator=emulator, socket_mode=True)
            for user in learners:
                command(emulator, driver, user, "enroll security-basics")
                command(emulator, driver, user, "next")
            lessons = {user: lesson_of(emulator, user) for user in learners}
            opened = emulator.socket.connections_opened

            def click(user: str) -> int:
                shown = fresh(emulator, lessons[user])
                return driver.click(user, shown, action_id=answer_buttons(shown)[0]).status

            with ThreadPoolExecutor(max_workers=10) as pool:
                first = list(pool.map(click, learners[:10]))
                emulator.socket.disconnect("refresh_requested")  # Slack asks for a new connection mid-burst
                rest = list(pool.map(click, learners[10:]))
            assert first + rest == [200] * len(learners), "every click acknowledged"
            assert emulator.socket.connections_opened > opened, "the client opened a new connection"
            assert emulator.wait_for(lambda: health(port)[0] == 200)
            for user in learners:  # every learner's message shows the answer
                emulator.wait_for(lambda u=user: any(b.get("block_id", "").startswith("result:")
                                                     for b in fresh(emulator, lessons[u])["blocks"]))
        assert emulator.socket.misses == []
    assert count(database_url, Answer) == len(learners), "each click recorded once"


def test_an_event_whose_ack_was_lost_is_sent_again_and_handled_once(database_url):
    with SlackEmulator(bot_token="xoxb-socket", app_token=APP_TOKEN) as emulator:
        emulator.add_user("U0ANA", name="Ana", tz="UTC")
        sales = emulator.add_channel("sales")
        with sprout_in_socket_mode(database_url, emulator, CONTENT_PACKS_DIR=str(PACKS)):
            driver = SlackDriver(emulator=emulator, socket_mode=True)
            emulator.socket.lose_acks(1)
            assert driver.member_joined_channel("U0ANA", sales).status == 200
            delivered = [e for e in emulator.socket.delivered if e["type"] == "events_api"]
            assert [e["retry_attempt"] for e in delivered] == [0, 1], "sent again after the lost ack"
            assert delivered[1]["retry_reason"] == "timeout"
            assert delivered[0]["payload"]["event_id"] == delivered[1]["payload"]["event_id"]
            emulator.wait_for(lambda: emulator.dm_messages("U0ANA"))
            time.sleep(1.0)  # room for a second lesson, were the retry handled again
            messages = emulator.dm_messages("U0ANA")
            assert len(messages) == 1 and "Questions of every kind" in messages[0]["blocks"][0]["text"]["text"]


def test_healthz_says_503_while_the_socket_is_down(database_url):
    with (SlackEmulator(bot_token="xoxb-socket", app_token=APP_TOKEN) as emulator,
          sprout_in_socket_mode(database_url, emulator) as (process, port)):
        # Slack turns Socket Mode off for the app: apps.connections.open now refuses the token.
        emulator.app_token = "xapp-1-someone-else"
        emulator.socket.drop()
        status, report = emulator.wait_for(lambda: (lambda h: h[0] == 503 and h)(health(port)), timeout=60,
                                           interval=0.25)
        assert report["ok"] is False and report["database"] == "reachable"
        assert "not connected to Slack" in report["socket_mode"]
        assert process.poll() is None, "the process stays up and keeps trying"
