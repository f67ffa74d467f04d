"""The end of a taper: what to do when a drug's products cannot make the next small cut.

When the taper loop finds a drug *stuck* (no cut of at most 25% of the current dose or 1 mg
diazepam-equivalent, and no stop from at most 1 mg), the :class:`Chooser` takes a tail route for
that drug from that step on: the first of the pacing rules' ``[tail] order`` that is possible and
not switched off (or the one the person asked for), and records why, from which step, and what it
needs from the prescriber. The fallback is never a silent stop: the drug keeps its dose and the
plan ends with a "maintain and review" step.

Routes are data (``RouteChange``), never wording for one edge: ``preference`` is the change to
the request that switches the route off, which each edge words its own way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast, get_args

from benzotaper.catalogue import DIAZEPAM, Catalogue, Drug
from benzotaper.catalogue.models import Form, Product
from benzotaper.errors import InputError, RegimenError, UnknownProductError
from benzotaper.planning import dispensing
from benzotaper.planning.crossover_rules import CrossoverRules
from benzotaper.planning.holds import Draft
from benzotaper.planning.models import (
    TAIL_ROUTES,
    Administration,
    Plan,
    PlanRequest,
    PlanWarning,
    Preferences,
    RouteChange,
    Step,
    TailRoute,
    WayForward,
)
from benzotaper.planning.notices import dose_text, warn
from benzotaper.planning.realisers import Realiser, from_formulary, prefer, weekly
from benzotaper.planning.regimen import Slot
from benzotaper.planning.rules import PacingRules
from benzotaper.planning.stepping import next_below, snap_down, unmade
from benzotaper.planning.taper import (
    Resolution,
    TaperContext,
    can_cut,
    completes,
    drug_total,
)

if TYPE_CHECKING:  # imported when used: most plans take no home route and no switch
    from benzotaper.planning.home_methods import HomeRules

Route = Literal["nights", "liquid", "diazepam", "compounded", "home-liquid", "scale"]
_ROUTE_NAMES: frozenset[str] = frozenset(get_args(Route))


@dataclass
class RouteTaken:
    """A route as the loop took it; ``change`` gets its step and date once steps are dated.

    ``maker_drug`` is the drug whose realiser carries the route (diazepam, for a switch).
    """

    change: RouteChange
    maker_drug: str


def _change(
    route: TailRoute,
    drug: Drug,
    reason: str,
    prescription: str,
    sources: Sequence[str],
    chosen: Literal["auto", "asked"] = "auto",
    *,
    switchable: bool = True,
) -> RouteChange:
    """A route's data; the preference that switches it off is ``tail_off`` with the route (none
    for maintain, or for a product the person already takes that is the only one sold)."""
    return RouteChange.model_construct(
        route=route,
        drug=drug.id,
        step=0,
        start=dt.date.min,
        chosen=chosen,
        reason=reason,
        prescription=prescription,
        preference={"tail_off": [route]} if switchable and route != "maintain" else {},
        sources=list(dict.fromkeys(s for s in sources if s)),
    )


def own_products(
    drug: Drug, prefs: Preferences, peak_mg: float, routes: list[RouteTaken]
) -> Realiser:
    """The person's own products for ``drug``; a drug sold only as a liquid uses the liquid."""
    try:
        f = dispensing.formulary(
            drug, prefs.market, liquid=prefs.liquid, compounded=prefs.compounded
        )
    except UnknownProductError:
        if prefs.liquid or not any(p.form.is_liquid for p in drug.products_in(prefs.market)):
            raise
        f = dispensing.formulary(drug, prefs.market, liquid=True, compounded=prefs.compounded)
        sources = [p.source for p in drug.products_in(prefs.market) if p.form.is_liquid]
        change = _change(
            "liquid",
            drug,
            f"{drug.name} is sold in this market only as an oral liquid, so the doses are "
            "measured from it.",
            "The oral liquid already taken.",
            sources,
            switchable=False,  # the only product sold: switching it off cannot apply
        )
        routes.append(RouteTaken(change, drug.id))
        return from_formulary(f, peak_mg, "liquid")
    return from_formulary(f, peak_mg)


