"""The taper loop: step after step from the starting regimen down to a small jump-off dose.

Every step keeps the hard invariants (data/rules/pacing.toml): no single reduction above 25% of
the current diazepam-equivalent (DE) dose unless it is at most 1 mg DE; never more than the
maximum rate per 14 days (a cut is divided by the days spent at the new dose); no drug is stopped
from more than the absolute jump-off limit. When a drug's doses, as the current realiser makes
them, allow no cut within those bounds, the drug is *stuck*: the engine's handler chooses a tail
route (another realiser, a switch to diazepam, or maintain and review) and the loop goes on.

Several drugs (no crossover) follow the documented policy in data/rules/pacing.toml
[multi_drug]: ``sequential`` tapers one drug at a time, the largest diazepam-equivalent share
first (ties: shorter half-life first); ``proportional`` cuts every drug by the same fraction in
each step.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from benzotaper.catalogue import Drug
from benzotaper.errors import RegimenError
from benzotaper.planning import bounds
from benzotaper.planning.holds import EMPTY, Draft
from benzotaper.planning.models import Phase, PlanWarning
from benzotaper.planning.notices import dose_text
from benzotaper.planning.realisers import WEEK, Realiser
from benzotaper.planning.regimen import Slot
from benzotaper.planning.rules import DoseTimeRule, MultiDrugPolicy, PacingRules
from benzotaper.planning.stepping import (
    EPS,
    cut,
    cut_across,
    cut_order,
    days_for_rate,
    lengthened_days,
    smallest_cut,
    snap_down,
    unmade,
)
from benzotaper.planning.strategies import StrategyRule


def rated_days(days: int, prev_de: float, new_de: float, weekly: bool, ctx: TaperContext) -> int:
    """A step's days: at least ``days``, and as long as the maximum rate needs for its cut from
    ``prev_de`` to ``new_de``; whole weeks on a weekly pattern, so each week's pattern is
    complete. One rule for the planner's steps and a custom schedule's open-ended last row."""
    if prev_de > 0 and new_de < prev_de:
        days = max(days, days_for_rate((prev_de - new_de) / prev_de, ctx.max_fraction_per_14_days))
    if weekly:
        days = math.ceil(days / WEEK) * WEEK
    return days


class Resolution(NamedTuple):
    """What the engine decided for a stuck drug.

    ``held``: keep its dose to the end (maintain and review). Otherwise the loop goes on with
    ``makers`` (new realisers), after ``drafts`` (e.g. a switch to diazepam) that end on
    ``state``, with ``replaces`` (old drug → new drug) applied to the group being tapered.
    """

    held: bool = False
    makers: Mapping[str, Realiser] = EMPTY
    drafts: Sequence[Draft] = ()
    state: Mapping[Slot, float] | None = None
    replaces: Mapping[str, Drug] = EMPTY
    factors: Mapping[str, float] = EMPTY
    warnings: Sequence[PlanWarning] = ()


class StuckHandler(Protocol):
    """(drug, doses now, context) → what to do. The context's makers are the ones in force.
    ``from_start``: asked before the first cut, for doses taken now that no product makes (a
    route from the start), not for a next cut the products cannot make (its reason says so)."""

    def __call__(
        self, drug: Drug, state: Mapping[Slot, float], ctx: TaperContext, *, from_start: bool
    ) -> Resolution: ...


#: Before the first cut (micro-tapering): a route for the drug from the start, or None.
StartHandler = Callable[[Drug, Mapping[Slot, float], "TaperContext"], Resolution | None]


class Opening(NamedTuple):
    """A first step the engine asks for at the doses the taper starts from (a return to an
    earlier dose): its phase, its fewest days, and its note for the days it really lasts."""

    phase: Phase
    days: int
    note: Callable[[int], str]


def _hold_everything(
    drug: Drug, state: Mapping[Slot, float], ctx: TaperContext, *, from_start: bool
) -> Resolution:
    return Resolution(held=True)


@dataclass
class TaperContext:
    """Everything the loop needs, resolved once by the engine (``makers`` change with routes)."""

    drugs: list[Drug]
    de_per_mg: dict[str, float]
    makers: dict[str, Realiser]
    strategy: StrategyRule
    rules: PacingRules
    dose_time_rule: DoseTimeRule
    multi_drug: MultiDrugPolicy
    jump_off_mg_de: float
    max_fraction_per_14_days: float
    single_cut_percent: float
    final_slow_section: bool
    on_stuck: StuckHandler = _hold_everything
    on_start: StartHandler | None = None
    #: micro-tapering: the cuts in any 14 days compound to at most this fraction
    window_fraction: float | None = None
    warnings: list[PlanWarning] = field(default_factory=list)
    lengthened: int = 0
    start_de: dict[str, float] = field(default_factory=dict)

    short_acting: frozenset[str] = frozenset()
    dose_time_asked: bool = False
    _cut_limit: Callable[[float], float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._cut_limit = self.rules.single_cut.limiter(self.single_cut_percent)

    def grid(self, drug: str) -> Sequence[float]:
        return self.makers[drug].grid

    def rule_for(self, drug: str) -> DoseTimeRule:
        """The dose-time order for ``drug``: the one asked for, else across every dose-time for
        a short-acting drug (policy; pacing.toml [dose_time]), else the default."""
        if not self.dose_time_asked and drug in self.short_acting:
            return self.rules.dose_time.short_acting
        return self.dose_time_rule

    def stop_limit(self) -> float:
        """The largest DE of one drug that may be stopped at once (absolute; policy)."""
        return self.rules.jump_off.max_mg_de

    def cut_limit(self, current_de: float) -> float:
        """The largest single reduction (mg DE) allowed from ``current_de``."""
        return self._cut_limit(current_de)


def de_total(doses: Mapping[Slot, float], de_per_mg: Mapping[str, float]) -> float:
    total = 0.0
    for s, mg in doses.items():
        total += mg * de_per_mg[s.drug]
    return total


def drug_total(doses: Mapping[Slot, float], drug: str) -> float:
    total = 0.0
    for s, mg in doses.items():
        if s.drug == drug:
            total += mg
    return total


def drug_totals(doses: Mapping[Slot, float]) -> dict[str, float]:
    """``drug_total`` of every drug at once (added up in the same order, so the same floats)."""
    out: dict[str, float] = {}
    for s, mg in doses.items():
        out[s.drug] = out.get(s.drug, 0.0) + mg
    return out


def snap_regimen(doses: Mapping[Slot, float], ctx: TaperContext) -> dict[Slot, float]:
    """The doses as the realisers can make them (never above what is taken); 0.0 if none can."""
    return {s: (snap_down(mg, ctx.grid(s.drug)) if mg > EPS else 0.0) for s, mg in doses.items()}


def drug_order(doses: Mapping[Slot, float], ctx: TaperContext) -> list[Drug]:
    """Sequential policy: largest diazepam-equivalent share first; ties, shorter half-life."""

    def key(d: Drug) -> tuple[float, float]:
        hl = d.half_life_h.mid if d.half_life_h else math.inf
        return (-drug_total(doses, d.id) * ctx.de_per_mg[d.id], hl)

    return sorted(ctx.drugs, key=key)


@dataclass
class TaperResult:
    """The loop's outcome: drafts so far, the doses they end on, the drugs held at their dose."""

    state: dict[Slot, float]
    drafts: list[Draft] = field(default_factory=list)
    held: set[str] = field(default_factory=set)
    start_de: float = 0.0


