"""The driver plays Slack towards a real Bolt app served over HTTP, which calls the emulator back."""

from __future__ import annotations

import json
import threading
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from sandbox.driver import SlackDriver
from tests.sandbox.conftest import TOKEN

SECRET = "0123456789abcdef0123456789abcdef"


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def option(value: str) -> dict:
    return {"text": plain(value.upper()), "value": value}


START_BLOCKS = [
    {"type": "section", "block_id": "intro", "text": {"type": "mrkdwn", "text": "Ready for *Phishing 101*?"}},
    {
        "type": "actions",
        "block_id": "go",
        "elements": [
            {
                "type": "button",
                "action_id": "start",
                "text": plain("Start"),
                "value": "pack-1",
                "style": "primary",
            },
            {
                "type": "static_select",
                "action_id": "level",
                "placeholder": plain("Level"),
                "options": [option("easy"), option("hard")],
            },
        ],
    },
]

QUIZ = {
    "type": "modal",
    "callback_id": "quiz",
    "notify_on_close": True,
    "title": plain("Quiz"),
    "submit": plain("Answer"),
    "close": plain("Cancel"),
    "blocks": [
        {
            "type": "input",
            "block_id": "answer",
            "label": plain("Which link is safe?"),
            "element": {
                "type": "radio_buttons",
                "action_id": "choice",
                "options": [option("a"), option("b")],
            },
        },
        {
            "type": "input",
            "block_id": "note",
            "optional": True,
            "label": plain("Anything to add?"),
            "element": {"type": "plain_text_input", "action_id": "text"},
        },
    ],
}

THANKS = {
    "type": "modal",
    "title": plain("Thanks"),
    "blocks": [{"type": "section", "text": plain("Well done")}],
}


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        return None