def weekly_return(
    doses: dict[Slot, float],
    nightly_mg: float,
    drugs: Sequence[Drug],
    makers: dict[str, Realiser],
    rules: PacingRules,
    routes: list[RouteTaken],
) -> None:
    """A start on a weekly pattern (``Preferences.nightly_mg``: a nights plan resumed or
    returned to): the one night dose (the pattern's average a day) is made as whole nights of
    ``nightly_mg`` from the first step, on the nights route, so the plan keeps that pattern,
    then lowers the average a week again. Refused unless the nights route itself could have
    made it. The average as a plan shows it (``Step.daily_mg``, rounded to 4 decimals) becomes
    the exact average of its nights in ``doses``; any other average is refused."""
    rule = rules.tail.nights
    slots = [s for s, mg in doses.items() if mg > 0]
    drug = next((d for d in drugs if slots and d.id == slots[0].drug), None)
    if (
        drug is None
        or len(slots) != 1
        or not rule.at_night(slots[0].time)
        or not {u.value for u in drug.uses} <= set(rule.uses)
    ):
        raise RegimenError(
            "A start on a weekly pattern (medication-free nights) is for one sleeping tablet "
            "taken at night: give that one dose (its average a day) and the dose on the nights "
            "it is taken."
        )
    own = makers[drug.id]
    average = doses[slots[0]]
    if abs(snap_down(nightly_mg, own.grid) - nightly_mg) > 1e-9 or average > nightly_mg + 1e-9:
        raise RegimenError(
            f"A weekly pattern of {drug.name} {nightly_mg:g} mg on the nights with a dose cannot "
            f"average {average:g} mg a day with the products allowed."
        )
    maker = makers[drug.id] = weekly(own, nightly_mg)
    exact = snap_down(average + _SHOWN, maker.grid)
    if abs(exact - average) > _SHOWN:  # never a plan that quietly starts from another pattern
        raise RegimenError(
            f"{drug.name} {average:g} mg a day on average is not a weekly pattern of "
            f"{nightly_mg:g} mg nights (the nearest below is {exact:.4g} mg a day): give the "
            "average of the nights as they were taken."
        )
    doses[slots[0]] = exact
    change = _change(
        "nights",
        drug,
        f"The weekly pattern taken before this plan: {nightly_mg:g} mg on the nights with a "
        "dose and none or a smaller dose on the others, then the average over each week goes "
        "down step by step (medication-free nights, as in the deprescribing.org "
        "algorithm for sleeping tablets). Mixing two amounts in one week is software policy.",
        "No new prescription: the same tablets, on the same nights each week as before. Agree "
        "the pattern with your prescriber; you may swap which nights within a week.",
        [rule.source, rule.trials_source],
        "asked",
    )
    routes.append(RouteTaken(change, drug.id))


#: How far a weekly average shown in a plan (daily_mg: to 4 decimals; plans saved before
#: 2026-12-01 added each dose's share rounded, e.g. 8.5715 for 60/7) can be from the exact
#: average of its nights.
_SHOWN = 2e-4


class _Option(NamedTuple):
    """A route that can take a stuck drug further: its data and how the loop goes on."""

    change: RouteChange
    resolution: Resolution
    maker_drug: str


