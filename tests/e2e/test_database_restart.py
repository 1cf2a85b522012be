"""PostgreSQL stops for 20 seconds under a running Sprout, in the middle of a fan-out, while learners click.

The cluster is the test's own (tests/pg_cluster.py), so stopping it touches nothing else. Sprout stays up,
/healthz says the database is unavailable and why, a click meanwhile is told to try again, and once the
database is back the fan-out finishes: every learner holds exactly one copy and every record says so.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.engine import make_engine
from db.migrate import upgrade
from db.models import Answer
from db.store import Store
from learning.roster import parse_roster
from sandbox.driver import SlackDriver
from sandbox.emulator import SlackEmulator
from tests import pg_cluster
from tests.e2e.processes import free_port, health

ROOT = Path(__file__).resolve().parents[2]
LEARNERS = 150
OUTAGE_SECONDS = 20
EVERY_DAY = "mon,tue,wed,thu,fri,sat,sun"


@pytest.fixture
def cluster():
    reason = pg_cluster.unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"a PostgreSQL cluster of the test's own is needed: {reason}")
        pytest.skip(reason)
    cluster = pg_cluster.PgCluster().init()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()


def wait(predicate, *, timeout: float, what: str, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if process is not None and process.poll() is not None:
            process.log_file.seek(0)
            raise AssertionError(f"Sprout exited while waiting for {what}: {process.log_file.read()[-3000:]}")
        if time.monotonic() > deadline:
            log = ""
            if process is not None:
                process.kill()
                process.wait()
                process.log_file.seek(0)
                log = process.log_file.read()[-4000:]
            raise AssertionError(f"timed out waiting for {what}. Sprout's log ends:\n{log}")
        time.sleep(0.1)


def lessons_of(emulator, user: str) -> list[dict]:
    return [m for m in emulator.dm_messages(user) if (m.get("metadata") or {}).get("event_type") == "sprout_delivery"]


def test_postgresql_restart_under_a_running_sprout_loses_and_repeats_nothing(cluster):
    engine = make_engine(cluster.url)
    upgrade(engine)
    store = Store(engine)
    users = [f"U0R{i:05d}" for i in range(LEARNERS)]
    csv = "slack_user_id,name,timezone,packs\n" + "".join(f"{u},Learner {u},UTC,security-basics\n" for u in users)
    now = datetime.now(UTC)
    store.import_roster(parse_roster(csv, known_packs={"security-basics"}).rows, now - timedelta(days=3))
    for user in users:  # due at midnight every day, so `run` (on the real clock) has a fan-out to send now
        store.set_preferences(store.learner(user).id, now, delivery_time="00:00", delivery_days=EVERY_DAY)
    engine.dispose()
    port = free_port()

    with SlackEmulator(bot_token="xoxb-restart") as emulator:
        for user in users:
            emulator.add_user(user, name=user, tz="UTC")
        env = {**os.environ, "DATABASE_URL": cluster.url, "SLACK_BOT_TOKEN": "xoxb-restart",
               "SLACK_SIGNING_SECRET": "secret", "SLACK_API_URL": emulator.api_url, "PORT": str(port),
               "SLACK_RATE_PER_MINUTE": "360", "SLACK_RATE_BURST": "5"}  # 6 a second: the fan-out spans the outage
        driver = SlackDriver(emulator=emulator, request_url=f"http://127.0.0.1:{port}/slack/events",
                             signing_secret="secret")
        log_file = open(cluster.folder / "sprout.log", "w+")  # noqa: SIM115 - read on failure, closed below
        run = subprocess.Popen([sys.executable, "app.py", "run", "--host", "127.0.0.1"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=log_file, text=True)
        run.log_file = log_file
        try:
            assert "is listening on" in run.stdout.readline()
            wait(lambda: len(emulator.calls("chat.postMessage")) >= 30, timeout=120, what="the fan-out", process=run)
            assert health(port)[0] == 200
            clicker = next(u for u in users if lessons_of(emulator, u))
            lesson = lessons_of(emulator, clicker)[0]
            button = next(e for b in lesson["blocks"] if b["type"] == "actions" for e in b["elements"]
                          if e["action_id"].startswith("answer:"))

            cluster.stop()
            stopped = time.monotonic()
            posted_at_stop = len(emulator.calls("chat.postMessage"))
            status, report = wait(lambda: (lambda h: h[0] == 503 and h)(health(port)), timeout=30,
                                  what="/healthz to report the outage", process=run)
            assert report["ok"] is False and report["database"] == "unreachable" and report["reason"], report

            assert driver.click(clicker, lesson, action_id=button["action_id"]).status == 200
            told = wait(lambda: [e["text"] for e in emulator.ephemerals(clicker) if "catching up" in e["text"]],
                        timeout=30, what="the click's reply", process=run)
            assert told == ["Sprout is catching up — please try again in a minute."]

            time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
            assert run.poll() is None, "Sprout stays up while its database is away"
            during = len(emulator.calls("chat.postMessage")) - posted_at_stop
            assert during < LEARNERS - posted_at_stop, "sending paused (the outbox is in the database)"
            cluster.start()

            wait(lambda: health(port)[0] == 200, timeout=60, what="/healthz to recover", process=run)
            wait(lambda: all(lessons_of(emulator, u) for u in users), timeout=240, what="every lesson",
                 process=run)
            check = Store(make_engine(cluster.url))
            wait(lambda: check.outbox_counts() == {"sent": LEARNERS}, timeout=60,
                 what="the records to say every lesson was sent", process=run)

            # The click after the outage is kept, once.
            assert driver.click(clicker, lesson, action_id=button["action_id"]).status == 200
            with check.engine.connect() as conn:
                assert conn.execute(select(func.count()).select_from(Answer)).scalar_one() == 1
            check.engine.dispose()

            copies = Counter(len(lessons_of(emulator, u)) for u in users)
            assert copies == Counter({1: LEARNERS}), f"lessons per learner: {copies}"
            assert len(emulator.calls("chat.postMessage")) == LEARNERS, "nothing was sent twice"
            run.send_signal(signal.SIGTERM)
            assert run.wait(timeout=30) == 0
        finally:
            driver.close()
            if run.poll() is None:
                run.kill()
                run.wait()
            log_file.close()
