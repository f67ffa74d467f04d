"""HL7 FHIR (R4B and R5) export of a person's journal: check-ins as questionnaires and scores.

Each completed scale in a journal check-in (CIWA-B, BWSQ, GAD-7, PHQ-9) becomes a
QuestionnaireResponse (one integer answer per item, exactly as entered) answering a
Questionnaire built from ``data/scales.toml``, and an Observation of the total score
(category ``survey``, ``valueQuantity`` in the UCUM unit ``{score}``, ``effectiveDateTime`` the
check-in's day, ``derivedFrom`` the response). Quick check-in ratings (0-10 per symptom, not a
validated scale, so no total) become one Observation with a component per rated symptom; danger
signs one Observation (``valueBoolean`` true) with a component per sign ticked.

Codes: LOINC has total-score codes for GAD-7 (70274-6) and PHQ-9 (44261-6), used alongside ours.
No LOINC code for CIWA-B or BWSQ (or the quick check-in) could be confirmed, so those use only
benzotaper's own code system :data:`SCORE_SYSTEM`, which the Bundle carries as a CodeSystem.
``effectiveDateTime`` and ``authored`` are the day only: the journal records local clock times
without a time zone, and FHIR requires one whenever a time is given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from benzotaper.catalogue import Catalogue
from benzotaper.exports._common import citations
from benzotaper.exports.fhir_codes import (
    LOINC,
    LOINC_TOTALS,
    OBSERVATION_CATEGORY,
    UCUM,
    FhirVersion,
)
from benzotaper.exports.fhir_plan import _uuid, validated
from benzotaper.exports.tables import JournalRow
from benzotaper.journal.entries import CheckinEntry
from benzotaper.journal.scales import ScaleBook, ScaleDef, try_score

#: benzotaper's own code system for scores (no LOINC code exists or could be confirmed).
SCORE_SYSTEM = "urn:benzotaper:fhir:CodeSystem:scores"
#: Questionnaires are ``urn:benzotaper:fhir:Questionnaire:<scale>``, versioned by scales.toml.
QUESTIONNAIRE_BASE = "urn:benzotaper:fhir:Questionnaire:"
QUICK = "quick"
DANGER = "danger"
_MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
_MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"

Entry = tuple[str, dict[str, Any]]  # (fullUrl, resource)


def questionnaire_url(scale: str) -> str:
    return QUESTIONNAIRE_BASE + scale


def score_code(scale: str) -> str:
    """Our code for a scale's total score (``ciwa-b-total``), the quick check-in or danger signs."""
    if scale == QUICK:
        return "quick-checkin"
    return "danger-signs" if scale == DANGER else f"{scale}-total"


def _score(value: int) -> dict[str, Any]:
    return {"value": value, "unit": "{score}", "system": UCUM, "code": "{score}"}


def _item(link: str, text: str, low: int, high: int, required: bool) -> dict[str, Any]:
    return {
        "linkId": link,
        "text": text,
        "type": "integer",
        "required": required,
        "extension": [
            {"url": _MIN_VALUE, "valueInteger": low},
            {"url": _MAX_VALUE, "valueInteger": high},
        ],
    }


def _name(short: str) -> str:
    """A computable name (FHIR invariant que-0 / cnl-0: letters, digits and _ only)."""
    return "".join(c if c.isalnum() else "_" for c in short).upper()


def questionnaire(
    book: ScaleBook, scale: str, version: FhirVersion, catalogue: Catalogue | None = None
) -> dict[str, Any]:
    """The Questionnaire for one scale id (``ciwa-b`` ...) or ``quick``, from scales.toml."""
    if scale == QUICK:
        q = book.quick
        (_, cite), *_ = citations([q.source], catalogue)
        title, short = "Quick check-in (0-10 self-ratings)", "QUICK_CHECKIN"
        description = f"{q.note} Symptoms after: {cite}"
        items = [_item(s.key, s.label, q.item_min, q.item_max, False) for s in q.symptoms]
    else:
        d: ScaleDef = book.scales[scale]  # type: ignore[index]
        (_, cite), *_ = citations([d.source], catalogue)
        title, short = d.name, _name(d.short)
        description = f"{d.wording_note} Source: {cite}"
        items = [
            _item(str(i), text, d.item_min, d.item_max, True)
            for i, text in enumerate(d.item_labels, start=1)
        ]
    resource = {
        "resourceType": "Questionnaire",
        "url": questionnaire_url(scale),
        "version": book.version,
        "name": short,
        "title": title,
        "status": "active",
        "subjectType": ["Patient"],
        "description": description,
        "code": [{"system": SCORE_SYSTEM, "code": score_code(scale), "display": title}],
        "item": items,
    }
    return validated(resource, version)


