"""Dated plan steps from drafts: the pieces for every dose, daily totals and the change in DE.

Shared by the engine and the crossover module, so every step of a plan is built one way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from operator import attrgetter

from benzotaper.planning.equivalents import cut_percent, daily_totals, de_of, shown
from benzotaper.planning.holds import Draft
from benzotaper.planning.models import Dose, Step


def build_steps(
    drafts: Sequence[Draft],
    start: dt.date,
    start_de: float,
    factors: Mapping[str, float],
    first_index: int = 0,
    start_daily: Mapping[str, float] | None = None,
) -> list[Step]:
    """Plan steps with dates, the pieces for every dose, daily totals and the change in DE.

    Each draft's realisers make its doses (a weekly pattern gives one Dose per amount, and the
    daily totals are averages). The DE and the change are computed from the exact totals
    (``equivalents``); ``daily_mg`` shows them to 4 decimals. ``start_daily`` (drug → exact mg a
    day before the first step) lets each step name the drugs it cuts.
    """
    steps: list[Step] = []
    prev = start_de
    prev_daily: Mapping[str, float] = start_daily or {}
    day = start
    for i, draft in enumerate(drafts):
        out: list[Dose] = []
        doses = draft.doses
        makers = draft.makers
        for slot in sorted(doses, key=_time) if len(doses) > 1 else doses:  # stable sort
            out += makers[slot.drug].made(slot.time, doses[slot])
        if draft.week_offset:
            out = [_week_from(d, draft.week_offset) for d in out]
        daily = daily_totals(out)
        de = de_of(daily, factors)
        end = day + dt.timedelta(days=draft.days - 1)
        steps.append(
            Step.trusted(  # every field from validated drafts
                index=first_index + i,
                start=day,
                end=end,
                phase=draft.phase,
                doses=out,
                daily_mg=shown(daily),
                diazepam_equivalent_mg=de,
                change_percent=None if prev <= 0 else round(cut_percent(prev, de), 1),
                note=draft.note,
                cuts=[d for d, mg in daily.items() if mg < prev_daily.get(d, 0.0) - 1e-9],
            )
        )
        prev, prev_daily, day = de, daily, end + _DAY
    return steps


def _week_from(dose: Dose, offset: int) -> Dose:
    """``dose`` in a step that starts on day ``offset`` of its weekly pattern: its nights
    counted from the step's first day (a new Dose: made doses are shared)."""
    if dose.on_days is None:
        return dose
    nights = sorted((day - offset) % 7 for day in dose.on_days)
    return dose.model_copy(update={"on_days": nights})


_DAY = dt.timedelta(days=1)
_time = attrgetter("time")