class Chooser:
    """The stuck handler the engine gives the taper loop: picks and records a tail route.
    ``home``: the home-method rules when the person opted in to one (None: no home route)."""

    def __init__(
        self,
        catalogue: Catalogue,
        request: PlanRequest,
        routes: list[RouteTaken],
        rules: PacingRules,
        crossover_rules: CrossoverRules,
        source: str,
        home: HomeRules | None = None,
    ) -> None:
        self.home = home
        self.catalogue = catalogue
        self.prefs = request.preferences
        self.person = request.person
        self.routes = routes
        self.rules = rules
        self.crossover_rules = crossover_rules
        self.source = source
        self.tried: set[tuple[str, str]] = set()

    def candidates(self) -> list[tuple[Route, Literal["auto", "asked"]]]:
        """Routes to try, in order: the one asked for first, the home methods opted in to
        (planning/home_methods.py), then the rules' order."""
        off = set(self.prefs.tail_off)
        order: list[tuple[Route, Literal["auto", "asked"]]] = []
        asked = self.prefs.tail
        if asked in ("nights", "liquid", "diazepam", "compounded"):
            order.append((asked, "asked"))
        if self.home is not None:
            order += [(r, "asked") for r in self.prefs.home_routes() if r not in off]
        if asked != "maintain":
            order += [(r, "auto") for r in self.rules.tail.order if r not in off and r != asked]
        return order

    def __call__(
        self, drug: Drug, state: Mapping[Slot, float], ctx: TaperContext, *, from_start: bool
    ) -> Resolution:
        """The first route that takes the drug all the way to a stop (an asked-for route: the
        first that helps at all); else the first that helps; else maintain and review.
        ``from_start``: for doses taken now that no product makes, before the first cut (each
        route's reason then names them), not for a next cut the products cannot make."""
        fallback: _Option | None = None
        for route, chosen in self.candidates():
            if (drug.id, route) in self.tried:
                continue
            option = self._try(route, chosen, drug, state, ctx, from_start)
            if option is None:
                self.tried.add((drug.id, route))
                continue
            if chosen == "asked" or _completes(option, drug, state, ctx):
                return self._take(drug, option)
            fallback = fallback or option
        if fallback is not None:
            return self._take(drug, fallback)
        self.routes.append(RouteTaken(self._maintain(drug, state, ctx), drug.id))
        return Resolution(held=True)

    def measured(
        self, drug: Drug, state: Mapping[Slot, float], ctx: TaperContext
    ) -> Resolution | None:
        """Micro-tapering (the start handler): a route that measures small doses from the first
        step, the first of the rules' [micro] routes that is allowed (the one asked for first);
        None when the doses are measured already, or when no such route is allowed (the taper
        then cuts as finely as the products allow, and a warning says so)."""
        if ctx.makers[drug.id].measured:
            return None
        asked = ctx.strategy.ask(1.0, 1.0, 1.0, False).fraction
        best: tuple[float, _Option] | None = None
        for route, chosen in self._measured_candidates():
            option = self._try(route, chosen, drug, state, ctx, False)
            if option is None or not option.resolution.makers[option.maker_drug].measured:
                continue
            coarse = _coarseness(option, drug, state)
            if best is None or coarse < best[0] - 1e-9:
                best = (coarse, option)
            if chosen == "asked" or coarse <= asked + 1e-9:
                break  # the first that makes the micro cut (or the one asked for)
        if best is None:
            ctx.warnings.append(self._unmeasured_warning(drug))
            return None
        option = best[1]
        micro = (
            "Micro-tapering (a small cut every day or every few days) needs doses measured in "
            "small amounts, so this route is taken from the start. "
        )
        change = option.change.model_copy(update={"reason": micro + option.change.reason})
        return self._take(drug, option._replace(change=change))

    def _measured_candidates(self) -> list[tuple[Route, Literal["auto", "asked"]]]:
        off = set(self.prefs.tail_off)
        asked = self.prefs.tail
        routes = [cast(Route, r) for r in self.rules.micro.routes if r in _ROUTE_NAMES]
        order: list[tuple[Route, Literal["auto", "asked"]]] = []
        if self.home is not None:  # home methods opted in to measure small doses too
            order += [(r, "asked") for r in self.prefs.home_routes() if r not in off]
        for r in routes:
            if r == asked:
                order.insert(0, (r, "asked"))
            elif asked != "maintain" and r not in off:
                order.append((r, "auto"))
        return order

    def _unmeasured_warning(self, drug: Drug) -> PlanWarning:
        liquid = any(p.form.is_liquid for p in drug.products_in(self.prefs.market))
        return warn(
            "micro-not-measured",
            "caution",
            f"Micro-tapering needs {drug.name} doses measured in small amounts (an oral liquid), "
            "and no route that measures them is allowed here, so its cuts are only as small as "
            "its products allow; steps are lengthened to keep the pace.",
            self.rules.micro.source,
            preference={"liquid": True} if liquid and not self.prefs.liquid else None,
        )

    def _take(self, drug: Drug, option: _Option) -> Resolution:
        self.tried.add((drug.id, option.change.route))
        self.routes.append(RouteTaken(option.change, option.maker_drug))
        return option.resolution

    def _try(
        self,
        route: Route,
        chosen: Literal["auto", "asked"],
        drug: Drug,
        state: Mapping[Slot, float],
        ctx: TaperContext,
        from_start: bool,
    ) -> _Option | None:
        if route in ("home-liquid", "scale"):
            return self._home(drug, state, ctx, route, from_start)
        make: dict[Route, Callable[..., _Option | None]] = {
            "nights": self._nights,
            "liquid": self._liquid,
            "diazepam": self._diazepam,
            "compounded": self._compounded,
        }
        return make[route](drug, state, ctx, chosen, from_start)

    # ------------------------------------------------------------------------ the routes

    def _nights(
        self,
        drug: Drug,
        state: Mapping[Slot, float],
        ctx: TaperContext,
        chosen: Any,
        from_start: bool,
    ) -> _Option | None:
        """Fewer nights a week with the same tablets (hypnotic use, one night dose): never for
        doses no product makes (a night dose the tablets do not make is refused below), so
        its reason is always the next cut's."""
        rule = self.rules.tail.nights
        slots = [s for s, mg in state.items() if s.drug == drug.id and mg > 0]
        current = ctx.makers[drug.id]
        if (
            current.weekly
            or len(slots) != 1
            or not rule.at_night(slots[0].time)
            or not {u.value for u in drug.uses} <= set(rule.uses)
        ):
            return None
        nightly = state[slots[0]]
        if abs(snap_down(nightly, current.grid) - nightly) > 1e-9:
            return None  # a night dose the tablets do not make: no whole nights of it either
        maker = weekly(current, nightly)
        if not can_cut(state, drug, maker, ctx):
            return None
        change = _change(
            "nights",
            drug,
            f"The tablets cannot make a cut of at most {ctx.single_cut_percent:g}% from "
            f"{nightly:g} mg at night. Instead, some nights a week take a smaller dose or none: "
            "the average over each week goes down step by step, as in the deprescribing.org "
            "algorithm for sleeping tablets (medication-free nights planned in advance, once the "
            "smallest dose is reached). Mixing two amounts in one week is software policy.",
            "No new prescription: the same tablets, on fewer nights each week. Agree the "
            "pattern with your prescriber; you may swap which nights within a week.",
            [rule.source, rule.trials_source],
            chosen,
        )
        return _Option(change, Resolution(makers={drug.id: maker}), drug.id)

    def _liquid(
        self,
        drug: Drug,
        state: Mapping[Slot, float],
        ctx: TaperContext,
        chosen: Any,
        from_start: bool,
    ) -> _Option | None:
        """The same drug's licensed oral liquid in this market."""
        liquids = [p for p in drug.products_in(self.prefs.market) if p.form.is_liquid]
        if not liquids or ctx.makers[drug.id].route is not None or self.prefs.liquid:
            return None
        f = dispensing.formulary(
            drug, self.prefs.market, liquid=True, compounded=self.prefs.compounded
        )
        maker = from_formulary(f, _peak(drug, state, ctx), "liquid")
        if not can_cut(state, drug, maker, ctx):
            return None
        names = ", ".join(p.label for p in liquids)
        measured = "can be measured in 0.1 mL steps with an oral syringe."
        why = _why(
            drug,
            state,
            ctx,
            from_start,
            f"The tablets cannot make the next small cut of {drug.name}; its oral liquid "
            f"({names}) {measured}",
            f"its oral liquid ({names}) is used from the start: it {measured}",
        )
        change = _change(
            "liquid",
            drug,
            why,
            f"A prescription for {drug.name} oral liquid ({names}) and an oral syringe.",
            [self.rules.tail.liquid.source, *(p.source for p in liquids)],
            chosen,
        )
        return _Option(change, Resolution(makers={drug.id: maker}), drug.id)

    def _home(
        self,
        drug: Drug,
        state: Mapping[Slot, float],
        ctx: TaperContext,
        route: Any,
        from_start: bool,
    ) -> _Option | None:
        """A dose made at home (opt-in): a tablet made up as a liquid, or weighed."""
        if self.home is None or ctx.makers[drug.id].route == route:
            return None
        from benzotaper.planning import home_methods

        peak = _peak(drug, state, ctx)
        maker = home_methods.realiser(route, drug, self.prefs, self.home, peak)
        if not can_cut(state, drug, maker, ctx):
            return None
        change = home_methods.route_change(
            route,
            drug,
            self.home,
            self.prefs,
            _unmade_start(drug, state, ctx) if from_start else None,
        )
        return _Option(change, Resolution(makers={drug.id: maker}), drug.id)

    def _compounded(
        self,
        drug: Drug,
        state: Mapping[Slot, float],
        ctx: TaperContext,
        chosen: Any,
        from_start: bool,
    ) -> _Option | None:
        """A compounding pharmacy: a published suspension recipe, else capsules."""
        rule = self.rules.tail.compounded
        if ctx.makers[drug.id].route == "compounded" or self.prefs.compounded:
            return None
        suspension = rule.suspension(drug.id, self.prefs.market)
        peak = _peak(drug, state, ctx)
        try:
            if suspension is not None:
                f = dispensing.formulary(
                    _with_suspension(drug, suspension),
                    self.prefs.market,
                    liquid=True,
                    compounded=False,
                )
            else:
                f = dispensing.formulary(
                    drug, self.prefs.market, liquid=self.prefs.liquid, compounded=True
                )
        except UnknownProductError:
            return None
        maker = from_formulary(f, peak, "compounded")
        if not can_cut(state, drug, maker, ctx):
            return None
        if suspension is not None:
            bud = suspension.bud_days
            made = f"a compounded oral suspension ({suspension.name})"
            keep = (
                f"Shake well before each dose. Beyond-use date {bud.low:g} days (up to "
                f"{bud.high:g} days with published stability data); the pharmacy labels it."
            )
            sources = [suspension.mg_per_ml.source, bud.source]
        else:
            bud = rule.capsule_bud_days
            made = f"compounded capsules in steps of {f.compounded_step_mg:g} mg"
            keep = (
                f"Beyond-use date as labelled by the pharmacy (USP <795> default for capsules: "
                f"{bud.low:g} days)."
            )
            sources = [bud.source]
        why = _why(
            drug,
            state,
            ctx,
            from_start,
            f"The products sold cannot make the next small cut of {drug.name}; a compounding "
            f"pharmacy can make {made}. {keep}",
            f"a compounding pharmacy makes {made} from the start. {keep}",
        )
        change = _change(
            "compounded",
            drug,
            why,
            f"A prescription for {drug.name} {made}, from a compounding pharmacy. {keep}",
            sources,
            chosen,
        )
        return _Option(change, Resolution(makers={drug.id: maker}), drug.id)

    def _diazepam(
        self,
        drug: Drug,
        state: Mapping[Slot, float],
        ctx: TaperContext,
        chosen: Any,
        from_start: bool,
    ) -> _Option | None:
        """Switch the drug's remaining doses to diazepam, one dose-time at a time."""
        rule = self.rules.tail.diazepam
        if drug.id == DIAZEPAM or any(s.drug == DIAZEPAM and mg > 0 for s, mg in state.items()):
            return None
        if self.person.liver_impairment and chosen == "auto":
            return None  # diazepam can accumulate: only when asked for, with specialist advice
        regimen = [
            Administration.trusted(drug=s.drug, mg=mg, time=s.time)  # the plan's own slots
            for s, mg in state.items()
            if s.drug == drug.id and mg > 0
        ]
        diazepam = self.catalogue.drugs[DIAZEPAM]
        makers: dict[str, Realiser] = {drug.id: ctx.makers[drug.id]}

        def maker_for(d: Drug, peak: float) -> Realiser:
            if d.id == drug.id:
                return makers[drug.id]
            makers[DIAZEPAM] = _diazepam_maker(diazepam, self.prefs, peak)
            return makers[DIAZEPAM]

        from benzotaper.planning.crossover import crossover_drafts

        try:
            cx = crossover_drafts(
                self.catalogue,
                regimen,
                DIAZEPAM,
                maker_for,
                self.crossover_rules,
                self.prefs.source,
                person=self.person,
            )
        except (RegimenError, UnknownProductError):
            return None
        others = {s: mg for s, mg in state.items() if s.drug != drug.id}
        drafts = [
            d._replace(doses={**others, **d.doses}, makers={**ctx.makers, **d.makers})
            for d in cx.drafts
        ]
        tablets = sorted(
            {p.strength_mg for p in diazepam.products_in(self.prefs.market) if p.strength_mg}
        )
        how = (
            "one dose-time at a time, then tapered with diazepam tablets, and diazepam oral "
            f"liquid for the doses tablets cannot make (below {tablets[0]:g} mg, and between "
            "strengths)."
        )
        why = _why(
            drug,
            state,
            ctx,
            from_start,
            f"The {drug.name.lower()} products cannot make the next small cut. Its remaining "
            f"doses are switched to diazepam, {how}",
            f"its doses are switched to diazepam from the start, {how}",
        )
        change = _change(
            "diazepam",
            drug,
            why,
            f"Diazepam tablets ({', '.join(f'{t:g}' for t in tablets)} mg) and diazepam oral "
            "liquid, for the end of the taper.",
            [rule.source, rule.also_source or "", *self.crossover_rules.monitoring_sources],
            chosen,
        )
        state_after = {**others, **cx.final}
        resolution = Resolution(
            makers={DIAZEPAM: makers[DIAZEPAM]},
            drafts=drafts,
            state=state_after,
            replaces={drug.id: diazepam},
            factors={DIAZEPAM: 1.0},
            warnings=[w for w in cx.warnings if w.code != "crossover.evidence"],
        )
        return _Option(change, resolution, DIAZEPAM)

    def _maintain(self, drug: Drug, state: Mapping[Slot, float], ctx: TaperContext) -> RouteChange:
        mg = drug_total(state, drug.id)
        de = mg * ctx.de_per_mg[drug.id]
        return _change(
            "maintain",
            drug,
            f"The products allowed cannot take {drug.name} below {mg:g} mg a day "
            f"({de:.3g} mg diazepam-equivalent) by a cut of at most "
            f"{ctx.single_cut_percent:g}% of the dose (or "
            f"{self.rules.single_cut.small_mg_de.low:g} mg diazepam-equivalent), no tail route "
            "that is allowed can, and stopping from there would be more than the "
            f"{self.rules.jump_off.max_mg_de:g} mg diazepam-equivalent a taper stops from.",
            "Nothing new: keep the current prescription and review it together.",
            [
                self.rules.maintain.goal_source,
                self.rules.single_cut.percent.source,
                self.rules.jump_off.mg_de.source,
            ],
        )


