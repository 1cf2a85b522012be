"""``/learn pairs start`` read from what a facilitator types, and the group DM's messages within Slack's limits."""

from __future__ import annotations

import pytest

from bot.pairing import StartRequest, answer_of, check_in_message, intro_message, parse_start
from learning.errors import Gone, SproutError
from sandbox import blockkit


@pytest.mark.parametrize(("typed", "expected"), [
    ("#mentoring every 2 weeks", StartRequest(None, "#mentoring", 2)),
    ("<#C0123|mentoring> every 1 week", StartRequest(None, "C0123", 1)),
    ("#mentoring every week", StartRequest(None, "#mentoring", 1)),
    ("#mentoring", StartRequest(None, "#mentoring", 2)),
    ("cohort Autumn 2026 every 3 weeks", StartRequest("Autumn 2026", None, 3)),
    ('cohort "Autumn 2026"', StartRequest("Autumn 2026", None, 2)),
])
def test_start_reads_a_channel_or_a_cohort_and_how_often(typed, expected):
    assert parse_start(typed) == expected


@pytest.mark.parametrize(("typed", "says"), [
    ("", "Pair whom?"), ("#x every 0 weeks", "every 1 to 12 weeks"), ("#x every 13 weeks", "every 1 to 12"),
    ("#x every often", "every 1 to 12"), ("cohort", "Which cohort?"), ("#x and more", "I don't understand"),
    ("<!channel>", "is not a channel or a cohort"),
])
def test_bad_starts_say_what_to_type(typed, says):
    with pytest.raises(SproutError) as refused:
        parse_start(typed)
    assert says in refused.value.message
    assert "<!channel>" not in refused.value.message


def test_the_group_dm_messages_are_valid_block_kit_and_escape_what_authors_wrote():
    intro = intro_message(["U1", "U2", "U3"], 2, "Pack <b>", "Lesson & co", "Why <!here>?")
    assert not blockkit.validate_blocks(intro.blocks)
    text = " ".join(b.get("text", {}).get("text", "") for b in intro.blocks if b["type"] == "section")
    assert "<@U1>, <@U2> and <@U3>" in text and "the next 2 weeks" in text
    assert "Lesson &amp; co" in text and "&lt;!here&gt;" in text and "<!here>" not in text
    general = intro_message(["U1", "U2"], 1, None, None, None)
    assert "this week" in general.blocks[1]["text"]["text"] and "What are you learning" in general.blocks[2]["text"]["text"]
    check_in = check_in_message(42)
    assert not blockkit.validate_blocks(check_in.blocks)
    yes, no = check_in.blocks[1]["elements"]
    assert answer_of(yes) == (42, True) and answer_of(no) == (42, False)
    with pytest.raises(Gone):
        answer_of({"action_id": "pair_met_yes", "value": "nonsense"})
