"""The digest's chart: one figure per thread is drawn again for each team, and nothing of one team's
chart shows in the next."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from bot import charts
from learning.digest import WeekPoint

TITLE = "Your team, last 8 weeks"


def weeks(answered: list[int], right: list[int | None], start: date = date(2026, 10, 5)) -> list[WeekPoint]:
    return [WeekPoint(start + timedelta(days=7 * i), n, 0 if r is None else max(n, 1), r or 0)
            for i, (n, r) in enumerate(zip(answered, right, strict=True))]


SMALL = weeks([1, 0, 2, 3, 0, 1, 2, 1], [1, None, 2, 1, None, 0, 2, 1])
BIG = weeks([120, 300, 80, 0, 410, 95, 60, 222], [100, 250, None, None, 100, 90, 30, 200], date(2026, 3, 2))


def fresh(points) -> bytes:
    """The chart drawn on a new figure, as if it were the first of its thread."""
    out: list[bytes] = []
    thread = threading.Thread(target=lambda: out.append(charts.weekly_chart_png(points, title=TITLE)))
    thread.start()
    thread.join()
    return out[0]


def test_a_reused_figure_draws_exactly_what_a_new_one_would():
    first = charts.weekly_chart_png(SMALL, title=TITLE)
    assert first.startswith(b"\x89PNG")
    big = charts.weekly_chart_png(BIG, title=TITLE)  # another team: other scale, other weeks
    assert charts.weekly_chart_png(SMALL, title=TITLE) == first == fresh(SMALL)
    assert big == fresh(BIG) != first


def test_each_thread_draws_on_its_own_figure():
    results: dict[str, bytes] = {}

    def draw(name, points):
        for _ in range(5):
            results[name] = charts.weekly_chart_png(points, title=TITLE)

    threads = [threading.Thread(target=draw, args=(n, p)) for n, p in (("small", SMALL), ("big", BIG))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"small": fresh(SMALL), "big": fresh(BIG)}
