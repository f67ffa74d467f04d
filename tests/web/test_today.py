"""Today, My plan, the clinician's patient view and the compare table, through the real app
(TestClient, SQLite): what is shown first, undo, time zones, page weight."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from benzotaper.web import clock
from benzotaper.web.dates import long_date

from .conftest import PASSWORD, Visitor

#: Issue 14: the pages a person uses daily stay under this many bytes before images.
PAGE_BUDGET = 60 * 1024


def signup(v: Visitor, email: str, tz: str, role: str = "patient") -> None:
    body = {"email": email, "password": PASSWORD, "time_zone": tz, "role": role}
    assert v.api("POST", "/api/users", json=body).status_code == 201


def save_plan(v: Visitor, tz: str, days_ago: int = 3, **prefs: Any) -> None:
    start = clock.today_in(tz) - dt.timedelta(days=days_ago)
    request = {
        "regimen": [
            {"drug": "diazepam", "mg": 10, "time": "08:00"},
            {"drug": "diazepam", "mg": 5, "time": "22:00"},
        ],
        "person": {"age": 45, "years_on_drug": 3},
        "preferences": {"percent": 10, "every_days": 14, "start": start.isoformat(), **prefs},
    }
    assert v.api("POST", "/api/plans", json={"request": request}).status_code == 201


def test_patient_lands_on_today_takes_and_undoes(visitor: Visitor) -> None:
    tz = "Pacific/Kiritimati"  # UTC+14: its date is ahead of the server's for most of the day
    signup(visitor, "today@example.org", tz)
    save_plan(visitor, tz)
    r = visitor.client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/today"
    page = visitor.client.get("/today").text
    day = clock.today_in(tz)
    assert f"{day:%b} {day.day}, {day.year}" in page  # the person's day, in their locale (en)
    assert "I took it" in page and "Next cut:" in page and "Projected end of the plan" in page
    assert re.search(r'class="pieces">[^<]*tablet', page)  # the pieces to take
    hx = {"HX-Request": "true"}
    form = {"drug": "diazepam", "mg": "9", "planned_time": "08:00", "status": "taken"}
    r = visitor.form("/today/take", form, headers=hx)
    assert r.status_code == 200 and "Undo" in r.text and 'data-undo-seconds="10"' in r.text
    assert "✓ taken at" in r.text  # the 08:00 dose; the 22:00 dose is now the one to take
    uid = re.search(r"/today/undo/([0-9a-f-]+)", r.text)
    assert uid is not None
    doses = visitor.client.get("/api/journal/entries?kind=dose").json()
    assert doses[0]["day"] == day.isoformat() and doses[0]["entry"]["status"] == "taken"
    r = visitor.form(f"/today/undo/{uid.group(1)}", {}, headers=hx)
    assert r.status_code == 200 and "Undo" not in r.text and "✓ taken" not in r.text
    assert visitor.client.get("/api/journal/entries?kind=dose").json() == []
    # without JavaScript: a plain post comes back to the page, with its undo button
    r = visitor.form("/today/take", form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/today?undo=")


def test_calendar_file_rings_at_the_local_time(visitor: Visitor) -> None:
    signup(visitor, "ics@example.org", "America/New_York")
    save_plan(visitor, "America/New_York")
    ics = visitor.client.get("/my-plan/export/ics").text
    assert "X-WR-TIMEZONE:America/New_York" in ics and "BEGIN:VTIMEZONE" in ics
    assert re.search(r"DTSTART;TZID=America/New_York:\d{8}T080000", ics)
    assert not re.search(r"DTSTART:\d{8}T\d{6}Z", ics)


def test_my_plan_shows_now_and_next_first_and_stays_light(visitor: Visitor) -> None:
    signup(visitor, "light@example.org", "Europe/London")
    save_plan(visitor, "Europe/London", days_ago=20)
    r = visitor.client.get("/my-plan", headers={"Accept-Language": "en-GB,en;q=0.8"})
    page = r.text
    assert len(r.content) < PAGE_BUDGET, len(r.content)
    assert page.index("Now and next") < page.index("The whole schedule")
    assert '<details class="fold">\n<summary>The whole schedule' in page
    assert 'src="/my-plan/chart.svg"' in page and "data:image" not in page
    assert " 0 mg" not in page  # finished doses are never listed
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", page.split("<main")[1])  # no raw ISO dates
    next_cut = dt.date.fromisoformat(visitor.client.get("/api/status").json()["next_cut"])
    assert long_date(next_cut, "en_GB") in page  # "Mon, 14 Dec 2026": day before month
    chart = visitor.client.get("/my-plan/chart.svg")
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert "style-src 'unsafe-inline'" in chart.headers["content-security-policy"]


def test_each_note_is_shown_once(visitor: Visitor) -> None:
    """Clonazepam 0.5 mg twice a day at 5%: every step says "products allow no cut of 5%..."
    (with its own figures); the page says it once, and never lists a 0 mg dose."""
    signup(visitor, "notes@example.org", "Europe/London")
    request = {
        "regimen": [
            {"drug": "clonazepam", "mg": 0.5, "time": "08:00"},
            {"drug": "clonazepam", "mg": 0.5, "time": "22:00"},
        ],
        "person": {"age": 45, "years_on_drug": 3},
        "preferences": {"percent": 5, "every_days": 14},
    }
    assert visitor.api("POST", "/api/plans", json={"request": request}).status_code == 201
    plan = visitor.client.get("/api/plans/active").json()["plan"]
    assert sum("products allow no cut" in (s["note"] or "") for s in plan["steps"]) > 3
    assert any(d["mg"] == 0 for s in plan["steps"] for d in s["doses"])
    page = visitor.client.get("/my-plan").text
    schedule = page.split("<summary>The whole schedule")[1].split("</details>")[0]
    # each run of steps with the same note shows it once (a tail route starts a new run)
    runs = sum(
        1
        for i, s in enumerate(plan["steps"])
        if "products allow no cut" in (s["note"] or "")
        and (i == 0 or "products allow no cut" not in (plan["steps"][i - 1]["note"] or ""))
    )
    assert schedule.count("products allow no cut") == runs
    assert "The same applies to the next" in schedule
    assert not re.search(r"Clonazepam 0 mg|\b0 mg", page)


def test_compare_shows_the_rate_and_rows_choose_the_method(visitor: Visitor) -> None:
    form = {
        "drug_0": "Valium", "dose_0": "10 mg", "time_0": "08:00", "age": "52",
        "years_on_drug": "4", "strategy": "percent", "pace": "", "market": "us",
    }  # fmt: skip
    r = visitor.form("/plan/compare", form, headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert re.search(r"% <span class=\"small\">\([\d.]+% per 14 days\)", r.text)
    assert 'value="choose:hyperbolic::auto"' in r.text and 'form="plan-form"' in r.text
    r = visitor.form("/plan/new", {**form, "action": "choose:hyperbolic:"})
    assert r.status_code == 200 and "Method: hyperbolic" in r.text
    assert r.text.count('formaction="/plan/save"') == 2  # Save at the top and at the bottom


def test_urgent_help_is_asked_for_once_never_in_green(visitor: Visitor) -> None:
    signup(visitor, "urgent@example.org", "UTC")
    save_plan(visitor, "UTC")
    r = visitor.form("/journal/checkin", {"d_seizure": "on"})
    main = r.text.split("<main")[1]
    assert main.count("Get urgent medical help now") == 1
    urgent = re.search(r'<div class="callout urgent" role="alert">(.*?)</div>', main, re.S)
    assert urgent and "Get urgent medical help now" in urgent.group(1)
    flash = re.search(r'<div class="flash" role="status">(.*?)</div>', main, re.S)
    assert flash and "urgent" not in flash.group(1).lower()


def test_clinician_view_opens_on_alerts_and_the_last_two_weeks(make_visitor: Any) -> None:
    patient, doc = make_visitor(), make_visitor()
    signup(patient, "pv@example.org", "Asia/Tokyo")
    save_plan(patient, "Asia/Tokyo")
    patient.form("/journal/checkin", {"q_anxiety": "6"})
    code = patient.api("POST", "/api/shares").json()["code"]
    signup(doc, "dr@example.org", "UTC", "clinician")
    r = doc.form("/clinician/redeem", {"code": code})
    page = r.text
    assert len(r.content) < PAGE_BUDGET, len(r.content)
    alerts, weeks = page.index(">Alerts<"), page.index(">The last two weeks<")
    assert alerts < weeks < page.index("Now and next") < page.index("The whole schedule")
    pid = re.search(r"/clinician/patients/(\d+)/suggest", page)
    assert pid is not None
    assert doc.client.get(f"/clinician/patients/{pid.group(1)}/trends.svg").status_code == 200
    assert doc.client.get(f"/clinician/patients/{pid.group(1)}/chart.svg").status_code == 200
    # the patient sees when the clinician looked, on the patient's own clock
    account = patient.client.get("/account").text
    assert f"{long_date(clock.today_in('Asia/Tokyo'))}, " in account and " UTC — " not in account
    other = make_visitor()
    signup(other, "other-dr@example.org", "UTC", "clinician")
    assert other.client.get(f"/clinician/patients/{pid.group(1)}/chart.svg").status_code == 404


def test_scales_show_their_wording_or_say_why_not(visitor: Visitor) -> None:
    signup(visitor, "scales-text@example.org", "UTC")
    gad = visitor.client.get("/journal/scales/gad-7").text
    assert "1. Feeling nervous, anxious, or on edge" in gad and "Nearly every day" in gad
    for scale, link in (
        ("ciwa-b", "https://pubmed.ncbi.nlm.nih.gov/2574193"),
        ("bwsq", "https://doi.org/10.1016/0165-0327(90)90009-W"),
    ):
        page = visitor.client.get(f"/journal/scales/{scale}").text
        assert "Why the questions are numbered" in page and "copyright" in page
        assert f'href="{link}"' in page and "Question 1 of" in page
