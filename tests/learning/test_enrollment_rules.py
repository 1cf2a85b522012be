"""The rules of enrollment rules: whom a rule names, whom it matches, and whom it may still enroll."""

from __future__ import annotations

import pytest

from learning.enrollment_rules import (
    Person,
    Who,
    attribute_matches,
    parse_add,
    parse_rules_file,
    parse_who,
    select,
)
from learning.errors import SproutError

PACKS = {"onboarding-essentials", "security-basics", "sales-basics"}


def test_slack_escaped_mentions_name_the_channel_and_the_group_by_id():
    assert parse_who("channel", "<#C0NEW|new-hires>") == Who("channel", id="C0NEW", name="new-hires")
    assert parse_who("channel", "<#C0NEW>") == Who("channel", id="C0NEW")
    assert parse_who("group", "<!subteam^S0SEC|@security-champions>") == Who("group", id="S0SEC",
                                                                            name="security-champions")
    assert parse_who("group", "<!subteam^S0SEC>") == Who("group", id="S0SEC")


def test_unescaped_names_are_looked_up_later():
    assert parse_who("channel", "#New-Hires") == Who("channel", name="new-hires")
    assert parse_who("group", "@security-champions") == Who("group", name="security-champions")
    assert parse_who("group", "S0SEC") == Who("group", id="S0SEC")


@pytest.mark.parametrize(("kind", "text"), [("channel", "new-hires"), ("channel", "<@U123>"),
                                            ("group", "security"), ("group", "<#C123|x>"),
                                            ("department", "   "), ("department", "<!channel>"),
                                            ("role", "admin")])
def test_what_names_nobody_is_refused(kind, text):
    with pytest.raises(SproutError):
        parse_who(kind, text)


def test_the_pack_is_the_last_word_and_a_department_may_have_several():
    spec = parse_add('department "Customer   Success" Sales-Basics')
    assert spec.who == Who("department", value="Customer Success") and spec.pack_id == "sales-basics"
    with pytest.raises(SproutError):
        parse_add("channel #a #b onboarding-essentials")
    with pytest.raises(SproutError):
        parse_add("channel #new-hires")


def test_a_roster_value_matches_without_case_or_extra_spaces():
    assert attribute_matches("Sales", "SALES")
    assert attribute_matches("customer success", "Customer  Success ")
    assert not attribute_matches("Sales", "Sales EMEA")
    assert not attribute_matches("Sales", None)


def test_a_rule_enrolls_each_person_once_never_a_leaver_never_a_bot():
    matched = [Person("U1", 1, "Ana"), Person("U2", 2, "Bo"), Person("U1", 1, "Ana"),
               Person("U3", 3, "Cy", active=False), Person("UBOT", is_bot=True), Person("U4", None, "New")]
    selection = select(matched, applied={2})
    assert [p.slack_user_id for p in selection.enroll] == ["U1", "U4"]
    assert [p.slack_user_id for p in selection.applied] == ["U2"]
    assert [p.slack_user_id for p in selection.left] == ["U3"]
    assert select(matched, applied={1, 2}).enroll == [Person("U4", None, "New")]


def test_a_rules_file_reads_every_kind():
    parsed = parse_rules_file("rules:\n"
                              "  - channel: '#new-hires'\n    pack: onboarding-essentials\n"
                              "  - group: '@security-champions'\n    pack: security-basics\n"
                              "  - department: Sales\n    pack: sales-basics\n"
                              "  - team: Platform\n    pack: Security-Basics\n", known_packs=PACKS)
    assert parsed.problems == []
    assert [(r.line, r.spec.who.kind, r.spec.pack_id) for r in parsed.rules] == [
        (2, "channel", "onboarding-essentials"), (4, "group", "security-basics"), (6, "department", "sales-basics"),
        (8, "team", "security-basics")]


@pytest.mark.parametrize(("text", "line", "message"), [
    ("rules:\n  - channel: '#a'\n    pack: nope\n", 3, "unknown pack 'nope'"),
    ("rules:\n  - channel: '#a'\n    team: x\n    pack: sales-basics\n", 2, "name exactly one of"),
    ("rules:\n  - channel: '#a'\n", 2, "missing `pack"),
    ("rules:\n  - chanel: '#a'\n    pack: sales-basics\n", 2, "unknown key 'chanel'"),
    ("rules:\n  - group: security\n    pack: sales-basics\n", 2, "Name the user group like @security-champions"),
    ("rules:\n  - team: A\n    pack: sales-basics\n  - team: a\n    pack: sales-basics\n", 4,
     "the same rule as on line 2"),
    ("rules:\n  - team: [a, b]\n    pack: sales-basics\n", 2, "team: expected one value"),
    ("rules: [\n", 2, "not valid YAML"),
    ("- team: A\n", 1, "expected `rules:`"),
    ("rule:\n  - team: A\n", 1, "unknown key 'rule'"),
])
def test_a_broken_rules_file_names_the_line(text, line, message):
    parsed = parse_rules_file(text, known_packs=PACKS)
    assert parsed.problems, "a problem is found"
    assert (parsed.problems[0].line, message in parsed.problems[0].message) == (line, True), parsed.problems
    assert parsed.problems[0].format("rules.yaml").startswith(f"rules.yaml:{line}: ")
