"""Where a plan stands on a given day: the step in force, the previous dose, the next cut.

Pure helpers over the shared :class:`~benzotaper.planning.models.Plan` contract.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from benzotaper.errors import InputError
from benzotaper.planning.models import Administration, Dose, Plan, Step

#: Two doses whose diazepam equivalents differ by less than this are the same dose.
_EPS = 1e-9


def step_on(plan: Plan, day: dt.date) -> Step | None:
    """The step in force on ``day`` (None before the plan starts or after it ends)."""
    for step in plan.steps:
        if step.start <= day <= step.end:
            return step
    return None


def _position(plan: Plan, step: Step) -> int:
    """Where ``step`` is in the plan: by identity first (steps are compared field by field,
    which costs a pydantic comparison per step before it), then by value."""
    found = next((i for i, s in enumerate(plan.steps) if s is step), None)
    return plan.steps.index(step) if found is None else found


def is_cut(plan: Plan, step: Step) -> bool:
    """A step whose dose is lower than the step before it (or than the starting dose)."""
    i = _position(plan, step)
    before = (
        plan.steps[i - 1].diazepam_equivalent_mg
        if i > 0
        else plan.summary.starting_diazepam_equivalent_mg
    )
    return step.diazepam_equivalent_mg < before - _EPS


def _cuts(plan: Plan) -> Iterator[Step]:
    """The plan's cuts, in order (one pass: each step against the one before it)."""
    before = plan.summary.starting_diazepam_equivalent_mg
    for step in plan.steps:
        if step.diazepam_equivalent_mg < before - _EPS:
            yield step
        before = step.diazepam_equivalent_mg


def last_cut(plan: Plan, day: dt.date) -> Step | None:
    """The most recent cut that started on or before ``day``."""
    cuts = [s for s in _cuts(plan) if s.start <= day]
    return cuts[-1] if cuts else None


def next_cut(plan: Plan, day: dt.date) -> Step | None:
    """The first cut that starts after ``day`` (None: no more cuts)."""
    return next((s for s in _cuts(plan) if s.start > day), None)


def previous_step(plan: Plan, step: Step) -> Step | None:
    i = _position(plan, step)
    return plan.steps[i - 1] if i > 0 else None


def planned_doses(plan: Plan, day: dt.date) -> list[Dose]:
    """Doses to take on ``day`` (doses of 0 mg are not doses)."""
    step = step_on(plan, day)
    return [d for d in step.doses if d.mg > 0] if step else []


def current_regimen(plan: Plan, day: dt.date) -> tuple[list[Administration], float | None]:
    """The doses in force on ``day`` as a regimen the planner can start again from
    (``step_regimen``)."""
    step = step_on(plan, day) or (plan.steps[-1] if plan.steps else None)
    if step is None:
        return [], None
    return step_regimen(step)


def step_regimen(step: Step) -> tuple[list[Administration], float | None]:
    """A step's doses as a regimen the planner can start again from, and for a weekly pattern
    (medication-free nights) the dose taken on the nights with a dose (``nightly_mg``): the
    regimen's one dose is then the pattern's average a day, as the step shows it, which the
    planner makes with the same nights. InputError for a pattern of more than one dose."""
    if all(d.on_days is None for d in step.doses):
        taken = [Administration(drug=d.drug, mg=d.mg, time=d.time) for d in step.doses if d.mg > 0]
        return taken, None
    doses = {(d.drug, d.time) for d in step.doses if d.mg > 0}
    if len(doses) != 1:
        raise InputError(
            "The dose then was a weekly pattern of more than one dose: starting again from it "
            "needs a new plan made with the prescriber."
        )
    ((drug, time),) = doses
    nightly = max(d.mg for d in step.doses)
    return [Administration(drug=drug, mg=step.daily_mg[drug], time=time)], nightly
