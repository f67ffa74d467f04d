"""The clinic measures page in a real browser: a clinician reaches it from the patient list,
picks a year, reads a measure's definition with the keyboard, downloads the CSV; axe-core finds
no serious problem and the page breaks no Content-Security-Policy rule."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from playwright.sync_api import Browser, expect

from .conftest import as_new_client, new_context
from .test_accessibility import axe_violations
from .test_browser import PASSWORD, register, shot, watch_console

pytestmark = pytest.mark.browser
expect.set_options(timeout=60_000)

LAST_YEAR = dt.date.today().year - 1


def _patient_with_a_plan(base: str) -> str:
    """A 70-year-old patient (over the API) with a slow taper from 10 Jan last year; returns
    their invite code."""
    with httpx.Client(base_url=base, headers=as_new_client(), timeout=60) as c:
        c.get("/api/session")
        csrf = c.get("/api/session").json()["csrf_token"]
        r = c.post(
            "/api/users",
            json={"email": "old@example.org", "password": PASSWORD, "role": "patient"},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code == 201, r.text
        csrf = c.get("/api/session").json()["csrf_token"]
        plan = {
            "request": {
                "regimen": [{"drug": "lorazepam", "mg": 1, "time": "22:00"}],
                "person": {"age": 70, "falls": True},
                "preferences": {
                    "pace": "slow",
                    "liquid": True,
                    "start": f"{LAST_YEAR}-01-10",
                },
            }
        }
        r = c.post("/api/plans", json=plan, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 201, r.text
        code: str = c.post("/api/shares", headers={"X-CSRF-Token": csrf}).json()["code"]
        return code


def test_clinic_measures_page(server: str, browser: Browser) -> None:
    code = _patient_with_a_plan(server)
    ctx = new_context(browser, viewport={"width": 390, "height": 844}, bypass_csp=False)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    errors = watch_console(page)
    register(page, server, "dr-measures@example.org", "clinician", "Dr Measures")
    page.get_by_label("Invite code from a patient").fill(code)
    page.get_by_role("button", name="Add patient").click()
    expect(page.get_by_role("heading", name="Alerts")).to_be_visible()

    page.goto(f"{server}/clinician")
    page.get_by_role("link", name="Clinic measures").click()
    expect(page.get_by_role("heading", name="Clinic measures", level=1)).to_be_visible()
    page.get_by_label("Measurement year").select_option(str(LAST_YEAR))
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{server}/clinician/measures?year={LAST_YEAR}")
    dbo = page.get_by_role("region", name="Deprescribing of Benzodiazepines in Older Adults (DBO)")
    row = dbo.get_by_role("row", name="20% or greater reduction (published)")
    expect(row).to_contain_text("100%")
    expect(row).to_contain_text("1 of 1")

    summary = dbo.get_by_text("Definition, how benzotaper computes it, and sources")
    summary.focus()
    page.keyboard.press("Enter")
    expect(dbo.get_by_role("heading", name="What benzotaper cannot see")).to_be_visible()
    # nothing wider than the phone, even with the sources open (tables scroll in their box)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    text = download.value.path().read_text()
    assert text.startswith("period_start,period_end,measure") and ",dbo-20," in text
    shot(page, "clinic-measures-phone")
    assert errors == []

    audit_ctx = new_context(browser, viewport={"width": 1280, "height": 900}, bypass_csp=True)
    audit = audit_ctx.new_page()
    audit.set_default_timeout(60_000)
    audit.context.add_cookies(ctx.cookies())
    audit.goto(f"{server}/clinician/measures?year={LAST_YEAR}")
    assert axe_violations(audit, "clinic-measures") == []
    ctx.close()
    audit_ctx.close()
