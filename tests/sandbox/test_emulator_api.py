"""The Web API through slack_sdk's WebClient over real HTTP: shapes, errors, pagination."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.sandbox.conftest import TOKEN

TS = re.compile(r"^\d{10}\.\d{6}$")


def api_error(call, *args, **kwargs) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call(*args, **kwargs)
    return caught.value


def raw_post(emulator, method: str, body: bytes, content_type: str, headers: dict | None = None):
    request = urllib.request.Request(
        emulator.api_url + method, data=body, headers={"Content-Type": content_type, **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# -- auth, team, request formats ------------------------------------------------------------------


def test_auth_test_describes_the_bot(client):
    data = client.auth_test().data
    assert data == {
        "ok": True,
        "url": "https://sprout-sandbox.slack.com/",
        "team": "Sprout Sandbox",
        "user": "sprout",
        "team_id": "T0SPROUT",
        "user_id": "U0SPROUTBOT",
        "bot_id": "B0SPROUTBOT",
        "is_enterprise_install": False,
    }


def test_a_wrong_token_is_invalid_auth(emulator):
    error = api_error(WebClient(base_url=emulator.api_url, token="xoxb-wrong").auth_test)
    assert error.response.status_code == 200
    assert error.response["error"] == "invalid_auth"


def test_no_token_is_not_authed(emulator):
    error = api_error(WebClient(base_url=emulator.api_url).auth_test)
    assert error.response["error"] == "not_authed"


def test_unknown_method_is_a_404_like_slack(client):
    error = api_error(client.api_call, "lessons.teach")
    assert error.response.status_code == 404
    assert error.response["error"] == "unknown_method"


def test_form_encoded_request_with_token_parameter_and_json_string_blocks(emulator):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*form*"}}]
    body = urllib.parse.urlencode(
        {"token": TOKEN, "channel": "U0ANA", "text": "hi", "blocks": json.dumps(blocks)}
    )
    status, data = raw_post(emulator, "chat.postMessage", body.encode(), "application/x-www-form-urlencoded")
    assert status == 200 and data["ok"] is True
    assert data["message"]["blocks"][0]["text"]["text"] == "*form*"
    assert emulator.dm_messages("U0ANA")[0]["text"] == "hi"


def test_json_request_with_bearer_token(emulator):
    body = json.dumps({"channel": "U0ANA", "text": "json"}).encode()
    status, data = raw_post(
        emulator, "chat.postMessage", body, "application/json", {"Authorization": f"Bearer {TOKEN}"}
    )
    assert status == 200 and data["ok"] is True and data["channel"].startswith("D")


def test_team_info(client):
    team = client.team_info()["team"]
    assert (team["id"], team["name"], team["domain"]) == ("T0SPROUT", "Sprout Sandbox", "sprout-sandbox")


# -- chat.postMessage -----------------------------------------------------------------------------


def test_posting_to_a_user_id_lands_in_their_dm_with_a_stable_channel(client, emulator):
    first = client.chat_postMessage(channel="U0ANA", text="one")
    second = client.chat_postMessage(channel="U0ANA", text="two")
    assert first["channel"] == second["channel"] == emulator.dm_channel_id("U0ANA")
    assert first["channel"].startswith("D")
    assert [m["text"] for m in emulator.dm_messages("U0ANA")] == ["one", "two"]
    message = first["message"]
    assert (
        message["user"] == "U0SPROUTBOT"
        and message["bot_id"] == "B0SPROUTBOT"
        and message["type"] == "message"
    )
    assert message["ts"] == first["ts"]


def test_ts_values_are_slack_shaped_and_strictly_increasing_even_when_time_stands_still(client, emulator):
    stamps = [client.chat_postMessage(channel="U0ANA", text=str(i))["ts"] for i in range(5)]
    assert all(TS.match(ts) for ts in stamps)
    assert stamps == sorted(stamps) and len(set(stamps)) == 5
    assert stamps[0].startswith(str(int(emulator.clock())))


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_posting_without_text_or_blocks_is_no_text(client):
    assert api_error(client.chat_postMessage, channel="U0ANA", text="").response["error"] == "no_text"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_blocks_alone_are_enough(client):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "only blocks"}}]
    assert client.chat_postMessage(channel="U0ANA", blocks=blocks)["ok"]


def test_unknown_channel_is_channel_not_found(client):
    assert (
        api_error(client.chat_postMessage, channel="C0NOPE", text="x").response["error"]
        == "channel_not_found"
    )


def test_bot_outside_a_public_channel_is_not_in_channel(client, emulator):
    channel = emulator.add_channel("random", members=["U0ANA"], bot_is_member=False)
    assert api_error(client.chat_postMessage, channel=channel, text="x").response["error"] == "not_in_channel"


def test_channel_can_be_named(client, emulator):
    channel = emulator.add_channel("learning", members=["U0ANA"])
    assert client.chat_postMessage(channel="#learning", text="hello")["channel"] == channel


def test_posting_to_a_deactivated_user_succeeds_as_in_slack(client, emulator):
    # Slack keeps deactivated users' DMs; chat.postMessage answers ok (python-slack-sdk#1156).
    assert client.chat_postMessage(channel="U0GONE", text="still delivered")["ok"]


def test_user_error_injection_makes_dm_posts_fail(client, emulator):
    emulator.set_user_error("U0BEN", "account_inactive")
    assert (
        api_error(client.chat_postMessage, channel="U0BEN", text="x").response["error"] == "account_inactive"
    )
    emulator.set_user_error("U0BEN", None)
    assert client.chat_postMessage(channel="U0BEN", text="x")["ok"]


def test_invalid_blocks_answer_in_slacks_shape(client):
    error = api_error(
        client.chat_postMessage,
        channel="U0ANA",
        text="fallback",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
    )
    data = error.response.data
    assert data["error"] == "invalid_blocks"
    assert data["errors"] == ["must be less than 3001 characters [json-pointer:/blocks/0/text/text]"]
    assert data["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]


def test_more_than_fifty_blocks_in_a_message_is_invalid_blocks(client):
    error = api_error(client.chat_postMessage, channel="U0ANA", text="x", blocks=[{"type": "divider"}] * 51)
    assert error.response["error"] == "invalid_blocks"


def test_text_over_40000_characters_is_truncated_with_a_warning(client, emulator):
    response = client.chat_postMessage(channel="U0ANA", text="a" * 40_010)
    assert response["warning"] == "message_truncated"
    assert response["response_metadata"]["warnings"] == ["message_truncated"]
    assert len(emulator.dm_messages("U0ANA")[0]["text"]) == 40_000


def test_missing_block_ids_are_filled_in_as_slack_does(client):
    blocks = [
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Go"}}]}
    ]
    block = client.chat_postMessage(channel="U0ANA", text="x", blocks=blocks)["message"]["blocks"][0]
    assert block["block_id"] and block["elements"][0]["action_id"]


def test_metadata_comes_back_in_history_only_when_asked(client, emulator):
    metadata = {"event_type": "sprout_delivery", "event_payload": {"outbox_id": 42}}
    channel = client.chat_postMessage(channel="U0ANA", text="lesson", metadata=metadata)["channel"]
    plain = client.conversations_history(channel=channel)["messages"][0]
    assert "metadata" not in plain
    full = client.conversations_history(channel=channel, include_all_metadata=True)["messages"][0]
    assert full["metadata"] == metadata
    assert emulator.dm_messages("U0ANA")[0]["metadata"] == metadata


def test_metadata_without_event_type_is_invalid(client):
    error = api_error(client.chat_postMessage, channel="U0ANA", text="x", metadata={"event_payload": {}})
    assert error.response["error"] == "invalid_metadata_format"


def test_thread_replies_are_counted_on_the_parent_and_kept_out_of_history(client, emulator):
    parent = client.chat_postMessage(channel="U0ANA", text="parent")
    client.chat_postMessage(channel="U0ANA", text="reply 1", thread_ts=parent["ts"])
    client.chat_postMessage(channel="U0ANA", text="reply 2", thread_ts=parent["ts"])
    history = client.conversations_history(channel=parent["channel"])["messages"]
    assert [m["text"] for m in history] == ["parent"]
    assert history[0]["reply_count"] == 2 and history[0]["thread_ts"] == parent["ts"]
    replies = client.conversations_replies(channel=parent["channel"], ts=parent["ts"])["messages"]
    assert [m["text"] for m in replies] == ["parent", "reply 1", "reply 2"]
    assert replies[1]["thread_ts"] == parent["ts"]
    seen = emulator.dm_messages("U0ANA")
    assert [m["thread_ts"] for m in seen] == [None, parent["ts"], parent["ts"]]
    assert seen[0]["reply_count"] == 2


def test_replying_to_a_missing_thread_is_thread_not_found(client):
    client.chat_postMessage(channel="U0ANA", text="x")
    error = api_error(client.chat_postMessage, channel="U0ANA", text="r", thread_ts="1000000000.000001")
    assert error.response["error"] == "thread_not_found"


# -- chat.update, chat.delete, chat.postEphemeral, chat.getPermalink -----------------------------


def test_update_edits_the_message(client, emulator):
    sent = client.chat_postMessage(channel="U0ANA", text="before")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "after"}}]
    updated = client.chat_update(channel=sent["channel"], ts=sent["ts"], text="after", blocks=blocks)
    assert updated["ts"] == sent["ts"] and updated["text"] == "after"
    assert updated["message"]["edited"]["user"] == "U0SPROUTBOT"
    seen = emulator.dm_messages("U0ANA")[0]
    assert seen["text"] == "after" and seen["edited"] is True and seen["blocks"][0]["text"]["text"] == "after"


def test_update_of_a_missing_message_is_message_not_found(client):
    channel = client.chat_postMessage(channel="U0ANA", text="x")["channel"]
    error = api_error(client.chat_update, channel=channel, ts="1000000000.000001", text="y")
    assert error.response["error"] == "message_not_found"


def test_update_of_a_persons_message_is_cant_update_message(client, emulator):
    channel = emulator.ensure_dm("U0ANA")
    mine = emulator.record_user_message("U0ANA", channel, "typed by Ana")
    error = api_error(client.chat_update, channel=channel, ts=mine["ts"], text="rewritten")
    assert error.response["error"] == "cant_update_message"


def test_delete_removes_the_message(client, emulator):
    sent = client.chat_postMessage(channel="U0ANA", text="oops")
    assert client.chat_delete(channel=sent["channel"], ts=sent["ts"]).data == {
        "ok": True,
        "channel": sent["channel"],
        "ts": sent["ts"],
    }
    assert emulator.dm_messages("U0ANA") == []
    assert (
        api_error(client.chat_delete, channel=sent["channel"], ts=sent["ts"]).response["error"]
        == "message_not_found"
    )


def test_ephemeral_messages_are_seen_only_by_their_user(client, emulator):
    channel = emulator.add_channel("team", members=["U0ANA", "U0BEN"])
    response = client.chat_postEphemeral(channel=channel, user="U0ANA", text="just for you")
    assert TS.match(response["message_ts"])
    assert [e["text"] for e in emulator.ephemerals("U0ANA")] == ["just for you"]
    assert emulator.ephemerals("U0BEN") == []
    assert emulator.messages(channel) == []


def test_ephemeral_to_someone_outside_the_channel_is_user_not_in_channel(client, emulator):
    channel = emulator.add_channel("team", members=["U0ANA"])
    error = api_error(client.chat_postEphemeral, channel=channel, user="U0BEN", text="x")
    assert error.response["error"] == "user_not_in_channel"


def test_permalink(client):
    sent = client.chat_postMessage(channel="U0ANA", text="x")
    link = client.chat_getPermalink(channel=sent["channel"], message_ts=sent["ts"])["permalink"]
    assert (
        link == f"https://sprout-sandbox.slack.com/archives/{sent['channel']}/p{sent['ts'].replace('.', '')}"
    )


# -- conversations ----------------------------------------------------------------------------------


def test_conversations_open_returns_the_dm_and_then_already_open(client, emulator):
    first = client.conversations_open(users="U0BEN").data
    assert first == {"ok": True, "channel": {"id": emulator.dm_channel_id("U0BEN")}}
    second = client.conversations_open(users="U0BEN").data
    assert second["already_open"] is True and second["no_op"] is True
    assert second["channel"]["id"] == first["channel"]["id"]


def test_conversations_open_errors(client):
    assert api_error(client.conversations_open, users="U0NOBODY").response["error"] == "user_not_found"
    assert api_error(client.conversations_open, users="U0GONE").response["error"] == "user_disabled"


def test_conversations_open_with_several_users_opens_one_group_dm_for_those_people(client, emulator):
    first = client.conversations_open(users="U0ANA,U0BEN").data
    channel = first["channel"]["id"]
    assert channel.startswith("G") and "already_open" not in first
    again = client.conversations_open(users="U0BEN,U0ANA", return_im=True).data  # any order: the same one
    assert again["already_open"] is True and again["channel"]["id"] == channel
    info = again["channel"]
    assert info["is_mpim"] is True and info["is_im"] is False and info["is_private"] is True
    assert info["name"] == "mpdm-ana--ben-1"
    assert emulator.group_dms() == {channel: ("U0ANA", "U0BEN")}
    assert set(client.conversations_members(channel=channel)["members"]) == {"U0ANA", "U0BEN", emulator.bot_user_id}
    sent = client.chat_postMessage(channel=channel, text="Meet your pair")
    assert [m["text"] for m in client.conversations_history(channel=channel)["messages"]] == ["Meet your pair"]
    assert sent["channel"] == channel
    listed = client.conversations_list(types="mpim")["channels"]
    assert [c["id"] for c in listed] == [channel]
    assert client.conversations_open(users="U0ANA").data["channel"]["id"] != channel  # a 1:1 DM is another


def test_group_dm_errors(client):
    assert api_error(client.conversations_open, users="U0ANA,U0NOBODY").response["error"] == "user_not_found"
    assert api_error(client.conversations_open, users="U0ANA,U0GONE").response["error"] == "user_disabled"
    nine = ",".join(f"U0X{i}" for i in range(9))
    assert api_error(client.conversations_open, users=nine).response["error"] == "too_many_users"


def test_history_pages_newest_first_with_cursors(client, emulator):
    channel = emulator.ensure_dm("U0ANA")
    for i in range(25):
        client.chat_postMessage(channel=channel, text=f"m{i}")
    seen, cursor, pages = [], None, 0
    while True:
        response = client.conversations_history(channel=channel, limit=10, cursor=cursor)
        pages += 1
        seen += [m["text"] for m in response["messages"]]
        assert response["has_more"] is (pages < 3)
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    assert pages == 3
    assert seen == [f"m{i}" for i in reversed(range(25))]


def test_history_window_with_oldest_latest_and_inclusive(client, emulator):
    channel = emulator.ensure_dm("U0ANA")
    stamps = [client.chat_postMessage(channel=channel, text=f"m{i}")["ts"] for i in range(5)]
    window = client.conversations_history(channel=channel, oldest=stamps[1], latest=stamps[3])["messages"]
    assert [m["text"] for m in window] == ["m2"]
    window = client.conversations_history(channel=channel, oldest=stamps[1], latest=stamps[3], inclusive=True)
    assert [m["text"] for m in window["messages"]] == ["m3", "m2", "m1"]


def test_history_of_unknown_channel(client):
    assert api_error(client.conversations_history, channel="C0NOPE").response["error"] == "channel_not_found"


def test_members_paginate(client, emulator):
    people = [f"U0P{i:03d}" for i in range(7)]
    for person in people:
        emulator.add_user(person, name=person.lower())
    channel = emulator.add_channel("crowd", members=people)
    collected, cursor = [], None
    while True:
        page = client.conversations_members(channel=channel, limit=3, cursor=cursor)
        collected += page["members"]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert collected == [*people, "U0SPROUTBOT"]


def test_conversations_info_for_a_channel_and_a_dm(client, emulator):
    channel = emulator.add_channel("general", members=["U0ANA"])
    info = client.conversations_info(channel=channel, include_num_members=True)["channel"]
    assert info["name"] == "general" and info["is_channel"] is True and info["num_members"] == 2
    dm = client.conversations_info(channel=emulator.ensure_dm("U0ANA"))["channel"]
    assert dm["is_im"] is True and dm["user"] == "U0ANA"


# -- users -------------------------------------------------------------------------------------------


def test_users_info_has_the_zone_label_and_offset_for_the_emulator_time(client, emulator, clock):
    clock.now = 1_798_761_600.0  # 2027-01-01: winter in Europe and New York
    ana = client.users_info(user="U0ANA")["user"]
    assert (ana["tz"], ana["tz_label"], ana["tz_offset"]) == ("Europe/Berlin", "Central European Time", 3600)
    clock.now = 1_814_400_000.0  # 2027-07-01: summer time
    ben = client.users_info(user="U0BEN")["user"]
    assert (ben["tz_label"], ben["tz_offset"]) == ("Eastern Daylight Time", -4 * 3600)
    assert ben["profile"]["email"] == "ben@example.com" and ben["real_name"] == "Ben Okafor"


def test_users_info_of_nobody_is_user_not_found(client):
    assert api_error(client.users_info, user="U0NOBODY").response["error"] == "user_not_found"


def test_users_list_paginates_and_flags_bots_and_deactivated_people(client):
    members, cursor = [], None
    while True:
        page = client.users_list(limit=2, cursor=cursor)
        members += page["members"]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    by_id = {m["id"]: m for m in members}
    assert set(by_id) == {"U0SPROUTBOT", "USLACKBOT", "U0ANA", "U0BEN", "U0GONE"}
    assert by_id["U0SPROUTBOT"]["is_bot"] is True
    assert by_id["U0GONE"]["deleted"] is True and by_id["U0ANA"]["deleted"] is False


def test_lookup_by_email(client):
    assert client.users_lookupByEmail(email="ANA@example.com")["user"]["id"] == "U0ANA"
    assert (
        api_error(client.users_lookupByEmail, email="who@example.com").response["error"] == "users_not_found"
    )


# -- user groups --------------------------------------------------------------------------------------


def test_usergroups_users_list_and_its_errors(client, emulator):
    group = emulator.add_usergroup("security-champions", users=["U0ANA", "U0BEN"])
    assert group.startswith("S")
    assert client.usergroups_users_list(usergroup=group).data == {"ok": True, "users": ["U0ANA", "U0BEN"]}
    assert api_error(client.usergroups_users_list, usergroup="S0NOPE").response["error"] == "no_such_subteam"
    old = emulator.add_usergroup("old-group", users=["U0ANA"], disabled=True)
    assert api_error(client.usergroups_users_list, usergroup=old).response["error"] == "no_such_subteam"
    assert client.usergroups_users_list(usergroup=old, include_disabled=True)["users"] == ["U0ANA"]
    emulator.set_usergroups_plan(False)
    assert api_error(client.usergroups_users_list, usergroup=group).response["error"] == "plan_upgrade_required"


def test_usergroups_list_finds_a_group_by_handle_and_a_change_reports_its_delta(client, emulator):
    group = emulator.add_usergroup("security-champions", users=["U0ANA"])
    emulator.add_usergroup("old-group", disabled=True)
    listed = client.usergroups_list(include_count=True)["usergroups"]
    assert [(g["id"], g["handle"], g["user_count"]) for g in listed] == [(group, "security-champions", 1)]
    assert "users" not in listed[0]
    change = emulator.change_usergroup(group, add=["U0BEN", "U0ANA"], remove=["U0GONE"])
    assert (change["added_users"], change["removed_users"]) == (["U0BEN"], [])
    assert change["date_update"] > change["date_previous_update"]
    assert client.usergroups_users_list(usergroup=group)["users"] == ["U0ANA", "U0BEN"]
    assert len(client.usergroups_list(include_disabled=True)["usergroups"]) == 2


# -- response URLs ------------------------------------------------------------------------------------


def post_json(url: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_response_url_defaults_to_an_ephemeral_message(emulator):
    channel = emulator.ensure_dm("U0ANA")
    url = emulator.issue_response_url("U0ANA", channel)
    assert post_json(url, {"text": "only you"}) == (200, {"ok": True})
    assert [e["text"] for e in emulator.ephemerals("U0ANA")] == ["only you"]
    assert emulator.ephemerals("U0ANA")[0]["source"] == "response_url"


def test_response_url_in_channel_posts_a_message(emulator):
    channel = emulator.add_channel("team", members=["U0ANA"])
    url = emulator.issue_response_url("U0ANA", channel)
    post_json(url, {"text": "for everyone", "response_type": "in_channel"})
    assert [m["text"] for m in emulator.messages(channel)] == ["for everyone"]


def test_response_url_replaces_and_deletes_the_original(client, emulator):
    sent = client.chat_postMessage(channel="U0ANA", text="question")
    url = emulator.issue_response_url("U0ANA", sent["channel"], message_ts=sent["ts"])
    post_json(url, {"replace_original": True, "text": "answered"})
    assert [m["text"] for m in emulator.dm_messages("U0ANA")] == ["answered"]
    post_json(url, {"delete_original": True})
    assert emulator.dm_messages("U0ANA") == []


def test_response_url_works_five_times(emulator):
    url = emulator.issue_response_url("U0ANA", emulator.ensure_dm("U0ANA"))
    for i in range(5):
        assert post_json(url, {"text": str(i)})[0] == 200
    assert post_json(url, {"text": "sixth"}) == (404, {"ok": False, "error": "used_url"})
