"""Rosters that name people by email, as an HR export does: resolved through users.lookupByEmail on the
emulator, on SQLite and PostgreSQL, all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import app
from db.engine import make_engine
from db.models import Enrollment, Learner
from sandbox.emulator import SlackEmulator

HEADER = "email,name,role,manager_email,team,timezone,packs\n"


@pytest.fixture
def workspace(engine):  # engine: the schema exists even when an import stops early
    with SlackEmulator(bot_token="xoxb-roster-email") as emulator:
        emulator.add_user("U0ANA", name="Ana", email="ana@example.com", tz="Europe/Berlin")
        emulator.add_user("U0BO", name="Bo", email="Bo@Example.com", tz="Europe/Berlin")
        emulator.add_user("U0CY", name="Cy", email="cy@example.com", tz="Europe/Berlin")
        emulator.add_user("U0GONE", name="Gone", email="gone@example.com", deleted=True)
        yield emulator


def env_for(emulator, database_url):
    return {"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-roster-email", "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": emulator.api_url}


def learners(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return {r.slack_user_id: (r.email, r.manager_slack_user_id) for r in conn.execute(
                select(Learner.slack_user_id, Learner.email, Learner.manager_slack_user_id))}
    finally:
        engine.dispose()


def lookups(emulator):
    return emulator.calls("users.lookupByEmail")


def test_email_rows_import_with_their_managers_and_a_second_import_asks_slack_nothing(
        workspace, database_url, tmp_path, capsys):
    roster = tmp_path / "hr.csv"
    roster.write_text(HEADER + "ana@example.com,Ana,learner,bo@example.com,Sales,,security-basics\n"
                               "cy@example.com,Cy,learner,BO@example.com,Sales,,security-basics\n"
                               "bo@example.com,Bo,manager,,Sales,,\n")
    env = env_for(workspace, database_url)
    assert app.main(["roster", "import", str(roster)], environ=env) == 0
    assert "3 added, 0 updated, 2 new enrollments" in capsys.readouterr().out
    assert learners(database_url) == {"U0ANA": ("ana@example.com", "U0BO"), "U0CY": ("cy@example.com", "U0BO"),
                                      "U0BO": ("bo@example.com", None)}
    assert len(lookups(workspace)) == 3  # bo@ named three times, in two cases: one call

    assert app.main(["roster", "import", str(roster)], environ=env) == 0
    assert "0 added, 3 updated, 0 new enrollments" in capsys.readouterr().out
    assert len(lookups(workspace)) == 3  # every email is known now: no call


def test_unknown_emails_are_named_with_their_lines_and_nothing_is_written(workspace, database_url, tmp_path, capsys):
    roster = tmp_path / "hr.csv"
    roster.write_text(HEADER + "ana@example.com,Ana,learner,,,,security-basics\n"
                               "nobody@example.com,No One,learner,,,,security-basics\n"
                               "cy@example.com,Cy,learner,boss@example.com,,,\n"
                               "gone@example.com,Gone,learner,,,,\n")
    assert app.main(["roster", "import", str(roster)], environ=env_for(workspace, database_url)) == 1
    err = capsys.readouterr().err
    assert f"{roster}:3: email: no Slack account has the email nobody@example.com (users_not_found)" in err
    assert f"{roster}:4: manager_email: no Slack account has the manager's email boss@example.com" in err
    assert f"{roster}:5: email: no Slack account has the email gone@example.com" in err  # deactivated
    assert f"{roster}:2" not in err and "nothing imported (3 problems)" in err
    assert learners(database_url) == {}


def test_skip_unknown_imports_the_rest_and_lists_what_it_skipped(workspace, database_url, tmp_path, capsys):
    roster = tmp_path / "hr.csv"
    roster.write_text(HEADER + "ana@example.com,Ana,learner,,,,security-basics\n"
                               "nobody@example.com,No One,learner,,,,security-basics\n"
                               "cy@example.com,Cy,learner,boss@example.com,,,\n")
    env = env_for(workspace, database_url)
    assert app.main(["roster", "import", "--skip-unknown", str(roster)], environ=env) == 0
    out = capsys.readouterr().out
    assert f"skipped: {roster}:3: email: no Slack account has the email nobody@example.com" in out
    assert f"skipped: {roster}:4: manager_email: no Slack account has the manager's email boss@example.com " \
           "(users_not_found); imported without a manager" in out
    assert "2 added, 0 updated, 1 new enrollments, 2 skipped" in out
    assert learners(database_url) == {"U0ANA": ("ana@example.com", None), "U0CY": ("cy@example.com", None)}
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(Enrollment)).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_bad_row_names_its_line_before_slack_is_asked(workspace, database_url, tmp_path, capsys):
    roster = tmp_path / "hr.csv"
    roster.write_text(HEADER + "ana@example.com,Ana,learner,,,,\n"
                               ",Nobody,learner,,,,\n"
                               "ana@example.com,Ana again,learner,,,,\n")
    assert app.main(["roster", "import", str(roster)], environ=env_for(workspace, database_url)) == 1
    err = capsys.readouterr().err
    assert f"{roster}:3: slack_user_id: neither a Slack user id nor an email names this person" in err
    assert f"{roster}:4: email: ana@example.com already appears on line 2" in err
    assert lookups(workspace) == [] and learners(database_url) == {}


def test_a_token_slack_refuses_stops_the_import_with_nothing_written(workspace, database_url, tmp_path, capsys):
    roster = tmp_path / "hr.csv"
    roster.write_text(HEADER + "ana@example.com,Ana,learner,,,,\n")
    env = env_for(workspace, database_url) | {"SLACK_BOT_TOKEN": "xoxb-not-this-workspace"}
    assert app.main(["roster", "import", str(roster)], environ=env) == 1
    assert "Slack refused users.lookupByEmail: invalid_auth; nothing imported" in capsys.readouterr().err
    assert learners(database_url) == {}


def test_look_ups_wait_out_a_429_and_go_on(workspace, database_url, tmp_path, capsys):
    workspace.fail_next(1, status=429, method="users.lookupByEmail")  # Retry-After: 1
    roster = tmp_path / "hr.csv"
    roster.write_text(HEADER + "ana@example.com,Ana,learner,,,,\ncy@example.com,Cy,learner,,,,\n")
    assert app.main(["roster", "import", str(roster)], environ=env_for(workspace, database_url)) == 0
    assert "2 added" in capsys.readouterr().out
    assert workspace.stats()["by_method_status"]["users.lookupByEmail"] == {429: 1, 200: 2}
    assert set(learners(database_url)) == {"U0ANA", "U0CY"}
