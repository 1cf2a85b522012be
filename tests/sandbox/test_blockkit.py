"""Block Kit rules, one limit per test: what Slack rejects, the emulator rejects with the same pointer."""

from __future__ import annotations

import pytest

from sandbox import blockkit
from sandbox.blockkit import validate_blocks, validate_view


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def section(text: str = "hello", **extra) -> dict:
    return {"type": "section", "text": mrkdwn(text), **extra}


def button(text: str = "Go", **extra) -> dict:
    return {"type": "button", "text": plain(text), "action_id": extra.pop("action_id", "go"), **extra}


def actions(*elements: dict, **extra) -> dict:
    return {"type": "actions", "elements": list(elements), **extra}


def options(n: int, *, text_len: int = 5) -> list[dict]:
    return [{"text": plain("x" * text_len), "value": f"v{i}"} for i in range(n)]


def modal(blocks: list[dict] | None = None, **extra) -> dict:
    view = {"type": "modal", "title": plain("Quiz"), "blocks": blocks if blocks is not None else [section()]}
    view.update(extra)
    return view


def assert_error(errors: list[str], message: str, pointer: str) -> None:
    expected = f"{message} [json-pointer:{pointer}]"
    assert expected in errors, f"{expected!r} not in {errors!r}"


def test_a_typical_lesson_message_is_valid():
    blocks = [
        {"type": "header", "text": plain("Phishing 101")},
        section("*What to look for*", accessory=button("More", action_id="more", value="1")),
        {"type": "divider"},
        {
            "type": "context",
            "elements": [
                mrkdwn("2 min read"),
                {"type": "image", "image_url": "https://x/y.png", "alt_text": "y"},
            ],
        },
        actions(
            button("A", action_id="answer:0", value="0"),
            button("B", action_id="answer:1", value="1", style="primary"),
        ),
        {"type": "section", "fields": [mrkdwn("*Pack*"), plain("Security")]},
        {
            "type": "image",
            "image_url": "https://example.com/a.png",
            "alt_text": "diagram",
            "title": plain("Diagram"),
        },
        {
            "type": "rich_text",
            "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "hi"}]}],
        },
    ]
    assert validate_blocks(blocks) == []


def test_message_allows_fifty_blocks_not_fifty_one():
    assert validate_blocks([{"type": "divider"}] * 50) == []
    assert_error(validate_blocks([{"type": "divider"}] * 51), "no more than 50 items allowed", "/blocks")


def test_modal_and_home_allow_a_hundred_blocks():
    assert validate_view(modal([{"type": "divider"}] * 100)) == []
    assert_error(
        validate_view(modal([{"type": "divider"}] * 101)), "no more than 100 items allowed", "/view/blocks"
    )
    home = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    assert_error(validate_view(home), "no more than 100 items allowed", "/view/blocks")


def test_unknown_block_type_is_rejected():
    assert_error(validate_blocks([{"type": "carousel"}]), "unsupported type: carousel", "/blocks/0/type")


def test_section_text_limit_is_3000():
    assert validate_blocks([section("x" * 3000)]) == []
    assert_error(
        validate_blocks([section("x" * 3001)]), "must be less than 3001 characters", "/blocks/0/text/text"
    )


def test_section_allows_ten_fields():
    fields = [plain("f")] * 11
    assert_error(
        validate_blocks([{"type": "section", "fields": fields}]),
        "no more than 10 items allowed",
        "/blocks/0/fields",
    )


def test_section_field_text_limit_is_2000():
    block = {"type": "section", "fields": [plain("ok"), mrkdwn("x" * 2001)]}
    assert_error(validate_blocks([block]), "must be less than 2001 characters", "/blocks/0/fields/1/text")


def test_section_needs_text_or_fields():
    assert_error(validate_blocks([{"type": "section"}]), "must provide text or fields", "/blocks/0")


def test_header_text_limit_is_150():
    assert validate_blocks([{"type": "header", "text": plain("x" * 150)}]) == []
    errors = validate_blocks([{"type": "header", "text": plain("x" * 151)}])
    assert_error(errors, "must be less than 151 characters", "/blocks/0/text/text")


def test_header_text_must_be_plain_text():
    errors = validate_blocks([{"type": "header", "text": mrkdwn("*bold*")}])
    assert_error(errors, "must be a valid enum value", "/blocks/0/text/type")


