"""Journal pages and API: entries stored by the journal library, a hold after bad days."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .conftest import Visitor

TODAY = dt.date.today()


def plan_started(days_ago: int) -> dict[str, Any]:
    """Diazepam 10 mg, 10% every 14 days, started ``days_ago`` (its first cut that day)."""
    return {
        "request": {
            "regimen": [{"drug": "diazepam", "mg": 10, "time": "08:00"}],
            "person": {"age": 45, "years_on_drug": 3},
            "preferences": {
                "percent": 10,
                "every_days": 14,
                "start": (TODAY - dt.timedelta(days=days_ago)).isoformat(),
            },
        }
    }


def test_checkins_after_a_cut_bring_a_hold(visitor: Visitor) -> None:
    visitor.signup("hold@example.org")
    assert visitor.api("POST", "/api/plans", json=plan_started(3)).status_code == 201
    for days_ago in (1, 0):
        r = visitor.form(
            "/journal/checkin",
            {
                "day": (TODAY - dt.timedelta(days=days_ago)).isoformat(),
                "q_anxiety": "8",
                "q_insomnia": "7",
            },
        )
        assert r.status_code == 200, r.text
    status = visitor.client.get("/api/status").json()
    assert status["hold"] is True and status["hold_reason"]
    assert len(visitor.client.get("/api/plans").json()) == 2  # a new version, with its reason
    page = visitor.client.get("/my-plan").text
    assert "Your plan is on hold" in page and status["hold_reason"] in page


def test_one_tap_dose_taken(visitor: Visitor) -> None:
    visitor.signup("dose@example.org")
    visitor.api("POST", "/api/plans", json=plan_started(0))
    r = visitor.form(
        "/today/take",
        {"drug": "diazepam", "mg": "9", "planned_time": "08:00", "status": "taken"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and "All of today's doses are recorded" in r.text
    doses = visitor.client.get("/api/journal/entries?kind=dose").json()
    assert doses[0]["entry"]["status"] == "taken" and doses[0]["entry"]["planned_time"] == "08:00"


def test_scales_sleep_and_notes(visitor: Visitor) -> None:
    visitor.signup("scales@example.org")
    page = visitor.client.get("/journal/scales/gad-7").text
    assert "Feeling nervous" in page
    items = {f"item_{i}": "2" for i in range(1, 8)}
    r = visitor.form("/journal/scales/gad-7", items, follow_redirects=False)
    assert r.status_code == 303  # Post/Redirect/Get: a reload shows the saved score again
    for _ in range(2):
        assert "Saved: 14 of 21" in visitor.client.get(r.headers["location"]).text
    r = visitor.form(
        "/journal/scales/phq-9", {**{f"item_{i}": "0" for i in range(1, 9)}, "item_9": "1"}
    )
    assert r.status_code == 200 and "988" in r.text  # item 9 always raises crisis information
    r = visitor.form("/journal/scales/ciwa-b", {"item_1": "3"})
    assert r.status_code == 422 and 'value="3" checked' in r.text
    sleep = {
        "bed_time": "23:00",
        "sol_min": "30",
        "waso_min": "30",
        "final_wake_time": "07:00",
        "out_of_bed_time": "07:00",
    }
    r = visitor.form("/journal/sleep", sleep)
    assert r.status_code == 200 and "sleep efficiency" in r.text
    r = visitor.form("/journal/sleep", {**sleep, "bed_time": "25:00"})
    assert r.status_code == 422 and 'value="25:00"' in r.text
    r = visitor.form("/journal/note", {"note_text": "Walked by the river."}, follow_redirects=True)
    assert "Walked by the river" in r.text
    entries = visitor.client.get("/api/journal/entries").json()
    assert {e["kind"] for e in entries} == {"checkin", "sleep", "note"} and len(entries) == 4
    assert 'src="/journal/trends.svg"' in visitor.client.get("/journal").text  # the trend chart
    chart = visitor.client.get("/journal/trends.svg")
    assert chart.status_code == 200 and chart.content.startswith(b"<?xml")


def test_danger_sign_gives_urgent_message(visitor: Visitor) -> None:
    visitor.signup("danger@example.org")
    visitor.api("POST", "/api/plans", json=plan_started(3))
    r = visitor.form("/journal/checkin", {"d_confusion": "on"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/journal?saved=checkin"
    page = visitor.client.get(r.headers["location"]).text
    assert "Check-in saved." in page and "Get urgent medical help now" in page


def test_checkin_validation_keeps_values(visitor: Visitor) -> None:
    visitor.signup("val@example.org")
    r = visitor.form("/journal/checkin", {"day": "2999-01-01", "note": "kept text"})
    assert r.status_code == 422 and "future" in r.text and "kept text" in r.text
    r = visitor.form("/journal/checkin", {})
    assert r.status_code == 422
    # the blank questions are kept rendered per day: a page with typed values never is
    blank = visitor.client.get("/journal").text
    typed = {"q_anxiety": "6", "day": "2999-01-01", "note": "typed once"}
    r = visitor.form("/journal/checkin", typed)
    assert r.status_code == 422 and '<option value="6" selected>' in r.text
    again = visitor.client.get("/journal").text
    assert "typed once" not in again and '<option value="6" selected>' not in again
    assert again.count('name="form_token"') == blank.count('name="form_token"') >= 2
    tokens = [re.findall(r'name="form_token" value="([^"]+)"', t) for t in (blank, again)]
    assert not set(tokens[0]) & set(tokens[1])  # one-time tokens stay fresh on every page


def test_journal_api_and_privacy(make_visitor) -> None:  # type: ignore[no-untyped-def]
    a, b = make_visitor(), make_visitor()
    a.signup("ja@example.org")
    b.signup("jb@example.org")
    r = a.api(
        "POST",
        "/api/journal/entries",
        json={"entry": {"kind": "checkin", "quick": {"anxiety": 3}}},
    )
    assert r.status_code == 201
    uid = r.json()["entry"]["uid"]
    assert b.client.get("/api/journal/entries").json() == []
    assert b.api("DELETE", f"/api/journal/entries/{uid}?reason=mine").status_code == 404
    bad = a.api(
        "POST", "/api/journal/entries", json={"entry": {"kind": "checkin", "quick": {"x": 99}}}
    )
    assert bad.status_code == 422
    bad = a.api(
        "POST", "/api/journal/entries", json={"day": 0, "entry": {"kind": "note", "note": "x"}}
    )
    assert bad.status_code == 422
    assert a.api("DELETE", f"/api/journal/entries/{uid}").status_code == 422  # say why
    gone = a.api("DELETE", f"/api/journal/entries/{uid}?reason=entered twice")
    assert gone.status_code == 200 and gone.json()["entry"]["uid"] != uid
    assert a.client.get("/api/journal/entries").json() == []
    again = a.api("DELETE", f"/api/journal/entries/{uid}?reason=again")
    assert again.status_code == 409  # already retracted
    assert a.client.get("/api/status?on=0").status_code == 422
