"""Reading a regimen from FHIR R4 (US Core 6 shapes): codes, text, tablets, and what is not read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from benzotaper.catalogue import Catalogue
from benzotaper.errors import ImportFormatError
from benzotaper.exports import read_regimen, regimen_from_fhir
from benzotaper.planning.models import Administration
from tests.ehr.samples import RXNORM, UCUM, bundle, lorazepam_request, opioid_request, patient

BID = [
    Administration(drug="lorazepam", mg=1, time="08:00"),
    Administration(drug="lorazepam", mg=1, time="20:00"),
]


def test_rxnorm_coded_request_with_tablet_counts_reads_exactly(catalogue: Catalogue) -> None:
    reading = read_regimen(lorazepam_request(), catalogue)
    assert reading.regimen == BID
    assert reading.unread == []
    assert any("197901" in n and "not yet checked" in n for n in reading.notes)
    assert reading.started["lorazepam"] == dt.date.today() - dt.timedelta(days=430)


def test_half_a_tablet_of_the_coded_strength(catalogue: Catalogue) -> None:
    request = lorazepam_request()
    request["medicationCodeableConcept"]["coding"][0].update(
        code="197902", display="lorazepam 2 MG Oral Tablet"
    )
    request["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 0.5
    assert regimen_from_fhir(request, catalogue) == BID


def test_unknown_code_falls_back_to_the_text_and_says_so(catalogue: Catalogue) -> None:
    request = lorazepam_request()
    request["medicationCodeableConcept"] = {
        "coding": [
            {"system": RXNORM, "code": "104719", "display": "lorazepam 1 MG Oral Tablet [Ativan]"}
        ]
    }
    request["dosageInstruction"][0]["doseAndRate"] = [
        {"doseQuantity": {"value": 1, "unit": "mg", "system": UCUM, "code": "mg"}}
    ]
    reading = read_regimen(request, catalogue)
    assert reading.regimen == BID
    assert any("104719" in n and "text" in n for n in reading.notes)


def test_tablet_count_without_a_known_code_is_not_guessed(catalogue: Catalogue) -> None:
    request = lorazepam_request()
    request["medicationCodeableConcept"] = {"text": "Ativan"}
    reading = read_regimen(request, catalogue)
    assert reading.regimen == []
    assert [u.kind for u in reading.unread] == ["dose"]
    assert "code names the product" in reading.unread[0].message


def test_unknown_code_without_text_is_reported(catalogue: Catalogue) -> None:
    request = lorazepam_request()
    request["medicationCodeableConcept"] = {"coding": [{"system": RXNORM, "code": "999999"}]}
    reading = read_regimen(request, catalogue)
    assert [(u.resource, u.kind) for u in reading.unread] == [
        ("MedicationRequest/lorazepam-bid", "unknown-code")
    ]
    assert "999999" in reading.unread[0].message
    with pytest.raises(ImportFormatError, match="999999"):
        regimen_from_fhir(request, catalogue)


def test_as_needed_and_missing_timing_are_listed_and_the_rest_is_read(
    catalogue: Catalogue,
) -> None:
    no_times = lorazepam_request(id="diazepam-prn-times")
    no_times["medicationCodeableConcept"] = {"text": "diazepam 5 MG Oral Tablet"}
    no_times["dosageInstruction"][0]["timing"]["repeat"].pop("timeOfDay")
    no_times["dosageInstruction"][0]["doseAndRate"] = [
        {"doseQuantity": {"value": 5, "unit": "mg", "system": UCUM, "code": "mg"}}
    ]
    prn = lorazepam_request(id="lorazepam-prn")
    prn["dosageInstruction"][0]["asNeededBoolean"] = True
    data = bundle(patient(), lorazepam_request(), prn, no_times, opioid_request())
    reading = read_regimen(data, catalogue)
    assert reading.regimen == BID
    kinds = {(u.resource, u.kind) for u in reading.unread}
    assert kinds == {
        ("MedicationRequest/lorazepam-prn", "as-needed"),
        ("MedicationRequest/diazepam-prn-times", "missing-timing"),
        ("MedicationRequest/oxycodone", "unknown-drug"),
    }
    by_kind = {u.kind: u.message for u in reading.unread}
    assert "BID" in by_kind["missing-timing"]
    assert "prescriber" in by_kind["as-needed"]


def test_medication_by_reference_in_the_bundle(catalogue: Catalogue) -> None:
    medication: dict[str, Any] = {
        "resourceType": "Medication",
        "id": "med-1",
        "code": {"coding": [{"system": RXNORM, "code": "197901"}]},
    }
    request = lorazepam_request()
    del request["medicationCodeableConcept"]
    request["medicationReference"] = {"reference": "Medication/med-1"}
    assert regimen_from_fhir(bundle(request, medication), catalogue) == BID
    contained = lorazepam_request()
    del contained["medicationCodeableConcept"]
    contained["contained"] = [{**medication, "id": "m"}]
    contained["medicationReference"] = {"reference": "#m"}
    assert regimen_from_fhir(contained, catalogue) == BID


def test_free_text_only_statement_with_mg(catalogue: Catalogue) -> None:
    statement = {
        "resourceType": "MedicationStatement",
        "id": "s1",
        "status": "active",
        "medicationCodeableConcept": {"text": "Valium"},
        "subject": {"reference": "Patient/p72"},
        "effectivePeriod": {"start": "2024-01-10"},
        "dosage": [
            {
                "timing": {"repeat": {"timeOfDay": ["22:00:00"]}},
                "doseAndRate": [
                    {"doseQuantity": {"value": 5, "unit": "mg", "system": UCUM, "code": "mg"}}
                ],
            }
        ],
    }
    reading = read_regimen(statement, catalogue)
    assert reading.regimen == [Administration(drug="diazepam", mg=5, time="22:00")]
    assert reading.started == {"diazepam": dt.date(2024, 1, 10)}


def uk_core_request(code: str, system: str = "https://dmd.nhs.uk") -> dict[str, Any]:
    """Lorazepam 1mg tablets, one tablet twice a day, as UK Core sends it: the dm+d VMP and the
    dose in SNOMED CT's unit "tablet" (428673006)."""
    request = lorazepam_request(id="uk-lorazepam")
    request["medicationCodeableConcept"] = {
        "coding": [{"system": system, "code": code, "display": "Lorazepam 1mg tablets"}]
    }
    request["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"] = {
        "value": 1, "unit": "tablet", "system": "http://snomed.info/sct", "code": "428673006",
    }  # fmt: skip
    return request


