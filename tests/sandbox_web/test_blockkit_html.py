"""Block Kit → HTML: every block and element Sprout sends, Slack's mrkdwn, and that nothing typed becomes HTML."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from bot import blocks as bk
from bot.mrkdwn import escape, quote
from content_packs.catalog import Catalog
from content_packs.loader import BUNDLED_DIR
from db.store import AnswerView, DeliveryState
from sandbox.blockkit_html import (
    Conversation,
    render_blocks,
    render_message,
    render_mrkdwn,
    render_view,
    safe_url,
)

USERS = {"U0ANA": "Ana Souza"}
NOW = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)


class Page(HTMLParser):
    """What a browser would make of a fragment: its elements (with attributes) and its visible text."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.chunks: list[str] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def tags(self, name: str, **attrs: str) -> list[dict]:
        return [
            a for t, a in self.elements if t == name and all(k in a and a[k] == v for k, v in attrs.items())
        ]


def page(fragment: str) -> Page:
    return Page(fragment)


def only_our_tags(fragment: str) -> None:
    allowed = {
        "div",
        "span",
        "a",
        "button",
        "strong",
        "em",
        "del",
        "code",
        "pre",
        "blockquote",
        "hr",
        "select",
        "option",
        "optgroup",
        "details",
        "summary",
        "label",
        "input",
        "textarea",
        "img",
        "ul",
        "ol",
        "li",
    }
    found = {tag for tag, _ in page(fragment).elements}
    assert found <= allowed, found - allowed
    for _, attrs in page(fragment).elements:
        assert not any(name.startswith("on") for name in attrs), attrs


# -- mrkdwn ----------------------------------------------------------------------------------


def test_mrkdwn_formatting_becomes_tags():
    out = page(render_mrkdwn("*bold* _italic_ ~struck~ `a < b` and *_both_*"))
    assert out.text == "bold italic struck a < b and both"
    assert [t for t, _ in out.elements] == ["strong", "em", "del", "code", "strong", "em"]


def test_formatting_needs_word_boundaries_like_slack():
    out = page(render_mrkdwn("2*3*4 snake_case_name file~1~2 * not bold * _ not italic _"))
    assert out.elements == []
    assert out.text == "2*3*4 snake_case_name file~1~2 * not bold * _ not italic _"


def test_code_blocks_are_preformatted_and_not_formatted_inside():
    out = render_mrkdwn("Run this:\n```pip install *sprout*\n  <b>&amp;</b>```\nthen smile :tada:")
    parsed = page(out)
    assert parsed.tags("pre")
    assert "pip install *sprout*\n  <b>&</b>" in parsed.text
    assert not parsed.tags("strong") and not parsed.tags("b")
    assert parsed.text.endswith("then smile 🎉")


def test_links_with_and_without_labels_and_mailto():
    out = page(
        render_mrkdwn(
            "<https://example.com/a?b=1&amp;c=2|the docs>, <https://example.org> <mailto:x@example.com|mail>"
        )
    )
    links = out.tags("a")
    assert [a["href"] for a in links] == [
        "https://example.com/a?b=1&c=2",
        "https://example.org",
        "mailto:x@example.com",
    ]
    assert out.text == "the docs, https://example.org mail"
    assert all(a["target"] == "_blank" and a["rel"] == "noopener noreferrer" for a in links)


def test_bold_link_as_sprout_sends_it():
    out = page(
        render_mrkdwn(
            f"🎧 *<{escape('https://x.example/p?a=1&b=2')}|{escape('Tips & <tricks>')}>*\nPodcast · 12 min"
        )
    )
    assert out.elements[0][0] == "strong" and out.tags("a")[0]["href"] == "https://x.example/p?a=1&b=2"
    assert out.text == "🎧 Tips & <tricks>\nPodcast · 12 min"


def test_mentions_show_names_and_broadcasts_are_marked():
    out = page(
        render_mrkdwn(
            "Hi <@U0ANA>, <@U0NOBODY>, <@U0X|renamed>; see <#C123|general>. <!here> <!subteam^S1|@leads>",
            users=USERS,
        )
    )
    assert out.text == "Hi @Ana Souza, @U0NOBODY, @renamed; see #general. @here @leads"
    assert len(out.tags("span", **{"class": "sk-mention sk-broadcast"})) == 1


