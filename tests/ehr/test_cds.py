"""CDS Hooks 2.0: discovery, the specification's requests, cards, FHIR validity, feedback."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.medicationrequest import MedicationRequest as R4BMedicationRequest
from sqlalchemy import select

from benzotaper.catalogue import Catalogue
from benzotaper.ehr.hooks import answer
from benzotaper.ehr.record import read_record
from benzotaper.ehr.rules import default_ehr_rules
from benzotaper.exports import code_problems
from benzotaper.planning.risk import default_risk_rules
from benzotaper.storage import Database
from benzotaper.storage.ehr import CdsFeedback
from tests.ehr.samples import (
    PATIENT_ID,
    bundle,
    lorazepam_request,
    opioid_request,
    patient,
    tablet_dose,
    years_ago,
)

VIEW = "/cds-services/benzotaper-patient-view"
HOOKS_2_0 = {"patient-view", "order-select", "order-sign", "appointment-book",
             "encounter-start", "encounter-discharge"}  # fmt: skip

#: The patient-view request printed in the CDS Hooks 2.0 specification (Calling a CDS Service).
SPEC_PATIENT_VIEW: dict[str, Any] = {
    "hookInstance": "23f1a303-991f-4118-86c5-11d99a39222e",
    "fhirServer": "https://fhir.example.org",
    "hook": "patient-view",
    "context": {"patientId": "1288992", "userId": "Practitioner/example"},
    "prefetch": {
        "patientToGreet": {
            "resourceType": "Patient",
            "gender": "male",
            "birthDate": "1925-12-23",
            "id": "1288992",
            "active": True,
        }
    },
}


def view_request(*medications: dict[str, Any], age: int = 72, **extra: Any) -> dict[str, Any]:
    return {
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "hook": "patient-view",
        "context": {"userId": "Practitioner/dr-1", "patientId": PATIENT_ID},
        "prefetch": {
            "patient": patient(age),
            "medications": bundle(*medications),
            "conditions": bundle(),
            **extra,
        },
    }


def test_discovery_has_every_required_field_of_the_specification(app_client: TestClient) -> None:
    r = app_client.get("/cds-services")
    assert r.status_code == 200
    services = r.json()["services"]
    assert {s["hook"] for s in services} == {"patient-view", "order-select", "order-sign"}
    for s in services:
        # Required by CDS Hooks 2.0: hook, description, id; prefetch is a map of templates.
        assert s["hook"] in HOOKS_2_0
        assert isinstance(s["description"], str) and s["description"]
        assert isinstance(s["id"], str) and "/" not in s["id"]
        assert isinstance(s["title"], str)
        assert set(s["prefetch"]) == {"patient", "medications", "conditions", "falls"}
        assert all("{{context.patientId}}" in t for t in s["prefetch"].values())
        assert "161898004" in s["prefetch"]["falls"]
    assert len({s["id"] for s in services}) == 3


def test_the_specifications_example_request_without_our_prefetch_gets_412(
    app_client: TestClient,
) -> None:
    """The spec's example carries only 'patientToGreet' and a FHIR server this deployment does
    not trust: the service cannot read the medications and says so (HTTP 412), as the spec
    asks, rather than answering with no cards as if nothing were wrong."""
    r = app_client.post(VIEW, json=SPEC_PATIENT_VIEW)
    assert r.status_code == 412
    assert "medications" in r.json()["detail"]


def test_the_72_year_old_on_lorazepam_gets_cards_with_a_draft_taper(
    app_client: TestClient,
) -> None:
    r = app_client.post(VIEW, json=view_request(lorazepam_request()))
    assert r.status_code == 200, r.text
    cards = r.json()["cards"]
    summaries = [c["summary"] for c in cards]
    assert any("Age 72" in s and "Beers" in s for s in summaries)
    # lorazepam 2 mg a day is Table 2's own example of a low dose (10 mg DE by the guideline's
    # equivalents; 20 mg by Ashton's): no high-dose card
    assert not any(s.startswith("High dose") for s in summaries)
    assert any("months" in s for s in summaries)  # prescribed 430 days ago
    beers = next(c for c in cards if "Beers" in c["summary"])
    assert beers["indicator"] == "warning"
    urls = [link["url"] for link in beers["links"]]
    assert any("doi.org" in u or "http" in u for u in urls[:-1])
    assert beers["links"][-1]["type"] == "smart"
    assert beers["links"][-1]["url"].endswith("/smart/launch")
    actions = beers["suggestions"][0]["actions"]
    assert len(actions) >= 3
    sequences = [a["resource"]["dosageInstruction"][0]["sequence"] for a in actions]
    assert sequences == sorted(sequences) and sequences[0] == 1
    for card in cards:
        assert len(card["summary"]) <= 140
        assert card["indicator"] in ("info", "warning", "critical")
        assert card["source"]["label"] == "benzotaper"
        assert "agree" in card["detail"].lower()


def test_every_fhir_resource_in_every_card_is_valid_r4(app_client: TestClient) -> None:
    """fhir.resources 8 has no R4 model: R4B's MedicationRequest (identical for the elements
    used: medicationCodeableConcept, dosageInstruction, Timing.repeat.boundsPeriod) is used."""
    requests = [lorazepam_request(), opioid_request()]
    cards = app_client.post(VIEW, json=view_request(*requests)).json()["cards"]
    assert cards
    seen = 0
    for card in cards:
        for suggestion in card.get("suggestions", []):
            for action in suggestion["actions"]:
                resource = action["resource"]
                R4BMedicationRequest.model_validate(resource)
                assert code_problems(resource, "r4b") == []
                assert resource["status"] == "draft"
                for dosage in resource["dosageInstruction"]:
                    bounds = dosage["timing"]["repeat"]["boundsPeriod"]
                    assert dt.date.fromisoformat(bounds["start"]) <= dt.date.fromisoformat(
                        bounds["end"]
                    )
                    assert dosage["doseAndRate"][0]["doseQuantity"]["code"] == "mg"
                seen += 1
    assert seen > 0


def test_a_single_product_step_carries_its_rxnorm_code(app_client: TestClient) -> None:
    cards = app_client.post(VIEW, json=view_request(lorazepam_request())).json()["cards"]
    concepts = [a["resource"]["medicationCodeableConcept"]
                for a in cards[0]["suggestions"][0]["actions"]]  # fmt: skip
    coded = [c["coding"][0] for c in concepts if "coding" in c]
    assert coded, concepts
    for coding in coded:
        assert coding["system"] == "http://www.nlm.nih.gov/research/umls/rxnorm"
        # lorazepam, and diazepam where the plan's tail switches to it (planner tail routes)
        assert coding["display"].split()[0] in {"lorazepam", "diazepam"}


def test_opioid_with_benzodiazepine_is_the_critical_card_first(app_client: TestClient) -> None:
    cards = app_client.post(VIEW, json=view_request(lorazepam_request(), opioid_request())).json()[
        "cards"
    ]
    assert cards[0]["indicator"] == "critical"
    assert "FDA boxed warning" in cards[0]["summary"] and "oxycodone" in cards[0]["summary"]
    assert any("fda.gov" in link["url"] for link in cards[0]["links"])


def test_coded_falls_add_to_the_risk_and_the_detail_lists_what_was_not_read(
    catalogue: Catalogue,
) -> None:
    prn = lorazepam_request(id="prn")
    prn["dosageInstruction"][0]["asNeededBoolean"] = True
    fall = {
        "resourceType": "Condition",
        "id": "fall-1",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "161898004"}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
    }
    body = view_request(lorazepam_request(), prn, falls=bundle(fall))
    out = answer("benzotaper-patient-view", body, catalogue, default_ehr_rules(),
                 default_risk_rules(), today=dt.date.today(), app_url="https://bt/smart/launch",
                 source_url="https://bt/")  # fmt: skip
    detail = out["cards"][0]["detail"]
    assert "as needed" in detail and "Not read" in detail


def test_dementia_in_the_record_is_the_dementia_factor_by_code_or_by_its_words(
    catalogue: Catalogue,
) -> None:
    """A coded dementia (SNOMED) or an ICD-10-CM subcode not listed, recognised by its display,
    sets the dementia factor, so its risk flag reaches the card; a resolved one does not."""

    def condition(coding: dict[str, str], status: str = "active") -> dict[str, Any]:
        return {
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"code": status}]},
            "code": {"coding": [coding]},
        }

    snomed = condition({"system": "http://snomed.info/sct", "code": "52448006"})
    vascular = condition({"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F01.50",
                          "display": "Vascular dementia, unspecified severity"})  # fmt: skip
    resolved = condition(snomed["code"]["coding"][0], status="resolved")
    rules, today = default_ehr_rules(), dt.date.today()
    medications = [lorazepam_request()]
    cases = [
        ([snomed], ["dementia"]),
        ([vascular], ["Vascular dementia, unspecified severity"]),
        ([resolved], []),
    ]
    for conditions, expected in cases:
        record = read_record(None, medications, conditions, catalogue, rules, today)
        assert record.dementia == expected and record.person().dementia is bool(expected)
    body = view_request(lorazepam_request())
    body["prefetch"]["conditions"] = bundle(snomed)
    urls = {"app_url": "https://bt/smart/launch", "source_url": "https://bt/"}
    out = answer("benzotaper-patient-view", body, catalogue, rules, default_risk_rules(),
                 today=today, **urls)  # fmt: skip
    card = next(c for c in out["cards"] if c["summary"].startswith("Dementia recorded"))
    assert card["indicator"] == "warning" and "Beers" in card["detail"]


def test_nothing_to_say_for_a_young_patient_on_no_benzodiazepine(app_client: TestClient) -> None:
    r = app_client.post(VIEW, json=view_request(opioid_request(), age=40))
    assert r.status_code == 200 and r.json()["cards"] == []


def test_order_sign_answers_only_for_benzodiazepine_or_opioid_orders(
    app_client: TestClient,
) -> None:
    sign = "/cds-services/benzotaper-order-sign"
    new_order = lorazepam_request(id="new", status="draft")
    body = view_request()
    body |= {"hook": "order-sign", "context": {**body["context"],
             "draftOrders": bundle(new_order, kind="collection")}}  # fmt: skip
    cards = app_client.post(sign, json=body).json()["cards"]
    assert any("Beers" in c["summary"] for c in cards)
    other = copy.deepcopy(body)
    other["context"]["draftOrders"] = bundle(
        {
            **opioid_request(),
            "status": "draft",
            "medicationCodeableConcept": {"text": "lisinopril"},
        },
        kind="collection",
    )
    assert app_client.post(sign, json=other).json()["cards"] == []
    # a renewal of the lorazepam already taken is not counted twice (4 mg a day would be high)
    renewal = copy.deepcopy(body)
    renewal["prefetch"]["medications"] = bundle(lorazepam_request())
    cards = app_client.post(sign, json=renewal).json()["cards"]
    assert cards and not any(c["summary"].startswith("High dose") for c in cards)


def test_order_select_uses_the_selected_draft(app_client: TestClient) -> None:
    body = view_request()
    body |= {"hook": "order-select", "context": {
        **body["context"], "selections": ["MedicationRequest/new"],
        "draftOrders": bundle(lorazepam_request(id="new", status="draft"), kind="collection"),
    }}  # fmt: skip
    r = app_client.post("/cds-services/benzotaper-order-select", json=body)
    assert r.status_code == 200 and r.json()["cards"]


def test_wrong_hook_unknown_service_and_garbage_are_clear_errors(app_client: TestClient) -> None:
    body = view_request(lorazepam_request())
    assert app_client.post("/cds-services/benzotaper-order-sign", json=body).status_code == 422
    assert app_client.post("/cds-services/nope", json=body).status_code == 422
    body["prefetch"]["medications"] = {"resourceType": "Bundle", "entry": 7}
    r = app_client.post(VIEW, json=body)
    assert r.status_code in (200, 422)
    no_patient = view_request(lorazepam_request())
    no_patient["context"] = {}
    assert app_client.post(VIEW, json=no_patient).status_code == 422


@pytest.mark.both_backends
def test_feedback_is_stored(app_client: TestClient, database_url: str) -> None:
    cards = app_client.post(VIEW, json=view_request(lorazepam_request())).json()["cards"]
    feedback = {"feedback": [
        {"card": cards[0]["uuid"], "outcome": "accepted",
         "acceptedSuggestions": [{"id": cards[0]["suggestions"][0]["uuid"]}],
         "outcomeTimestamp": "2026-11-30T10:00:00Z"},
        {"card": cards[1]["uuid"], "outcome": "overridden",
         "overrideReason": {"reason": {"code": "patient-declined",
                                       "system": "urn:benzotaper:cds:override-reason"},
                            "userComment": "Wants to wait until after the holidays"},
         "outcomeTimestamp": "2026-11-30T10:00:05Z"},
    ]}  # fmt: skip
    r = app_client.post(f"{VIEW}/feedback", json=feedback)
    assert r.status_code == 200 and r.json() == {"stored": 2}
    db = Database(database_url)
    with db.transaction() as session:
        rows = session.scalars(select(CdsFeedback).order_by(CdsFeedback.id)).all()
        assert [(x.outcome, x.override_code) for x in rows] == [
            ("accepted", None),
            ("overridden", "patient-declined"),
        ]
        assert rows[0].accepted_suggestions == [cards[0]["suggestions"][0]["uuid"]]
    db.dispose()
    bad = {"feedback": [{"card": "x", "outcome": "ignored", "outcomeTimestamp": "2026-11-30"}]}
    assert app_client.post(f"{VIEW}/feedback", json=bad).status_code == 422


@pytest.mark.parametrize("age", [64, 65])
def test_the_age_threshold_is_the_risk_rules(catalogue: Catalogue, age: int) -> None:
    young = lorazepam_request(authoredOn=years_ago(0).isoformat())
    young["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 0.5
    out = answer("benzotaper-patient-view", view_request(young, age=age), catalogue,
                 default_ehr_rules(), default_risk_rules(), today=dt.date.today(),
                 app_url="https://bt/smart/launch", source_url="https://bt/")  # fmt: skip
    assert any("Beers" in c["summary"] for c in out["cards"]) == (age >= 65)


def test_a_high_dose_in_the_guidelines_own_terms_gets_its_card(app_client: TestClient) -> None:
    """Lorazepam 2 mg twice daily: 4 mg a day, 20 mg DE by the guideline's own equivalents (its
    Table 7), above its high band's 15 mg."""
    order = lorazepam_request()
    order["dosageInstruction"][0]["doseAndRate"] = [tablet_dose(2)]
    cards = app_client.post(VIEW, json=view_request(order)).json()["cards"]
    card = next(c for c in cards if c["summary"].startswith("High dose"))
    assert card["summary"].startswith("High dose: 20 mg") and "own equivalents" in card["detail"]
