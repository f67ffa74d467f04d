"""FHIR R4B and R5: valid per fhir.resources, codes in their value sets, and a round trip."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from fhir.resources.bundle import Bundle as BundleR5
from fhir.resources.R4B.bundle import Bundle as BundleR4B

from benzotaper.catalogue import Catalogue
from benzotaper.catalogue.codes import DMD, product_by_code
from benzotaper.errors import ExportError, ImportFormatError, UnknownDrugError
from benzotaper.exports import (
    FHIR_VERSIONS,
    FhirVersion,
    check_codes,
    code_problems,
    medication_requests,
    plan_fhir_json,
    regimen_from_fhir,
)
from benzotaper.exports._common import drug_name, drugs_in
from benzotaper.knowledge import default_knowledge
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import Administration, Plan, PlanRequest, Step

BUNDLE = {"r4b": BundleR4B, "r5": BundleR5}


def requests_in(text: str) -> list[dict[str, Any]]:
    data = json.loads(text)
    return [
        e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "MedicationRequest"
    ]


@pytest.mark.parametrize("version", FHIR_VERSIONS)
def test_bundle_is_valid_fhir_with_valid_codes(
    plan: Plan, full_catalogue: Catalogue, version: FhirVersion
) -> None:
    text = plan_fhir_json(plan, version, catalogue=full_catalogue)
    parsed = BUNDLE[version].model_validate_json(text)  # independent parse of the JSON text
    assert parsed.type == "collection"
    data = json.loads(text)
    assert code_problems(data, version) == []
    types = [e["resource"]["resourceType"] for e in data["entry"]]
    assert types == ["Patient"] + ["MedicationRequest"] * len(drugs_in(plan))
    patient = data["entry"][0]["resource"]
    assert "name" not in patient and "birthDate" not in patient  # anonymous
    for entry in data["entry"]:
        assert entry["fullUrl"].startswith("urn:uuid:")
    for request in requests_in(text):
        assert request["subject"]["reference"] == data["entry"][0]["fullUrl"]
        assert any("prescriber" in n["text"] for n in request["note"])
        if version == "r5":
            assert "concept" in request["medication"]
        else:
            assert "medicationCodeableConcept" in request


@pytest.mark.parametrize("version", FHIR_VERSIONS)
def test_one_request_per_drug_and_dosages_match_every_step(
    plan: Plan, full_catalogue: Catalogue, version: FhirVersion
) -> None:
    requests = medication_requests(plan, version, catalogue=full_catalogue)
    for request, drug in zip(requests, drugs_in(plan), strict=True):
        concept = request.get("medicationCodeableConcept") or request["medication"]["concept"]
        if "coding" in concept:  # one coded product makes every dose of the drug
            (coding,) = concept["coding"]
            found = product_by_code(full_catalogue, coding["system"], coding["code"])
            assert found is not None and found.drug.id == drug
            assert concept["text"] == coding["display"]
        else:
            assert concept == {"text": drug_name(drug, full_catalogue)}
    for request, drug in zip(requests, drugs_in(plan), strict=True):
        assert request["status"] == "draft" and request["intent"] == "proposal"
        by_sequence: dict[int, list[dict[str, Any]]] = {}
        for dosage in request["dosageInstruction"]:
            by_sequence.setdefault(dosage["sequence"], []).append(dosage)
        expected_steps = [s for s in plan.steps if s.daily_mg.get(drug, 0) > 0]
        assert sorted(by_sequence) == [s.index + 1 for s in expected_steps]
        for step in expected_steps:
            total = 0.0
            times: list[str] = []
            for dosage in by_sequence[step.index + 1]:
                repeat = dosage["timing"]["repeat"]
                assert repeat["boundsPeriod"] == {
                    "start": step.start.isoformat(),
                    "end": step.end.isoformat(),
                }
                assert (repeat["period"], repeat["periodUnit"]) == (1, "d")
                assert repeat["frequency"] == len(repeat["timeOfDay"])
                quantity = dosage["doseAndRate"][0]["doseQuantity"]
                assert quantity["system"] == "http://unitsofmeasure.org"
                assert quantity["code"] == "mg" and quantity["unit"] == "mg"
                total += quantity["value"] * len(repeat["timeOfDay"])
                times += [t[:5] for t in repeat["timeOfDay"]]
            assert total == pytest.approx(step.daily_mg[drug])
            assert sorted(times) == sorted(
                d.time for d in step.doses if d.drug == drug and d.mg > 0
            )


def test_a_step_with_different_morning_and_night_doses_shares_one_sequence(
    handmade: Plan,
) -> None:
    plan = handmade
    (_, diazepam) = medication_requests(plan, "r5")
    step3 = [d for d in diazepam["dosageInstruction"] if d["sequence"] == 3]
    assert len(step3) == 2  # 8 mg at 08:00 and 10 mg at 22:00, concurrent
    assert {d["doseAndRate"][0]["doseQuantity"]["value"] for d in step3} == {8, 10}
    assert any("1½ × 2 mg tablet" in d.get("patientInstruction", "") for d in step3)


@pytest.mark.parametrize("version", FHIR_VERSIONS)
def test_round_trip_plan_to_fhir_to_starting_regimen(
    plan: Plan, full_catalogue: Catalogue, version: FhirVersion
) -> None:
    text = plan_fhir_json(plan, version, catalogue=full_catalogue)
    regimen = regimen_from_fhir(text, full_catalogue)
    first = plan.steps[0]
    assert regimen == sorted(
        (Administration(drug=d.drug, mg=d.mg, time=d.time) for d in first.doses if d.mg > 0),
        key=lambda a: (a.time, a.drug),
    )
    # the same from a single resource, and with the version given explicitly
    lorazepam = requests_in(text)[0]
    assert regimen_from_fhir(json.dumps(lorazepam), full_catalogue, version=version) == [
        a for a in regimen if a.drug == "lorazepam"
    ]


def _statement(version: FhirVersion, **changes: Any) -> dict[str, Any]:
    dosage = {
        "timing": {
            "repeat": {
                "frequency": 2,
                "period": 1,
                "periodUnit": "d",
                "timeOfDay": ["08:00:00", "20:00:00"],
            }
        },
        "doseAndRate": [
            {
                "doseQuantity": {
                    "value": 500,
                    "unit": "mcg",
                    "system": "http://unitsofmeasure.org",
                    "code": "ug",
                }
            }
        ],
    }
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "status": "recorded" if version == "r5" else "active",
        "subject": {"reference": "Patient/p1"},
        "dosage": [dosage],
    }
    concept = {
        "coding": [
            {
                "system": "urn:example:local-formulary",
                "code": "x-1",
                "display": "Ativan",
            }
        ]
    }
    if version == "r5":
        resource["medication"] = {"concept": concept}
    else:
        resource["medicationCodeableConcept"] = concept
    resource.update(changes)
    return resource


@pytest.mark.parametrize("version", FHIR_VERSIONS)
def test_medication_statement_imports_with_unit_conversion(
    version: FhirVersion, full_catalogue: Catalogue
) -> None:
    regimen = regimen_from_fhir(_statement(version), full_catalogue)
    assert regimen == [
        Administration(drug="lorazepam", mg=0.5, time="08:00"),
        Administration(drug="lorazepam", mg=0.5, time="20:00"),
    ]


@pytest.mark.parametrize(
    ("mutate", "error", "match"),
    [
        (
            lambda r: r["dosage"][0]["doseAndRate"][0]["doseQuantity"].update(
                unit="tablet", code="{tbl}"
            ),
            ImportFormatError,
            "in mg",
        ),
        (
            lambda r: r["dosage"][0]["timing"]["repeat"].pop("timeOfDay"),
            ImportFormatError,
            "clock times",
        ),
        (
            lambda r: r["dosage"][0]["timing"]["repeat"].update(period=2),
            ImportFormatError,
            "only daily",
        ),
        (lambda r: r["dosage"][0].pop("doseAndRate"), ImportFormatError, "one dose in mg"),
        (lambda r: r.update(status="bogus"), ImportFormatError, "status"),
        (lambda r: r.update(dosage=[]), ImportFormatError, "no dosage"),
        (
            lambda r: (r.get("medicationCodeableConcept") or r["medication"]["concept"])["coding"][
                0
            ].update(display="Seroquel", code="local-2"),
            UnknownDrugError,
            "Seroquel",
        ),
    ],
)
@pytest.mark.parametrize("version", FHIR_VERSIONS)
def test_unsupported_content_is_refused_clearly(
    version: FhirVersion, full_catalogue: Catalogue, mutate: Any, error: type, match: str
) -> None:
    resource = _statement(version)
    mutate(resource)
    with pytest.raises(error, match=match):
        regimen_from_fhir(resource, full_catalogue)


def test_other_resources_and_broken_json_are_refused(full_catalogue: Catalogue) -> None:
    with pytest.raises(ImportFormatError, match="Cannot import a FHIR Patient"):
        regimen_from_fhir({"resourceType": "Patient"}, full_catalogue)
    with pytest.raises(ImportFormatError, match="Not FHIR JSON"):
        regimen_from_fhir("{not json", full_catalogue)
    with pytest.raises(ImportFormatError, match="no MedicationRequest"):
        regimen_from_fhir(
            {"resourceType": "Bundle", "type": "collection", "entry": []}, full_catalogue
        )
    reference = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/1"},
        "medicationReference": {"reference": "Medication/1"},
    }
    with pytest.raises(ImportFormatError, match="by reference"):
        regimen_from_fhir(reference, full_catalogue)
    stopped = {**reference, "status": "stopped"}
    with pytest.raises(ImportFormatError, match="Nothing current"):
        regimen_from_fhir(stopped, full_catalogue)


def test_code_checks_catch_what_fhir_resources_accepts(plan: Plan) -> None:
    request = medication_requests(plan, "r4b")[0]
    bad = copy.deepcopy(request)
    bad["status"] = "bogus"
    bad["intent"] = "wish"
    bad["dosageInstruction"][0]["timing"]["repeat"]["periodUnit"] = "day"
    problems = code_problems(bad, "r4b")
    assert len(problems) == 3
    assert any("periodUnit" in p for p in problems)
    with pytest.raises(ExportError):
        check_codes(bad, "r4b")
    # "ended" exists in R5 only
    bad = {**request, "status": "ended"}
    assert code_problems(bad, "r5") == [] and code_problems(bad, "r4b") != []


UK_DIAZEPAM = PlanRequest.model_validate(
    {
        "regimen": [
            {"drug": "diazepam", "mg": 5, "time": "08:00"},
            {"drug": "diazepam", "mg": 5, "time": "22:00"},
        ],
        "preferences": {"start": "2026-12-01", "market": "uk"},
    }
)


@pytest.fixture(scope="module")
def uk_plan() -> Plan:
    return make_plan(UK_DIAZEPAM, default_knowledge(), today=dt.date(2026, 11, 26))


def test_r4_steps_of_a_uk_plan_carry_the_dmd_vmp(uk_plan: Plan, full_catalogue: Catalogue) -> None:
    """A UK plan's step taken as one product is coded with its dm+d VMP (system
    https://dmd.nhs.uk, as UK Core names it), never with US Core's profile, and reads back."""
    data = json.loads(plan_fhir_json(uk_plan, "r4", catalogue=full_catalogue))
    BundleR4B.model_validate(data)
    requests = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] != "Patient"]
    coded = [r for r in requests if "coding" in r["medicationCodeableConcept"]]
    assert coded, "some step is made of one product"
    uk_codes = {p.dmd.code for p in full_catalogue.drugs["diazepam"].products_in("uk") if p.dmd}
    for request in requests:
        assert "meta" not in request  # no US Core profile on a UK plan
    for request in coded:
        (coding,) = request["medicationCodeableConcept"]["coding"]
        assert coding["system"] == DMD and coding["code"] in uk_codes
        found = product_by_code(full_catalogue, DMD, coding["code"])
        assert found is not None and coding["display"] == found.product.dmd.display  # type: ignore[union-attr]
        dose = request["dosageInstruction"][0]
        first = regimen_from_fhir({**request, "dosageInstruction": [dose]}, full_catalogue)
        assert {a.drug for a in first} == {"diazepam"}


@pytest.mark.parametrize("version", FHIR_VERSIONS)
def test_r4b_r5_request_is_coded_only_when_one_product_makes_every_dose(
    uk_plan: Plan, full_catalogue: Catalogue, version: FhirVersion
) -> None:
    (request,) = medication_requests(uk_plan, version, catalogue=full_catalogue)
    concept = request.get("medicationCodeableConcept") or request["medication"]["concept"]

    def pieces(steps: list[Step]) -> set[tuple[str, float | None, float | None]]:
        return {
            (piece.form.value, piece.strength_mg, piece.mg_per_ml)
            for step in steps
            for dose in step.doses
            for piece in dose.make_up
        }

    if len(pieces(uk_plan.steps)) == 1:
        assert concept["coding"][0]["system"] == DMD
    else:
        assert concept == {"text": "Diazepam"}
    single = [s for s in uk_plan.steps if len(pieces([s])) == 1]
    one_product = uk_plan.model_copy(update={"steps": single[:1]})
    (last,) = medication_requests(one_product, version, catalogue=full_catalogue)
    concept = last.get("medicationCodeableConcept") or last["medication"]["concept"]
    (coding,) = concept["coding"]
    assert coding["system"] == DMD and concept["text"] == coding["display"]
