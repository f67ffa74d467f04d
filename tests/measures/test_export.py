"""CSV (safe in spreadsheets) and FHIR MeasureReport (R4B and R5) of a clinic report."""

from __future__ import annotations

import csv
import io

import pytest

from benzotaper.catalogue import Catalogue
from benzotaper.exports.fhir_plan import fhir_model
from benzotaper.measures import ClinicReport, clinic_report, default_measure_book
from benzotaper.measures.export import neutralise, report_csv, report_fhir
from tests.measures.clinic import YEAR, patient, run


def _report() -> ClinicReport:
    return clinic_report(
        [
            patient(1, [run("2025-01-01", "2026-06-30", 10), run("2026-07-01", None, 8)]),
            patient(2, [run("2025-10-01", "2026-04-30", 5), run("2026-05-01", None, 0)]),
        ],
        YEAR,
        default_measure_book(),
    )


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+2", "'=1+2"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\t=x", "'\t=x"),
        ("DBO", "DBO"),
        ("10% or more", "10% or more"),
    ],
)
def test_neutralise(cell: str, safe: str) -> None:
    assert neutralise(cell) == safe


def test_csv_has_a_row_per_rate_and_no_formulas() -> None:
    report = _report()
    first = report.measures[0]
    evil = first.model_copy(update={"title": '=HYPERLINK("http://x","click")', "steward": "@SUM"})
    report = report.model_copy(update={"measures": [evil, *report.measures[1:]]})
    rows = list(csv.reader(io.StringIO(report_csv(report))))
    assert len(rows) == 1 + sum(len(m.rates) for m in report.measures)
    header, dbo20 = rows[0], dict(zip(rows[0], rows[2], strict=True))
    assert header[0] == "period_start" and dbo20["rate"] == "dbo-20"
    assert dbo20["measure_title"].startswith("'=") and dbo20["steward"] == "'@SUM"
    assert (dbo20["denominator"], dbo20["numerator"], dbo20["score"]) == ("2", "2", "1")
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "@", "-")) for cell in row)


@pytest.mark.parametrize("version", ["r4b", "r5"])
def test_fhir_measure_report_validates(version: str, catalogue: Catalogue) -> None:
    report = _report()
    mr = report_fhir(report, catalogue.references, version)
    fhir_model("MeasureReport", version).model_validate(mr)  # type: ignore[arg-type]
    assert len(mr["group"]) == len(report.measures)
    completion = next(g for g in mr["group"] if g["id"] == "completion")
    key = "measureScoreQuantity" if version == "r5" else "measureScore"
    # both on a drug in 2026; patient 2 reached zero on 1 May
    assert completion[key] == {
        "value": 0.5,
        "unit": "proportion",
        "system": "http://unitsofmeasure.org",
        "code": "1",
    }
    ttz = next(g for g in mr["group"] if g["id"] == "time-to-zero")
    assert ttz[key]["code"] == "d" and ttz[key]["value"] == 212.0
    dementia = next(g for g in mr["group"] if g["id"] == "dde")
    counts = [
        (p["code"]["coding"][1]["code"], p["code"]["coding"][0]["code"], p["count"])
        for p in dementia["population"]
    ]
    assert ("dde-dementia", "denominator", 0) in counts
    measure = mr["contained"][0]
    assert {a["label"] for a in measure["relatedArtifact"]} >= {
        "ncqa-dbo",
        "pqa-cob",
        "measures-policy",
    }
    assert "cannot see" in measure["group"][0]["description"]


@pytest.mark.parametrize("version", ["r4b", "r5"])
def test_fhir_populations_give_every_proportion_its_score(
    version: str, catalogue: Catalogue
) -> None:
    """FHIR scores a proportion as (numerator - numerator-exclusion) / denominator (less its
    exclusions and exceptions): DAE rate 2's excepted patient (seizures, the nearest to an
    appropriate diagnosis) must not be subtracted twice, nor reported as a denominator
    exception (NCQA keeps them in the denominator)."""
    report = clinic_report(
        [
            patient(1, [run("2025-01-01", None, 10)]),
            patient(2, [run("2025-01-01", None, 10)], seizures=True),
            patient(3, [run("2025-01-01", "2026-03-31", 10), run("2026-04-01", None, 0)]),
        ],
        YEAR,
        default_measure_book(),
    )
    rates = {r.id: r for m in report.measures for r in m.rates}
    assert (rates["dae-bzd"].numerator, rates["dae-bzd"].numerator_exclusions) == (2, 1)
    mr = report_fhir(report, catalogue.references, version)
    counts: dict[str, dict[str, int]] = {}
    for group in mr["group"]:
        for p in group["population"]:
            kind, rate = p["code"]["coding"][0]["code"], p["code"]["coding"][1]["code"]
            counts.setdefault(rate, {})[kind] = p["count"]
    assert counts["dae-bzd"] == {"denominator": 3, "numerator": 3, "numerator-exclusion": 1}
    for rid, c in counts.items():
        r = rates[rid]
        assert "denominator-exception" not in c and "denominator-exclusion" not in c
        if r.unit == "proportion" and r.score is not None:
            net = c["numerator"] - c.get("numerator-exclusion", 0)
            assert net / c["denominator"] == pytest.approx(r.score, abs=1e-6), rid
    row = next(x for x in csv.DictReader(io.StringIO(report_csv(report))) if x["rate"] == "dae-bzd")
    assert (row["denominator"], row["numerator"], row["numerator_exclusions"]) == ("3", "2", "1")
