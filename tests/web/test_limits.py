"""Bounded requests through the real edges: body size, every text field, NUL characters, plan
bounds; no-store caching and security headers on every answer, errors included.

They run on SQLite (the backend policy in tests/conftest.py: every bound here refuses before any
database work); the NUL test runs on PostgreSQL too, the database that cannot store a NUL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from benzotaper.limits import MAX_BODY_BYTES, MAX_HOLDS
from benzotaper.web import WebSettings, create_app

from .conftest import Visitor

REGIMEN = [{"drug": "diazepam", "mg": 10, "time": "08:00"}]
PLAN = {"regimen": REGIMEN, "preferences": {"pace": "slow"}}


def _entries(v: Visitor) -> list[Any]:
    entries: list[Any] = v.client.get("/api/journal/entries").json()
    return entries


# ----------------------------------------------------------------------------- plan bounds


@pytest.mark.parametrize("path", ["/api/plan", "/api/compare"])
def test_too_many_holds_are_refused_fast(visitor: Visitor, path: str) -> None:
    start = dt.date.today() + dt.timedelta(days=1)
    holds = [
        {"start": (start + dt.timedelta(days=i)).isoformat(), "days": 1}
        for i in range(MAX_HOLDS + 1)
    ]
    body = {"regimen": REGIMEN, "preferences": {"holds": holds}}
    r = visitor.api("POST", path, json=body)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == "holds"
    assert f"at most {MAX_HOLDS}" in r.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("prefs", "words"),
    [
        ({"percent": 0.1, "every_days": 120}, "at most 12500 days"),
        ({"start": "9999-12-01"}, "outside the dates benzotaper accepts"),  # benzotaper.dates
        ({"percent": 0.0001}, "greater than or equal to 0.1"),
        ({"strategy": "linear", "step_mg": 1e-9}, "greater than or equal to 0.01"),
    ],
)
def test_plan_bounds_on_every_planning_route(
    visitor: Visitor, prefs: dict[str, Any], words: str
) -> None:
    visitor.signup("bounds@example.org")
    body = {"regimen": REGIMEN, "preferences": prefs}
    for path, payload in (("/api/plan", body), ("/api/plans", {"request": body})):
        r = visitor.api("POST", path, json=payload)
        assert r.status_code == 422, (path, r.text)
        assert words in r.text
    r = visitor.api("POST", "/api/compare", json=body)
    if r.status_code == 200:  # beyond the engine's bounds: each strategy's row says why
        assert all(words in row["error"] for row in r.json() if row["strategy"] == "percent")
    else:
        assert r.status_code == 422 and words in r.text
    assert visitor.client.get("/api/plans").json() == []  # nothing stored


def test_simulate_start_is_bounded(visitor: Visitor) -> None:
    r = visitor.api("POST", "/api/simulate", json={"regimen": REGIMEN, "start": "9999-12-31"})
    assert r.status_code == 422 and "outside the dates benzotaper accepts" in r.text


def test_builder_pages_show_the_bound(visitor: Visitor) -> None:
    form = {"drug_0": "diazepam", "dose_0": "10 mg", "time_0": "08:00"}
    for path in ("/plan/preview", "/plan/new"):
        r = visitor.form(path, {**form, "percent": "0.1", "every_days": "120"})
        assert r.status_code == 422 and "at most 12500 days" in r.text
        r = visitor.form(path, {**form, "start": "9999-12-01"})
        assert r.status_code == 422 and "outside the dates benzotaper accepts" in r.text


# ----------------------------------------------------------------------------- body and fields


def test_a_huge_body_is_refused_before_parsing(visitor: Visitor) -> None:
    visitor.signup("huge@example.org")
    entry = {"kind": "medicine", "name": "melatonin", "dose": "x" * (MAX_BODY_BYTES + 1)}
    r = visitor.api("POST", "/api/journal/entries", json={"entry": entry})
    assert r.status_code == 413 and "too large" in r.json()["detail"]
    assert r.headers["x-frame-options"] == "DENY"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams in
        yield b'{"entry": {"kind": "note", "note": "'
        for _ in range(MAX_BODY_BYTES // 1024 + 1):
            yield b"y" * 1024
        yield b'"}}'

    r = visitor.client.request(
        "POST",
        "/api/journal/entries",
        content=chunks(),
        headers={"Content-Type": "application/json", "X-CSRF-Token": visitor.csrf},
    )
    assert r.status_code == 413
    assert _entries(visitor) == []


@pytest.mark.parametrize(
    "entry",
    [
        {"kind": "medicine", "name": "melatonin", "dose": "2" * 201},
        {"kind": "medicine", "name": "m" * 201},
        {
            "kind": "sleep",
            "bed_time": "23:00",
            "sol_min": 10,
            "final_wake_time": "06:00",
            "out_of_bed_time": "06:30",
            "sleep_aid": "a" * 201,
        },
        {"kind": "note", "note": "n" * 5001},
        {"kind": "event", "title": "t" * 201},
        {"kind": "dose", "drug": "d" * 201, "mg": 1},
    ],
)
def test_every_entry_text_is_bounded(visitor: Visitor, entry: dict[str, Any]) -> None:
    visitor.signup("fields@example.org")
    r = visitor.api("POST", "/api/journal/entries", json={"entry": entry})
    assert r.status_code == 422, r.text
    assert "at most" in r.json()["detail"][0]["msg"]
    assert _entries(visitor) == []


def test_hold_and_override_reasons_are_bounded(visitor: Visitor) -> None:
    start = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    for prefs in (
        {"holds": [{"start": start, "days": 7, "reason": "r" * 1001}]},
        {"override": {"reason": "o" * 1001, "max_percent_per_14_days": 30}},
    ):
        r = visitor.api("POST", "/api/plan", json={"regimen": REGIMEN, "preferences": prefs})
        assert r.status_code == 422 and "at most 1000" in r.text


def test_registration_names_are_bounded(visitor: Visitor) -> None:
    body = {"email": "long@example.org", "password": "a long passphrase here", "role": "patient"}
    r = visitor.api("POST", "/api/users", json={**body, "display_name": "n" * 201})
    assert r.status_code == 422


# ----------------------------------------------------------------------------- NUL


@pytest.mark.both_backends
def test_nul_is_refused_cleanly_everywhere(visitor: Visitor) -> None:
    """PostgreSQL cannot store NUL: every edge refuses it with 422 before any database work."""
    # anonymous: login and registration
    r = visitor.api("POST", "/api/session", json={"email": "a\x00@example.org", "password": "x"})
    assert r.status_code == 422 and "NUL" in r.text
    r = visitor.form("/login", {"email": "nul\x00@example.org", "password": "secret"})
    assert r.status_code == 422 and "NUL" in r.text
    visitor.signup("nul@example.org")
    for entry in (
        {"kind": "note", "note": "before\x00after"},
        {"kind": "checkin", "quick": {"anxiety": 3}, "note": "\x00"},
        {"kind": "event", "title": "t\x00"},
    ):
        r = visitor.api("POST", "/api/journal/entries", json={"entry": entry})
        assert r.status_code == 422 and "NUL" in r.json()["detail"][0]["msg"]
    r = visitor.api(
        "POST",
        "/api/plans",
        json={"request": PLAN, "reason": "agreed\x00with Dr X"},
    )
    assert r.status_code == 422
    assert visitor.client.get("/api/status?on=2027-01-01%00").status_code == 422
    # CDS Hooks answers JSON like the API, refusals included (an EHR cannot read a page)
    r = visitor.client.post("/cds-services/benzotaper-patient-view", json={"hook": "a\x00"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/json"
    assert r.json()["detail"][0]["type"] == "nul_character"
    r = visitor.form("/journal/note", {"note": "a note\x00"})
    assert r.status_code == 422
    # an escaped backslash followed by u0000 is ordinary text, not a NUL
    r = visitor.api(
        "POST", "/api/journal/entries", json={"entry": {"kind": "note", "note": "\\u0000"}}
    )
    assert r.status_code == 201, r.text
    assert [e["entry"]["note"] for e in _entries(visitor)] == ["\\u0000"]


# ----------------------------------------------------------------------------- caching, headers


def test_no_store_on_everything_but_static_files(visitor: Visitor) -> None:
    visitor.signup("cache@example.org")
    assert visitor.api("POST", "/api/plans", json={"request": PLAN}).status_code == 201
    for path in (
        "/my-plan",
        "/journal",
        "/account",
        "/api/status",
        "/api/plans",
        "/api/journal/entries",
        "/api/plans/active/export?format=csv",
        "/my-plan/export/ics",
        "/",
    ):
        r = visitor.client.get(path)
        assert r.status_code == 200, path
        assert r.headers["cache-control"] == "no-store", path
    assert "no-store" not in visitor.client.get("/static/app.css").headers.get("cache-control", "")


def test_a_server_error_carries_the_security_headers(settings: WebSettings) -> None:
    app = create_app(settings)

    def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/api/boom", boom)
    app.add_api_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in ("/api/boom", "/boom"):
            r = client.get(path)
            assert r.status_code == 500
            assert "boom" not in r.text
            assert r.headers["x-frame-options"] == "DENY"
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
            assert r.headers["cache-control"] == "no-store"
