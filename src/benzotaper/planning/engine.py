"""make_plan: a request and the catalogue in, a complete, checked plan out.

With ``preferences.crossover``, the crossover module's substitution and stabilisation steps come
first and the taper starts from the regimen they end with (one drug, so no multi-drug policy).

The core never reads the clock or a file: ``today`` is an argument and the plan starts on
``preferences.start or today``; the catalogue and every rule come in one ``Knowledge`` value
(``benzotaper.knowledge``), whose file versions are stamped into the plan's summary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from benzotaper.catalogue import DIAZEPAM, Catalogue, Drug
from benzotaper.conversion import convert
from benzotaper.errors import PlanTooLargeError, RegimenError, UnknownSourceError
from benzotaper.knowledge import Knowledge
from benzotaper.planning import bounds, dispensing, stopguard
from benzotaper.planning.crossover import plan_crossover
from benzotaper.planning.custom import custom_drafts
from benzotaper.planning.holds import Draft, apply_holds, date_steps, merge_same
from benzotaper.planning.models import (
    CustomStep,
    Dose,
    Piece,
    Plan,
    PlanRequest,
    PlanWarning,
    Step,
    Summary,
)
from benzotaper.planning.notices import dedupe, warn
from benzotaper.planning.regimen import Slot, resolve
from benzotaper.planning.risk import assess_risk
from benzotaper.planning.rules import PacingRules, describe
from benzotaper.planning.strategies import build_strategy
from benzotaper.planning.taper import TaperContext, de_total, drug_total, snap_regimen, taper


def de_per_mg(catalogue: Catalogue, drug: Drug, source: str) -> float:
    """Diazepam-equivalent mg per mg of ``drug`` by ``source`` (the source's midpoint)."""
    eq = drug.equivalent(source)
    if drug.id == DIAZEPAM and eq is None:
        return 1.0
    if eq is None:
        convert(catalogue, drug.id, 1.0, source=source)  # raises the clear, specific error
        raise UnknownSourceError(f"Source {source!r} gives no equivalent for {drug.name}.")
    return 10.0 / eq.mid


class _MakeUps:
    """make_up per (drug, mg), cached: a plan repeats the same few doses many times."""

    def __init__(self, formularies: Mapping[str, Any]) -> None:
        self.formularies = formularies
        self.cache: dict[tuple[str, float], tuple[float, list[Piece]]] = {}

    def __call__(self, drug: str, mg: float) -> tuple[float, list[Piece]]:
        key = (drug, round(mg, 6))
        hit = self.cache.get(key)
        if hit is None:
            bounds.check_time()
            if mg <= 0:
                hit = (0.0, [])
            else:
                mu = dispensing.make_up(mg, self.formularies[drug])
                hit = (mu.mg, list(mu.pieces))
            self.cache[key] = hit
        return hit


def make_plan(
    request: PlanRequest,
    knowledge: Knowledge,
    *,
    today: dt.date,
    explain: bool = True,
) -> Plan:
    """The taper plan for ``request``; raises a typed error for anything that cannot be planned.

    Bounded (planning/bounds.py): the request is checked before any work, the plan after, and
    the whole call has a time budget."""
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
    catalogue, rules = knowledge.catalogue, knowledge.pacing
    prefs = request.preferences
    start = prefs.start or today
    source = prefs.source or catalogue.default_source
    catalogue.reference(source)

    doses, drugs = resolve(request.regimen, catalogue)
    factors = {d.id: de_per_mg(catalogue, d, source) for d in drugs}
    start_de = de_total(doses, factors)
    bounds.check_request(request, start_de, today)
    warnings: list[PlanWarning] = []

    risk = assess_risk(
        request.person,
        start_de,
        drugs,
        knowledge.risk,
        daily_mg={d.id: drug_total(doses, d.id) for d in drugs},
        de_per_mg=factors,
        source=source,
    )
    warnings.extend(risk.flags)
    pace = prefs.pace or risk.recommended_pace

    prefix: list[Step] = []
    taper_start = start
    extra: dict[str, Any] = {}
    if prefs.crossover:
        result = plan_crossover(
            catalogue,
            list(request.regimen),
            prefs.crossover,
            start,
            lambda d: dispensing.formulary(
                d, prefs.market, liquid=prefs.liquid, compounded=prefs.compounded
            ),
            knowledge.crossover,
            prefs.source,
            person=request.person,
        )
        prefix, taper_start = result.steps, result.next_start
        warnings.extend(result.warnings)
        extra = dict(result.parameters)
        doses, drugs = resolve(result.final_regimen, catalogue)
        factors.update({d.id: de_per_mg(catalogue, d, source) for d in drugs})

    formularies = {
        d.id: dispensing.formulary(
            d, prefs.market, liquid=prefs.liquid, compounded=prefs.compounded
        )
        for d in drugs
    }
    peak = {d.id: max(mg for s, mg in doses.items() if s.drug == d.id) for d in drugs}
    grids = {d.id: dispensing.achievable_doses(formularies[d.id], peak[d.id]) for d in drugs}
    liquid_possible = {
        d.id: any(p.form.is_liquid for p in d.products_in(prefs.market)) for d in drugs
    }

    jump_off = rules.jump_off.limit(prefs.liquid)
    liquid_smallest = {
        d.id: min(
            (p.mg_per_ml * 0.1 for p in d.products_in(prefs.market) if p.mg_per_ml), default=None
        )
        for d in drugs
    }
    strategy = build_strategy(prefs, pace, rules, knowledge.occupancy, jump_off)
    max_pct = rules.max_rate.percent.low
    if prefs.override is not None:
        max_pct = prefs.override.max_percent_per_14_days
        warnings.append(
            warn(
                "override",
                "danger" if max_pct > rules.max_rate.percent.low else "caution",
                f"The guideline maximum of {rules.max_rate.percent.low:g}% per "
                f"{rules.max_rate.per_days.low:g} days is replaced by {max_pct:g}% per 14 days "
                f"on request. Reason recorded: {prefs.override.reason}",
                rules.max_rate.percent.source,
            )
        )
    ctx = TaperContext(
        drugs=drugs,
        de_per_mg=factors,
        grids=grids,
        strategy=strategy,
        rules=rules,
        dose_time_rule=prefs.dose_time_rule or rules.dose_time.default,
        multi_drug=prefs.multi_drug or rules.multi_drug.default,
        jump_off_mg_de=jump_off,
        max_fraction_per_14_days=max_pct / 100,
        final_slow_section=prefs.final_slow_section,
        liquid_possible=liquid_possible,
        liquid_smallest_mg=liquid_smallest,
        liquid_allowed=prefs.liquid,
    )
    snapped = snap_regimen(doses, ctx)
    if snapped != doses:
        unmade = sorted({s.drug for s, mg in doses.items() if snapped.get(s) != mg})
        warnings.append(
            warn(
                "start-not-realisable",
                "caution",
                "Some doses taken now cannot be made exactly from the products allowed ("
                + ", ".join(catalogue.drugs[d].name for d in unmade)
                + "); the first step uses the nearest smaller dose that can. Check with your "
                "pharmacist.",
                *_product_sources(formularies[d] for d in unmade),
            )
        )
    if prefs.strategy == "custom":
        drafts = _custom(prefs.custom_steps, taper_start, doses, drugs, ctx, catalogue, warnings)
    else:
        drafts = taper(doses, ctx)
    warnings.extend(ctx.warnings)
    drafts.append(_stop_draft(drafts[-1], rules))
    for hold in prefs.holds:
        if prefix and start <= hold.start < taper_start:
            raise RegimenError(
                f"The hold on {hold.start.isoformat()} falls in the crossover or stabilisation "
                f"(until {(taper_start - dt.timedelta(days=1)).isoformat()}): holds apply to the "
                f"taper, which starts on {taper_start.isoformat()}."
            )
    drafts = merge_same(apply_holds(drafts, prefs.holds, taper_start))
    before = prefix[-1].diazepam_equivalent_mg if prefix else start_de
    before_daily = prefix[-1].daily_mg if prefix else {d.id: drug_total(doses, d.id) for d in drugs}
    steps = prefix + build_steps(
        drafts,
        taper_start,
        before,
        factors,
        _MakeUps(formularies),
        first_index=len(prefix),
        start_daily=before_daily,
    )
    bounds.check_plan(steps, start)
    abrupt = stopguard.find_abrupt_stop(
        steps, start_de, factors, rules.max_rate.percent.low, jump_off
    )
    if abrupt is not None:  # no abrupt stop (planning/stopguard.py); explain=False: inner tries
        options = None
        if explain:
            options = stopguard.ways_forward(
                request,
                catalogue,
                lambda r: make_plan(r, knowledge, today=today, explain=False),
            )
        raise stopguard.refusal(abrupt, catalogue.drugs[abrupt.drug].name, options)
    liver_sources = knowledge.crossover.liver_sources
    warnings.extend(
        _plan_warnings(
            request, drugs, ctx, rules, pace, strategy.name, liquid_possible, liver_sources
        )
    )
    per_interval, total = dispensing.dispense(steps, interval_days=prefs.dispense_days)

    parameters: dict[str, Any] = {
        **strategy.parameters(),
        "max_rate": {
            "percent_per_14_days": max_pct,
            "guideline": describe(rules.max_rate.percent, rules.max_rate.percent.low),
            "overridden": prefs.override is not None,
        },
        "jump_off_mg_de": describe(rules.jump_off.mg_de, jump_off),
        "dose_time_rule": {"used": ctx.dose_time_rule, "source": rules.dose_time.source},
        "final_slow_section": prefs.final_slow_section,
        "watch_days": describe(rules.watch.days, rules.watch.days.low),
        "pacing_rules_version": rules.version,
        **({"crossover": extra} if extra else {}),
    }
    if len(drugs) > 1:
        parameters["multi_drug"] = {"policy": ctx.multi_drug, "kind": "software policy"}
    end = steps[-1].end
    summary = Summary(
        start=start,
        end=end,
        weeks=round(((end - start).days + 1) / 7, 1),
        steps=len(steps),
        strategy=prefs.strategy,
        pace=pace,
        market=prefs.market,
        equivalence_source=source,
        starting_diazepam_equivalent_mg=round(start_de, 6),
        parameters=parameters,
        override=prefs.override,
        catalogue_version=catalogue.version,
        rule_versions=knowledge.versions(),
    )
    return Plan(
        summary=summary,
        steps=steps,
        warnings=dedupe(warnings),
        dispense=per_interval,
        dispense_total=total,
        risk=risk,
        request=request,
    )


def _product_sources(formularies: Iterable[dispensing.Formulary]) -> list[str]:
    """The sources of the products allowed (what the products can make is their claim)."""
    keys = [o.source for f in formularies for o in (*f.solids, *f.liquids) if o.source]
    return list(dict.fromkeys(keys))


def _custom(
    rows: Sequence[CustomStep],
    start: dt.date,
    doses: Mapping[Slot, float],
    drugs: Sequence[Drug],
    ctx: TaperContext,
    catalogue: Catalogue,
    warnings: list[PlanWarning],
) -> list[Draft]:
    """The user's schedule (checked), then the percent strategy if it ends above the jump-off."""
    ids = {d.id for d in drugs}
    names = {r.drug: catalogue.drug(r.drug).id for r in rows}
    drafts, end, notes = custom_drafts(
        start, doses, rows, ctx, {k: v for k, v in names.items() if v in ids}
    )
    for note in notes:
        warnings.append(warn("custom-rounded", "caution", note))
    if de_total(end, ctx.de_per_mg) > ctx.jump_off_mg_de + 1e-9:
        warnings.append(
            warn(
                "custom-continued",
                "info",
                "Your schedule ends above the small dose a taper stops from; it is continued "
                f"with {ctx.strategy.parameters().get('percent', '')}% cuts every "
                f"{ctx.strategy.every_days} days to the end.",
                ctx.rules.paces["moderate"].percent.source,
            )
        )
        drafts += taper(end, ctx)
    return drafts


def _stop_draft(last: Draft, rules: PacingRules) -> Draft:
    days = int(rules.watch.days.low)
    return Draft(
        {s: 0.0 for s in last.doses},
        days,
        "stop",
        f"Stopped. Withdrawal symptoms can take up to {days} days to appear after a cut: keep in "
        "touch with your prescriber, and do not restart without talking to them.",
    )


def build_steps(
    drafts: Sequence[Draft],
    start: dt.date,
    start_de: float,
    factors: Mapping[str, float],
    make_up: Callable[[str, float], tuple[float, list[Piece]]],
    first_index: int = 0,
    start_daily: Mapping[str, float] | None = None,
) -> list[Step]:
    """Plan steps with dates, the pieces for every dose, daily totals and the change in DE.

    ``start_daily`` (drug → mg a day before the first step) lets each step name the drugs it
    cuts.
    """
    steps: list[Step] = []
    prev = start_de
    prev_daily: Mapping[str, float] = start_daily or {}
    for i, dated in enumerate(date_steps(drafts, start)):
        draft = dated.draft
        out: list[Dose] = []
        daily: dict[str, float] = {}
        for slot in sorted(draft.doses, key=lambda s: (s.time, s.drug)):
            mg, pieces = make_up(slot.drug, draft.doses[slot])
            out.append(Dose(time=slot.time, drug=slot.drug, mg=mg, make_up=pieces))
            daily[slot.drug] = round(daily.get(slot.drug, 0.0) + mg, 4)
        de = round(sum(mg * factors[d] for d, mg in daily.items()), 6)
        change = None if prev <= 0 else round((de - prev) / prev * 100, 1)
        steps.append(
            Step(
                index=first_index + i,
                start=dated.start,
                end=dated.end,
                phase=draft.phase,
                doses=out,
                daily_mg=daily,
                diazepam_equivalent_mg=de,
                change_percent=change,
                note=draft.note,
                cuts=[d for d, mg in daily.items() if mg < prev_daily.get(d, 0.0) - 1e-9],
            )
        )
        prev, prev_daily = de, daily
    return steps


def _plan_warnings(
    request: PlanRequest,
    drugs: Sequence[Drug],
    ctx: TaperContext,
    rules: PacingRules,
    pace: str,
    strategy: str,
    liquid_possible: Mapping[str, bool],
    liver_sources: Sequence[str],
) -> list[PlanWarning]:
    out: list[PlanWarning] = []
    if ctx.lengthened:
        liquid = [d.name for d in drugs if liquid_possible[d.id]]
        hint = ""
        if liquid and not ctx.liquid_allowed:
            hint = (
                f" An oral liquid ({', '.join(liquid)}) would allow smaller, even cuts: "
                "ask your prescriber about --liquid."
            )
        out.append(
            warn(
                "cut-lengthened",
                "caution",
                f"{ctx.lengthened} step(s) could not be cut as finely as asked with the products "
                "allowed; each takes the smallest cut possible and lasts longer, so the pace stays "
                f"within what was asked.{hint}",
                rules.max_rate.percent.source,
            )
        )
    if len(drugs) > 1 and not request.preferences.crossover:
        out.append(
            warn(
                "multi-drug-policy",
                "info",
                f"Several drugs: policy '{ctx.multi_drug}' "
                + (
                    "(one drug at a time, the largest diazepam-equivalent share first). "
                    if ctx.multi_drug == "sequential"
                    else "(every drug cut by the same fraction in each step). "
                )
                + "This is a software policy, not a guideline rule. NICE CKS suggests switching "
                "to diazepam first (--crossover diazepam)"
                + (
                    "; with liver impairment diazepam can accumulate, so switch only with "
                    "specialist advice."
                    if request.person.liver_impairment
                    else "."
                ),
                rules.multi_drug.crossover_source,
                *(liver_sources if request.person.liver_impairment else ()),
            )
        )
    if strategy == "ashton-bands" and any(d.id != DIAZEPAM for d in drugs):
        out.append(
            warn(
                "bands-for-diazepam",
                "info",
                "The Ashton/NICE CKS bands are written for diazepam; here they are applied to the "
                "diazepam-equivalent dose. NICE CKS usually switches to diazepam first.",
                rules.ashton_bands.bands[0].step_mg.source,
            )
        )
    if strategy == "hyperbolic":
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
    if pace == "fast":
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
