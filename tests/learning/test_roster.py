from __future__ import annotations

from learning.roster import parse_roster

HEADER = "slack_user_id,name,email,role,manager_slack_user_id,team,timezone,packs\n"


def test_good_rows_parse():
    roster = parse_roster(
        HEADER + "U01,Ana,ana@example.com,learner,U02,Sales,Europe/Berlin,security-basics\n"
        "U02,Bo,,manager,,Sales,,\n",
        known_packs={"security-basics"},
    )
    assert roster.problems == []
    assert [r.slack_user_id for r in roster.rows] == ["U01", "U02"]
    assert roster.rows[0].packs == ("security-basics",) and roster.rows[1].timezone is None


def test_each_bad_row_names_its_line():
    text = (
        HEADER
        + "U01,Ana,,learner,,,,\n"
        + "U02,Bo,,wizard,,,,\n"  # line 3
        + 'U03,"Multi\nline",,learner,,,Mars/Base,\n'  # line 4
        + "nope,Cy,,learner,,,,\n"  # line 6
        + "U05,Di,,learner,,,,unknown-pack\n"  # line 7
        + "U01,Ana again,,learner,,,,\n"  # line 8
    )
    roster = parse_roster(text, known_packs={"security-basics"})
    assert [(p.line, p.column) for p in roster.problems] == [
        (3, "role"),
        (4, "timezone"),
        (6, "slack_user_id"),
        (7, "packs"),
        (8, "slack_user_id"),
    ]
    assert roster.problems[0].format("r.csv") == "r.csv:3: role: 'wizard' is not a role (one of learner, manager, facilitator, admin, coach, mentor)"


def test_an_unknown_column_is_refused():
    roster = parse_roster("slack_user_id,nmae\nU01,Ana\n", known_packs=set())
    assert roster.problems and roster.problems[0].line == 1 and "nmae" in roster.problems[0].message