def taper(
    start: Mapping[Slot, float],
    ctx: TaperContext,
    *,
    taken: Mapping[Slot, float] | None = None,
    opening: Opening | None = None,
) -> TaperResult:
    """Drafted steps from ``start`` to the last dose before stopping, and the drugs held.

    ``taken``: the doses taken now, when ``start`` is what the products make of them (the
    engine's ``_snapped``). A dose ``start`` keeps as taken, which its products cannot make, is
    routed before the first cut; then, if the doses made are below those taken, the first step
    takes them (``_first_made``), so the pace is measured from the doses really taken. An
    ``opening`` is that first step (at least its days, and as long as the pace needs).

    The stop (or maintain) step itself is added by the engine. Each drug ends at or below the
    jump-off dose, or is held at its dose when the handler found no route for it.
    """
    loop = TaperResult(dict(start))
    for drug in ctx.drugs:
        ctx.start_de.setdefault(drug.id, drug_total(start, drug.id) * ctx.de_per_mg[drug.id])
    loop.start_de = de_total(start if taken is None else taken, ctx.de_per_mg)
    stopped = stopped_first(start, taken, ctx)
    if taken is not None:  # first, so that any switch's steps show doses made
        _route_unmade(loop, ctx)
    if ctx.on_start is not None:
        for drug in list(ctx.drugs):
            if drug_total(loop.state, drug.id) > EPS:
                res = ctx.on_start(drug, loop.state, ctx)
                if res is not None:
                    _apply(loop, ctx.drugs, res, ctx)
    if taken is not None:
        _first_made(loop, ctx, opening, stopped)
    groups: list[list[Drug]]
    if ctx.multi_drug == "proportional" and len(ctx.drugs) > 1:
        groups = [list(ctx.drugs)]
    else:
        groups = [[d] for d in drug_order(start, ctx)]
    for gi, group in enumerate(groups):
        _taper_group(loop, group, [d for g in groups[gi + 1 :] for d in g], ctx)
    opened = all(d.phase == "reinstatement" for d in loop.drafts)  # nothing cut yet
    if opened and not loop.held and de_total(loop.state, ctx.de_per_mg) > EPS:
        # Already at or below the jump-off dose: keep the dose for one interval.
        loop.drafts.append(
            Draft(
                dict(loop.state),
                ctx.strategy.every_days,
                "final",
                "The dose is already small enough to stop from: take it for this step, then stop.",
                dict(ctx.makers),
            )
        )
    return loop