def test_quotes_bullets_and_line_breaks():
    out = render_mrkdwn("Intro\n> first\n&gt; second\n>\nafter\n• one\n    • nested")
    parsed = page(out)
    assert len(parsed.tags("blockquote")) == 1
    assert "first\nsecond\n" in parsed.text
    assert parsed.text.endswith("after\n• one\n    • nested")


def test_emoji_shortcodes_known_and_unknown():
    assert page(render_mrkdwn(":white_check_mark: done :not_an_emoji: at 10:30:00")).text == (
        "✅ done :not_an_emoji: at 10:30:00"
    )


# -- escaping --------------------------------------------------------------------------------


def test_a_comment_sprout_escaped_shows_exactly_what_was_typed():
    typed = "<script>alert(1)</script> <!channel> & <https://evil.example|https://bank.example>\n> quoted"
    shown = render_mrkdwn(f"💬 Your comment:\n{quote(typed)}")
    only_our_tags(shown)
    parsed = page(shown)
    assert typed.replace("\n> quoted", "\n> quoted") in parsed.text.replace("💬 Your comment:\n", "")
    assert not parsed.tags("a") and not parsed.tags("span")


def test_raw_control_sequences_never_become_html():
    shown = render_mrkdwn("<script>alert(1)</script> <img src=x onerror=alert(1)> <!nonsense>")
    only_our_tags(shown)
    assert page(shown).text == "<script>alert(1)</script> <img src=x onerror=alert(1)> <!nonsense>"


def test_entities_decode_once_to_show_angle_brackets():
    parsed = page(render_mrkdwn("&lt;!channel&gt; &amp;lt;b&amp;gt; 1 &lt; 2"))
    assert parsed.text == "<!channel> &lt;b&gt; 1 < 2"
    assert parsed.elements == []


def test_a_deceptive_link_label_stays_text_and_shows_its_real_target():
    parsed = page(render_mrkdwn("<https://evil.example|https://good.example>"))
    (link,) = parsed.tags("a")
    assert link["href"] == "https://evil.example" and link["title"] == "https://evil.example"
    assert parsed.text == "https://good.example"


def test_html_in_a_link_label_is_text():
    shown = render_mrkdwn(
        '<https://x.example|&lt;img src=x onerror=alert(1)&gt;"> <https://y.example|"><b>x</b>>'
    )
    only_our_tags(shown)
    parsed = page(shown)
    assert "<img src=x onerror=alert(1)>" in parsed.text
    assert not parsed.tags("img") and not parsed.tags("b")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "https:no-host",
    ],
)
def test_only_http_and_mailto_urls_become_links(url):
    assert safe_url(url) is None
    shown = render_mrkdwn(f"<{escape(url)}|click me> and <{escape(url)}>")
    assert not page(shown).tags("a")
    button = render_blocks(
        [
            {
                "type": "actions",
                "block_id": "b",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "go",
                        "text": {"type": "plain_text", "text": "Go"},
                        "url": url,
                    }
                ],
            }
        ]
    )
    assert not page(button).tags("a") and page(button).tags("button")
    image = render_blocks([{"type": "image", "image_url": url, "alt_text": "chart"}], image_origins=["*"])
    assert not page(image).tags("img")


def test_placeholder_characters_in_text_cannot_forge_html():
    shown = render_mrkdwn("\ue0000\ue001 <https://a.example|x> \ue000")
    assert page(shown).text == "0 x "
    assert len(page(shown).tags("a")) == 1


def test_attribute_values_are_escaped():
    shown = render_blocks(
        [
            {
                "type": "actions",
                "block_id": 'b"><script>',
                "elements": [
                    {
                        "type": "button",
                        "action_id": 'a" onclick="alert(1)',
                        "value": '"><img src=x>',
                        "text": {"type": "plain_text", "text": "<b>Go</b>"},
                    }
                ],
            }
        ]
    )
    only_our_tags(shown)
    (button,) = page(shown).tags("button")
    assert button["data-action-id"] == 'a" onclick="alert(1)' and button["data-value"] == '"><img src=x>'
    assert page(shown).text == "<b>Go</b>"


def test_unknown_blocks_and_elements_say_so_escaped():
    shown = render_blocks([{"type": "<img src=x>"}, {"type": "actions", "elements": [{"type": "magic<b>"}]}])
    only_our_tags(shown)
    assert "[<img src=x> block]" in page(shown).text and "[magic<b>]" in page(shown).text


# -- blocks and elements ---------------------------------------------------------------------


