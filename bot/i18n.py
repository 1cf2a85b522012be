"""Sprout's own words in the reader's language: gettext catalogs (made with Babel), plural forms, and
dates, numbers and percentages in the reader's locale.

English is the source text. Each other language is a ``bot/locales/<lang>/LC_MESSAGES/sprout.po``,
compiled in memory when first used (see ``_translations``). Text is chosen per recipient at the edge:
a listener speaks the language of whoever clicked or typed (``speaking`` around the listener, set up in
``bot.slack_app``), the outbox renderer the language of whoever a message is for. The builders below it
call ``_``/``n_`` and the ``fmt_*`` helpers, which read the current ``Speaker``: a context variable, so a
thread (or a drawing thread given ``contextvars.copy_context``) speaks one language at a time.

Placeholders are Python's ``%(name)s``: a translation can move them, and the catalog test checks that it
keeps every one.
"""

from __future__ import annotations

import contextvars
import gettext as _gettext
import io
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal as _format_decimal
from babel.numbers import format_percent as _format_percent

from learning.language import normalise, resolve_language

LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "sprout"
SOURCE_LANGUAGE = "en"


@lru_cache(maxsize=1)
def available_languages() -> tuple[str, ...]:
    """English plus every language with a catalog, e.g. ``("de", "en")``."""
    found = {SOURCE_LANGUAGE}
    if LOCALES.is_dir():
        found |= {d.name.replace("_", "-") for d in LOCALES.iterdir() if (d / "LC_MESSAGES" / f"{DOMAIN}.po").is_file()}
    return tuple(sorted(found))


@lru_cache(maxsize=16)
def _translations(language: str) -> _gettext.NullTranslations:
    """The catalog for ``language``, compiled from its .po in memory with Babel.

    No compiled .mo is committed: the .po is the one source, a translator's change is live at the next
    start without a build step, and nothing can drift. Compiling a few hundred messages takes milliseconds
    once per language and process."""
    if language == SOURCE_LANGUAGE:
        return _gettext.NullTranslations()
    po = LOCALES / language.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.is_file():
        return _gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=language.replace("-", "_"))
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, as msgfmt does
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


class Speaker:
    """Sprout speaking one language: its catalog and its locale's dates and numbers."""

    def __init__(self, language: str) -> None:
        self.language = normalise(language)
        self.locale = Locale.parse(self.language.replace("-", "_"))
        self._t = _translations(self.language)

    def __repr__(self) -> str:
        return f"Speaker({self.language!r})"

    def gettext(self, message: str, /, **params: object) -> str:
        text = self._t.gettext(message)
        return text % params if params else text

    def ngettext(self, singular: str, plural: str, n: int, /, **params: object) -> str:
        """``%(n)s`` in either form is the count, written in the locale's digits."""
        text = self._t.ngettext(singular, plural, n)
        return text % {"n": self.decimal(n), **params}

    def datetime(self, value: datetime | date, pattern: str) -> str:
        """``pattern`` is a CLDR pattern that is itself a translatable message (``_("EEE dd MMM, HH:mm")``);
        a plain date is formatted as a date."""
        if not isinstance(value, datetime):
            return _format_date(value, pattern, locale=self.locale)
        return _format_datetime(value, pattern, tzinfo=value.tzinfo, locale=self.locale)

    def date(self, value: date, pattern: str) -> str:
        return _format_date(value, pattern, locale=self.locale)

    def decimal(self, value: float, pattern: str | None = None) -> str:
        return _format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, value: float, pattern: str | None = None) -> str:
        return _format_percent(value, format=pattern, locale=self.locale)


@lru_cache(maxsize=64)
def speaker(language: str) -> Speaker:
    """The speaker of the closest language with a catalog: ``de-DE`` → ``de``; none → English."""
    return _speaker(resolve_language(language, None, available=available_languages(), default=SOURCE_LANGUAGE))


@lru_cache(maxsize=16)
def _speaker(language: str) -> Speaker:
    return Speaker(language)


ENGLISH = speaker(SOURCE_LANGUAGE)

# The current speaker, or a function that finds it when first asked (most clicks draw no text in the
# request's own thread, so the learner's language is read only when something is said).
_current: contextvars.ContextVar[Speaker | Callable[[], Speaker]] = contextvars.ContextVar("speaker",
                                                                                           default=ENGLISH)


def current() -> Speaker:
    found = _current.get()
    if isinstance(found, Speaker):
        return found
    resolved = found()
    _current.set(resolved)
    return resolved


@contextmanager
def speaking(language: str | Speaker | Callable[[], Speaker]) -> Iterator[Speaker | Callable[[], Speaker]]:
    """Speak ``language`` (a tag, a Speaker, or a function giving one when first needed) inside the block."""
    value = speaker(language) if isinstance(language, str) else language
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)


def for_learner(chosen: str | None, slack_locale: str | None, *, default: str = SOURCE_LANGUAGE) -> Speaker:
    """The speaker for someone: their choice, else Slack's locale, else the workspace's default."""
    return speaker(resolve_language(chosen, slack_locale, available=available_languages(), default=default))


def is_available(language: str) -> bool:
    return normalise(language) in available_languages()


# -- what builders call ------------------------------------------------------------------------


def _(message: str, /, **params: object) -> str:
    """Translate ``message`` for the current reader, then fill its ``%(name)s`` placeholders."""
    return current().gettext(message, **params)


def n_(singular: str, plural: str, n: int, /, **params: object) -> str:
    """The plural form of ``n`` for the current reader; ``%(n)s`` is the count."""
    return current().ngettext(singular, plural, n, **params)


def N_(message: str, /) -> str:
    """Marks text for the catalog where it is defined (a constant); ``_`` translates it where it is used."""
    return message


# CLDR patterns, themselves translated, so each language writes dates its own way. The English ones give
# exactly what Sprout wrote before with strftime ("Thu 03 Dec, 09:30", "03 Dec 2026").
def fmt_when(value: datetime) -> str:
    """A day and a time: "Thu 03 Dec, 09:30"."""
    return current().datetime(value, _("EEE dd MMM, HH:mm"))


def fmt_day(value: datetime | date) -> str:
    """A day: "Thu 03 Dec"."""
    if isinstance(value, datetime):
        return current().datetime(value, _("EEE dd MMM"))
    return current().date(value, _("EEE dd MMM"))


def fmt_date(value: datetime | date) -> str:
    """A date with its year: "03 Dec 2026"."""
    if isinstance(value, datetime):
        return current().datetime(value, _("dd MMM yyyy"))
    return current().date(value, _("dd MMM yyyy"))


def fmt_day_month(value: datetime | date) -> str:
    """A day of a month, without the weekday: "03 Dec"."""
    return current().datetime(value, _("dd MMM"))


def fmt_percent(value: float) -> str:
    """0.85 → "85%" (English), "85 %" (German)."""
    return current().percent(value)


def fmt_number(value: float, pattern: str | None = None) -> str:
    return current().decimal(value, pattern)


def language_names(languages: Collection[str]) -> str:
    """``de, en`` as "`de` (Deutsch), `en` (English)": each in its own language."""
    return ", ".join(f"`{tag}` ({Locale.parse(tag.replace('-', '_')).display_name})" for tag in sorted(languages))
