"""A patient's FHIR resources (Patient, MedicationRequests, Conditions) in the core's terms.

What the EHR knows fills what benzotaper would otherwise ask: age from the birth date, the
regimen from the benzodiazepine and Z-drug requests (:func:`~benzotaper.exports.read_regimen`),
opioids from the other active requests, falls and dementia from coded Conditions, how long the
drug has been taken from the earliest request. Nothing is guessed: what cannot be read is carried in
``reading.unread`` for the card to say.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benzotaper.catalogue import Catalogue
from benzotaper.ehr.rules import EhrRules, Finding
from benzotaper.exports.fhir_import import RegimenReading, Unread, read_regimen
from benzotaper.planning.models import PersonFactors

_CURRENT = {"active", "on-hold", "draft", "unknown", "recorded", "intended"}
_INACTIVE_CONDITION = {"inactive", "resolved", "remission"}


@dataclass(frozen=True)
class PatientRecord:
    """Everything the cards and the plan need about one patient, read from FHIR."""

    patient_id: str | None
    age: int | None
    reading: RegimenReading
    opioids: list[str] = field(default_factory=list)
    falls: list[str] = field(default_factory=list)
    dementia: list[str] = field(default_factory=list)
    years_on_drug: float | None = None

    @property
    def takes_benzodiazepine(self) -> bool:
        return bool(self.reading.regimen)

    def person(self) -> PersonFactors:
        """The person factors the planner and the risk rules take."""
        return PersonFactors(
            age=self.age if self.age is not None and 12 <= self.age <= 120 else None,
            years_on_drug=self.years_on_drug,
            opioids=bool(self.opioids),
            falls=bool(self.falls),
            dementia=bool(self.dementia),
        )


def age_on(birth_date: str | None, today: dt.date) -> int | None:
    """Whole years from a FHIR date ('1954', '1954-06' or '1954-06-15'); None when absent."""
    if not birth_date:
        return None
    parts = [int(p) for p in birth_date[:10].split("-")]
    year, month, day = [*parts, 1, 1][:3] if len(parts) < 3 else parts
    if len(parts) == 1:  # only the year: the youngest the person can be
        month, day = 12, 31
    years = today.year - year - ((today.month, today.day) < (month, day))
    return years if years >= 0 else None


def _text_of(resource: Mapping[str, Any], medications: Mapping[str, Any]) -> str:
    concept = resource.get("medicationCodeableConcept") or {}
    if not concept and isinstance(resource.get("medication"), Mapping):
        concept = resource["medication"].get("concept") or {}
    ref = (resource.get("medicationReference") or {}).get("reference")
    if not concept and isinstance(ref, str) and ref in medications:
        concept = medications[ref].get("code") or {}
    words = [concept.get("text")] + [c.get("display") for c in concept.get("coding", []) or []]
    return " ".join(w for w in words if isinstance(w, str))


def _opioids(
    requests: Sequence[Mapping[str, Any]], medications: Mapping[str, Any], rules: EhrRules
) -> list[str]:
    found = []
    for r in requests:
        if r.get("status", "active") in _CURRENT:
            name = rules.opioid_in(_text_of(r, medications))
            if name and name not in found:
                found.append(name)
    return found


def _findings(conditions: Sequence[Mapping[str, Any]], finding: Finding, unnamed: str) -> list[str]:
    """What the current conditions recording ``finding`` are called (their text or display)."""
    found = []
    for c in conditions:
        status = {x.get("code") for x in (c.get("clinicalStatus") or {}).get("coding", [])}
        if status & _INACTIVE_CONDITION or not isinstance(c.get("code"), Mapping):
            continue
        if finding.recorded_in(c["code"]):
            code = c["code"]
            name = code.get("text") or (code.get("coding") or [{}])[0].get("display")
            found.append(name or unnamed)
    return found


def _medication_index(resources: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        f"Medication/{r.get('id')}": r for r in resources if r.get("resourceType") == "Medication"
    }


def read_record(
    patient: Mapping[str, Any] | None,
    medication_requests: Sequence[Mapping[str, Any]],
    conditions: Sequence[Mapping[str, Any]],
    catalogue: Catalogue,
    rules: EhrRules,
    today: dt.date,
) -> PatientRecord:
    """Read the record; requests for drugs outside the catalogue are left out of the regimen
    quietly (they are the patient's other medicines), everything else unread is kept."""
    medications = _medication_index(medication_requests)
    requests = [r for r in medication_requests if r.get("resourceType") != "Medication"]
    orders = [
        r for r in requests if r.get("resourceType") in ("MedicationRequest", "MedicationStatement")
    ]
    entries = [{"resource": dict(r)} for r in [*orders, *medications.values()]]
    if orders:
        full = read_regimen({"resourceType": "Bundle", "type": "collection", "entry": entries},
                            catalogue)  # fmt: skip
    else:
        full = RegimenReading([])
    # A drug or code outside the catalogue is one of the patient's other medicines.
    other = [u for u in full.unread if u.kind in ("unknown-drug", "unknown-code")]
    unread: list[Unread] = [u for u in full.unread if u not in other]
    notes = list(full.notes)
    if other:
        notes.append(
            f"{len(other)} other medication request(s) were not recognised as a benzodiazepine "
            "or Z-drug in benzotaper's catalogue and were left out."
        )
    reading = RegimenReading(full.regimen, unread, notes, full.started)
    years = None
    if reading.started:
        years = round(max(0, (today - min(reading.started.values())).days) / 365.25, 2)
    return PatientRecord(
        patient_id=str(patient.get("id")) if patient and patient.get("id") else None,
        age=age_on(patient.get("birthDate") if patient else None, today),
        reading=reading,
        opioids=_opioids(requests, medications, rules),
        falls=_findings(conditions, rules.falls, "fall"),
        dementia=_findings(conditions, rules.dementia, "dementia"),
        years_on_drug=years,
    )