def code_system(book: ScaleBook, version: FhirVersion) -> dict[str, Any]:
    """benzotaper's score codes as a CodeSystem, so a receiver can look them up."""
    concepts = [
        {
            "code": score_code(sid),
            "display": f"{d.short} total score",
            "definition": f"Sum of the {d.item_count} item ratings ({d.item_min}-{d.item_max}) "
            f"of the {d.name}; range 0-{d.max_total}.",
        }
        for sid, d in book.scales.items()
    ]
    concepts.append(
        {
            "code": score_code(QUICK),
            "display": "Quick check-in",
            "definition": "Personal 0-10 symptom self-ratings; not a validated scale, no total.",
        }
    )
    concepts += [
        {"code": f"quick-{s.key}", "display": s.label, "definition": f"{s.label}, rated 0-10."}
        for s in book.quick.symptoms
    ]
    concepts.append(
        {
            "code": score_code(DANGER),
            "display": "Danger signs reported",
            "definition": "The person reported at least one sign that needs urgent medical help.",
        }
    )
    concepts += [
        {"code": f"danger-{s.key}", "display": s.label, "definition": f"Reported: {s.label}."}
        for s in book.danger.signs
    ]
    resource = {
        "resourceType": "CodeSystem",
        "url": SCORE_SYSTEM,
        "version": book.version,
        "name": "BenzotaperScores",
        "title": "benzotaper check-in scores",
        "status": "active",
        "content": "complete",
        "caseSensitive": True,
        "description": "Codes benzotaper uses where no LOINC code could be confirmed.",
        "concept": concepts,
    }
    return validated(resource, version)


def _code(scale: str, display: str) -> dict[str, Any]:
    codings = [{"system": SCORE_SYSTEM, "code": score_code(scale), "display": display}]
    if scale in LOINC_TOTALS:
        code, loinc_display = LOINC_TOTALS[scale]
        codings.insert(0, {"system": LOINC, "code": code, "display": loinc_display})
    return {"coding": codings, "text": display}


def _response(
    scale: str,
    book: ScaleBook,
    day: dt.date,
    answers: Sequence[tuple[str, str, int]],
    patient: dict[str, str],
) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{questionnaire_url(scale)}|{book.version}",
        "status": "completed",
        "subject": patient,
        "author": patient,
        "source": patient,
        "authored": day.isoformat(),
        "item": [
            {"linkId": link, "text": text, "answer": [{"valueInteger": value}]}
            for link, text, value in answers
        ],
    }


def _category() -> list[dict[str, Any]]:
    return [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}]