def test_header_divider_context_and_section_fields():
    shown = render_blocks(
        [
            {
                "type": "header",
                "block_id": "h",
                "text": {"type": "plain_text", "text": "📘 Spot &amp; stop :tada:", "emoji": True},
            },
            {"type": "divider"},
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": "*Pack* · 2 min"},
                    {"type": "plain_text", "text": "plain <b>"},
                    {"type": "image", "image_url": "https://img.example/a.png", "alt_text": "icon"},
                ],
            },
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Lessons*\n3"},
                    {"type": "plain_text", "text": "Rating\n4.5"},
                ],
            },
        ]
    )
    parsed = page(shown)
    assert "📘 Spot & stop 🎉" in parsed.text
    assert parsed.tags("hr")
    assert "Pack · 2 min" in parsed.text and "plain <b>" in parsed.text
    assert parsed.tags("span", role="img", **{"aria-label": "icon"}), (
        "no image is fetched unless its origin is allowed"
    )
    assert len(parsed.tags("div", **{"class": "sk-field sk-text"})) == 2


def test_images_load_only_from_allowed_origins():
    block = [
        {
            "type": "image",
            "image_url": "http://127.0.0.1:9/files/F1/chart.png",
            "alt_text": "Weekly chart",
            "title": {"type": "plain_text", "text": "This week"},
        }
    ]
    assert not page(render_blocks(block)).tags("img")
    (img,) = page(render_blocks(block, image_origins=["http://127.0.0.1:9"])).tags("img")
    assert img["src"] == "http://127.0.0.1:9/files/F1/chart.png" and img["alt"] == "Weekly chart"
    assert "This week" in page(render_blocks(block)).text


def test_buttons_with_values_urls_and_styles():
    shown = render_blocks(
        [
            {
                "type": "actions",
                "block_id": "rate",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "rate:1",
                        "value": '{"d":1,"r":1}',
                        "text": {"type": "plain_text", "text": "⭐"},
                    },
                    {
                        "type": "button",
                        "action_id": "go",
                        "style": "primary",
                        "text": {"type": "plain_text", "text": "Enroll"},
                    },
                    {
                        "type": "button",
                        "action_id": "stop",
                        "style": "danger",
                        "text": {"type": "plain_text", "text": "Leave"},
                        "confirm": {
                            "title": {"type": "plain_text", "text": "Sure?"},
                            "text": {"type": "plain_text", "text": "Really"},
                        },
                    },
                    {
                        "type": "button",
                        "action_id": "open_link:0",
                        "url": "https://example.com/read",
                        "text": {"type": "plain_text", "text": "Read"},
                    },
                ],
            }
        ]
    )
    parsed = page(shown)
    plain, primary, danger = parsed.tags("button")
    assert (
        plain["data-value"] == '{"d":1,"r":1}'
        and plain["data-block-id"] == "rate"
        and plain["data-sk"] == "button"
    )
    assert primary["class"] == "sk-btn sk-primary" and "data-value" not in primary
    assert danger["class"] == "sk-btn sk-danger" and danger["data-confirm"] == "Sure? — Really"
    (link,) = parsed.tags("a")
    assert link["href"] == "https://example.com/read" and link["data-action-id"] == "open_link:0"


