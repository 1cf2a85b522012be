"""The catalogs against the source: every message Sprout writes, extracted with Babel as a translator
would (babel.cfg), has a German translation that keeps its placeholders. A new string without one fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALES, available_languages, speaker, speaking

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "N_": None, "n_": (1, 2), "gettext": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%%")
TRANSLATED = [lang for lang in available_languages() if lang != "en"]


def extracted() -> dict[str | tuple[str, str], str]:
    """msgid (or (singular, plural)) → where it is, straight from the source."""
    method_map = [("bot/**.py", "python"), ("bot/templates/**.j2", "jinja2")]
    options = {"bot/templates/**.j2": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True",
                                       "lstrip_blocks": "True"}}
    found: dict = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map=options, keywords=KEYWORDS
    ):
        key = message if isinstance(message, str) else tuple(message[:2])
        found.setdefault(key, f"{filename}:{lineno}")
    return found


def catalog(language: str):
    with (LOCALES / language / "LC_MESSAGES" / "sprout.po").open("rb") as f:
        return read_po(f, locale=language)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def test_german_is_shipped():
    assert "de" in TRANSLATED


def test_the_source_has_many_messages_and_the_template_is_current():
    source = extracted()
    assert len(source) > 200
    with (LOCALES / "sprout.pot").open("rb") as f:
        template = {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_po(f) if m.id}
    assert set(source) == template, "run pybabel extract (see the README's Languages part)"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_with_its_placeholders(language):
    po = catalog(language)
    missing, broken = [], []
    for key, where in extracted().items():
        message = po.get(key if isinstance(key, str) else key[0])
        strings = [] if message is None else (
            [message.string] if isinstance(message.string, str) else list(message.string))
        if message is None or not all(s and s.strip() for s in strings) or message.fuzzy:
            missing.append(f"{where}: {key!r}")
            continue
        ids = [key] if isinstance(key, str) else list(key)
        expected = placeholders(ids[0]) if len(ids) == 1 else sorted(set(placeholders(ids[0]) + placeholders(ids[1])))
        for s in strings:
            got = placeholders(s) if len(ids) == 1 else sorted(set(placeholders(s)))
            # A singular may leave out the count ("eine Lektion"); it must not invent or lose others.
            if len(ids) > 1:
                if not set(got) <= set(expected) or set(expected) - set(got) - {"n", "num"}:
                    broken.append(f"{where}: {s!r}")
            elif got != expected:
                broken.append(f"{where}: {s!r}")
    assert not missing, f"{len(missing)} messages without a {language} translation:\n" + "\n".join(missing)
    assert not broken, "placeholders differ:\n" + "\n".join(broken)


@pytest.mark.parametrize("language", TRANSLATED)
def test_nothing_in_the_catalog_is_left_over(language):
    """A message no longer in the source is dropped from the catalog (pybabel update), not kept stale."""
    source = {k if isinstance(k, str) else k[0] for k in extracted()}
    stale = [m.id for m in catalog(language) if m.id and (m.id if isinstance(m.id, str) else m.id[0]) not in source]
    assert not stale


def test_plurals_dates_and_numbers_follow_the_language():
    from datetime import UTC, datetime

    from bot.i18n import fmt_day, fmt_percent, fmt_when, n_

    thursday = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    with speaking("de"):
        assert [n_("%(n)s lesson", "%(n)s lessons", n) for n in (1, 2)] == ["1 Lektion", "2 Lektionen"]
        assert fmt_day(thursday) == "Do., 3. Dez."
        assert fmt_when(thursday) == "Do., 3. Dez., 09:30"
        assert fmt_percent(0.85) == "85\u00a0%"
    assert [n_("%(n)s lesson", "%(n)s lessons", n) for n in (1, 2)] == ["1 lesson", "2 lessons"]
    assert fmt_day(thursday) == "Thu 03 Dec" and fmt_when(thursday) == "Thu 03 Dec, 09:30"
    assert fmt_percent(0.85) == "85%"
    assert speaker("de-DE").language == "de"


def test_a_learner_s_language_is_their_choice_then_slack_then_the_default():
    from bot.i18n import for_learner

    assert for_learner(None, "de-DE").language == "de"
    assert for_learner("en", "de-DE").language == "en"
    assert for_learner(None, "ja-JP").language == "en"
    assert for_learner(None, "ja-JP", default="de").language == "de"