def _unmade(state: Mapping[Slot, float], drug: Drug, ctx: TaperContext) -> bool:
    """Whether some dose of ``drug`` in ``state`` is not one its realiser makes."""
    grid = ctx.grid(drug.id)
    return any(s.drug == drug.id and unmade(mg, grid) for s, mg in state.items())


def _route_unmade(loop: TaperResult, ctx: TaperContext) -> None:
    """Doses taken that the products cannot make, kept by the engine (too large to stop from):
    the stuck handler's route from the start (one that makes smaller doses, or a switch), else
    a clear refusal; then every dose as the realisers in force make it (never above). A switch
    comes last, its steps showing the other drugs' doses as made."""
    switches: list[tuple[Drug, Resolution]] = []
    for drug in list(ctx.drugs):
        if _unmade(loop.state, drug, ctx):
            res = ctx.on_stuck(drug, loop.state, ctx, from_start=True)
            if res.held:  # maintain would show a dose no product makes: refuse, clearly
                raise RegimenError(
                    f"The {drug.name} doses taken now cannot be made from the products allowed, "
                    "and are more than a drug is stopped from at once "
                    f"({ctx.jump_off_mg_de:g} mg diazepam-equivalent). Allow an oral liquid, "
                    "compounding or a switch to diazepam, or check the dose."
                )
            if res.drafts:
                switches.append((drug, res))
            else:
                _apply(loop, ctx.drugs, res, ctx)
    if len(switches) > 1:  # each switch's steps would show the other's dose as none
        raise RegimenError(
            "The doses taken now of "
            + " and ".join(d.name for d, _ in switches)
            + " cannot be made from the products allowed, and each is more than a drug is "
            "stopped from at once. Allow an oral liquid or compounding, switch one of them to "
            "diazepam first (crossover), or check the doses with your prescriber."
        )
    switched = {d.id for d, _ in switches}
    for s, mg in loop.state.items():
        made = snap_down(mg, ctx.grid(s.drug)) if mg > EPS else 0.0
        if made > EPS and s.drug not in switched:
            loop.state[s] = made
    for drug, res in switches:
        mine = {drug.id, *(d.id for d in res.replaces.values())}
        others = {s: mg for s, mg in loop.state.items() if s.drug not in mine}
        makers = {d: m for d, m in ctx.makers.items() if d not in mine}
        drafts = [
            d._replace(doses={**d.doses, **others}, makers={**d.makers, **makers})
            for d in res.drafts
        ]
        state = None if res.state is None else {**res.state, **others}
        _apply(loop, ctx.drugs, res._replace(drafts=drafts, state=state), ctx)