def _why(
    drug: Drug,
    state: Mapping[Slot, float],
    ctx: TaperContext,
    from_start: bool,
    stuck: str,
    start: str,
) -> str:
    """A route's reason: ``stuck`` (the next cut the products cannot make), or, asked before
    the first cut (``from_start``), the doses no product makes, "so" ``start``."""
    return f"{_unmade_start(drug, state, ctx)}, so {start}" if from_start else stuck


def _unmade_start(drug: Drug, state: Mapping[Slot, float], ctx: TaperContext) -> str:
    """Why a route is taken from the start: the doses taken that no product allowed makes
    (the taper loop asks for it before the first cut: ``from_start``)."""
    grid = ctx.makers[drug.id].grid
    doses = [
        f"{dose_text(mg)} at {s.time}"
        for s, mg in state.items()
        if s.drug == drug.id and unmade(mg, grid)
    ]
    what = "dose" if len(doses) == 1 else "doses"
    listed = ", ".join(doses)
    return f"No product allowed makes the {drug.name.lower()} {what} taken now ({listed})"


def _peak(drug: Drug, state: Mapping[Slot, float], ctx: TaperContext) -> float:
    """The largest dose a route must make for ``drug``: its realiser's largest, or a dose taken
    that no product makes (its grid is empty when every dose is below the smallest)."""
    taken = (mg for s, mg in state.items() if s.drug == drug.id)
    return max(*ctx.makers[drug.id].grid, *taken, 0.0)