def _checkin_entries(
    row: JournalRow, entry: CheckinEntry, book: ScaleBook, version: FhirVersion, patient: str
) -> list[Entry]:
    out: list[Entry] = []
    subject = {"reference": patient}
    for scale, items in entry.scales().items():
        d = book.scales[scale]  # type: ignore[index]
        result = try_score(book, scale, items)
        if result is None:  # a stored scale that cannot be scored is not exported as one
            continue
        response_url = _uuid("journal", row.uid, scale, "response")
        answers = list(zip(map(str, range(1, d.item_count + 1)), d.item_labels, items, strict=True))
        response = _response(scale, book, row.day, answers, subject)
        notes = [result.band_note] + ([result.total_note] if result.total_note else [])
        if result.crisis and d.crisis_item is not None:
            notes.insert(
                0,
                f"{d.short} item {d.crisis_item} was rated {items[d.crisis_item - 1]} (above 0): "
                "the person was shown crisis information; review the risk of self-harm.",
            )
        observation: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "category": _category(),
            "code": _code(scale, f"{d.short} total score"),
            "subject": subject,
            "effectiveDateTime": row.day.isoformat(),
            "valueQuantity": _score(result.total),
            "derivedFrom": [{"reference": response_url}],
            "note": [{"text": n} for n in notes],
        }
        band = next((b for b in d.bands if b.label == result.band), None)
        if band is not None:
            observation["interpretation"] = [{"text": f"{band.label} (band after {band.source})"}]
        out.append((response_url, validated(response, version)))
        out.append((_uuid("journal", row.uid, scale, "score"), validated(observation, version)))
    q = book.quick
    labels = {s.key: s.label for s in q.symptoms}
    # only ratings the questionnaire knows (a stored entry may hold others; reading is total)
    rated = [
        (k, labels[k], v)
        for k, v in entry.quick.items()
        if k in labels and q.item_min <= v <= q.item_max
    ]
    if rated:
        response_url = _uuid("journal", row.uid, QUICK, "response")
        observation = {
            "resourceType": "Observation",
            "status": "final",
            "category": _category(),
            "code": _code(QUICK, "Quick check-in"),
            "subject": subject,
            "effectiveDateTime": row.day.isoformat(),
            "derivedFrom": [{"reference": response_url}],
            "note": [{"text": book.quick.note}],
            "component": [
                {
                    "code": {
                        "coding": [{"system": SCORE_SYSTEM, "code": f"quick-{k}", "display": t}],
                        "text": t,
                    },
                    "valueQuantity": _score(v),
                }
                for k, t, v in rated
            ],
        }
        response = _response(QUICK, book, row.day, rated, subject)
        out.append((response_url, validated(response, version)))
        out.append((_uuid("journal", row.uid, QUICK, "score"), validated(observation, version)))
    if entry.danger_signs:
        out.append((_uuid("journal", row.uid, DANGER), _danger(row, entry, book, version, subject)))
    return out


def _danger(
    row: JournalRow,
    entry: CheckinEntry,
    book: ScaleBook,
    version: FhirVersion,
    subject: dict[str, str],
) -> dict[str, Any]:
    """Danger signs the person ticked: one Observation, a ``true`` component per sign."""
    labels = {s.key: s.label for s in book.danger.signs}
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "category": _category(),
        "code": _code(DANGER, "Danger signs reported"),
        "subject": subject,
        "effectiveDateTime": row.day.isoformat(),
        "valueBoolean": True,
        "note": [{"text": f"Shown to the person: {book.danger.message}"}],
        "component": [
            {
                "code": {
                    "coding": [
                        {"system": SCORE_SYSTEM, "code": f"danger-{k}", "display": labels.get(k, k)}
                    ],
                    "text": labels.get(k, k),
                },
                "valueBoolean": True,
            }
            for k in entry.danger_signs
        ],
    }
    return validated(observation, version)


def journal_entries(
    rows: Iterable[JournalRow],
    version: FhirVersion,
    *,
    patient_ref: str,
    book: ScaleBook | None = None,
    catalogue: Catalogue | None = None,
) -> list[Entry]:
    """Bundle entries for the journal's check-ins: the Questionnaires used, our CodeSystem,
    and per check-in a QuestionnaireResponse and an Observation for each scale (and quick)."""
    from benzotaper.journal.scales import default_scales

    book = book or default_scales()
    answered: list[Entry] = []
    used: dict[str, None] = {}
    for row in rows:
        if not isinstance(row.entry, CheckinEntry):
            continue
        found = _checkin_entries(row, row.entry, book, version, patient_ref)
        answered += found
        for _, resource in found:
            if resource["resourceType"] == "QuestionnaireResponse":
                used.setdefault(resource["questionnaire"].split("|")[0][len(QUESTIONNAIRE_BASE) :])
    if not answered:
        return []
    head: list[Entry] = [(_uuid("codesystem", book.version), code_system(book, version))]
    head += [
        (
            _uuid("questionnaire", scale, book.version),
            questionnaire(book, scale, version, catalogue),
        )
        for scale in used
    ]
    return head + answered
