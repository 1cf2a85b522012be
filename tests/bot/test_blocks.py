from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.blocks import lesson_message
from content_packs.loader import parse_pack
from db.store import DeliveryState

PACK = parse_pack("""\
id: drop
title: Drops
description: Resources without questions.
version: 1
schedule: {days: [mon], time: "09:00"}
lessons:
  - id: listen
    title: Listen on your commute
    minutes: 2
    body: Why it matters, in one line.
    links:
      - {kind: podcast, title: Darknet Diaries, url: "https://darknetdiaries.com/", minutes: 45}
""", Path("pack.yaml"))

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)


def state(**changes) -> DeliveryState:
    values = dict(id=7, learner_id=1, slack_user_id="U1", learner_name="", pack_id="drop", lesson_id="listen",
                  pack_version=1, kind="scheduled", status="sent", due_at=NOW, sent_at=NOW, channel_id="D1",
                  message_ts="1.0")
    values.update(changes)
    return DeliveryState(**values)


def test_a_lesson_without_questions_goes_straight_to_the_rating():
    message = lesson_message(PACK, PACK.lessons[0], state())
    ids = [b.get("block_id") for b in message.blocks]
    assert "link:0" in ids and "rate-prompt" in ids and not any(i and i.startswith("prompt:") for i in ids)
    assert "45 min" in str(message.blocks)


def test_a_low_rating_asks_why_and_a_reason_is_acknowledged():
    asked = lesson_message(PACK, PACK.lessons[0], state(rating=2))
    assert any(b.get("block_id") == "reason" for b in asked.blocks)
    answered = lesson_message(PACK, PACK.lessons[0], state(rating=2, reason="too_easy"))
    assert "Noted: _too easy_" in str(answered.blocks)
    assert not any(b.get("block_id") == "reason" for b in lesson_message(PACK, PACK.lessons[0], state(rating=5)).blocks)


def test_every_button_value_key_is_documented_in_one_place():
    """``bot.blocks.VALUE_KEYS`` names every key ``encode`` is called with anywhere in bot/, and no other."""
    import ast
    from pathlib import Path

    from bot.blocks import VALUE_KEYS

    used: dict[str, set[str]] = {}
    for path in (Path(__file__).resolve().parents[2] / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "encode":
                for keyword in node.keywords:
                    if keyword.arg is not None:
                        used.setdefault(keyword.arg, set()).add(path.name)
    # ``**ref`` spreads a lesson's or a review's reference: {"d": …} or {"s": …, "k": …}.
    assert set(used) | {"s", "k"} == set(VALUE_KEYS), {k: sorted(v) for k, v in used.items() if k not in VALUE_KEYS}


def test_true_and_false_are_sprouts_words_in_the_readers_language():
    import json

    from bot.blocks import answered_blocks, question_blocks
    from bot.i18n import speaking
    from content_packs.schema import Question

    question = Question(id="tf", prompt="Is a padlock proof that a site is genuine?", answer=False,
                        explain="It only means the connection is encrypted.")
    with speaking("de"):
        asked = json.dumps(question_blocks(question, 1, 1, {"d": 1}), ensure_ascii=False)
        answered = json.dumps(answered_blocks(question, 1, "True", False), ensure_ascii=False)
    assert '"text": "Wahr"' in asked and '"text": "Falsch"' in asked and '"True"' not in asked
    assert "*Wahr*" in answered and "*Falsch*" in answered
    english = json.dumps(question_blocks(question, 1, 1, {"d": 1}))
    assert '"text": "True"' in english and '"text": "False"' in english
