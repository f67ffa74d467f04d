"""Read a starting regimen from FHIR: MedicationRequest or MedicationStatement, R4 (US Core 6
shapes), R4B or R5, alone or in a Bundle.

The regimen is what the person takes now, so only the first dosage step (lowest ``sequence``)
counts. The drug is read from an RxNorm or dm+d code the catalogue knows, else from the text
(:mod:`benzotaper.exports.fhir_medication`). The dose must be in mg, or a count of tablets,
capsules or mL of a product whose code names its strength. Anything benzotaper cannot use
exactly (an unknown drug or code, "as needed" use, no clock times, a schedule that is not daily,
another unit) is never guessed: :func:`read_regimen` lists it in ``unread`` with the reason and
reads the rest; :func:`regimen_from_fhir` refuses it.
R4 has no model in fhir.resources 8, so R4 resources are validated with the R4B model (the
MedicationRequest, MedicationStatement, Dosage and Timing elements read here are the same).
(R5's ballot name "MedicationUsage" was renamed back to MedicationStatement in R5 final, which
is what fhir.resources 8 ships; both names are accepted on input.)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from benzotaper.catalogue import Catalogue
from benzotaper.errors import BenzotaperError, ImportFormatError, UnknownDrugError
from benzotaper.exports.fhir_codes import UCUM, FhirVersion, code_problems
from benzotaper.exports.fhir_medication import MedicationRef, identify
from benzotaper.exports.fhir_plan import fhir_model
from benzotaper.planning.models import Administration

_SUPPORTED = ("MedicationRequest", "MedicationStatement", "MedicationUsage")
_MG_FACTOR = {"mg": 1.0, "ug": 0.001, "g": 1000.0}  # UCUM codes for mass
_UNIT_TEXT = {"mg": 1.0, "milligram": 1.0, "milligrams": 1.0, "mcg": 0.001, "µg": 0.001}
#: Units that count pieces of a product (UCUM annotations, SNOMED/HL7 words people send).
_PIECES = {"{tbl}", "{tablet}", "{tab}", "tablet", "tablets", "tab", "{capsule}", "{cap}"}
_PIECES |= {"capsule", "capsules", "cap"}
_VOLUME = {"ml": 1.0, "mL": 1.0}
#: UK Core doses carry SNOMED CT units: tablet, capsule (units of presentation), mL, mg, mcg.
_SNOMED_UNITS = {
    "428673006": "tablet", "428641000": "capsule", "258773002": "mL", "258684004": "mg",
    "258685003": "mcg",
}  # fmt: skip
_SNOMED = "http://snomed.info/sct"
#: MedicationRequest statuses that are not a current regimen.
_ENDED = {"cancelled", "completed", "entered-in-error", "stopped", "ended", "not-taken"}

UnreadKind = Literal[
    "invalid", "not-current", "unknown-drug", "unknown-code", "as-needed", "missing-timing",
    "schedule", "dose", "no-dosage",
]  # fmt: skip


@dataclass(frozen=True)
class Unread:
    """One resource (or dosage) that could not be read, and why, in words for the clinician."""

    resource: str
    kind: UnreadKind
    message: str
    error: BenzotaperError | None = None


@dataclass(frozen=True)
class RegimenReading:
    """What was read: the regimen, what was not (and why), and what a reader should know."""

    regimen: list[Administration]
    unread: list[Unread] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: drug id → the earliest date the resources say it was started or prescribed.
    started: dict[str, dt.date] = field(default_factory=dict)


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
    """R4/R4B name the drug 'medicationCodeableConcept'; R5 uses 'medication' (CodeableReference).

    R4 and R4B are read alike (validated with the R4B model)."""
    if "medicationCodeableConcept" in resource or "medicationReference" in resource:
        return "r4b"
    return "r5"


def _resources(root: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The requests and statements to read, and the Medications they may refer to."""
    if root["resourceType"] == "Bundle":
        entries = [e for e in root.get("entry", []) if isinstance(e, dict)]
        found = [
            e["resource"]
            for e in entries
            if isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") in _SUPPORTED
        ]
        if not found:
            raise ImportFormatError(
                "The Bundle holds no MedicationRequest or MedicationStatement to import."
            )
        medications: dict[str, Any] = {}
        for e in entries:
            r = e.get("resource")
            if isinstance(r, dict) and r.get("resourceType") == "Medication":
                medications[f"Medication/{r.get('id')}"] = r
                if e.get("fullUrl"):
                    medications[str(e["fullUrl"])] = r
        return found, medications
    if root["resourceType"] not in _SUPPORTED:
        raise ImportFormatError(
            f"Cannot import a FHIR {root['resourceType']}: give a MedicationRequest, a "
            "MedicationStatement (or a Bundle of them)."
        )
    return [root], {}


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


