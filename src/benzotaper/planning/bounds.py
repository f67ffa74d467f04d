"""How big a plan may be: its start, length, steps and holds, and the time spent making it.

Software policy, not clinical figures, derived from the sourced pacing rules so that every plan
a guideline pace can produce fits with room to spare:

- The highest labelled maximum daily dose in the catalogue, in diazepam equivalents, is
  clonazepam's 20 mg = 400 mg (Ashton). From there the slowest sourced pace, 5% every 4 weeks
  (2025 joint guideline: 5-10% every 2-4 weeks), reaches the 0.5 mg jump-off dose in 131 cuts,
  3,668 days. With the 730 days of holds a request may add (``limits.MAX_HOLD_DAYS_TOTAL``),
  that is 4,398 days: a plan may last at most ``MAX_PLAN_DAYS`` = 4,400 days (just over 12
  years). ``slowest_sourced_days`` recomputes the figure and a test keeps the constant above it.
- ``MAX_PLAN_STEPS`` = 2,000 steps leaves room for daily micro-cuts (about 0.35% a day for 10%
  a month) over more than five years; the slowest sourced pace needs 132.
- A cut is at least ``MIN_PERCENT`` of the dose or ``MIN_STEP_MG`` mg (smaller ones cannot be
  measured with any product) and a plan starts no earlier than 2000 and at most
  ``MAX_START_AHEAD_DAYS`` after today.
- Making one plan (with the alternatives it explains) may take at most ``PLAN_BUDGET_S``.

``check_request`` runs before any planning work, so an impossible request costs microseconds;
``check_plan`` checks what the engine made. Both raise :class:`PlanTooLargeError` naming the
limit (HTTP 422, CLI exit status 2): nothing is stored.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from benzotaper.errors import PlanBudgetError, PlanTooLargeError
from benzotaper.limits import MAX_HOLD_DAYS_TOTAL

if TYPE_CHECKING:
    from benzotaper.catalogue import Catalogue
    from benzotaper.planning.models import PlanRequest, Step
    from benzotaper.planning.rules import PacingRules

MAX_PLAN_DAYS = 4_400
MAX_PLAN_STEPS = 2_000
MIN_PERCENT = 0.1
MIN_STEP_MG = 0.01
EARLIEST_START = dt.date(2000, 1, 1)
MAX_START_AHEAD_DAYS = 730
#: Seconds one planning request may take (with every alternative it tries); far above the
#: worst bounded request measured (about 0.4 s on a loaded 2-core machine).
PLAN_BUDGET_S = 10.0
#: Below this dose (mg diazepam equivalent) the estimate stops counting cuts: the largest
#: jump-off dose, so the estimate stays below the real length.
_ESTIMATE_FLOOR_MG = 1.0


def _too_long(days: float, why: str) -> PlanTooLargeError:
    return PlanTooLargeError(
        f"{why} would take about {days / 365.25:.0f} years; benzotaper makes plans of at most "
        f"{MAX_PLAN_DAYS} days (about {MAX_PLAN_DAYS // 365} years, a software limit). Choose "
        "larger cuts or fewer days between them, and agree the pace with your prescriber."
    )


def check_start(start: dt.date, today: dt.date) -> None:
    """A plan (or a simulation) starts between 2000 and two years from today."""
    latest = today + dt.timedelta(days=MAX_START_AHEAD_DAYS)
    if not EARLIEST_START <= start <= latest:
        raise PlanTooLargeError(
            f"The start date {start.isoformat()} is out of range: a plan starts between "
            f"{EARLIEST_START.isoformat()} and {latest.isoformat()} "
            f"({MAX_START_AHEAD_DAYS} days from today)."
        )


def check_request(request: PlanRequest, start_de_mg: float, today: dt.date) -> None:
    """Refuse, before planning, a request whose plan could not fit the bounds."""
    prefs = request.preferences
    start = prefs.start or today
    check_start(start, today)
    hold_days = sum(h.days for h in prefs.holds)
    if hold_days > MAX_HOLD_DAYS_TOTAL:
        raise PlanTooLargeError(
            f"The holds add up to {hold_days} days; at most {MAX_HOLD_DAYS_TOTAL} days of holds "
            "fit in one plan (a software limit)."
        )
    for hold in prefs.holds:
        if hold.start > start + dt.timedelta(days=MAX_PLAN_DAYS):
            raise _too_long((hold.start - start).days, f"A hold on {hold.start.isoformat()}")
    for row in prefs.custom_steps:
        if row.start > start + dt.timedelta(days=MAX_PLAN_DAYS):
            raise _too_long((row.start - start).days, f"The schedule step {row.start.isoformat()}")
    days = _estimated_days(request, start_de_mg)
    if days > MAX_PLAN_DAYS:
        raise _too_long(days, "This plan")


def _estimated_days(request: PlanRequest, start_de_mg: float) -> float:
    """About the plan's length, never more: cuts needed times days between them (the engine may
    lengthen a step when products cannot make the cut, but keeps the rate asked for)."""
    prefs = request.preferences
    every = prefs.every_days or 1
    floor = min(_ESTIMATE_FLOOR_MG, start_de_mg)
    if prefs.strategy in ("percent", "hyperbolic") and prefs.percent is not None:
        cuts = math.log(floor / start_de_mg) / math.log(1 - prefs.percent / 100)
        return cuts * every
    if prefs.strategy == "linear" and prefs.step_mg is not None:
        daily = {a.drug: 0.0 for a in request.regimen}
        for a in request.regimen:
            daily[a.drug] += a.mg
        return max(daily.values()) / prefs.step_mg * every
    return 0.0


def check_plan(steps: Sequence[Step], start: dt.date) -> None:
    """Refuse a plan the engine made that is longer than the bounds allow."""
    if len(steps) > MAX_PLAN_STEPS:
        raise PlanTooLargeError(
            f"This plan has {len(steps)} steps; benzotaper makes plans of at most "
            f"{MAX_PLAN_STEPS} steps (a software limit). Choose larger cuts or fewer holds."
        )
    if steps and (steps[-1].end - start).days + 1 > MAX_PLAN_DAYS:
        raise _too_long((steps[-1].end - start).days + 1, "This plan")


def slowest_sourced_days(catalogue: Catalogue, rules: PacingRules) -> int:
    """Days the slowest sourced pace needs from the highest labelled maximum dose (see above)."""
    from benzotaper.planning.engine import de_per_mg

    top = max(
        d.max_daily_mg.high * de_per_mg(catalogue, d, catalogue.default_source)
        for d in catalogue
        if d.max_daily_mg is not None
        and any(e.source == catalogue.default_source for e in d.equivalents)
    )
    percent = min(p.percent.low for p in rules.paces.values())
    every = max(p.every_days.high for p in rules.paces.values())
    cuts = math.ceil(math.log(rules.jump_off.mg_de.low / top) / math.log(1 - percent / 100))
    return int(cuts * every)


# ----------------------------------------------------------------------------- time budget

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "benzotaper_plan_deadline", default=None
)


@contextmanager
def time_budget(seconds: float = PLAN_BUDGET_S) -> Iterator[None]:
    """Give the planning inside this block ``seconds`` in all (an outer budget is kept)."""
    if _deadline.get() is not None:
        yield
        return
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def check_time() -> None:
    """Raise PlanBudgetError once the current budget is spent (cheap: call it in loops)."""
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise PlanBudgetError(
            "Making this plan took too long and was stopped. Please try again in a moment; "
            "if it happens again, simplify the request (fewer holds or schedule rows)."
        )
