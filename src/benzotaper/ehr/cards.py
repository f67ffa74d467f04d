"""CDS Hooks cards, each decided by the core's risk rules, each carrying a ready draft taper.

A card is shown when the plan's risk assessment (``planning.risk``) raised the matching fact:
age 65 or over on a benzodiazepine or Z-drug (AGS Beers), an opioid as well (FDA boxed
warning), a dose in the guideline's high band, or 3 months or more of use (the guideline's
Table 2). Thresholds and sources come from ``rules/risk.toml``; nothing is re-decided here.
Every card has the same suggestion (the draft taper as R4 MedicationRequests), its sources as
links, and a SMART link that opens benzotaper's builder for this patient.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benzotaper.catalogue import Catalogue
from benzotaper.catalogue.models import Reference
from benzotaper.ehr.record import PatientRecord
from benzotaper.ehr.taper import Taper
from benzotaper.planning.models import Plan
from benzotaper.planning.risk import RiskRules

OVERRIDE_SYSTEM = "urn:benzotaper:cds:override-reason"
OVERRIDE_REASONS = [
    ("already-tapering", "Already tapering or a taper is planned"),
    ("specialist-care", "Managed by a specialist service"),
    ("patient-declined", "Discussed; the patient declines a taper now"),
    ("not-applicable", "Not applicable to this patient"),
]
AGREE = "A draft to review, not an order: agree any change with the patient before signing."


@dataclass(frozen=True)
class CardFacts:
    """One card's decision: why it fires, how urgent, and which sources say so."""

    key: str
    indicator: str  # info | warning | critical
    summary: str
    detail: str
    sources: list[str]


def reference_url(ref: Reference) -> str:
    if ref.url:
        return ref.url
    if ref.doi:
        return f"https://doi.org/{ref.doi}"
    return f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/"


def _regimen_words(record: PatientRecord, catalogue: Catalogue) -> str:
    by_drug: dict[str, list[str]] = {}
    for a in record.reading.regimen:
        by_drug.setdefault(a.drug, []).append(f"{a.mg:g} mg at {a.time}")
    return "; ".join(
        f"{catalogue.drugs[d].name if d in catalogue.drugs else d} {', '.join(doses)}"
        for d, doses in by_drug.items()
    )


def card_facts(
    record: PatientRecord, plan: Plan, rules: RiskRules, catalogue: Catalogue
) -> list[CardFacts]:
    """The cards the risk assessment calls for, most urgent first."""
    risk = plan.risk
    flags = {f.code: f for f in risk.flags}
    out: list[CardFacts] = []
    if "risk.opioids" in flags:
        f = flags["risk.opioids"]
        out.append(CardFacts(
            "opioid-benzodiazepine", "critical",
            f"Opioid ({', '.join(record.opioids)}) with a benzodiazepine: FDA boxed warning",
            f.message, f.sources,
        ))  # fmt: skip
    if "risk.older_adult" in flags:
        f = flags["risk.older_adult"]
        out.append(CardFacts(
            "older-adult", "warning",
            f"Age {record.age} on a benzodiazepine/Z-drug (AGS Beers): a slow taper is ready",
            f.message, f.sources,
        ))  # fmt: skip
    if "risk.dementia" in flags:
        f = flags["risk.dementia"]
        out.append(CardFacts(
            "dementia", "warning",
            "Dementia recorded with a benzodiazepine/Z-drug (AGS Beers: avoid): a taper is ready",
            f.message, f.sources,
        ))  # fmt: skip
    high = rules.dose_band.moderate_max_mg_de
    if risk.dose_band == "high":
        very = flags.get("risk.very_high_dose")
        de = risk.dose_band_diazepam_equivalent_mg or risk.diazepam_equivalent_mg
        text = (
            f"{de:g} mg diazepam-equivalent a day (by the guideline's own equivalents) is in the "
            f"2025 joint guideline's high band (above {high.low:g} mg): withdrawal risk rises "
            "with dose; taper slowly."
        )
        out.append(CardFacts(
            "high-dose", "critical" if very else "warning",
            f"High dose: {de:g} mg diazepam-equivalent a day",
            text + (f" {very.message}" if very else ""),
            [high.source, *(very.sources if very else [])],
        ))  # fmt: skip
    long = rules.table2.long_months
    months = None if record.years_on_drug is None else record.years_on_drug * 12
    if months is not None and months >= long.low:
        out.append(CardFacts(
            "long-duration", "info",
            f"Taken for about {months:.0f} months ({long.low:g} months or more)",
            f"Prescribed since {min(record.reading.started.values()).isoformat()}: after "
            f"{long.low:g} months or more of regular use, withdrawal is likely, so stop only by "
            "a gradual taper (2025 joint guideline, Table 2).",
            [long.source],
        ))  # fmt: skip
    return [CardFacts(c.key, c.indicator, c.summary[:140], c.detail, c.sources) for c in out]


