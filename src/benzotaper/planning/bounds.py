"""How big a plan may be: its start, length, steps and holds, and the time spent making it.

Software policy, not clinical figures, derived from the sourced pacing rules so that every plan
a sourced pace can produce from a labelled maximum dose fits with room to spare:

- The highest labelled maxima in the catalogue, in diazepam equivalents (Ashton), are
  clonazepam's 20 mg = 400 mg and alprazolam's 10 mg = 200 mg. The slowest sourced pace is 5%
  every 4 weeks (2025 joint guideline: 5-10% every 2-4 weeks; ``slowest_sourced_pace``); at it,
  percent cuts need 131 cuts (3,668 days) from 400 mg to the 0.5 mg jump-off dose
  (``slowest_sourced_days``), but real plans need more: products lengthen steps to keep the
  rate, hyperbolic cuts shrink near the end, the Ashton bands take 2 mg steps, and two drugs
  under the sequential policy are tapered one after the other. ``benchmarks/plan_bounds.py``
  plans every drug at its maximum and the top pairs (each strategy, products, tail route,
  policy, micro-tapering; 18,888 plans): the longest needs 10,417 days (clonazepam 20 mg and
  alprazolam 10 mg, sequential, hyperbolic at 5% every 28 days, UK, a liquid), the most steps
  2,157 (the same pair micro-tapered daily). ``worst_sourced_requests`` names those worst cases
  and a test plans them under the bounds.
- ``MAX_PLAN_DAYS`` = 12,500 days (about 34 years): the 10,417 days, the 730 days of holds a
  request may add (``limits.MAX_HOLD_DAYS_TOTAL``) and a 90-day maintain step, with about 10%
  to spare.
- ``MAX_PLAN_STEPS`` = 2,500 steps: the 2,157 steps and two per hold (a hold splits a step),
  with about 10% to spare. The taper loop stops at it too, so the work is bounded.
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
import itertools
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from benzotaper.catalogue.models import MARKETS
from benzotaper.errors import PlanBudgetError, PlanTooLargeError
from benzotaper.limits import MAX_HOLD_DAYS_TOTAL

if TYPE_CHECKING:
    from benzotaper.catalogue import Catalogue
    from benzotaper.planning.models import PlanRequest, Step
    from benzotaper.planning.rules import PacingRules

MAX_PLAN_DAYS = 12_500
MAX_PLAN_STEPS = 2_500
MIN_PERCENT = 0.1
MIN_STEP_MG = 0.01
EARLIEST_START = dt.date(2000, 1, 1)
MAX_START_AHEAD_DAYS = 730
#: Seconds one planning request may take (with every alternative it tries); far above the
#: worst bounded request measured (about 0.4 s on a loaded 2-core machine) and the longest
#: sourced plan (2,157 steps: 0.7 s, load average 2.4 on 2 cores).
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


def too_many_steps(steps: int) -> PlanTooLargeError:
    return PlanTooLargeError(
        f"This plan has {steps} steps or more; benzotaper makes plans of at most "
        f"{MAX_PLAN_STEPS} steps (a software limit). Choose larger cuts, more days between "
        "them or fewer holds, and agree the pace with your prescriber."
    )


def check_plan(steps: Sequence[Step], start: dt.date) -> None:
    """Refuse a plan the engine made that is longer than the bounds allow."""
    if len(steps) > MAX_PLAN_STEPS:
        raise too_many_steps(len(steps))
    if steps and (steps[-1].end - start).days + 1 > MAX_PLAN_DAYS:
        raise _too_long((steps[-1].end - start).days + 1, "This plan")


def slowest_sourced_pace(rules: PacingRules) -> tuple[float, int]:
    """The slowest pace the sources give: the smallest percent and the longest interval of any
    pace's sourced range (5% every 28 days: 2025 joint guideline, 5-10% every 2-4 weeks)."""
    percent = min(p.percent.low for p in rules.paces.values())
    every = max(p.every_days.high for p in rules.paces.values())
    return percent, int(every)


