"""Glue between the web pages and the library for plans: make, chart, compare, save, locate.

Nothing clinical is decided here: plans come from ``planning.make_plan``, figures from
``planning.metrics``, charts from ``benzotaper.charts``, storage from ``JournalStore``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from benzotaper.catalogue import Catalogue
from benzotaper.errors import BenzotaperError
from benzotaper.planning.models import Plan, PlanRequest, Step
from benzotaper.storage import Database

#: The strategies offered side by side (custom needs a typed schedule, so it is not compared).
COMPARED = ("percent", "hyperbolic", "linear", "ashton-bands")
LABELS = {
    "percent": "Percent of current dose",
    "hyperbolic": "Hyperbolic",
    "linear": "Fixed amount",
    "ashton-bands": "Ashton / NICE bands",
}


def make(request: PlanRequest, catalogue: Catalogue, today: dt.date) -> Plan:
    from benzotaper.planning.engine import make_plan

    return make_plan(request, catalogue, today=today)


def current_step(plan: Plan, day: dt.date) -> Step | None:
    from benzotaper.journal.timeline import step_on

    return step_on(plan, day)


@dataclass(frozen=True)
class PlanView:
    chart: str | None  # the chart image's URL (drawn in its own request, see web.plancharts)
    current_index: int | None


def view(plan: Plan, today: dt.date, chart_url: str | None = None) -> PlanView:
    step = current_step(plan, today)
    return PlanView(chart=chart_url, current_index=step.index if step else None)


def compare(request: PlanRequest, catalogue: Catalogue, today: dt.date) -> list[dict[str, Any]]:
    """The same request planned with each strategy (and with/without a crossover if asked)."""
    from benzotaper.planning.metrics import metrics

    chosen = request.preferences.strategy
    variants: list[tuple[str, PlanRequest]] = []
    for strategy in COMPARED:
        prefs = request.preferences.model_copy(update={"strategy": strategy})
        variants.append((LABELS[strategy], request.model_copy(update={"preferences": prefs})))
    if request.preferences.crossover:
        prefs = request.preferences.model_copy(update={"crossover": None})
        label = f"{LABELS.get(chosen, chosen)}, direct taper (no switch)"
        variants.append((label, request.model_copy(update={"preferences": prefs})))
    elif any(catalogue.drug(a.drug).id != "diazepam" for a in request.regimen):
        prefs = request.preferences.model_copy(update={"crossover": "diazepam"})
        label = f"{LABELS.get(chosen, chosen)}, switching to diazepam first"
        variants.append((label, request.model_copy(update={"preferences": prefs})))
    rows: list[dict[str, Any]] = []
    for label, req in variants:
        row: dict[str, Any] = {
            "label": label,
            "strategy": req.preferences.strategy,
            "crossover": req.preferences.crossover,
            "chosen": req == request,
        }
        try:
            plan = make(req, catalogue, today)
            row["pace"] = plan.summary.pace or "—"
            row["metrics"] = metrics(plan)
        except BenzotaperError as exc:
            row["pace"] = req.preferences.pace or "—"
            row["error"] = exc.message
        rows.append(row)
    return rows


def save(db: Database, user_id: int, plan: Plan, reason: str) -> None:
    from benzotaper.storage.journal import JournalStore

    JournalStore(db).save_plan(user_id, plan, reason=reason, effective_from=plan.summary.start)