def _coarseness(option: _Option, drug: Drug, state: Mapping[Slot, float]) -> float:
    """The smallest cut a route allows from the doses it starts on, as a fraction of the dose
    (the largest over the dose-times): how finely it measures for micro-tapering."""
    res = option.resolution
    maker = res.makers[option.maker_drug]
    after = res.state if res.state is not None else state
    target = res.replaces.get(drug.id, drug).id
    worst = 0.0
    for slot, mg in after.items():
        if slot.drug == target and mg > 0:
            worst = max(worst, (mg - next_below(mg, maker.grid)) / mg)
    return worst


def _completes(option: _Option, drug: Drug, state: Mapping[Slot, float], ctx: TaperContext) -> bool:
    res = option.resolution
    maker = res.makers[option.maker_drug]
    after = res.state if res.state is not None else state
    target = res.replaces.get(drug.id, drug)
    saved = dict(ctx.de_per_mg)
    ctx.de_per_mg.update(res.factors)
    try:
        return completes(after, target, maker, ctx)
    finally:
        ctx.de_per_mg.clear()
        ctx.de_per_mg.update(saved)


def _diazepam_maker(diazepam: Drug, prefs: Preferences, peak: float) -> Realiser:
    """Diazepam tablets, with diazepam oral liquid for the doses tablets cannot make."""
    tablets = dispensing.formulary(diazepam, prefs.market, liquid=False, compounded=False)
    liquid = dispensing.formulary(diazepam, prefs.market, liquid=True, compounded=False)
    return prefer(from_formulary(tablets, peak), from_formulary(liquid, peak, "diazepam"))


