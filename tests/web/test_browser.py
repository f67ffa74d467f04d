"""The main journey in a real browser (Debian's chromium) against a real server process:
register → build a plan → save → log a dose and check-ins → a hold appears → a clinician who
was given an invite code sees the alert. With BENZOTAPER_TEST_SCREENSHOTS=1, screenshots go to
test-artifacts/ (gitignored)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from benzotaper.web.today import UNDO_SHOWN_SECONDS

from .conftest import new_context

pytestmark = pytest.mark.browser
#: The first plan chart of a fresh server process takes seconds (matplotlib warms up).
expect.set_options(timeout=60_000)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery staple"

#: Screenshots are for people looking at the pages (nothing compares them): taken on request.
SCREENSHOTS = os.environ.get("BENZOTAPER_TEST_SCREENSHOTS") == "1"


def shot(page: Page, name: str) -> None:
    """A full-page screenshot, after lazy images (charts) have been loaded, when
    BENZOTAPER_TEST_SCREENSHOTS=1 (each costs the browser and the server a chart or more)."""
    if not SCREENSHOTS:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate(
        "document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')"
    )
    page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def watch_console(page: Page) -> list[str]:
    """Collect Content-Security-Policy violations and failed loads from the console (htmx's
    own notes, and the live preview's 422 answer for a form still being filled in, which the
    page shows as "Please check", are not errors of the page)."""
    errors: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        text = msg.text
        if msg.type == "error" and not text.startswith("htmx:") and "(422 " not in text:
            errors.append(text)

    page.on("console", on_console)
    return errors


def register(page: Page, base: str, email: str, role: str, name: str) -> None:
    """Register through the form; the time zone is the one the browser reports."""
    page.goto(f"{base}/register")
    page.get_by_label("Your name (optional)").fill(name)
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("a clinician" if role == "clinician" else "a person tapering").check()
    page.get_by_role("button", name="Create account").click()


def fill_builder(page: Page, start: dt.date) -> None:
    """Diazepam (as Valium) 10 mg at 08:00, age 52, 4 years, 10% every 14 days from ``start``."""
    page.get_by_label("Medicine", exact=True).fill("Valium")
    page.get_by_label("Dose", exact=True).fill("10 mg")
    page.get_by_label("Time", exact=True).fill("08:00")
    page.get_by_label("Age", exact=True).fill("52")
    page.get_by_label("Years taking it", exact=True).fill("4")
    page.get_by_text("More settings").click()
    page.get_by_label("Percent per cut", exact=True).fill("10")
    page.get_by_label("Days between cuts", exact=True).fill("14")
    page.get_by_label("Start date", exact=True).fill(start.isoformat())


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def go(page: Page, name: str) -> None:
    """Follow a main-menu link; on a phone the menu is folded behind its "Menu" button."""
    link = page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)
    if not link.is_visible():
        page.locator("details.menu > summary").click()
    link.click()


def in_first_screen(page: Page, locator: Any) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] + box["height"] <= page.viewport_size["height"]


def test_main_journey(server: str, browser: Browser) -> None:
    """Phone: register (time zone from the browser) → Today → build, compare, choose, save →
    a hold keeps "I took it" in the first screen → take, undo → clinician (desktop) opens on
    alerts and the last two weeks."""
    # the patient's today (their time zone comes from the browser), not the machine's: from
    # 00:00 to 05:00 UTC the machine's date is a day ahead of New York's
    today = dt.datetime.now(ZoneInfo("America/New_York")).date()
    patient = new_context(browser, viewport=PHONE, timezone_id="America/New_York")
    # The page's timers run on Playwright's clock (flowing as real time does): the Undo offer's
    # seconds are skipped below instead of waited for.
    patient.clock.install()
    page = patient.new_page()
    page.set_default_timeout(60_000)
    errors = watch_console(page)

    page.goto(f"{server}/about")
    expect(page.get_by_role("heading", name="Never stop abruptly")).to_be_visible()
    expect(page.get_by_role("link", name="Plan builder")).to_be_hidden()  # folded in the menu
    shot(page, "01-home-phone")

    register(page, server, "pat@example.org", "patient", "Pat")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    go(page, "Account")
    expect(page.get_by_label("Your time zone")).to_have_value("America/New_York")

    # Build: diazepam 10 mg in the morning, 10% every 14 days, started 3 days ago.
    go(page, "Plan builder")
    fill_builder(page, today - dt.timedelta(days=3))
    page.get_by_role("button", name="Show the plan").click()
    preview = page.locator("#preview")
    # the first chart of a fresh server on a loaded machine can take long (matplotlib warms up)
    expect(preview.get_by_role("heading", name="Your proposed plan")).to_be_visible(timeout=150_000)
    expect(preview.get_by_text("Agree this plan with your prescriber")).to_be_visible()
    expect(preview.locator("img[src^='/plan/chart.svg?']")).to_be_visible()
    page.get_by_role("button", name="Compare methods").click()
    compare = page.locator("#compare")
    expect(compare.get_by_text("per 14 days").first).to_be_visible()
    compare.get_by_role("row").filter(has_text="Hyperbolic").click()  # a row chooses
    expect(preview.get_by_text("Method: hyperbolic")).to_be_visible()
    expect(page.locator("#strategy")).to_have_value("hyperbolic")
    expect(preview.get_by_role("button", name="Save this plan")).to_have_count(2)
    shot(page, "02-builder-preview-compare")

    preview.get_by_role("button", name="Save this plan").first.click()
    expect(page.get_by_text("Plan saved")).to_be_visible()
    expect(page.get_by_role("heading", name="Now and next")).to_be_visible()
    expect(page.get_by_text("The whole schedule")).to_be_visible()
    expect(page.locator("table.schedule")).to_be_hidden()  # folded
    shot(page, "03-my-plan-phone")

    # Two bad days after the cut: the journal's rules put the plan on hold.
    for day in (today - dt.timedelta(days=1), today):
        go(page, "Journal")
        page.get_by_label("Date", exact=True).fill(day.isoformat())
        page.get_by_label("Anxiety or panic").select_option("8")
        page.get_by_label("Trouble sleeping").select_option("7")
        page.get_by_role("button", name="Save check-in").click()
        expect(page.get_by_role("status").first).to_be_visible()
    shot(page, "04-journal-after-checkins")

    # Today during a hold: the hold is said in a line, "I took it" stays in the first screen.
    go(page, "Today")
    expect(page.get_by_text("Your plan is on hold.")).to_be_visible()
    took = page.get_by_role("button", name="I took it")
    expect(took).to_be_visible()
    assert in_first_screen(page, took)
    shot(page, "05-today-hold-phone")
    took.click()
    undo = page.get_by_role("button", name="Undo")
    expect(undo).to_be_visible()
    expect(page.get_by_text("All of today's doses are recorded")).to_be_visible()
    undo.click()
    expect(took).to_be_visible()
    took.click()
    expect(undo).to_be_visible()
    page.clock.fast_forward(UNDO_SHOWN_SECONDS * 1000)  # offered for a few seconds only
    expect(undo).to_be_hidden()
    shot(page, "06-today-taken-phone")

    # Share with a clinician by invite code.
    go(page, "Account")
    page.get_by_role("button", name="Make an invite code").click()
    code = page.locator("#invite-code").inner_text()
    assert errors == [], errors

    clinic = new_context(browser, viewport=DESKTOP)
    doc = clinic.new_page()
    doc.set_default_timeout(60_000)
    doc_errors = watch_console(doc)
    register(doc, server, "doc@example.org", "clinician", "Dr Lee")
    expect(doc.get_by_role("heading", name="My patients")).to_be_visible()
    expect(doc.get_by_role("link", name="Learn")).to_be_visible()  # desktop: menu as a row
    doc.get_by_label("Invite code from a patient").fill(code)
    doc.get_by_role("button", name="Add patient").click()
    expect(doc.get_by_role("heading", name="Pat", exact=True)).to_be_visible()
    expect(doc.get_by_text("On hold:").first).to_be_visible()
    headings = doc.locator("main h2").all_inner_texts()
    assert headings.index("Alerts") < headings.index("The last two weeks")
    assert headings.index("The last two weeks") < headings.index("Plan (version 2)")
    assert in_first_screen(doc, doc.get_by_role("heading", name="The last two weeks"))
    shot(doc, "07-clinician-patient-desktop")
    doc.get_by_role("link", name="← All patients").click()
    expect(doc.get_by_role("link", name="Pat", exact=True)).to_be_visible()
    expect(doc.get_by_text("caution").first).to_be_visible()
    shot(doc, "08-clinician-list")
    assert doc_errors == [], doc_errors

    # The patient sees who looked.
    go(page, "Account")
    expect(page.get_by_text("Dr Lee").first).to_be_visible()
    patient.close()
    clinic.close()


def _patient_with_plan(page: Page, server: str, email: str, tz: str) -> None:
    """Sign up and save a plan through the JSON API (same cookies as the page)."""
    csrf = page.request.get(f"{server}/api/session").json()["csrf_token"]
    body = {"email": email, "password": PASSWORD, "time_zone": tz}
    assert page.request.post(f"{server}/api/users", data=body, headers={"X-CSRF-Token": csrf}).ok
    csrf = page.request.get(f"{server}/api/session").json()["csrf_token"]
    start = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    plan = {
        "request": {
            "regimen": [
                {"drug": "diazepam", "mg": 10, "time": "08:00"},
                {"drug": "diazepam", "mg": 5, "time": "22:00"},
            ],
            "preferences": {"start": start},
        }
    }
    r = page.request.post(f"{server}/api/plans", data=plan, headers={"X-CSRF-Token": csrf})
    assert r.ok, r.text()


def test_installable_app_reads_today_offline_and_gets_pushes(server: str, browser: Browser) -> None:
    """The service worker registers, keeps Today for offline reading, and shows a push
    delivered to it (the DevTools protocol plays the push service)."""
    ctx = new_context(browser, viewport=PHONE, timezone_id="Europe/London")
    ctx.grant_permissions(["notifications"], origin=server)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    errors = watch_console(page)
    manifest = page.request.get(f"{server}/manifest.webmanifest").json()
    assert manifest["start_url"] == "/today" and manifest["display"] == "standalone"
    assert {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    _patient_with_plan(page, server, "pwa@example.org", "Europe/London")
    cdp = ctx.new_cdp_session(page)
    registrations: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(r["registrationId"] for r in e["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    page.goto(f"{server}/today")
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{server}/"
    page.reload()  # now controlled by the service worker, which keeps this copy of Today
    expect(page.get_by_role("button", name="I took it")).to_be_visible()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.wait_for_function(
        "() => caches.open('bt-v1-pages').then(c => c.match('/today')).then(Boolean)"
    )

    ctx.set_offline(True)
    page.reload()
    expect(page.get_by_role("button", name="I took it")).to_be_visible()
    expect(page.get_by_text("You are offline.")).to_be_visible()
    shot(page, "09-today-offline-phone")
    page.goto(f"{server}/learn")  # never opened: the offline page, with urgent-help numbers
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    ctx.set_offline(False)

    page.goto(f"{server}/today")
    assert registrations, "no service worker registration seen"
    message = {"title": "08:00 dose", "body": "Time for your 08:00 dose: 2 × 5 mg tablet."}
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": server, "registrationId": registrations[-1], "data": json.dumps(message)},
    )
    page.wait_for_function(
        "body => document.documentElement.getAttribute('data-last-push') === body",
        arg=message["body"],
    )
    shown = page.evaluate(
        "navigator.serviceWorker.ready.then(r => r.getNotifications())"
        ".then(ns => ns.map(n => n.title))"
    )
    assert shown == ["08:00 dose"]
    go(page, "Account")
    expect(page.locator("[data-push] .push-status")).to_contain_text("Reminders are")
    shot(page, "10-account-reminders-phone")
    assert errors == [], errors
    ctx.close()


def test_phone_menu_without_javascript_and_learn_fits(server: str, browser: Browser) -> None:
    for label, viewport, js in (("phone-nojs", PHONE, False), ("desktop", DESKTOP, True)):
        ctx = new_context(browser, viewport=viewport, java_script_enabled=js)
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{server}/learn")
        page.locator("main a[href^='/learn/']").last.click()
        learn = page.get_by_role("navigation", name="Main").get_by_role("link", name="Learn")
        if viewport is PHONE:
            header = page.locator("header.site").bounding_box()
            assert header is not None and header["height"] < 80  # one line, not 195 px
            expect(learn).to_be_hidden()
            page.locator("details.menu > summary").click()
        expect(learn).to_be_visible()
        wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not wide, "the Learn page is wider than the screen"
        shot(page, f"11-learn-{label}")
        ctx.close()


def test_keyboard_and_focus(server: str, browser: Browser) -> None:
    ctx = new_context(browser)
    page = ctx.new_page()
    page.goto(server)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('main') !== null")
    assert focused
    # A visible focus indicator (outline or box-shadow) on a focused link.
    style = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return s.outlineStyle + '|' + s.boxShadow; })()"
    )
    assert "none|none" not in style
    ctx.close()


def test_api_docs_work_offline_under_the_csp(server: str, browser: Browser) -> None:
    """Swagger UI is served by the app itself and runs with the strict CSP (no inline script)."""
    ctx = new_context(browser, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    errors = watch_console(page)
    outside: list[str] = []
    page.on(
        "request",
        lambda req: None if req.url.startswith((server, "data:")) else outside.append(req.url),
    )
    response = page.goto(f"{server}/api/docs")
    assert (
        response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    )
    expect(page.get_by_role("heading", name="benzotaper", exact=False).first).to_be_visible()
    op = page.locator("#operations-catalogue-api_references_api_references_get")
    op.locator(".opblock-summary").click()
    op.get_by_role("button", name="Try it out").click()
    op.get_by_role("button", name="Execute").click()
    expect(op.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
    # an unsafe request carries the CSRF token (refused with 403 otherwise)
    op = page.locator("#operations-catalogue-api_convert_api_convert_post")
    op.locator(".opblock-summary").click()
    op.get_by_role("button", name="Try it out").click()
    op.locator("textarea.body-param__text").fill('{"drug": "clonazepam", "dose": "0.5 mg"}')
    op.get_by_role("button", name="Execute").click()
    status = op.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_have_text("200")
    expect(op.locator(".live-responses-table .microlight").first).to_contain_text("diazepam")
    shot(page, "08-api-docs")
    assert errors == [], errors
    assert outside == [], outside
    ctx.close()


WEIGHT_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const parts = performance.getEntriesByType('resource')
    .filter(r => r.initiatorType === 'link' || r.initiatorType === 'script');
  return {document: nav.encodedBodySize,
          assets: parts.reduce((n, r) => n + r.encodedBodySize, 0),
          decoded: nav.decodedBodySize + parts.reduce((n, r) => n + r.decodedBodySize, 0)};
}"""