def _links(sources: Sequence[str], catalogue: Catalogue, app_url: str) -> list[dict[str, Any]]:
    links: list[dict[str, Any]] = []
    for key in dict.fromkeys(sources):
        ref = catalogue.references.get(key)
        if ref is not None:
            links.append({"label": ref.title[:120], "url": reference_url(ref), "type": "absolute"})
    links.append({"label": "Open the taper builder in benzotaper", "url": app_url, "type": "smart"})
    return links


def _detail(facts: CardFacts, record: PatientRecord, taper: Taper, names: str) -> str:
    lines = [facts.detail, "", f"**Read from the record:** {names}."]
    lines += [f"- Not read: {u.message}" for u in record.reading.unread]
    plan = taper.plan
    if plan is not None:
        s = plan.summary
        lines += [
            "",
            f"**Draft taper{', ' + taper.route if taper.route else ''}:** {s.steps} steps over "
            f"{s.weeks:g} weeks, pace {s.pace}, "
            f"from {s.start.isoformat()} to {s.end.isoformat()}, made only of doses the "
            "products allow.",
        ]
    lines += ["", AGREE]
    return "\n".join(lines)


def build_cards(
    record: PatientRecord,
    taper: Taper,
    draft: list[dict[str, Any]],
    rules: RiskRules,
    catalogue: Catalogue,
    *,
    app_url: str,
    source_url: str,
) -> list[dict[str, Any]]:
    """CDS Hooks 2.0 cards (JSON) for the record; none when nothing calls for one."""
    if taper.plan is None:
        return _refused_card(record, taper, catalogue, app_url, source_url)
    names = _regimen_words(record, catalogue)
    plan = taper.plan
    actions = [
        {
            "type": "create",
            "description": "Draft: " + "; ".join(d.get("text", "") for d in r["dosageInstruction"]),
            "resource": r,
        }
        for r in draft
    ]
    cards = []
    for facts in card_facts(record, plan, rules, catalogue):
        label = (
            f"Attach the draft taper ({plan.summary.steps} steps, to "
            f"{plan.summary.end.isoformat()}) as draft orders"
        )
        cards.append({
            "uuid": str(uuid.uuid4()),
            "summary": facts.summary,
            "detail": _detail(facts, record, taper, names),
            "indicator": facts.indicator,
            "source": {"label": "benzotaper", "url": source_url},
            "suggestions": [
                {"label": label, "uuid": str(uuid.uuid4()), "isRecommended": True,
                 "actions": actions}
            ],
            "selectionBehavior": "at-most-one",
            "overrideReasons": [
                {"system": OVERRIDE_SYSTEM, "code": c, "display": d} for c, d in OVERRIDE_REASONS
            ],
            "links": _links(facts.sources, catalogue, app_url),
        })  # fmt: skip
    return cards


def _refused_card(
    record: PatientRecord, taper: Taper, catalogue: Catalogue, app_url: str, source_url: str
) -> list[dict[str, Any]]:
    if not record.takes_benzodiazepine:
        return []
    return [
        {
            "uuid": str(uuid.uuid4()),
            "summary": "Benzodiazepine/Z-drug in use: no draft taper could be made here",
            "detail": f"{taper.refusal}\n\nOpen benzotaper to choose a route that works "
            f"(a liquid, switching to diazepam).\n\n{AGREE}",
            "indicator": "warning",
            "source": {"label": "benzotaper", "url": source_url},
            "links": _links([], catalogue, app_url),
        }
    ]
