"""A return to the last well-tolerated dose ("reinstatement"), as a new plan request (pure).

The 2025 Joint Guideline lists a return to the previous dose among the responses to significant
withdrawal, after a pause or a slower pace ("in rare cases"). The adaptive rules only propose it
(``journal.adaptive``, decision kind ``return``); the person or the prescriber makes it, through
``JournalService.reinstate``, which plans the request built here: the plan starts at the dose in
force before the most recent cut, holds it for ``reinstate.hold_days`` (a step labelled
``reinstatement``: the one rise a plan may contain), then resumes with the resume rules' smaller
cuts and slower pace.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from benzotaper.errors import InputError
from benzotaper.journal.adaptive import AdaptiveRules, resumed_request
from benzotaper.journal.timeline import last_cut, previous_step, step_on, step_regimen
from benzotaper.planning.models import (
    Administration,
    Plan,
    PlanRequest,
    Reinstatement,
    Step,
)


def earlier_dose(plan: Plan, day: dt.date) -> tuple[list[Administration], Step, float | None]:
    """The dose in force before the most recent cut on or before ``day`` (the last
    well-tolerated dose), the step in force on ``day``, and for a weekly pattern (medication-free
    nights) the dose taken on the nights with a dose (the regimen's dose is then the pattern's
    average a day).

    InputError when there is nothing to return to: no cut yet (or a return was just made), or
    the earlier dose was part of a switch to another drug (taken together with it: a new plan
    with the prescriber is the way). The steady dose after a switch is a dose to return to."""
    now = step_on(plan, day)
    cut = last_cut(plan, day)
    if now is None or cut is None:
        raise InputError(
            f"No cut has taken effect by {day.isoformat()} in the active plan, so there is no "
            "earlier dose to return to."
        )
    back = previous_step(plan, cut)
    if "crossover" in (cut.phase, back.phase if back is not None else None):
        raise InputError(
            "The most recent change was part of a switch to another drug: a return to an "
            "earlier dose there needs a new plan made with the prescriber."
        )
    if back is None:  # the plan's first step was the cut: its starting regimen came before
        return list(plan.request.regimen), now, plan.request.preferences.nightly_mg
    regimen, nightly = step_regimen(back)
    return regimen, now, nightly


def reinstated_request(
    request: PlanRequest,
    plan: Plan,
    day: dt.date,
    rules: AdaptiveRules,
    *,
    reason: str,
    by: Literal["patient", "clinician"],
    proposed: bool,
) -> PlanRequest:
    """The request of the plan that returns to the earlier dose on ``day``: that dose held for
    ``reinstate.hold_days`` days, then the taper resumed more slowly (the resume rules)."""
    regimen, now, nightly = earlier_dose(plan, day)
    resumed = resumed_request(request, plan, day, rules)
    prefs = resumed.preferences
    update: dict[str, object] = {
        "crossover": None,
        "reinstate": Reinstatement(
            from_daily_mg={d: mg for d, mg in now.daily_mg.items() if mg > 0},
            days=int(rules.reinstate.hold_days.low),
            reason=reason,
            by=by,
            proposed=proposed,
        ),
        "nightly_mg": nightly,
    }
    if prefs.strategy == "custom":  # a dated schedule cannot start again from an earlier dose
        update |= {"strategy": "percent", "custom_steps": []}
    return resumed.model_copy(
        update={"regimen": regimen, "preferences": prefs.model_copy(update=update)}
    )
