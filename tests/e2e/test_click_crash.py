"""kill -9 right after Slack got the ack of a click: the answer was kept, and the restart draws the message."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from db.engine import make_engine
from db.migrate import upgrade
from db.models import Answer, PendingRedraw, ReviewCard
from db.store import Store
from learning.roster import parse_roster
from sandbox.driver import SlackDriver
from sandbox.emulator import SlackEmulator
from tests.e2e.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
LEARNER = "U0CLICK"


def start(env: dict) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "app.py", "run", "--host", "127.0.0.1"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    banner = process.stdout.readline()
    assert "is listening on" in banner, banner + process.stderr.read()
    return process


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def result_blocks(emulator, lesson) -> list[str]:
    blocks = emulator.message(lesson["channel"], lesson["ts"])["blocks"]
    return [b["block_id"] for b in blocks if b.get("block_id", "").startswith("result:")]


def test_sigkill_right_after_the_ack_keeps_the_answer_and_the_restart_draws_it(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    roster = parse_roster(f"slack_user_id,name,timezone,packs\n{LEARNER},Kim Click,Europe/Berlin,security-basics\n",
                          known_packs={"security-basics"})
    Store(engine).import_roster(roster.rows, datetime.now(UTC))
    port = free_port()
    with SlackEmulator(bot_token="xoxb-click-crash") as emulator:
        emulator.add_user(LEARNER, name="Kim Click", tz="Europe/Berlin")
        env = {**os.environ, "DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-click-crash",
               "SLACK_SIGNING_SECRET": "secret", "SLACK_API_URL": emulator.api_url, "PORT": str(port),
               "SPROUT_LEASE_SECONDS": "1"}
        driver = SlackDriver(emulator=emulator, request_url=f"http://127.0.0.1:{port}/slack/events",
                             signing_secret="secret")
        first = start(env)
        restarted = None
        try:
            driver.command(LEARNER, "/learn", "next")
            lesson = emulator.wait_for(lambda: emulator.dm_messages(LEARNER))[0]
            button = next(e for b in lesson["blocks"] if b["type"] == "actions" for e in b["elements"]
                          if e["action_id"].startswith("answer:"))
            question = json.loads(button["value"])["q"]
            # The drawing never reaches Slack before the kill: chat.update is refused meanwhile.
            emulator.set_failure_rate(1.0, methods=["chat.update"])
            assert driver.click(LEARNER, lesson, action_id=button["action_id"]).status == 200
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
            emulator.set_failure_rate(0)

            assert count(engine, Answer) == 1 and count(engine, ReviewCard) == 1, "kept before the ack"
            assert result_blocks(emulator, lesson) == [], "the message does not show it yet"
            assert count(engine, PendingRedraw) == 1

            restarted = start(env)
            try:
                emulator.wait_for(lambda: result_blocks(emulator, lesson), timeout=60)
            except TimeoutError:
                restarted.kill()
                raise AssertionError("the restart did not draw the message: " + restarted.communicate()[1]) from None
            assert result_blocks(emulator, lesson) == [f"result:{question}"]
            emulator.wait_for(lambda: count(engine, PendingRedraw) == 0)
            assert count(engine, Answer) == 1 and count(engine, ReviewCard) == 1, "recorded once"
        finally:
            driver.close()
            for process in (first, restarted):
                if process is not None and process.poll() is None:
                    process.kill()
                    process.wait()
    engine.dispose()
