"""Content health: which lessons, questions and links an author should look at, and why.

Each rule turns figures the records already hold into a flag with its evidence. A flag an author marks as
handled counts only what was recorded after it was handled (the records layer applies that window), so
it comes back only if the problem does: a lesson rewritten after poor ratings is judged on its new ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from learning.itemstats import ItemStats

LOW_RATING = 3.0  # a mean rating below this (of 5) is a lesson learners do not find useful...
MIN_RATINGS = 3  # ...once this many have rated it: one grumpy rating is not a verdict
INACCURATE = 2  # "inaccurate" reasons that make a lesson worth checking: one may be a misreading, two rarely are
UNOPENED_AFTER = 5  # lessons sent to this many learners (and at least UNOPENED_GRACE ago) with no one touching them
UNOPENED_GRACE = timedelta(days=2)
LINK_FAILURES = 2  # failed checks in a row before a link is flagged: one failure may be the site's bad minute
WINDOW = timedelta(days=90)  # the evidence looked at

KINDS = {
    "low_rating": "Low rating",
    "inaccurate": "Reported inaccurate",
    "question": "Question to check",
    "broken_link": "Link not answering",
    "unopened": "Nobody opened it",
}


@dataclass(frozen=True)
class LessonSignals:
    """What the records say about one lesson, since its flags were last handled (each kind its own window)."""

    pack_id: str
    lesson_id: str
    ratings: int = 0
    average_rating: float | None = None
    inaccurate: int = 0
    sent: int = 0  # sent at least UNOPENED_GRACE ago
    opened: int = 0  # of those, answered, rated, reflected on or a link opened


@dataclass(frozen=True)
class LinkStatus:
    url: str
    ok: bool
    status: int | None
    error: str | None
    failures: int
    failing_since: datetime | None
    checked_at: datetime


@dataclass(frozen=True)
class Flag:
    kind: str
    pack_id: str
    lesson_id: str
    subject: str  # the question id or URL the flag is about; "" for the lesson itself
    detail: str  # one line: what is wrong, in figures

    @property
    def label(self) -> str:
        return KINDS[self.kind]


def lesson_flags(signals: Iterable[LessonSignals]) -> list[Flag]:
    """Low ratings, "inaccurate" reports and lessons nobody opened.

    >>> [f.detail for f in lesson_flags([LessonSignals("p", "l", ratings=4, average_rating=2.25, inaccurate=2)])]
    ['rated 2.2 of 5 by 4 learners', '2 learners said it is inaccurate']
    >>> lesson_flags([LessonSignals("p", "l", ratings=2, average_rating=1.0, sent=4)])
    []
    """
    flags: list[Flag] = []
    for s in signals:
        if s.ratings >= MIN_RATINGS and s.average_rating is not None and s.average_rating < LOW_RATING:
            flags.append(Flag("low_rating", s.pack_id, s.lesson_id, "",
                              f"rated {s.average_rating:.1f} of 5 by {s.ratings} learners"))
        if s.inaccurate >= INACCURATE:
            flags.append(Flag("inaccurate", s.pack_id, s.lesson_id, "",
                              f"{s.inaccurate} learners said it is inaccurate"))
        if s.sent >= UNOPENED_AFTER and s.opened == 0:
            flags.append(Flag("unopened", s.pack_id, s.lesson_id, "",
                              f"sent to {s.sent} learners; none answered, rated or opened a link"))
    return flags


def question_flags(stats: Iterable[ItemStats]) -> list[Flag]:
    """Item analysis's flags (too easy, too hard, negative discrimination), one flag a question."""
    flags = []
    for s in stats:
        if not s.flags:
            continue
        figures = []
        if s.difficulty is not None:
            figures.append(f"{s.difficulty:.0%} right at the first try of {s.answered}")
        if s.discrimination is not None:
            figures.append(f"discrimination {s.discrimination:+.2f}")
        flags.append(Flag("question", s.pack_id, s.lesson_id, s.question_id,
                          f"{', '.join(s.flags)}: {'; '.join(figures)}"))
    return flags


def link_flags(checks: Iterable[LinkStatus], used_by: Mapping[str, Sequence[tuple[str, str]]]) -> list[Flag]:
    """Links that failed ``LINK_FAILURES`` checks in a row, once for every lesson that still uses them.

    >>> from datetime import UTC
    >>> t = datetime(2026, 12, 1, tzinfo=UTC)
    >>> [f.detail for f in link_flags([LinkStatus("https://x.test/a", False, 404, None, 2, t, t)],
    ...                                {"https://x.test/a": [("p", "l")]})]
    ['https://x.test/a answered 404 at 2 checks in a row since 2026-12-01']
    """
    flags = []
    for c in checks:
        if c.ok or c.failures < LINK_FAILURES:
            continue
        why = f"answered {c.status}" if c.status is not None else f"did not answer ({c.error or 'no response'})"
        since = f" since {c.failing_since:%Y-%m-%d}" if c.failing_since else ""
        for pack_id, lesson_id in used_by.get(c.url, ()):
            flags.append(Flag("broken_link", pack_id, lesson_id, c.url,
                              f"{c.url} {why} at {c.failures} checks in a row{since}"))
    return flags


def ordered(flags: Iterable[Flag]) -> list[Flag]:
    """What an author should read first: wrong content (inaccurate, a broken link, a question that misleads)
    before content that is merely unloved."""
    rank = {kind: i for i, kind in enumerate(("inaccurate", "broken_link", "question", "low_rating", "unopened"))}
    return sorted(flags, key=lambda f: (rank[f.kind], f.pack_id, f.lesson_id, f.subject))