def stopped_first(
    start: Mapping[Slot, float], taken: Mapping[Slot, float] | None, ctx: TaperContext
) -> str | None:
    """The sentence the first step says of the doses taken that no product makes, which the
    engine stops there (small enough to stop from); None when there are none (or ``taken`` is
    None: ``start`` is the doses taken, all made)."""
    if taken is None:
        return None
    names = {d.id: d.name for d in ctx.drugs}
    said = [
        f"{names[s.drug]} {dose_text(mg)} at {s.time}"
        for s, mg in taken.items()
        if mg > EPS and start.get(s, 0.0) <= EPS
    ]
    if not said:
        return None
    return f"{'; '.join(said)}: no product allowed makes this small dose, so it stops here."


def _first_made(
    loop: TaperResult, ctx: TaperContext, opening: Opening | None, stopped: str | None
) -> None:
    """The first step, when the doses made are below those taken: the nearest smaller doses
    (``stopped``: a small dose no product makes), as long as the pace needs for that cut, and
    nothing else cut in it (the cut from the doses taken counts like any other)."""
    now = de_total(loop.state, ctx.de_per_mg)
    gap = loop.start_de - now
    if loop.drafts and stopped:  # a switch from the start made its own steps: its first says so
        first = loop.drafts[0]
        loop.drafts[0] = first._replace(note=" ".join(filter(None, [first.note, stopped])))
    if loop.drafts or now <= EPS or (gap <= EPS and opening is None):
        return  # a switch made its own steps; or all is stopped at once; or nothing to do
    if gap > ctx.cut_limit(loop.start_de) + EPS:  # rare: several doses no product makes
        raise RegimenError(
            "The doses taken now cannot be made from the products allowed without a first cut "
            "larger than one step may be. Allow an oral liquid or compounding, or check the "
            "doses with your prescriber."
        )
    days = ctx.strategy.every_days if opening is None else opening.days
    if gap > EPS:  # as long as the maximum rate, and the pace asked, need for this cut
        cut = gap / loop.start_de
        ask = ctx.strategy.ask(loop.start_de, loop.start_de, 1.0, False)
        asked = min(ask.fraction, ctx.max_fraction_per_14_days * min(ask.every_days, 14) / 14)
        days = max(
            days,
            days_for_rate(cut, ctx.max_fraction_per_14_days),
            lengthened_days(ask.every_days, cut, asked),
        )
        if any(ctx.makers[d].weekly for d in drug_totals(loop.state)):
            days = math.ceil(days / WEEK) * WEEK
    notes = [] if opening is None else [opening.note(days)]
    if gap > EPS:
        notes.append(
            "First step: the doses taken now as the products allowed make them (the nearest "
            "smaller dose; nothing else is cut)." + (f" {stopped}" if stopped else "")
        )
    phase: Phase = "taper" if opening is None else opening.phase
    loop.drafts.append(Draft(dict(loop.state), days, phase, " ".join(notes), dict(ctx.makers)))


