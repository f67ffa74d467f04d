"""A return to an earlier dose from the API (patient and clinician) and from the clinician's
patient page: the same service, a labelled plan version, audited for the patient."""

from __future__ import annotations

from .conftest import Visitor
from .test_clinician import _share
from .test_journal import plan_started


def test_patient_api_reinstates_once(visitor: Visitor) -> None:
    visitor.signup("back@example.org")
    r = visitor.api("POST", "/api/plans/reinstate", json={"reason": "severe anxiety"})
    assert r.status_code == 404 and "No saved plan" in r.json()["detail"]
    visitor.api("POST", "/api/plans", json=plan_started(16))  # cuts 16 and 2 days ago
    assert visitor.api("POST", "/api/plans/reinstate", json={}).status_code == 422
    r = visitor.api("POST", "/api/plans/reinstate", json={"reason": "severe anxiety"})
    assert r.status_code == 201, r.text
    body = r.json()
    first = body["plan"]["steps"][0]
    assert (body["origin"], first["phase"], first["daily_mg"]) == (
        "reinstatement",
        "reinstatement",
        {"diazepam": 9.0},
    )
    assert first["change_percent"] > 0 and "asked by the person" in body["reason"]
    again = visitor.api("POST", "/api/plans/reinstate", json={"reason": "again"})
    assert again.status_code == 422 and "no earlier dose" in again.text
    assert visitor.api("GET", "/api/status").json()["phase"] == "reinstatement"


def test_a_nights_plan_is_reinstated_from_the_api(visitor: Visitor) -> None:
    """Medication-free nights: the return is the earlier weekly pattern, labelled as the rise."""
    visitor.signup("nights@example.org")
    started = plan_started(16)  # cuts 16 and 2 days ago
    started["request"]["regimen"] = [{"drug": "zolpidem", "mg": 10, "time": "22:00"}]
    started["request"]["preferences"]["market"] = "us"
    assert visitor.api("POST", "/api/plans", json=started).status_code == 201
    r = visitor.api("POST", "/api/plans/reinstate", json={"reason": "no sleep at all"})
    assert r.status_code == 201, r.text
    first = r.json()["plan"]["steps"][0]
    assert (first["phase"], first["daily_mg"]) == ("reinstatement", {"zolpidem": 9.2857})
    assert first["change_percent"] > 0 and any(d["on_days"] for d in first["doses"])


def test_clinician_returns_a_patient_to_the_earlier_dose(make_visitor) -> None:  # type: ignore[no-untyped-def]
    patient, clinician = make_visitor(), make_visitor()
    patient.signup("ri@example.org", name="Ri")
    clinician.signup("ri-dr@example.org", role="clinician", name="Dr Ri")
    pid = _share(patient, clinician)
    patient.api("POST", "/api/plans", json=plan_started(16))
    page = clinician.client.get(f"/clinician/patients/{pid}").text
    assert "Return to an earlier dose" in page and 'name="reason"' in page
    r = clinician.form(
        f"/clinician/patients/{pid}/reinstate",
        {"reason": "Severe insomnia since the cut"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = clinician.client.get(r.headers["location"]).text
    assert "Return to the earlier dose saved" in page and "return to an earlier dose, up" in page
    active = patient.api("GET", "/api/plans/active").json()
    assert active["origin"] == "reinstatement" and "asked by the prescriber" in active["reason"]
    assert active["request"]["preferences"]["reinstate"]["by"] == "clinician"
    # Nothing left to return to: refused with its words, the reason kept in the form.
    r = clinician.form(f"/clinician/patients/{pid}/reinstate", {"reason": "Second try"})
    assert r.status_code == 422 and "no earlier dose" in r.text and "Second try" in r.text
    r = clinician.api("POST", f"/api/patients/{pid}/reinstate", json={"reason": "x"})
    assert r.status_code == 422
    trail = patient.client.get("/account").text
    assert trail.count("returned you to an earlier dose") == 1  # only what was done
    # Not shared: 404, nothing audited.
    other = make_visitor()
    other.signup("ri-other@example.org")
    oid = other.api("GET", "/api/session").json()["user"]["id"]
    assert (
        clinician.form(f"/clinician/patients/{oid}/reinstate", {"reason": "x"}).status_code == 404
    )
    r = clinician.api("POST", f"/api/patients/{oid}/reinstate", json={"reason": "x"})
    assert r.status_code == 404
