"""``bot.enrollment_rules.SlackMembership`` against the emulator: a channel's members over several pages,
user groups by id and by handle, and Slack's refusals as sentences."""

from __future__ import annotations

import pytest

from bot.enrollment_rules import SlackMembership
from learning.enrollment_rules import Who
from learning.errors import SproutError


def test_a_channels_members_are_read_across_every_page(client, emulator):
    people = [f"U0P{i:03d}" for i in range(7)]
    for person in people:
        emulator.add_user(person, name=person.lower())
    channel = emulator.add_channel("crowd", members=people)
    assert SlackMembership(client, page_size=2).channel_members(channel) == [*people, "U0SPROUTBOT"]
    assert len(emulator.calls("conversations.members")) == 4


def test_a_channel_by_name_and_one_sprout_cannot_see(client, emulator):
    channel = emulator.add_channel("new-hires")
    membership = SlackMembership(client)
    assert membership.channel(Who("channel", name="new-hires")) == (channel, "new-hires")
    with pytest.raises(SproutError, match="can't find the channel #nowhere"):
        membership.channel(Who("channel", name="nowhere"))
    with pytest.raises(SproutError, match="can't read the members"):
        membership.channel_members("C0NOPE")


def test_user_groups_by_handle_and_id_and_slacks_refusals(client, emulator):
    group = emulator.add_usergroup("security-champions", users=["U0ANA"])
    membership = SlackMembership(client)
    assert membership.group(Who("group", name="security-champions")) == (group, "security-champions")
    assert membership.group(Who("group", id=group)) == (group, "security-champions")
    assert membership.group_members(group) == ["U0ANA"]
    with pytest.raises(SproutError, match="no longer exists"):
        membership.group_members("S0NOPE")  # no_such_subteam
    with pytest.raises(SproutError, match="no user group @nope"):
        membership.group(Who("group", name="nope"))
    emulator.set_usergroups_plan(False)
    with pytest.raises(SproutError, match="plan has no user groups"):
        membership.group_members(group)


def test_a_member_is_a_person_a_bot_or_nobody(client, emulator):
    membership = SlackMembership(client)
    assert membership.member("U0ANA").name == "Ana Souza"
    assert membership.member("U0SPROUTBOT").is_bot
    assert membership.member("U0GONE").deleted
    assert membership.member("U0NOBODY") is None
