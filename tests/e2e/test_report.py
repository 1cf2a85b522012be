"""The organisation report: one self-contained HTML page, opened in headless Chromium, and the
``python app.py report`` command that writes it.

Runs Debian's ``chromium`` through Playwright for Python (never downloading a browser); the
screenshot goes to the test's tmp_path. The browser test draws the page with
``bot.digest.organisation_report``; ``test_python_app_py_report_writes_the_page`` runs the command
itself (``app.main``), with its settings from the environment and packs from a folder.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import select

from bot.digest import organisation_report
from content_packs.catalog import Catalog
from content_packs.schema import Cost
from db.engine import make_engine
from db.migrate import upgrade
from db.models import ReviewCard
from db.reporting import Reporting
from db.store import Store
from learning.fitting import DEFAULT_PARAMETERS, Fit
from learning.simulation import forecast, recorded_answers
from tests.db.test_reporting import Records
from tests.simulated_workspace import fill

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
        # Replies to discussion prompts: from the security pack's discussion, typed in, and one too late.
        for k in range(i % 3):
            records.contribution(lid, at=SINCE + timedelta(days=20 + i + k), pack=security.id)
        if i % 4 == 1:
            records.contribution(lid, at=SINCE + timedelta(days=60 + i))
        if i == 5:
            records.contribution(lid, at=UNTIL + timedelta(hours=1), pack=security.id)
    return records


def replies(records: Records, *, pack: str | None = None, team: str | None = None) -> int:
    """Discussion replies in the report's period, counted from what the test wrote."""
    teams = {lid: v["team"] for lid, v in records.learners.items()}
    return sum(1 for c in records.contributions if SINCE <= c["at"] < UNTIL
               and (pack is None or c["pack"] == pack) and (team is None or teams[c["learner_id"]] == team))


def cell(table, row, header: str):
    """The cell of ``row`` under the column headed ``header``."""
    return row.locator("td").nth(table.locator("thead th").all_inner_texts().index(header))


@pytest.mark.skipif(sync_playwright is None or not Path(CHROMIUM).exists(),
                    reason="the browser test needs Chromium at /usr/bin/chromium (apt-get install chromium) "
                           "and Playwright for Python (pip install playwright)")
def test_the_report_opens_in_a_browser_with_its_tables_and_charts(engine, tmp_path):
    records = write_records(engine)
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
            expect(page.locator("#discussion-replies b")).to_have_text(str(replies(records)))
            expect(cell(packs, security, "Discussion replies")).to_have_text(str(replies(records, pack="security-basics")))
            teams = page.locator("table#teams")
            platform = teams.locator("tbody tr").filter(has_text="Platform")
            expect(cell(teams, platform, "Discussion replies")).to_have_text(str(replies(records, team="Platform")))
            # Different numbers, so the columns cannot be mistaken for each other.
            assert 0 < replies(records, team="Platform") != replies(records, pack="security-basics") > 0
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


def test_python_app_py_report_writes_the_page(database_url, tmp_path, capsys):
    """The command as an L&D person runs it: settings from the environment, packs from their folder."""
    import app

    packs = tmp_path / "packs"
    shutil.copytree(BUNDLED / "data-privacy-basics", packs / "data-privacy-basics")
    shutil.copytree(BUNDLED / "security-basics", packs / "security-basics")
    pack_file = packs / "security-basics" / "pack.yaml"
    pack_file.write_text(pack_file.read_text().replace("version: 1\n", "version: 1\ncost: {amount: 1200, currency: USD}\n", 1))
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        records = write_records(engine)
    finally:
        engine.dispose()
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()
    env = {"DATABASE_URL": database_url, "CONTENT_PACKS_DIR": str(packs)}

    assert app.main(["report", "--out", str(out), "--since", "2026-09-01", "--until", "2026-12-01"], environ=env) == 0
    printed = capsys.readouterr().out
    assert f"{out}: learning report 2026-09-01 to 2026-12-01" in printed and "self-contained" in printed
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "<title>Sprout learning report · 01 Sep 2026 – 01 Dec 2026</title>" in html
    assert "1,200.00 USD" in html, "the pack's declared cost, read from its pack.yaml"
    security_row = html[html.index("<code>security-basics</code>"):]
    security_row = security_row[: security_row.index("</tr>")]
    delivered = sum(1 for x in records.lessons if x.pack == "security-basics" and SINCE <= x.sent_at < UNTIL)
    assert f"<td>{delivered}</td>" in security_row
    assert f"<td>{replies(records, pack='security-basics')}</td>" in security_row
    overview = html[html.index('id="discussion-replies"'):]
    assert overview.startswith(f'id="discussion-replies"><b>{replies(records)}</b>')
    assert NASTY not in html and "&lt;script&gt;alert(&#39;report&#39;)&lt;/script&gt;" in html, "people's text is escaped"

    assert app.main(["report", "--out", str(out), "--since", "2026-12-01", "--until", "2026-09-01"], environ=env) == 2
    assert "--since must be before --until" in capsys.readouterr().err