def _mg(dosage: dict[str, Any], where: str, med: MedicationRef) -> float:
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
    unit = str(q.get("code") or q.get("unit") or "").strip()
    if q.get("system") == _SNOMED and unit in _SNOMED_UNITS:
        q, unit = {**q, "system": None}, _SNOMED_UNITS[unit]
    if q.get("system") in (None, UCUM) and unit.lower() in _UNIT_TEXT:
        return float(value) * _UNIT_TEXT[unit.lower()]
    product = med.coded.product if med.coded else None
    if product is not None and product.strength_mg and unit.lower() in _PIECES:
        return float(value) * product.strength_mg  # the code names the strength: exact
    if product is not None and product.mg_per_ml and unit in _VOLUME:
        return float(value) * product.mg_per_ml
    raise ImportFormatError(
        f"{where}: the dose unit {q.get('unit') or q.get('code')!r} is not supported. "
        "Give the dose in mg (UCUM code 'mg', system http://unitsofmeasure.org); tablet counts "
        "and mL depend on the product's strength, so they are read only when an RxNorm or dm+d "
        "code names the product."
    )


def _times(dosage: dict[str, Any], where: str) -> list[str]:
    repeat = (dosage.get("timing") or {}).get("repeat") or {}
    times = repeat.get("timeOfDay") or []
    if not times:
        code = ((dosage.get("timing") or {}).get("code") or {}).get("text")
        said = f" ({code})" if code else ""
        raise ImportFormatError(
            f"{where} has no clock times (timing.repeat.timeOfDay){said}: benzotaper needs the "
            "time of each dose, e.g. 08:00 and 22:00."
        )
    period, unit = repeat.get("period", 1), repeat.get("periodUnit", "d")
    if (period, unit) != (1, "d") or repeat.get("frequency", len(times)) != len(times):
        raise ImportFormatError(
            f"{where}: only daily schedules with one dose at each timeOfDay can be imported "
            f"(got frequency {repeat.get('frequency')} per {period} {unit})."
        )
    return [str(t)[:5] for t in times]


def _as_needed(dosage: Mapping[str, Any]) -> bool:
    return bool(
        dosage.get("asNeededBoolean")
        or dosage.get("asNeeded")
        or dosage.get("asNeededCodeableConcept")
        or dosage.get("asNeededFor")
    )


def _label(resource: Mapping[str, Any], index: int) -> str:
    rid = resource.get("id")
    return f"{resource['resourceType']}/{rid}" if rid else f"{resource['resourceType']} {index}"


def _started(resource: Mapping[str, Any]) -> dt.date | None:
    """When the resource says the drug was started: effective/authored date or first bound."""
    period = resource.get("effectivePeriod") or {}
    for text in (
        period.get("start"),
        resource.get("effectiveDateTime"),
        resource.get("authoredOn"),
    ):
        if isinstance(text, str) and len(text) >= 10:
            try:
                return dt.date.fromisoformat(text[:10])
            except ValueError:
                continue
    return None


