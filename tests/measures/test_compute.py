"""Each measure on a small clinic whose answers were worked out by hand (see the comments)."""

from __future__ import annotations

import pytest

from benzotaper.measures import (
    ClinicReport,
    Factors,
    MeasureResult,
    clinic_report,
    default_measure_book,
)
from tests.measures.clinic import YEAR, d, patient, run


def _report(*records: object) -> ClinicReport:
    return clinic_report(records, YEAR, default_measure_book())  # type: ignore[arg-type]


def _measure(report: ClinicReport, measure_id: str) -> MeasureResult:
    return next(m for m in report.measures if m.id == measure_id)


def _counts(m: MeasureResult) -> dict[str, tuple[int, int, int]]:
    return {r.id: (r.initial_population, r.denominator, r.numerator) for r in m.rates}


def test_dbo_by_hand() -> None:
    report = _report(
        # 70, 10 mg DE all year: starts 10, ends 10 -> denominator only
        patient(1, [run("2025-01-01", None, 10)]),
        # 70, 10 until June then 8: ends at 8, exactly 20% less -> 10% and 20%
        patient(2, [run("2025-01-01", "2026-06-30", 10), run("2026-07-01", None, 8)]),
        # 80, first plan in March from 20 mg: 15, then 5 through December -> 75% less, all rates
        patient(
            3,
            [run("2026-03-01", "2026-11-30", 15), run("2026-12-01", None, 5)],
            age=80,
            start_benzo=20,
        ),
        patient(4, [run("2025-01-01", None, 10)], age=60),  # too young
        patient(5, [run("2025-01-01", None, 10)], age=None),  # no age: left out, counted
        patient(6, [run("2025-01-01", None, 0, z=10)]),  # Z-drug only: not a DBO denominator
        # 10 until 16 Dec, then 0: last 30 days (2-31 Dec) average 5 -> 50% less
        patient(7, [run("2025-01-01", "2026-12-16", 10), run("2026-12-17", None, 0)]),
    )
    dbo = _measure(report, "dbo")
    assert _counts(dbo) == {
        "dbo-10": (5, 4, 3),
        "dbo-20": (5, 4, 3),
        "dbo-25": (5, 4, 2),
        "dbo-50": (5, 4, 2),
    }
    assert dbo.age_unknown == 1
    assert dbo.primary().id == "dbo-20"
    assert dbo.primary().score == pytest.approx(0.75)
    assert dbo.kind == "published" and dbo.sources[0] == "ncqa-dbo"


def test_dae_by_hand() -> None:
    report = _report(
        patient(1, [run("2025-01-01", None, 0, z=10)]),  # Z-drug all year: rate 1
        # benzodiazepine on exactly 28 days (one supply): not two dispensings
        patient(2, [run("2026-01-01", "2026-01-28", 10), run("2026-01-29", None, 0)]),
        patient(3, [run("2025-01-01", None, 10)], seizures=True),  # rate 2 exception
        patient(4, [run("2025-01-01", None, 5, z=5)]),  # both classes: both rates
        patient(5, [run("2025-01-01", None, 10)], age=65),  # 65 in 2025: 66 at the end of 2026
    )
    dae = _measure(report, "dae")
    assert _counts(dae) == {"dae-z": (4, 4, 2), "dae-bzd": (4, 4, 1), "dae-total": (4, 4, 2)}
    assert dae.rates[1].numerator_exclusions == 1
    assert dae.improvement == "decrease"


def test_dde_by_hand() -> None:
    no_falls = Factors(d("2025-01-01"), 75)
    report = _report(
        # falls and dementia recorded 1 Jun 2026, off benzodiazepines from 31 May: not after
        patient(
            1,
            [run("2025-01-01", "2026-05-31", 5), run("2026-06-01", None, 0)],
            age=75,
            later=[Factors(d("2026-06-01"), 75, falls=True, dementia=True)],
        ),
        patient(2, [run("2025-01-01", None, 5)], age=75, falls=True),  # falls and a drug
        patient(3, [run("2025-01-01", None, 5)], age=75),  # no falls recorded
        patient(4, [run("2025-01-01", None, 0, z=5)], age=75, dementia=True),  # dementia, Z-drug
    )
    dde = _measure(report, "dde")
    assert no_falls.falls is False and no_falls.dementia is False
    # each condition its own rate: patient 4 counts for dementia only, patient 1 in neither
    assert _counts(dde) == {"dde-falls": (4, 2, 1), "dde-dementia": (4, 2, 1)}
    dementia = dde.rates[1]
    assert dementia.score == pytest.approx(0.5) and dementia.computable is True


