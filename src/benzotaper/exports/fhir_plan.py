"""HL7 FHIR (R4B and R5) export of a plan: one MedicationRequest per drug, one Dosage per step.

A taper is one prescription whose dose changes over time. FHIR says that with several
``dosageInstruction`` entries, each with a ``sequence`` (the step number), a
``timing.repeat.boundsPeriod`` (the step's dates), the clock times (``timeOfDay``), how often
(``frequency`` per ``period`` ``periodUnit``) and the dose in UCUM mg. When one step gives
different amounts at different times (8 mg mornings, 10 mg nights), the step has one Dosage per
amount, all with the same ``sequence``: FHIR reads equal sequence numbers as concurrent.
Resources are built as JSON, validated by fhir.resources, and their codes checked by us.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from benzotaper.catalogue import Catalogue
from benzotaper.exports._common import (
    drug_name,
    drugs_in,
    fmt_mg,
    pieces_text,
    plan_id,
)
from benzotaper.exports.fhir_codes import UCUM, FhirVersion, check_codes
from benzotaper.planning.models import Dose, Plan, Step

PLAN_SYSTEM = "urn:benzotaper:plan"


def _uuid(*parts: str) -> str:
    """Deterministic urn:uuid, so the same plan always gives the same identifiers."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "benzotaper:" + ":".join(parts)))


def fhir_model(resource_type: str, version: FhirVersion) -> Any:
    """The fhir.resources class for a resource type in one FHIR version."""
    from fhir.resources import get_fhir_model_class

    if version == "r5":
        return get_fhir_model_class(resource_type)
    from fhir.resources.R4B import get_fhir_model_class as get_r4b

    return get_r4b(resource_type)


def validated(resource: dict[str, Any], version: FhirVersion) -> dict[str, Any]:
    """Validate with fhir.resources and our code checks; return the clean JSON form."""
    check_codes(resource, version)
    model = fhir_model(resource["resourceType"], version).model_validate(resource)
    out: dict[str, Any] = json.loads(model.model_dump_json(exclude_none=True))
    return out


def step_dosages(step: Step, drug: str, catalogue: Catalogue | None) -> list[dict[str, Any]]:
    """One step's Dosages for one drug: one per distinct amount, all with the step's sequence."""
    groups: dict[float, list[Dose]] = {}
    for dose in sorted(step.doses, key=lambda d: d.time):
        if dose.drug == drug and dose.mg > 0:
            groups.setdefault(round(dose.mg, 6), []).append(dose)
    out = []
    name = drug_name(drug, catalogue)
    for mg, doses in groups.items():
        times = [d.time for d in doses]
        pieces = "; ".join(f"{d.time}: {pieces_text(d)}" for d in doses if d.make_up)
        out.append(
            {
                "sequence": step.index + 1,
                "text": (
                    f"Step {step.index + 1} ({step.phase}), {step.start.isoformat()} to "
                    f"{step.end.isoformat()}: {name} {fmt_mg(mg)} mg at {', '.join(times)}"
                ),
                **({"patientInstruction": pieces} if pieces else {}),
                "timing": {
                    "repeat": {
                        "boundsPeriod": {
                            "start": step.start.isoformat(),
                            "end": step.end.isoformat(),
                        },
                        "frequency": len(times),
                        "period": 1,
                        "periodUnit": "d",
                        "timeOfDay": [f"{t}:00" for t in times],
                    }
                },
                "doseAndRate": [
                    {"doseQuantity": {"value": mg, "unit": "mg", "system": UCUM, "code": "mg"}}
                ],
            }
        )
    return out