def test_text_objects_need_a_known_type_and_non_empty_text():
    assert_error(validate_blocks([section("")]), "must be more than 0 characters", "/blocks/0/text/text")
    block = {"type": "section", "text": {"type": "markdown", "text": "x"}}
    assert_error(validate_blocks([block]), "must be a valid enum value", "/blocks/0/text/type")


def test_button_text_limit_is_75():
    assert validate_blocks([actions(button("x" * 75))]) == []
    errors = validate_blocks([actions(button("x" * 76))])
    assert_error(errors, "must be less than 76 characters", "/blocks/0/elements/0/text/text")


def test_button_text_must_be_plain_text():
    errors = validate_blocks([actions({"type": "button", "text": mrkdwn("*Go*"), "action_id": "go"})])
    assert_error(errors, "must be a valid enum value", "/blocks/0/elements/0/text/type")


def test_button_value_limit_is_2000():
    errors = validate_blocks([actions(button(value="v" * 2001))])
    assert_error(errors, "must be less than 2001 characters", "/blocks/0/elements/0/value")


def test_button_url_limit_is_3000():
    errors = validate_blocks([actions(button(url="https://e.com/" + "a" * 3000))])
    assert_error(errors, "must be less than 3001 characters", "/blocks/0/elements/0/url")


def test_action_id_limit_is_255():
    errors = validate_blocks([actions(button(action_id="a" * 256))])
    assert_error(errors, "must be less than 256 characters", "/blocks/0/elements/0/action_id")


def test_block_id_limit_is_255():
    errors = validate_blocks([section(block_id="b" * 256)])
    assert_error(errors, "must be less than 256 characters", "/blocks/0/block_id")


def test_duplicate_block_id_is_rejected():
    errors = validate_blocks([section(block_id="same"), section(block_id="same")])
    assert_error(errors, "duplicate block_id: same", "/blocks/1/block_id")


def test_duplicate_action_id_within_a_block_is_rejected():
    errors = validate_blocks([actions(button(action_id="a"), button(action_id="a"))])
    assert_error(errors, "duplicate action_id: a", "/blocks/0/elements/1/action_id")


def test_same_action_id_in_different_blocks_is_allowed():
    assert validate_blocks([actions(button(action_id="a")), actions(button(action_id="a"))]) == []


def test_actions_block_allows_25_elements():
    elements = [button(action_id=f"b{i}") for i in range(26)]
    assert_error(validate_blocks([actions(*elements)]), "no more than 25 items allowed", "/blocks/0/elements")


def test_context_block_allows_10_elements():
    block = {"type": "context", "elements": [mrkdwn("x")] * 11}
    assert_error(validate_blocks([block]), "no more than 10 items allowed", "/blocks/0/elements")


def test_select_allows_100_options():
    menu = {"type": "static_select", "action_id": "pick", "options": options(101)}
    assert_error(
        validate_blocks([actions(menu)]), "no more than 100 items allowed", "/blocks/0/elements/0/options"
    )


def test_option_text_limit_is_75():
    menu = {"type": "static_select", "action_id": "pick", "options": options(1, text_len=76)}
    errors = validate_blocks([actions(menu)])
    assert_error(errors, "must be less than 76 characters", "/blocks/0/elements/0/options/0/text/text")


def test_option_value_limit_is_150():
    menu = {
        "type": "static_select",
        "action_id": "pick",
        "options": [{"text": plain("a"), "value": "v" * 151}],
    }
    errors = validate_blocks([actions(menu)])
    assert_error(errors, "must be less than 151 characters", "/blocks/0/elements/0/options/0/value")


def test_initial_option_must_be_one_of_the_options():
    menu = {
        "type": "static_select",
        "action_id": "pick",
        "options": options(2),
        "initial_option": {"text": plain("zzz"), "value": "nope"},
    }
    errors = validate_blocks([actions(menu)])
    assert_error(errors, "must match one of the provided options", "/blocks/0/elements/0/initial_option")


def test_unknown_element_type_is_rejected():
    errors = validate_blocks([actions({"type": "slider", "action_id": "s"})])
    assert_error(errors, "unsupported type: slider", "/blocks/0/elements/0/type")


def test_text_input_is_not_allowed_in_an_actions_block():
    errors = validate_blocks([actions({"type": "plain_text_input", "action_id": "t"})])
    assert_error(errors, "element type not allowed here: plain_text_input", "/blocks/0/elements/0/type")


