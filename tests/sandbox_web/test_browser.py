"""The sandbox page in a real browser: a lesson arrives, is answered, rated and commented on, as in Slack.

Runs headless Chromium from the system (Debian's ``chromium`` package) through Playwright for Python;
no browser is ever downloaded. Screenshots go to the test's tmp_path.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.sandbox_web.conftest import BY_NAME

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NASTY = "<script>alert(1)</script> <!channel>"


def missing_browser(chromium: str, *, playwright_installed: bool) -> str | None:
    """Why the browser test cannot run here, or None."""
    missing = []
    if not Path(chromium).is_file():
        missing.append(f"Chromium at {chromium} (apt-get install chromium)")
    if not playwright_installed:
        missing.append("Playwright for Python (pip install playwright)")
    return f"the browser test needs {' and '.join(missing)}" if missing else None


def require_browser(chromium: str, *, playwright_installed: bool, ci: bool) -> None:
    """Skip, saying why, when there is no browser; under CI (which installs one) fail instead."""
    reason = missing_browser(chromium, playwright_installed=playwright_installed)
    if reason is None:
        return
    if ci:
        pytest.fail(f"{reason}; CI installs it (.ci/run), so its absence is a failure here, not a skip")
    pytest.skip(reason)


def test_no_browser_is_a_skip_locally_and_a_failure_under_ci(tmp_path):
    nowhere = str(tmp_path / "no-chromium")
    assert missing_browser(nowhere, playwright_installed=True) == (
        f"the browser test needs Chromium at {nowhere} (apt-get install chromium)"
    )
    with pytest.raises(pytest.skip.Exception, match="needs Chromium"):
        require_browser(nowhere, playwright_installed=True, ci=False)
    with pytest.raises(pytest.fail.Exception, match="its absence is a failure"):
        require_browser(nowhere, playwright_installed=False, ci=True)
    real = tmp_path / "chromium"
    real.write_text("")
    assert require_browser(str(real), playwright_installed=True, ci=True) is None


@pytest.fixture
def browser_page():
    """Headless Chromium, checked for before the sandbox starts (list this fixture first)."""
    require_browser(CHROMIUM, playwright_installed=sync_playwright is not None, ci=bool(os.environ.get("CI")))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.set_default_timeout(10_000)
        seen = {"dialogs": [], "errors": [], "requests": []}
        page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: seen["errors"].append(str(error)))
        page.on("console", lambda message: message.type == "error" and seen["errors"].append(message.text))
        page.on("request", lambda request: seen["requests"].append(request.url))
        try:
            yield page, seen
        finally:
            browser.close()


def correct_answer(sandbox, lesson_message) -> tuple[int, str]:
    button = next(
        e
        for b in lesson_message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith("answer:")
    )
    value = json.loads(button["value"])
    state = sandbox.sprout.store.delivery_state(value["d"])
    question = sandbox.sprout.catalog.lesson(state.pack_id, state.lesson_id).question(value["q"])
    return question.correct_index, question.explain


def test_a_lesson_in_the_browser_from_delivery_to_comment(browser_page, sandbox, tmp_path):
    page, seen = browser_page
    dana, felix = BY_NAME["Dana"], BY_NAME["Felix"]
    page.goto(sandbox.url)
    people = page.locator("#people .person")
    expect(people).to_have_count(7)
    expect(page.locator("#people")).to_contain_text("Australia/Sydney")
    expect(page.locator("#people")).to_contain_text("facilitator · People")

    page.locator(f'#people .person[data-user-id="{dana.user_id}"]').click()
    expect(page.locator("#conv-who")).to_contain_text("Dana Okafor")
    page.get_by_role("button", name="Jump to the next delivery").click()
    lesson = page.locator("article.msg").filter(has=page.locator(".sk-header"))
    expect(lesson.locator(".sk-header-text")).to_contain_text("Situation-Behavior-Impact")
    expect(lesson.locator(".msg-time")).to_have_text("10:00 AM")  # Dana's own morning, in Sydney
    expect(page.locator("#clock-now")).to_contain_text("Sun 29 Nov 2026, 23:00 UTC")
    page.screenshot(path=str(tmp_path / "1-lesson.png"))
    lesson.locator(".sk-header").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "1-lesson-top.png"))

    # The right answer, then the explanation.
    message = next(
        m for m in sandbox.emulator.dm_messages(dana.user_id) if m["blocks"][0]["type"] == "header"
    )
    right, explain = correct_answer(sandbox, message)
    lesson.locator(f'button[data-action-id="answer:{right}"]').click()
    expect(lesson).to_contain_text("✅ Right")
    expect(lesson.locator(".sk-context").filter(has_text="💡")).to_contain_text(explain[:60])
    page.screenshot(path=str(tmp_path / "2-explanation.png"))

    # The second question (any answer), then the rating.
    lesson.locator('button[data-action-id^="answer:"]').first.click()
    expect(lesson).to_contain_text("How useful was this lesson?")
    lesson.locator('button[data-action-id="rate:4"]').click()
    expect(lesson).to_contain_text("you rated this lesson 4/5")

    # The comment modal: a blank comment is refused by Sprout next to the input, then the real one.
    lesson.get_by_role("button", name="Add a comment").click()
    modal = page.locator("#overlay .sk-modal")
    expect(modal.locator(".sk-modal-title")).to_have_text("Your comment")
    modal.locator("textarea").fill("   ")
    modal.get_by_role("button", name="Send").click()
    expect(modal.locator(".sk-error")).to_have_text("Write a comment, or press Cancel.")
    page.screenshot(path=str(tmp_path / "3-modal-error.png"))
    expect(modal.locator("textarea")).to_have_value("   ")
    modal.locator("textarea").fill(NASTY)
    modal.get_by_role("button", name="Send").click()
    expect(modal.locator(".sk-modal-title")).to_have_text("Thank you")
    expect(modal.locator(".sk-quote")).to_have_text(NASTY)
    page.screenshot(path=str(tmp_path / "4-thanks.png"))
    modal.get_by_role("button", name="Done").click()
    expect(page.locator("#overlay")).to_be_hidden()
    commented = lesson.locator('[data-block-id="commented"]')
    expect(commented).to_contain_text(NASTY)
    assert commented.locator(".sk-broadcast").count() == 0
    page.screenshot(path=str(tmp_path / "5-commented.png"))

    # Someone else, and a slash command from the box at the bottom.
    page.locator(f'#people .person[data-user-id="{felix.user_id}"]').click()
    expect(page.locator("#conv-who")).to_contain_text("Felix Moreau")
    page.locator("#command").fill("/learn packs")
    page.locator("#command").press("Enter")
    reply = page.locator("article.msg-ephemeral")
    expect(reply.locator(".msg-note")).to_contain_text("Only visible to you")
    expect(reply).to_contain_text("data-privacy-basics")
    expect(page.locator("#command")).to_have_value("")
    page.screenshot(path=str(tmp_path / "6-command.png"))

    # The Home tab is what Sprout publishes when the tab is opened.
    page.get_by_role("tab", name="Home").click()
    expect(page.locator("#home .sk-home")).to_contain_text("Hi Felix Moreau!")
    page.screenshot(path=str(tmp_path / "7-home.png"))

    # The manager: a week later, Monday 08:00 in London, the weekly digest with its chart.
    maya = BY_NAME["Maya"]
    page.get_by_role("tab", name="Messages").click()
    page.locator(f'#people .person[data-user-id="{maya.user_id}"]').click()
    expect(page.locator("#conv-who")).to_contain_text("Maya Lindqvist")
    page.get_by_role("button", name="+1 week").click()
    digest = page.locator("article.msg").filter(has=page.locator('[data-block-id="digest-header"]'))
    expect(digest.first).to_be_visible(timeout=60_000)
    expect(digest.first).to_contain_text("Lessons answered")
    chart = page.locator(".sk-file-image img")
    expect(chart.first).to_be_visible(timeout=30_000)
    assert chart.first.evaluate("img => img.naturalWidth") > 100, "the chart image loaded"
    chart.first.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "8-digest.png"), full_page=False)

    assert seen["dialogs"] == [], "nothing a person typed ran as script"
    assert seen["errors"] == []
    assert page.evaluate("document.scripts.length") == 1
    origin = sandbox.url.rsplit("/sandbox", 1)[0]
    files = sandbox.emulator.base_url + "/files/"  # uploaded files, as Slack serves them
    assert all(url.startswith((origin, files, "data:")) for url in seen["requests"]), seen["requests"]


def test_a_facilitator_announces_to_a_channel_in_the_browser(browser_page, sandbox, tmp_path):
    page, seen = browser_page
    felix, ana = BY_NAME["Felix"], BY_NAME["Ana"]
    page.goto(sandbox.url)
    page.locator(f'#people .person[data-user-id="{felix.user_id}"]').click()
    page.locator("#command").fill("/learn announce")
    page.locator("#command").press("Enter")
    modal = page.locator("#overlay .sk-modal")
    expect(modal.locator(".sk-modal-title")).to_have_text("New announcement")
    modal.locator("textarea").fill("Platform folks: the **new VPN** starts Monday.")

    # Each choice of audience and time redraws the form (dispatch_action); what was typed stays.
    modal.get_by_label("At a time in each person's own time zone").check()
    expect(modal.locator('input[type="time"][data-action-id="time"]')).to_have_value("09:00")
    modal.get_by_label("Now", exact=True).check()
    expect(modal.locator('input[type="time"]')).to_have_count(0)
    modal.get_by_label("The members of a channel").check()
    menu = modal.locator('select[data-action-id="channel"]')
    expect(menu.locator("option")).to_have_text(
        ["Choose a channel", "# general", "# platform", "# support", "🔒 security-champions"]
    )
    expect(modal.locator("textarea")).to_have_value("Platform folks: the **new VPN** starts Monday.")
    menu.select_option(label="# platform")
    modal.get_by_label("Ask each person to press Got it").check()
    page.screenshot(path=str(tmp_path / "1-announce-form.png"))
    modal.get_by_role("button", name="Send").click()
    expect(modal.locator(".sk-modal-title")).to_have_text("On its way")
    expect(modal).to_contain_text("is on its way to the members of #platform")
    page.screenshot(path=str(tmp_path / "2-announce-sent.png"))
    modal.get_by_role("button", name="Close").first.click()
    expect(page.locator("#overlay")).to_be_hidden()

    sandbox.sprout.tick(sandbox.clock())  # the scheduler's next run sends the copies
    page.locator(f'#people .person[data-user-id="{ana.user_id}"]').click()
    copy = page.locator("article.msg").filter(has_text="new VPN")
    expect(copy.locator("strong").filter(has_text="new VPN")).to_be_visible()
    copy.get_by_role("button", name="Got it").click()
    expect(copy).to_contain_text("Acknowledged — thank you.")
    page.screenshot(path=str(tmp_path / "3-acknowledged.png"))
    assert seen["dialogs"] == [] and seen["errors"] == []
