"""Web and API exports of a saved plan carry the journal: FHIR check-ins and the story's holds."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fhir.resources.bundle import Bundle as BundleR5
from fhir.resources.R4B.bundle import Bundle as BundleR4B

from .conftest import Visitor
from .test_clinician import _share
from .test_journal import TODAY, plan_started

CIWA = [0, 1, 2, 3, 4] * 4 + [1, 1]


def _of(data: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == rtype]


def _journal(patient: Visitor) -> None:
    assert patient.api("POST", "/api/plans", json=plan_started(3)).status_code == 201
    r = patient.api(
        "POST",
        "/api/journal/entries",
        json={
            "day": (TODAY - dt.timedelta(days=2)).isoformat(),
            "entry": {"kind": "checkin", "ciwa_b": CIWA},
        },
    )
    assert r.status_code == 201, r.text
    for days_ago in (1, 0):  # bad days after the cut: the adaptive rules hold the plan
        r = patient.form(
            "/journal/checkin",
            {
                "day": (TODAY - dt.timedelta(days=days_ago)).isoformat(),
                "q_anxiety": "8",
                "q_insomnia": "7",
            },
        )
        assert r.status_code == 200, r.text


def test_fhir_downloads_and_api_carry_the_journal(visitor: Visitor) -> None:
    visitor.signup("fhirweb@example.org")
    _journal(visitor)
    stored = visitor.client.get("/api/journal/entries?kind=checkin").json()
    ciwa = next(e for e in stored if e["entry"].get("ciwa_b"))
    assert ciwa["entry"]["ciwa_b"] == CIWA

    page = visitor.client.get("/my-plan").text
    assert "/my-plan/export/fhir-r5" in page and "FHIR R5 bundle: plan and check-ins" in page
    for url, model in (
        ("/my-plan/export/fhir", BundleR4B),
        ("/my-plan/export/fhir-r5", BundleR5),
        ("/api/plans/active/export?format=fhir", BundleR4B),
        ("/api/plans/active/export?format=fhir-r5", BundleR5),
    ):
        r = visitor.client.get(url)
        assert r.status_code == 200 and r.headers["content-type"].startswith(
            "application/fhir+json"
        ), url
        model.model_validate_json(r.content)
        data = json.loads(r.content)
        (response,) = [
            q for q in _of(data, "QuestionnaireResponse") if "ciwa-b" in q["questionnaire"]
        ]
        assert [a["valueInteger"] for i in response["item"] for a in i["answer"]] == CIWA
        assert response["authored"] == ciwa["day"]
        scores = [o for o in _of(data, "Observation") if o["code"]["text"] == "CIWA-B total score"]
        assert [o["valueQuantity"]["value"] for o in scores] == [sum(CIWA)]
        quick = [o for o in _of(data, "Observation") if o["code"]["text"] == "Quick check-in"]
        assert len(quick) == 2
        assert len(_of(data, "MedicationRequest")) == 1

    plain = visitor.client.get("/api/plans/active/export?format=fhir&journal=false")
    assert plain.status_code == 200
    assert _of(json.loads(plain.content), "QuestionnaireResponse") == []
    assert (
        visitor.client.get("/api/plans/active/export?format=fhir&journal=maybe").status_code == 422
    )


def test_story_download_tells_the_hold_that_happened(visitor: Visitor) -> None:
    visitor.signup("storyweb@example.org")
    _journal(visitor)
    assert len(visitor.client.get("/api/plans").json()) == 2  # the adaptive hold's version
    story = visitor.client.get("/my-plan/export/story").text
    assert "holding" in story and "1 so far" in story
    assert "storyweb" not in story and TODAY.isoformat() not in story


def test_clinician_export_of_a_shared_patient_has_the_journal(make_visitor) -> None:  # type: ignore[no-untyped-def]
    patient, clinician = make_visitor(), make_visitor()
    patient.signup("shared@example.org")
    clinician.signup("drfhir@example.org", role="clinician")
    pid = _share(patient, clinician)
    _journal(patient)
    r = clinician.client.get(f"/clinician/patients/{pid}/export/fhir")
    assert r.status_code == 200
    data = json.loads(r.content)
    assert len(_of(data, "QuestionnaireResponse")) == 3  # CIWA-B and two quick check-ins
