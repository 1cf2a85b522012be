"""Home tabs are published one at a time per person, the latest records last, bursts coalesced."""

from __future__ import annotations

import threading
import time

import pytest

from bot.listeners import HomeRefresher


def test_a_burst_of_changes_ends_with_the_latest_state_published_and_never_two_at_once():
    refresher = HomeRefresher()
    state = {"version": 0}
    published: list[int] = []
    drawing = {"now": 0, "most": 0}
    lock = threading.Lock()

    def draw_and_publish():
        with lock:
            drawing["now"] += 1
            drawing["most"] = max(drawing["most"], drawing["now"])
            seen = state["version"]  # the records as they are when the Home is drawn
        time.sleep(0.01)  # views.publish takes a while
        with lock:
            published.append(seen)
            drawing["now"] -= 1

    def change_then_refresh():
        with lock:
            state["version"] += 1
        refresher.publish("U0ANA", draw_and_publish)

    threads = [threading.Thread(target=change_then_refresh) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert drawing["most"] == 1, "one publish at a time for a person"
    assert published[-1] == 20, "the last publish shows the last change"
    assert published == sorted(published), "an older drawing never lands after a newer one"
    assert len(published) < 20, "a burst coalesces"


def test_people_are_published_independently_and_a_failure_does_not_stick():
    refresher = HomeRefresher()
    calls = []

    def failing():
        calls.append("fail")
        raise RuntimeError("slack is down")

    with pytest.raises(RuntimeError):
        refresher.publish("U0ANA", failing)
    refresher.publish("U0ANA", lambda: calls.append("ana"))
    refresher.publish("U0BEN", lambda: calls.append("ben"))
    assert calls == ["fail", "ana", "ben"]


class PausingLock:
    """A lock that holds one thread just after its ``n``-th release, so another can run in that gap."""

    def __init__(self, n: int) -> None:
        self._lock = threading.Lock()
        self._n = n
        self.releases = 0
        self.holder: threading.Thread | None = None
        self.paused = threading.Event()
        self.resume = threading.Event()

    def __enter__(self):
        self._lock.acquire()
        return self

    def __exit__(self, *exc):
        self._lock.release()
        if threading.current_thread() is self.holder:
            self.releases += 1
            if self.releases == self._n:
                self.paused.set()
                assert self.resume.wait(30)


def test_a_change_right_after_a_publish_finished_is_published_too():
    """The publisher has checked "nothing changed" and is leaving; a change lands in that gap. It must
    be published (by the newcomer), not marked stale for a publisher that is gone."""
    lock = PausingLock(n=2)  # the publisher's second release: right after "nothing changed meanwhile"
    refresher = HomeRefresher(lock=lock)
    draws: list[str] = []

    publisher = threading.Thread(target=refresher.publish, args=("U0ANA", lambda: draws.append("first")))
    lock.holder = publisher
    publisher.start()
    assert lock.paused.wait(30)
    refresher.publish("U0ANA", lambda: draws.append("second"))  # the change in the gap
    lock.resume.set()
    publisher.join(30)
    assert draws == ["first", "second"], "the change after the first drawing was published"
    refresher.publish("U0ANA", lambda: draws.append("third"))
    assert draws[-1] == "third", "and nobody is left marked as publishing"
