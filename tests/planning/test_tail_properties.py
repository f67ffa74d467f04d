"""The end of a taper, with hypothesis: where people fail and other tools are weakest.

On random regimens (every drug sold in a market, one to four dose-times, one or two drugs),
strategies, paces, rates, products, tail routes and policies:

- the plan ends with a stop after a step with a dose that can really be taken (pieces of real
  products), or with a labelled maintain-and-review step (``check_guardrails``);
- each drug's cut keeps to the pace asked, per day, to the very end: percent (the final
  section's smaller percent), linear (the step from the start; halved in the final section),
  hyperbolic (equal occupancy decrements, so the mg cuts shrink), Ashton's bands; a cut the
  products cannot make smaller is lengthened instead (``check_pace_kept``);
- holds extend a plan by their days and change no dose; the plan stays within the bounds, or a
  clear error names the limit.

``BENZOTAPER_EXAMPLES_SCALE=20 HYPOTHESIS_PROFILE=explore`` runs twenty times the examples on
new random draws (CI runs the default, repeatable draws).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from planhelpers import TODAY, check_guardrails, plan_for, rules_limit
from test_invariants import CAT, regimens

from benzotaper.errors import InputError, PlanTooLargeError
from benzotaper.knowledge import default_knowledge
from benzotaper.planning import bounds
from benzotaper.planning.engine import de_per_mg
from benzotaper.planning.models import Plan, Step
from benzotaper.planning.rules import default_pacing_rules
from benzotaper.planning.strategies import AshtonBands

SCALE = int(os.environ.get("BENZOTAPER_EXAMPLES_SCALE", "1"))
SWITCH = ("crossover", "stabilise")
RULES = default_pacing_rules()
OCCUPANCY = default_knowledge().occupancy
#: the largest dose (mg DE) a drug is ever stopped from: its stop keeps no pace
STOP_FROM = RULES.jump_off.max_mg_de
TOL = 1e-5


@functools.cache
def factor(drug: str, source: str) -> float:
    """mg diazepam-equivalent per mg of ``drug`` by ``source`` (as the plan's summary names)."""
    return de_per_mg(CAT, CAT.drug(drug), source, fallback=True)


def _examples(n: int) -> settings:
    return settings(
        max_examples=n * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


def daily(step: Step) -> dict[str, float]:
    """Exact mg a day per drug (a weekly pattern: its average)."""
    out: dict[str, float] = {}
    for d in step.doses:
        share = 1.0 if d.on_days is None else len(d.on_days) / 7
        out[d.drug] = out.get(d.drug, 0.0) + d.mg * share
    return out


def _asked(plan: Plan, drug: str, mg: float, start_de: float, final: bool) -> float | None:
    """The fraction of ``mg`` a day the strategy asks to cut per ``every_days`` (capped by the
    maximum rate); None where this check does not know the start it is judged from."""
    params = plan.summary.parameters
    strategy = plan.summary.strategy
    f = factor(drug, plan.summary.equivalence_source)
    every = params["every_days"]
    cap = rules_limit(plan) / 100 * min(every, 14) / 14
    final_pct = RULES.final_section.max_percent.low
    if strategy == "percent":
        pct = params["percent"]
        asked = (min(pct, final_pct) if final else pct) / 100
    elif strategy == "linear":
        step = params.get("step_mg") or start_de / f * params["step_percent_of_starting_dose"] / 100
        asked = min(1.0, (step / 2 if final else step) / mg)
    elif strategy == "hyperbolic":
        pct = params["steps_matched_to_percent"] / 100
        if start_de <= params["jump_off_mg_de"]["used"]:
            asked = pct  # nothing to share out before the jump-off dose
        else:
            de = mg * f
            target = OCCUPANCY.dose_for(max(OCCUPANCY.occupancy(de) - decrement(plan, start_de), 0))
            asked = min((de - target) / de, pct)
    elif strategy == "ashton-bands":
        pace = plan.summary.pace
        assert pace is not None
        asked = AshtonBands(RULES, pace, every).ask(mg, 0.0, f, final).fraction
    else:
        return None
    return float(min(asked, cap))


def decrement(plan: Plan, start_de: float) -> float:
    """The hyperbolic strategy's occupancy points per step from ``start_de``, from its
    definition: the occupancy between the start and the jump-off dose shared equally by as many
    steps as the percent strategy at that pace needs between them, at most the pace's points
    (the summary shows it rounded to 3 decimals: the two must agree)."""
    params = plan.summary.parameters
    end = min(params["jump_off_mg_de"]["used"], start_de)
    pct = params["steps_matched_to_percent"] / 100
    steps = max(1, math.ceil(math.log(end / start_de) / math.log(1 - pct)))
    drop = (OCCUPANCY.occupancy(start_de) - OCCUPANCY.occupancy(end)) / steps
    points = min(drop, params["occupancy_points_cap"]["used"])
    shown = params["occupancy_decrement_points"][str(round(start_de, 6))]
    assert abs(shown - points) <= 0.0005 + 1e-9, (shown, points)
    return float(points)


def _taper_start_de(plan: Plan) -> float:
    """The DE a single drug's taper is judged from: the start (a drug switched by a tail route
    keeps the start of the drug it replaces), or after a crossover asked for, the DE it
    stabilised on."""
    steps = plan.steps
    if plan.request.preferences.crossover is not None and steps[0].phase in SWITCH:
        switch = list(itertools.takewhile(lambda s: s.phase in SWITCH, steps))
        return switch[-1].diazepam_equivalent_mg
    return plan.summary.starting_diazepam_equivalent_mg


def check_pace_kept(plan: Plan) -> None:
    """Every drug's cut, in every taper or final step, is at most the fraction its strategy
    asks per ``every_days`` at the dose before it, per day (a cut the products cannot make
    smaller lasts longer instead), up to the last step before the stop. A drug stopped from a
    dose small enough to stop from keeps no pace (the jump-off)."""
    params = plan.summary.parameters
    if "micro" in params or plan.summary.strategy == "custom":
        return  # micro: its own window (test_micro); custom: the person's schedule
    every = params["every_days"]
    one_drug = len({a.drug for a in plan.request.regimen}) == 1
    start_de = _taper_start_de(plan)
    prev: dict[str, float] = {}
    for a in plan.request.regimen:
        drug = CAT.drug(a.drug).id
        prev[drug] = prev.get(drug, 0.0) + a.mg
    steps = plan.steps
    for i, step in enumerate(steps):
        now = daily(step)
        if step.phase in ("taper", "final"):
            days = step.days
            for later in steps[i + 1 :]:  # a hold, or the rest of a step a hold split
                if later.daily_mg != step.daily_mg:
                    break
                days += later.days
            for drug, mg in prev.items():
                cur = now.get(drug, 0.0)
                f = factor(drug, plan.summary.equivalence_source)
                if cur >= mg - 1e-9 or (cur <= 1e-9 and mg * f <= STOP_FROM + TOL):
                    continue
                if not one_drug and plan.summary.strategy in ("linear", "hyperbolic"):
                    continue  # each drug's start, after switches merged, is the loop's own
                asked = _asked(plan, drug, mg, start_de, step.phase == "final")
                if asked is None:
                    continue
                realised = (mg - cur) / mg
                assert realised * every / days <= asked + TOL, (
                    step.index,
                    drug,
                    mg,
                    cur,
                    days,
                    realised,
                    asked,
                )
        prev = now


def check_last_dose_can_be_taken(plan: Plan) -> None:
    """The step before the stop has a dose, each made of pieces of real products."""
    if plan.ends_with != "stop":
        return
    assert len(plan.steps) >= 2, plan.steps
    last = plan.steps[-2]
    assert last.diazepam_equivalent_mg > 0, last
    assert all(d.make_up for d in last.doses if d.mg > 0), last


def _planned(
    market: str, takes: list[tuple[str, float, str]], prefs: dict[str, Any]
) -> Plan | None:
    """The plan; None for a rate asked that would make it longer than the bounds (refused,
    naming the limit). A pace's own rate always gets a plan."""
    try:
        plan: Plan = plan_for(CAT, *takes, market=market, **prefs)
    except PlanTooLargeError as e:
        assert "percent" in prefs and "at most 12500 days" in str(e), (prefs, e)
        return None
    return plan


PACES = st.one_of(
    st.fixed_dictionaries({"pace": st.sampled_from(["slow", "moderate", "fast"])}),
    st.fixed_dictionaries(
        {"percent": st.sampled_from([2.5, 5, 7.5, 10, 15, 25]), "every_days": st.integers(7, 42)}
    ),
)


@_examples(60)
@given(
    regimens(),
    st.sampled_from(["percent", "linear", "hyperbolic", "ashton-bands"]),
    PACES,
    st.sampled_from([{}, {"liquid": True}, {"compounded": True}, {"tail_off": ["nights"]}]),
    st.booleans(),
)
def test_every_cut_keeps_the_pace_asked_to_the_end(
    reg: tuple[str, list[tuple[str, float, str]]],
    strategy: str,
    pace: dict[str, Any],
    products: dict[str, Any],
    final_slow_section: bool,
) -> None:
    market, takes = reg
    prefs = {"strategy": strategy, "final_slow_section": final_slow_section, **pace, **products}
    plan = _planned(market, takes, prefs)
    if plan is None:
        return
    check_guardrails(plan, CAT)
    check_last_dose_can_be_taken(plan)
    check_pace_kept(plan)


@st.composite
def two_drugs(draw: st.DrawFn) -> tuple[str, list[tuple[str, float, str]]]:
    """Two different drugs, each a regimen ``regimens`` could draw, in one market."""
    market, first = draw(regimens())
    for _ in range(20):
        other_market, second = draw(regimens())
        if other_market == market and second[0][0] != first[0][0]:
            return market, first + second[:2]
    return market, first


@_examples(40)
@given(
    two_drugs(),
    st.sampled_from(["percent", "linear", "hyperbolic", "ashton-bands"]),
    st.sampled_from(["sequential", "proportional"]),
    PACES,
    st.sampled_from([{}, {"liquid": True}, {"tail": "diazepam"}, {"tail_off": ["nights"]}]),
)
def test_several_drugs_keep_the_pace_asked_to_the_end(
    reg: tuple[str, list[tuple[str, float, str]]],
    strategy: str,
    policy: str,
    pace: dict[str, Any],
    route: dict[str, Any],
) -> None:
    market, takes = reg
    plan = _planned(market, takes, {"strategy": strategy, "multi_drug": policy, **pace, **route})
    if plan is None:
        return
    check_guardrails(plan, CAT)
    check_last_dose_can_be_taken(plan)
    check_pace_kept(plan)


@_examples(30)
@given(
    regimens(),
    st.sampled_from(["percent", "linear", "hyperbolic", "ashton-bands"]),
    st.floats(0.3, 0.95),
    st.integers(1, 90),
    st.booleans(),
)
def test_a_return_to_an_earlier_dose_then_tapers_to_a_stop_at_the_pace(
    reg: tuple[str, list[tuple[str, float, str]]],
    strategy: str,
    share: float,
    days: int,
    hold_first: bool,
) -> None:
    """A reinstatement (the regimen is the earlier dose; ``share`` of it was in force before)
    is the plan's one rise, labelled, and the taper after it keeps every end-of-taper rule; a
    hold on its first day is part of it."""
    market, takes = reg
    before: dict[str, float] = {}
    for drug, mg, _ in takes:
        before[drug] = before.get(drug, 0.0) + mg * share
    reinstate = {"from_daily_mg": before, "days": days, "reason": "withdrawal symptoms"}
    holds = [{"start": TODAY, "days": 5, "reason": "settle"}] if hold_first else []
    plan = plan_for(CAT, *takes, market=market, strategy=strategy, reinstate=reinstate, holds=holds)
    check_guardrails(plan, CAT)
    check_last_dose_can_be_taken(plan)
    check_pace_kept(plan)


def check_no_week_above_its_pattern(plan: Plan) -> None:
    """No seven days in a row hold more mg than one week of the steps they fall in (a weekly
    pattern split by a hold runs on through it, never restarted)."""
    taken: list[float] = []
    week: list[float] = []
    for step in plan.steps:
        per_week = sum(d.mg * (7 if d.on_days is None else len(d.on_days)) for d in step.doses)
        for day in range(step.days):
            taken.append(sum(d.mg for d in step.doses if d.taken_on(day)))
            week.append(per_week)
    for i in range(len(taken) - 6):
        assert sum(taken[i : i + 7]) <= max(week[i : i + 7]) + 1e-9, (i, taken[i : i + 7])


def _dose_levels(plan: Plan) -> list[tuple[str, dict[str, float]]]:
    """Each step's phase and doses, hold steps left out and equal neighbours merged."""
    out: list[tuple[str, dict[str, float]]] = []
    for s in plan.steps:
        if s.phase == "hold":
            continue
        level = (s.phase, daily(s))
        if not out or out[-1] != level:
            out.append(level)
    return out


@_examples(40)
@given(
    regimens(),
    st.sampled_from(["percent", "linear", "hyperbolic", "ashton-bands"]),
    st.lists(st.tuples(st.floats(0, 0.999), st.integers(1, 60)), min_size=1, max_size=4),
)
def test_holds_extend_a_plan_and_change_no_dose(
    reg: tuple[str, list[tuple[str, float, str]]],
    strategy: str,
    holds: list[tuple[float, int]],
) -> None:
    """Each hold (at a random point of the plan without holds, before its stop) keeps the dose
    of its day for its days: the plan ends that many days later (a weekly pattern's step up to
    6 more, to end its week), every dose level and its order are the same, and each hold's dose
    is the one in force on its first day."""
    market, takes = reg
    base = plan_for(CAT, *takes, market=market, strategy=strategy)
    taper_start = next(s.start for s in base.steps if s.phase not in SWITCH)
    last_dose = base.steps[-1].start - dt.timedelta(days=1)
    if last_dose < taper_start:
        return
    span = (last_dose - taper_start).days
    days_at = sorted({round(at * span) for at, _ in holds})
    asked = [
        {"start": taper_start + dt.timedelta(days=d), "days": n, "reason": "life"}
        for d, (_, n) in zip(days_at, holds, strict=False)
    ]
    plan = plan_for(CAT, *takes, market=market, strategy=strategy, holds=asked)
    check_guardrails(plan, CAT)
    added = sum(h["days"] for h in asked)
    # a weekly pattern's step goes on to the end of its week after a hold (test_holds_on_a_change)
    weekly = any(d.on_days for st in base.steps for d in st.doses)
    extra = (plan.summary.end - base.summary.end).days - added
    assert extra == 0 or (weekly and 0 < extra <= 6 * len(asked)), extra
    assert _dose_levels(plan) == _dose_levels(base)
    check_no_week_above_its_pattern(plan)
    for hold in [s for s in plan.steps if s.phase == "hold"]:
        # the dose of its first day: the step it splits, or (on the day of a cut) the new dose
        near = [daily(s) for s in plan.steps[max(hold.index - 1, 0) : hold.index + 2]]
        assert near.count(daily(hold)) >= 2, hold


@_examples(40)
@given(
    regimens(),
    st.sampled_from(["percent", "linear", "hyperbolic"]),
    st.floats(bounds.MIN_PERCENT, 50),
    st.integers(1, 120),
    st.one_of(st.none(), st.floats(bounds.MIN_STEP_MG, 20)),
)
def test_extreme_rates_give_a_bounded_plan_or_a_clear_refusal(
    reg: tuple[str, list[tuple[str, float, str]]],
    strategy: str,
    percent: float,
    every_days: int,
    step_mg: float | None,
) -> None:
    market, takes = reg
    try:
        plan = plan_for(
            CAT,
            *takes,
            market=market,
            strategy=strategy,
            percent=percent,
            every_days=every_days,
            step_mg=step_mg,
        )
    except InputError as e:  # e.g. a plan beyond the bounds: the limit named
        assert str(e)
        return
    assert len(plan.steps) <= bounds.MAX_PLAN_STEPS
    assert (plan.summary.end - plan.summary.start).days + 1 <= bounds.MAX_PLAN_DAYS
    check_guardrails(plan, CAT)
    check_last_dose_can_be_taken(plan)
    check_pace_kept(plan)
