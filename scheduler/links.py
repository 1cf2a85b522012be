"""Checking that lesson links still answer: a scheduled job, never part of a click.

Each link gets a HEAD request with a timeout. Servers that refuse HEAD (405, 501; some answer 403 or 404 to
HEAD alone) get one GET that reads at most ``MAX_BYTES`` of the body and hangs up, so a link to a large
file or a slow stream costs neither time nor memory. Redirects are followed (at most five) with the same
method. A status below 400 is a link that works.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
MAX_BYTES = 64 * 1024
USER_AGENT = "Sprout-link-check/1 (+https://github.com/sprout-learning/sprout)"
RETRY_WITH_GET = {403, 404, 405, 501}


@dataclass(frozen=True)
class LinkResult:
    url: str
    ok: bool
    status: int | None
    error: str | None = None


class _SameMethod(urllib.request.HTTPRedirectHandler):
    """urllib turns a redirected HEAD into a GET; a check must not download what it only asks about."""

    max_redirections = 5

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 (urllib's signature)
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            new.method = req.get_method()
        return new


_OPENER = urllib.request.build_opener(_SameMethod)


def _ask(url: str, method: str, timeout: float, max_bytes: int) -> int:
    headers = {"User-Agent": USER_AGENT}
    if method == "GET":
        headers["Range"] = f"bytes=0-{max_bytes - 1}"
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            if method == "GET":
                response.read(max_bytes)
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def check_link(url: str, *, timeout: float = TIMEOUT_SECONDS, max_bytes: int = MAX_BYTES) -> LinkResult:
    """Whether ``url`` answers, by HEAD and, when a server refuses HEAD, by a capped GET."""
    try:
        status = _ask(url, "HEAD", timeout, max_bytes)
        if status in RETRY_WITH_GET:
            status = _ask(url, "GET", timeout, max_bytes)
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return LinkResult(url, False, None, f"{type(reason).__name__}: {reason}"[:300])
    return LinkResult(url, status < 400, status)


def check_links(
    urls: Iterable[str], record: Callable[[LinkResult, datetime], None], now: Callable[[], datetime], *,
    check: Callable[[str], LinkResult] = check_link, workers: int = 4,
) -> list[LinkResult]:
    """Check every link, a few at a time, and record each result as it comes (a crash loses no check)."""
    results = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sprout-links") as pool:
        for result in pool.map(check, sorted(set(urls))):
            record(result, now())
            results.append(result)
    failing = [r for r in results if not r.ok]
    log.info("links checked: %d, %d not answering", len(results), len(failing))
    return results
