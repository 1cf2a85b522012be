"""Modals and the Home tab: trigger ids that expire, the view stack, hashes, validation."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def modal(title: str = "Quiz", **extra) -> dict:
    return {
        "type": "modal",
        "callback_id": "quiz",
        "title": plain(title),
        "submit": plain("Send"),
        "blocks": [
            {
                "type": "input",
                "block_id": "answer",
                "label": plain("Your answer"),
                "element": {"type": "plain_text_input", "action_id": "text"},
            }
        ],
        **extra,
    }


def home(text: str = "Welcome") -> dict:
    return {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def error_of(call, **kwargs) -> dict:
    with pytest.raises(SlackApiError) as caught:
        call(**kwargs)
    return caught.value.response.data


def test_views_open_with_a_fresh_trigger_opens_the_modal_for_its_user(client, emulator):
    trigger = emulator.issue_trigger_id("U0ANA")
    view = client.views_open(trigger_id=trigger, view=modal(private_metadata="lesson=7"))["view"]
    assert view["id"].startswith("V") and view["type"] == "modal" and view["hash"]
    assert view["state"] == {"values": {}} and view["private_metadata"] == "lesson=7"
    assert view["root_view_id"] == view["id"] and view["previous_view_id"] is None
    stack = emulator.open_views("U0ANA")
    assert [v["id"] for v in stack] == [view["id"]]
    assert stack[0]["callback_id"] == "quiz" and stack[0]["blocks"][0]["block_id"] == "answer"
    assert emulator.open_views("U0BEN") == []


def test_a_trigger_expires_after_three_seconds_of_emulator_time(client, emulator, clock):
    trigger = emulator.issue_trigger_id("U0ANA")
    clock.advance(3.5)
    assert error_of(client.views_open, trigger_id=trigger, view=modal())["error"] == "expired_trigger_id"


def test_a_trigger_within_three_seconds_still_works(client, emulator, clock):
    trigger = emulator.issue_trigger_id("U0ANA")
    clock.advance(2.9)
    assert client.views_open(trigger_id=trigger, view=modal())["ok"]


def test_an_unknown_trigger_is_invalid_and_a_used_one_is_exchanged(client, emulator):
    assert (
        error_of(client.views_open, trigger_id="123.456.abc", view=modal())["error"] == "invalid_trigger_id"
    )
    trigger = emulator.issue_trigger_id("U0ANA")
    client.views_open(trigger_id=trigger, view=modal())
    assert error_of(client.views_open, trigger_id=trigger, view=modal())["error"] == "exchanged_trigger_id"


def test_an_invalid_view_is_invalid_arguments_with_pointers(client, emulator):
    data = error_of(
        client.views_open, trigger_id=emulator.issue_trigger_id("U0ANA"), view=modal(title="x" * 25)
    )
    assert data["error"] == "invalid_arguments"
    assert data["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]


def test_push_stacks_views_up_to_three(client, emulator):
    root = client.views_open(trigger_id=emulator.issue_trigger_id("U0ANA"), view=modal("One"))["view"]
    second = client.views_push(trigger_id=emulator.issue_trigger_id("U0ANA"), view=modal("Two"))["view"]
    assert second["previous_view_id"] == root["id"] and second["root_view_id"] == root["id"]
    client.views_push(trigger_id=emulator.issue_trigger_id("U0ANA"), view=modal("Three"))
    assert [v["title"]["text"] for v in emulator.open_views("U0ANA")] == ["One", "Two", "Three"]
    data = error_of(client.views_push, trigger_id=emulator.issue_trigger_id("U0ANA"), view=modal("Four"))
    assert data["error"] == "push_limit_reached"


def test_update_by_view_id_checks_the_hash(client, emulator):
    view = client.views_open(trigger_id=emulator.issue_trigger_id("U0ANA"), view=modal("Before"))["view"]
    updated = client.views_update(view_id=view["id"], hash=view["hash"], view=modal("After"))["view"]
    assert updated["id"] == view["id"] and updated["hash"] != view["hash"]
    assert emulator.open_views("U0ANA")[0]["title"]["text"] == "After"
    data = error_of(client.views_update, view_id=view["id"], hash=view["hash"], view=modal("Stale"))
    assert data["error"] == "hash_conflict"


def test_update_by_external_id(client, emulator):
    client.views_open(
        trigger_id=emulator.issue_trigger_id("U0ANA"), view=modal("Before", external_id="quiz-7")
    )
    client.views_update(external_id="quiz-7", view=modal("After", external_id="quiz-7"))
    assert emulator.open_views("U0ANA")[0]["title"]["text"] == "After"
    assert error_of(client.views_update, external_id="nope", view=modal())["error"] == "not_found"


def test_update_keeps_what_the_person_typed_in_surviving_blocks(client, emulator):
    view = client.views_open(trigger_id=emulator.issue_trigger_id("U0ANA"), view=modal())["view"]
    emulator.set_view_state(view["id"], "answer", "text", {"type": "plain_text_input", "value": "draft"})
    client.views_update(view_id=view["id"], view=modal("Still typing"))
    assert emulator.open_views("U0ANA")[0]["state"]["values"]["answer"]["text"]["value"] == "draft"


def test_publish_sets_and_replaces_the_home_tab(client, emulator):
    first = client.views_publish(user_id="U0ANA", view=home("Hi Ana"))["view"]
    assert first["type"] == "home"
    assert emulator.home_view("U0ANA")["blocks"][0]["text"]["text"] == "Hi Ana"
    second = client.views_publish(user_id="U0ANA", view=home("Updated"), hash=first["hash"])["view"]
    assert second["id"] == first["id"]
    assert emulator.home_view("U0ANA")["blocks"][0]["text"]["text"] == "Updated"
    assert (
        error_of(client.views_publish, user_id="U0ANA", view=home("x"), hash=first["hash"])["error"]
        == "hash_conflict"
    )
    assert emulator.home_view("U0BEN") is None


def test_publish_refuses_a_modal_and_a_home_tab_over_100_blocks(client):
    assert error_of(client.views_publish, user_id="U0ANA", view=modal())["error"] == "invalid_arguments"
    huge = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    data = error_of(client.views_publish, user_id="U0ANA", view=huge)
    assert data["response_metadata"]["messages"] == [
        "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"
    ]


def test_publish_for_an_unknown_user(client):
    assert error_of(client.views_publish, user_id="U0NOBODY", view=home())["error"] == "user_not_found"
