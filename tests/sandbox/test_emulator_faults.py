"""Fault injection: rate limits answered as Slack answers them, server errors, latency, counters."""

from __future__ import annotations

import contextlib
import time
import urllib.error
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from sandbox.emulator import SlackEmulator
from tests.sandbox.conftest import TOKEN


def raises(call, **kwargs) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call(**kwargs)
    return caught.value


def test_over_the_method_limit_is_429_with_an_integer_retry_after(client, emulator):
    emulator.set_rate_limit("chat.postMessage", 2)
    client.chat_postMessage(channel="U0ANA", text="1")
    client.chat_postMessage(channel="U0ANA", text="2")
    error = raises(client.chat_postMessage, channel="U0ANA", text="3")
    assert error.response.status_code == 429
    assert error.response["error"] == "ratelimited"
    retry_after = error.response.headers["Retry-After"]
    assert retry_after.isdigit() and int(retry_after) >= 1
    assert client.auth_test()["ok"]  # other methods are not affected
    assert emulator.stats()["ratelimited"] == 1


def test_rate_limit_retry_handler_recovers(emulator):
    emulator.set_rate_limit("chat.postMessage", 60, burst=1)  # one a second
    client = WebClient(
        base_url=emulator.api_url, token=TOKEN, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)]
    )
    client.chat_postMessage(channel="U0ANA", text="first")
    started = time.monotonic()
    assert client.chat_postMessage(channel="U0ANA", text="second")["ok"]
    assert time.monotonic() - started >= 1.0
    assert [c["http_status"] for c in emulator.calls("chat.postMessage")] == [200, 429, 200]
    assert [m["text"] for m in emulator.dm_messages("U0ANA")] == ["first", "second"]


def test_a_star_limit_covers_every_method(client, emulator):
    emulator.set_rate_limit("*", 1)
    client.auth_test()
    assert raises(client.users_info, user="U0ANA").response.status_code == 429
    emulator.set_rate_limit("*", None)
    assert client.users_info(user="U0ANA")["ok"]


def test_channel_limit_allows_a_short_burst_then_one_a_second(client, emulator):
    emulator.set_channel_rate_limit(per_second=1.0, burst=3)
    for i in range(3):
        client.chat_postMessage(channel="U0ANA", text=str(i))
    error = raises(client.chat_postMessage, channel="U0ANA", text="too fast")
    assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "1"
    assert client.chat_postMessage(channel="U0BEN", text="another channel")["ok"]


def test_failure_rate_of_one_answers_500_with_a_json_body(client, emulator):
    emulator.set_failure_rate(1.0, status=500)
    error = raises(client.auth_test)
    assert error.response.status_code == 500 and error.response["error"] == "internal_error"
    emulator.set_failure_rate(0)
    assert client.auth_test()["ok"]


def test_a_503_comes_back_as_an_html_page_from_the_edge(emulator):
    emulator.set_failure_rate(1.0, status=503)
    request = urllib.request.Request(
        emulator.api_url + "auth.test", data=b"", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 503
    assert caught.value.headers["Content-Type"] == "text/html"
    assert b"503 Service Unavailable" in caught.value.read()


def test_failures_are_deterministic_with_a_seed_and_limited_to_methods():
    def pattern() -> list[int]:
        with SlackEmulator(bot_token=TOKEN) as emu:
            emu.add_user("U0ANA", name="ana")
            emu.set_failure_rate(0.3, status=500, methods=["chat.postMessage"], seed=42)
            client = WebClient(base_url=emu.api_url, token=TOKEN)
            for i in range(30):
                with contextlib.suppress(SlackApiError):
                    client.chat_postMessage(channel="U0ANA", text=str(i))
                client.auth_test()
            assert emu.stats()["by_method_status"]["auth.test"] == {200: 30}
            return [c["http_status"] for c in emu.calls("chat.postMessage")]

    first, second = pattern(), pattern()
    assert first == second
    assert 0 < first.count(500) < 30


def test_fail_next_hits_only_the_named_method_and_only_n_times(client, emulator):
    emulator.fail_next(2, status=503, method="chat.postMessage")
    assert client.auth_test()["ok"]
    for _ in range(2):
        assert raises(client.chat_postMessage, channel="U0ANA", text="x").response.status_code == 503
    assert client.chat_postMessage(channel="U0ANA", text="x")["ok"]


def test_latency_is_added_to_every_call(client, emulator):
    emulator.set_latency(0.2)
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started >= 0.2


def test_stats_and_calls_record_everything(client, emulator):
    client.chat_postMessage(channel="U0ANA", text="x")
    raises(client.chat_postMessage, channel="C0NOPE", text="x")
    client.auth_test()
    stats = emulator.stats()
    assert stats["total"] == 3
    assert stats["by_method"] == {"chat.postMessage": 2, "auth.test": 1}
    assert stats["by_status"] == {200: 3}
    calls = emulator.calls("chat.postMessage")
    assert [(c["ok"], c["error"]) for c in calls] == [(True, None), (False, "channel_not_found")]
    assert calls[0]["params"]["text"] == "x" and "token" not in calls[0]["params"]
    assert calls[0]["at"] == emulator.clock()


def test_fail_next_with_429_looks_like_a_rate_limit(client, emulator):
    emulator.fail_next(1, status=429)
    error = raises(client.auth_test)
    assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "1"
    assert client.auth_test()["ok"]