_SUSPENSION_DRUGS: dict[tuple[str, str], Drug] = {}


def _with_suspension(drug: Drug, suspension: Any) -> Drug:
    """``drug`` with the compounded suspension listed as a product (cached, so its formulary is
    made once)."""
    key = (drug.id, suspension.market)
    if key not in _SUSPENSION_DRUGS:
        product = Product(
            market=suspension.market,
            form=Form.ORAL_SUSPENSION,
            mg_per_ml=suspension.mg_per_ml.low,
            name=suspension.name,
            source=suspension.mg_per_ml.source,
        )
        solids = [
            p for p in drug.products if p.market == suspension.market and not p.form.is_liquid
        ]
        _SUSPENSION_DRUGS[key] = drug.model_copy(update={"products": [*solids, product]})
    return _SUSPENSION_DRUGS[key]


# ----------------------------------------------------------------------------- the last step


def maintain_draft(
    state: Mapping[Slot, float],
    ctx: TaperContext,
    held: set[str],
    catalogue: Catalogue,
    rules: PacingRules,
) -> Draft:
    """The last step when some drug could go no lower: keep the dose and review it."""
    days = int(rules.maintain.review_days.low)
    names = ", ".join(catalogue.drugs[d].name for d in sorted(held))
    return Draft(
        dict(state),
        days,
        "maintain",
        f"Maintain at the lowest dose reached ({names}) and review with your prescriber within "
        f"{days} days. Do not stop it from this dose: that would be an abrupt stop.",
        dict(ctx.makers),
    )


