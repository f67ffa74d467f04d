"""CDS Hooks 2.0 services: what they are (discovery), what they need (prefetch), and the answer.

Three services share one decision: ``patient-view`` (a chart is opened), ``order-select`` (a
medication is picked) and ``order-sign`` (orders are about to be signed). The two order hooks
answer only when a draft order is a benzodiazepine or Z-drug, or an opioid for a patient on one,
so unrelated orders are never interrupted. Prefetch alone is enough; a key the EHR did not fill
is fetched from ``fhirServer`` with ``fhirAuthorization`` (see :mod:`benzotaper.ehr.fetch`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benzotaper.catalogue import Catalogue
from benzotaper.ehr.cards import build_cards
from benzotaper.ehr.record import PatientRecord, read_record
from benzotaper.ehr.rules import EhrRules
from benzotaper.ehr.taper import taper_for
from benzotaper.errors import InputError
from benzotaper.exports.fhir_r4 import step_requests
from benzotaper.planning.risk import RiskRules

PATIENT = "{{context.patientId}}"
PREFETCH: dict[str, str] = {
    "patient": f"Patient/{PATIENT}",
    "medications": f"MedicationRequest?patient={PATIENT}&status=active",
    "conditions": f"Condition?patient={PATIENT}&clinical-status=active",
}


def falls_prefetch(rules: EhrRules) -> str:
    """Conditions recording falls, by the codes in ``ehr.toml`` (when the EHR codes them)."""
    codes = ",".join(f"{c.system}|{c.code}" for c in rules.falls.codes)
    return f"Condition?patient={PATIENT}&code={codes}"


@dataclass(frozen=True)
class Service:
    id: str
    hook: str
    title: str
    description: str


SERVICES: dict[str, Service] = {
    s.id: s
    for s in (
        Service(
            "benzotaper-patient-view", "patient-view", "Benzodiazepine taper review",
            "When a chart opens: flags a benzodiazepine or Z-drug for an older adult, with an "
            "opioid, at a high dose or taken for months, and offers a ready draft taper.",
        ),
        Service(
            "benzotaper-order-select", "order-select", "Benzodiazepine order check",
            "When a benzodiazepine, Z-drug or opioid is selected: the same checks, with the "
            "draft taper.",
        ),
        Service(
            "benzotaper-order-sign", "order-sign", "Benzodiazepine order check at signing",
            "Before signing a benzodiazepine, Z-drug or opioid order: the same checks, with "
            "the draft taper.",
        ),
    )
}  # fmt: skip


def discovery(rules: EhrRules) -> dict[str, Any]:
    """The discovery document (GET /cds-services)."""
    prefetch = {**PREFETCH, "falls": falls_prefetch(rules)}
    return {
        "services": [
            {"hook": s.hook, "id": s.id, "title": s.title, "description": s.description,
             "prefetch": prefetch, "usageRequirements": "SMART launch of benzotaper for the "
             "builder link; R4 FHIR server."}
            for s in SERVICES.values()
        ]
    }  # fmt: skip


class PrefetchMissing(InputError):
    """The request lacks data the service needs and gave no FHIR server to fetch it from."""

    code = "prefetch_missing"


def resources_of(value: Any) -> list[dict[str, Any]]:
    """The resources in a prefetch value: a resource, or a (searchset) Bundle of them."""
    if not isinstance(value, Mapping):
        return []
    if value.get("resourceType") != "Bundle":
        return [dict(value)]
    return [
        dict(e["resource"])
        for e in value.get("entry", []) or []
        if isinstance(e, Mapping)
        and isinstance(e.get("resource"), Mapping)
        and e["resource"].get("resourceType") != "OperationOutcome"
    ]


Fetch = Callable[[str], Any]


def gather(
    request: Mapping[str, Any], rules: EhrRules, fetch: Fetch | None
) -> dict[str, list[dict[str, Any]]]:
    """Each prefetch key's resources: from ``prefetch``, else fetched, else an error."""
    context = request.get("context") or {}
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id:
        raise InputError("context.patientId is required.")
    prefetch = request.get("prefetch") or {}
    templates = {**PREFETCH, "falls": falls_prefetch(rules)}
    out: dict[str, list[dict[str, Any]]] = {}
    missing = []
    for key, template in templates.items():
        value = prefetch.get(key)
        if value is None and fetch is not None:
            value = fetch(template.replace(PATIENT, patient_id))
        if value is None and key in ("patient", "medications"):
            missing.append(key)
        out[key] = resources_of(value)
    if missing:
        raise PrefetchMissing(
            f"Prefetch {' and '.join(repr(k) for k in missing)} missing, and no fhirServer "
            "this service may use (with fhirAuthorization) was given to fetch them."
        )
    return out