def _taper_group(
    loop: TaperResult, group: list[Drug], later: Sequence[Drug], ctx: TaperContext
) -> None:
    """Steps for one group of drugs until each is stopped, held, or ready for the final stop."""
    while True:
        bounds.check_time()  # the planning budget (planning/bounds.py)
        totals = drug_totals(loop.state)
        active = [d for d in group if totals.get(d.id, 0.0) > EPS and d.id not in loop.held]
        if not active:
            return
        if len(loop.drafts) >= bounds.MAX_PLAN_STEPS:  # stop the work, not only the answer
            raise bounds.too_many_steps(len(loop.drafts) + 1)
        ids = {d.id for d in group}
        others = (
            not totals.keys() <= ids
            and any(mg > EPS for s, mg in loop.state.items() if s.drug not in ids)
        ) or any(totals.get(d.id, 0.0) > EPS for d in later if d.id not in ids)
        outcome = _step(loop.state, active, ctx, not others, totals)
        if outcome is None:
            return  # the plan's last drug is at its jump-off dose: the engine adds the stop
        if isinstance(outcome, Draft):
            if ctx.window_fraction is not None:
                _wait_for_window(loop, de_total(outcome.doses, ctx.de_per_mg), ctx)
            loop.drafts.append(outcome)
            loop.state = dict(outcome.doses)
            continue
        _resolve(loop, group, outcome, ctx)


def _wait_for_window(loop: TaperResult, new_de: float, ctx: TaperContext) -> None:
    """Micro-tapering: lengthen the step before a cut until the cuts in the 14 days up to it
    compound to at most the fraction chosen (step lengths already keep the per-step rate; this
    keeps several small cuts together, some lengthened, within the percent per 14 days)."""
    fraction = ctx.window_fraction
    if fraction is None or not loop.drafts:
        return
    while loop.drafts[-1].days < 14:  # else the window holds this one cut: the rate rule's
        if new_de >= _de_days_ago(loop, 14, ctx) * (1 - fraction) - EPS:
            return
        last = loop.drafts[-1]
        loop.drafts[-1] = last._replace(days=last.days + 1)


def _de_days_ago(loop: TaperResult, days: int, ctx: TaperContext) -> float:
    """The DE taken ``days`` days before the end of the drafts so far (before them: the start)."""
    for d in reversed(loop.drafts):
        if days <= d.days:
            return de_total(d.doses, ctx.de_per_mg)
        days -= d.days
    return loop.start_de


def _resolve(loop: TaperResult, group: list[Drug], drug: Drug, ctx: TaperContext) -> None:
    """Ask the engine what to do with a stuck drug and apply its answer."""
    res = ctx.on_stuck(drug, loop.state, ctx, from_start=False)
    if res.held:
        loop.held.add(drug.id)
        return
    _apply(loop, group, res, ctx)


def _apply(loop: TaperResult, group: list[Drug], res: Resolution, ctx: TaperContext) -> None:
    """A route's answer: new realisers and factors, its drafts (a switch), the drug replaced."""
    ctx.makers.update(res.makers)
    ctx.de_per_mg.update(res.factors)
    ctx.warnings.extend(res.warnings)
    loop.drafts.extend(res.drafts)
    before = drug_totals(loop.state)
    if res.state is not None:
        loop.state = dict(res.state)
    for old, new in res.replaces.items():
        i = next(i for i, d in enumerate(group) if d.id == old)
        merged = any(d.id == new.id for d in group)
        if merged:
            del group[i]  # e.g. a switch to diazepam, already in the group: no second entry
        else:
            group[i] = new
        if all(d.id != new.id for d in ctx.drugs):
            ctx.drugs.append(new)
        ctx.start_de[new.id] = _switched_start(new.id, old, before, ctx)


def _switched_start(new: str, old: str, before: Mapping[str, float], ctx: TaperContext) -> float:
    """The starting DE a drug switched into is judged from (its final section, a linear or
    hyperbolic strategy's size): the old drug's; added to its own while it still has doses (two
    drugs switched into diazepam, or into the diazepam also taken: its doses carry both shares,
    and are tapered together from now on, so its final section is that of both and a 'final'
    step is never followed by a 'taper' one). Whether it has doses decides, not whether it is
    in the group being tapered: stopped already (in this group, or in an earlier one under the
    sequential policy), its doses now are all the old drug's, judged from the old drug's start
    alone (its own start would be stale)."""
    if before.get(new, 0.0) > EPS:
        return ctx.start_de[new] + ctx.start_de[old]
    return ctx.start_de[old]