def test_daily_pages_weigh_under_60_kib_before_images(server: str, browser: Browser) -> None:
    """My plan, Today, Journal and the clinician's patient view, first visit on a phone (no
    service worker cache): the page, its CSS and scripts as sent (static files gzipped)."""
    ctx = new_context(browser, viewport=PHONE, service_workers="block")
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    _patient_with_plan(page, server, "weight@example.org", "UTC")
    csrf = page.request.get(f"{server}/api/session").json()["csrf_token"]
    code = page.request.post(f"{server}/api/shares", headers={"X-CSRF-Token": csrf}).json()
    doc = new_context(browser, viewport=PHONE, service_workers="block").new_page()
    doc.set_default_timeout(60_000)
    csrf = doc.request.get(f"{server}/api/session").json()["csrf_token"]
    body = {"email": "weigh-dr@example.org", "password": PASSWORD, "role": "clinician"}
    assert doc.request.post(f"{server}/api/users", data=body, headers={"X-CSRF-Token": csrf}).ok
    csrf = doc.request.get(f"{server}/api/session").json()["csrf_token"]
    r = doc.request.post(
        f"{server}/api/patients", data={"code": code["code"]}, headers={"X-CSRF-Token": csrf}
    )
    assert r.ok, r.text()
    sessions = [who.context.new_cdp_session(who) for who in (page, doc)]
    for cdp in sessions:  # every page as on a first visit: nothing from the HTTP cache
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    figures: dict[str, dict[str, int]] = {}
    for who, path in (
        (page, "/today"),
        (page, "/my-plan"),
        (page, "/journal"),
        (doc, f"/clinician/patients/{r.json()['id']}"),
    ):
        who.goto(server + path)
        who.wait_for_load_state("load")
        figures[path] = who.evaluate(WEIGHT_JS)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "page-weight.json").write_text(json.dumps(figures, indent=1))
    for path, f in figures.items():
        assert f["document"] + f["assets"] < 60 * 1024, (path, f)
    ctx.close()
    doc.context.close()


