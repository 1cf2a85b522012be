"""Which language Sprout speaks to a learner: a pure rule, like the time-zone one in learning.schedule.

A learner's own choice (``/learn language de``) wins over the locale Slack reports for them
(``users.info`` with ``include_locale``: ``"de-DE"``), which wins over the workspace's default.
A language Sprout has no text for falls back, by its primary subtag first (``pt-BR`` → ``pt``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence


def primary(tag: str) -> str:
    """``de-DE`` → ``de``; Slack writes locales with a hyphen, gettext with an underscore."""
    return tag.replace("_", "-").split("-", 1)[0].lower()


def normalise(tag: str) -> str:
    """A BCP 47 tag in the case packs use: ``pt_br`` → ``pt-BR``, ``DE`` → ``de``."""
    parts = tag.replace("_", "-").split("-")
    return "-".join([parts[0].lower(), *(p.upper() if len(p) == 2 else p for p in parts[1:])])


def resolve_language(
    chosen: str | None, slack_locale: str | None, *, available: Collection[str], default: str = "en"
) -> str:
    """The first of the learner's choice, Slack's locale and ``default`` that is ``available``, matched
    exactly or by primary subtag; ``default`` when none is."""
    offered = {normalise(a) for a in available}
    for tag in (chosen, slack_locale, default):
        if not tag:
            continue
        tag = normalise(tag)
        if tag in offered:
            return tag
        if primary(tag) in offered:
            return primary(tag)
    return default


def pack_language(languages: Sequence[str], chosen: str | None, slack_locale: str | None) -> str:
    """The language a learner reads a pack in: ``languages`` are the pack's own first, then its translations'.
    A learner whose language the pack has no text for reads it in its own language.

    >>> pack_language(["en", "de"], None, "de-DE"), pack_language(["en", "de"], None, "fr-FR")
    ('de', 'en')
    """
    if not languages:
        return "en"
    return resolve_language(chosen, slack_locale, available=languages, default=languages[0])
