"""The taper loop: step after step from the starting regimen down to a small jump-off dose.

Several drugs (no crossover) follow the documented policy in data/rules/pacing.toml
[multi_drug]: ``sequential`` tapers one drug at a time, the largest diazepam-equivalent share
first (ties: shorter half-life first); ``proportional`` cuts every drug by the same fraction
in each step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from benzotaper.catalogue import Drug
from benzotaper.errors import RegimenError
from benzotaper.planning.holds import Draft
from benzotaper.planning.models import Phase, PlanWarning
from benzotaper.planning.notices import warn
from benzotaper.planning.regimen import Slot
from benzotaper.planning.rules import DoseTimeRule, MultiDrugPolicy, PacingRules
from benzotaper.planning.stepping import (
    EPS,
    cut,
    cut_order,
    days_for_rate,
    lengthened_days,
    snap_down,
)
from benzotaper.planning.strategies import StrategyRule

#: Software safety net: no plan has more steps than this (a loop that cannot end is a bug).
MAX_STEPS = 2000


@dataclass
class TaperContext:
    """Everything the loop needs, resolved once by the engine."""

    drugs: Sequence[Drug]
    de_per_mg: Mapping[str, float]
    grids: Mapping[str, Sequence[float]]
    strategy: StrategyRule
    rules: PacingRules
    dose_time_rule: DoseTimeRule
    multi_drug: MultiDrugPolicy
    jump_off_mg_de: float
    max_fraction_per_14_days: float
    final_slow_section: bool
    liquid_possible: Mapping[str, bool]
    liquid_smallest_mg: Mapping[str, float | None]
    liquid_allowed: bool
    warnings: list[PlanWarning] = field(default_factory=list)
    lengthened: int = 0


def de_total(doses: Mapping[Slot, float], de_per_mg: Mapping[str, float]) -> float:
    return sum(mg * de_per_mg[s.drug] for s, mg in doses.items())


def drug_total(doses: Mapping[Slot, float], drug: str) -> float:
    return sum(mg for s, mg in doses.items() if s.drug == drug)


def snap_regimen(doses: Mapping[Slot, float], ctx: TaperContext) -> dict[Slot, float]:
    """The starting doses as products can make them (never above what is taken now)."""
    out: dict[Slot, float] = {}
    for slot, mg in doses.items():
        if mg <= EPS:
            out[slot] = 0.0
            continue
        snapped = snap_down(mg, ctx.grids[slot.drug])
        if snapped <= EPS:
            grid = ctx.grids[slot.drug]
            hint = ""
            if ctx.liquid_possible.get(slot.drug) and not ctx.liquid_allowed:
                hint = " Allowing an oral liquid (--liquid) may help."
            smallest = f" (smallest {grid[0]:g} mg)" if grid else ""
            raise RegimenError(
                f"{mg:g} mg of {slot.drug} at {slot.time} is smaller than any dose the allowed "
                f"products can make{smallest}.{hint} Ask your prescriber or pharmacist which "
                "product you take."
            )
        out[slot] = snapped
    return out


def drug_order(doses: Mapping[Slot, float], ctx: TaperContext) -> list[Drug]:
    """Sequential policy: largest diazepam-equivalent share first; ties, shorter half-life."""

    def key(d: Drug) -> tuple[float, float]:
        hl = d.half_life_h.mid if d.half_life_h else math.inf
        return (-drug_total(doses, d.id) * ctx.de_per_mg[d.id], hl)

    return sorted(ctx.drugs, key=key)


def taper(start: Mapping[Slot, float], ctx: TaperContext) -> list[Draft]:
    """Drafted steps from ``start`` (what is taken now) to the last dose before stopping.

    The stop step itself is added by the engine. Each drug ends at or below the jump-off dose,
    or a danger warning says why it could not.
    """
    drafts: list[Draft] = []
    state = dict(start)  # the doses taken in the previous step (real, then realised)
    groups: list[list[Drug]]
    if ctx.multi_drug == "proportional" and len(ctx.drugs) > 1:
        groups = [list(ctx.drugs)]
    else:
        groups = [[d] for d in drug_order(start, ctx)]
    for gi, group in enumerate(groups):
        last_group = gi == len(groups) - 1
        start_mg = {d.id: drug_total(start, d.id) for d in group}
        while any(drug_total(state, d.id) > EPS for d in group):
            if len(drafts) >= MAX_STEPS:
                raise RegimenError(
                    "The plan would need more than 2000 steps; choose a faster pace."
                )
            new, days, phase, note, done = _step(state, group, start_mg, ctx, last_group)
            if done:
                break
            drafts.append(Draft(new, days, phase, note))
            state = new
    if not drafts:
        # Already at or below the jump-off dose: keep the (realisable) dose for one interval.
        snapped = snap_regimen(start, ctx)
        drafts.append(
            Draft(
                snapped,
                ctx.strategy.every_days,
                "final",
                "The dose is already small enough to stop from: take it for this step, then stop.",
            )
        )
    return drafts


def _step(
    state: dict[Slot, float],
    group: Sequence[Drug],
    start_mg: Mapping[str, float],
    ctx: TaperContext,
    last_group: bool,
) -> tuple[dict[Slot, float], int, Phase, str | None, bool]:
    """One step for the drugs in ``group``: (doses, days, phase, note, finished)."""
    prev_de = de_total(state, ctx.de_per_mg)
    base = snap_regimen(state, ctx)
    new = dict(base)
    every = ctx.strategy.every_days
    days = every
    phase: Phase = "taper"
    notes: list[str] = []
    lengthened = 0  # counted only if this step is kept (a step that ends the loop is not)
    group_de = sum(drug_total(state, d.id) * ctx.de_per_mg[d.id] for d in group)
    if group_de <= ctx.jump_off_mg_de + EPS:
        if last_group:
            return state, 0, "stop", None, True
        for slot in new:
            if slot.drug in {d.id for d in group}:
                new[slot] = 0.0
        names = ", ".join(d.name for d in group)
        notes.append(f"Last step of {names}: stop it from this small dose; the others go on.")
    else:
        for drug in group:
            cur = drug_total(state, drug.id)
            if cur <= EPS:
                continue
            f = ctx.de_per_mg[drug.id]
            final = (
                ctx.final_slow_section
                and ctx.strategy.name in ("percent", "linear")
                and cur <= start_mg[drug.id] * ctx.rules.final_section.start_fraction_of_start.low
            )
            if final and last_group:
                phase = "final"  # the plan's last section; earlier drugs' ends stay "taper"
            elif final:
                notes.append(f"{drug.name}: smaller cuts near the end of this drug.")
            ask = ctx.strategy.ask(cur, start_mg[drug.id], f, final)
            cap = ctx.max_fraction_per_14_days * min(ask.every_days, 14) / 14
            asked = min(ask.fraction, cap)
            times = {s.time: mg for s, mg in base.items() if s.drug == drug.id}
            order = cut_order(times, ctx.dose_time_rule)
            got = cut(times, cur * (1 - asked), order, ctx.grids[drug.id])
            for t, mg in got.items():
                new[Slot(drug.id, t)] = mg
            realised = (cur - sum(got.values())) / cur
            need = lengthened_days(ask.every_days, realised, asked)
            if need > ask.every_days:
                lengthened += 1
                notes.append(
                    f"{drug.name}: products allow no cut of {asked * 100:.3g}% or less here; the "
                    f"smallest possible cut ({realised * 100:.3g}%) gets {need} days instead of "
                    f"{ask.every_days}, to keep within the rate asked."
                )
            days = max(days, need)
            if sum(got.values()) <= EPS and drug_total(state, drug.id) * f > ctx.jump_off_mg_de:
                _jump_off_warning(drug, drug_total(state, drug.id), f, ctx)
                if last_group:
                    return state, 0, "stop", None, True
    new_de = de_total(new, ctx.de_per_mg)
    if prev_de > 0 and new_de < prev_de:
        days = max(days, days_for_rate((prev_de - new_de) / prev_de, ctx.max_fraction_per_14_days))
    ctx.lengthened += lengthened
    return new, days, phase, " ".join(notes) or None, False


def _jump_off_warning(drug: Drug, mg: float, de_per_mg: float, ctx: TaperContext) -> None:
    liquid = ""
    smallest = ctx.liquid_smallest_mg.get(drug.id)
    if smallest is not None and not ctx.liquid_allowed:
        if smallest * de_per_mg <= ctx.rules.jump_off.limit(True) + EPS:
            liquid = (
                " An oral liquid is sold for it in this market: allowing it (--liquid) makes a "
                "small enough last dose possible."
            )
        else:
            liquid = " Even its oral liquid (measured to 0.1 mL) cannot make a small enough dose."
    jo = ctx.rules.jump_off
    ctx.warnings.append(
        warn(
            "jump-off-too-high",
            "danger",
            f"{drug.name} cannot be brought below {mg:g} mg ({mg * de_per_mg:.3g} mg "
            f"diazepam-equivalent) with the products allowed, so the last step stops from more "
            f"than the {ctx.jump_off_mg_de:g} mg diazepam-equivalent jump-off dose the guidance "
            f"ends with.{liquid} Otherwise ask your prescriber about a smaller strength, a "
            "compounded capsule, or switching to diazepam first.",
            jo.mg_de.source,
            jo.also_source,
        )
    )
