"""A clinician sees shared patients' alerts and data read-only; every look is audited."""

from __future__ import annotations

import datetime as dt

import pytest

from .conftest import Visitor
from .test_journal import TODAY, plan_started

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py


def _share(patient: Visitor, clinician: Visitor) -> int:
    code = patient.api("POST", "/api/shares").json()["code"]
    r = clinician.api("POST", "/api/patients", json={"code": code})
    assert r.status_code == 201
    pid: int = r.json()["id"]
    return pid


def test_clinician_sees_hold_danger_and_missed_doses(make_visitor) -> None:  # type: ignore[no-untyped-def]
    patient, clinician = make_visitor(), make_visitor()
    patient.signup("al@example.org", name="Al")
    clinician.signup("dr@example.org", role="clinician", name="Dr R")
    pid = _share(patient, clinician)
    assert [a["code"] for a in clinician.client.get(f"/api/patients/{pid}").json()["alerts"]] == [
        "no_plan"
    ]
    patient.api("POST", "/api/plans", json=plan_started(3))
    for days_ago in (1, 0):
        patient.api(
            "POST",
            "/api/journal/entries",
            json={
                "day": (TODAY - dt.timedelta(days=days_ago)).isoformat(),
                "entry": {"kind": "checkin", "quick": {"anxiety": 8}},
            },
        )
    patient.api(
        "POST",
        "/api/journal/entries",
        json={
            "entry": {
                "kind": "dose",
                "status": "missed",
                "drug": "diazepam",
                "mg": 0,
                "planned_time": "08:00",
                "planned_mg": 9,
            }
        },
    )
    summary = clinician.client.get(f"/api/patients/{pid}").json()
    codes = {a["code"] for a in summary["alerts"]}
    assert "hold" in codes and "missed_doses" in codes and summary["hold"]
    page = clinician.client.get("/clinician").text
    assert "Al" in page and "On hold" in page
    detail = clinician.client.get(f"/clinician/patients/{pid}").text
    assert "On hold" in detail and "anxiety 8" in detail and "Suggest a change" in detail

    patient.api(
        "POST",
        "/api/journal/entries",
        json={"entry": {"kind": "checkin", "danger_signs": ["seizure"]}},
    )
    alerts = clinician.client.get(f"/api/patients/{pid}").json()["alerts"]
    assert alerts[0]["severity"] == "danger"

    trail = patient.client.get("/account").text
    assert "Dr R (name not verified)" in trail and "opened your plan and journal" in trail
    assert "saw you in their patient list (with your alerts)</li>" in trail  # the /clinician page


def test_clinician_cannot_change_patient_data(make_visitor) -> None:  # type: ignore[no-untyped-def]
    patient, clinician = make_visitor(), make_visitor()
    patient.signup("ro@example.org")
    clinician.signup("ro-dr@example.org", role="clinician")
    _share(patient, clinician)
    for method, url in (
        ("POST", "/api/journal/entries"),
        ("POST", "/api/plans"),
        ("GET", "/api/status"),
        ("GET", "/my-plan"),
        ("GET", "/journal"),
    ):
        assert clinician.api(method, url, json={}).status_code == 403, url


