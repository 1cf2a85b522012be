"""Block Kit validation with Slack's limits, as a pure module.

The emulator rejects what Slack rejects so that a bot tested against it does not meet
``invalid_blocks`` for the first time in production. Errors are strings in Slack's own
style, ``"must be less than 3001 characters [json-pointer:/blocks/0/text/text]"``, and the
caller decides how to wrap them (``invalid_blocks`` for messages, ``invalid_arguments`` for views).

The limits come from Slack's Block Kit reference (and agree with the validators in
``slack_sdk.models``); where the reference gives none, the module does not invent one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# Surfaces a list of blocks can be sent to.
MESSAGE = "message"
MODAL = "modal"
HOME = "home"

MAX_BLOCKS = {MESSAGE: 50, MODAL: 100, HOME: 100}
MESSAGE_TEXT_LIMIT = 40_000

LIMITS: dict[str, int] = {
    "block_id": 255,
    "action_id": 255,
    "section.text": 3000,
    "section.fields": 10,
    "section.field.text": 2000,
    "header.text": 150,
    "markdown.text": 12_000,
    "context.elements": 10,
    "actions.elements": 25,
    "image.image_url": 3000,
    "image.alt_text": 2000,
    "image.title": 2000,
    "input.label": 2000,
    "input.hint": 2000,
    "button.text": 75,
    "button.value": 2000,
    "button.url": 3000,
    "button.accessibility_label": 75,
    "placeholder": 150,
    "option.text": 75,
    "option.value": 150,
    "option.description": 75,
    "option.url": 3000,
    "select.options": 100,
    "select.option_groups": 100,
    "option_group.label": 75,
    "option_group.options": 100,
    "checkboxes.options": 10,
    "radio_buttons.options": 10,
    "overflow.options": 5,
    "plain_text_input.length": 3000,
    "confirm.title": 100,
    "confirm.text": 300,
    "confirm.confirm": 30,
    "confirm.deny": 30,
    "view.title": 24,
    "view.submit": 24,
    "view.close": 24,
    "view.private_metadata": 3000,
    "view.callback_id": 255,
    "view.external_id": 255,
}

BLOCK_TYPES = frozenset(
    {"section", "header", "context", "divider", "actions", "image", "input", "rich_text", "file", "markdown"}
)
# Blocks a surface accepts (Slack's "Available in surfaces" column).
SURFACE_BLOCKS = {
    MESSAGE: BLOCK_TYPES,
    MODAL: BLOCK_TYPES - {"file", "markdown"},
    HOME: BLOCK_TYPES - {"file", "markdown"},
}

SELECTS = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
    }
)
MULTI_SELECTS = frozenset({"multi_" + s for s in SELECTS})
INTERACTIVE_COMMON = (
    frozenset(
        {"button", "checkboxes", "radio_buttons", "overflow", "datepicker", "timepicker", "datetimepicker"}
    )
    | SELECTS
    | MULTI_SELECTS
)
TEXT_INPUTS = frozenset(
    {
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "rich_text_input",
        "file_input",
    }
)
ACTIONS_ELEMENTS = INTERACTIVE_COMMON
SECTION_ACCESSORIES = INTERACTIVE_COMMON | {"image"}
INPUT_ELEMENTS = (INTERACTIVE_COMMON - {"button", "overflow"}) | TEXT_INPUTS
ELEMENT_TYPES = SECTION_ACCESSORIES | INPUT_ELEMENTS

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def pointer_error(message: str, pointer: str) -> str:
    """One error in Slack's format: ``"<message> [json-pointer:<pointer>]"``."""
    return f"{message} [json-pointer:{pointer}]"