def highest_maxima(catalogue: Catalogue, count: int) -> list[tuple[float, str]]:
    """The ``count`` drugs with the highest labelled maximum daily dose in mg diazepam
    equivalent (the catalogue's default source), highest first, among drugs sold somewhere."""
    from benzotaper.planning.engine import de_per_mg

    ranked = sorted(
        (d.max_daily_mg.high * de_per_mg(catalogue, d, catalogue.default_source), d.id)
        for d in catalogue
        if d.max_daily_mg is not None
        and any(d.products_in(m) for m in MARKETS)
        and any(e.source == catalogue.default_source for e in d.equivalents)
    )
    return ranked[::-1][:count]


def slowest_sourced_days(catalogue: Catalogue, rules: PacingRules) -> int:
    """Days the slowest sourced pace needs from the highest labelled maximum dose (see above)."""
    top = highest_maxima(catalogue, 1)[0][0]
    percent, every = slowest_sourced_pace(rules)
    cuts = math.ceil(math.log(rules.jump_off.mg_de.low / top) / math.log(1 - percent / 100))
    return int(cuts * every)


def worst_sourced_requests(
    catalogue: Catalogue, rules: PacingRules
) -> list[tuple[str, dict[str, object]]]:
    """(name, plan request) of the longest plans a sourced pace makes: the drug with the
    highest labelled maximum alone, and with the next highest (each at its maximum) under both
    multi-drug policies; each strategy at the slowest sourced pace, with the person's own
    tablets, a liquid, or a liquid and compounding (products change how often a cut must be
    lengthened); micro-tapering with a cut every day (the most steps). benchmarks/plan_bounds.py
    plans a much wider grid and names its worst: these are they."""
    (_, first), (_, second) = highest_maxima(catalogue, 2)
    markets = [
        m
        for m in MARKETS
        if catalogue.drugs[first].products_in(m) and catalogue.drugs[second].products_in(m)
    ]
    percent, every = slowest_sourced_pace(rules)
    slow = {"percent": percent, "every_days": every}
    strategies: list[dict[str, object]] = [  # linear's plans are far shorter
        {"strategy": "percent", **slow},
        {"strategy": "hyperbolic", **slow},
        {"strategy": "ashton-bands", "pace": "slow", "every_days": every},
    ]
    owns: list[dict[str, object]] = [{}, {"liquid": True}, {"liquid": True, "compounded": True}]

    def rows(drug: str, times: Sequence[str]) -> list[dict[str, object]]:
        mg = catalogue.drugs[drug].max_daily_mg
        assert mg is not None
        return [{"drug": drug, "mg": mg.high / len(times), "time": t} for t in times]

    times = ("08:00", "14:00", "22:00")  # more dose-times, more cuts lengthened (products)
    alone = rows(first, times)
    both = rows(first, times) + rows(second, times)
    regimens: list[tuple[str, list[dict[str, object]], dict[str, object]]] = [(first, alone, {})]
    for name in ("sequential", "proportional"):
        regimens.append((f"{first} + {second} {name}", both, {"multi_drug": name}))
    out: list[tuple[str, dict[str, object]]] = []
    for (name, regimen, policy), market, strategy, own in itertools.product(
        regimens, markets, strategies, owns
    ):
        prefs: dict[str, object] = {"market": market, **policy, **strategy, **own}
        out.append((f"{name} | {prefs}", {"regimen": regimen, "preferences": prefs}))
    for (name, regimen, policy), market in itertools.product(regimens[:2], markets):
        prefs = {"market": market, **policy, "micro": True, "liquid": True, "pace": "slow"}
        prefs["every_days"] = min(rules.micro.every_days_options)
        out.append((f"{name} | {prefs}", {"regimen": regimen, "preferences": prefs}))
    return out


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
