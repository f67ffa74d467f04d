"""Plans side by side: the same request planned each way, measured the same way.

One function for every edge (the CLI's ``compare``, the web builder's table, ``POST
/api/compare``): each row is data (what was varied, the routes the plan took, how it ends, its
figures); each edge words and lays it out.

Sections:

* ``method``: every strategy (custom needs a typed schedule, so it is not compared), at each pace
  asked for (``None``: the request's own, or the risk assessment's); with micro-tapering asked
  for, the percent rows are micro-tapering ones;
* ``switch``: the same with the crossover to diazepam toggled (tapering directly vs switching
  first), when switching makes sense for this regimen;
* ``tail``: when the request's plan needed a tail route, every other route it could take
  instead (steps, weeks, what must be prescribed), and "maintain and review".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from benzotaper.catalogue import DIAZEPAM
from benzotaper.errors import BenzotaperError, RegimenError
from benzotaper.knowledge import Knowledge
from benzotaper.planning.engine import make_plan
from benzotaper.planning.metrics import PlanMetrics, metrics
from benzotaper.planning.models import (
    TAIL_ROUTES,
    Pace,
    Plan,
    PlanRequest,
    RouteChange,
    Strategy,
    TailRoute,
)

#: The strategies compared, in the order shown.
STRATEGIES: tuple[Strategy, ...] = ("percent", "hyperbolic", "linear", "ashton-bands")
Section = Literal["method", "switch", "tail"]


class ComparisonRow(BaseModel):
    """One way of planning the request, and how it came out."""

    model_config = ConfigDict(frozen=True)

    section: Section
    strategy: Strategy
    pace: Pace | None = Field(description="The pace used (None: none applies)")
    crossover: str | None
    tail: TailRoute | Literal["auto"]
    micro: bool = Field(default=False, description="Micro-tapering (percent strategy only)")
    chosen: bool = Field(description="The request exactly as given")
    ends_with: Literal["stop", "maintain"] | None = None
    routes: list[RouteChange] = Field(default_factory=list)
    metrics: PlanMetrics | None = None
    error: str | None = None


def compare(
    request: PlanRequest,
    knowledge: Knowledge,
    *,
    today: dt.date,
    paces: Sequence[Pace | None] = (None,),
    switch_every_way: bool = False,
) -> list[ComparisonRow]:
    """The request planned each way (see the module docstring), rows in a stable order."""
    rows = [
        _row("method", _vary(request, strategy=s, pace=p), request, knowledge, today)
        for s in _strategies(request)
        for p in paces
    ]
    switched = _switched(request, knowledge)
    if switched is not None:
        ways = [(s, p) for s in STRATEGIES for p in paces] if switch_every_way else [(None, None)]
        for s, p in ways:
            variant = _vary(switched, strategy=s, pace=p) if s else switched
            row = _row("switch", variant, request, knowledge, today)
            if row.error is not None and "switch" in row.error.lower() and s is not None:
                break  # the crossover itself is refused: one row says why
            rows.append(row)
    rows += _tail_rows(request, knowledge, today)
    return rows


def _strategies(request: PlanRequest) -> Sequence[Strategy]:
    chosen = request.preferences.strategy
    return STRATEGIES if chosen == "custom" else (chosen, *[s for s in STRATEGIES if s != chosen])


def _vary(request: PlanRequest, **update: object) -> PlanRequest:
    """The request with ``update`` applied; micro-tapering stays on for the percent strategy
    only (it cuts a share of the current dose), so the other strategies are compared with it."""
    changes = {k: v for k, v in update.items() if v is not None or k == "crossover"}
    if changes.get("strategy", "percent") != "percent":
        changes["micro"] = False
    prefs = request.preferences.model_copy(update=changes)
    return request.model_copy(update={"preferences": prefs})


def _switched(request: PlanRequest, knowledge: Knowledge) -> PlanRequest | None:
    """The request with the crossover to diazepam toggled, when that is worth showing."""
    if request.preferences.crossover:
        return _vary(request, crossover=None)
    if all(knowledge.catalogue.drug(a.drug).id == DIAZEPAM for a in request.regimen):
        return None
    return _vary(request, crossover=DIAZEPAM)


def _tail_rows(request: PlanRequest, knowledge: Knowledge, today: dt.date) -> list[ComparisonRow]:
    """Every other tail route the request's plan could take (only when it took one)."""
    try:
        plan = make_plan(request, knowledge, today=today, explain=False)
    except BenzotaperError:
        return []
    taken = {r.route for r in plan.routes}
    if not taken:
        return []
    rows: list[ComparisonRow] = []
    seen: set[tuple[TailRoute, ...]] = {tuple(sorted(taken))}
    off = set(request.preferences.tail_off)
    for route in TAIL_ROUTES:
        if route in off:
            continue
        variant = _vary(request, tail=route)
        row = _row("tail", variant, request, knowledge, today)
        key = tuple(sorted(r.route for r in row.routes))
        if row.error is None and route in key and key not in seen:
            seen.add(key)
            rows.append(row)
    return rows


def _row(
    section: Section,
    variant: PlanRequest,
    request: PlanRequest,
    knowledge: Knowledge,
    today: dt.date,
) -> ComparisonRow:
    prefs = variant.preferences
    base = {
        "section": section,
        "strategy": prefs.strategy,
        "crossover": prefs.crossover,
        "tail": prefs.tail,
        "micro": prefs.micro,
        "chosen": variant == request,
    }
    try:
        plan: Plan = make_plan(variant, knowledge, today=today, explain=False)
    except RegimenError as exc:
        if section == "method" and variant == request:
            raise
        return ComparisonRow(pace=prefs.pace, error=exc.message, **base)
    return ComparisonRow(
        pace=plan.summary.pace,
        ends_with=plan.ends_with,
        routes=plan.routes,
        metrics=metrics(plan),
        **base,
    )
