"""The journal's page items in a real browser (Debian's chromium) against a real server:
a plan saved once however fast Save is clicked, entries corrected and retracted with a reason
(a retraction lifts the hold it caused), and a refused sleep diary night keeps what was typed.
Screenshots: see test_browser."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from playwright.sync_api import Browser, Page, Request, expect

from .conftest import new_context
from .test_browser import PHONE, fill_builder, go, register, shot, watch_console

pytestmark = pytest.mark.browser
expect.set_options(timeout=60_000)


def api_get(page: Page, base: str, path: str) -> object:
    return json.loads(page.request.get(f"{base}{path}").text())


def test_save_right_after_typing_saves_one_plan_version(server: str, browser: Browser) -> None:
    """The builder's delayed preview used to go to the Save button's formaction: clicking Save
    while a field still had focus sent two POST /plan/save and saved two versions."""
    ctx = new_context(browser, viewport=PHONE)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    errors = watch_console(page)
    register(page, server, "once@example.org", "patient", "Once")
    saves: list[Request] = []
    page.on("request", lambda r: saves.append(r) if r.url.endswith("/plan/save") else None)
    go(page, "Plan builder")
    fill_builder(page, dt.date.today())
    page.get_by_role("button", name="Show the plan").click()
    preview = page.locator("#preview")
    save = preview.get_by_role("button", name="Save this plan")
    expect(save).to_have_count(2, timeout=150_000)  # a server's first chart is slow
    page.get_by_label("Years taking it", exact=True).fill("5")  # focus stays in this field
    save.first.click()
    expect(page.get_by_text("Plan saved")).to_be_visible()
    page.wait_for_timeout(2_500)  # longer than the builder's 700 ms change delay
    assert [r.method for r in saves] == ["POST"], [r.url for r in saves]
    assert len(api_get(page, server, "/api/plans")) == 1  # type: ignore[arg-type]
    shot(page, "j1-saved-once")
    assert errors == [], errors
    ctx.close()


def _plan_started_days_ago(page: Page, base: str, days: int) -> None:
    csrf = page.request.get(f"{base}/api/session").json()["csrf_token"]
    start = (dt.date.today() - dt.timedelta(days=days)).isoformat()
    plan = {
        "request": {
            "regimen": [{"drug": "diazepam", "mg": 10, "time": "08:00"}],
            "preferences": {"start": start, "percent": 10, "every_days": 14},
        }
    }
    r = page.request.post(f"{base}/api/plans", data=plan, headers={"X-CSRF-Token": csrf})
    assert r.ok, r.text()


def _checkin(page: Page, day: dt.date, anxiety: str) -> None:
    go(page, "Journal")
    page.get_by_label("Date", exact=True).fill(day.isoformat())
    page.get_by_label("Anxiety or panic").select_option(anxiety)
    page.get_by_role("button", name="Save check-in").click()
    expect(page.locator(".flash").first).to_be_visible()


def test_correct_and_retract_with_a_reason_and_the_hold_follows(
    server: str, browser: Browser
) -> None:
    today = dt.date.today()
    ctx = new_context(browser, viewport=PHONE)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    errors = watch_console(page)
    register(page, server, "edit@example.org", "patient", "Eddie")
    _plan_started_days_ago(page, server, 3)
    _checkin(page, today - dt.timedelta(days=1), "8")
    _checkin(page, today, "8")
    expect(page.get_by_role("heading", name="Your plan is on hold")).to_be_visible()
    shot(page, "j2-hold-after-two-bad-days")

    # Today's 8 was a slip of the finger: retract it, saying why; the hold goes with it.
    recent = page.locator("section[aria-labelledby=recent-h] li")
    recent.filter(has_text="anxiety 8").first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    page.get_by_role("button", name="Retract this entry").click()  # without a reason
    expect(page.locator("#retract_reason-err")).to_contain_text("Say why")
    page.get_by_label("Why (needed, kept in the history)").fill("meant to choose 3")
    page.get_by_role("button", name="Retract this entry").click()
    expect(page.get_by_text("Entry retracted")).to_be_visible()
    expect(page.get_by_text("Hold lifted")).to_be_visible()
    expect(page.get_by_role("heading", name="Your plan is on hold")).to_be_hidden()
    status = api_get(page, server, "/api/status")
    assert status["hold"] is False  # type: ignore[index]
    shot(page, "j3-retracted-hold-lifted")

    # Yesterday's entry is corrected: a new revision, the old one kept in the history.
    recent.filter(has_text="anxiety 8").first.get_by_role("link").click()
    page.get_by_label("Anxiety or panic").select_option("2")
    page.get_by_label("Why (optional, kept in the history)").fill("it was a calm day")
    page.get_by_role("button", name="Save the correction").click()
    expect(page.get_by_text("Entry corrected")).to_be_visible()
    expect(recent.filter(has_text="anxiety 2")).to_have_count(1)
    recent.filter(has_text="anxiety 2").get_by_role("link").click()
    history = page.locator("ol.revisions li")
    expect(history).to_have_count(2)
    expect(history.last).to_contain_text("it was a calm day")
    shot(page, "j4-entry-history")
    # the retraction without a reason is answered 422 on purpose (the page shows why)
    refused = "the server responded with a status of 422"
    assert [e for e in errors if refused not in e] == [], errors
    ctx.close()


def test_a_night_that_does_not_add_up_is_refused_beside_its_field(
    server: str, browser: Browser
) -> None:
    ctx = new_context(browser, viewport=PHONE)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    register(page, server, "night@example.org", "patient", "Nyx")
    page.goto(f"{server}/journal/sleep")
    page.get_by_label("Went to bed").fill("23:00")
    page.get_by_label("Minutes to fall asleep").fill("30")
    page.get_by_label("Minutes awake in the night").fill("600")
    page.get_by_label("Woke for the day").fill("06:00")
    page.get_by_label("Got out of bed").fill("06:30")
    page.get_by_role("button", name="Save sleep diary").click()
    expect(page.locator("#waso_min-err")).to_contain_text("add up to more than")
    expect(page.get_by_label("Minutes awake in the night")).to_have_value("600")
    assert api_get(page, server, "/api/journal/entries") == []
    shot(page, "j5-sleep-refused")
    ctx.close()
