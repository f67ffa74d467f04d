"""Read a starting regimen from FHIR: MedicationRequest or MedicationStatement, R4B or R5.

The regimen is what the person takes now, so only the first dosage step (lowest ``sequence``)
counts. Anything benzotaper cannot use exactly (a unit other than mg, no clock times, a
schedule that is not daily, a drug not in the catalogue) is refused with a message that says
what to change, never guessed.
(R5's ballot name "MedicationUsage" was renamed back to MedicationStatement in R5 final, which
is what fhir.resources 8 ships; both names are accepted on input.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from benzotaper.catalogue import Catalogue
from benzotaper.errors import ImportFormatError, UnknownDrugError
from benzotaper.exports.fhir_codes import UCUM, FhirVersion, code_problems
from benzotaper.exports.fhir_plan import fhir_model
from benzotaper.planning.models import Administration

_SUPPORTED = ("MedicationRequest", "MedicationStatement", "MedicationUsage")
_MG_FACTOR = {"mg": 1.0, "ug": 0.001, "g": 1000.0}  # UCUM codes for mass
_UNIT_TEXT = {"mg": 1.0, "milligram": 1.0, "milligrams": 1.0, "mcg": 0.001, "µg": 0.001}
#: MedicationRequest statuses that are not a current regimen.
_ENDED = {"cancelled", "completed", "entered-in-error", "stopped", "ended", "not-taken"}


def _load(data: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(data, Mapping):
        return dict(data)
    try:
        loaded = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ImportFormatError(f"Not FHIR JSON: {exc}") from None
    if not isinstance(loaded, dict) or "resourceType" not in loaded:
        raise ImportFormatError("Not a FHIR resource: the JSON has no 'resourceType'.")
    return loaded


def detect_version(resource: Mapping[str, Any]) -> FhirVersion:
    """R4B names the drug 'medicationCodeableConcept'; R5 uses 'medication' (CodeableReference)."""
    if "medicationCodeableConcept" in resource or "medicationReference" in resource:
        return "r4b"
    return "r5"


def _resources(root: dict[str, Any]) -> list[dict[str, Any]]:
    if root["resourceType"] == "Bundle":
        found = [
            e["resource"]
            for e in root.get("entry", [])
            if isinstance(e, dict)
            and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") in _SUPPORTED
        ]
        if not found:
            raise ImportFormatError(
                "The Bundle holds no MedicationRequest or MedicationStatement to import."
            )
        return found
    if root["resourceType"] not in _SUPPORTED:
        raise ImportFormatError(
            f"Cannot import a FHIR {root['resourceType']}: give a MedicationRequest, a "
            "MedicationStatement (or a Bundle of them)."
        )
    return [root]


def _validate(resource: dict[str, Any], version: FhirVersion) -> None:
    rtype = resource["resourceType"]
    if rtype == "MedicationUsage":
        resource = {**resource, "resourceType": "MedicationStatement"}
        rtype = "MedicationStatement"
    problems = code_problems(resource, version)
    if problems:
        raise ImportFormatError(f"{rtype}: " + "; ".join(problems))
    try:
        fhir_model(rtype, version).model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ImportFormatError(
            f"{rtype} is not valid FHIR {version.upper()}: {loc}: {first['msg']}"
        ) from None


def _drug_text(resource: dict[str, Any], catalogue: Catalogue) -> str:
    concept = resource.get("medicationCodeableConcept")
    if concept is None and isinstance(resource.get("medication"), dict):
        concept = resource["medication"].get("concept")
    if concept is None:
        raise ImportFormatError(
            f"{resource['resourceType']} names its drug only by reference to a Medication "
            "resource; give the drug as a code or text (medication concept) instead."
        )
    names = [concept.get("text")] + [
        c.get(k) for c in concept.get("coding", []) for k in ("display", "code")
    ]
    names = [n for n in names if isinstance(n, str) and n.strip()]
    if not names:
        raise ImportFormatError("The medication has neither text nor a coding display.")
    for name in names:  # the text or any display/code the catalogue knows
        try:
            return catalogue.drug(name).id
        except UnknownDrugError:
            continue  # try the next name; the first one is reported below
    return catalogue.drug(names[0]).id  # raises UnknownDrugError with suggestions


def _mg(dosage: dict[str, Any], where: str) -> float:
    rates = dosage.get("doseAndRate") or []
    if len(rates) != 1 or "doseQuantity" not in rates[0]:
        kind = "a dose range" if rates and "doseRange" in rates[0] else "no single dose quantity"
        raise ImportFormatError(f"{where} has {kind}: benzotaper needs one dose in mg.")
    q = rates[0]["doseQuantity"]
    value = q.get("value")
    if not isinstance(value, int | float) or value <= 0:
        raise ImportFormatError(f"{where}: the dose quantity has no positive value.")
    if q.get("system") == UCUM and q.get("code") in _MG_FACTOR:
        return float(value) * _MG_FACTOR[q["code"]]
    unit = str(q.get("code") or q.get("unit") or "").strip().lower()
    if q.get("system") in (None, UCUM) and unit in _UNIT_TEXT:
        return float(value) * _UNIT_TEXT[unit]
    raise ImportFormatError(
        f"{where}: the dose unit {q.get('unit') or q.get('code')!r} is not supported. "
        "Give the dose in mg (UCUM code 'mg', system http://unitsofmeasure.org); tablet counts "
        "and mL depend on the product's strength."
    )


def _times(dosage: dict[str, Any], where: str) -> list[str]:
    repeat = (dosage.get("timing") or {}).get("repeat") or {}
    times = repeat.get("timeOfDay") or []
    if not times:
        raise ImportFormatError(
            f"{where} has no clock times (timing.repeat.timeOfDay): benzotaper needs the time "
            "of each dose, e.g. 08:00 and 22:00."
        )
    period, unit = repeat.get("period", 1), repeat.get("periodUnit", "d")
    if (period, unit) != (1, "d") or repeat.get("frequency", len(times)) != len(times):
        raise ImportFormatError(
            f"{where}: only daily schedules with one dose at each timeOfDay can be imported "
            f"(got frequency {repeat.get('frequency')} per {period} {unit})."
        )
    return [str(t)[:5] for t in times]


def regimen_from_fhir(
    data: str | bytes | Mapping[str, Any],
    catalogue: Catalogue,
    *,
    version: FhirVersion | None = None,
) -> list[Administration]:
    """The starting regimen from FHIR JSON (a resource or a Bundle); ``version`` auto-detected."""
    out: list[Administration] = []
    for resource in _resources(_load(data)):
        rtype = resource["resourceType"]
        _validate(resource, version or detect_version(resource))
        if resource.get("status") in _ENDED:
            continue
        drug = _drug_text(resource, catalogue)
        dosages = resource.get("dosageInstruction" if rtype == "MedicationRequest" else "dosage")
        if not dosages:
            raise ImportFormatError(f"{rtype} for {drug} has no dosage to import.")
        first = min(d.get("sequence", 0) for d in dosages)
        for i, dosage in enumerate(d for d in dosages if d.get("sequence", 0) == first):
            where = f"{rtype} {drug} dosage {i + 1}"
            mg = _mg(dosage, where)
            out += [Administration(drug=drug, mg=mg, time=t) for t in _times(dosage, where)]
    if not out:
        raise ImportFormatError("Nothing current to import: every request is stopped or ended.")
    return sorted(out, key=lambda a: (a.time, a.drug))
