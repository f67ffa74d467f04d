"""Hand-made plans for journal tests (independent of the planning engine).

``stub_plan`` follows a PlanRequest literally enough for the journal's purposes: one drug,
``percent`` cuts every ``every_days`` days from ``start``, holds shifting the schedule later.
"""

from __future__ import annotations

import datetime as dt

from benzotaper.planning.models import (
    Administration,
    Dose,
    Piece,
    Plan,
    PlanRequest,
    Preferences,
    RiskAssessment,
    Step,
    Summary,
)

D = dt.date


def request(
    mg: float = 10.0,
    *,
    start: dt.date = D(2026, 1, 1),
    percent: float = 10,
    every_days: int = 14,
) -> PlanRequest:
    return PlanRequest(
        regimen=[
            Administration(drug="diazepam", mg=mg / 2, time="08:00"),
            Administration(drug="diazepam", mg=mg / 2, time="20:00"),
        ],
        preferences=Preferences(start=start, percent=percent, every_days=every_days),
    )


def _doses(daily: float) -> list[Dose]:
    half = round(daily / 2, 3)
    return [
        Dose(
            time=t,
            drug="diazepam",
            mg=half,
            make_up=[
                Piece(
                    product="2 mg tablet",
                    form="tablet",  # type: ignore[arg-type]
                    strength_mg=2,
                    quantity=half / 2,
                    unit="tablet",
                    mg=half,
                    text=f"{half / 2:g} × 2 mg tablet",
                )
            ]
            if half > 0
            else [],
        )
        for t in ("08:00", "20:00")
    ]


def stub_plan(req: PlanRequest, today: dt.date | None = None) -> Plan:
    prefs = req.preferences
    start = prefs.start or today or D(2026, 1, 1)
    every = prefs.every_days or 14
    percent = prefs.percent or 10
    daily = sum(a.mg for a in req.regimen)
    holds = sorted(prefs.holds, key=lambda h: h.start)
    steps: list[Step] = []
    day = start
    prev_de: float | None = None
    while True:
        length = every
        for h in holds:
            if day <= h.start < day + dt.timedelta(days=length):
                length += h.days
        end = day + dt.timedelta(days=length - 1)
        steps.append(
            Step(
                index=len(steps),
                start=day,
                end=end,
                phase="taper" if daily > 0 else "stop",
                doses=_doses(daily),
                daily_mg={"diazepam": daily},
                diazepam_equivalent_mg=daily,
                change_percent=None if prev_de is None else round((daily / prev_de - 1) * 100, 1),
            )
        )
        if daily == 0:
            break
        prev_de = daily
        day = end + dt.timedelta(days=1)
        nxt = round(daily * (1 - percent / 100) * 4) / 4  # quarter-mg steps
        daily = 0.0 if nxt < 1 or nxt >= daily else nxt
    return Plan(
        summary=Summary(
            start=start,
            end=steps[-1].end,
            weeks=round(((steps[-1].end - start).days + 1) / 7, 1),
            steps=len(steps),
            strategy="percent",
            pace=prefs.pace,
            market="us",
            equivalence_source="ashton2002",
            starting_diazepam_equivalent_mg=sum(a.mg for a in req.regimen),
            catalogue_version="test",
        ),
        steps=steps,
        risk=RiskAssessment(
            level="moderate",
            diazepam_equivalent_mg=sum(a.mg for a in req.regimen),
            dose_band="low",
            recommended_pace="moderate",
            specialist_care=False,
        ),
        request=req,
    )
