"""Per-step metrics of a plan: fluctuation between doses, the size of each cut, settling time.

Each step's steady state is computed exactly (the periodic solution of its daily doses), not read
off the plan's simulation, so the figures do not depend on how long the step lasts. The time to
settle after a cut comes from a dedicated simulation that starts at the previous step's steady
state: the first time the 24-hour average activity (trailing window) has covered 90% of the
way from the old steady level to the new one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from benzotaper.pk.linear import FloatArray, periodic_state, propagate, respond
from benzotaper.pk.simulate import (
    MINUTES_PER_DAY,
    Context,
    Segment,
    TimedDose,
    grid_minutes,
    plan_segments,
    resolve_doses,
)
from benzotaper.planning.models import Plan

#: Software policy: how far to look for the 90% settling time before reporting "not reached".
SETTLE_HORIZON_DAYS = 180
#: Software policy: a change smaller than this share of the old level is not called a cut.
MIN_CHANGE_FRACTION = 0.005


class SteadyState(BaseModel):
    """One regimen taken every day for ever: its daily cycle of activity and occupancy."""

    model_config = ConfigDict(frozen=True)

    de_dose_mg: float
    mean_de_mg: float
    peak_de_mg: float
    trough_de_mg: float
    fluctuation_percent: float  # (peak − trough) / mean × 100
    mean_occupancy_percent: float
    peak_occupancy_percent: float
    trough_occupancy_percent: float


class StepMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    start: dt.date
    end: dt.date
    days: int
    steady: SteadyState | None  # None when the step has no doses
    de_drop_percent: float | None = None  # vs the previous level; positive for a cut
    occupancy_drop_points: float | None = None
    days_to_90_percent: float | None = None
    settles_within_step: bool | None = None


def steady_cycle(
    ctx: Context, doses: Sequence[TimedDose], step_minutes: int = 15
) -> tuple[FloatArray, FloatArray]:
    """Activity (DE mg/day scale) and occupancy over one day at steady state."""
    grid = grid_minutes(step_minutes, [d.minute for d in doses])
    per_day = MINUTES_PER_DAY // grid
    activity = np.zeros(per_day)
    for drug_id in sorted({d.drug for d in doses}):
        model = ctx.model(drug_id)
        state = _steady_states(model.rates, model.input_vector, doses, drug_id, grid, per_day)
        activity += state @ model.activity_weights
    return activity, ctx.occupancy.occupancy_array(activity)


def _steady_states(
    rates: FloatArray,
    b: FloatArray,
    doses: Sequence[TimedDose],
    drug_id: str,
    grid: int,
    steps: int,
) -> FloatArray:
    mine = [d for d in doses if d.drug == drug_id]
    dt_h = grid / 60.0
    x0 = periodic_state(
        rates, b, 24.0, np.array([d.minute / 60 for d in mine]), np.array([d.mg for d in mine])
    )
    train = np.zeros(steps)
    for d in mine:
        train[(d.minute // grid) % steps] += d.mg
    return respond(rates, dt_h, train, b, x0)


def steady_state(ctx: Context, doses: Sequence[TimedDose], step_minutes: int = 15) -> SteadyState:
    activity, occupancy = steady_cycle(ctx, doses, step_minutes)
    mean = float(activity.mean())
    de_dose = sum(d.mg * ctx.model(d.drug).de_per_mg for d in doses)
    return SteadyState(
        de_dose_mg=round(de_dose, 6),
        mean_de_mg=mean,
        peak_de_mg=float(activity.max()),
        trough_de_mg=float(activity.min()),
        fluctuation_percent=float((activity.max() - activity.min()) / mean * 100),
        mean_occupancy_percent=float(occupancy.mean()),
        peak_occupancy_percent=float(occupancy.max()),
        trough_occupancy_percent=float(occupancy.min()),
    )


def days_to_settle(
    ctx: Context,
    before: Sequence[TimedDose],
    after: Sequence[TimedDose],
    *,
    step_minutes: int = 15,
    horizon_days: int = SETTLE_HORIZON_DAYS,
) -> float | None:
    """Days from the switch until the trailing 24-h mean activity has made 90% of the change."""
    grid = grid_minutes(step_minutes, [d.minute for d in (*before, *after)])
    per_day = MINUTES_PER_DAY // grid
    steps = (horizon_days + 1) * per_day
    dt_h = grid / 60.0
    old = np.zeros(per_day)
    path = np.zeros(steps)  # day 0: the old steady cycle; the switch is at day 1 00:00
    for drug_id in sorted({d.drug for d in (*before, *after)}):
        model = ctx.model(drug_id)
        w, b = model.activity_weights, model.input_vector
        if any(d.drug == drug_id for d in before):
            cycle = _steady_states(model.rates, b, before, drug_id, grid, per_day)
            old += cycle @ w
            x_switch = propagate(model.rates, dt_h, 2, cycle[-1])[1]  # end of the old day
        else:
            x_switch = np.zeros(model.size)
        train = np.zeros(steps - per_day)
        for d in after:
            if d.drug == drug_id:
                train[np.arange(horizon_days) * per_day + d.minute // grid] += d.mg
        path[per_day:] += respond(model.rates, dt_h, train, b, x_switch) @ w
    path[:per_day] = old
    new_level = float(steady_cycle(ctx, after, step_minutes)[0].mean()) if after else 0.0
    old_level = float(old.mean())
    change = new_level - old_level
    if abs(change) <= MIN_CHANGE_FRACTION * max(old_level, new_level):
        return None
    window = np.convolve(path, np.ones(per_day) / per_day, mode="valid")[1:]  # ends after switch
    progress = (window - old_level) / change
    reached = np.flatnonzero(progress >= 0.9)
    if reached.size == 0:
        return None
    return float((reached[0] + 1) * dt_h / 24.0)


def step_metrics(ctx: Context, plan: Plan, step_minutes: int = 15) -> list[StepMetrics]:
    """Metrics for every step; the request's regimen is the level before the first step."""
    prior = resolve_doses(ctx.catalogue, plan.request.regimen)
    return segment_metrics(ctx, plan_segments(ctx.catalogue, plan), prior, step_minutes)


def segment_metrics(
    ctx: Context,
    segments: Sequence[Segment],
    prior: Sequence[TimedDose] = (),
    step_minutes: int = 15,
) -> list[StepMetrics]:
    out: list[StepMetrics] = []
    previous: tuple[TimedDose, ...] = tuple(prior)
    prev_state = steady_state(ctx, previous, step_minutes) if previous else None
    for i, seg in enumerate(segments):
        state = steady_state(ctx, seg.doses, step_minutes) if seg.doses else None
        drop = occ_drop = settle = None
        if prev_state is not None:
            new_mean = state.mean_de_mg if state else 0.0
            new_occ = state.mean_occupancy_percent if state else 0.0
            drop = (prev_state.mean_de_mg - new_mean) / prev_state.mean_de_mg * 100
            occ_drop = prev_state.mean_occupancy_percent - new_occ
            settle = days_to_settle(ctx, previous, seg.doses, step_minutes=step_minutes)
        out.append(
            StepMetrics(
                index=i,
                start=seg.start,
                end=seg.end,
                days=seg.days,
                steady=state,
                de_drop_percent=drop,
                occupancy_drop_points=occ_drop,
                days_to_90_percent=settle,
                settles_within_step=None if settle is None else settle <= seg.days,
            )
        )
        previous, prev_state = seg.doses, state
    return out
