"""Cursor loops over Slack's paginated methods, with a bound on pages and on time.

Slack decides how many pages a listing has; a loop that trusts it can run for ever (a cursor that
never ends, a workspace far larger than expected, a rate limit that stretches every page). Every
cursor loop in Sprout goes through ``bounded_pages``: past its bound it logs one warning and raises
``TooManyPages``, because acting on part of a list (a roster sync that thinks everyone else left, an
announcement that reaches half a channel) is worse than stopping with a reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from learning.errors import SproutError

log = logging.getLogger(__name__)

MAX_PAGES = 1_000  # 200,000 members at 200 a page
MAX_SECONDS = 30 * 60.0  # users.list is Tier 2: 500 pages take 25 minutes


class TooManyPages(SproutError):
    """A listing went past its bound on pages or time; what was read is not the whole list."""


@dataclass
class Page:
    """One turn of the loop: call with ``cursor``, then ``next(next_cursor)`` says whether another page follows."""

    number: int
    cursor: str | None = None
    _more: bool = field(default=False, repr=False)

    def next(self, cursor: str | None) -> bool:
        self.cursor = cursor or None
        self._more = bool(cursor)
        return self._more


def bounded_pages(
    what: str,
    *,
    max_pages: int | None = None,
    max_seconds: float | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> Iterator[Page]:
    """Yield pages while the caller says more follow (``page.next``), at most ``max_pages`` and ``max_seconds``.

    >>> answers = {None: "b", "b": "c", "c": ""}  # each page's next_cursor
    >>> asked = []
    >>> for page in bounded_pages("letters"):
    ...     asked.append(page.cursor)
    ...     if not page.next(answers[page.cursor]):
    ...         break
    >>> asked
    [None, 'b', 'c']
    """
    max_pages = MAX_PAGES if max_pages is None else max_pages
    max_seconds = MAX_SECONDS if max_seconds is None else max_seconds
    started = monotonic()
    page = Page(number=1)
    while True:
        yield page
        if not page._more:
            return
        elapsed = monotonic() - started
        if page.number >= max_pages or elapsed >= max_seconds:
            log.warning("%s: stopped after %d pages and %.0f s (bound: %d pages, %.0f s); the list is incomplete",
                        what, page.number, elapsed, max_pages, max_seconds)
            raise TooManyPages(f"{what}: Slack had more than {page.number} pages; stopped rather than act on part "
                               "of the list")
        page = Page(number=page.number + 1, cursor=page.cursor)
