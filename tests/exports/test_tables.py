"""The step table, read back with the csv module."""

from __future__ import annotations

import csv
import datetime as dt
import io

from benzotaper.exports import STEP_COLUMNS, steps_csv
from benzotaper.exports._common import pieces_text
from benzotaper.planning.models import Plan


def test_one_row_per_step_and_dose_with_pieces_and_equivalent(plan: Plan) -> None:
    text = steps_csv(plan)
    assert "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == STEP_COLUMNS
    assert len(rows) == sum(max(1, len(step.doses)) for step in plan.steps)
    by_step: dict[int, list[dict[str, str]]] = {}
    for row in rows:
        by_step.setdefault(int(row["step"]), []).append(row)
    for step in plan.steps:
        got = by_step[step.index + 1]
        assert {r["start"] for r in got} == {step.start.isoformat()}
        assert {r["end"] for r in got} == {step.end.isoformat()}
        assert {int(r["days"]) for r in got} == {step.days}
        assert {float(r["diazepam_equivalent_mg"]) for r in got} == {step.diazepam_equivalent_mg}
        for dose in step.doses:
            match = [r for r in got if r["time"] == dose.time and r["drug"] == dose.drug]
            assert len(match) == 1
            assert float(match[0]["dose_mg"]) == dose.mg
            assert match[0]["pieces"] == pieces_text(dose)
            assert float(match[0]["drug_daily_mg"]) == step.daily_mg[dose.drug]
    stop = by_step[len(plan.steps)]
    assert stop[0]["phase"] == "stop" and stop[0]["dose_mg"] == "0"


def test_special_characters_survive(handmade: Plan) -> None:
    plan = handmade
    plan.steps[2].note = 'Hold if "sleep" is worse, then resume'
    rows = list(csv.DictReader(io.StringIO(steps_csv(plan))))
    assert {r["note"] for r in rows if r["step"] == "3"} == {plan.steps[2].note}
    assert any("½ × 2 mg tablet" in r["pieces"] for r in rows)


def test_journal_csv_rows_with_derived_scores_and_sleep() -> None:
    from dataclasses import dataclass

    from benzotaper.exports import JOURNAL_COLUMNS, journal_csv
    from benzotaper.journal.entries import CheckinEntry, DoseEntry, EventEntry, SleepEntry
    from benzotaper.journal.sleep import sleep_metrics

    @dataclass
    class Row:
        uid: str
        day: dt.date
        entry: object

    sleep = SleepEntry(
        bed_time="23:00",
        sol_min=30,
        waso_min=20,
        final_wake_time="06:30",
        out_of_bed_time="07:00",
        quality=3,
    )
    rows_in = [
        Row(
            "a",
            dt.date(2026, 12, 2),
            DoseEntry(
                drug="lorazepam", mg=0.9, time="08:00", planned_mg=0.9, note='said "ok", fine'
            ),
        ),
        Row(
            "b",
            dt.date(2026, 12, 2),
            CheckinEntry(bwsq=[1] * 20, gad7=[2] * 7, danger_signs=["seizure"]),
        ),
        Row("c", dt.date(2026, 12, 3), sleep),
        Row("d", dt.date(2026, 12, 4), EventEntry(title="Flu")),
    ]
    rows = list(csv.DictReader(io.StringIO(journal_csv(rows_in))))
    assert tuple(rows[0]) == JOURNAL_COLUMNS and len(rows) == 4
    assert [r["uid"] for r in rows] == ["a", "b", "c", "d"]
    assert rows[0]["note"] == 'said "ok", fine' and rows[0]["planned_mg"] == "0.9"
    assert (rows[1]["bwsq_total"], rows[1]["gad7_total"], rows[1]["ciwa_b_total"]) == (
        "20",
        "14",
        "",
    )
    assert rows[1]["danger_signs"] == "seizure"
    metrics = sleep_metrics(sleep)
    assert rows[2]["total_sleep_min"] == str(metrics.tst_min)
    assert float(rows[2]["sleep_efficiency_percent"]) == metrics.se_percent
    assert rows[3]["title"] == "Flu"