def maintain_warning(held: set[str], catalogue: Catalogue, rules: PacingRules) -> PlanWarning:
    names = ", ".join(catalogue.drugs[d].name for d in sorted(held))
    return warn(
        "maintain-and-review",
        "caution",
        f"This plan does not reach zero: {names} cannot be cut in small enough steps with the "
        "products and routes allowed, so the plan ends by maintaining the lowest dose reached "
        "and reviewing it with your prescriber. The 2025 joint guideline counts reducing to the "
        "point where the risks no longer outweigh the benefits as a goal, and a lower dose kept "
        "steady is safer than stopping abruptly. The ways forward say what would let the taper "
        "reach zero.",
        rules.maintain.goal_source,
        rules.maintain.review_days.source,
    )


def route_warnings(routes: Sequence[RouteTaken]) -> list[PlanWarning]:
    """One caution per route taken (what changes and from when), for every edge to show."""
    out: list[PlanWarning] = []
    for taken in routes:
        c = taken.change
        if c.route == "maintain":
            continue
        out.append(
            warn(
                f"tail-{c.route}",
                "caution",
                f"From step {c.step} ({c.start.isoformat()}): {c.reason} Needs: {c.prescription}",
                *c.sources,
                preference=c.preference,
            )
        )
    return out


def place_routes(
    routes: Sequence[RouteTaken], drafts: Sequence[Draft], steps: Sequence[Step], offset: int
) -> None:
    """Give each route the index and date of its first step."""
    for taken in routes:
        index = _first_draft(taken, drafts)
        step = steps[min(offset + index, len(steps) - 1)]
        taken.change.step = step.index
        taken.change.start = step.start


