"""Jinja2 renders the text of messages; Block Kit builders place it."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.i18n import current, fmt_when
from bot.mrkdwn import escape, markdown_to_mrkdwn, quote

TEMPLATES = Path(__file__).resolve().parent / "templates"


def local_time(value: datetime) -> str:
    """"Thu 03 Dec, 09:30" in the reader's language ("Do., 3. Dez., 09:30")."""
    return fmt_when(value)


def _gettext(message: str) -> str:
    return current().gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return current()._t.ngettext(singular, plural, n)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one Environment. Autoescaping is off because the output is mrkdwn, not HTML:
    anything a person typed goes through ``slack_escape`` (or ``quote``) explicitly."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # templates ship with the code: no stat() of the file on every message
        extensions=["jinja2.ext.i18n"],
    )
    # Jinja's "new style" gettext: ``{{ _("%(n)s lessons", n=3) }}``, looked up in the current reader's
    # language (bot.i18n) each time a template is rendered. ``ngettext``'s count is ``%(num)s``.
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
    env.filters["slack_escape"] = escape
    env.filters["quote"] = quote
    env.filters["mrkdwn"] = markdown_to_mrkdwn
    env.filters["local_time"] = local_time
    return env


def render(name: str, **context: object) -> str:
    return environment().get_template(name).render(**context).strip()
