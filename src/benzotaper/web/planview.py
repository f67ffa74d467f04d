"""Glue between the web pages and the library for plans: make, chart, compare, save, locate.

Nothing clinical is decided here: plans come from ``planning.make_plan``, figures from
``planning.metrics``, charts from ``benzotaper.charts``, storage from ``JournalStore``.
"""

from __future__ import annotations

import base64
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


def chart_uri(plan: Plan, catalogue: Catalogue) -> str | None:
    """The plan chart as an inline SVG image (a data: URI, allowed by the CSP's img-src)."""
    from benzotaper.charts import plan_chart

    try:
        svg = plan_chart(plan, catalogue, fmt="svg", size="phone")
    except BenzotaperError:
        return None
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def current_step(plan: Plan, day: dt.date) -> Step | None:
    from benzotaper.journal.timeline import step_on

    return step_on(plan, day)


@dataclass(frozen=True)
class PlanView:
    chart: str | None
    current_index: int | None


def view(plan: Plan, catalogue: Catalogue, today: dt.date, chart: bool = True) -> PlanView:
    step = current_step(plan, today)
    return PlanView(
        chart=chart_uri(plan, catalogue) if chart else None,
        current_index=step.index if step else None,
    )


def compare(request: PlanRequest, catalogue: Catalogue, today: dt.date) -> list[dict[str, Any]]:
    """The core's comparison (each strategy, switching first or not, other tail routes), with
    a label in plain words for each row."""
    from benzotaper.planning.compare import compare as core_compare

    rows = []
    for row in core_compare(request, catalogue, today=today):
        label = LABELS.get(row.strategy, row.strategy)
        if row.section == "switch":
            label += (
                ", switching to diazepam first" if row.crossover else ", direct taper (no switch)"
            )
        elif row.section == "tail":
            label += f", ending with {TAIL_LABELS[row.tail]}"
        rows.append({"label": label, **row.model_dump(), "pace": row.pace or "—"})
    return rows


#: The tail routes in plain words, for labels.
TAIL_LABELS = {
    "auto": "the route chosen for you",
    "nights": "medication-free nights",
    "liquid": "the medicine's oral liquid",
    "diazepam": "diazepam for the last part",
    "compounded": "a compounding pharmacy",
    "maintain": "the lowest dose kept and reviewed",
}


def save(db: Database, user_id: int, plan: Plan, reason: str) -> None:
    from benzotaper.storage.journal import JournalStore

    JournalStore(db).save_plan(user_id, plan, reason=reason, effective_from=plan.summary.start)