def test_selects_overflow_checkboxes_radios_and_pickers():
    option = lambda v, t: {"value": v, "text": {"type": "plain_text", "text": t}}  # noqa: E731
    shown = render_blocks(
        [
            {
                "type": "section",
                "block_id": "s",
                "text": {"type": "mrkdwn", "text": "Pick"},
                "accessory": {
                    "type": "static_select",
                    "action_id": "pick",
                    "placeholder": {"type": "plain_text", "text": "Choose"},
                    "initial_option": option("b", "Bee"),
                    "options": [option("a", "<A>"), option("b", "Bee")],
                },
            },
            {
                "type": "actions",
                "block_id": "acts",
                "elements": [
                    {
                        "type": "overflow",
                        "action_id": "more",
                        "options": [
                            option("edit", "Edit"),
                            {**option("web", "Web"), "url": "https://example.com"},
                        ],
                    },
                    {
                        "type": "static_select",
                        "action_id": "grouped",
                        "option_groups": [
                            {
                                "label": {"type": "plain_text", "text": "Group <1>"},
                                "options": [option("g1", "One")],
                            }
                        ],
                    },
                    {
                        "type": "checkboxes",
                        "action_id": "checks",
                        "options": [
                            option("x", "X"),
                            {**option("y", "Y"), "description": {"type": "mrkdwn", "text": "_why_"}},
                        ],
                        "initial_options": [option("y", "Y")],
                    },
                    {
                        "type": "radio_buttons",
                        "action_id": "radio",
                        "options": [option("1", "One"), option("2", "Two")],
                    },
                    {"type": "datepicker", "action_id": "day", "initial_date": "2026-12-01"},
                    {"type": "users_select", "action_id": "who"},
                ],
            },
        ],
        users=USERS,
    )
    only_our_tags(shown)
    parsed = page(shown)
    pick = parsed.tags("select", **{"data-action-id": "pick"})
    assert pick and pick[0]["data-block-id"] == "s"
    assert parsed.tags("option", value="b", selected=None) and "<A>" in parsed.text
    assert parsed.tags("optgroup", label="Group <1>")
    assert [a["data-value"] for a in parsed.tags("button", **{"data-sk": "option"})] == ["edit"]
    assert parsed.tags("a", **{"data-sk": "option", "data-value": "web"})
    assert [a["value"] for a in parsed.tags("input", type="checkbox", checked=None)] == ["y"]
    assert len(parsed.tags("input", type="radio")) == 2 and parsed.tags("em")
    assert parsed.tags("input", type="date", value="2026-12-01")
    assert parsed.tags("option", value="U0ANA")


CHANNELS = [
    Conversation("C0GEN", "general"),
    Conversation("C0PLAT", "platform"),
    Conversation("C0SEC", "security-champions", is_private=True),
]


def picker(kind: str, **extra) -> list[dict]:
    return [
        {"type": "actions", "block_id": "pick", "elements": [{"type": kind, "action_id": "who", **extra}]}
    ]


def offered(fragment: str) -> list[str]:
    return [o["value"] for o in page(fragment).tags("option") if o["value"]]


def chosen(fragment: str) -> list[str]:
    return [o["value"] for o in page(fragment).tags("option", selected=None)]


def test_conversation_menus_offer_the_workspaces_channels_narrowed_by_their_filter():
    everything = render_blocks(picker("conversations_select"), conversations=CHANNELS)
    (menu,) = page(everything).tags("select")
    assert (menu["data-sk"], menu["data-type"], menu["data-action-id"]) == (
        "select",
        "conversations_select",
        "who",
    )
    assert offered(everything) == ["C0GEN", "C0PLAT", "C0SEC"] and "multiple" not in menu
    assert "# general" in page(everything).text and "🔒 security-champions" in page(everything).text
    private = render_blocks(
        picker("conversations_select", filter={"include": ["private"]}), conversations=CHANNELS
    )
    assert offered(private) == ["C0SEC"]
    public = render_blocks(picker("channels_select", initial_channel="C0PLAT"), conversations=CHANNELS)
    assert offered(public) == ["C0GEN", "C0PLAT"] and chosen(public) == ["C0PLAT"], (
        "channels_select: public only"
    )
    many = render_blocks(
        picker("multi_conversations_select", initial_conversations=["C0GEN", "C0SEC"]), conversations=CHANNELS
    )
    assert "multiple" in page(many).tags("select")[0] and chosen(many) == ["C0GEN", "C0SEC"]
    assert offered(render_blocks(picker("multi_channels_select"), conversations=CHANNELS)) == [
        "C0GEN",
        "C0PLAT",
    ]
    (empty,) = page(render_blocks(picker("conversations_select"))).tags("option", disabled=None)
    assert "No channels in this workspace" in page(render_blocks(picker("conversations_select"))).text
    assert empty["value"] == ""


def test_people_menus_and_what_was_picked_in_a_view():
    view = {
        "type": "modal",
        "id": "V1",
        "title": {"type": "plain_text", "text": "Pick"},
        "blocks": [
            {
                "type": "input",
                "block_id": "one",
                "label": {"type": "plain_text", "text": "One"},
                "element": {"type": "users_select", "action_id": "u", "initial_user": "U0ANA"},
            },
            {
                "type": "input",
                "block_id": "many",
                "label": {"type": "plain_text", "text": "Many"},
                "element": {"type": "multi_users_select", "action_id": "us"},
            },
            {
                "type": "input",
                "block_id": "where",
                "label": {"type": "plain_text", "text": "Where"},
                "element": {
                    "type": "conversations_select",
                    "action_id": "c",
                    "initial_conversation": "C0GEN",
                },
            },
        ],
        "state": {
            "values": {
                "many": {"us": {"type": "multi_users_select", "selected_users": ["U0ANA", "U0BEA"]}},
                "where": {"c": {"type": "conversations_select", "selected_conversation": "C0SEC"}},
            }
        },
    }
    users = {"U0ANA": "Ana Souza", "U0BEA": "Bea <Lee>"}
    shown = render_view(view, users=users, conversations=CHANNELS)
    only_our_tags(shown)
    assert chosen(shown) == ["U0ANA", "U0ANA", "U0BEA", "C0SEC"], "the initial user, then what was entered"
    assert "Bea <Lee>" in page(shown).text


