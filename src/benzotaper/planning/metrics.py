"""Figures that describe a plan: how long, how steep, how small the last dose, how many tablets.

Used by ``compare`` (strategies side by side), the guardrail checks and the tests, so every
place measures a plan the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from benzotaper.planning.equivalents import cut_percent
from benzotaper.planning.models import Plan, Step

TAPER_PHASES = ("taper", "final", "hold")


class PlanMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    weeks: float
    steps: int
    largest_step_percent: float
    largest_rate_percent_per_14_days: float
    jump_off_mg_de: float
    tablets: float
    capsules: float
    liquid_ml: float


def rate_per_14_days(previous_de: float, new_de: float, days: int) -> float:
    """A cut from ``previous_de`` to ``new_de`` as % of the previous dose, normalised to 14 days
    by ``days``, the time spent at the new dose until the next change."""
    if previous_de <= 0 or new_de >= previous_de:
        return 0.0
    return (previous_de - new_de) / previous_de * 100 * 14 / days


def window_percents(steps: Sequence[Step], start_de: float, days: int = 14) -> list[float | None]:
    """For each step: the cuts of the ``days`` days up to its first day, together, as % of the
    DE taken ``days`` days before it (before the plan: ``start_de``); None for the stop, whose
    cut is the jump-off. Micro-tapering plans show it (pacing.toml [micro])."""
    out: list[float | None] = []
    before, j = start_de, 0  # the DE taken `days` days before step i; steps[j] the next to pass
    for step in steps:
        day = step.start - dt.timedelta(days=days)
        while j < len(steps) and steps[j].start <= day:
            before = steps[j].diazepam_equivalent_mg
            j += 1
        if step.phase == "stop":
            out.append(None)
            continue
        cut = 0.0 if before <= 0 else (before - step.diazepam_equivalent_mg) / before * 100
        out.append(round(max(cut, 0.0), 2))
    return out


def rates(plan: Plan) -> list[tuple[Step, float]]:
    """(step, % per 14 days) for every step except the stop (whose cut is the jump-off).

    A step's time at its dose includes the steps that follow at the same dose (a hold, or the
    rest of a step a hold split), because the next cut only comes after them: the same daily
    doses, which a weekly pattern split by a hold takes on other nights of the step's week.
    """
    out: list[tuple[Step, float]] = []
    prev = plan.summary.starting_diazepam_equivalent_mg
    steps = plan.steps
    for i, step in enumerate(steps):
        if step.phase != "stop":
            days = step.days
            for later in steps[i + 1 :]:
                if later.phase == "stop" or later.daily_mg != step.daily_mg:
                    break
                days += later.days
            out.append((step, rate_per_14_days(prev, step.diazepam_equivalent_mg, days)))
        prev = step.diazepam_equivalent_mg
    return out


def jump_off(plan: Plan) -> float:
    """Diazepam-equivalent dose of the last step before the stop."""
    before = [s for s in plan.steps if s.phase != "stop"]
    return before[-1].diazepam_equivalent_mg if before else 0.0


def metrics(plan: Plan) -> PlanMetrics:
    cuts, prev = [], plan.summary.starting_diazepam_equivalent_mg  # from the DEs, not the
    for s in plan.steps:  # change_percent shown (rounded to 0.1)
        if s.phase != "stop":
            cuts.append(-cut_percent(prev, s.diazepam_equivalent_mg))
        prev = s.diazepam_equivalent_mg
    totals = {"tablet": 0.0, "capsule": 0.0, "mL": 0.0}
    for line in plan.dispense_total:
        totals[line.unit] += line.quantity
    return PlanMetrics(
        weeks=plan.summary.weeks,
        steps=len(plan.steps),
        largest_step_percent=round(max([*cuts, 0.0]), 1) + 0.0,  # never -0.0
        largest_rate_percent_per_14_days=round(max((r for _, r in rates(plan)), default=0.0), 1),
        jump_off_mg_de=round(jump_off(plan), 3),
        tablets=totals["tablet"],
        capsules=totals["capsule"],
        liquid_ml=round(totals["mL"], 1),
    )
