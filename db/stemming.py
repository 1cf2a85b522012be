"""Words as search compares them, per language: lowercased, each cut to its stem by the Snowball stemmer of
the lesson's language (``Passwörter`` and ``Passwort`` are both ``passwort`` in German).

SQLite's FTS5 has only an English (Porter) stemmer, so Sprout stems in Python, stores the stems beside each
lesson's text and stems the searched words the same way; PostgreSQL stems with its own text search
configuration of the same language (``TS_CONFIGS``), ``simple`` (no stemming) for a language it has none for.
"""

from __future__ import annotations

import functools
import re

import snowballstemmer

# ISO 639-1 → the Snowball algorithm's name (snowballstemmer.algorithms()).
SNOWBALL = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "et": "estonian", "eu": "basque", "fi": "finnish", "fr": "french", "ga": "irish",
    "hi": "hindi", "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian", "lt": "lithuanian",
    "ne": "nepali", "nl": "dutch", "no": "norwegian", "nb": "norwegian", "pl": "polish", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sr": "serbian", "sv": "swedish", "ta": "tamil", "tr": "turkish",
}
# ISO 639-1 → PostgreSQL's built-in text search configuration (SELECT cfgname FROM pg_ts_config).
TS_CONFIGS = {
    "ar": "arabic", "ca": "catalan", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "eu": "basque", "fi": "finnish", "fr": "french", "ga": "irish", "hi": "hindi",
    "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian", "lt": "lithuanian", "ne": "nepali",
    "nl": "dutch", "no": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "sv": "swedish", "ta": "tamil", "tr": "turkish",
}
_WORD = re.compile(r"\w+")


def primary(language: str) -> str:
    return language.replace("_", "-").split("-", 1)[0].lower()


def ts_config(language: str) -> str:
    """The PostgreSQL configuration a lesson in ``language`` is indexed and searched with."""
    return TS_CONFIGS.get(primary(language), "simple")


def ts_config_case(column: str) -> str:
    """SQL choosing the configuration by a language column: constants only, so a generated column may use it
    (a cast of text to regconfig is not immutable)."""
    whens = " ".join(f"WHEN '{code}' THEN '{name}'::regconfig" for code, name in sorted(TS_CONFIGS.items()))
    return f"(CASE lower(split_part({column}, '-', 1)) {whens} ELSE 'simple'::regconfig END)"


@functools.cache
def _stemmer(language: str):
    name = SNOWBALL.get(primary(language))
    return snowballstemmer.stemmer(name) if name else None


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def stems(words_: list[str], language: str) -> list[str]:
    stemmer = _stemmer(language)
    return stemmer.stemWords(words_) if stemmer else list(words_)


def stemmed(text: str, language: str) -> str:
    """``text`` as the stems FTS5 indexes, separated by spaces."""
    return " ".join(stems(words(text), language))