def test_channel_mentions_show_the_channels_name():
    shown = render_message(
        {"text": "to the members of <#C0PLAT> and <#C0GONE> and <#C0GEN|renamed>"}, conversations=CHANNELS
    )
    assert page(shown).text == "to the members of #platform and #C0GONE and #renamed"
    assert page(shown).tags("span", **{"data-channel-id": "C0PLAT"})


def test_input_blocks_with_time_and_date_pickers_hints_and_errors():
    view = {
        "type": "modal",
        "id": "V2",
        "title": {"type": "plain_text", "text": "When"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "time",
                "label": {"type": "plain_text", "text": "Send at"},
                "hint": {"type": "plain_text", "text": "In your zone"},
                "element": {"type": "timepicker", "action_id": "t", "initial_time": "09:00"},
            },
            {
                "type": "input",
                "block_id": "day",
                "optional": True,
                "dispatch_action": True,
                "label": {"type": "plain_text", "text": "Day"},
                "element": {"type": "datepicker", "action_id": "d"},
            },
        ],
    }
    parsed = page(render_view(view, errors={"time": "That time has passed."}))
    assert parsed.tags("input", type="time", value="09:00", **{"data-sk": "time", "data-block-id": "time"})
    (day,) = parsed.tags("input", type="date")
    assert "value" not in day
    assert parsed.tags("div", **{"data-input-block": "time", "data-optional": "0"})
    assert parsed.tags("div", **{"data-input-block": "day", "data-optional": "1", "data-dispatch": "1"})
    assert "Send at" in parsed.text and "In your zone" in parsed.text and "(optional)" in parsed.text
    assert parsed.tags("div", role="alert") and "That time has passed." in parsed.text
    view["state"] = {"values": {"time": {"t": {"type": "timepicker", "selected_time": "17:30"}}}}
    assert page(render_view(view)).tags("input", type="time", value="17:30")


def test_rich_text_from_people():
    shown = render_blocks(
        [
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "text", "text": "hi <b>", "style": {"bold": True}},
                            {"type": "user", "user_id": "U0ANA"},
                            {"type": "link", "url": "javascript:alert(1)", "text": "bad"},
                            {"type": "emoji", "name": "seedling", "unicode": "1f331"},
                        ],
                    },
                    {
                        "type": "rich_text_list",
                        "style": "bullet",
                        "elements": [
                            {"type": "rich_text_section", "elements": [{"type": "text", "text": "item"}]}
                        ],
                    },
                ],
            }
        ],
        users=USERS,
    )
    only_our_tags(shown)
    parsed = page(shown)
    assert parsed.text == "hi <b>@Ana Souzabad🌱item"
    assert not parsed.tags("a") and parsed.tags("li") and parsed.tags("strong")


# -- what Sprout really sends ----------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog():
    return Catalog.from_directory(BUNDLED_DIR)[0]


def delivery(pack, lesson, **changes) -> DeliveryState:
    state = DeliveryState(
        id=7,
        learner_id=1,
        slack_user_id="U0ANA",
        learner_name="Ana",
        pack_id=pack.id,
        lesson_id=lesson.id,
        pack_version=1,
        kind="scheduled",
        status="sent",
        due_at=NOW,
        sent_at=NOW,
        channel_id="D1",
        message_ts="1.0",
    )
    return replace(state, **changes)


