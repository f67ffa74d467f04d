"""make_plan: a request and the knowledge (catalogue and rules) in, a complete, checked plan out.

The plan is made in named stages, each a short function:

1. ``_setup``: the regimen resolved against the catalogue, diazepam equivalents, risk and pace;
2. ``_crossover_first``: with ``preferences.crossover``, the crossover module's substitution and
   stabilisation steps, after which the taper starts from the regimen they end with;
3. ``_context``: how each drug's doses are made (realisers), the strategy and the guardrails;
4. ``_draft``: the taper loop (taper.py) with its tail routes (tail.py) and the last step, a
   stop from a small dose or "maintain and review";
5. ``_steps``: holds, dates and the pieces for every dose;
6. ``_assemble``: warnings, quantities to dispense, parameters and the summary.

The core never reads the clock or a file: ``today`` is an argument and the plan starts on
``preferences.start or today``; the catalogue and every rule come in one ``Knowledge`` value
(``benzotaper.knowledge``), whose file versions are stamped into the plan's summary. Bounded
(planning/bounds.py): the request is checked in ``_setup`` before any work, the steps in
``_steps``, and the whole call has a time budget.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benzotaper.catalogue import DIAZEPAM, Catalogue, Drug
from benzotaper.conversion import convert
from benzotaper.doses import implausible
from benzotaper.errors import PlanTooLargeError, RegimenError, UnknownSourceError
from benzotaper.knowledge import Knowledge
from benzotaper.planning import bounds, dispensing, reinstatement, tail
from benzotaper.planning.crossover_rules import CrossoverRules
from benzotaper.planning.custom import custom_drafts
from benzotaper.planning.equivalents import daily_totals, de_of, slot_totals
from benzotaper.planning.holds import Draft, apply_holds, merge_same
from benzotaper.planning.metrics import window_percents
from benzotaper.planning.models import (
    CustomStep,
    Plan,
    PlanRequest,
    PlanWarning,
    RiskAssessment,
    RouteChange,
    Step,
    Summary,
)
from benzotaper.planning.notices import dedupe, warn
from benzotaper.planning.realisers import Realiser
from benzotaper.planning.regimen import Slot, resolve
from benzotaper.planning.risk import assess_risk
from benzotaper.planning.rules import PacingRules, describe
from benzotaper.planning.stepping import EPS
from benzotaper.planning.steps import build_steps
from benzotaper.planning.strategies import Micro, StrategyRule, build_strategy
from benzotaper.planning.taper import (
    TaperContext,
    TaperResult,
    de_total,
    drug_total,
    snap_regimen,
    taper,
)


def de_per_mg(catalogue: Catalogue, drug: Drug, source: str, *, fallback: bool = False) -> float:
    """Diazepam-equivalent mg per mg of ``drug`` by ``source`` (the source's midpoint).

    With ``fallback`` (the source was not chosen by the person), a drug the source does not
    cover takes the first of the catalogue's fallback sources that does (conversion does the
    same, and says so).
    """
    eq = drug.equivalent(source)
    if drug.id == DIAZEPAM and eq is None:
        return 1.0
    if eq is None and fallback:
        eq = next((e for key in catalogue.fallback_sources if (e := drug.equivalent(key))), None)
    if eq is None:
        convert(catalogue, drug.id, 1.0, source=source)  # raises the clear, specific error
        raise UnknownSourceError(f"Source {source!r} gives no equivalent for {drug.name}.")
    return 10.0 / eq.mid


def _factors(
    setup_source: str, explicit: bool, catalogue: Catalogue, drugs: Iterable[Drug]
) -> tuple[dict[str, float], list[PlanWarning]]:
    """DE per mg for each drug, and an info warning for each drug a fallback source covers."""
    factors: dict[str, float] = {}
    notes: list[PlanWarning] = []
    for d in drugs:
        factors[d.id] = de_per_mg(catalogue, d, setup_source, fallback=not explicit)
        if d.equivalent(setup_source) is None and d.id != DIAZEPAM:
            used = next(k for k in catalogue.fallback_sources if d.equivalent(k))
            notes.append(
                warn(
                    "equivalence-fallback",
                    "info",
                    f"{setup_source} gives no equivalent for {d.name}, so {used} was used (the "
                    "first fallback source that covers it).",
                    used,
                )
            )
    return factors, notes


@dataclass
class _Setup:
    """What every stage shares: the request resolved, and what the stages add as they go."""

    request: PlanRequest
    knowledge: Knowledge
    catalogue: Catalogue
    rules: PacingRules
    crossover_rules: CrossoverRules
    start: dt.date
    source: str
    doses: dict[Slot, float]
    drugs: list[Drug]
    factors: dict[str, float]
    start_de: float
    risk: RiskAssessment
    pace: Any
    warnings: list[PlanWarning] = field(default_factory=list)
    prefix: list[Step] = field(default_factory=list)
    taper_start: dt.date = dt.date.min
    crossover: dict[str, Any] = field(default_factory=dict)
    routes: list[tail.RouteTaken] = field(default_factory=list)


def make_plan(
    request: PlanRequest,
    knowledge: Knowledge,
    *,
    today: dt.date,
    explain: bool = True,
) -> Plan:
    """The taper plan for ``request``: always a plan for a valid request (typed errors only for
    input that cannot be planned as given, e.g. an unknown drug, an impossible schedule or a
    plan beyond the bounds).

    ``explain=False`` skips the ways forward of a plan ending in maintain (they plan again).
    """
    with bounds.time_budget():
        try:
            return _make_plan(request, knowledge, today=today, explain=explain)
        except OverflowError:  # a date past the year 9999: far beyond the bounds anyway
            raise PlanTooLargeError(
                f"This plan would run past the year 9999; benzotaper makes plans of at most "
                f"{bounds.MAX_PLAN_DAYS} days (a software limit)."
            ) from None


def _make_plan(
    request: PlanRequest, knowledge: Knowledge, *, today: dt.date, explain: bool
) -> Plan:
    setup = _setup(request, knowledge, today)
    _crossover_first(setup)
    ctx = _context(setup)
    drafts = _draft(setup, ctx)
    steps = _steps(setup, drafts, ctx)
    plan = _assemble(setup, ctx, steps)
    if explain and plan.ends_with == "maintain":

        def replan(r: PlanRequest) -> Plan:
            return make_plan(r, knowledge, today=today, explain=False)

        plan.ways_forward = tail.ways_forward(setup.routes, request, replan)
    return plan


def _setup(request: PlanRequest, knowledge: Knowledge, today: dt.date) -> _Setup:
    """Stage 1: resolve the regimen, convert to diazepam equivalents, check the bounds, assess
    the risk (in the guideline's own units)."""
    catalogue = knowledge.catalogue
    prefs = request.preferences
    source = prefs.source or catalogue.default_source
    catalogue.reference(source)
    doses, drugs = resolve(request.regimen, catalogue)
    factors, notes = _factors(source, prefs.source is not None, catalogue, drugs)
    start_de = de_of(slot_totals(doses), factors)
    bounds.check_request(request, start_de, today)
    risk = assess_risk(
        request.person,
        start_de,
        drugs,
        knowledge.risk,
        daily_mg={d.id: drug_total(doses, d.id) for d in drugs},
        de_per_mg=factors,
        source=source,
    )
    start = prefs.start or today
    return _Setup(
        request=request,
        knowledge=knowledge,
        catalogue=catalogue,
        rules=knowledge.pacing,
        crossover_rules=knowledge.crossover,
        start=start,
        source=source,
        doses=doses,
        drugs=drugs,
        factors=factors,
        start_de=start_de,
        risk=risk,
        pace=prefs.pace or risk.recommended_pace,
        warnings=[*risk.flags, *notes],
        taper_start=start,
    )


def _crossover_first(setup: _Setup) -> None:
    """Stage 2: the substitution and stabilisation steps, when a crossover is asked for."""
    prefs = setup.request.preferences
    if not prefs.crossover:
        return
    from benzotaper.planning.crossover import plan_crossover  # here: most plans switch nothing

    result = plan_crossover(
        setup.catalogue,
        list(setup.request.regimen),
        prefs.crossover,
        setup.start,
        lambda d: dispensing.formulary(
            d, prefs.market, liquid=prefs.liquid, compounded=prefs.compounded
        ),
        setup.crossover_rules,
        prefs.source,
        person=setup.request.person,
    )
    setup.prefix, setup.taper_start = result.steps, result.next_start
    setup.warnings.extend(result.warnings)
    setup.crossover = dict(result.parameters)
    target = setup.catalogue.drug(prefs.crossover)
    if not any(a.mg > 0 for a in result.final_regimen):
        raise RegimenError(
            f"The doses taken now are too small to switch to {target.name} with the products "
            "allowed (the switch would give 0 mg); a direct taper, without a crossover, can "
            "stop them."
        )
    mg = sum(a.mg for a in result.final_regimen if a.drug == target.id)
    if implausible(target, mg):  # the switch made this dose, not the person: not "check the unit"
        raise RegimenError(
            f"A switch to {target.name} would need {mg:g} mg of it a day, far above its labelled "
            f"maximum ({target.max_daily_mg.high:g} mg/day): plan this crossover with a "
            "specialist, or taper the current medicines first."
        )
    setup.doses, setup.drugs = resolve(result.final_regimen, setup.catalogue)
    factors, notes = _factors(setup.source, prefs.source is not None, setup.catalogue, setup.drugs)
    setup.factors.update(factors)
    setup.warnings.extend(notes)


def _context(setup: _Setup) -> TaperContext:
    """Stage 3: realisers for each drug, the strategy, the rate limit (with any override)."""
    prefs = setup.request.preferences
    rules = setup.rules
    home = None
    if prefs.home_routes():  # opted in: refuse early (else the home rules are not even read)
        from benzotaper.planning import home_methods

        home = setup.knowledge.home
        home_methods.check(setup.drugs, prefs, home)
    makers = _base_makers(setup)
    liquid = any(m.route == "liquid" for m in makers.values()) or prefs.liquid
    jump_off = rules.jump_off.limit(liquid)
    strategy = build_strategy(
        prefs,
        setup.pace,
        rules,
        setup.knowledge.occupancy,
        jump_off,
        start_de=de_total(setup.doses, setup.factors),
    )
    max_pct = _max_percent(setup)
    ctx = TaperContext(
        drugs=list(setup.drugs),
        de_per_mg=dict(setup.factors),
        makers=makers,
        strategy=strategy,
        rules=rules,
        dose_time_rule=prefs.dose_time_rule or rules.dose_time.default,
        dose_time_asked=prefs.dose_time_rule is not None,
        short_acting=frozenset(d.id for d in setup.drugs if _short_acting(d, rules)),
        multi_drug=prefs.multi_drug or rules.multi_drug.default,
        jump_off_mg_de=jump_off,
        max_fraction_per_14_days=max_pct / 100,
        single_cut_percent=max_pct,
        final_slow_section=prefs.final_slow_section,
    )
    chooser = tail.Chooser(
        setup.catalogue,
        setup.request,
        setup.routes,
        rules,
        setup.crossover_rules,
        setup.source,
        home,
    )
    ctx.on_stuck = chooser
    if isinstance(strategy, Micro):
        ctx.on_start = chooser.measured
        ctx.window_fraction = min(strategy.percent_per_14_days, max_pct) / 100
    return ctx


def _short_acting(drug: Drug, rules: PacingRules) -> bool:
    """Parent and every active metabolite with half-lives at most the policy's limit."""
    limit = rules.dose_time.short_acting_max_half_life_h.low
    lives = [drug.half_life_h, *(m.half_life_h for m in drug.metabolites if m.active)]
    return drug.half_life_h is not None and all(h is None or h.high <= limit for h in lives)


def _base_makers(setup: _Setup) -> dict[str, Realiser]:
    """The person's own products for each drug (a drug sold only as a liquid uses it)."""
    prefs = setup.request.preferences
    nightly = prefs.nightly_mg
    out: dict[str, Realiser] = {}
    for d in setup.drugs:
        peak = max(mg for s, mg in setup.doses.items() if s.drug == d.id)
        out[d.id] = tail.own_products(d, prefs, max(peak, nightly or 0.0), setup.routes)
    if nightly is not None:  # a weekly pattern: on the nights route from the start
        tail.weekly_return(setup.doses, nightly, setup.drugs, out, setup.rules, setup.routes)
        if not setup.prefix:  # the plan starts from the exact average of those nights
            setup.start_de = de_of(slot_totals(setup.doses), setup.factors)
    return out


def _max_percent(setup: _Setup) -> float:
    """The largest cut per 14 days: the guideline's, or a recorded override (flagged)."""
    prefs = setup.request.preferences
    rate = setup.rules.max_rate
    if prefs.override is None:
        return rate.percent.low
    pct = prefs.override.max_percent_per_14_days
    setup.warnings.append(
        warn(
            "override",
            "danger" if pct > rate.percent.low else "caution",
            f"The guideline maximum of {rate.percent.low:g}% per {rate.per_days.low:g} days is "
            f"replaced by {pct:g}% per 14 days on request. Reason recorded: "
            f"{prefs.override.reason}",
            rate.percent.source,
        )
    )
    return pct


def _draft(setup: _Setup, ctx: TaperContext) -> list[Draft]:
    """Stage 4: the drafted steps from the first cut to the stop (or maintain and review)."""
    prefs = setup.request.preferences
    doses = _snapped(setup, ctx)
    makers = dict(ctx.makers)  # as at the start (a tail route may change them later)
    if prefs.strategy == "custom":
        result = _custom(setup, prefs.custom_steps, doses, ctx)
    else:  # the plan starts from the doses taken: a first step to those made, if they differ
        opening = None if prefs.reinstate is None else reinstatement.opening(prefs.reinstate)
        result = taper(doses, ctx, taken=setup.doses, opening=opening)
    setup.warnings.extend(ctx.warnings)
    drafts = result.drafts
    if result.held:
        drafts.append(
            tail.maintain_draft(result.state, ctx, result.held, setup.catalogue, setup.rules)
        )
        setup.warnings.append(tail.maintain_warning(result.held, setup.catalogue, setup.rules))
    else:  # no drafts: every dose taken is small and no product makes it, so it is stopped
        last = drafts[-1] if drafts else Draft(dict(doses), 0, "stop", None, makers)
        drafts.append(_stop_draft(last, setup.rules))
    if prefs.reinstate is not None and drafts[0].phase != "reinstatement":
        drafts.insert(0, reinstatement.first_draft(doses, prefs.reinstate, makers))
    return drafts


def _snapped(setup: _Setup, ctx: TaperContext) -> dict[Slot, float]:
    """The doses the taper starts from: the doses taken as the realisers make them (never
    above what is taken), and a caution naming the drugs some dose of which cannot be made.

    The first step then takes these doses (taper.py, ``taper``'s ``taken``), so the cut from
    the doses really taken counts against the pace like any other. A dose no product makes at
    all, of a drug whose such doses come to at most the jump-off dose (DE), is that small
    dose's stop (every dose taken so: the plan is the stop). A larger one, or a drug whose
    nearest smaller doses would cut more than one step may (the single-cut limit, shared by
    every drug), is kept as taken: the loop routes it from the start (a route that makes it,
    else a clear refusal).
    """
    snapped = snap_regimen(setup.doses, ctx)
    budget = ctx.cut_limit(setup.start_de)
    stopped: list[str] = []
    for drug in setup.drugs:
        slots = [s for s in setup.doses if s.drug == drug.id]
        f = ctx.de_per_mg[drug.id]
        unmade = sum(setup.doses[s] for s in slots if snapped[s] <= 0 < setup.doses[s]) * f
        gap = sum(setup.doses[s] - snapped[s] for s in slots) * f
        if unmade > ctx.jump_off_mg_de + EPS or gap > budget + EPS:
            snapped.update({s: setup.doses[s] for s in slots})  # kept: the loop routes it
            continue
        budget -= gap
        if unmade > EPS:
            stopped.append(drug.id)
    unmade_drugs = sorted({s.drug for s, mg in setup.doses.items() if snapped[s] != mg})
    if unmade_drugs:
        left = any(mg > 0 for mg in snapped.values())
        setup.warnings.append(_unmade_warning(setup, ctx, unmade_drugs, stopped, left))
    return snapped


def _unmade_warning(
    setup: _Setup,
    ctx: TaperContext,
    drugs: Sequence[str],
    stopped: Sequence[str],
    left: bool,
) -> PlanWarning:
    """``drugs``: some dose cannot be made; ``stopped``: a dose no product makes is stopped in
    the first step; ``left``: some dose is left after it (else the plan is the stop)."""
    names = setup.catalogue.drugs
    prefs = setup.request.preferences
    small = f"at most {ctx.jump_off_mg_de:g} mg diazepam-equivalent"
    listed = ", ".join(names[d].name for d in drugs)
    if not left:
        message = (
            f"No product allowed makes the doses taken now ({listed}); they are small enough "
            f"to stop from ({small}), so the plan is to stop them."
        )
    else:
        message = (
            f"Some doses taken now cannot be made exactly from the products allowed ({listed});"
            " the first step uses the nearest smaller dose that can, within the pace."
        )
        if stopped:
            message += (
                " No product allowed makes the dose of "
                + ", ".join(names[d].name for d in stopped)
                + f": small enough to stop from ({small}), it stops in the first step and the "
                "other doses go on."
            )
    liquid = not prefs.liquid and any(
        p.form.is_liquid for d in drugs for p in names[d].products_in(prefs.market)
    )
    if liquid:
        message += " An oral liquid can measure smaller doses: ask your prescriber about it."
    return warn(
        "start-not-realisable",
        "caution",
        message + " Check with your pharmacist.",
        *_product_sources(setup, drugs),
        *([setup.rules.jump_off.mg_de.source] if stopped else []),
        preference={"liquid": True} if liquid else None,
    )


def _product_sources(setup: _Setup, drugs: Iterable[str]) -> list[str]:
    """The sources of the products allowed (what the products can make is their claim)."""
    prefs = setup.request.preferences
    keys = [
        p.source
        for d in drugs
        for p in setup.catalogue.drugs[d].products_in(prefs.market)
        if p.source and (prefs.liquid or not p.form.is_liquid)
    ]
    return list(dict.fromkeys(keys))


def _custom(
    setup: _Setup, rows: Sequence[CustomStep], doses: Mapping[Slot, float], ctx: TaperContext
) -> TaperResult:
    """The user's schedule (checked), then the percent strategy if it ends above the jump-off."""
    ids = {d.id for d in setup.drugs}
    names = {r.drug: setup.catalogue.drug(r.drug).id for r in rows}
    drafts, end, notes = custom_drafts(
        setup.taper_start,
        doses,
        rows,
        ctx,
        {k: v for k, v in names.items() if v in ids},
        taken=setup.doses,
    )
    for note in notes:
        setup.warnings.append(warn("custom-rounded", "caution", note))
    if de_total(end, ctx.de_per_mg) <= ctx.jump_off_mg_de + 1e-9:
        return TaperResult(dict(end), drafts)
    setup.warnings.append(
        warn(
            "custom-continued",
            "info",
            "Your schedule ends above the small dose a taper stops from; it is continued "
            f"with {ctx.strategy.parameters().get('percent', '')}% cuts every "
            f"{ctx.strategy.every_days} days to the end.",
            ctx.rules.paces["moderate"].percent.source,
        )
    )
    more = taper(end, ctx)
    more.drafts[:0] = drafts
    return more


def _stop_draft(last: Draft, rules: PacingRules) -> Draft:
    days = int(rules.watch.days.low)
    return Draft(
        {s: 0.0 for s in last.doses},
        days,
        "stop",
        f"Stopped. Withdrawal symptoms can take up to {days} days to appear after a cut: keep in "
        "touch with your prescriber, and do not restart without talking to them.",
        last.makers,
    )


def _steps(setup: _Setup, drafts: list[Draft], ctx: TaperContext) -> list[Step]:
    """Stage 5: holds pushed into the drafts, then dated steps with the pieces to take."""
    holds = setup.request.preferences.holds
    for hold in holds:
        if setup.prefix and setup.start <= hold.start < setup.taper_start:
            raise RegimenError(
                f"The hold on {hold.start.isoformat()} falls in the crossover or stabilisation "
                f"(until {(setup.taper_start - dt.timedelta(days=1)).isoformat()}): holds apply "
                f"to the taper, which starts on {setup.taper_start.isoformat()}."
            )
    drafts = merge_same(apply_holds(drafts, holds, setup.taper_start, setup.doses))
    before = setup.prefix[-1] if setup.prefix else None
    steps = setup.prefix + build_steps(
        drafts,
        setup.taper_start,
        before.diazepam_equivalent_mg if before else setup.start_de,
        ctx.de_per_mg,
        first_index=len(setup.prefix),
        start_daily=daily_totals(before.doses) if before else slot_totals(setup.doses),
    )
    if setup.request.preferences.reinstate is not None:
        steps = reinstatement.labelled(
            steps, len(setup.prefix), setup.request.preferences.reinstate, ctx.de_per_mg
        )
    bounds.check_plan(steps, setup.start)
    tail.place_routes(setup.routes, drafts, steps, len(setup.prefix))
    if ctx.window_fraction is not None:
        for step, pct in zip(steps, window_percents(steps, setup.start_de), strict=True):
            step.percent_14_days = pct
    return steps


def _assemble(setup: _Setup, ctx: TaperContext, steps: list[Step]) -> Plan:
    """Stage 6: warnings, quantities to dispense, parameters and the summary."""
    prefs = setup.request.preferences
    setup.warnings.extend(_plan_warnings(setup, ctx))
    setup.warnings.extend(tail.route_warnings(setup.routes))
    per_interval, total = dispensing.dispense(steps, interval_days=prefs.dispense_days)
    end = steps[-1].end
    summary = Summary.trusted(  # every field from the validated request and the rules
        start=setup.start,
        end=end,
        weeks=round(((end - setup.start).days + 1) / 7, 1),
        steps=len(steps),
        strategy=prefs.strategy,
        pace=setup.pace,
        market=prefs.market,
        equivalence_source=setup.source,
        starting_diazepam_equivalent_mg=setup.start_de,
        parameters=_parameters(setup, ctx),
        override=prefs.override,
        catalogue_version=setup.catalogue.version,
        rule_versions=setup.knowledge.versions(),
    )
    routes: list[RouteChange] = [r.change for r in setup.routes]
    return Plan.trusted(  # parts made by the planner from validated data
        summary=summary,
        steps=steps,
        warnings=dedupe(setup.warnings),
        dispense=per_interval,
        dispense_total=total,
        risk=setup.risk,
        request=setup.request,
        routes=routes,
    )


def _parameters(setup: _Setup, ctx: TaperContext) -> dict[str, Any]:
    rules = setup.rules
    prefs = setup.request.preferences
    out: dict[str, Any] = {
        **ctx.strategy.parameters(),
        "max_rate": {
            "percent_per_14_days": ctx.max_fraction_per_14_days * 100,
            "guideline": describe(rules.max_rate.percent, rules.max_rate.percent.low),
            "overridden": prefs.override is not None,
        },
        "single_cut": {
            "percent_of_current_dose": ctx.single_cut_percent,
            "percent": describe(rules.single_cut.percent, rules.single_cut.percent.low),
            "or_at_most_mg_de": describe(
                rules.single_cut.small_mg_de, rules.single_cut.small_mg_de.low
            ),
        },
        "jump_off_mg_de": describe(rules.jump_off.mg_de, ctx.jump_off_mg_de),
        "stop_from_at_most_mg_de": rules.jump_off.max_mg_de,
        "dose_time_rule": {
            "used": ctx.dose_time_rule,
            "source": rules.dose_time.source,
            **(
                {
                    "short_acting_drugs": sorted(ctx.short_acting),
                    "short_acting_rule": rules.dose_time.short_acting,
                    "short_acting_sources": rules.dose_time.short_acting_sources,
                    "kind": "software policy",
                }
                if ctx.short_acting and not ctx.dose_time_asked
                else {}
            ),
        },
        "final_slow_section": prefs.final_slow_section,
        "watch_days": describe(rules.watch.days, rules.watch.days.low),
        "pacing_rules_version": rules.version,
        **({"crossover": setup.crossover} if setup.crossover else {}),
    }
    if len(setup.drugs) > 1:
        out["multi_drug"] = {"policy": ctx.multi_drug, "kind": "software policy"}
    return out


def _plan_warnings(setup: _Setup, ctx: TaperContext) -> list[PlanWarning]:
    out: list[PlanWarning] = []
    rules = setup.rules
    if ctx.lengthened:
        out.append(_lengthened_warning(setup, ctx))
    if len(setup.drugs) > 1 and not setup.request.preferences.crossover:
        out.append(_multi_drug_warning(setup, ctx))
    strategy: StrategyRule = ctx.strategy
    if strategy.name == "ashton-bands" and any(d.id != DIAZEPAM for d in setup.drugs):
        out.append(
            warn(
                "bands-for-diazepam",
                "info",
                "The Ashton/NICE CKS bands are written for diazepam; here they are applied to the "
                "diazepam-equivalent dose. NICE CKS usually switches to diazepam first.",
                rules.ashton_bands.bands[0].step_mg.source,
            )
        )
    if strategy.name == "hyperbolic":
        out.append(
            warn(
                "occupancy-assumption",
                "info",
                "Hyperbolic steps use an estimated receptor-occupancy curve whose parameters are "
                "an assumption, not published values (see summary.parameters.occupancy_model). "
                "You and your prescriber may change them.",
                "occupancy-assumption",
                "psychsnaps-horowitz",
            )
        )
    if setup.pace == "fast":
        out.append(
            warn(
                "fast-pace",
                "caution",
                "Fast pace: this is the guideline's maximum rate. Many long-term users need "
                "slower steps; slow down or hold if symptoms are hard to bear.",
                rules.max_rate.percent.source,
            )
        )
    return out


def _lengthened_warning(setup: _Setup, ctx: TaperContext) -> PlanWarning:
    prefs = setup.request.preferences
    liquid = [
        d.name for d in setup.drugs if any(p.form.is_liquid for p in d.products_in(prefs.market))
    ]
    hint = ""
    if liquid and not prefs.liquid:
        hint = (
            f" An oral liquid ({', '.join(liquid)}) would allow smaller, even cuts: ask your "
            "prescriber about it."
        )
    nights = any(m.weekly for m in ctx.makers.values())
    made = "the products allowed" + (" (or whole nights a week)" if nights else "")
    return warn(
        "cut-lengthened",
        "caution",
        f"{ctx.lengthened} step(s) could not be cut as finely as asked with {made}; each "
        "takes the smallest cut possible and lasts longer, so the pace stays within what was "
        f"asked.{hint}",
        setup.rules.max_rate.percent.source,
        preference={"liquid": True} if hint else None,
    )


def _multi_drug_warning(setup: _Setup, ctx: TaperContext) -> PlanWarning:
    liver = setup.request.person.liver_impairment
    policy = (
        "(one drug at a time, the largest diazepam-equivalent share first). "
        if ctx.multi_drug == "sequential"
        else "(every drug cut by the same fraction in each step). "
    )
    return warn(
        "multi-drug-policy",
        "info",
        f"Several drugs: policy '{ctx.multi_drug}' {policy}This is a software policy, not a "
        "guideline rule. NICE CKS suggests switching to diazepam first"
        + (
            "; with liver impairment diazepam can accumulate, so switch only with specialist "
            "advice."
            if liver
            else "."
        ),
        setup.rules.multi_drug.crossover_source,
        *(setup.crossover_rules.liver_sources if liver else ()),
        preference={"crossover": DIAZEPAM},
    )
