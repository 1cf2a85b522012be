"""What a learner typed to Sprout in its DM: a call for help, or a question to look up in the packs.

Pure rules on the text: no Slack, no SQL. The text arrives as Slack sends it (``&lt;`` for ``<``,
``<@U123>`` for a mention), so ``plain_text`` turns it back into what the person typed before
anything else reads it; whatever is shown back to them is escaped again on the way out.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

# What people type to a bot they do not know yet. Matched on the whole message, so "help me with MFA"
# is a question, not a call for help.
HELP_WORDS = frozenset({
    "help", "?", "??", "hi", "hello", "hey", "hiya", "yo", "start", "menu", "commands", "options", "info",
    "what can you do", "what can i ask", "what do you do", "how does this work", "help me", "hello sprout",
    "hi sprout", "hey sprout", "sprout", "good morning", "morning",
})
# Words a question is made of that say nothing about its subject. The search matches any word when no
# lesson has all of them, so "how do I reset MFA?" would otherwise find every lesson that says "how".
_FILLER_WORDS = """
a about am an and any anyone are as at be can could did do does doing find for from get give go
got had has have help hi hello hey how i i'm im in is it its know learn lesson lessons let me mean
more my need of on or please should show so some someone tell than thanks thank that the their them
then there these this to up us use using want was way we were what whats when where which who why
will with would you your what's how's where's who's it's that's there's don't can't i've i'd
"""
FILLER = frozenset(_FILLER_WORDS.split())
MAX_WORDS = 8
_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_WORD = re.compile(r"[\w'’]+")


@dataclass(frozen=True)
class Asked:
    """What a message asks for: ``help``, or a search for ``words`` (empty: nothing to look up)."""

    kind: str  # "help" | "search"
    text: str  # what the person typed, as plain text
    words: str = ""


def plain_text(slack_text: str) -> str:
    """Slack's message text as the person typed it: mentions and links read as their labels, entities decoded.

    >>> plain_text("how do I reset &lt;MFA&gt; for <@U0A|ann>? <https://x.example|the page> &amp; more")
    'how do I reset <MFA> for @ann? the page & more'
    """
    def label(match: re.Match) -> str:
        target, name = match.group(1), match.group(2)
        if name:
            return ("@" if target.startswith("@") else "#" if target.startswith("#") else "") + name
        if target.startswith(("@", "#")):
            return ""  # a bare <@U123> or <#C123>: an id, not words
        return target.lstrip("!")

    return html.unescape(_LINK.sub(label, slack_text or "")).strip()


def search_words(text: str) -> str:
    """The words of a question that name its subject, in order, at most ``MAX_WORDS``.

    >>> search_words("How do I reset my MFA token?")
    'reset mfa token'
    >>> search_words("what is this?")
    ''
    """
    words = [w.strip("'") for w in _WORD.findall(text.lower().replace("’", "'"))]
    return " ".join([w for w in words if w and w not in FILLER][:MAX_WORDS])


def read(slack_text: str) -> Asked:
    """What a DM asks for.

    >>> read("Help!").kind, read("hi").kind, read("?").kind
    ('help', 'help', 'help')
    >>> read("how do I spot phishing?")
    Asked(kind='search', text='how do I spot phishing?', words='spot phishing')
    """
    text = plain_text(slack_text)
    key = " ".join(_WORD.findall(text.lower())) or text.strip()
    if not text or key in HELP_WORDS or text.strip() in HELP_WORDS:
        return Asked("help", text)
    return Asked("search", text, search_words(text))