def medication_requests(
    plan: Plan,
    version: FhirVersion = "r4b",
    *,
    patient_ref: str | None = None,
    catalogue: Catalogue | None = None,
) -> list[dict[str, Any]]:
    """One validated MedicationRequest (JSON dict) per drug in the plan."""
    pid = plan_id(plan)
    subject = {"reference": patient_ref or _uuid(pid, "patient")}
    out = []
    for drug in drugs_in(plan):
        dosages = [d for step in plan.steps for d in step_dosages(step, drug, catalogue)]
        if not dosages:
            continue
        concept: dict[str, Any] = {"text": drug_name(drug, catalogue)}
        if catalogue is not None:  # coded when one product makes every dose of the plan
            from benzotaper.exports.fhir_r4 import coded_concept, step_products

            concept = coded_concept(step_products(plan.steps, drug, plan, catalogue),
                                    concept["text"])  # fmt: skip
        resource: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "identifier": [{"system": PLAN_SYSTEM, "value": f"{pid}-{drug}"}],
            "groupIdentifier": {"system": PLAN_SYSTEM, "value": pid},
            "status": "draft",
            "intent": "proposal",
            "subject": subject,
            "dosageInstruction": dosages,
            "note": [
                {"text": plan.disclaimer},
                {
                    "text": (
                        f"benzotaper taper plan ({plan.summary.strategy}, "
                        f"equivalence source {plan.summary.equivalence_source}, "
                        f"catalogue {plan.summary.catalogue_version})."
                    )
                },
            ],
        }
        if version == "r5":
            resource["medication"] = {"concept": concept}
        else:
            resource["medicationCodeableConcept"] = concept
        out.append(validated(resource, version))
    return out


def patient_resource(plan: Plan, version: FhirVersion) -> dict[str, Any]:
    """An anonymous Patient (no name, no birth date): only what links the records together."""
    return validated({"resourceType": "Patient", "active": True}, version)


def bundle(
    plan: Plan,
    version: FhirVersion = "r4b",
    *,
    catalogue: Catalogue | None = None,
    extra: Sequence[Mapping[str, Any]] = (),
    journal: Iterable[Any] | None = None,
) -> dict[str, Any]:
    """A collection Bundle: the anonymous Patient, the plan's MedicationRequests, the
    ``journal``'s check-ins (Questionnaires, QuestionnaireResponses and score Observations,
    see :mod:`benzotaper.exports.fhir_journal`; ``journal`` holds ``EntryRecord``-like rows),
    and ``extra``."""
    pid = plan_id(plan)
    patient_url = _uuid(pid, "patient")
    entries: list[dict[str, Any]] = [
        {"fullUrl": patient_url, "resource": patient_resource(plan, version)}
    ]
    for i, request in enumerate(
        medication_requests(plan, version, patient_ref=patient_url, catalogue=catalogue)
    ):
        entries.append({"fullUrl": _uuid(pid, "request", str(i)), "resource": request})
    if journal is not None:
        from benzotaper.exports.fhir_journal import journal_entries

        for url, made in journal_entries(
            journal, version, patient_ref=patient_url, catalogue=catalogue
        ):
            entries.append({"fullUrl": url, "resource": made})
    for i, resource in enumerate(extra):
        entries.append({"fullUrl": _uuid(pid, "extra", str(i)), "resource": dict(resource)})
    return validated(
        {
            "resourceType": "Bundle",
            "identifier": {"system": PLAN_SYSTEM, "value": pid},
            "type": "collection",
            "entry": entries,
        },
        version,
    )


def plan_fhir_json(
    plan: Plan,
    version: FhirVersion | Literal["r4"] = "r4b",
    *,
    catalogue: Catalogue | None = None,
    journal: Iterable[Any] | None = None,
) -> str:
    """The plan (and the journal's check-ins, when given) as a FHIR Bundle, pretty JSON text.

    ``"r4"`` is the US Core 6 shaped variant: one RxNorm-coded draft MedicationRequest per step
    (see :mod:`benzotaper.exports.fhir_r4`)."""
    if version == "r4":
        from benzotaper.exports.fhir_r4 import bundle_r4

        data = bundle_r4(plan, catalogue, journal=journal)
    else:
        data = bundle(plan, version, catalogue=catalogue, journal=journal)
    return json.dumps(data, indent=2, ensure_ascii=False)
