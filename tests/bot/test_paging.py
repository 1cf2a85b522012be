"""Every cursor loop over Slack stops at a bound on pages and on time, says so once, and never acts on
part of a list. Against the emulator answering "another page follows" for ever."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

import bot.paging
from bot import admin, announcements, cohorts, prompts
from bot.messenger import MAX_LOOKUP_PAGES, SlackMessenger
from bot.paging import TooManyPages, bounded_pages
from sandbox.emulator import SlackEmulator
from scheduler.sending import SendError


def test_the_loop_stops_at_its_page_bound_and_says_so(caplog):
    pages = []
    with caplog.at_level(logging.WARNING, logger="bot.paging"), pytest.raises(TooManyPages):
        for page in bounded_pages("users.list", max_pages=4):
            pages.append(page.number)
            page.next("more")
    assert pages == [1, 2, 3, 4]
    assert [r.getMessage() for r in caplog.records if "users.list: stopped after 4 pages" in r.getMessage()]


def test_the_loop_stops_at_its_time_bound():
    now = [0.0]
    pages = []
    with pytest.raises(TooManyPages):
        for page in bounded_pages("conversations.members", max_seconds=60, monotonic=lambda: now[0]):
            pages.append(page.number)
            now[0] += 25  # each page takes 25 s (a rate limit stretches it)
            page.next("more")
    assert pages == [1, 2, 3]


def test_a_listing_that_ends_is_read_whole():
    answers = {None: "b", "b": ""}
    asked = []
    for page in bounded_pages("short"):
        asked.append(page.cursor)
        if not page.next(answers[page.cursor]):
            break
    assert asked == [None, "b"]


@pytest.fixture
def endless():
    with SlackEmulator(bot_token="xoxb-pages", rate_tiers=None) as emulator:
        for i in range(3):
            emulator.add_user(f"U0P{i:04d}", name=f"Person {i}")
        yield emulator


@pytest.fixture
def small_bound(monkeypatch):
    monkeypatch.setattr(bot.paging, "MAX_PAGES", 5)


@pytest.mark.parametrize(("method", "listing"), [
    ("users.list", lambda client, emulator: list(admin.members(client))),
    ("users.list", lambda client, emulator: cohorts.SlackDirectory(client).users_named("Person 1")),
    ("conversations.members", lambda client, emulator: announcements.SlackDirectory(client).members(
        emulator.add_channel("general", members=["U0P0000"]))),
    ("conversations.members", lambda client, emulator: cohorts.SlackDirectory(client).channel_members(
        emulator.add_channel("team", members=["U0P0000"]))),
    ("conversations.list", lambda client, emulator: prompts.SlackChannels(client).by_name("nowhere")),
], ids=["roster users.list", "cohort users.list", "announcement members", "cohort members", "channel by name"])
def test_every_directory_loop_is_bounded(endless, small_bound, caplog, method, listing):
    client = WebClient(token=endless.bot_token, base_url=endless.api_url)
    endless.set_endless_pages(method)
    with caplog.at_level(logging.WARNING, logger="bot.paging"), pytest.raises(TooManyPages):
        listing(client, endless)
    assert len(endless.calls(method)) == 5
    assert sum("the list is incomplete" in r.getMessage() for r in caplog.records) == 1


def test_a_look_up_reads_a_few_pages_then_leaves_the_message_in_doubt(endless):
    client = WebClient(token=endless.bot_token, base_url=endless.api_url)
    channel = client.conversations_open(users="U0P0000")["channel"]["id"]
    client.chat_postMessage(channel=channel, text="not the one")
    endless.set_endless_pages("conversations.history")
    messenger = SlackMessenger(token=endless.bot_token, base_url=endless.api_url)

    async def look() -> None:
        try:
            await messenger.find_sent(channel, outbox_id=99, since=datetime.now(UTC) - timedelta(minutes=5))
        finally:
            await messenger.aclose()

    with pytest.raises(SendError) as doubt:
        asyncio.run(look())
    assert doubt.value.ambiguous, "unread pages: maybe in Slack, so asked again later, never sent blindly"
    assert len(endless.calls("conversations.history")) == MAX_LOOKUP_PAGES
