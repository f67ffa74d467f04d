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
from benzotaper.planning.metrics import jump_off, rates
from benzotaper.planning.models import Administration, Plan, PlanRequest
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


def check_guardrails(plan: Plan, catalogue: Catalogue) -> None:
    """Every guardrail of the issue, asserted on one plan."""
    rules = default_pacing_rules()
    prefs = plan.request.preferences
    steps = plan.steps
    # ends with a stop: all doses zero, and nothing after it
    assert steps[-1].phase == "stop"
    assert all(d.mg == 0 for d in steps[-1].doses)
    assert steps[-1].diazepam_equivalent_mg == 0
    assert [s.phase for s in steps].count("stop") == 1
    # dates are contiguous and every step lasts at least a day
    for a, b in itertools.pairwise(steps):
        assert b.start == a.end + dt.timedelta(days=1)
    assert steps[0].start == (prefs.start or TODAY)
    assert [s.index for s in steps] == list(range(len(steps)))
    assert all(s.days >= 1 for s in steps)
    # dose never rises: neither the total nor any single dose-time
    prev_de = plan.summary.starting_diazepam_equivalent_mg
    prev: dict[tuple[str, str], float] = {
        (catalogue.drug(a.drug).id, a.time): a.mg for a in plan.request.regimen
    }
    for s in steps:
        if s.phase in ("crossover", "stabilise"):  # the crossover module's own guardrails apply
            prev_de = s.diazepam_equivalent_mg
            prev.update({(d.drug, d.time): d.mg for d in s.doses})
            continue
        assert s.diazepam_equivalent_mg <= prev_de + TOL
        prev_de = s.diazepam_equivalent_mg
        for d in s.doses:
            assert d.mg <= prev[(d.drug, d.time)] + TOL, (s.index, d)
            prev[(d.drug, d.time)] = d.mg
    # rate: never more than the maximum per 14 days (normalised by step length)
    limit = rules.max_rate.percent.low
    if prefs.override is not None:
        limit = prefs.override.max_percent_per_14_days
    for step, rate in rates(plan):
        if step.phase in ("crossover", "stabilise"):
            continue  # DE is meant to stay constant there: the crossover module's tests check it
        assert rate <= limit + 0.01, (step.index, rate, step)  # DE is shown to 4 decimals
    # jump-off: small final dose, or a danger warning that says why not
    limit_de = rules.jump_off.limit(prefs.liquid)
    if jump_off(plan) > limit_de + TOL:
        assert any(w.code == "jump-off-too-high" and w.severity == "danger" for w in plan.warnings)
    # no abrupt stop: each drug's last dose within 25% of the starting DE, or the jump-off dose
    source = plan.summary.equivalence_source
    start_de = plan.summary.starting_diazepam_equivalent_mg
    largest = max(start_de * rules.max_rate.percent.low / 100, limit_de)
    last = {
        d: mg for s in steps if s.phase != "crossover" for d, mg in s.daily_mg.items() if mg > 0
    }
    for d, mg in last.items():
        de = mg * de_per_mg(catalogue, catalogue.drugs[d], source)
        assert de <= largest + TOL, (d, mg)
    # phases: the final slow section is the plan's last section (nothing is tapered after it),
    # and every step names the drugs whose daily dose it lowers
    phases = [s.phase for s in steps]
    if "final" in phases:
        assert set(phases[phases.index("final") :]) <= {"final", "hold", "stop"}, phases
    before = {catalogue.drug(a.drug).id: 0.0 for a in plan.request.regimen}
    for a in plan.request.regimen:
        before[catalogue.drug(a.drug).id] += a.mg
    for s in steps:
        if s.phase not in ("crossover", "stabilise"):
            lowered = {d for d, mg in s.daily_mg.items() if mg < before.get(d, 0.0) - 1e-6}
            assert set(s.cuts) == lowered, (s.index, s.cuts, lowered)
        before = dict(s.daily_mg)
    # the count of lengthened steps matches the steps that say so
    for w in plan.warnings:
        if w.code == "cut-lengthened":
            said = sum((s.note or "").count("products allow no cut") for s in steps)
            assert w.message.startswith(f"{said} step(s) "), (w.message, said)
    # no two consecutive steps with the same doses and phase (merged)
    for a, b in itertools.pairwise(steps):
        assert not (a.phase == b.phase and a.doses == b.doses)
    # make-up: pieces sum to the printed dose, from allowed products and fractions only
    check_make_up(plan, catalogue)
    assert "prescriber" in plan.disclaimer


def check_make_up(plan: Plan, catalogue: Catalogue) -> None:
    prefs = plan.request.preferences
    for s in plan.steps:
        for d in s.doses:
            assert abs(sum(p.mg for p in d.make_up) - d.mg) < 1e-6, d
            assert (d.mg == 0) == (not d.make_up)
            if not d.make_up:
                continue  # e.g. a drug already switched, not sold on this market
            drug = catalogue.drugs[d.drug]
            allowed = dispensing.formulary(
                drug, prefs.market, liquid=prefs.liquid, compounded=prefs.compounded
            )
            for p in d.make_up:
                assert p.form not in (Form.ER_TABLET, Form.ER_CAPSULE)
                if p.form.is_liquid:
                    assert prefs.liquid
                    assert any(o.mg_per_ml == p.mg_per_ml for o in allowed.liquids)
                    assert abs(p.quantity * 10 - round(p.quantity * 10)) < 1e-6
                elif p.form == Form.COMPOUNDED_CAPSULE:
                    assert prefs.compounded
                else:
                    option = next(
                        o
                        for o in allowed.solids
                        if o.strength_mg == p.strength_mg and o.form == p.form
                    )
                    parts = option.split.pieces
                    assert abs(p.quantity * parts - round(p.quantity * parts)) < 1e-6, p