def test_suggestion_reaches_the_patient(make_visitor) -> None:  # type: ignore[no-untyped-def]
    patient, clinician = make_visitor(), make_visitor()
    patient.signup("sg@example.org")
    clinician.signup("sg-dr@example.org", role="clinician", name="Dr S")
    pid = _share(patient, clinician)
    patient.api("POST", "/api/plans", json=plan_started(0))
    r = clinician.form(
        f"/clinician/patients/{pid}/suggest",
        {"message": "Let us go slower.", "percent": "5", "every_days": "28"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = patient.client.get("/my-plan").text
    assert "Let us go slower." in page and "5% per cut" in page
    sid = page.split("/plan/new?suggestion=")[1].split('"')[0]
    builder = patient.client.get(f"/plan/new?suggestion={sid}").text
    assert "Nothing changes until you save" in builder and 'value="28"' in builder
    # Another patient cannot open it.
    other = make_visitor()
    other.signup("sg-other@example.org")
    assert other.client.get(f"/plan/new?suggestion={sid}").status_code == 404
    # A suggestion the planner refuses is refused with its words, the text kept.
    r = clinician.form(f"/clinician/patients/{pid}/suggest", {"message": "Faster", "percent": "90"})
    assert r.status_code == 422 and "cannot be planned" in r.text and "Faster" in r.text


def test_unshared_patient_is_invisible_everywhere(make_visitor) -> None:  # type: ignore[no-untyped-def]
    patient, clinician = make_visitor(), make_visitor()
    pid = patient.signup("hidden@example.org")
    patient.api("POST", "/api/plans", json=plan_started(0))
    clinician.signup("nosy@example.org", role="clinician")
    for url in (
        f"/api/patients/{pid}",
        f"/api/patients/{pid}/status",
        f"/api/patients/{pid}/entries",
        f"/api/patients/{pid}/plan",
        f"/clinician/patients/{pid}",
        f"/clinician/patients/{pid}/export/pdf",
    ):
        assert clinician.client.get(url).status_code == 404, url
    assert clinician.form(f"/clinician/patients/{pid}/suggest", {"message": "x"}).status_code == 404


def test_pages_follow_changes_made_through_another_worker(make_visitor, settings) -> None:  # type: ignore[no-untyped-def]
    """The Journal page and the patient view (their entry lists are kept rendered, per list of
    entry revisions) show a correction, a retraction and a plan saved through another worker
    process at once; a revoked share ends the view there too; each view is audited once."""
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from benzotaper.storage.access import AuditEvent
    from benzotaper.web import create_app

    patient, clinician = make_visitor(), make_visitor()
    patient.signup("two-workers@example.org")
    clinician.signup("doc-two-workers@example.org", role="clinician", name="Dr Two")
    pid = _share(patient, clinician)
    checkin = {"entry": {"kind": "checkin", "quick": {"anxiety": 3}}}
    uid = patient.api("POST", "/api/journal/entries", json=checkin).json()["entry"]["uid"]
    view = f"/clinician/patients/{pid}"
    assert "anxiety 3" in patient.client.get("/journal").text
    assert "anxiety 3" in clinician.client.get(view).text
    db = clinician.client.app.state.db  # type: ignore[attr-defined]

    def looks() -> int:
        with db.read() as s:
            return int(s.scalar(select(func.count()).select_from(AuditEvent)) or 0)

    # another worker: its own app, engine and sessions on the same database (in one test
    # process the per-process caches are shared, so what must change are the keys read from
    # the database)
    with TestClient(create_app(settings)) as client:
        other = type(patient)(client)
        client.cookies = patient.client.cookies
        fixed = {"entry": {"kind": "checkin", "quick": {"anxiety": 7}}, "reason": "typo"}
        assert other.api("PATCH", f"/api/journal/entries/{uid}", json=fixed).status_code == 200
        for page in (patient.client.get("/journal").text, clinician.client.get(view).text):
            assert "anxiety 7" in page and "anxiety 3" not in page
        new_uid = other.client.get("/api/journal/entries").json()[0]["uid"]
        gone = other.api("DELETE", f"/api/journal/entries/{new_uid}?reason=not today")
        assert gone.status_code == 200
        before = looks()
        for page in (patient.client.get("/journal").text, clinician.client.get(view).text):
            assert "anxiety 7" not in page
        assert looks() == before + 1  # one audit row for the one look
        assert "has not saved a plan yet" in clinician.client.get(view).text
        assert other.api("POST", "/api/plans", json=plan_started(3)).status_code == 201
        assert "Plan (version 1)" in clinician.client.get(view).text
        share = other.client.get("/api/shares").json()[0]["id"]
        assert other.api("DELETE", f"/api/shares/{share}").status_code == 204
        before = looks()
        assert clinician.client.get(view).status_code == 404
        assert looks() == before  # no share, no look