class _Checker:
    """Walks a payload and collects errors; one instance per validation call."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def err(self, message: str, pointer: str) -> None:
        self.errors.append(pointer_error(message, pointer))

    # -- primitives -------------------------------------------------------------------------
    def string(self, value: Any, pointer: str, limit: int | None, *, required: bool = True) -> bool:
        if value is None:
            if required:
                self.err("must provide a string", pointer)
            return False
        if not isinstance(value, str):
            self.err("must provide a string", pointer)
            return False
        if required and value == "":
            self.err("must be more than 0 characters", pointer)
            return False
        if limit is not None and len(value) > limit:
            self.err(f"must be less than {limit + 1} characters", pointer)
            return False
        return True

    def text_object(
        self,
        value: Any,
        pointer: str,
        limit: int | None,
        *,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        if value is None:
            if required:
                self.err("must provide an object", pointer)
            return
        if not isinstance(value, dict):
            self.err("must provide an object", pointer)
            return
        kind = value.get("type")
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if kind not in allowed:
            self.err("must be a valid enum value", f"{pointer}/type")
            return
        self.string(value.get("text"), f"{pointer}/text", limit)
        if kind == "mrkdwn" and "emoji" in value:
            self.err("unsupported field for mrkdwn text: emoji", f"{pointer}/emoji")
        if "emoji" in value and not isinstance(value["emoji"], bool):
            self.err("must provide a boolean", f"{pointer}/emoji")

    def identifier(self, value: Any, pointer: str, kind: str) -> None:
        if value is None:
            return
        self.string(value, pointer, LIMITS[kind])

    def items(self, value: Any, pointer: str, *, minimum: int, maximum: int | None) -> list[Any]:
        if not isinstance(value, list):
            self.err("must provide an array", pointer)
            return []
        if len(value) < minimum:
            self.err(f"must provide at least {minimum} items", pointer)
        if maximum is not None and len(value) > maximum:
            self.err(f"no more than {maximum} items allowed", pointer)
        return value

    # -- composition objects ----------------------------------------------------------------
    def confirm(self, value: Any, pointer: str) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            self.err("must provide an object", pointer)
            return
        self.text_object(value.get("title"), f"{pointer}/title", LIMITS["confirm.title"], plain_only=True)
        self.text_object(value.get("text"), f"{pointer}/text", LIMITS["confirm.text"])
        self.text_object(
            value.get("confirm"), f"{pointer}/confirm", LIMITS["confirm.confirm"], plain_only=True
        )
        self.text_object(value.get("deny"), f"{pointer}/deny", LIMITS["confirm.deny"], plain_only=True)

    def option(self, value: Any, pointer: str, *, plain_only: bool, with_url: bool = False) -> str | None:
        if not isinstance(value, dict):
            self.err("must provide an object", pointer)
            return None
        self.text_object(value.get("text"), f"{pointer}/text", LIMITS["option.text"], plain_only=plain_only)
        ok = self.string(value.get("value"), f"{pointer}/value", LIMITS["option.value"])
        if "description" in value:
            self.text_object(
                value["description"],
                f"{pointer}/description",
                LIMITS["option.description"],
                plain_only=plain_only,
            )
        if "url" in value:
            if with_url:
                self.string(value["url"], f"{pointer}/url", LIMITS["option.url"])
            else:
                self.err("unsupported field: url", f"{pointer}/url")
        return value.get("value") if ok else None

    def options(
        self,
        value: Any,
        pointer: str,
        *,
        maximum: int,
        minimum: int = 1,
        plain_only: bool,
        with_url: bool = False,
    ) -> list[str]:
        values: list[str] = []
        for i, opt in enumerate(self.items(value, pointer, minimum=minimum, maximum=maximum)):
            v = self.option(opt, f"{pointer}/{i}", plain_only=plain_only, with_url=with_url)
            if v is not None:
                values.append(v)
        return values

    def initial_in(self, initial: Any, values: Iterable[str], pointer: str) -> None:
        """Slack rejects an initial option that is not one of the element's options."""
        known = set(values)
        chosen = initial if isinstance(initial, list) else [initial]
        for i, opt in enumerate(chosen):
            sub = f"{pointer}/{i}" if isinstance(initial, list) else pointer
            if not isinstance(opt, dict) or opt.get("value") not in known:
                self.err("must match one of the provided options", sub)

    # -- elements ---------------------------------------------------------------------------
    def element(self, el: Any, pointer: str, allowed: frozenset[str]) -> str | None:
        """Validates one element and returns its action_id (or None)."""
        if not isinstance(el, dict):
            self.err("must provide an object", pointer)
            return None
        kind = el.get("type")
        if kind not in ELEMENT_TYPES:
            self.err(f"unsupported type: {kind}", f"{pointer}/type")
            return None
        if kind not in allowed:
            self.err(f"element type not allowed here: {kind}", f"{pointer}/type")
            return None
        if kind == "image":
            self.image_source(el, pointer)
            self.string(el.get("alt_text"), f"{pointer}/alt_text", LIMITS["image.alt_text"])
            return None
        self.identifier(el.get("action_id"), f"{pointer}/action_id", "action_id")
        if "placeholder" in el:
            self.text_object(
                el["placeholder"], f"{pointer}/placeholder", LIMITS["placeholder"], plain_only=True
            )
        self.confirm(el.get("confirm"), f"{pointer}/confirm")
        check = getattr(self, f"el_{kind}", None)
        if check is not None:
            check(el, pointer)
        aid = el.get("action_id")
        return aid if isinstance(aid, str) else None

    def el_button(self, el: dict, pointer: str) -> None:
        self.text_object(el.get("text"), f"{pointer}/text", LIMITS["button.text"], plain_only=True)
        if "value" in el:
            self.string(el["value"], f"{pointer}/value", LIMITS["button.value"])
        if "url" in el:
            self.string(el["url"], f"{pointer}/url", LIMITS["button.url"])
        if "style" in el and el["style"] not in ("primary", "danger"):
            self.err("must be a valid enum value", f"{pointer}/style")
        if "accessibility_label" in el:
            self.string(
                el["accessibility_label"],
                f"{pointer}/accessibility_label",
                LIMITS["button.accessibility_label"],
            )

    def _static_options(self, el: dict, pointer: str) -> list[str]:
        if "options" in el and "option_groups" in el:
            self.err("must provide either options or option_groups, not both", pointer)
            return []
        if "option_groups" in el:
            values: list[str] = []
            groups = self.items(
                el["option_groups"],
                f"{pointer}/option_groups",
                minimum=1,
                maximum=LIMITS["select.option_groups"],
            )
            for i, group in enumerate(groups):
                gp = f"{pointer}/option_groups/{i}"
                if not isinstance(group, dict):
                    self.err("must provide an object", gp)
                    continue
                self.text_object(
                    group.get("label"), f"{gp}/label", LIMITS["option_group.label"], plain_only=True
                )
                values += self.options(
                    group.get("options"),
                    f"{gp}/options",
                    maximum=LIMITS["option_group.options"],
                    plain_only=True,
                )
            return values
        if "options" not in el:
            self.err("missing required field: options", pointer)
            return []
        return self.options(
            el["options"], f"{pointer}/options", maximum=LIMITS["select.options"], plain_only=True
        )

    def el_static_select(self, el: dict, pointer: str) -> None:
        values = self._static_options(el, pointer)
        if "initial_option" in el:
            self.initial_in(el["initial_option"], values, f"{pointer}/initial_option")

    def el_multi_static_select(self, el: dict, pointer: str) -> None:
        values = self._static_options(el, pointer)
        if "initial_options" in el:
            self.initial_in(el["initial_options"], values, f"{pointer}/initial_options")
        self._max_selected(el, pointer)

    def _max_selected(self, el: dict, pointer: str) -> None:
        if "max_selected_items" in el:
            n = el["max_selected_items"]
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                self.err("must be greater than 0", f"{pointer}/max_selected_items")

    el_multi_users_select = _max_selected
    el_multi_conversations_select = _max_selected
    el_multi_channels_select = _max_selected
    el_multi_external_select = _max_selected

    def el_checkboxes(self, el: dict, pointer: str) -> None:
        values = self.options(
            el.get("options"), f"{pointer}/options", maximum=LIMITS["checkboxes.options"], plain_only=False
        )
        if "initial_options" in el:
            self.initial_in(el["initial_options"], values, f"{pointer}/initial_options")

    def el_radio_buttons(self, el: dict, pointer: str) -> None:
        values = self.options(
            el.get("options"), f"{pointer}/options", maximum=LIMITS["radio_buttons.options"], plain_only=False
        )
        if "initial_option" in el:
            self.initial_in(el["initial_option"], values, f"{pointer}/initial_option")

    def el_overflow(self, el: dict, pointer: str) -> None:
        self.options(
            el.get("options"),
            f"{pointer}/options",
            maximum=LIMITS["overflow.options"],
            plain_only=True,
            with_url=True,
        )

    def el_datepicker(self, el: dict, pointer: str) -> None:
        if "initial_date" in el and not (
            isinstance(el["initial_date"], str) and _DATE.match(el["initial_date"])
        ):
            self.err("must match format YYYY-MM-DD", f"{pointer}/initial_date")

    def el_timepicker(self, el: dict, pointer: str) -> None:
        if "initial_time" in el and not (
            isinstance(el["initial_time"], str) and _TIME.match(el["initial_time"])
        ):
            self.err("must match format HH:mm", f"{pointer}/initial_time")

    def el_plain_text_input(self, el: dict, pointer: str) -> None:
        cap = LIMITS["plain_text_input.length"]
        for key in ("min_length", "max_length"):
            if key in el:
                n = el[key]
                if not isinstance(n, int) or isinstance(n, bool) or n < 0 or n > cap:
                    self.err(f"must be between 0 and {cap}", f"{pointer}/{key}")
        if "initial_value" in el and not isinstance(el["initial_value"], str):
            self.err("must provide a string", f"{pointer}/initial_value")
        if "multiline" in el and not isinstance(el["multiline"], bool):
            self.err("must provide a boolean", f"{pointer}/multiline")

    def image_source(self, value: dict, pointer: str) -> None:
        if "image_url" in value:
            self.string(value["image_url"], f"{pointer}/image_url", LIMITS["image.image_url"])
        elif "slack_file" not in value:
            self.err("missing required field: image_url", pointer)

    # -- blocks -----------------------------------------------------------------------------
    def blocks(self, blocks: Any, pointer: str, surface: str) -> None:
        maximum = MAX_BLOCKS[surface]
        items = self.items(blocks, pointer, minimum=0, maximum=maximum)
        if len(items) > maximum:
            return  # Slack stops at the count; per-block errors would only be noise.
        seen_block_ids: set[str] = set()
        for i, block in enumerate(items):
            bp = f"{pointer}/{i}"
            if not isinstance(block, dict):
                self.err("must provide an object", bp)
                continue
            kind = block.get("type")
            if kind not in BLOCK_TYPES:
                self.err(f"unsupported type: {kind}", f"{bp}/type")
                continue
            if kind not in SURFACE_BLOCKS[surface]:
                self.err(f"block type not allowed in {surface}: {kind}", f"{bp}/type")
                continue
            block_id = block.get("block_id")
            if block_id is not None:
                self.identifier(block_id, f"{bp}/block_id", "block_id")
                if isinstance(block_id, str):
                    if block_id in seen_block_ids:
                        self.err(f"duplicate block_id: {block_id}", f"{bp}/block_id")
                    seen_block_ids.add(block_id)
            getattr(self, f"block_{kind}")(block, bp, surface)

    def block_section(self, block: dict, pointer: str, surface: str) -> None:
        if "text" not in block and "fields" not in block:
            self.err("must provide text or fields", pointer)
        if "text" in block:
            self.text_object(block["text"], f"{pointer}/text", LIMITS["section.text"])
        if "fields" in block:
            fields = self.items(
                block["fields"], f"{pointer}/fields", minimum=1, maximum=LIMITS["section.fields"]
            )
            for i, field in enumerate(fields):
                self.text_object(field, f"{pointer}/fields/{i}", LIMITS["section.field.text"])
        if "accessory" in block:
            self.element(block["accessory"], f"{pointer}/accessory", SECTION_ACCESSORIES)

    def block_header(self, block: dict, pointer: str, surface: str) -> None:
        self.text_object(block.get("text"), f"{pointer}/text", LIMITS["header.text"], plain_only=True)

    def block_markdown(self, block: dict, pointer: str, surface: str) -> None:
        self.string(block.get("text"), f"{pointer}/text", LIMITS["markdown.text"])

    def block_divider(self, block: dict, pointer: str, surface: str) -> None:
        return None

    def block_context(self, block: dict, pointer: str, surface: str) -> None:
        elements = self.items(
            block.get("elements"), f"{pointer}/elements", minimum=1, maximum=LIMITS["context.elements"]
        )
        for i, el in enumerate(elements):
            ep = f"{pointer}/elements/{i}"
            if isinstance(el, dict) and el.get("type") == "image":
                self.element(el, ep, frozenset({"image"}))
            else:
                self.text_object(el, ep, None)

    def block_actions(self, block: dict, pointer: str, surface: str) -> None:
        elements = self.items(
            block.get("elements"), f"{pointer}/elements", minimum=1, maximum=LIMITS["actions.elements"]
        )
        seen: set[str] = set()
        for i, el in enumerate(elements):
            aid = self.element(el, f"{pointer}/elements/{i}", ACTIONS_ELEMENTS)
            if aid is not None:
                if aid in seen:
                    self.err(f"duplicate action_id: {aid}", f"{pointer}/elements/{i}/action_id")
                seen.add(aid)

    def block_image(self, block: dict, pointer: str, surface: str) -> None:
        self.image_source(block, pointer)
        self.string(block.get("alt_text"), f"{pointer}/alt_text", LIMITS["image.alt_text"])
        if "title" in block:
            self.text_object(block["title"], f"{pointer}/title", LIMITS["image.title"], plain_only=True)

    def block_input(self, block: dict, pointer: str, surface: str) -> None:
        self.text_object(block.get("label"), f"{pointer}/label", LIMITS["input.label"], plain_only=True)
        if "hint" in block:
            self.text_object(block["hint"], f"{pointer}/hint", LIMITS["input.hint"], plain_only=True)
        if "element" not in block:
            self.err("missing required field: element", pointer)
        else:
            self.element(block["element"], f"{pointer}/element", INPUT_ELEMENTS)
        for key in ("optional", "dispatch_action"):
            if key in block and not isinstance(block[key], bool):
                self.err("must provide a boolean", f"{pointer}/{key}")

    def block_rich_text(self, block: dict, pointer: str, surface: str) -> None:
        self.items(block.get("elements"), f"{pointer}/elements", minimum=1, maximum=None)

    def block_file(self, block: dict, pointer: str, surface: str) -> None:
        self.string(block.get("external_id"), f"{pointer}/external_id", None)
        if block.get("source") != "remote":
            self.err("must be a valid enum value", f"{pointer}/source")