def test_account_password_and_deletion_on_a_phone(server: str, browser: Browser) -> None:
    """Phone: a common password is refused beside its field, a good one is set; the delete
    page offers the download first (a real file), then the account is deleted."""
    good = "seven tired owls sing at noon"
    ctx = new_context(browser, viewport=PHONE, accept_downloads=True)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    errors = watch_console(page)
    register(page, server, "leaving-phone@example.org", "patient", "Lee")
    page.goto(f"{server}/account#password")
    page.get_by_label("Current password", exact=True).fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("password12")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#new_password-err")).to_contain_text("most common passwords")
    refused = [e for e in errors if "status of 422" in e]
    assert len(refused) == 1  # that refusal page itself (422), nothing else
    errors.remove(refused[0])
    page.get_by_label("Current password", exact=True).fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(good)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Password changed.")).to_be_visible()
    shot(page, "12-account-password-phone")

    page.get_by_role("link", name="Delete your account").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data (JSON)").click()
    doc = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert doc["user"]["email"] == "leaving-phone@example.org"
    page.get_by_label("Your password", exact=True).fill(good)
    page.get_by_role("button", name="Delete my account and all my data").click()
    expect(page.get_by_role("heading", name="Your account has been deleted")).to_be_visible()
    shot(page, "13-account-deleted-phone")
    page.goto(f"{server}/account")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert errors == []
    ctx.close()
