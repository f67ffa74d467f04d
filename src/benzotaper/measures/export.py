"""The clinic report as CSV and as an HL7 FHIR MeasureReport (R4B or R5), both pure.

CSV: one row per rate, with its counts, score and sources. Every text cell that a spreadsheet
would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return)
is prefixed with a single quote, so a file opened in Excel or LibreOffice never runs anything.

FHIR: one ``MeasureReport`` (``type`` summary, ``status`` complete) with one ``group`` per
measure. Each group has the initial-population of its primary rate and, for every rate (the
primary first; then DBO's draft thresholds, DAE's rates 1 and 2, still off at 12 months), its
denominator and numerator, each population coded with its rate in benzotaper's code system as
well as the FHIR population code, and the primary rate's ``measureScore``. FHIR scores a
proportion as (numerator - numerator-exclusion) / (denominator - denominator-exclusion -
denominator-exception), so a rate with numerator exclusions (DAE rate 2: an appropriate
diagnosis) reports its numerator before them and a numerator-exclusion population: the
formula then gives the reported score. No denominator exclusion or exception is reported:
benzotaper records none of the published ones (hospice, cancer...), which is not the same as
counting zero. The definitions
travel with it as a contained ``Measure``: each group's description says what the published
measure counts, how benzotaper adapts it and what it cannot see; ``relatedArtifact`` cites the
sources.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from benzotaper.catalogue.models import Reference
from benzotaper.measures.model import ClinicReport, MeasureResult, RateResult

#: benzotaper's code system for the clinic measures and their rates.
MEASURE_SYSTEM = "urn:benzotaper:fhir:CodeSystem:clinic-measures"
MEASURE_URL = "urn:benzotaper:fhir:Measure:clinic-measures"
POPULATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-population"
UCUM = "http://unitsofmeasure.org"
#: Leading characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS = (
    "period_start",
    "period_end",
    "measure",
    "measure_title",
    "steward",
    "kind",
    "rate",
    "rate_label",
    "primary",
    "initial_population",
    "denominator",
    "numerator",
    "numerator_exclusions",
    "events",
    "score",
    "unit",
    "better_when",
    "sources",
    "definitions_version",
)


def neutralise(cell: str) -> str:
    """A text cell that no spreadsheet will evaluate as a formula."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _csv_row(report: ClinicReport, m: MeasureResult, r: RateResult) -> list[object]:
    row: list[object] = [
        report.period_start.isoformat(),
        report.period_end.isoformat(),
        m.id,
        m.title,
        m.steward,
        "adapted from published" if m.kind == "published" else "benzotaper",
        r.id,
        r.label,
        "yes" if r.primary else "no",
        r.initial_population,
        r.denominator,
        r.numerator,
        r.numerator_exclusions,
        "" if r.events is None else r.events,
        "" if r.score is None else f"{r.score:.6g}",
        r.unit,
        "higher" if m.improvement == "increase" else "lower",
        " ".join(m.sources),
        report.definitions_version,
    ]
    return [neutralise(c) if isinstance(c, str) else c for c in row]


def report_csv(report: ClinicReport) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for m in report.measures:
        for r in m.rates:
            writer.writerow(_csv_row(report, m, r))
    return buf.getvalue()


# ----------------------------------------------------------------------------- FHIR


def _code(code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": MEASURE_SYSTEM, "code": code}
    if display:
        coding["display"] = display
    return coding


def _population(kind: str, count: int, rate: RateResult) -> dict[str, Any]:
    return {
        "code": {
            "coding": [{"system": POPULATION_SYSTEM, "code": kind}, _code(rate.id, rate.label)],
            "text": f"{rate.label}: {kind}",
        },
        "count": count,
    }


def _score(rate: RateResult) -> dict[str, Any] | None:
    if rate.score is None:
        return None
    if rate.unit == "days":
        return {"value": rate.score, "unit": "days", "system": UCUM, "code": "d"}
    unit = "holds per patient" if rate.unit == "per patient" else "proportion"
    return {"value": rate.score, "unit": unit, "system": UCUM, "code": "1"}


def _group(m: MeasureResult, version: str) -> dict[str, Any]:
    primary = m.primary()
    populations = [_population("initial-population", primary.initial_population, primary)]
    for r in sorted(m.rates, key=lambda r: not r.primary):
        populations += [
            _population("denominator", r.denominator, r),
            _population("numerator", r.numerator + r.numerator_exclusions, r),
        ]
        if r.numerator_exclusions:
            populations.append(_population("numerator-exclusion", r.numerator_exclusions, r))
    group: dict[str, Any] = {
        "id": m.id,
        "code": {"coding": [_code(m.id, m.title)], "text": m.title},
        "population": populations,
    }
    score = _score(primary)
    if score is not None:  # R5 made the score a choice type: measureScore[x]
        group["measureScoreQuantity" if version == "r5" else "measureScore"] = score
    return group


def _description(m: MeasureResult) -> str:
    kind = "Adapted from a published measure" if m.kind == "published" else "benzotaper measure"
    better = "higher" if m.improvement == "increase" else "lower"
    lines = [
        f"{kind} ({m.steward}); better when {better}.",
        f"Definition: {m.definition}",
        f"How benzotaper computes it: {m.adaptation}",
    ]
    if m.cannot_see:
        lines.append("What benzotaper cannot see: " + "; ".join(m.cannot_see) + ".")
    return "\n\n".join(lines)


def _artifact(ref: Reference) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "citation", "label": ref.key, "citation": ref.citation()}
    if ref.url:  # R5 has no RelatedArtifact.url; document.url is in both versions
        out["document"] = {"url": ref.url}
    return out


def _measure(report: ClinicReport, references: Mapping[str, Reference]) -> dict[str, Any]:
    keys = list(dict.fromkeys(k for m in report.measures for k in m.sources))
    return {
        "resourceType": "Measure",
        "id": "clinic-measures",
        "url": MEASURE_URL,
        "version": report.definitions_version,
        "name": "BenzotaperClinicMeasures",
        "title": "benzotaper clinic measures",
        "status": "active",
        "description": (
            "Clinic measures of benzodiazepine and Z-drug deprescribing computed by benzotaper "
            "from its patients' saved plans and journals. Published measures are adapted, not "
            "certified implementations: each group says what differs. " + report.disclaimer
        ),
        "relatedArtifact": [_artifact(references[k]) for k in keys if k in references],
        "group": [
            {"id": m.id, "code": {"coding": [_code(m.id, m.title)]}, "description": _description(m)}
            for m in report.measures
        ],
    }


def report_fhir(
    report: ClinicReport, references: Mapping[str, Reference], version: str = "r4b"
) -> dict[str, Any]:
    """The report as a validated FHIR MeasureReport (``version``: ``"r4b"`` or ``"r5"``)."""
    from benzotaper.exports.fhir_plan import fhir_model

    resource = {
        "resourceType": "MeasureReport",
        "contained": [_measure(report, references)],
        "status": "complete",
        "type": "summary",
        "measure": "#clinic-measures",
        "period": {"start": report.period_start.isoformat(), "end": report.period_end.isoformat()},
        "group": [_group(m, version) for m in report.measures],
    }
    model = fhir_model("MeasureReport", version).model_validate(resource)  # type: ignore[arg-type]
    out: dict[str, Any] = json.loads(model.model_dump_json(exclude_none=True))
    return out
