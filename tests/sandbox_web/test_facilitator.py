"""The facilitator in the sandbox: the announcement form's channel menu lists the workspace's channels, and
picking one reaches Sprout in the view state Slack sends, so the channel's members get the announcement."""

from __future__ import annotations

import json
import re

from sandbox.emulator import SlackEmulator
from sandbox.seed import CHANNELS, PEOPLE, add_channels
from sandbox.web import sandbox_app
from tests.sandbox_web.conftest import BY_NAME

ANA, CHEN, FELIX, LUCAS, MAYA = (BY_NAME[n] for n in ("Ana", "Chen", "Felix", "Lucas", "Maya"))


def person(sandbox, who, predicate):
    return sandbox.emulator.wait_for(
        lambda: (data := sandbox.get(f"person?user={who.user_id}")) and predicate(data) and data, timeout=10
    )


def menu_options(html: str, action_id: str) -> list[tuple[str, str]]:
    menu = re.search(rf'<select [^>]*data-action-id="{action_id}"[^>]*>(.*?)</select>', html, re.S)
    assert menu, f"no menu {action_id!r}"
    return re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', menu.group(1))


def test_the_channels_are_in_the_workspace_with_their_members():
    emulator = SlackEmulator()
    ids = add_channels(emulator)
    assert list(ids) == ["general", "platform", "support", "security-champions"]
    assert add_channels(emulator) == ids, "a second start finds them and adds nothing"
    known = {p.user_id for p in PEOPLE}
    assert all(set(c.members) <= known for c in CHANNELS)
    assert set(next(c for c in CHANNELS if c.name == "platform").members) == {
        p.user_id for p in PEOPLE if p.team == "Platform"
    }
    assert emulator.channel_info(ids["security-champions"])["is_private"] is True


def test_each_person_is_offered_public_channels_and_the_private_ones_they_are_in(sandbox):
    page = sandbox_app(
        emulator=sandbox.emulator,
        driver=sandbox.driver,
        clock=sandbox.clock,
        tick=sandbox.sprout.tick,
        next_due=sandbox.sprout.next_due,
        people=PEOPLE,
    )
    assert [c.name for c in page.conversations_for(FELIX.user_id)] == [
        "general",
        "platform",
        "support",
        "security-champions",
    ]
    assert [c.name for c in page.conversations_for(CHEN.user_id)] == ["general", "platform", "support"]


def test_a_facilitator_announces_to_a_channels_members_from_the_page(sandbox):
    platform = sandbox.emulator.channel_id("platform")
    assert sandbox.post("command", {"user": FELIX.user_id, "text": "/learn announce"})[0] == 200
    form = person(sandbox, FELIX, lambda d: d["modal"])["modal"]

    # "The members of a channel": the radio dispatches, Sprout redraws the form with its channel menu.
    status, _ = sandbox.post(
        "action",
        {
            "user": FELIX.user_id,
            "surface": {"kind": "view", "view_id": form["view_id"]},
            "action_id": "announce_audience",
            "selected": "channel",
        },
    )
    assert status == 200
    form = person(sandbox, FELIX, lambda d: "conversations_select" in d["modal"]["html"])["modal"]
    assert "[conversations_select]" not in form["html"] and "sk-unsupported" not in form["html"]
    assert menu_options(form["html"], "channel") == [
        (sandbox.emulator.channel_id("general"), "# general"),
        (platform, "# platform"),
        (sandbox.emulator.channel_id("support"), "# support"),
        (sandbox.emulator.channel_id("security-champions"), "🔒 security-champions"),
    ]

    # Submitted as the page submits it: every input block by block id and action id.
    status, answer = sandbox.post(
        "submit",
        {
            "user": FELIX.user_id,
            "view_id": form["view_id"],
            "values": {
                "message": {"text": "Platform folks: the **new VPN** starts Monday."},
                "audience": {"announce_audience": "channel"},
                "channel": {"channel": platform},
                "when": {"announce_when": "now"},
                "ack": {"ack": ["ack"]},
            },
        },
    )
    assert status == 200 and answer["errors"] is None, answer
    note = person(sandbox, FELIX, lambda d: "On its way" in d["modal"]["html"])["modal"]
    assert f'data-channel-id="{platform}">#platform</span>' in note["html"], "named, not shown as its id"
    (announcement,) = sandbox.sprout.store.recent_announcements(1)
    assert (announcement.audience_kind, announcement.audience_value) == ("channel", platform)

    sandbox.sprout.tick(sandbox.clock())  # what the scheduler does every few seconds
    for member in (ANA, LUCAS, MAYA):
        shown = person(sandbox, member, lambda d: "new VPN" in d["messages_html"])
        assert 'data-action-id="announcement_ack"' in shown["messages_html"]
    assert "new VPN" not in sandbox.get(f"person?user={CHEN.user_id}")["messages_html"], "Chen is in Support"

    copy = next(m for m in sandbox.emulator.dm_messages(ANA.user_id) if "new VPN" in (m.get("text") or ""))
    status, _ = sandbox.post(
        "action",
        {
            "user": ANA.user_id,
            "surface": {"kind": "message", "channel": copy["channel"], "ts": copy["ts"]},
            "action_id": "announcement_ack",
            "value": json.dumps({"a": announcement.id}, separators=(",", ":")),
        },
    )
    assert status == 200
    person(sandbox, ANA, lambda d: "Acknowledged — thank you." in d["messages_html"])
