"""Shared helpers for planner tests: build requests briefly, and check every guardrail."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from benzotaper.catalogue import Catalogue
from benzotaper.catalogue.models import Form
from benzotaper.knowledge import knowledge_for
from benzotaper.planning import dispensing
from benzotaper.planning.engine import de_per_mg, make_plan
from benzotaper.planning.metrics import rates
from benzotaper.planning.models import Administration, Piece, Plan, PlanRequest, Step
from benzotaper.planning.rules import default_pacing_rules

TODAY = dt.date(2027, 1, 4)
TOL = 1e-6


def request(*takes: tuple[str, float, str], **prefs: Any) -> PlanRequest:
    person = prefs.pop("person", {})
    return PlanRequest.model_validate(
        {
            "regimen": [Administration(drug=d, mg=mg, time=t) for d, mg, t in takes],
            "person": person,
            "preferences": {"start": TODAY, **prefs},
        }
    )


def plan_for(catalogue: Catalogue, *takes: tuple[str, float, str], **prefs: Any) -> Plan:
    return make_plan(request(*takes, **prefs), knowledge_for(catalogue), today=TODAY)


SWITCHING = ("crossover", "stabilise")


def check_guardrails(plan: Plan, catalogue: Catalogue) -> None:
    """Every guardrail and hard invariant of the issues, asserted on one plan."""
    rules = default_pacing_rules()
    prefs = plan.request.preferences
    steps = plan.steps
    check_ending(plan)
    # dates are contiguous and every step lasts at least a day
    for a, b in itertools.pairwise(steps):
        assert b.start == a.end + dt.timedelta(days=1)
    assert steps[0].start == (prefs.start or TODAY)
    assert [s.index for s in steps] == list(range(len(steps)))
    assert all(s.days >= 1 for s in steps)
    check_no_rise(plan, catalogue)
    check_reinstatement(plan)
    check_cuts(plan)
    # the final slow section is the plan's last section (nothing is tapered after it)
    phases = [s.phase for s in steps]
    if "final" in phases:
        after = {"final", "hold", "stop", "maintain", "crossover", "stabilise"}  # a tail switch
        assert set(phases[phases.index("final") :]) <= after, phases
    check_cuts_named(plan, catalogue)
    # the count of lengthened steps matches the steps that say so
    for w in plan.warnings:
        if w.code == "cut-lengthened":
            said = sum((s.note or "").count("allow no cut of") for s in steps)
            assert w.message.startswith(f"{said} step(s) "), (w.message, said)
    # no two consecutive steps with the same doses and phase (merged)
    for a, b in itertools.pairwise(steps):
        assert not (a.phase == b.phase and a.doses == b.doses)
    # risk flags are never lost, whatever route the plan took
    codes = {(w.code, w.message) for w in plan.warnings}
    assert all((f.code, f.message) in codes for f in plan.risk.flags)
    check_make_up(plan, catalogue)
    assert rules.jump_off.max_mg_de == 1
    assert "prescriber" in plan.disclaimer


def check_ending(plan: Plan) -> None:
    """A stop from at most 1 mg DE per drug, or a labelled maintain-and-review step; no step
    at zero before it."""
    steps = plan.steps
    ends = [s.phase for s in steps if s.phase in ("stop", "maintain")]
    assert ends == [steps[-1].phase], [s.phase for s in steps]
    # no meaningless step at zero before the end (e.g. a "taper" step after the last dose)
    zero = [(s.index, s.phase) for s in steps[:-1] if s.diazepam_equivalent_mg <= 0]
    assert not zero, zero
    if steps[-1].phase == "stop":
        assert all(d.mg == 0 for d in steps[-1].doses)
        assert steps[-1].diazepam_equivalent_mg == 0
    else:
        assert any(w.code == "maintain-and-review" for w in plan.warnings)
        assert any(r.route == "maintain" for r in plan.routes)
        assert steps[-1].diazepam_equivalent_mg > 0
        assert "review" in (steps[-1].note or "")
    # every drug stopped (outside a switch) is stopped from at most 1 mg diazepam-equivalent
    source = plan.summary.equivalence_source
    for a, b in itertools.pairwise([None, *steps]):
        if b is None or b.phase in SWITCHING:
            continue
        before = a.daily_mg if a is not None else _start_daily(plan)
        for drug, mg in before.items():
            if mg > 0 and b.daily_mg.get(drug, 0.0) <= 0:
                de = mg * _factor(plan, drug, source)
                assert de <= 1 + TOL, (b.index, drug, mg, de)


def check_reinstatement(plan: Plan) -> None:
    """The one rise a plan may show, labelled: only when asked for (``reinstate``), on the first
    step after any switch, above the dose in force before it; the plan's own steps still never
    rise (check_no_rise: the plan starts at the earlier dose)."""
    labelled = [s for s in plan.steps if s.phase == "reinstatement"]
    asked = plan.request.preferences.reinstate
    if asked is None:
        assert not labelled, [s.index for s in labelled]
        return
    first = next(s for s in plan.steps if s.phase not in SWITCHING)
    assert labelled and labelled[0] is first, [s.phase for s in plan.steps]
    assert first.change_percent is not None and first.change_percent > 0, first
    # a hold inside it splits it; every part keeps the earlier dose
    assert all(s.daily_mg == first.daily_mg for s in labelled)


def check_cuts(plan: Plan) -> None:
    """No single cut above 25% of the current dose unless at most 1 mg DE; the 14-day rate."""
    prefs = plan.request.preferences
    pct = 25.0 if prefs.override is None else max(25.0, prefs.override.max_percent_per_14_days)
    prev = plan.summary.starting_diazepam_equivalent_mg
    for s in plan.steps:
        if s.phase not in (*SWITCHING, "stop"):
            cut = prev - s.diazepam_equivalent_mg
            assert cut <= max(prev * pct / 100, 1.0) + 1e-3, (s.index, prev, s)
        prev = s.diazepam_equivalent_mg
    limit = rules_limit(plan)
    for step, rate in rates(plan):
        if step.phase in SWITCHING:
            continue  # DE is meant to stay constant there: the crossover module's tests check it
        assert rate <= limit + 1e-6, (step.index, rate, step)  # exact DEs: float noise only


def rules_limit(plan: Plan) -> float:
    prefs = plan.request.preferences
    if prefs.override is not None:
        return prefs.override.max_percent_per_14_days
    return default_pacing_rules().max_rate.percent.low


def check_no_rise(plan: Plan, catalogue: Catalogue) -> None:
    """Doses never rise, neither the total nor any dose-time (weekly patterns: the average)."""
    prev_de = plan.summary.starting_diazepam_equivalent_mg
    prev: dict[tuple[str, str], float] = {}
    for a in plan.request.regimen:
        key = (catalogue.drug(a.drug).id, a.time)
        prev[key] = prev.get(key, 0.0) + a.mg
    if plan.request.preferences.nightly_mg is not None:
        # a weekly start: its one dose is the pattern's average as a plan showed it (4 decimals);
        # the plan starts from the exact average of those nights (tail.weekly_return)
        ((key, shown),) = prev.items()
        exact = prev_de / _factor(plan, key[0], plan.summary.equivalence_source)
        assert abs(exact - shown) <= 2e-4, (exact, shown)
        prev[key] = exact
    for s in plan.steps:
        now = slot_averages(s)
        if s.phase in SWITCHING:  # the crossover module's own guardrails apply
            prev_de = s.diazepam_equivalent_mg
            prev.update(now)
            continue
        assert s.diazepam_equivalent_mg <= prev_de + TOL
        prev_de = s.diazepam_equivalent_mg
        for key, mg in now.items():
            assert mg <= prev.get(key, 0.0) + TOL, (s.index, key, mg)
            prev[key] = mg


def slot_averages(step: Step) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for d in step.doses:
        share = 1.0 if d.on_days is None else len(d.on_days) / 7
        out[(d.drug, d.time)] = out.get((d.drug, d.time), 0.0) + d.mg * share
    return out


def check_cuts_named(plan: Plan, catalogue: Catalogue) -> None:
    """Every step names the drugs whose daily dose it lowers."""
    before = {catalogue.drug(a.drug).id: 0.0 for a in plan.request.regimen}
    for a in plan.request.regimen:
        before[catalogue.drug(a.drug).id] += a.mg
    for s in plan.steps:
        if s.phase not in SWITCHING:
            lowered = {d for d, mg in s.daily_mg.items() if mg < before.get(d, 0.0) - 1e-6}
            assert set(s.cuts) == lowered, (s.index, s.cuts, lowered)
        before = dict(s.daily_mg)


def _start_daily(plan: Plan) -> dict[str, float]:
    out: dict[str, float] = {}
    for a in plan.request.regimen:
        out[a.drug] = out.get(a.drug, 0.0) + a.mg
    return out


def _factor(plan: Plan, drug: str, source: str) -> float:
    from benzotaper.catalogue import default_catalogue

    cat = default_catalogue()
    return de_per_mg(cat, cat.drug(drug), source, fallback=True)


def check_make_up(plan: Plan, catalogue: Catalogue) -> None:
    """Pieces sum to each printed dose, from products the request or a recorded route allows."""
    prefs = plan.request.preferences
    rules = default_pacing_rules()
    routes = {
        ("diazepam" if r.route == "diazepam" else r.drug, r.route): r.step for r in plan.routes
    }
    for s in plan.steps:
        for d in s.doses:
            assert abs(sum(p.mg for p in d.make_up) - d.mg) < 1e-6, d
            assert (d.mg == 0) == (not d.make_up)
            if not d.make_up:
                continue  # e.g. a drug already switched, not sold on this market
            on = {
                route
                for (drug, route), first in routes.items()
                if drug == d.drug and s.index >= first
            }
            liquid = prefs.liquid or "liquid" in on or "diazepam" in on
            compounded = prefs.compounded or "compounded" in on
            drug = catalogue.drugs[d.drug]
            allowed = dispensing.formulary(drug, prefs.market, liquid=liquid, compounded=compounded)
            for p in d.make_up:
                assert p.form not in (Form.ER_TABLET, Form.ER_CAPSULE)
                if p.home is not None:
                    check_home_piece(p, on)
                    continue
                named = rules.tail.compounded.suspension(d.drug, prefs.market)
                if "compounded" in on and named and p.mg_per_ml == named.mg_per_ml.low:
                    continue  # the compounded suspension the tail rules name
                if p.form.is_liquid:
                    assert liquid
                    assert any(o.mg_per_ml == p.mg_per_ml for o in allowed.liquids)
                    assert abs(p.quantity * 10 - round(p.quantity * 10)) < 1e-6
                elif p.form == Form.COMPOUNDED_CAPSULE:
                    assert compounded
                else:
                    option = next(
                        o
                        for o in allowed.solids
                        if o.strength_mg == p.strength_mg and o.form == p.form
                    )
                    parts = option.split.pieces
                    assert abs(p.quantity * parts - round(p.quantity * parts)) < 1e-6, p


def check_home_piece(p: Piece, routes_on: set[str]) -> None:
    """A dose made at home: only on a route opted in to, one tablet used, its recipe's
    arithmetic right, the weighed portion reliable, and an accuracy band around it."""
    home = p.home
    assert home is not None
    assert ("home-liquid" if home.method == "liquid" else "scale") in routes_on
    assert p.quantity == 1 and p.strength_mg == home.tablet_mg and abs(p.mg - home.mg) < TOL
    assert 0 < home.mg < home.tablet_mg * home.tablets + TOL
    assert home.accuracy.low_percent <= home.accuracy.high_percent and home.accuracy.sources
    if home.method == "liquid":
        assert home.volume_ml and home.measure_ml and home.syringe_ml and home.graduation_ml
        assert home.measure_ml <= home.volume_ml / 2 + TOL
        per_ml = home.tablets * home.tablet_mg / home.volume_ml
        measured = home.measure_ml * per_ml
        made = measured if home.measure == "take" else home.tablets * home.tablet_mg - measured
        assert abs(made - home.mg) < TOL
        step = home.graduation_ml if (home.fills or 1) == 1 else 1.0  # several fills: whole mL
        assert abs(home.measure_ml / step - round(home.measure_ml / step)) < TOL
    else:
        assert home.weigh_mg is not None and home.readability_mg is not None
        assert home.weigh_mg >= 10 * home.readability_mg - TOL  # ten times the readability
        assert home.tablet_weight_mg is not None
        assert abs(home.tablet_mg * home.weigh_mg / home.tablet_weight_mg - home.mg) < TOL
