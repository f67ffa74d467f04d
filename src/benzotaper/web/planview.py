"""Glue between the web pages and the library for plans: make, chart, compare, save, locate.

Nothing clinical is decided here: plans come from ``planning.make_plan``, figures from
``planning.metrics``, charts from ``benzotaper.charts``, saving through the journal service.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from benzotaper.catalogue import Catalogue
from benzotaper.errors import BenzotaperError
from benzotaper.knowledge import Knowledge
from benzotaper.lru import LRU
from benzotaper.planning.models import Dose, Plan, PlanRequest, Step
from benzotaper.storage import Database

#: The strategies offered side by side (custom needs a typed schedule, so it is not compared).
COMPARED = ("percent", "hyperbolic", "linear", "ashton-bands")
LABELS = {
    "percent": "Percent of current dose",
    "hyperbolic": "Hyperbolic",
    "linear": "Fixed amount",
    "ashton-bands": "Ashton / NICE bands",
}


def make(request: PlanRequest, knowledge: Knowledge, today: dt.date) -> Plan:
    """A new plan for a person's request: its start must be within the new-plan window."""
    from benzotaper.dates import check_plan_start

    if request.preferences.start is not None:
        check_plan_start(request.preferences.start, today, "start")
    return replan(request, knowledge, today)


def replan(request: PlanRequest, knowledge: Knowledge, today: dt.date) -> Plan:
    """A plan for a stored request (its start may lie further back than a new plan's)."""
    from benzotaper.planning.engine import make_plan

    return make_plan(request, knowledge, today=today)


def chart_svg(plan: Plan, catalogue: Catalogue) -> bytes | None:
    """The plan chart as SVG bytes (None when the plan cannot be charted)."""
    from benzotaper.charts import plan_chart

    try:
        return plan_chart(plan, catalogue, fmt="svg", size="phone")
    except BenzotaperError:
        return None


def chart_uri(plan: Plan, catalogue: Catalogue) -> str | None:
    """The plan chart as an inline SVG image (a data: URI, allowed by the CSP's img-src)."""
    svg = chart_svg(plan, catalogue)
    return None if svg is None else "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def current_step(plan: Plan, day: dt.date) -> Step | None:
    from benzotaper.journal.timeline import step_on

    return step_on(plan, day)


@dataclass(frozen=True)
class Row:
    """One step of the schedule as a page shows it: only doses above 0 mg, a note only where
    it first appears (a run of steps with notes about the same thing shows it once)."""

    step: Step
    doses: list[Dose]
    daily: dict[str, float]
    note: str | None
    note_repeats: int = 0


@dataclass(frozen=True)
class PlanView:
    chart: str | None
    current_index: int | None
    rows: list[Row] = field(default_factory=list)

    @property
    def now_and_next(self) -> list[Row]:
        """The step in force and the one after it (the first two before the plan starts)."""
        i = self.current_index if self.current_index is not None else 0
        pos = next((n for n, r in enumerate(self.rows) if r.step.index == i), 0)
        return self.rows[pos : pos + 2]


def schedule_rows(plan: Plan) -> list[Row]:
    rows: list[Row] = []
    head: int | None = None  # the row showing the note of the current run of equal notes
    previous: str | None = None
    for step in plan.steps:
        doses = [d for d in step.doses if d.mg > 0]
        daily = {drug: mg for drug, mg in step.daily_mg.items() if mg > 0}
        if step.note and _gist(step.note) == previous and head is not None:
            old = rows[head]
            rows[head] = Row(old.step, old.doses, old.daily, old.note, old.note_repeats + 1)
            rows.append(Row(step, doses, daily, None))
        else:
            rows.append(Row(step, doses, daily, step.note))
            head = len(rows) - 1 if step.note else None
        previous = _gist(step.note) if step.note else None
    return rows


def _gist(note: str) -> str:
    """What a note is about: its first clause ("Clonazepam: products allow no cut of 5% or less
    here"); steps after the first in a run differ only in figures their rows already show."""
    return note.split(";", 1)[0]


#: Policy: saved plan versions' schedule rows kept per process (a version never changes).
SAVED_ROWS_KEPT = 256
_SAVED_ROWS: LRU[str, list[Row]] = LRU(SAVED_ROWS_KEPT)


def view(
    plan: Plan,
    catalogue: Catalogue,
    today: dt.date,
    chart: bool | str = True,
    uid: str | None = None,
) -> PlanView:
    """The plan as pages show it; ``chart``: inline it (True), none (False) or a URL to it;
    ``uid``: the saved version it is (its rows are made once per process)."""
    step = current_step(plan, today)
    rows = _SAVED_ROWS.get(uid) if uid is not None else None
    if rows is None:
        rows = schedule_rows(plan)
        if uid is not None:
            _SAVED_ROWS.put(uid, rows)
    return PlanView(
        chart=chart if isinstance(chart, str) else chart_uri(plan, catalogue) if chart else None,
        current_index=step.index if step else None,
        rows=rows,
    )


@dataclass(frozen=True)
class Proposal:
    """The builder's plan for one form on one day, as its preview shows it. ``key`` says what
    it was made from (the day, the chart link, the request): the same key gives the same plan
    (the core is pure), so a rendered preview may be kept under it."""

    key: str
    plan: Plan
    view: PlanView

    @property
    def kept(self) -> bool:
        """Whether it (and its rendered preview) is kept: bounded in size."""
        return len(self.plan.steps) <= PROPOSAL_KEPT_STEPS


#: Policy: builder previews kept per worker process (people typing into the builder send the
#: same form again and again: each change of a field, "Show the plan", "Save this plan"), and
#: the most steps a kept plan may have (a plan near the 2,000-step bound is made each time).
#: A plan holds ~5 KiB per step (measured: 36 steps 181 KiB, 188 steps 1 MiB), so at most
#: ~64 MiB per process, ~12 MiB for two-year plans.
PROPOSALS_KEPT = 64
PROPOSAL_KEPT_STEPS = 200
_PROPOSALS: LRU[str, Proposal] = LRU(PROPOSALS_KEPT)


def propose(request: PlanRequest, knowledge: Knowledge, today: dt.date, chart: str) -> Proposal:
    """The builder's plan for ``request`` made on ``today`` (as :func:`make`, whose refusals it
    raises; nothing refused is kept), with its view linking to ``chart``."""
    key = f"{today.isoformat()}|{chart}|{request.model_dump_json()}"
    found = _PROPOSALS.get(key)
    if found is None:
        plan = make(request, knowledge, today)
        found = Proposal(key, plan, view(plan, knowledge.catalogue, today, chart=chart))
        if found.kept:
            _PROPOSALS.put(key, found)
    return found


def compare(request: PlanRequest, knowledge: Knowledge, today: dt.date) -> list[dict[str, Any]]:
    """The core's comparison (each strategy, switching first or not, other tail routes), with
    a label in plain words for each row."""
    from benzotaper.dates import check_plan_start
    from benzotaper.planning.compare import compare as core_compare

    if request.preferences.start is not None:
        check_plan_start(request.preferences.start, today, "start")
    rows = []
    for row in core_compare(request, knowledge, today=today):
        label = LABELS.get(row.strategy, row.strategy)
        if row.micro:
            label += ", micro-tapering"
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


def save(db: Database, catalogue: Catalogue, user_id: int, plan: Plan, reason: str) -> None:
    """Keep ``plan`` as the person's active plan, through the journal service."""
    from benzotaper.services.journal import JournalService
    from benzotaper.web.deps import now

    JournalService(db, catalogue, now=now).save_plan(user_id, plan, reason=reason)
