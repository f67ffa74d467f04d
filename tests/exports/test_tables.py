"""The step table, read back with the csv module."""

from __future__ import annotations

import csv
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
