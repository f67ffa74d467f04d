"""The issue's done-when, in a real browser (Debian's chromium) against the test EHR: the chart
shows a card for the 72-year-old on lorazepam 1 mg twice daily with a draft taper attached; its
link opens benzotaper on that patient with the regimen read from FHIR; the chosen plan goes back
to the EHR as draft MedicationRequests."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.ehr.conftest import Clinic

pytestmark = pytest.mark.browser


def test_card_launch_and_plan_back_in_the_ehr(clinic: Clinic, browser: Browser) -> None:
    page = browser.new_page()
    page.set_default_timeout(180_000)
    page.goto(f"{clinic.ehr}/chart")
    card = page.locator("#cards li").filter(has_text="Age 72")
    expect(card).to_contain_text("a slow taper is ready")
    expect(card).to_contain_text("draft orders attached")
    card.locator("a.launch").click()
    page.locator("#approve").click()  # the EHR's own approval page (Authlib, PKCE)
    expect(page).to_have_url(f"{clinic.benzotaper}/smart/app")
    expect(page.locator("h1")).to_have_text("Taper for this patient")
    expect(page.locator("#dose-1")).to_have_text("Lorazepam 1 mg at 08:00")
    expect(page.locator("#dose-2")).to_have_text("Lorazepam 1 mg at 20:00")
    page.get_by_role("button", name="Send to the EHR as draft orders").click()
    expect(page.locator("h1")).to_have_text("Sent to the EHR as draft orders")
    created = clinic.state.created
    assert len(created) >= 3 and {r["status"] for r in created} == {"draft"}
    assert all(r["subject"]["reference"] == "Patient/p72" for r in created)
    page.close()
