"""The clinic measures page, JSON API, CSV and FHIR MeasureReport, through the real app."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from sqlalchemy import func, select

from benzotaper.storage import Database
from benzotaper.storage.access import AuditEvent
from benzotaper.storage.measure_tables import MeasureTimeline

from .conftest import PASSWORD, Visitor

LAST_YEAR = dt.date.today().year - 1
MEASURE_IDS = [
    "dbo",
    "dae",
    "dde",
    "cob",
    "completion",
    "time-to-zero",
    "holds",
    "reinstatements",
    "still-off",
]
POPULATION_CODES = {
    "initial-population",
    "numerator",
    "numerator-exclusion",
    "denominator",
    "denominator-exclusion",
    "denominator-exception",
    "measure-population",
    "measure-population-exclusion",
    "measure-observation",
}


def _older_patient_plan() -> dict[str, Any]:
    """Diazepam 10 mg from 10 Jan last year, slow; 70, falls, dementia, opioids."""
    return {
        "request": {
            "regimen": [{"drug": "diazepam", "mg": 10, "time": "08:00"}],
            "person": {"age": 70, "falls": True, "dementia": True, "opioids": True},
            "preferences": {"pace": "slow", "start": f"{LAST_YEAR}-01-10"},
        }
    }


def _clinic(make_visitor: Any) -> tuple[Visitor, Visitor]:
    patient, clinician = make_visitor(), make_visitor()
    patient.signup("pat@example.org", name="Pat")
    clinician.signup("dr@example.org", role="clinician", name="Dr M")
    code = patient.api("POST", "/api/shares").json()["code"]
    assert clinician.api("POST", "/api/patients", json={"code": code}).status_code == 201
    assert patient.api("POST", "/api/plans", json=_older_patient_plan()).status_code == 201
    return patient, clinician


def test_json_report_counts_the_shared_patient(make_visitor: Any, settings: Any) -> None:
    _, clinician = _clinic(make_visitor)
    r = clinician.client.get(f"/api/clinic/measures?year={LAST_YEAR}")
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["patients"], report["patients_with_plan"]) == (1, 1)
    assert report["period_start"] == f"{LAST_YEAR}-01-01"
    assert report["period_end"] == f"{LAST_YEAR}-12-31"
    rates = {x["id"]: x for m in report["measures"] for x in m["rates"]}
    # 70 at the start, slow 5% cuts all year: well over 20% down by December
    assert (rates["dbo-20"]["denominator"], rates["dbo-20"]["numerator"]) == (1, 1)
    assert (rates["dae-bzd"]["numerator"], rates["dde-falls"]["numerator"]) == (1, 1)
    assert (rates["cob"]["denominator"], rates["cob"]["numerator"]) == (1, 1)
    assert (rates["dde-dementia"]["denominator"], rates["dde-dementia"]["numerator"]) == (1, 1)
    db = Database(settings.database_url)
    with db.transaction() as s:
        actions = s.execute(
            select(AuditEvent.action, AuditEvent.patient_id, AuditEvent.detail)
        ).all()
    db.dispose()
    assert ("view.measures", None, f"{LAST_YEAR}-01-01..{LAST_YEAR}-12-31 as json") in actions


def test_page_csv_and_fhir(make_visitor: Any) -> None:
    _, clinician = _clinic(make_visitor)
    page = clinician.client.get(f"/clinician/measures?year={LAST_YEAR}")
    assert page.status_code == 200
    html = page.text
    assert "Deprescribing of Benzodiazepines in Older Adults (DBO)" in html
    assert "What benzotaper cannot see" in html and "ncqa.org" in html
    assert "Clinic measures" in clinician.client.get("/clinician").text

    got = clinician.client.get(f"/api/clinic/measures/export?year={LAST_YEAR}&format=csv")
    assert got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert len(rows) == 17 and rows[1]["rate"] == "dbo-20" and rows[1]["numerator"] == "1"

    for version, fmt in (("r4b", "fhir"), ("r5", "fhir-r5")):
        url = f"/api/clinic/measures/export?year={LAST_YEAR}&format={fmt}"
        fhir = clinician.client.get(url)
        assert fhir.status_code == 200, fhir.text
        assert fhir.headers["content-type"].startswith("application/fhir+json")
        mr = fhir.json()
        assert (mr["resourceType"], mr["status"], mr["type"]) == (
            "MeasureReport",
            "complete",
            "summary",
        )
        assert mr["period"] == {"start": f"{LAST_YEAR}-01-01", "end": f"{LAST_YEAR}-12-31"}
        assert [g["code"]["coding"][0]["code"] for g in mr["group"]] == MEASURE_IDS
        dbo = mr["group"][0]
        counts = {
            p["code"]["coding"][1]["code"] + "/" + p["code"]["coding"][0]["code"]: p["count"]
            for p in dbo["population"]
        }
        assert counts["dbo-20/denominator"] == counts["dbo-20/numerator"] == 1
        score = dbo["measureScoreQuantity" if version == "r5" else "measureScore"]
        assert score["value"] == 1.0
        codes = {p["code"]["coding"][0]["code"] for g in mr["group"] for p in g["population"]}
        assert codes <= POPULATION_CODES
        assert (
            mr["contained"][0]["resourceType"] == "Measure" and mr["measure"] == "#clinic-measures"
        )


def test_who_may_see_it_and_bad_years(make_visitor: Any) -> None:
    patient, clinician = _clinic(make_visitor)
    anonymous = make_visitor()
    assert anonymous.client.get("/api/clinic/measures").status_code == 401
    assert patient.client.get("/api/clinic/measures").status_code == 403
    assert patient.client.get("/clinician/measures").status_code == 403
    future = clinician.client.get(f"/api/clinic/measures?year={dt.date.today().year + 1}")
    assert future.status_code == 422
    assert future.json()["detail"][0]["loc"] == ["query", "year"]
    assert clinician.client.get("/api/clinic/measures?year=1999").status_code == 422
    assert clinician.client.get("/api/clinic/measures/export?format=xlsx").status_code == 422
    this_year = clinician.client.get("/api/clinic/measures").json()
    assert (
        this_year["period_end"]
        == min(dt.date.today(), dt.date(dt.date.today().year, 12, 31)).isoformat()
    )


def test_openapi_declares_the_clinic_routes(visitor: Visitor) -> None:
    paths = visitor.client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/clinic/measures", "/api/clinic/measures/export"):
        assert {"200", "401", "403", "422"} <= set(paths[path]["get"]["responses"]), path
    content = paths["/api/clinic/measures/export"]["get"]["responses"]["200"]["content"]
    assert {"text/csv", "application/fhir+json"} <= set(content)


@pytest.mark.both_backends
def test_a_deleted_patient_leaves_the_report_and_the_cache(
    make_visitor: Any, settings: Any
) -> None:
    """Account deletion removes the cached timeline with the user (ON DELETE CASCADE): nothing
    derived from a deleted person's plans stays, and the report stops counting them."""
    patient, clinician = _clinic(make_visitor)
    url = f"/api/clinic/measures?year={LAST_YEAR}"
    assert clinician.client.get(url).json()["patients_with_plan"] == 1  # timeline cached
    db = Database(settings.database_url)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(MeasureTimeline)) == 1
    r = patient.api("POST", "/api/account/delete", json={"password": PASSWORD})
    assert r.status_code == 200, r.text
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(MeasureTimeline)) == 0
    db.dispose()
    report = clinician.client.get(url).json()
    assert (report["patients"], report["patients_with_plan"]) == (0, 0)
