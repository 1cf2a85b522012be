"""The fan-out's Web API client against answers Slack (or a proxy in front of it) may give."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web

from bot.messenger import SlackMessenger
from scheduler.sending import OutgoingMessage, SendError, SentMessage


async def exchange(handler, message: OutgoingMessage):
    """One send through a local HTTP server answering with ``handler``; the result and the request seen."""
    seen: list[dict] = []

    async def answer(request: web.Request) -> web.StreamResponse:
        seen.append(await request.json())
        return handler()

    app = web.Application()
    app.router.add_post("/api/chat.postMessage", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", port).start()
    messenger = SlackMessenger(token="xoxb-test", base_url=f"http://127.0.0.1:{port}/api/")
    try:
        try:
            return await messenger.send(message), seen
        except SendError as exc:
            return exc, seen
    finally:
        await messenger.aclose()
        await runner.cleanup()


MESSAGE = OutgoingMessage(channel="U0ANA", text="Zoë's lesson", blocks=[{"type": "section", "text": {
    "type": "mrkdwn", "text": "Café — naïve &lt;!channel&gt;"}}], metadata={"event_type": "sprout_delivery",
                                                                         "event_payload": {"outbox_id": 7}})


def test_a_message_goes_out_as_json_and_slacks_answer_is_read():
    answer = {"ok": True, "channel": "D0ANA", "ts": "1764495000.000100",
              "message": {"text": "Zoë's lesson", "blocks": MESSAGE.blocks, "metadata": MESSAGE.metadata}}
    sent, seen = asyncio.run(exchange(lambda: web.json_response(answer), MESSAGE))
    assert sent == SentMessage(channel="D0ANA", ts="1764495000.000100")
    body = seen[0]
    assert (body["channel"], body["text"], body["blocks"], body["metadata"]) == (
        "U0ANA", "Zoë's lesson", MESSAGE.blocks, MESSAGE.metadata)


def test_a_proxys_html_error_page_is_an_ambiguous_failure_not_a_crash():
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    failed, _ = asyncio.run(exchange(lambda: web.Response(status=502, text=page, content_type="text/html"), MESSAGE))
    assert isinstance(failed, SendError)
    assert failed.ambiguous and not failed.permanent and failed.reason == "http_502"


@pytest.mark.parametrize("body", ["{not json", "ok", '{"ok": true, "chan'])
def test_an_answer_that_cannot_be_read_may_still_have_posted_the_message(body):
    failed, _ = asyncio.run(exchange(lambda: web.Response(status=200, text=body, content_type="application/json"),
                                     MESSAGE))
    assert isinstance(failed, SendError)
    # Looked up in the DM's history before it is sent again, never sent blindly a second time.
    assert failed.ambiguous and not failed.permanent and not failed.rate_limited
    assert failed.reason == "unreadable answer (HTTP 200)"


def test_slacks_errors_keep_their_names():
    answer = {"ok": False, "error": "account_inactive"}
    failed, _ = asyncio.run(exchange(lambda: web.json_response(answer), MESSAGE))
    assert isinstance(failed, SendError) and failed.permanent and failed.reason == "account_inactive"
