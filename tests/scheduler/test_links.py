"""The link check against a real local HTTP server: HEAD first, a capped GET when HEAD is refused, redirects
followed with the same method, a timeout, and a server that is not there."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scheduler.links import MAX_BYTES, check_link, check_links


class Site(BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []
    ranges: list[str | None] = []
    sent_bytes = 0

    def log_message(self, *args):  # quiet
        pass

    def _answer(self, body: bool) -> None:
        Site.seen.append((self.command, self.path))
        Site.ranges.append(self.headers.get("Range"))
        if self.path == "/ok":
            self.send_response(200)
            self.end_headers()
        elif self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/ok")
            self.end_headers()
        elif self.path == "/no-head" and not body:
            self.send_response(405)
            self.end_headers()
        elif self.path == "/no-head":
            self.send_response(200)
            self.send_header("Content-Length", str(10 * MAX_BYTES))
            self.end_headers()
            try:
                for _ in range(10):  # a large file: the check hangs up after MAX_BYTES
                    self.wfile.write(b"x" * MAX_BYTES)
                    Site.sent_bytes += MAX_BYTES
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif self.path == "/slow":
            time.sleep(1.5)
            self.send_response(200)
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()

    def do_HEAD(self):  # noqa: N802
        self._answer(body=False)

    def do_GET(self):  # noqa: N802
        self._answer(body=True)


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_link_that_answers_is_asked_with_head_only(site):
    Site.seen.clear()
    assert check_link(f"{site}/ok").ok
    assert Site.seen == [("HEAD", "/ok")]


def test_a_redirect_is_followed_still_asking_with_head(site):
    Site.seen.clear()
    result = check_link(f"{site}/moved")
    assert (result.ok, result.status) == (True, 200)
    assert Site.seen == [("HEAD", "/moved"), ("HEAD", "/ok")]


def test_a_server_refusing_head_gets_one_ranged_get(site):
    Site.seen.clear()
    Site.ranges.clear()
    result = check_link(f"{site}/no-head")
    assert (result.ok, result.status) == (True, 200)
    assert Site.seen == [("HEAD", "/no-head"), ("GET", "/no-head")]
    assert Site.ranges == [None, f"bytes=0-{MAX_BYTES - 1}"]  # and it reads at most that, then hangs up


def test_a_missing_page_is_not_ok_after_head_and_get(site):
    result = check_link(f"{site}/gone")
    assert (result.ok, result.status) == (False, 404)


def test_a_slow_server_times_out(site):
    started = time.monotonic()
    result = check_link(f"{site}/slow", timeout=0.3)
    assert not result.ok and result.status is None and "timed out" in result.error
    assert time.monotonic() - started < 1.2


def test_nobody_there_is_a_failure_with_its_reason():
    result = check_link("http://127.0.0.1:9/", timeout=1)
    assert not result.ok and result.status is None and result.error


def test_every_result_is_recorded_as_it_comes(site):
    recorded = []
    results = check_links([f"{site}/ok", f"{site}/gone", f"{site}/ok"], lambda r, now: recorded.append((r.url, now)),
                          lambda: "now")
    assert sorted(r.url for r in results) == [f"{site}/gone", f"{site}/ok"]
    assert sorted(recorded) == [(f"{site}/gone", "now"), (f"{site}/ok", "now")]