@pytest.mark.parametrize(
    "element",
    [
        {"type": "static_select", "action_id": "a", "options": options(3)},
        {"type": "multi_static_select", "action_id": "a", "options": options(3), "max_selected_items": 2},
        {"type": "checkboxes", "action_id": "a", "options": options(3)},
        {"type": "radio_buttons", "action_id": "a", "options": options(3)},
        {"type": "overflow", "action_id": "a", "options": options(3)},
        {"type": "datepicker", "action_id": "a", "initial_date": "2026-12-01"},
        {"type": "timepicker", "action_id": "a", "initial_time": "09:30"},
        {"type": "users_select", "action_id": "a"},
        {"type": "conversations_select", "action_id": "a"},
        {"type": "button", "action_id": "a", "text": plain("Go")},
    ],
    ids=lambda e: e["type"],
)
def test_accepted_interactive_elements(element):
    assert validate_blocks([actions(element)]) == []


def test_input_block_elements_including_text_input_are_valid_in_a_modal():
    view = modal(
        [
            {
                "type": "input",
                "block_id": "a",
                "label": plain("A"),
                "element": {"type": "plain_text_input", "action_id": "t"},
            },
            {
                "type": "input",
                "block_id": "b",
                "label": plain("B"),
                "element": {"type": "checkboxes", "action_id": "c", "options": options(2)},
            },
        ],
        submit=plain("Send"),
    )
    assert validate_view(view) == []


def test_checkboxes_allow_ten_options():
    element = {"type": "checkboxes", "action_id": "c", "options": options(11)}
    errors = validate_blocks([actions(element)])
    assert_error(errors, "no more than 10 items allowed", "/blocks/0/elements/0/options")


def test_overflow_allows_five_options():
    element = {"type": "overflow", "action_id": "o", "options": options(6)}
    assert_error(
        validate_blocks([actions(element)]), "no more than 5 items allowed", "/blocks/0/elements/0/options"
    )


def test_datepicker_initial_date_format():
    element = {"type": "datepicker", "action_id": "d", "initial_date": "01/12/2026"}
    assert_error(
        validate_blocks([actions(element)]),
        "must match format YYYY-MM-DD",
        "/blocks/0/elements/0/initial_date",
    )


def test_image_block_needs_alt_text():
    errors = validate_blocks([{"type": "image", "image_url": "https://e.com/a.png"}])
    assert_error(errors, "must provide a string", "/blocks/0/alt_text")


def test_modal_title_limit_is_24():
    assert validate_view(modal(title=plain("x" * 24))) == []
    assert_error(
        validate_view(modal(title=plain("x" * 25))), "must be less than 25 characters", "/view/title/text"
    )


def test_modal_submit_and_close_limits_are_24():
    errors = validate_view(modal(submit=plain("s" * 25), close=plain("c" * 25)))
    assert_error(errors, "must be less than 25 characters", "/view/submit/text")
    assert_error(errors, "must be less than 25 characters", "/view/close/text")


def test_modal_title_must_be_plain_text():
    assert_error(validate_view(modal(title=mrkdwn("Quiz"))), "must be a valid enum value", "/view/title/type")


def test_private_metadata_limit_is_3000():
    assert validate_view(modal(private_metadata="m" * 3000)) == []
    errors = validate_view(modal(private_metadata="m" * 3001))
    assert_error(errors, "must be less than 3001 characters", "/view/private_metadata")


def test_callback_id_limit_is_255():
    errors = validate_view(modal(callback_id="c" * 256))
    assert_error(errors, "must be less than 256 characters", "/view/callback_id")


def test_modal_with_inputs_needs_a_submit_button():
    view = modal(
        [{"type": "input", "label": plain("A"), "element": {"type": "plain_text_input", "action_id": "t"}}]
    )
    assert_error(validate_view(view), "must provide submit when the view has input blocks", "/view/submit")


def test_duplicate_block_id_in_a_view_is_rejected():
    errors = validate_view(modal([section(block_id="x"), section(block_id="x")]))
    assert_error(errors, "duplicate block_id: x", "/view/blocks/1/block_id")


def test_message_text_over_40000_characters_is_truncated_not_refused():
    text, truncated = blockkit.truncate_message_text("a" * 40_001)
    assert truncated and len(text) == 40_000
    assert blockkit.truncate_message_text("short") == ("short", False)


def test_errors_become_response_metadata_messages():
    assert blockkit.slack_messages(["bad [json-pointer:/blocks]"]) == ["[ERROR] bad [json-pointer:/blocks]"]
