"""The organisation report: one self-contained HTML page, opened in headless Chromium.

Runs Debian's ``chromium`` through Playwright for Python (never downloading a browser); the
screenshot goes to the test's tmp_path. Until ``python app.py report`` is wired in app.py, the
test calls what that command calls, ``bot.digest.organisation_report``.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.digest import organisation_report
from content_packs.catalog import Catalog
from content_packs.schema import Cost
from db.reporting import Reporting
from tests.db.test_reporting import Records

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
BUNDLED = Path(__file__).resolve().parents[2] / "content_packs"
SINCE = datetime(2026, 9, 1, tzinfo=UTC)
UNTIL = datetime(2026, 12, 1, tzinfo=UTC)
NASTY = "<script>alert('report')</script> <img src=x onerror=alert(2)> & <!channel>"


def catalog_with_a_price() -> Catalog:
    loaded, _ = Catalog.from_directory(BUNDLED)
    packs = {p.id: p for p in loaded}
    packs["security-basics"] = packs["security-basics"].model_copy(update={"cost": Cost(amount=1200, currency="USD")})
    return Catalog(packs)


def write_records(engine) -> Records:
    records = Records(engine)
    catalog = catalog_with_a_price()
    security = catalog.get("security-basics")
    privacy = catalog.get("data-privacy-basics")
    teams = ["Platform", "Sales", None]
    for i in range(12):
        lid = records.learner(f"U0R{i:03d}", name=f"Reader {i}", team=teams[i % 3])
        for n, lesson in enumerate(security.lessons[:4]):
            at = SINCE + timedelta(days=7 * n + i)
            right = (i + n) % 3 != 0
            records.lesson(lid, pack=security.id, lesson=lesson.id, sent_at=at,
                           answers=[(q.id, right if k == 0 else i % 2 == 0, at + timedelta(hours=1))
                                    for k, q in enumerate(lesson.quiz)],
                           rating=1 + (i + n) % 5, rated_at=at + timedelta(hours=2),
                           reason="too_hard" if (i + n) % 5 == 0 else None,
                           comment=NASTY if (i, n) == (1, 0) else None)
        if i % 2 == 0:
            lesson = privacy.lessons[0]
            at = SINCE + timedelta(days=40 + i)
            records.lesson(lid, pack=privacy.id, lesson=lesson.id, sent_at=at,
                           answers=[(q.id, True, at) for q in lesson.quiz])
        if i % 4 == 0:
            records.certificate(lid, pack=security.id, issued_at=SINCE + timedelta(days=30 + i))
            records.review(lid, pack=security.id, correct=i % 8 == 0, at=SINCE + timedelta(days=50 + i))
    return records


@pytest.mark.skipif(sync_playwright is None or not Path(CHROMIUM).exists(),
                    reason="the browser test needs Chromium at /usr/bin/chromium (apt-get install chromium) "
                           "and Playwright for Python (pip install playwright)")
def test_the_report_opens_in_a_browser_with_its_tables_and_charts(engine, tmp_path):
    write_records(engine)
    reporting = Reporting(engine)
    reporting.set_setting("learner_hour_cost", "45 USD", UNTIL, by="U0ADMIN")
    html = organisation_report(reporting, catalog_with_a_price(), since=SINCE, until=UNTIL, now=UNTIL)
    out = tmp_path / "report.html"
    out.write_text(html, encoding="utf-8")

    assert NASTY not in html and "&lt;script&gt;alert(&#39;report&#39;)&lt;/script&gt;" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "nothing is fetched from anywhere"
    assert "<link" not in html and "<script" not in html

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            seen = {"dialogs": [], "requests": []}
            page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
            page.on("request", lambda request: seen["requests"].append(request.url))
            page.goto(out.as_uri())
            assert page.title().startswith("Sprout learning report")
            packs = page.locator("table#packs")
            expect(packs).to_be_visible()
            security = packs.locator("tr").filter(has_text="security-basics")
            expect(security).to_contain_text("1,200.00 USD")  # the pack's declared cost
            # 4 lessons × 12 learners answered, 3 minutes each at 45 USD an hour: 48 × 3 / 60 × 45 = 108.
            lesson_minutes = sum(lesson.minutes for lesson in catalog_with_a_price().get("security-basics").lessons[:4])
            time_cost = 12 * lesson_minutes / 60 * 45
            expect(security).to_contain_text(f"{time_cost:,.2f} USD")
            expect(security).to_contain_text(f"{(1200 + time_cost) / 3:,.2f} USD")  # per certificate (3 issued)
            expect(page.locator("table#teams")).to_contain_text("Platform")
            expect(page.locator("table#teams")).to_contain_text("(no team)")
            expect(page.locator("table#items tbody tr").first).to_be_visible()
            chart = page.locator("figure.chart svg").first
            expect(chart).to_be_visible()
            box = chart.bounding_box()
            assert box and box["width"] > 300 and box["height"] > 100
            expect(page.locator("table#lesson-feedback blockquote").first).to_have_text(NASTY)
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            assert seen["dialogs"] == [], "nothing a person typed ran as script"
            assert all(url.startswith("file://") or url.startswith("data:") for url in seen["requests"])
        finally:
            browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10_000
