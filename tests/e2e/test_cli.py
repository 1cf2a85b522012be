"""The command line, as people run it: settings, roster import, tick (twice), demo, run."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

import app
from db.engine import make_engine
from db.models import Enrollment, Learner
from sandbox.emulator import SlackEmulator
from tests.e2e.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
HEADER = "slack_user_id,name,email,role,manager_slack_user_id,team,timezone,packs\n"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "sprout: SLACK_SIGNING_SECRET is required when SLACK_BOT_TOKEN is set"),
        ({"SLACK_BOT_TOKEN": "xoxp-1", "SLACK_SIGNING_SECRET": "s"}, "sprout: SLACK_BOT_TOKEN must be a bot token"),
        ({"PORT": "eighty"}, "sprout: PORT must be a whole number from 1 to 65535, not 'eighty'"),
        ({"DATABASE_URL": "mysql://x/y"}, "sprout: DATABASE_URL uses 'mysql'"),
        ({"DEFAULT_TIMEZONE": "Mars/Base"}, "sprout: DEFAULT_TIMEZONE 'Mars/Base' is not an IANA time zone"),
        ({"ADMIN_USER_IDS": "U1,bob"}, "sprout: ADMIN_USER_IDS has 'bob'"),
        ({"CONTENT_PACKS_DIR": "/no/such/dir"}, "sprout: CONTENT_PACKS_DIR '/no/such/dir' is not a folder"),
        ({"LOG_LEVEL": "verbose"}, "sprout: LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ({"REMINDER_AFTER_HOURS": "soon"}, "sprout: REMINDER_AFTER_HOURS must be a number from 0 to 72"),
    ],
)
def test_a_bad_setting_stops_with_one_line_naming_it(env, expected, capsys):
    assert app.main(["packs", "validate"], environ=env) == 2
    err = capsys.readouterr().err
    assert err.startswith(expected) and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("url", ["postgresql+psycopg://postgres@127.0.0.1:1/test",
                                 "sqlite:////no/such/folder/sprout.db"], ids=["no server", "no folder"])
def test_a_database_that_cannot_be_reached_stops_with_one_line(url, capsys):
    assert app.main(["db", "upgrade"], environ={"DATABASE_URL": url}) == 2
    err = capsys.readouterr().err
    assert err.startswith("sprout: DATABASE_URL cannot be reached or opened: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_settings_take_fractions_of_hours_and_a_log_level_from_the_env_file(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("REMINDER_AFTER_HOURS=1.5\nLOG_LEVEL=info\n")
    settings = app.load_settings({}, dotenv=dotenv)
    assert settings.reminder_after_hours == 1.5 and settings.log_level == "INFO"


def test_env_file_is_read_and_the_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("PORT=4000\nDEFAULT_TIMEZONE=Europe/Paris\n")
    settings = app.load_settings({"PORT": "5000"}, dotenv=dotenv)
    assert settings.port == 5000 and settings.default_timezone == "Europe/Paris"


def count(url, model, *where):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one()
    finally:
        engine.dispose()


def test_roster_import_is_all_or_nothing_and_upserts(engine, database_url, tmp_path, capsys):
    env = {"DATABASE_URL": database_url}
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "U0AAA,Ana,,learner,,,Europe/Berlin,security-basics\nU0BBB,Bo,,chief,,,,\n")
    assert app.main(["roster", "import", str(bad)], environ=env) == 1
    err = capsys.readouterr().err
    assert f"{bad}:3: role: 'chief' is not a role" in err and "nothing imported" in err
    assert count(database_url, Learner) == 0

    good = tmp_path / "good.csv"
    good.write_text(HEADER + "U0AAA,Ana,,learner,U0BBB,Sales,Europe/Berlin,security-basics;feedback-essentials\n"
                    "U0BBB,Bo,bo@example.com,manager,,Sales,,\n")
    assert app.main(["roster", "import", str(good)], environ=env) == 0
    assert "2 added, 0 updated, 2 new enrollments" in capsys.readouterr().out
    assert app.main(["roster", "import", str(good)], environ=env) == 0
    assert "0 added, 2 updated, 0 new enrollments" in capsys.readouterr().out
    assert count(database_url, Learner) == 2 and count(database_url, Enrollment) == 2


def import_in_a_process(database_url, roster, *, stdout):
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.Popen([sys.executable, "app.py", "roster", "import", str(roster)], cwd=ROOT, env=env,
                            stdout=stdout, stderr=subprocess.PIPE)


def test_roster_import_draws_a_bar_on_a_terminal_and_only_the_summary_otherwise(database_url, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(HEADER + "".join(f"U0P{i:05d},Person {i},,learner,,,Europe/Berlin,security-basics\n"
                                       for i in range(12_000)))  # more than two batches
    piped = import_in_a_process(database_url, roster, stdout=subprocess.PIPE)
    out, err = piped.communicate(timeout=120)
    assert piped.returncode == 0, err
    assert out.decode() == f"{roster}: 12000 added, 0 updated, 12000 new enrollments\n"
    assert b"\x1b[" not in err and b"Importing" not in err

    controller, terminal = os.openpty()
    watched = import_in_a_process(database_url, roster, stdout=terminal)
    os.close(terminal)
    seen = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    assert watched.wait(timeout=120) == 0, watched.stderr.read()
    watched.stderr.close()
    assert b"Importing 12000 people" in seen and b"\x1b[" in seen  # drawn, then cleared (transient)
    assert seen.rstrip().endswith(f"{roster}: 0 added, 12000 updated, 0 new enrollments".encode())


def next_tuesday_0830_utc(now: datetime) -> str:
    day = now.date() + timedelta(days=1)
    while day.weekday() != 1:
        day += timedelta(days=1)
    return f"{day.isoformat()}T08:30:00Z"


def test_tick_at_an_instant_sends_once_through_the_web_api(database_url, tmp_path, capsys):
    with SlackEmulator(bot_token="xoxb-cli-test") as emulator:
        emulator.add_user("U0AAA", name="Ana", tz="Europe/Berlin")
        emulator.add_user("U0CCC", name="Chen", tz="Asia/Kolkata")
        env = {
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": "xoxb-cli-test",
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": emulator.api_url,
        }
        roster = tmp_path / "roster.csv"
        roster.write_text(HEADER + "U0AAA,Ana,,learner,,,Europe/Berlin,security-basics\n"
                          "U0CCC,Chen,,learner,,,Asia/Kolkata,security-basics\n")
        assert app.main(["roster", "import", str(roster)], environ=env) == 0
        capsys.readouterr()
        # The import enrolls them now (the real clock), so tick at the first Tuesday after today, 08:30 UTC:
        # 09:30 or 10:30 in Berlin, 14:00 in Kolkata — both past their 09:30.
        at = next_tuesday_0830_utc(datetime.now(UTC))
        assert app.main(["tick", "--at", at], environ=env) == 0
        assert "2 queued, 0 reminders, 0 reviews, 2 sent" in capsys.readouterr().out
        assert app.main(["tick", "--at", at], environ=env) == 0
        assert "0 queued, 0 reminders, 0 reviews, 0 sent" in capsys.readouterr().out
        assert len(emulator.dm_messages("U0AAA")) == 1 and len(emulator.dm_messages("U0CCC")) == 1


def test_tick_without_a_token_explains_itself(capsys):
    assert app.main(["tick"], environ={}) == 2
    assert "SLACK_BOT_TOKEN is not set" in capsys.readouterr().err


def test_demo_with_its_defaults_runs_a_week_with_reviews(capsys):
    assert app.main(["demo"], environ={}) == 0
    out = capsys.readouterr().out
    assert "Ana Souza" in out and "answered" in out and "rated" in out
    # Wednesday brings the first review DMs: the simulated learners answer them too.
    assert "🔁 Quick review" in out and "✅ Done —" in out
    assert "the week in records" in out and "outbox: {'sent':" in out
    # A learner's suggestion is accepted from the review queue and reaches the others, credited.
    assert "Ana Souza suggests a question for" in out and "Fay Morgan accepts it" in out
    assert re.search(r"security-basics is now version \d+", out)
    assert out.count("With contributions from Ana Souza") >= 2
    assert (ROOT / "content_packs" / "security-basics" / "contributions.yaml").exists() is False


@pytest.mark.parametrize(("command", "stop"), [([], signal.SIGINT), (["run"], signal.SIGTERM)],
                         ids=["app.py, Ctrl-C", "app.py run, SIGTERM"])
def test_without_a_token_the_sandbox_serves_health_and_stops_cleanly(tmp_path, command, stop):
    port = free_port()
    env = {**os.environ, "PORT": str(port)}
    env.pop("SLACK_BOT_TOKEN", None)
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen([sys.executable, "app.py", *command], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stdout.readline()
        assert banner.startswith(f"Sprout sandbox: http://127.0.0.1:{port}/sandbox "), banner
        assert "only on this computer" in banner
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert response.status == 200 and b'"ok": true' in response.read()
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/sandbox", timeout=5) as response:
                    assert response.status == 200 and b"Sprout" in response.read()
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/sandbox/api/state", timeout=5) as response:
                    assert len(json.loads(response.read())["people"]) >= 5, "the workspace was seeded"
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        process.send_signal(stop)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_exports_from_the_command_line(store, database_url, tmp_path, capsys):
    import csv as csv_module

    from tests.fixtures_lrs.records import seed

    seed(store)
    env = {"DATABASE_URL": database_url, "SLACK_WORKSPACE_URL": "https://acme.slack.com"}
    out = tmp_path / "answers.csv"
    assert app.main(["export", "csv", "--what", "answers", "--since", "2026-01-01", "--out", str(out)],
                    environ=env) == 0
    rows = list(csv_module.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == 4 and {r["correct"] for r in rows} <= {"true", "false", "True", "False", "1", "0"}
    feedback = tmp_path / "feedback.csv"
    assert app.main(["export", "csv", "--what", "feedback", "--since", "2026-01-01", "--out", str(feedback)],
                    environ=env) == 0
    assert "'=HYPERLINK" in feedback.read_text(encoding="utf-8-sig"), "a formula is neutralised"
    statements = tmp_path / "xapi.json"
    assert app.main(["export", "xapi", "--since", "2026-01-01", "--out", str(statements)], environ=env) == 0
    exported = json.loads(statements.read_text())
    assert len(exported) >= 10 and len({s["id"] for s in exported}) == len(exported)
    assert app.main(["export", "xapi", "--since", "2026-01-01", "--out", str(statements)], environ=env) == 0
    assert [s["id"] for s in json.loads(statements.read_text())] == [s["id"] for s in exported], "stable ids"
    assert app.main(["export", "csv", "--what", "answers", "--since", "yesterday", "--out", str(out)],
                    environ=env) == 2
    assert "--since 'yesterday' is not a date" in capsys.readouterr().err


@pytest.mark.parametrize("command", [[], ["run"]], ids=["app.py", "app.py run"])
def test_no_token_with_a_database_url_stops_rather_than_running_the_sandbox_on_it(database_url, command, capsys):
    """Without a token the sandbox would seed sample people into DATABASE_URL's database and 'send' lessons
    to its real learners through the emulator: that needs --sandbox, on purpose."""
    assert app.main(command, environ={"DATABASE_URL": database_url}) == 2
    err = capsys.readouterr().err
    assert err.startswith("sprout: SLACK_BOT_TOKEN is not set but DATABASE_URL is") and err.count("\n") == 1
    assert "--sandbox" in err
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert not conn.dialect.has_table(conn, "learners"), "nothing was written to that database"
    finally:
        engine.dispose()


def test_sandbox_on_a_named_database_on_purpose(tmp_path):
    port = free_port()
    url = f"sqlite:///{tmp_path / 'chosen.db'}"
    env = {**os.environ, "PORT": str(port), "DATABASE_URL": url}
    env.pop("SLACK_BOT_TOKEN", None)
    process = subprocess.Popen([sys.executable, "app.py", "run", "--sandbox"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stdout.readline()
        assert banner.startswith(f"Sprout sandbox: http://127.0.0.1:{port}/sandbox "), process.stderr.read()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert count(url, Learner) >= 5, "the sandbox used the database it was given"


def test_simulate_prints_recall_and_workload_with_the_configured_retention(capsys):
    assert app.main(["simulate", "--learners", "10", "--questions", "10", "--days", "30"],
                    environ={"REVIEW_RETENTION": "0.88", "REVIEW_QUESTIONS": "2"}) == 0
    out = capsys.readouterr().out
    assert "2 questions a review DM" in out
    rows = {line.split(" | ")[0].strip("| "): line for line in out.splitlines() if line.startswith("| ")}
    assert {"no review", "Qstream 12/24", "ladder 1-3-10-30-60", "Sprout 0.88"} <= set(rows)
    assert "recall day 30" in out and "reviews/learner/week" in out