@pytest.mark.parametrize(
    ("code", "system"),
    [
        ("42131511000001102", "https://dmd.nhs.uk"),  # the current VMP id
        ("42131511000001102", "http://snomed.info/sct"),  # dm+d ids are SNOMED CT UK concepts
        ("321294008", "https://dmd.nhs.uk"),  # the VMP's earlier id, in older records
    ],
)
def test_dmd_coded_uk_core_request_with_tablet_counts_reads_exactly(
    catalogue: Catalogue, code: str, system: str
) -> None:
    reading = read_regimen(uk_core_request(code, system), catalogue)
    assert reading.regimen == BID
    assert reading.unread == []
    assert any(code in n and "1 mg tablet" in n and "not yet checked" in n for n in reading.notes)


def test_a_dmd_code_names_the_strength_so_half_a_2_5_mg_tablet_is_exact(
    catalogue: Catalogue,
) -> None:
    request = uk_core_request("42131611000001103")
    request["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 0.5
    assert regimen_from_fhir(request, catalogue) == [
        Administration(drug="lorazepam", mg=1.25, time="08:00"),
        Administration(drug="lorazepam", mg=1.25, time="20:00"),
    ]


def test_an_unknown_dmd_code_is_reported_not_guessed(catalogue: Catalogue) -> None:
    request = uk_core_request("1063711000001105")  # a clonazepam pack (AMPP), not a product
    request["medicationCodeableConcept"]["coding"][0].pop("display")
    reading = read_regimen(request, catalogue)
    assert reading.regimen == []
    assert [u.kind for u in reading.unread] == ["unknown-code"]