def test_the_report_shows_the_teams_expected_recall_per_pack_and_the_retention_dial(engine):
    """Expected recall now (each open card's FSRS retrievability, averaged per pack, checked here with
    FSRS-6's curve written out), the questions under the desired retention, and the dial's forecast at the
    configured retention and one step either side; with fitted parameters, the forecast uses them."""
    catalog = catalog_with_a_price()
    security = catalog.get("security-basics")
    questions = [(lesson.id, lesson.quiz[0].id) for lesson in security.lessons if lesson.quiz][:8]
    answers = recorded_answers("fsrs", learners=12, questions=len(questions), days=40, seed=3)
    fill(engine, answers, pack=security.id, questions=questions)
    now = max(moment for learner in answers for _q, moment, _r in learner) + timedelta(days=60)

    html = organisation_report(Reporting(engine), catalog, since=now - timedelta(days=90), until=now, now=now,
                               retention=0.85)

    w = DEFAULT_PARAMETERS
    factor = 0.9 ** (-1 / w[20]) - 1
    per_question: dict[tuple[str, str], list[float]] = {}
    with engine.connect() as conn:
        for card in conn.execute(select(ReviewCard.__table__).where(ReviewCard.retired_at.is_(None))):
            stability = json.loads(card.fsrs)["stability"]
            days = (now - card.last_review).days
            per_question.setdefault((card.lesson_id, card.question_id), []).append((1 + factor * days / stability) ** -w[20])
    every = [r for rs in per_question.values() for r in rs]
    section = html.split('id="memory-by-pack"')[1].split("</table>")[0]
    row = section.split(security.title)[1].split("</tr>")[0]
    assert f"<td>{sum(every) / len(every) * 100:.0f}%</td><td>{len(every)}</td><td>12</td>" in row
    lowest = min(per_question, key=lambda q: sum(per_question[q]) / len(per_question[q]))
    prompt = catalog.lesson(security.id, lowest[0]).question(lowest[1]).prompt
    assert sum(per_question[lowest]) / len(per_question[lowest]) < 0.85
    first = row.split("<li>")[1]
    assert first.startswith(str(escape(prompt))) and f"of {len(per_question[lowest])} learners below" in first

    dial = html.split('id="retention-dial"')[1].split("</div>")[0]
    for retention in (0.80, 0.85, 0.90):
        f = forecast(retention)
        assert (f"at {retention:.2f}: about {f.per_week:.0f} review questions a learner a week and "
                f"{f.recall * 100:.0f}% expected recall at day 90") in dial
    assert "0.85 (configured)" not in dial and "day 90 (configured)" in dial.split("at 0.85")[1].split("</li>")[0]
    assert "default parameters" in dial

    fast = list(DEFAULT_PARAMETERS)
    fast[0], fast[2], fast[20] = 0.05, 0.6, 0.5
    Store(engine).record_fit(Fit(tuple(fast), 0.4, 0.6, 1200, 60, 240), adopted=True, rescheduled={}, now=now)
    fitted = organisation_report(Reporting(engine), catalog, since=now - timedelta(days=90), until=now, now=now,
                                 retention=0.85)
    dial = fitted.split('id="retention-dial"')[1].split("</div>")[0]
    f = forecast(0.85, parameters=tuple(fast))
    assert "fitted FSRS parameters" in dial
    assert f"at 0.85: about {f.per_week:.0f} review questions a learner a week and {f.recall * 100:.0f}%" in dial

    # The fit's held-out log loss beside the defaults', per scope.
    fits = fitted.split('id="fsrs-fits"')[1].split("</table>")[0]
    assert "Workspace (every pack without its own)" in fits
    assert "<td>0.400</td><td>0.600</td><td>—</td>" in fits and "adopted; 0 open cards rescheduled" in fits
    assert 'id="fsrs-fits"' not in html, "no table before any fit"
