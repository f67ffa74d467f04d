"""Hand-made plans in the shared plan contract, for tests that must not wait for the planner."""

from __future__ import annotations

import datetime as dt

from benzotaper.planning.models import (
    Administration,
    Dose,
    Plan,
    PlanRequest,
    RiskAssessment,
    Step,
    Summary,
)

Doses = list[tuple[str, str, float]]  # (time, drug, mg)


def make_plan(
    regimen: Doses, steps: list[tuple[int, Doses]], start: dt.date = dt.date(2026, 1, 5)
) -> Plan:
    """Steps given as (days, doses), back to back from ``start``."""
    out: list[Step] = []
    day = start
    for i, (days, doses) in enumerate(steps):
        end = day + dt.timedelta(days=days - 1)
        daily: dict[str, float] = {}
        for _, drug, mg in doses:
            daily[drug] = daily.get(drug, 0.0) + mg
        out.append(
            Step(
                index=i,
                start=day,
                end=end,
                phase="taper" if doses else "stop",
                doses=[Dose(time=t, drug=d, mg=mg) for t, d, mg in doses],
                daily_mg=daily,
                diazepam_equivalent_mg=0.0,
            )
        )
        day = end + dt.timedelta(days=1)
    request = PlanRequest(regimen=[Administration(drug=d, mg=mg, time=t) for t, d, mg in regimen])
    return Plan(
        summary=Summary(
            start=start,
            end=out[-1].end,
            weeks=((out[-1].end - start).days + 1) / 7,
            steps=len(out),
            strategy="custom",
            pace=None,
            market="us",
            equivalence_source="ashton2002",
            starting_diazepam_equivalent_mg=0.0,
            catalogue_version="test",
        ),
        steps=out,
        risk=RiskAssessment(
            level="lower",
            diazepam_equivalent_mg=0.0,
            dose_band="low",
            recommended_pace="moderate",
            specialist_care=False,
        ),
        request=request,
    )


def diazepam_taper(start_mg: float = 10.0, cuts: int = 4, days: int = 14) -> Plan:
    """Twice-daily diazepam, 1 mg/day less every ``days`` days, then stop."""

    def bid(total: float) -> Doses:
        return [("08:00", "diazepam", total / 2), ("20:00", "diazepam", total / 2)]

    steps = [(days, bid(start_mg - i)) for i in range(cuts + 1)]
    return make_plan(bid(start_mg), [*steps, (days, [])])