def _first_draft(taken: RouteTaken, drafts: Sequence[Draft]) -> int:
    if taken.change.route == "maintain":
        return len(drafts) - 1
    for i, d in enumerate(drafts):
        maker = d.makers.get(taken.maker_drug)
        if maker is not None and maker.route == taken.change.route:
            return i
    return 0


def ways_forward(
    routes: Sequence[RouteTaken],
    request: PlanRequest,
    replan: Callable[[PlanRequest], Plan],
) -> list[WayForward]:
    """For a plan that ends in maintain: each switched-off route that, switched back on, gives a
    plan reaching zero (checked by planning again)."""
    if not any(t.change.route == "maintain" for t in routes):
        return []
    prefs = request.preferences
    out: list[WayForward] = []
    candidates = [r for r in TAIL_ROUTES if r in prefs.tail_off]
    if prefs.tail == "maintain":
        candidates = [r for r in TAIL_ROUTES if r != "maintain" and r not in prefs.tail_off]
    for route in candidates:
        update: dict[str, Any] = {
            "tail": "auto" if prefs.tail == "maintain" else prefs.tail,
            "tail_off": [r for r in prefs.tail_off if r != route],
        }
        try:
            plan = replan(
                request.model_copy(update={"preferences": prefs.model_copy(update=update)})
            )
        except InputError:
            continue
        taken = [r for r in plan.routes if r.route == route]
        if plan.ends_with == "stop" and taken:
            out.append(
                WayForward(
                    kind=route,
                    preference=update,
                    reason=taken[0].reason,
                    sources=taken[0].sources,
                )
            )
    return out
