"""The main journey in a real browser (Debian's chromium) against a real server process:
register → build a plan → save → log a dose and check-ins → a hold appears → a clinician who
was given an invite code sees the alert. Screenshots go to test-artifacts/ (gitignored)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

pytestmark = pytest.mark.browser
#: The first plan chart of a fresh server process takes seconds (matplotlib warms up).
expect.set_options(timeout=60_000)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery staple"
#: Policy for the test: a slow, shared machine may need a while to start the server.
STARTUP_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``benzotaper serve`` in a subprocess on 127.0.0.1 with a throwaway SQLite database."""
    tmp = tmp_path_factory.mktemp("server")
    port = _free_port()
    env = {**os.environ, "BENZOTAPER_DATABASE_URL": f"sqlite:///{tmp / 'web.sqlite3'}"}
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "benzotaper", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"server did not start:\n{(tmp / 'server.log').read_text()}")
        time.sleep(0.5)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def watch_console(page: Page) -> list[str]:
    """Collect Content-Security-Policy violations and failed loads from the console (htmx's
    own notes about a live preview replaced by a newer one are not errors of the page)."""
    errors: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        text = msg.text
        if msg.type == "error" and not text.startswith("htmx:"):
            errors.append(text)

    page.on("console", on_console)
    return errors


def register(page: Page, base: str, email: str, role: str, name: str) -> None:
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


def test_main_journey(server: str, browser: Browser) -> None:
    today = dt.date.today()
    patient = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = patient.new_page()
    page.set_default_timeout(60_000)
    errors = watch_console(page)

    page.goto(server)
    expect(page.get_by_role("heading", name="Never stop abruptly")).to_be_visible()
    shot(page, "01-home-phone")

    register(page, server, "pat@example.org", "patient", "Pat")
    expect(page.get_by_role("heading", name="My plan")).to_be_visible()

    # Build: diazepam 10 mg in the morning, 10% every 14 days, started 3 days ago.
    page.get_by_role("link", name="Plan builder").click()
    fill_builder(page, today - dt.timedelta(days=3))
    page.get_by_role("button", name="Show the plan").click()
    preview = page.locator("#preview")
    expect(preview.get_by_role("heading", name="Your proposed plan")).to_be_visible()
    expect(preview.get_by_text("Agree this plan with your prescriber")).to_be_visible()
    expect(preview.locator("img[src^='/plan/chart.svg?']")).to_be_visible()
    page.get_by_role("button", name="Compare methods").click()
    expect(page.locator("#compare").get_by_text("Hyperbolic")).to_be_visible()
    shot(page, "02-builder-preview-compare")

    page.get_by_role("button", name="Save this plan").click()
    expect(page.get_by_text("Plan saved")).to_be_visible()

    # One tap: today's dose taken (htmx swaps the card in place).
    page.get_by_role("button", name="I took the 08:00 dose").click()
    expect(page.get_by_text("✓ Taken")).to_be_visible()
    shot(page, "03-my-plan")

    # Two bad days after the cut: the journal's rules put the plan on hold.
    for day in (today - dt.timedelta(days=1), today):
        page.get_by_role("link", name="Journal").click()
        page.get_by_label("Date", exact=True).fill(day.isoformat())
        page.get_by_label("Anxiety or panic").select_option("8")
        page.get_by_label("Trouble sleeping").select_option("7")
        page.get_by_role("button", name="Save check-in").click()
        expect(page.get_by_role("status").first).to_be_visible()
    shot(page, "04-journal-after-checkins")
    page.get_by_role("link", name="My plan").click()
    expect(page.get_by_role("heading", name="Your plan is on hold")).to_be_visible()
    shot(page, "05-my-plan-hold")

    # Share with a clinician by invite code.
    page.get_by_role("link", name="Account").click()
    page.get_by_role("button", name="Make an invite code").click()
    code = page.locator("#invite-code").inner_text()
    assert errors == [], errors

    clinic = browser.new_context(viewport={"width": 1280, "height": 900})
    doc = clinic.new_page()
    doc.set_default_timeout(60_000)
    doc_errors = watch_console(doc)
    register(doc, server, "doc@example.org", "clinician", "Dr Lee")
    expect(doc.get_by_role("heading", name="My patients")).to_be_visible()
    doc.get_by_label("Invite code from a patient").fill(code)
    doc.get_by_role("button", name="Add patient").click()
    expect(doc.get_by_role("heading", name="Pat", exact=True)).to_be_visible()
    expect(doc.get_by_text("On hold:").first).to_be_visible()
    shot(doc, "06-clinician-patient")
    doc.get_by_role("link", name="← All patients").click()
    expect(doc.get_by_role("link", name="Pat", exact=True)).to_be_visible()
    expect(doc.get_by_text("caution").first).to_be_visible()
    shot(doc, "07-clinician-list")
    assert doc_errors == [], doc_errors

    # The patient sees who looked.
    page.reload()
    expect(page.get_by_text("Dr Lee").first).to_be_visible()
    patient.close()
    clinic.close()


def test_keyboard_and_focus(server: str, browser: Browser) -> None:
    ctx = browser.new_context()
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
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
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
