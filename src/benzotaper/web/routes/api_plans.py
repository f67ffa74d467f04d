"""JSON API for planning: make a plan, compare strategies, simulate a regimen.

Pure computations (no account needed): each calls the library once and returns its models.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from benzotaper.limits import MAX_REGIMEN_ROWS, Name
from benzotaper.planning.bounds import check_start
from benzotaper.planning.metrics import PlanMetrics
from benzotaper.planning.models import Administration, Plan, PlanRequest, RouteChange
from benzotaper.web import planview
from benzotaper.web.deps import CatalogueDep, KnowledgeDep
from benzotaper.web.isodate import ISODate
from benzotaper.web.responses import CSRF_403, INPUT_422, Responses

router = APIRouter(tags=["planning"])
UNSAFE: Responses = {403: CSRF_403, 422: INPUT_422}


def today() -> dt.date:
    return dt.date.today()


@router.post("/api/plan", response_model=Plan, responses=UNSAFE)
def api_plan(body: PlanRequest, knowledge: KnowledgeDep) -> Plan:
    """A taper plan for the request: steps with the pieces to take, risk, warnings, quantities.

    Agree any plan with the prescriber before following it."""
    return planview.make(body, knowledge, today())


class CompareRow(BaseModel):
    label: str = Field(description="The row in plain words")
    section: str = Field(description="method, switch (crossover toggled) or tail (a tail route)")
    strategy: str
    crossover: str | None
    tail: str = Field(description="The tail route asked for (auto: chosen by the planner)")
    micro: bool = Field(default=False, description="Micro-tapering (percent strategy only)")
    pace: str
    chosen: bool
    ends_with: str | None = Field(default=None, description="stop, or maintain (and review)")
    routes: list[RouteChange] = Field(default_factory=list)
    metrics: PlanMetrics | None = None
    error: str | None = None


@router.post("/api/compare", response_model=list[CompareRow], responses=UNSAFE)
def api_compare(body: PlanRequest, knowledge: KnowledgeDep) -> list[CompareRow]:
    """The same request planned with each strategy, with the crossover to diazepam toggled, and
    (when the plan needed one) each other tail route: weeks, steps, steepest cut, jump-off dose,
    quantities, how it ends and what must be prescribed, side by side."""
    return [CompareRow(**row) for row in planview.compare(body, knowledge, today())]


class SimulateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    regimen: Annotated[list[Administration], Field(min_length=1, max_length=MAX_REGIMEN_ROWS)]
    days: int = Field(default=14, ge=1, le=365)
    start: ISODate | None = None
    age: int | None = Field(default=None, ge=12, le=120)
    source: Name | None = None
    steady: bool = Field(default=False, description="Start already at steady state")


class DailyLevel(BaseModel):
    date: dt.date
    scheduled_de_mg: float
    level_de_mg_min: float
    level_de_mg_mean: float
    level_de_mg_max: float
    occupancy_percent_mean: float


class SimulationOut(BaseModel):
    start: dt.date
    days: int
    equivalence_source: str
    steady_state: dict[str, float]
    days_to_90_percent_of_steady_state: float | None
    daily: list[DailyLevel]
    parameters: list[dict[str, Any]]
    units: str
    notes: list[str]
    disclaimer: str


@router.post("/api/simulate", response_model=SimulationOut, responses=UNSAFE)
def api_simulate(body: SimulateIn, cat: CatalogueDep) -> SimulationOut:
    """Simulate a regimen taken every day: diazepam-equivalent level and estimated occupancy."""
    from benzotaper.pk import DISCLAIMER, UNITS_NOTE, Context, simulate_regimen
    from benzotaper.pk.metrics import days_to_settle, steady_state
    from benzotaper.pk.simulate import resolve_doses

    ctx = Context.default(cat, source=body.source, age=body.age)
    start = body.start or today()
    check_start(start, today())
    sim = simulate_regimen(ctx, body.regimen, days=body.days, start=start, steady=body.steady)
    doses = resolve_doses(cat, body.regimen)
    per_day = round(24 / sim.dt_h)
    daily = []
    for day in range(body.days):
        part = slice(day * per_day, (day + 1) * per_day)
        act = sim.activity_de_mg[part]
        daily.append(
            DailyLevel(
                date=start + dt.timedelta(days=day),
                scheduled_de_mg=round(float(sim.scheduled_de_mg[part][0]), 4),
                level_de_mg_min=round(float(act.min()), 4),
                level_de_mg_mean=round(float(act.mean()), 4),
                level_de_mg_max=round(float(act.max()), 4),
                occupancy_percent_mean=round(float(sim.occupancy_percent[part].mean()), 3),
            )
        )
    return SimulationOut(
        start=start,
        days=body.days,
        equivalence_source=sim.equivalence_source,
        steady_state=steady_state(ctx, doses).model_dump(),
        days_to_90_percent_of_steady_state=None if body.steady else days_to_settle(ctx, (), doses),
        daily=daily,
        parameters=[p.as_json() for p in sim.parameters],
        units=UNITS_NOTE,
        notes=list(sim.notes),
        disclaimer=DISCLAIMER,
    )
