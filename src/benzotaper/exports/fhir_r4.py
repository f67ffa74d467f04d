"""FHIR R4 in US Core 6 shapes: a plan as draft MedicationRequests, one per step and drug,
each coded with the RxNorm clinical drug (a UK plan: the dm+d VMP) of the product the step is
taken as.

An EHR orders products, not "lorazepam": a step taken as 0.5 mg tablets is one order for
"lorazepam 0.5 MG Oral Tablet" (RxCUI 197900) with the step's dates (``boundsPeriod``), its
``sequence`` and the dose in UCUM mg. A step made of two products (a 1 mg and a 0.5 mg tablet)
or of a product without a code carries the drug's name as text and the pieces in
``patientInstruction``, never a code for a product it is not. Status is always ``draft`` and
intent ``proposal``: a prescriber agrees and signs each one.
fhir.resources 8 has no R4 model; the resources are validated with its R4B model, whose
MedicationRequest, Dosage and Timing are the same as R4's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from benzotaper.catalogue import Catalogue, Product
from benzotaper.catalogue.codes import DMD, RXNORM
from benzotaper.exports._common import drug_name, drugs_in, plan_id
from benzotaper.exports.fhir_codes import check_codes
from benzotaper.exports.fhir_plan import (
    PLAN_SYSTEM,
    _uuid,
    patient_resource,
    step_dosages,
    validated,
)
from benzotaper.planning.models import Plan, Step

US_CORE_MEDICATION_REQUEST = (
    "http://hl7.org/fhir/us/core/StructureDefinition/us-core-medicationrequest"
)


def _product(piece_form: str, strength: float | None, per_ml: float | None,
             products: list[Product]) -> Product | None:  # fmt: skip
    for p in products:
        if p.form.value == piece_form and p.strength_mg == strength and p.mg_per_ml == per_ml:
            return p
    return None


def step_products(
    steps: Step | Iterable[Step], drug: str, plan: Plan, catalogue: Catalogue
) -> list[Product]:
    """The distinct catalogue products the doses of ``drug`` in a step (or steps) are made of."""
    if drug not in catalogue.drugs:
        return []
    market = plan.summary.market
    products = catalogue.drugs[drug].products_in(market)
    found: list[Product] = []
    for step in [steps] if isinstance(steps, Step) else steps:
        for dose in step.doses:
            if dose.drug != drug:
                continue
            for piece in dose.make_up:
                p = _product(piece.form.value, piece.strength_mg, piece.mg_per_ml, products)
                if p is not None and p not in found:
                    found.append(p)
    return found


def coded_concept(products: list[Product], name: str) -> dict[str, Any]:
    """The product's RxNorm (US) or dm+d (UK) coding when one coded product makes every dose,
    else ``name`` as text: never a code for a product the doses are not made of."""
    code = products[0].code if len(products) == 1 else None
    if code is None:
        return {"text": name}
    system = RXNORM if products[0].market == "us" else DMD
    return {
        "coding": [{"system": system, "code": code.code, "display": code.display}],
        "text": code.display,
    }


def medication_concept(
    step: Step, drug: str, plan: Plan, catalogue: Catalogue | None
) -> dict[str, Any]:
    """The step's medication (see :func:`coded_concept`)."""
    name = drug_name(drug, catalogue)
    if catalogue is None:
        return {"text": name}
    return coded_concept(step_products(step, drug, plan, catalogue), name)


def step_requests(
    plan: Plan,
    catalogue: Catalogue | None,
    *,
    patient_ref: str,
    authored_on: str | None = None,
    validate: bool = True,
) -> list[dict[str, Any]]:
    """One draft MedicationRequest per step and drug (the final stop has none: the last
    request's period ends the taper, and its note says so).

    Codes are always checked; ``validate=False`` skips the fhir.resources round trip (about
    20 ms a resource), for answers that must come back within a CDS client's time-out. The
    shapes are the same either way, and the tests validate every one."""
    pid = plan_id(plan)
    # US Core is the US realm's profile; a UK plan's requests (dm+d-coded) claim no profile.
    us = plan.summary.market == "us"
    profile = {"meta": {"profile": [US_CORE_MEDICATION_REQUEST]}} if us else {}
    out: list[dict[str, Any]] = []
    for step in plan.steps:
        for drug in drugs_in(plan):
            dosages = step_dosages(step, drug, catalogue)
            if not dosages:
                continue
            resource: dict[str, Any] = {
                "resourceType": "MedicationRequest",
                **profile,
                "identifier": [
                    {"system": PLAN_SYSTEM, "value": f"{pid}-{drug}-step-{step.index + 1}"}
                ],
                "groupIdentifier": {"system": PLAN_SYSTEM, "value": pid},
                "status": "draft",
                "intent": "proposal",
                "reportedBoolean": False,
                "medicationCodeableConcept": medication_concept(step, drug, plan, catalogue),
                "subject": {"reference": patient_ref},
                **({"authoredOn": authored_on} if authored_on else {}),
                "dosageInstruction": dosages,
                "note": [{"text": plan.disclaimer}],
            }
            out.append(resource)
    if out:
        out[-1]["note"].append(
            {"text": "Last step of the taper: after its end date the drug is stopped."}
        )
    if not validate:
        for r in out:
            check_codes(r, "r4b")
        return out
    return [validated(r, "r4b") for r in out]


def step_request_entries(
    plan: Plan, catalogue: Catalogue | None, *, patient_ref: str
) -> list[dict[str, Any]]:
    """The same as Bundle entries with deterministic urn:uuid fullUrls."""
    pid = plan_id(plan)
    return [
        {"fullUrl": _uuid(pid, "step-request", str(i)), "resource": r}
        for i, r in enumerate(step_requests(plan, catalogue, patient_ref=patient_ref))
    ]


def bundle_r4(
    plan: Plan, catalogue: Catalogue | None = None, *, journal: Iterable[Any] | None = None
) -> dict[str, Any]:
    """The R4 (US Core 6 shapes) export: the anonymous Patient, one draft MedicationRequest per
    step (RxNorm-coded, see :func:`step_requests`) and, with ``journal``, the check-ins
    (QuestionnaireResponses and score Observations; LOINC for PHQ-9 and GAD-7 totals).

    The Patient stays anonymous (no name, no birth date), so it is not a US Core Patient; an EHR
    that receives the file links the requests to its own patient."""
    pid = plan_id(plan)
    patient_url = _uuid(pid, "patient")
    entries: list[dict[str, Any]] = [
        {"fullUrl": patient_url, "resource": patient_resource(plan, "r4b")},
        *step_request_entries(plan, catalogue, patient_ref=patient_url),
    ]
    if journal is not None:
        from benzotaper.exports.fhir_journal import journal_entries

        for url, made in journal_entries(
            journal, "r4b", patient_ref=patient_url, catalogue=catalogue
        ):
            entries.append({"fullUrl": url, "resource": made})
    return validated(
        {
            "resourceType": "Bundle",
            "identifier": {"system": PLAN_SYSTEM, "value": pid},
            "type": "collection",
            "entry": entries,
        },
        "r4b",
    )
