"""The sandbox's people: a small team across time zones that the roster importer accepts as it is."""

from __future__ import annotations

from content_packs.catalog import Catalog
from content_packs.loader import BUNDLED_DIR
from learning.roster import COLUMNS, parse_roster
from sandbox.seed import PEOPLE, roster_csv
from sandbox.workspace import Person


def test_the_roster_imports_without_a_problem():
    catalog, _ = Catalog.from_directory(BUNDLED_DIR)
    roster = parse_roster(roster_csv(), known_packs=catalog.ids())
    assert roster.problems == []
    assert [r.slack_user_id for r in roster.rows] == [p.user_id for p in PEOPLE]
    header = roster_csv().splitlines()[0].split(",")
    assert set(header) <= set(COLUMNS) and header[0] == "slack_user_id"  # names people by id, not email
    by_id = {r.slack_user_id: r for r in roster.rows}
    assert by_id["U0SBBILAL"].packs == ("security-basics", "data-privacy-basics")
    assert by_id["U0SBANA"].timezone == "Europe/Berlin" and by_id["U0SBANA"].email == "ana@example.com"


def test_learners_in_five_zones_one_manager_over_them_and_a_facilitator():
    learners = [p for p in PEOPLE if p.role == "learner"]
    (manager,) = [p for p in PEOPLE if p.role == "manager"]
    assert len([p for p in PEOPLE if p.role == "facilitator"]) == 1
    assert {p.tz for p in learners} >= {
        "Europe/Berlin",
        "Asia/Kolkata",
        "America/New_York",
        "Australia/Sydney",
        "America/Sao_Paulo",
    }
    assert all(p.manager_id == manager.user_id for p in learners)
    assert all(p.packs for p in learners)
    packs = {pack for p in PEOPLE for pack in p.packs}
    assert packs == {"security-basics", "feedback-essentials", "onboarding-essentials", "data-privacy-basics"}


def test_each_person_is_a_slack_user_for_the_emulator():
    assert PEOPLE[0].person == Person("U0SBANA", "Ana Souza", "Europe/Berlin", "ana@example.com")
    assert len({p.user_id for p in PEOPLE}) == len(PEOPLE)