class Served:
    """A WSGI app on a free loopback port, in a background thread."""

    def __init__(self, app) -> None:
        self.httpd = make_server(
            "127.0.0.1", 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/slack/events"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def seen() -> dict:
    return {"messages": [], "closed": [], "joined": [], "groups": []}


@pytest.fixture
def bolt(emulator, seen):
    app = App(token=TOKEN, signing_secret=SECRET, client=WebClient(base_url=emulator.api_url, token=TOKEN))

    @app.command("/learn")
    def learn(ack, command, respond, say, client):
        text = command["text"]
        if text == "hello":
            ack(f"Hello <@{command['user_id']}>!")
            return
        ack()
        if text.startswith("enroll"):
            say(text="Ready?", blocks=START_BLOCKS)
        elif text == "quiz":
            client.views_open(trigger_id=command["trigger_id"], view=QUIZ)
        elif text == "share":
            respond(text="Sprout is great", response_type="in_channel")

    @app.action("start")
    def start(ack, body, respond):
        ack()
        respond(replace_original=True, text=f"Started {body['actions'][0]['value']}")

    @app.action("level")
    def level(ack, body, client):
        ack()
        picked = body["actions"][0]["selected_option"]["value"]
        client.chat_postMessage(channel=body["channel"]["id"], text=f"Level set to {picked}")

    @app.view("quiz")
    def quiz(ack, view):
        answer = view["state"]["values"]["answer"]["choice"]["selected_option"]
        if answer is None or answer["value"] != "b":
            ack(response_action="errors", errors={"answer": "Not quite - look at the domain."})
            return
        ack(response_action="update", view=THANKS)

    @app.view_closed("quiz")
    def quiz_closed(ack, body):
        ack()
        seen["closed"].append(body["view"]["id"])

    @app.event("app_home_opened")
    def home(event, client):
        client.views_publish(
            user_id=event["user"],
            view={"type": "home", "blocks": [{"type": "section", "text": plain(f"Hi {event['user']}")}]},
        )

    @app.event("message")
    def on_message(event, request):
        seen["messages"].append((event["text"], (request.headers.get("x-slack-retry-num") or [None])[0]))

    @app.event("member_joined_channel")
    def joined(event):
        seen["joined"].append((event["user"], event["channel"]))

    @app.event("subteam_members_changed")
    def group_changed(event):
        seen["groups"].append(event)

    served = Served(SlackRequestHandler(app))
    yield served
    served.stop()


@pytest.fixture
def driver(emulator, bolt) -> SlackDriver:
    drv = SlackDriver(emulator=emulator, request_url=bolt.url, signing_secret=SECRET)
    yield drv
    drv.close()


@pytest.fixture
def capture():
    """Records what arrives and answers 200 with an empty body, like an app that only acks."""
    received: list[dict] = []

    def app(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["Content-Type"] = environ.get("CONTENT_TYPE", "")
        received.append({"body": body, "headers": headers})
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    served = Served(app)
    served.received = received
    yield served
    served.stop()


def payload_of(request: dict) -> dict:
    return json.loads(parse_qs(request["body"].decode())["payload"][0])


# -- signing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "valid"), [("valid", True), ("bad", False), ("stale", False), ("missing", False)]
)
def test_signatures_verify_with_slack_sdks_verifier(emulator, capture, mode, valid):
    drv = SlackDriver(emulator=emulator, request_url=capture.url, signing_secret=SECRET)
    drv.post_raw(b'{"type":"event_callback"}', {"Content-Type": "application/json"}, signature=mode)
    request = capture.received[-1]
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(request["body"], request["headers"]) is valid


def test_every_driver_request_is_signed(emulator, capture):
    drv = SlackDriver(emulator=emulator, request_url=capture.url, signing_secret=SECRET)
    drv.command("U0ANA", "/learn", "hello")
    drv.event({"type": "app_mention", "user": "U0ANA", "text": "hi"})
    verifier = SignatureVerifier(SECRET)
    assert all(verifier.is_valid_request(r["body"], r["headers"]) for r in capture.received)


def test_a_forged_signature_is_refused_by_bolt(driver):
    body = json.dumps({"type": "event_callback", "event": {"type": "message", "text": "x"}}).encode()
    for mode in ("bad", "stale", "missing"):
        assert driver.post_raw(body, {"Content-Type": "application/json"}, signature=mode).status == 401


# -- request shapes --------------------------------------------------------------------------------------


def test_slash_command_has_exactly_slacks_fields(emulator, capture):
    drv = SlackDriver(emulator=emulator, request_url=capture.url, signing_secret=SECRET)
    drv.command("U0ANA", "/learn", "enroll security-basics")
    request = capture.received[-1]
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    fields = parse_qs(request["body"].decode(), keep_blank_values=True)
    assert list(fields) == [
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    ]
    assert fields["channel_id"] == [emulator.dm_channel_id("U0ANA")]
    assert fields["channel_name"] == ["directmessage"] and fields["user_name"] == ["ana"]
    assert fields["text"] == ["enroll security-basics"] and fields["is_enterprise_install"] == ["false"]
    assert fields["response_url"][0].startswith(emulator.base_url + "/response/")


def test_button_click_payload_is_shaped_like_slacks(emulator, client, capture):
    drv = SlackDriver(emulator=emulator, request_url=capture.url, signing_secret=SECRET)
    sent = client.chat_postMessage(channel="U0ANA", text="Ready?", blocks=START_BLOCKS)
    message = emulator.dm_messages("U0ANA")[-1]
    drv.click("U0ANA", message, action_id="start")
    payload = payload_of(capture.received[-1])
    assert payload["type"] == "block_actions"
    assert payload["user"] == {"id": "U0ANA", "username": "ana", "name": "ana", "team_id": "T0SPROUT"}
    assert payload["container"] == {
        "type": "message",
        "message_ts": sent["ts"],
        "channel_id": sent["channel"],
        "is_ephemeral": False,
    }
    assert payload["channel"] == {"id": sent["channel"], "name": "directmessage"}
    assert payload["message"]["ts"] == sent["ts"] and payload["message"]["blocks"][1]["block_id"] == "go"
    assert payload["team"] == {"id": "T0SPROUT", "domain": "sprout-sandbox"}
    assert payload["api_app_id"] == "A0SPROUT" and payload["token"] and payload["trigger_id"]
    assert payload["response_url"].startswith(emulator.base_url + "/response/")
    assert payload["state"] == {"values": {}}
    (action,) = payload["actions"]
    assert {k: v for k, v in action.items() if k != "action_ts"} == {
        "action_id": "start",
        "block_id": "go",
        "text": plain("Start"),
        "value": "pack-1",
        "style": "primary",
        "type": "button",
    }
    assert float(action["action_ts"]) == pytest.approx(emulator.clock())


def test_click_finds_buttons_by_label_or_value(emulator, client, capture):
    drv = SlackDriver(emulator=emulator, request_url=capture.url, signing_secret=SECRET)
    client.chat_postMessage(channel="U0ANA", text="Ready?", blocks=START_BLOCKS)
    message = emulator.dm_messages("U0ANA")[-1]
    drv.click("U0ANA", message, text="Start")
    drv.click("U0ANA", message, value="pack-1")
    assert [payload_of(r)["actions"][0]["action_id"] for r in capture.received] == ["start", "start"]
    with pytest.raises(LookupError):
        drv.click("U0ANA", message, text="Nope")


def test_event_envelope_and_retry_headers(emulator, capture):
    drv = SlackDriver(emulator=emulator, request_url=capture.url, signing_secret=SECRET)
    first = drv.event({"type": "app_mention", "user": "U0ANA", "text": "hi"})
    drv.event(
        {"type": "app_mention", "user": "U0ANA", "text": "hi"},
        event_id=first.payload["event_id"],
        retry_num=1,
    )
    original, retry = capture.received
    envelope = json.loads(original["body"])
    assert envelope["type"] == "event_callback" and envelope["team_id"] == "T0SPROUT"
    assert envelope["api_app_id"] == "A0SPROUT" and envelope["event_id"].startswith("Ev")
    assert envelope["authorizations"][0]["user_id"] == "U0SPROUTBOT"
    assert envelope["is_ext_shared_channel"] is False and envelope["event_context"]
    assert isinstance(envelope["event_time"], int) and envelope["event"]["event_ts"]
    assert "X-Slack-Retry-Num" not in original["headers"]
    assert json.loads(retry["body"])["event_id"] == envelope["event_id"]
    assert retry["headers"]["X-Slack-Retry-Num"] == "1"
    assert retry["headers"]["X-Slack-Retry-Reason"] == "http_timeout"


# -- through Bolt --------------------------------------------------------------------------------------------


def test_slash_command_immediate_answer_becomes_an_ephemeral_message(driver, emulator):
    response = driver.command("U0ANA", "/learn", "hello")
    assert response.status == 200
    assert [e["text"] for e in emulator.ephemerals("U0ANA")] == ["Hello <@U0ANA>!"]


def test_slash_command_then_button_click_replaces_the_message(driver, emulator):
    assert driver.command("U0ANA", "/learn", "enroll security-basics").status == 200
    message = emulator.wait_for(lambda: emulator.dm_messages("U0ANA"))[-1]
    assert message["text"] == "Ready?" and message["blocks"][1]["elements"][0]["action_id"] == "start"
    assert driver.click("U0ANA", message, action_id="start").status == 200
    emulator.wait_for(lambda: emulator.dm_messages("U0ANA")[-1]["text"] == "Started pack-1")


def test_in_channel_response_posts_for_everyone(driver, emulator):
    channel = emulator.add_channel("learning", members=["U0ANA", "U0BEN"])
    driver.command("U0ANA", "/learn", "share", channel_id=channel)
    emulator.wait_for(lambda: [m["text"] for m in emulator.messages(channel)] == ["Sprout is great"])


def test_selecting_an_option_in_a_message(driver, emulator, client):
    client.chat_postMessage(channel="U0ANA", text="Ready?", blocks=START_BLOCKS)
    message = emulator.dm_messages("U0ANA")[-1]
    assert driver.select("U0ANA", message, "level", "hard").status == 200
    emulator.wait_for(lambda: emulator.dm_messages("U0ANA")[-1]["text"] == "Level set to hard")


def test_view_submission_errors_keep_the_modal_open_then_update_replaces_it(driver, emulator):
    driver.command("U0ANA", "/learn", "quiz")
    view = emulator.wait_for(lambda: emulator.open_views("U0ANA"))[-1]
    assert view["callback_id"] == "quiz"

    wrong = driver.submit_view("U0ANA", view, {"choice": "a"})
    assert wrong.status == 200
    assert wrong.view_errors == {"answer": "Not quite - look at the domain."}
    assert [v["id"] for v in emulator.open_views("U0ANA")] == [view["id"]]
    submitted = wrong.payload["view"]["state"]["values"]
    assert submitted["answer"]["choice"] == {"type": "radio_buttons", "selected_option": option("a")}
    assert submitted["note"]["text"] == {"type": "plain_text_input", "value": None}

    right = driver.submit_view("U0ANA", view["id"], {"answer": {"choice": "b"}, "note": {"text": "easy"}})
    assert right.view_errors is None
    (now_open,) = emulator.open_views("U0ANA")
    assert now_open["id"] == view["id"] and now_open["title"]["text"] == "Thanks"


def test_an_empty_required_input_cannot_be_submitted(driver, emulator):
    driver.command("U0ANA", "/learn", "quiz")
    view = emulator.wait_for(lambda: emulator.open_views("U0ANA"))[-1]
    with pytest.raises(ValueError, match="answer"):
        driver.submit_view("U0ANA", view, {})


def test_closing_a_view_that_asked_to_be_told(driver, emulator, seen):
    driver.command("U0ANA", "/learn", "quiz")
    view = emulator.wait_for(lambda: emulator.open_views("U0ANA"))[-1]
    assert driver.close_view("U0ANA", view).status == 200
    assert emulator.open_views("U0ANA") == []
    emulator.wait_for(lambda: seen["closed"] == [view["id"]])


def test_event_retry_reaches_bolt_with_its_retry_header(driver, emulator, seen):
    first = driver.user_message("U0ANA", None, "hello sprout")
    assert first.status == 200
    retry = driver.event(
        first.payload["event"], event_id=first.payload["event_id"], retry_num=1, retry_reason="http_timeout"
    )
    assert retry.status == 200
    emulator.wait_for(lambda: len(seen["messages"]) == 2)
    assert sorted(seen["messages"], key=lambda m: m[1] or "") == [
        ("hello sprout", None),
        ("hello sprout", "1"),
    ]
    assert emulator.dm_messages("U0ANA")[-1]["user"] == "U0ANA"


def test_app_home_opened_publishes_the_home_tab(driver, emulator):
    assert driver.app_home_opened("U0BEN").status == 200
    home = emulator.wait_for(lambda: emulator.home_view("U0BEN"))
    assert home["blocks"][0]["text"]["text"] == "Hi U0BEN"


def test_member_joined_channel_adds_the_member_and_tells_the_bot(driver, emulator, client, seen):
    channel = emulator.add_channel("newcomers")
    driver.member_joined_channel("U0BEN", channel)
    emulator.wait_for(lambda: seen["joined"] == [("U0BEN", channel)])
    assert "U0BEN" in client.conversations_members(channel=channel)["members"]


def test_subteam_members_changed_is_signed_and_carries_the_delta_as_slack_does(driver, emulator, client, seen):
    group = emulator.add_usergroup("champions", users=["U0ANA"])
    response = driver.subteam_members_changed(group, add=["U0BEN"], remove=["U0ANA"])
    assert response.status == 200
    event = emulator.wait_for(lambda: seen["groups"])[0]
    assert (event["subteam_id"], event["added_users"], event["removed_users"]) == (group, ["U0BEN"], ["U0ANA"])
    assert (event["added_users_count"], event["removed_users_count"]) == ("1", "1")
    assert event["date_update"] > event["date_previous_update"]
    assert client.usergroups_users_list(usergroup=group)["users"] == ["U0BEN"]
    assert driver.subteam_members_changed(group, add=["U0BEN"]).payload["event"]["added_users"] == []


def test_url_verification_echoes_the_challenge(driver):
    response = driver.url_verification("c0ffee")
    assert response.status == 200 and response.json() == {"challenge": "c0ffee"}


def test_clicking_in_an_ephemeral_message_replaces_it(driver, emulator, client):
    channel = emulator.ensure_dm("U0ANA")
    client.chat_postEphemeral(channel=channel, user="U0ANA", text="Ready?", blocks=START_BLOCKS)
    (ephemeral,) = emulator.ephemerals("U0ANA")
    response = driver.click("U0ANA", ephemeral, action_id="start")
    assert response.payload["container"]["is_ephemeral"] is True and "message" not in response.payload
    emulator.wait_for(lambda: [e["text"] for e in emulator.ephemerals("U0ANA")] == ["Started pack-1"])


def test_clicking_in_the_home_tab_sends_the_view(emulator, client, capture):
    drv = SlackDriver(emulator=emulator, request_url=capture.url, signing_secret=SECRET)
    home = {"type": "home", "blocks": START_BLOCKS}
    view_id = client.views_publish(user_id="U0BEN", view=home)["view"]["id"]
    drv.click("U0BEN", emulator.home_view("U0BEN"), action_id="start")
    payload = payload_of(capture.received[-1])
    assert payload["container"] == {"type": "view", "view_id": view_id}
    assert payload["view"]["id"] == view_id and payload["view"]["type"] == "home"
    assert "response_url" not in payload and "channel" not in payload


def test_click_with_a_value_picks_from_an_overflow_menu(emulator, client, capture):
    drv = SlackDriver(emulator=emulator, request_url=capture.url, signing_secret=SECRET)
    overflow = {"type": "overflow", "action_id": "more", "options": [option("snooze"), option("skip")]}
    client.chat_postMessage(channel="U0ANA", text="x", blocks=[{"type": "actions", "elements": [overflow]}])
    drv.click("U0ANA", emulator.dm_messages("U0ANA")[-1], action_id="more", value="skip")
    (action,) = payload_of(capture.received[-1])["actions"]
    assert action["type"] == "overflow" and action["selected_option"] == option("skip")


def test_a_choice_inside_a_modal_input_is_kept_until_submission(driver, emulator):
    driver.command("U0ANA", "/learn", "quiz")
    view = emulator.wait_for(lambda: emulator.open_views("U0ANA"))[-1]
    assert driver.select("U0ANA", view, "choice", "b") is None  # no dispatch_action: Slack sends nothing yet
    assert emulator.open_views("U0ANA")[0]["state"]["values"]["answer"]["choice"][
        "selected_option"
    ] == option("b")
    assert driver.submit_view("U0ANA", view, {}).view_errors is None
    assert emulator.open_views("U0ANA")[0]["title"]["text"] == "Thanks"


def test_selections_in_a_message_are_reported_in_its_state(emulator, client, capture):
    drv = SlackDriver(emulator=emulator, request_url=capture.url, signing_secret=SECRET)
    client.chat_postMessage(channel="U0ANA", text="Ready?", blocks=START_BLOCKS)
    message = emulator.dm_messages("U0ANA")[-1]
    drv.select("U0ANA", message, "level", "easy")
    drv.click("U0ANA", message, action_id="start")
    state = payload_of(capture.received[-1])["state"]["values"]
    assert state == {"go": {"level": {"type": "static_select", "selected_option": option("easy")}}}