def validate_blocks(blocks: Any, *, surface: str = MESSAGE, pointer: str = "/blocks") -> list[str]:
    """Every problem Slack would report for ``blocks`` on ``surface``; empty when valid."""
    checker = _Checker()
    checker.blocks(blocks, pointer, surface)
    return checker.errors


def validate_view(view: Any, *, pointer: str = "/view") -> list[str]:
    """Every problem Slack would report for a modal or Home tab view; empty when valid."""
    checker = _Checker()
    if not isinstance(view, dict):
        checker.err("must provide an object", pointer)
        return checker.errors
    kind = view.get("type")
    if kind not in (MODAL, HOME):
        checker.err("must be a valid enum value", f"{pointer}/type")
        return checker.errors
    if kind == MODAL:
        checker.text_object(view.get("title"), f"{pointer}/title", LIMITS["view.title"], plain_only=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                checker.text_object(view[key], f"{pointer}/{key}", LIMITS[f"view.{key}"], plain_only=True)
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            checker.err("must provide submit when the view has input blocks", f"{pointer}/submit")
    for key in ("private_metadata", "callback_id", "external_id"):
        if view.get(key) is not None:
            checker.string(view[key], f"{pointer}/{key}", LIMITS[f"view.{key}"], required=False)
    if "blocks" not in view:
        checker.err("missing required field: blocks", pointer)
    else:
        checker.blocks(view["blocks"], f"{pointer}/blocks", kind)
    return checker.errors


def slack_messages(errors: list[str]) -> list[str]:
    """The ``response_metadata.messages`` form of errors: each prefixed with ``[ERROR]``."""
    return [f"[ERROR] {e}" for e in errors]


def truncate_message_text(text: str) -> tuple[str, bool]:
    """Slack truncates message text above 40,000 characters (and posts it, with a warning)."""
    if len(text) > MESSAGE_TEXT_LIMIT:
        return text[:MESSAGE_TEXT_LIMIT], True
    return text, False
