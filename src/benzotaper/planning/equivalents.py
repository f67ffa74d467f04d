"""A dose's diazepam equivalent (DE), computed one way wherever DEs are compared.

A weekly pattern (medication-free nights) takes a drug on some nights only, so its mg a day is
an average over the week: 0.5 mg on 2 of 7 nights is 0.142857… mg a day. Every DE the planner
compares or derives a rate from (a step's, the starting dose's, a cut's percent, the rate per 14
days, a return's rise) comes from ``de_of`` on the exact amounts. Rounding a weekly average to
the 4 decimals a plan shows first (0.1429; 1 of 7 nights: 0.0714) made a halving over 28 days
read as 25.02% per 14 days, above the 25% maximum. Amounts are added with ``math.fsum``
(exactly rounded, so in any order the same doses give the same float: a step's DE equals the
starting DE of a plan made from it) and DEs kept to ``DE_DECIMALS``, which clears the float
noise of mg × factor (0.3 × 10 = 3.0000000000000004) and nothing a rate can show. ``shown``
rounds the amounts a plan displays (``Step.daily_mg``), never compared for pacing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from benzotaper.planning.models import Dose
from benzotaper.planning.regimen import Slot

#: Decimals a DE (mg a day) is kept to: float noise only (mg × factor, e.g. 3.0000000000000004).
DE_DECIMALS = 12
#: Decimals of the mg a day a plan shows (``Step.daily_mg``); never compared for pacing.
SHOWN_DECIMALS = 4
_WEEK = 7


def daily_totals(doses: Iterable[Dose]) -> dict[str, float]:
    """Exact mg a day per drug; a dose taken on some days of each week counts as its weekly
    average: the week's nights added, then divided by 7, as ``realisers.weekly`` computes the
    averages the taper loop paces (so the same pattern gives the same float both ways)."""
    every: dict[str, list[float]] = {}
    nights: dict[str, list[float]] = {}
    for d in doses:
        every.setdefault(d.drug, [])
        if d.on_days is None:
            every[d.drug].append(d.mg)
        else:
            nights.setdefault(d.drug, []).extend([d.mg] * len(d.on_days))
    out = {drug: math.fsum(mg) for drug, mg in every.items()}
    for drug, taken in nights.items():
        out[drug] += math.fsum(taken) / _WEEK
    return out


def slot_totals(doses: Mapping[Slot, float]) -> dict[str, float]:
    """Exact mg a day per drug of a regimen by dose-time (a weekly pattern's one dose-time holds
    its average), added as ``daily_totals`` adds them."""
    every: dict[str, list[float]] = {}
    for slot, mg in doses.items():
        every.setdefault(slot.drug, []).append(mg)
    return {drug: math.fsum(mg) for drug, mg in every.items()}


def de_of(daily_mg: Mapping[str, float], factors: Mapping[str, float]) -> float:
    """DE (mg a day) of ``daily_mg`` (drug → exact mg a day), by ``factors`` (drug → DE per
    mg)."""
    return round(math.fsum(mg * factors[drug] for drug, mg in daily_mg.items()), DE_DECIMALS)


def shown(daily_mg: Mapping[str, float]) -> dict[str, float]:
    """``daily_mg`` as a plan shows it (4 decimals)."""
    return {drug: round(mg, SHOWN_DECIMALS) for drug, mg in daily_mg.items()}


def cut_percent(previous_de: float, new_de: float) -> float:
    """The change from ``previous_de`` to ``new_de`` as % of the previous (negative: a cut),
    unrounded; 0 when there was no dose before."""
    return 0.0 if previous_de <= 0 else (new_de - previous_de) / previous_de * 100
