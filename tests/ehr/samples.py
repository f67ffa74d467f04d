"""FHIR R4 resources shaped like US Core 6 data: the 72-year-old on lorazepam 1 mg twice daily.

Shared by the tests of the FHIR reader, the CDS Hooks service and the SMART launch, so all three
meet the same patient. Dates are relative to today, so the patient stays 72.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition"
PATIENT_ID = "p72"


def years_ago(years: int, today: dt.date | None = None) -> dt.date:
    today = today or dt.date.today()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def patient(age: int = 72) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "meta": {"profile": [f"{US_CORE}/us-core-patient"]},
        "identifier": [{"system": "urn:example:mrn", "value": "72-0001"}],
        "name": [{"family": "Example", "given": ["Pat"]}],
        "gender": "female",
        "birthDate": (years_ago(age) - dt.timedelta(days=30)).isoformat(),
    }


def tablet_dose(count: float = 1) -> dict[str, Any]:
    return {"doseQuantity": {"value": count, "unit": "tablet", "system": UCUM, "code": "{tbl}"}}


def lorazepam_request(**changes: Any) -> dict[str, Any]:
    """US Core MedicationRequest: lorazepam 1 mg tablet (RxCUI 197901), 1 tablet at 08:00 and
    20:00, prescribed about 14 months ago."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": "lorazepam-bid",
        "meta": {"profile": [f"{US_CORE}/us-core-medicationrequest"]},
        "status": "active",
        "intent": "order",
        "reportedBoolean": False,
        "medicationCodeableConcept": {
            "coding": [
                {"system": RXNORM, "code": "197901", "display": "lorazepam 1 MG Oral Tablet"}
            ],
            "text": "lorazepam 1 MG Oral Tablet",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "authoredOn": (dt.date.today() - dt.timedelta(days=430)).isoformat(),
        "requester": {"reference": "Practitioner/dr-1", "display": "Dr Example"},
        "dosageInstruction": [
            {
                "text": "1 tablet by mouth twice daily",
                "timing": {
                    "repeat": {
                        "frequency": 2,
                        "period": 1,
                        "periodUnit": "d",
                        "timeOfDay": ["08:00:00", "20:00:00"],
                    },
                    "code": {"text": "BID"},
                },
                "doseAndRate": [tablet_dose(1)],
            }
        ],
    }
    resource.update(changes)
    return resource


def opioid_request() -> dict[str, Any]:
    """An active opioid prescription, named by text only (the reader needs no opioid codes)."""
    return {
        "resourceType": "MedicationRequest",
        "id": "oxycodone",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "oxycodone hydrochloride 5 MG Oral Tablet"},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "dosageInstruction": [
            {"text": "1 tablet every 6 hours as needed", "asNeededBoolean": True}
        ],
    }


def bundle(*resources: dict[str, Any], kind: str = "searchset") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {"fullUrl": f"http://ehr.example/fhir/{r['resourceType']}/{r.get('id', i)}",
             "resource": copy.deepcopy(r)}
            for i, r in enumerate(resources)
        ],
    }  # fmt: skip
