"""CSV exports: the step table (one row per step × dose-time × drug), for spreadsheets and audits.

Plain RFC 4180 CSV (comma, CRLF, UTF-8 with no BOM); numbers are written without float noise.
Journal entries get their own CSV once the journal exists (see ``journal_csv``).
"""

from __future__ import annotations

import csv
import io

from benzotaper.exports._common import fmt_mg, pieces_text
from benzotaper.planning.models import Plan

STEP_COLUMNS = (
    "step",
    "phase",
    "start",
    "end",
    "days",
    "time",
    "drug",
    "dose_mg",
    "pieces",
    "drug_daily_mg",
    "diazepam_equivalent_mg",
    "change_percent",
    "note",
)


def steps_csv(plan: Plan) -> str:
    """One row per step, dose-time and drug; a step without doses (the stop) gets one row."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(STEP_COLUMNS)
    for step in plan.steps:
        common = [
            step.index + 1,
            step.phase,
            step.start.isoformat(),
            step.end.isoformat(),
            step.days,
        ]
        tail = [
            fmt_mg(step.diazepam_equivalent_mg),
            "" if step.change_percent is None else f"{step.change_percent:g}",
            step.note or "",
        ]
        doses = sorted(step.doses, key=lambda d: (d.time, d.drug))
        if not doses:
            writer.writerow([*common, "", "", "0", "", "0", *tail])
        for dose in doses:
            writer.writerow(
                [
                    *common,
                    dose.time,
                    dose.drug,
                    fmt_mg(dose.mg),
                    pieces_text(dose),
                    fmt_mg(step.daily_mg.get(dose.drug, dose.mg)),
                    *tail,
                ]
            )
    return buf.getvalue()