def _step(
    state: dict[Slot, float],
    group: Sequence[Drug],
    ctx: TaperContext,
    last: bool,
    totals: Mapping[str, float],
) -> Draft | Drug | None:
    """One step for the drugs in ``group``: a Draft, a stuck Drug, or None (ready to stop).
    ``totals``: mg a day of each drug in ``state`` (``drug_totals``)."""
    group_de = sum(totals.get(d.id, 0.0) * ctx.de_per_mg[d.id] for d in group)
    if group_de <= ctx.jump_off_mg_de + EPS:
        if last:
            return None
        new = {s: (0.0 if any(s.drug == d.id for d in group) else mg) for s, mg in state.items()}
        names = ", ".join(d.name for d in group)
        note = f"Last step of {names}: stop it from this small dose; the others go on."
        prev_de = de_total(state, ctx.de_per_mg)
        cut = (prev_de - de_total(new, ctx.de_per_mg)) / prev_de
        days = max(ctx.strategy.every_days, days_for_rate(cut, ctx.max_fraction_per_14_days))
        return Draft(new, days, "taper", note, dict(ctx.makers))
    prev_de = de_total(state, ctx.de_per_mg)
    new = dict(state)
    budget = whole = ctx.cut_limit(prev_de)
    days = ctx.strategy.every_days
    notes: list[str] = []
    ending: list[bool] = []  # per drug with doses: in its final slow section
    lengthened: list[tuple[Drug, float, float, int]] = []  # counted only if the step is kept
    for drug in group:
        cur = totals.get(drug.id, 0.0)
        if cur <= EPS:
            continue
        cut_result = _cut_drug(state, drug, ctx, budget, cur)
        if cut_result is None:
            # stuck only if no cut fits the whole step's limit; else the drugs cut before it
            # used this step's share (proportional) and its cut waits for the next step
            alone = None if budget >= whole - EPS else _cut_drug(state, drug, ctx, whole, cur)
            if alone is None:
                return drug
            ending.append(alone[3])
            continue
        got, asked, every, final = cut_result
        ending.append(final)
        if final:
            notes.append(f"{drug.name}: smaller cuts near the end of this drug.")
        for t, mg in got.items():
            new[Slot(drug.id, t)] = mg
        realised = (cur - sum(got.values())) / cur
        budget -= (cur - sum(got.values())) * ctx.de_per_mg[drug.id]
        need = lengthened_days(every, realised, asked)
        if need > every:
            lengthened.append((drug, asked, realised, every))
        days = max(days, need)
    # the plan's last section once every drug cut is in its own (a drug that ends earlier, or
    # before the others in the same step, stays "taper", with a note)
    phase: Phase = "final" if last and all(ending) else "taper"
    if phase == "final":
        notes = []
    new_de = de_total(new, ctx.de_per_mg)
    if last and new_de <= EPS:
        return None  # the cut takes the plan's last doses to zero: that is the stop itself
    days = rated_days(days, prev_de, new_de, any(ctx.makers[d.id].weekly for d in group), ctx)
    notes += [_lengthened_note(*entry, days, ctx) for entry in lengthened]
    ctx.lengthened += len(lengthened)
    return Draft(new, days, phase, " ".join(notes) or None, dict(ctx.makers))


def _lengthened_note(
    drug: Drug, asked: float, realised: float, every: int, days: int, ctx: TaperContext
) -> str:
    """Why a step lasts longer than asked, with the days it really lasts (whole weeks for a
    weekly pattern, whose average moves by whole nights, not by the products' doses)."""
    what = "whole nights a week allow" if ctx.makers[drug.id].weekly else "products allow"
    gets = "at least " if ctx.window_fraction is not None else ""  # micro: the window may add
    return (
        f"{drug.name}: {what} no cut of {asked * 100:.3g}% or less here; the smallest possible "
        f"cut ({realised * 100:.3g}%) gets {gets}{days} days instead of {every}, to keep within "
        "the rate asked."
    )


