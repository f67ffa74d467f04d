"""A hand-made, realistic plan: lorazepam 1 mg twice a day, switched to diazepam and tapered.

It has a crossover, split tablets, a hold, a liquid dose and a stop step, so every export meets
every kind of dose. Quantities to dispense are computed from the steps, as a pharmacy would.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from benzotaper.catalogue.models import Form
from benzotaper.planning.models import (
    Administration,
    DispenseLine,
    Dose,
    Hold,
    Piece,
    Plan,
    PlanRequest,
    PlanWarning,
    Preferences,
    RiskAssessment,
    Step,
    Summary,
)

START = dt.date(2026, 12, 1)
DE_PER_MG = {"lorazepam": 10.0, "diazepam": 1.0}  # Ashton: lorazepam 1 mg ≈ diazepam 10 mg


def tab(strength: float, qty: float) -> Piece:
    whole, half = int(qty), qty - int(qty)
    frac = {0.0: "", 0.5: "½", 0.25: "¼"}[half]
    count = f"{whole if whole else ''}{frac}" or "0"
    return Piece(
        product=f"{strength:g} mg tablet",
        form=Form.TABLET,
        strength_mg=strength,
        quantity=qty,
        unit="tablet",
        mg=strength * qty,
        text=f"{count} × {strength:g} mg tablet",
    )


def liquid(ml: float, mg_per_ml: float = 1.0) -> Piece:
    return Piece(
        product=f"{mg_per_ml:g} mg/mL oral solution",
        form=Form.ORAL_SOLUTION,
        mg_per_ml=mg_per_ml,
        quantity=ml,
        unit="mL",
        mg=ml * mg_per_ml,
        text=f"{ml:g} mL of {mg_per_ml:g} mg/mL oral solution",
    )


def dose(time: str, drug: str, *pieces: Piece) -> Dose:
    return Dose(time=time, drug=drug, mg=sum(p.mg for p in pieces), make_up=list(pieces))


def diazepam(time: str, mg: float) -> Dose:
    """Greedy make-up from 10, 5 and 2 mg tablets (2 mg halved), then 1 mg/mL liquid."""
    pieces: list[Piece] = []
    rest = mg
    for strength in (10.0, 5.0, 2.0):
        n = int(rest // strength)
        if n:
            pieces.append(tab(strength, n))
            rest -= n * strength
    if rest >= 1:
        # add a half 2 mg tablet to an existing whole count or on its own
        two = next((p for p in pieces if p.strength_mg == 2), None)
        if two is not None:
            pieces.remove(two)
        pieces.append(tab(2, (two.quantity if two else 0) + 0.5))
        rest -= 1
    if rest > 1e-9:
        pieces.append(liquid(rest))
    return dose(time, "diazepam", *pieces)


def _taper_doses(total: float) -> list[Dose]:
    """Night dose kept at 10 mg while the morning dose comes down first (NHS Scotland pattern)."""
    night = min(total, 10.0)
    morning = total - night
    out = [diazepam("08:00", morning)] if morning > 0 else []
    return [*out, diazepam("22:00", night)]


# (phase, days, doses, note)
SCHEDULE: list[tuple[str, int, list[Dose], str | None]] = [
    (
        "crossover",
        7,
        [dose("08:00", "lorazepam", tab(1, 1)), dose("22:00", "diazepam", tab(10, 1))],
        "Night lorazepam replaced by diazepam",
    ),
    (
        "crossover",
        7,
        [dose("08:00", "diazepam", tab(10, 1)), dose("22:00", "diazepam", tab(10, 1))],
        "Morning lorazepam replaced by diazepam",
    ),
    ("taper", 14, _taper_doses(18), None),
    ("hold", 14, _taper_doses(18), "Hold: sleep worse after the last cut"),
    *[
        ("taper" if mg > 1 else "final", 14, _taper_doses(mg), None)
        for mg in (16, 14, 12, 10, 9, 8, 7, 6, 5, 4.5, 4, 3.5, 3, 2.5, 2, 1.5, 1, 0.5)
    ],
    ("stop", 1, [], "Taper complete: review with your prescriber"),
]


def _dispense(steps: list[Step], start: dt.date, end: dt.date) -> list[DispenseLine]:
    qty: dict[tuple[str, str], float] = defaultdict(float)
    info: dict[tuple[str, str], Piece] = {}
    for step in steps:
        lo, hi = max(step.start, start), min(step.end, end)
        days = (hi - lo).days + 1
        if days <= 0:
            continue
        for d in step.doses:
            for p in d.make_up:
                qty[(d.drug, p.product)] += p.quantity * days
                info[(d.drug, p.product)] = p
    return [
        DispenseLine(
            period_start=start,
            period_end=end,
            drug=drug,
            product=product,
            form=info[(drug, product)].form,
            strength_mg=info[(drug, product)].strength_mg,
            mg_per_ml=info[(drug, product)].mg_per_ml,
            quantity=q,
            unit=info[(drug, product)].unit,
        )
        for (drug, product), q in sorted(qty.items())
    ]


def build_plan() -> Plan:
    steps: list[Step] = []
    day = START
    prev_de: float | None = None
    for i, (phase, days, doses, note) in enumerate(SCHEDULE):
        daily: dict[str, float] = defaultdict(float)
        for d in doses:
            daily[d.drug] += d.mg
        if not doses:
            daily["diazepam"] = 0.0
        de = sum(DE_PER_MG[k] * v for k, v in daily.items())
        change = None if prev_de is None else round(100 * (de - prev_de) / prev_de, 1)
        steps.append(
            Step(
                index=i,
                start=day,
                end=day + dt.timedelta(days=days - 1),
                phase=phase,  # type: ignore[arg-type]
                doses=doses,
                daily_mg=dict(daily),
                diazepam_equivalent_mg=de,
                change_percent=change,
                note=note,
            )
        )
        prev_de = de
        day += dt.timedelta(days=days)
    end = steps[-1].end
    dispense: list[DispenseLine] = []
    p = START
    while p <= end:
        q = min(p + dt.timedelta(days=27), end)
        dispense += _dispense(steps, p, q)
        p = q + dt.timedelta(days=1)
    request = PlanRequest(
        regimen=[
            Administration(drug="lorazepam", mg=1, time="08:00"),
            Administration(drug="lorazepam", mg=1, time="22:00"),
        ],
        preferences=Preferences(
            strategy="ashton-bands",
            pace="moderate",
            crossover="diazepam",
            liquid=True,
            start=START,
            holds=[Hold(start=dt.date(2026, 12, 29), days=14, reason="sleep")],
        ),
    )
    return Plan(
        summary=Summary(
            start=START,
            end=end,
            weeks=round(((end - START).days + 1) / 7, 1),
            steps=len(steps),
            strategy="ashton-bands",
            pace="moderate",
            market="us",
            equivalence_source="ashton2002",
            starting_diazepam_equivalent_mg=20,
            parameters={"every_days": 14, "crossover": "diazepam"},
            catalogue_version="2026.11.1",
        ),
        steps=steps,
        warnings=[
            PlanWarning(
                code="off_label_split",
                severity="caution",
                message="Halving 2 mg diazepam tablets is off-licence.",
                sources=["us-diazepam-tablets"],
            )
        ],
        dispense=dispense,
        dispense_total=_dispense(steps, START, end),
        risk=RiskAssessment(
            level="moderate",
            diazepam_equivalent_mg=20,
            dose_band="high",
            recommended_pace="moderate",
            specialist_care=False,
            reasons=["More than 15 mg diazepam equivalent a day"],
            flags=[
                PlanWarning(
                    code="high_dose",
                    severity="caution",
                    message="High dose band (>15 mg DE/day).",
                    sources=["asam2025"],
                )
            ],
        ),
        request=request,
    )