def test_a_lesson_message_from_question_to_comment(catalog):
    pack = catalog.get("security-basics")
    lesson = pack.lessons[0]
    fresh = bk.lesson_message(pack, lesson, delivery(pack, lesson))
    shown = render_message({"text": fresh.text, "blocks": fresh.blocks})
    only_our_tags(shown)
    parsed = page(shown)
    assert lesson.title in parsed.text and lesson.quiz[0].prompt in parsed.text
    answers = [b for b in parsed.tags("button") if b["data-action-id"].startswith("answer:")]
    assert [b["data-action-id"] for b in answers] == [
        f"answer:{i}" for i in range(len(lesson.quiz[0].choices))
    ]
    assert {a["href"] for a in parsed.tags("a", **{"data-sk": "button"})} == {
        link.url for link in lesson.links
    }

    answered = tuple(AnswerView(q.id, q.prompt, q.answer, True, NOW) for q in lesson.quiz)
    nasty = "<script>alert(1)</script> <!channel> & more"
    done = bk.lesson_message(pack, lesson, delivery(pack, lesson, answers=answered, rating=4, comment=nasty))
    shown = render_message({"text": done.text, "blocks": done.blocks})
    only_our_tags(shown)
    parsed = page(shown)
    assert lesson.quiz[0].explain in parsed.text and "✅ Right" in parsed.text
    assert "4/5" in parsed.text and nasty in parsed.text
    assert not parsed.tags("span", **{"class": "sk-mention sk-broadcast"})


def test_the_comment_modal_with_entered_text_and_errors(catalog):
    view = bk.comment_modal(7, "Spot <phishing> & more")
    view.update(
        id="V1", state={"values": {"comment": {"text": {"type": "plain_text_input", "value": "  <b>hi</b>"}}}}
    )
    shown = render_view(view, errors={"comment": "Write a comment, or press Cancel."})
    only_our_tags(shown)
    parsed = page(shown)
    (dialog,) = parsed.tags("div", role="dialog")
    assert dialog["data-view-id"] == "V1"
    assert "Your comment" in parsed.text and "Spot <phishing> & more" in parsed.text
    (area,) = parsed.tags("textarea")
    assert (
        area["data-action-id"] == "text"
        and area["maxlength"] == "2000"
        and area["placeholder"].startswith("What worked")
    )
    assert "  <b>hi</b>" in parsed.text, "what was typed stays in the box"
    assert "Write a comment, or press Cancel." in parsed.text
    assert [b["data-sk"] for b in parsed.tags("button") if "data-sk" in b] == ["close", "close", "submit"]
    assert "Cancel" in parsed.text and "Send" in parsed.text


def test_the_thanks_modal_has_only_a_close_button():
    shown = render_view({**bk.comment_thanks_modal("<!channel> thanks"), "id": "V2"})
    parsed = page(shown)
    assert "<!channel> thanks" in parsed.text and "Done" in parsed.text
    assert not parsed.tags("button", **{"data-sk": "submit"})


def test_the_home_tab(catalog):
    packs = list(catalog)
    from bot.service import Home, HomeEntry
    from db.store import LearnerView
    from learning.streaks import PackProgress

    learner = LearnerView(
        1,
        "U1",
        "Ana <3",
        None,
        "learner",
        "Europe/Berlin",
        None,
        None,
        None,
        True,
        None,
        None,
        None,
        None,
        None,
    )
    home = Home(
        learner=learner,
        zone="Europe/Berlin",
        available=packs,
        streak=3,
        reviews_due=2,
        entries=[HomeEntry(packs[0], "active", 2, NOW, PackProgress(2, 10, 3, 2))],
    )
    view = {**bk.home_view(home), "id": "VH"}
    shown = render_view(view)
    only_our_tags(shown)
    parsed = page(shown)
    assert parsed.tags("div", **{"class": "sk-view sk-home", "data-view-id": "VH"})
    assert "Hi Ana <3!" in parsed.text and packs[0].title in parsed.text
    enroll = parsed.tags("button", **{"data-action-id": "home_enroll"})
    assert enroll and all(b["class"] == "sk-btn sk-primary" for b in enroll)


def test_text_only_messages_and_slash_command_replies(catalog):
    reply = bk.packs_text(list(catalog), {"security-basics"})
    shown = render_message({"text": reply, "blocks": bk.text_blocks(reply)})
    parsed = page(shown)
    assert "security-basics" in parsed.text and parsed.tags("code") and parsed.tags("em")
    assert page(render_message({"text": "plain *text* only"})).tags("strong")
    attachment = render_message(
        {
            "text": "",
            "attachments": [
                {"color": "good", "title": "T <1>", "text": "*x*", "fields": [{"title": "F", "value": "v"}]}
            ],
        }
    )
    assert "T <1>" in page(attachment).text and page(attachment).tags("strong")
