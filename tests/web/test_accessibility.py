"""Accessibility in a real browser: axe-core (vendored into the test tree, never served) on the
main pages, the plan builder done with the keyboard alone, visible focus, a phone screenshot.

axe runs in a context with ``bypass_csp`` because the script is injected by the test; the app's
own CSP is checked by the other browser tests.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import new_context
from .test_browser import (
    ARTIFACTS,
    PASSWORD,
    SCREENSHOTS,
    fill_builder,
    register,
    shot,
    watch_console,
)

pytestmark = pytest.mark.browser
expect.set_options(timeout=60_000)

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
#: WCAG 2.0/2.1 A and AA plus axe's best practices (landmarks, one h1, regions).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
#: These fail whatever impact axe gives them (landmarks are "moderate" in axe's own scale).
ALWAYS_FAIL = {
    "color-contrast",
    "label",
    "select-name",
    "landmark-one-main",
    "region",
    "landmark-unique",
    "page-has-heading-one",
    "heading-order",
    "duplicate-id-aria",
    "aria-valid-attr-value",
}


#: Every rule of those tags runs on the whole page as before; only the violations are processed
#: in full and sent back (``resultTypes``: the passes, incomplete and inapplicable results keep one
#: example node each instead of every node, with its HTML and selector, which the test never read).
RUN_AXE = """tags => axe.run(document, {
  runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
}).then(r => ({violations: r.violations}))"""


def axe_violations(page: Page, name: str) -> list[str]:
    """Run axe on the page as it is; return the violations that fail (and save the report)."""
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(RUN_AXE, AXE_TAGS)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(result["violations"], indent=1))
    bad = []
    for v in result["violations"]:
        if v["impact"] in ("serious", "critical") or v["id"] in ALWAYS_FAIL:
            targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:5]]
            bad.append(f"{name}: {v['id']} ({v['impact']}): {v['help']} at {targets}")
    return bad


def test_axe_finds_no_serious_problems(server: str, browser: Browser) -> None:
    today = dt.date.today()
    ctx = new_context(browser, viewport={"width": 390, "height": 844}, bypass_csp=True)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    found: list[str] = []

    for path, name in (
        ("/", "home"),
        ("/learn", "learn-index"),
        ("/login", "login"),
        ("/register", "register"),
        ("/offline", "offline"),
    ):
        page.goto(server + path)
        found += axe_violations(page, name)
    page.locator("details.menu > summary").click()  # the phone menu, open
    found += axe_violations(page, "menu-open")
    page.goto(f"{server}/learn")
    page.locator("main a[href^='/learn/']").first.click()
    found += axe_violations(page, "learn-page")

    page.goto(f"{server}/plan/new")
    fill_builder(page, today - dt.timedelta(days=3))
    page.get_by_role("button", name="Show the plan").click()
    expect(
        page.locator("#preview").get_by_role("heading", name="Your proposed plan")
    ).to_be_visible()
    found += axe_violations(page, "builder-preview")
    page.get_by_role("button", name="Compare methods").click()
    expect(page.locator("#compare").get_by_text("per 14 days").first).to_be_visible()
    found += axe_violations(page, "builder-compare")
    page.get_by_role("button", name="Save this plan").first.click()
    expect(page.get_by_role("heading", name="Save your plan")).to_be_visible()
    found += axe_violations(page, "save-your-plan")

    page.locator("#reg-email").fill("axe@example.org")
    page.locator("#reg-password").fill(PASSWORD)
    page.get_by_role("button", name="Create account and save the plan").click()
    expect(page.get_by_text("Plan saved")).to_be_visible()
    found += axe_violations(page, "my-plan")
    page.goto(f"{server}/today")
    expect(page.get_by_role("button", name="I took it")).to_be_visible()
    found += axe_violations(page, "today")
    page.get_by_role("button", name="I took it").click()
    expect(page.get_by_role("button", name="Undo")).to_be_visible()
    found += axe_violations(page, "today-undo")
    page.goto(f"{server}/journal")
    found += axe_violations(page, "journal")
    page.get_by_role("button", name="Save check-in").click()  # nothing rated: errors shown
    expect(page.get_by_role("alert")).to_be_visible()
    found += axe_violations(page, "journal-errors")
    for path, name in (
        ("/journal/scales/ciwa-b", "ciwa-b"),
        ("/journal/scales/bwsq", "bwsq"),
        ("/journal/scales/phq-9", "phq-9"),
        ("/journal/sleep", "sleep"),
    ):
        page.goto(server + path)
        found += axe_violations(page, name)
    page.goto(f"{server}/account")
    page.get_by_role("button", name="Make an invite code").click()
    code = page.locator("#invite-code").inner_text()
    found += axe_violations(page, "account")
    page.goto(f"{server}/account/delete")
    found += axe_violations(page, "account-delete")

    doc_ctx = new_context(browser, viewport={"width": 1280, "height": 900}, bypass_csp=True)
    doc = doc_ctx.new_page()
    doc.set_default_timeout(60_000)
    register(doc, server, "axe-doc@example.org", "clinician", "Dr Axe")
    doc.get_by_label("Invite code from a patient").fill(code)
    doc.get_by_role("button", name="Add patient").click()
    expect(doc.get_by_role("heading", name="Alerts")).to_be_visible()
    found += axe_violations(doc, "clinician-patient")
    doc.goto(f"{server}/clinician")
    found += axe_violations(doc, "clinician-list")
    doc.goto(f"{server}/account")
    doc.once("dialog", lambda dialog: dialog.accept())  # "Log out on every device, ...?"
    doc.get_by_role("button", name="Log out everywhere").click()
    expect(doc.get_by_role("heading", name="You are logged out everywhere")).to_be_visible()
    found += axe_violations(doc, "logged-out-everywhere")
    ctx.close()
    doc_ctx.close()
    assert found == [], "\n".join(found)


def _focus_is_visible(page: Page) -> bool:
    style: str = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return s.outlineStyle + '|' + s.boxShadow; })()"
    )
    return not style.startswith("none|none")


def _tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until ``selector`` has focus, checking every stop shows where focus is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
        tag = page.evaluate("document.activeElement.outerHTML.slice(0, 80)")
        assert _focus_is_visible(page), f"no visible focus on {tag}"
    raise AssertionError(f"Tab never reached {selector}")


def test_builder_with_the_keyboard_alone(server: str, browser: Browser) -> None:
    """Tab, typing and Enter only: build, preview, save, create an account; the plan is kept."""
    ctx = new_context(browser, viewport={"width": 390, "height": 844})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    errors = watch_console(page)
    page.goto(f"{server}/plan/new")
    _tab_to(page, "#drug_0")
    page.keyboard.type("Valium")
    _tab_to(page, "#dose_0")
    page.keyboard.type("10 mg")
    _tab_to(page, "#time_0")  # 08:00 is filled in already
    _tab_to(page, "#age")
    page.keyboard.type("52")
    _tab_to(page, "button[value=preview]:not(.visually-hidden)")
    page.keyboard.press("Enter")
    preview = page.locator("#preview")
    expect(preview.get_by_role("heading", name="Your proposed plan")).to_be_visible()
    expect(preview.get_by_text("Agree this plan with your prescriber")).to_be_visible()
    if SCREENSHOTS:
        ARTIFACTS.mkdir(exist_ok=True)
        preview.screenshot(path=str(ARTIFACTS / "plan-preview-phone-390x844.png"))
    shot(page, "plan-builder-phone-390x844")

    _tab_to(page, "button[value=save]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Save your plan")).to_be_visible()
    _tab_to(page, "#reg-email")
    page.keyboard.type("keys@example.org")
    _tab_to(page, "#reg-password")
    page.keyboard.type(PASSWORD)
    _tab_to(page, "form[action='/register'] button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Plan saved")).to_be_visible()
    expect(page.get_by_text("Diazepam").first).to_be_visible()
    assert errors == [], errors
    ctx.close()
