"""Slack's per-method rate tiers, thread reads with metadata, and failures after the call took effect."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.emulator import METHOD_TIERS, TIER_PER_MINUTE, SlackEmulator
from tests.sandbox.conftest import TOKEN


def status_of(call, **kwargs) -> int:
    try:
        call(**kwargs)
    except SlackApiError as exc:
        assert exc.response["error"] == "ratelimited"
        assert int(exc.response.headers["Retry-After"]) >= 1
        return exc.response.status_code
    return 200


def test_history_and_replies_are_held_to_tier_3_by_default(client, emulator):
    parent = client.chat_postMessage(channel="U0ANA", text="lesson")
    channel = parent["channel"]
    assert emulator.rate_limits() == {"conversations.history": 50.0, "conversations.replies": 50.0}
    history = [status_of(client.conversations_history, channel=channel) for _ in range(51)]
    assert history == [200] * 50 + [429]  # a minute's allowance at once, then no more
    replies = [status_of(client.conversations_replies, channel=channel, ts=parent["ts"]) for _ in range(51)]
    assert replies == [200] * 50 + [429]  # each method has its own allowance
    assert status_of(client.users_info, user="U0ANA") == 200  # Tier 4, not enforced by default


def test_every_tier_can_be_enforced_with_a_small_burst(clock):
    with SlackEmulator(bot_token=TOKEN, clock=clock, rate_tiers=None) as emulator:
        emulator.add_user("U0ANA", name="ana")
        assert emulator.rate_limits() == {}
        emulator.set_rate_tiers(burst=2)
        limits = emulator.rate_limits()
        assert limits["conversations.open"] == limits["conversations.history"] == TIER_PER_MINUTE[3]
        assert limits["users.list"] == TIER_PER_MINUTE[2] and limits["views.publish"] == TIER_PER_MINUTE[4]
        assert set(limits) == set(METHOD_TIERS)
        client = WebClient(base_url=emulator.api_url, token=TOKEN)
        assert [status_of(client.conversations_open, users="U0ANA") for _ in range(3)] == [200, 200, 429]
        assert status_of(client.auth_test) == 200  # a special-tier method is not held to a tier
        with pytest.raises(ValueError):
            emulator.set_rate_tiers(["chat.postMessage"])


def test_thread_replies_carry_metadata_when_asked_and_paginate_like_slack(client):
    parent = client.chat_postMessage(channel="U0ANA", text="lesson")
    channel = parent["channel"]
    for n in range(5):
        metadata = {"event_type": "sprout_delivery", "event_payload": {"outbox_id": n}}
        client.chat_postMessage(channel=channel, text=f"reminder {n}", thread_ts=parent["ts"], metadata=metadata)
    plain = client.conversations_replies(channel=channel, ts=parent["ts"])["messages"]
    assert all("metadata" not in m for m in plain)

    pages, cursor = [], None
    while True:
        page = client.conversations_replies(channel=channel, ts=parent["ts"], include_all_metadata=True, limit=2,
                                            cursor=cursor)
        pages.append([m["text"] for m in page["messages"]])
        if page["messages"][-1]["text"].startswith("reminder"):
            assert page["messages"][-1]["metadata"]["event_type"] == "sprout_delivery"
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] is bool(cursor)
        if not cursor:
            break
    # The parent opens the first page only; the replies follow oldest first.
    assert pages == [["lesson", "reminder 0"], ["reminder 1", "reminder 2"], ["reminder 3", "reminder 4"]]
    # A reply's own ts names the same thread.
    reply_ts = plain[3]["ts"]
    again = client.conversations_replies(channel=channel, ts=reply_ts, include_all_metadata=True)["messages"]
    assert [m["metadata"]["event_payload"]["outbox_id"] for m in again[1:]] == [0, 1, 2, 3, 4]
    # ... and history never shows thread replies.
    assert [m["text"] for m in client.conversations_history(channel=channel)["messages"]] == ["lesson"]


def test_a_share_of_the_500s_can_come_after_the_message_was_posted(clock):
    with SlackEmulator(bot_token=TOKEN, clock=clock) as emulator:
        emulator.add_user("U0ANA", name="ana")
        emulator.set_failure_rate(0.5, status=500, methods=["chat.postMessage"], seed=7, after_processing=0.5)
        client = WebClient(base_url=emulator.api_url, token=TOKEN)
        answered = 0
        for n in range(200):
            try:
                client.chat_postMessage(channel="U0ANA", text=str(n))
                answered += 1
            except SlackApiError as exc:
                assert exc.response.status_code == 500
        failed = 200 - answered
        posted_anyway = len(emulator.dm_messages("U0ANA")) - answered
        assert 70 < failed < 130
        assert 0.3 * failed < posted_anyway < 0.7 * failed  # about half of the failures took effect
        with pytest.raises(ValueError):
            emulator.set_failure_rate(0.1, after_processing=1.5)