def _relevant_drafts(record: PatientRecord, draft_record: PatientRecord) -> bool:
    return draft_record.takes_benzodiazepine or bool(
        draft_record.opioids and record.takes_benzodiazepine
    )


def _draft_orders(hook: str, context: Mapping[str, Any]) -> list[dict[str, Any]]:
    orders = resources_of(context.get("draftOrders"))
    if hook == "order-select":
        chosen = {str(s).split("/")[-1] for s in context.get("selections", []) or []}
        orders = [o for o in orders if str(o.get("id")) in chosen] or orders
    return orders


def answer(
    service_id: str,
    request: Mapping[str, Any],
    catalogue: Catalogue,
    rules: EhrRules,
    risk_rules: RiskRules,
    *,
    today: dt.date,
    app_url: str,
    source_url: str,
    fetch: Fetch | None = None,
) -> dict[str, Any]:
    """The CDS Hooks response ``{"cards": [...]}`` for one request to one service."""
    service = SERVICES[service_id]
    if request.get("hook") not in (None, service.hook):
        raise InputError(f"{service_id} answers the {service.hook!r} hook.")
    data = gather(request, rules, fetch)
    context = request.get("context") or {}
    patient = data["patient"][0] if data["patient"] else None
    conditions = data["conditions"] + data["falls"]
    record = read_record(patient, data["medications"], conditions, catalogue, rules, today)
    drafts = _draft_orders(service.hook, context)
    if drafts:
        draft_record = read_record(patient, drafts, [], catalogue, rules, today)
        if not _relevant_drafts(record, draft_record):
            return {"cards": []}
        record = _with_drafts(record, data["medications"], drafts, patient,
                              conditions, catalogue, rules, today)  # fmt: skip
    elif service.hook != "patient-view":
        return {"cards": []}
    return {"cards": _cards(record, patient, catalogue, rules, risk_rules, today, app_url,
                            source_url)}  # fmt: skip


def _with_drafts(
    record: PatientRecord,
    active: Sequence[Mapping[str, Any]],
    drafts: Sequence[Mapping[str, Any]],
    patient: Mapping[str, Any] | None,
    conditions: Sequence[Mapping[str, Any]],
    catalogue: Catalogue,
    rules: EhrRules,
    today: dt.date,
) -> PatientRecord:
    """Active requests plus the draft orders for drugs not already active (a renewal of the
    same drug replaces, it does not add)."""
    taken = {a.drug for a in record.reading.regimen}
    keep = []
    for order in drafts:
        drugs = {a.drug for a in read_record(patient, [order], [], catalogue, rules, today)
                 .reading.regimen}  # fmt: skip
        if not drugs or drugs - taken:  # an opioid or other order, or a new drug
            keep.append(order)
    return read_record(patient, [*active, *keep], conditions, catalogue, rules, today)


def _cards(
    record: PatientRecord,
    patient: Mapping[str, Any] | None,
    catalogue: Catalogue,
    rules: EhrRules,
    risk_rules: RiskRules,
    today: dt.date,
    app_url: str,
    source_url: str,
) -> list[dict[str, Any]]:
    taper = taper_for(record, catalogue, today)
    draft: list[dict[str, Any]] = []
    if taper.plan is not None:
        ref = f"Patient/{patient['id']}" if patient and patient.get("id") else "Patient/unknown"
        draft = step_requests(taper.plan, catalogue, patient_ref=ref,
                              authored_on=today.isoformat(), validate=False)  # fmt: skip
    return build_cards(
        record, taper, draft, risk_rules, catalogue, app_url=app_url, source_url=source_url
    )