def _cut_drug(
    state: Mapping[Slot, float],
    drug: Drug,
    ctx: TaperContext,
    budget: float,
    cur: float,
) -> tuple[dict[str, float], float, int, bool] | None:
    """The new doses of ``drug`` (per time; ``cur`` mg a day now), the fraction asked, the step
    length asked, and whether the final section applies; None when no cut keeps the invariants
    (stuck)."""
    f = ctx.de_per_mg[drug.id]
    final = (
        ctx.final_slow_section
        and ctx.strategy.name in ("percent", "linear")
        and cur * f
        <= ctx.start_de[drug.id] * ctx.rules.final_section.start_fraction_of_start.low + EPS
    )
    ask = ctx.strategy.ask(cur, ctx.start_de[drug.id] / f, f, final)
    cap = ctx.max_fraction_per_14_days * min(ask.every_days, 14) / 14
    asked = min(ask.fraction, cap)
    times = {s.time: mg for s, mg in state.items() if s.drug == drug.id}
    rule = ctx.rule_for(drug.id)
    order = cut_order(times, rule)
    grid = ctx.makers[drug.id].grid
    cutter = cut_across if rule == "across" else cut
    got = cutter(times, cur * (1 - asked), order, grid)
    if _allowed(cur, sum(got.values()), f, budget, ctx):
        return got, asked, ask.every_days, final
    smallest = smallest_cut(times, order, grid)  # only when the asked-for cut is not allowed
    if smallest is not None and _allowed(cur, sum(smallest.values()), f, budget, ctx):
        return smallest, asked, ask.every_days, final
    return None


def _allowed(cur: float, new: float, de_per_mg: float, budget: float, ctx: TaperContext) -> bool:
    """A cut of one drug from ``cur`` to ``new`` mg keeps the single-cut and stop invariants."""
    if new >= cur - EPS:
        return False
    if new <= EPS and cur * de_per_mg > ctx.stop_limit() + EPS:
        return False  # would stop the drug from more than the jump-off limit
    return (cur - new) * de_per_mg <= budget + EPS


def can_cut(state: Mapping[Slot, float], drug: Drug, maker: Realiser, ctx: TaperContext) -> bool:
    """Whether ``maker`` allows ``drug`` a next step within the invariants from ``state``: a cut,
    or (at the jump-off dose) the stop itself."""
    if drug_total(state, drug.id) * ctx.de_per_mg[drug.id] <= ctx.jump_off_mg_de + EPS:
        return True
    old = ctx.makers[drug.id]
    ctx.makers[drug.id] = maker
    try:
        budget = ctx.cut_limit(de_total(state, ctx.de_per_mg))
        cur = drug_total(state, drug.id)
        return _cut_drug(state, drug, ctx, budget, cur) is not None
    finally:
        ctx.makers[drug.id] = old


def completes(state: Mapping[Slot, float], drug: Drug, maker: Realiser, ctx: TaperContext) -> bool:
    """Whether ``maker`` can take each dose-time of ``drug`` down to a stop within the
    invariants on its own (judged per dose-time, against that dose-time's own DE, which is
    stricter than the plan's), so the route needs no second route later."""
    f = ctx.de_per_mg[drug.id]
    grid = maker.grid
    for slot, mg in state.items():
        if slot.drug != drug.id:
            continue
        v = mg
        while v * f > ctx.stop_limit() + EPS:
            limit = ctx.cut_limit(v * f) / f
            # the smallest dose within the cut limit below v (bisect: grids can be long)
            i = bisect.bisect_left(grid, v - limit - EPS)
            if i >= len(grid) or grid[i] >= v - EPS:
                return False
            v = grid[i]
    return True