def test_cob_by_hand() -> None:
    report = _report(
        patient(1, [run("2025-01-01", None, 10)], age=40, opioids=True),  # overlap all year
        # opioids from 10 Dec: 22 opioid days (denominator), 22 overlap days (< 30)
        patient(
            2,
            [run("2025-01-01", None, 10)],
            age=40,
            later=[Factors(d("2026-12-10"), 40, opioids=True)],
        ),
        patient(3, [run("2025-01-01", None, 10)], age=16, opioids=True),  # 17 at the end
        # opioids from 20 Dec: 12 days < 15, not in the denominator
        patient(
            4,
            [run("2025-01-01", None, 10)],
            age=50,
            later=[Factors(d("2026-12-20"), 50, opioids=True)],
        ),
        patient(5, [run("2025-01-01", None, 0, z=10)], age=50, opioids=True),  # Z-drug: no overlap
    )
    cob = _measure(report, "cob")
    assert _counts(cob) == {"cob": (4, 3, 1)}
    assert cob.primary().score == pytest.approx(1 / 3, abs=1e-6)


def _project_clinic() -> ClinicReport:
    return _report(
        # N: from 1 Oct 2025, a hold in February, zero on 1 May 2026 (212 days)
        patient(
            1,
            [
                run("2025-10-01", "2026-01-31", 10),
                run("2026-02-01", "2026-02-14", 10, hold=True),
                run("2026-02-15", "2026-04-30", 5),
                run("2026-05-01", None, 0),
            ],
        ),
        # O: a return from 5 to 7.5 mg in May (a reinstatement)
        patient(
            2,
            [
                run("2026-01-01", "2026-03-31", 10),
                run("2026-04-01", "2026-04-30", 5),
                run("2026-05-01", None, 7.5),
            ],
        ),
        # Q: a rise inside a crossover step is a switch, not a reinstatement
        patient(
            3,
            [
                run("2026-01-01", "2026-01-31", 10),
                run("2026-02-01", "2026-02-14", 10.5, switch=True),
                run("2026-02-15", None, 9),
            ],
        ),
        # R: stopped 1 Jul 2025; 12-month checkpoint 1 Jul 2026, nothing logged since
        patient(4, [run("2025-01-01", "2025-06-30", 5), run("2025-07-01", None, 0)]),
        # S: stopped 1 Dec 2025, a dose logged on 1 Feb 2026
        patient(
            5,
            [run("2025-06-01", "2025-11-30", 5), run("2025-12-01", None, 0)],
            logged="2026-02-01",
        ),
        # T: zero on 10 Jan 2026 (40 days), back on 2 mg from 1 Mar (a reinstatement)
        patient(
            6,
            [
                run("2025-12-01", "2026-01-09", 2),
                run("2026-01-10", "2026-02-28", 0),
                run("2026-03-01", None, 2),
            ],
        ),
    )


def test_project_measures_by_hand() -> None:
    report = _project_clinic()
    # active in 2026: N, O, Q, T (R and S were at zero all year, reaching it in 2025)
    assert _counts(_measure(report, "completion")) == {
        "completion": (6, 4, 2),
        "completion-maintain": (6, 4, 0),
    }
    ttz = _measure(report, "time-to-zero").rates[0]
    assert (ttz.denominator, ttz.score, ttz.unit) == (2, 126.0, "days")  # median of 212 and 40
    holds = _measure(report, "holds").rates[0]
    assert (holds.denominator, holds.numerator, holds.score) == (4, 1, 0.25)
    rein = _measure(report, "reinstatements").rates[0]
    assert (rein.denominator, rein.numerator, rein.events) == (4, 2, 2)
    # 6 months: N (30 Oct, off), S (1 Jun, logged), T (11 Jul, back on); 12 months: R, S
    assert _counts(_measure(report, "still-off")) == {
        "still-off-6m": (6, 3, 1),
        "still-off-12m": (6, 2, 1),
    }
    assert report.patients == report.patients_with_plan == 6


def test_empty_clinic_scores_nothing() -> None:
    report = _report()
    assert report.patients == 0
    for m in report.measures:
        for r in m.rates:
            assert (r.denominator, r.numerator, r.score) == (0, 0, None)


def test_patient_without_plan_counts_only_as_a_patient() -> None:
    from benzotaper.measures import PatientRecord

    report = clinic_report(
        [PatientRecord(patient_id=9, runs=())], YEAR, default_measure_book(), patients=3
    )
    assert (report.patients, report.patients_with_plan) == (3, 0)
    assert all(r.initial_population == 0 for m in report.measures for r in m.rates)


def test_completion_shows_planned_maintenance_beside_it() -> None:
    report = _report(
        patient(1, [run("2025-01-01", "2026-03-31", 10), run("2026-04-01", None, 0)]),  # done
        patient(
            2, [run("2025-01-01", "2026-02-28", 10), run("2026-03-01", None, 4, maintain=True)]
        ),
        # maintained until a re-plan went on to zero in the period: completed, not maintained
        patient(
            3,
            [
                run("2025-01-01", "2026-05-31", 3, maintain=True),
                run("2026-06-01", "2026-08-31", 1),
                run("2026-09-01", None, 0),
            ],
        ),
        patient(4, [run("2025-01-01", None, 10)]),  # still tapering
    )
    completion = _measure(report, "completion")
    assert _counts(completion) == {"completion": (4, 4, 2), "completion-maintain": (4, 4, 1)}
    assert completion.primary().id == "completion"