def _read_dosages(
    resource: dict[str, Any], med: MedicationRef, label: str
) -> tuple[list[Administration], list[Unread]]:
    rtype = resource["resourceType"]
    dosages = resource.get("dosageInstruction" if rtype == "MedicationRequest" else "dosage")
    if not dosages:
        error = ImportFormatError(f"{rtype} for {med.drug} has no dosage to import.")
        return [], [Unread(label, "no-dosage", str(error), error)]
    first = min(d.get("sequence", 0) for d in dosages)
    out: list[Administration] = []
    unread: list[Unread] = []
    for i, dosage in enumerate(d for d in dosages if d.get("sequence", 0) == first):
        where = f"{rtype} {med.drug} dosage {i + 1}"
        if _as_needed(dosage):
            text = dosage.get("text") or "as needed"
            error = ImportFormatError(
                f"{where} is taken as needed ({text}): a taper starts from regular doses, so "
                "as-needed use is not read as a dose; agree the regular starting dose with the "
                "prescriber."
            )
            unread.append(Unread(label, "as-needed", str(error), error))
            continue
        try:
            mg = _mg(dosage, where, med)
            times = _times(dosage, where)
        except ImportFormatError as exc:
            kind: UnreadKind = "missing-timing" if "clock times" in str(exc) else "dose"
            kind = "schedule" if "only daily" in str(exc) else kind
            unread.append(Unread(label, kind, str(exc), exc))
            continue
        out += [Administration(drug=med.drug, mg=mg, time=t) for t in times]
    return out, unread


def read_regimen(
    data: str | bytes | Mapping[str, Any],
    catalogue: Catalogue,
    *,
    version: FhirVersion | None = None,
) -> RegimenReading:
    """Read what can be read exactly and say what could not (see the module docstring).

    Raises ImportFormatError only when the input is not FHIR medication data at all."""
    resources, medications = _resources(_load(data))
    regimen: list[Administration] = []
    unread: list[Unread] = []
    notes: list[str] = []
    started: dict[str, dt.date] = {}
    first_step = _first_sequence(resources)
    for n, resource in enumerate(resources, start=1):
        label = _label(resource, n)
        if _first_sequence([resource]) > first_step:
            notes.append(f"{label} starts at a later step of the plan: not taken now.")
            continue
        try:
            _validate(resource, version or detect_version(resource))
            if resource.get("status") in _ENDED:
                notes.append(f"{label} is {resource['status']}: not part of the current regimen.")
                continue
            med = identify(resource, catalogue, medications)
        except UnknownDrugError as exc:
            unread.append(Unread(label, "unknown-drug", str(exc), exc))
            continue
        except ImportFormatError as exc:
            kind: UnreadKind = "unknown-code" if "not in benzotaper's" in str(exc) else "invalid"
            unread.append(Unread(label, kind, str(exc), exc))
            continue
        if med.unknown_codes:
            notes.append(
                f"{label}: code(s) {', '.join(med.unknown_codes)} not in the catalogue; the drug "
                f"was read from the medication's text as {med.drug}."
            )
        if med.coded is not None and med.coded.unverified:
            notes.append(
                f"{label}: {med.coded.display} ({med.coded.code}) matched to {med.drug} "
                f"{med.coded.product.label}; this code is not yet checked at its primary source."
            )
        read, missed = _read_dosages(resource, med, label)
        regimen += read
        unread += missed
        when = _started(resource)
        if read and when is not None:
            started[med.drug] = min(when, started.get(med.drug, when))
    return RegimenReading(sorted(regimen, key=lambda a: (a.time, a.drug)), unread, notes, started)


def _first_sequence(resources: list[dict[str, Any]]) -> int:
    """The lowest dosage ``sequence`` among the resources (0 when none is numbered): a drug whose
    dosages all start later (e.g. diazepam switched in for the end of a taper) is not taken now."""
    seqs = [
        d.get("sequence", 0)
        for r in resources
        for d in (r.get("dosageInstruction") or r.get("dosage") or [])
        if isinstance(d, dict)
    ]
    return min(seqs, default=0)


def regimen_from_fhir(
    data: str | bytes | Mapping[str, Any],
    catalogue: Catalogue,
    *,
    version: FhirVersion | None = None,
) -> list[Administration]:
    """The starting regimen from FHIR JSON (a resource or a Bundle); ``version`` auto-detected.

    Strict: the first thing that cannot be read exactly is raised (see :func:`read_regimen`
    for a reading that lists every such thing and keeps the rest)."""
    reading = read_regimen(data, catalogue, version=version)
    if reading.unread:
        first = reading.unread[0]
        raise first.error or ImportFormatError(first.message)
    if not reading.regimen:
        raise ImportFormatError("Nothing current to import: every request is stopped or ended.")
    return reading.regimen
