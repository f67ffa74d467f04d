"""Crossover: switch a regimen to a long-acting drug (diazepam) one dose-time at a time.

Ashton's method, which NHS Scotland and NICE CKS follow: the long-acting drug replaces the
short-acting one one dose-time per step (the night dose first), keeping the total
diazepam-equivalent (DE) constant, then the person stabilises before the first cut. Every dose is
made by a realiser (the products allowed); the rules and their sources are in
``data/rules/crossover.toml`` (``crossover_rules``), the notes and warnings in
``crossover_notes``.

Rules applied here (the data file says which are sourced and which are policy):

* order: dose-times from the latest in the day (times before ``night_wraps_before`` count as
  after midnight) to the earliest; at one time, the drug with the larger DE first;
* portions: at most ``max_portion_mg_de`` of one dose-time moves per step; the remainder is the
  smallest dose the person's products make exactly that keeps the portion within the limit (if
  none does, the nearest smaller remainder, so the portion is larger than the limit);
* several drugs are consolidated into the target drug (policy ``consolidate``);
* every dose is made from real products; the target's doses are chosen together (a small
  depth-first search over the roundings the products allow, nearest first) so that the total DE
  of every step stays within ``max(de_tolerance_mg, de_tolerance_fraction × starting DE)``;
  when no rounding can, the crossover is refused with what would help, never shown off-target;
* a source dose the products cannot make is switched first, so it is never shown without
  pieces; two or more such doses (or a target dose taken now that cannot be made) are refused.

``crossover_drafts`` gives the steps as drafts (the engine uses it to switch the tail of a
taper to diazepam); ``plan_crossover`` gives dated steps.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from benzotaper.catalogue import Catalogue, Drug
from benzotaper.conversion import Conversion, convert
from benzotaper.errors import RegimenError, UnknownProductError
from benzotaper.lru import LRU
from benzotaper.planning import crossover_notes as notes
from benzotaper.planning.crossover_notes import fmt_mg
from benzotaper.planning.crossover_rules import (
    CrossoverRules,
    default_crossover_rules,
    load_crossover_rules,
)
from benzotaper.planning.dispensing import Formulary
from benzotaper.planning.equivalents import de_of, slot_totals
from benzotaper.planning.holds import Draft
from benzotaper.planning.models import Administration, PersonFactors, PlanWarning, Step
from benzotaper.planning.notices import dose_text
from benzotaper.planning.realisers import Realiser, exact_only, from_formulary
from benzotaper.planning.regimen import Slot
from benzotaper.planning.stepping import snap_down
from benzotaper.planning.steps import build_steps

__all__ = [
    "CrossoverDrafts",
    "CrossoverResult",
    "CrossoverRules",
    "crossover_drafts",
    "default_crossover_rules",
    "load_crossover_rules",
    "night_first_key",
    "plan_crossover",
]

#: (drug, the largest dose it must make) → its realiser; UnknownProductError when none.
MakerFor = Callable[[Drug, float], Realiser]
#: One switch: (time, source drug, its dose before, the dose left after).
Event = tuple[str, str, float, float]


@dataclass(frozen=True)
class CrossoverDrafts:
    """The switch as drafts (crossover steps, then stabilisation) and what it ends on."""

    drafts: list[Draft]
    final: dict[Slot, float]
    warnings: list[PlanWarning]
    target: Drug
    source: str
    starting_de_mg: float
    tolerance_mg: float
    step_days: int
    parameters: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class CrossoverResult:
    steps: list[Step]
    final_regimen: list[Administration]
    warnings: list[PlanWarning]
    next_start: dt.date
    target: str = ""
    source: str = ""
    starting_de_mg: float = 0.0
    tolerance_mg: float = 0.0
    parameters: dict[str, object] = field(default_factory=dict)


def _minutes(time: str) -> int:
    h, m = time.split(":")
    return int(h) * 60 + int(m)


def night_first_key(time: str, wraps_before: str) -> int:
    """Sort key: larger is later in the night (times before ``wraps_before`` follow midnight)."""
    t = _minutes(time)
    return t + 24 * 60 if t < _minutes(wraps_before) else t


def plan_crossover(
    catalogue: Catalogue,
    regimen: list[Administration],
    target: str,
    start: dt.date,
    formulary_for: Callable[[Drug], Formulary],
    rules: CrossoverRules,
    source: str | None,
    *,
    person: PersonFactors | None = None,
    step_days: int | None = None,
) -> CrossoverResult:
    """Substitution steps to ``target``, a stabilisation step, and the regimen to taper next."""

    def maker_for(drug: Drug, peak: float) -> Realiser:
        return from_formulary(formulary_for(drug), peak)

    cx = crossover_drafts(
        catalogue, regimen, target, maker_for, rules, source, person=person, step_days=step_days
    )
    steps = build_steps(cx.drafts, start, cx.starting_de_mg, _factors(catalogue, cx))
    return CrossoverResult(
        steps=steps,
        final_regimen=[
            Administration(drug=s.drug, mg=mg, time=s.time) for s, mg in cx.final.items()
        ],
        warnings=cx.warnings,
        next_start=steps[-1].end + dt.timedelta(days=1),
        target=cx.target.id,
        source=cx.source,
        starting_de_mg=round(cx.starting_de_mg, 3),
        tolerance_mg=round(cx.tolerance_mg, 3),
        parameters=cx.parameters,
    )


def _factors(catalogue: Catalogue, cx: CrossoverDrafts) -> dict[str, float]:
    drugs = {s.drug for d in cx.drafts for s in d.doses}
    return {
        d: convert(catalogue, d, 1.0, "diazepam", cx.source).diazepam_equivalent_mg for d in drugs
    }


@dataclass
class _Switch:
    """The regimen being switched, resolved once: amounts, drugs, factors, realisers."""

    target: Drug
    drugs: dict[str, Drug]
    amounts: dict[tuple[str, str], float]  # (time, drug id) → mg
    de_per_mg: dict[str, float]
    to_target: dict[str, float]
    source: str
    makers: dict[str, Realiser] = field(default_factory=dict)
    warnings: list[PlanWarning] = field(default_factory=list)

    @property
    def start_de(self) -> float:
        return sum(mg * self.de_per_mg[d] for (_, d), mg in self.amounts.items())

    @property
    def times(self) -> list[str]:
        return sorted({t for t, _ in self.amounts}, key=_minutes)


def crossover_drafts(
    catalogue: Catalogue,
    regimen: Sequence[Administration],
    target: str,
    maker_for: MakerFor,
    rules: CrossoverRules,
    source: str | None,
    *,
    person: PersonFactors | None = None,
    step_days: int | None = None,
) -> CrossoverDrafts:
    """The crossover as drafts: one switch per step, then the stabilisation step."""
    tgt, days = _check_request(catalogue, regimen, target, rules, step_days)
    sw = _resolve(catalogue, regimen, tgt, source or catalogue.default_source, rules)
    tolerance = max(rules.de_tolerance_mg, rules.de_tolerance_fraction * sw.start_de)
    _make_realisers(sw, maker_for, tolerance)
    unmade = _unmade(sw)
    events = _events(_order(sw, unmade, rules), sw, rules.max_portion_mg_de.low)
    reals = _choose_target_doses(sw, events, tolerance)
    drafts, final = _drafts(sw, events, reals, days, rules)
    sw.warnings += notes.cautions(
        rules,
        tgt,
        sw.drugs,
        sorted({d for _, d in sw.amounts if d != tgt.id}),
        person,
        sw.start_de,
        sw.source,
        days,
    )
    return CrossoverDrafts(
        drafts=drafts,
        final=final,
        warnings=sw.warnings,
        target=tgt,
        source=sw.source,
        starting_de_mg=sw.start_de,
        tolerance_mg=tolerance,
        step_days=days,
        parameters={
            "crossover_target": tgt.id,
            "crossover_step_days": days,
            "crossover_stabilise_days": rules.use_stabilise_days,
            "crossover_max_portion_mg_de": rules.max_portion_mg_de.low,
            "crossover_de_tolerance_mg": round(tolerance, 3),
            "crossover_order": rules.order,
            "multi_drug": rules.multi_drug,
        },
    )


def _check_request(
    catalogue: Catalogue,
    regimen: Sequence[Administration],
    target: str,
    rules: CrossoverRules,
    step_days: int | None,
) -> tuple[Drug, int]:
    """The target drug and step length, or a clear refusal of a crossover that makes no sense."""
    tgt = catalogue.drug(target)
    if tgt.id not in rules.targets:
        raise RegimenError(
            f"{tgt.name} is not a long-acting drug that a crossover switches to; "
            f"choose one of: {', '.join(rules.targets)}."
        )
    if not regimen:
        raise RegimenError("The regimen is empty: there is nothing to switch.")
    days = step_days if step_days is not None else rules.use_step_days
    if days < rules.step_days.low:
        raise RegimenError(
            f"Crossover steps of {days} days are shorter than the guideline's "
            f"{rules.step_days.low:g} days (switch over 1-2 weeks, not 1-2 days)."
        )
    ids = {catalogue.drug(a.drug).id for a in regimen} - {tgt.id}
    if not ids:
        raise RegimenError(
            f"The regimen is already {tgt.name} only: there is nothing to switch. "
            "Plan the taper directly (without a crossover)."
        )
    if ids <= set(rules.targets):
        names = ", ".join(catalogue.drugs[d].name for d in sorted(ids))
        raise RegimenError(
            f"{names} is already long-acting: switching to {tgt.name} brings no benefit. "
            "Taper it directly (without a crossover)."
        )
    return tgt, days


def _resolve(
    catalogue: Catalogue,
    regimen: Sequence[Administration],
    tgt: Drug,
    source: str,
    rules: CrossoverRules,
) -> _Switch:
    """Amounts per (time, drug), the factors to DE and to the target, equivalence warnings."""
    drugs: dict[str, Drug] = {tgt.id: tgt}
    amounts: dict[tuple[str, str], float] = {}
    for adm in regimen:
        drug = catalogue.drug(adm.drug)
        drugs[drug.id] = drug
        amounts[(adm.time, drug.id)] = amounts.get((adm.time, drug.id), 0.0) + adm.mg
    sw = _Switch(tgt, drugs, amounts, {}, {tgt.id: 1.0}, source)
    for d in drugs:
        mg = sum(m for (_, dd), m in amounts.items() if dd == d) or 1.0
        de = _convert(catalogue, d, mg, "diazepam", source).diazepam_equivalent_mg
        sw.de_per_mg[d] = de / mg
        if d != tgt.id:
            to_t = _convert(catalogue, d, mg, tgt.id, source)
            sw.to_target[d] = to_t.dose_mg / mg
            sw.warnings.append(notes.equivalence_warning(catalogue, drugs[d], tgt, to_t, rules))
    return sw


_CONVERSIONS: LRU[tuple[int, str, float, str, str], tuple[Catalogue, Conversion]] = LRU(4096)


def _convert(catalogue: Catalogue, drug: str, mg: float, to: str, source: str) -> Conversion:
    """``convert``, memoised: a pure function of the catalogue (the same object) and its
    arguments, asked again for every plan whose tail switches to diazepam."""
    key = (id(catalogue), drug, mg, to, source)
    hit = _CONVERSIONS.get(key)
    if hit is not None and hit[0] is catalogue:
        return hit[1]
    made = convert(catalogue, drug, mg, to, source)
    _CONVERSIONS.put(key, (catalogue, made))
    return made


def _make_realisers(sw: _Switch, maker_for: MakerFor, tolerance: float) -> None:
    """Realisers for the target (up to the largest dose a step may need) and each source drug
    (a source dose no product makes is shown without pieces)."""
    top = (sw.start_de + tolerance) / sw.de_per_mg[sw.target.id]
    sw.makers[sw.target.id] = maker_for(sw.target, top + 1e-9)
    for d in sw.drugs:
        if d == sw.target.id:
            continue
        peak = max(mg for (_, dd), mg in sw.amounts.items() if dd == d)
        try:
            sw.makers[d] = exact_only(maker_for(sw.drugs[d], peak))
        except UnknownProductError:
            sw.makers[d] = exact_only(Realiser(d, (), lambda mg: (mg, [])))


def _made(maker: Realiser, mg: float) -> bool:
    return abs(snap_down(mg, maker.grid) - mg) <= 1e-9


def _unmade(sw: _Switch) -> list[tuple[str, str]]:
    """Source doses the products cannot make (switched first); refuses two or more of them."""
    unmade = [
        (t, d)
        for (t, d), mg in sorted(sw.amounts.items())
        if d != sw.target.id and not _made(sw.makers[d], mg)
    ]
    bad_target = [
        (t, mg)
        for (t, d), mg in sorted(sw.amounts.items())
        if d == sw.target.id and not _made(sw.makers[d], mg)
    ]
    if len(unmade) > 1 or bad_target:
        listed = [
            f"{sw.drugs[d].name.lower()} {dose_text(sw.amounts[(t, d)])} at {t}" for t, d in unmade
        ]
        listed += [f"{sw.target.name.lower()} {dose_text(mg)} at {t}" for t, mg in bad_target]
        raise RegimenError(
            "These doses taken now cannot be made from the products allowed on this market: "
            + "; ".join(listed)
            + ". A crossover shows every dose as the pieces to take, so it cannot start from "
            "them. Check with your pharmacist which products you take (another market, an oral "
            "liquid or compounded capsules may list them), or ask your prescriber about doses "
            "the products can make."
        )
    for time, d in unmade:
        sw.warnings.append(
            PlanWarning(
                code="crossover.current_dose_unlisted",
                severity="caution",
                message=(
                    f"{sw.drugs[d].name} {dose_text(sw.amounts[(time, d)])} at {time} cannot be "
                    f"made from the {sw.drugs[d].name.lower()} products allowed on this market, "
                    "so it is switched first (before the night-first order), and every dose "
                    "shown can be made from real products. Check with your pharmacist."
                ),
                sources=[],
            )
        )
    return unmade


def _order(
    sw: _Switch, unmade: Sequence[tuple[str, str]], rules: CrossoverRules
) -> list[tuple[str, str]]:
    """Dose-times to switch: unmade first, then night first, the larger DE first at one time."""
    wrap = rules.night_wraps_before
    return sorted(
        (k for k in sw.amounts if k[1] != sw.target.id),
        key=lambda k: (
            k not in unmade,
            -night_first_key(k[0], wrap),
            -sw.amounts[k] * sw.de_per_mg[k[1]],
            k[1],
        ),
    )


def _events(order: list[tuple[str, str]], sw: _Switch, portion_mg_de: float) -> list[Event]:
    """The switches in order, one per step: portions of at most ``portion_mg_de``.

    They do not depend on how the target's doses are rounded, so they are fixed first.
    """
    out: list[Event] = []
    for time, d in order:
        portion = portion_mg_de / sw.de_per_mg[d]
        c = sw.amounts[(time, d)]
        while c > 1e-9:
            r = _remainder(c, portion, sw.makers[d])
            out.append((time, d, c, r))
            c = r
    return out


def _remainder(c: float, portion: float, maker: Realiser) -> float:
    """What is left of the source dose after this step (0 when the rest fits one portion)."""
    if c <= portion + 1e-9 or not maker.grid:
        return 0.0
    below = [x for x in maker.grid if x < c - 1e-9]
    within = [x for x in below if x >= c - portion - 1e-9]
    if within:
        return min(within)
    return max(below, default=0.0)


#: Search budget for the target doses of one crossover (nodes); plans need a few dozen.
_SEARCH_BUDGET = 5000
#: Shares of the tolerance tried in turn (keeps every step as near the start as products allow).
_TOLERANCE_TRIES = (0.25, 0.5, 0.75, 1.0)


def _choose_target_doses(sw: _Switch, events: list[Event], tolerance: float) -> list[float]:
    """The target dose after each event: the closest to constant DE the products allow."""
    for share in _TOLERANCE_TRIES:
        reals = _target_doses(sw, events, share * tolerance)
        if reals is not None:
            return reals
    _refuse_single_dose_above_products(sw, events, tolerance)
    raise RegimenError(_tolerance_refusal(sw, tolerance))


def _refuse_single_dose_above_products(sw: _Switch, events: list[Event], tolerance: float) -> None:
    """When no choice of doses worked: refuse with the real reason if the switch would put more
    of the target at one dose-time than one dose can be made of (a few pieces at most). No
    rounding could make that, and the generic refusal would send the person after finer
    strengths."""
    grid = sw.makers[sw.target.id].grid
    if not grid:
        return
    largest = max(grid)
    slack = tolerance / sw.de_per_mg[sw.target.id]
    _, exact_t = _exact_path(sw, events)
    need, time = max(((n, e[0]) for e, n in zip(events, exact_t, strict=True)), default=(0.0, ""))
    if need - slack > largest + 1e-9:
        tgt = sw.target.name.lower()
        raise RegimenError(
            f"Switching to {tgt} one dose-time at a time would need about {fmt_mg(need)} of "
            f"{tgt} at {time} in one dose, more than the products allowed make in one dose (at "
            f"most {fmt_mg(largest)}). Taper the current medicine first to a lower dose, or "
            "spread it across more dose-times with your prescriber before a crossover; a direct "
            "taper (without a crossover) is also possible."
        )


def _target_doses(sw: _Switch, events: list[Event], tolerance: float) -> list[float] | None:
    """The target dose at the switched time after each event, every one made exactly, so that
    every step's total DE stays within ``tolerance`` of the start.

    Depth-first: at each step the candidates closest to the starting total come first (then
    closest to the exact converted dose), so the answer is the greedy one whenever the greedy
    one works; a step that cannot stay within tolerance sends the search back to choose an
    earlier rounding differently. None: no choice keeps every step within tolerance.
    """
    tgt = sw.target.id
    f_t = sw.de_per_mg[tgt]
    start_de = sw.start_de
    times = sw.times
    src_de, exact_t = _exact_path(sw, events)
    grid = [0.0, *sw.makers[tgt].grid]
    budget = [_SEARCH_BUDGET]
    chosen: list[float] = []

    def search(i: int, real: dict[str, float]) -> bool:
        if i == len(events):
            return True
        budget[0] -= 1
        if budget[0] < 0:
            return False
        time = events[i][0]
        others = sum(real[o] for o in times if o != time)
        lo = max(real[time], (start_de - tolerance - src_de[i]) / f_t - others)
        hi = (start_de + tolerance - src_de[i]) / f_t - others
        a, b = bisect.bisect_left(grid, lo - 1e-9), bisect.bisect_right(grid, hi + 1e-9)
        want = (start_de - src_de[i]) / f_t - others
        for m in sorted(grid[a:b], key=lambda m: (abs(m - want), abs(m - exact_t[i]), m)):
            chosen.append(m)
            if search(i + 1, {**real, time: m}):
                return True
            chosen.pop()
        return False

    initial = {t: sw.amounts.get((t, tgt), 0.0) for t in times}
    return chosen if search(0, initial) else None


def _exact_path(sw: _Switch, events: list[Event]) -> tuple[list[float], list[float]]:
    """After each event: the DE of the source drugs left, and the exact converted target dose
    at the switched time."""
    src_de: list[float] = []
    exact_t: list[float] = []
    exact = {t: sw.amounts.get((t, sw.target.id), 0.0) for t in sw.times}
    remaining: dict[tuple[str, str], float] = {}
    for time, d, c, _ in events:
        remaining.setdefault((time, d), c)  # the first switch of a dose-time starts from it all
    for time, d, c, r in events:
        remaining[(time, d)] = r
        src_de.append(sum(mg * sw.de_per_mg[dd] for (_, dd), mg in remaining.items()))
        exact[time] += (c - r) * sw.to_target[d]
        exact_t.append(exact[time])
    return src_de, exact_t


def _tolerance_refusal(sw: _Switch, tolerance: float) -> str:
    tgt = sw.target
    sources = ", ".join(d.name.lower() for d in sw.drugs.values() if d.id != tgt.id)
    return (
        f"Switching {sources} to {tgt.name.lower()} with the products allowed cannot keep the "
        f"total within {tolerance:.2g} mg of the starting {sw.start_de:.3g} mg "
        "diazepam-equivalent at every step (the crossover keeps the dose constant; the "
        f"{tgt.name.lower()} products allowed cannot make doses close enough). An oral liquid "
        "gives finer doses; otherwise taper directly, without a crossover, or ask your "
        "prescriber and pharmacist about other strengths."
    )


def _drafts(
    sw: _Switch, events: list[Event], reals: list[float], days: int, rules: CrossoverRules
) -> tuple[list[Draft], dict[Slot, float]]:
    """One crossover draft per event (both drugs shown at every time), then stabilisation."""
    tgt = sw.target
    current = dict(sw.amounts)
    target = {t: sw.amounts.get((t, tgt.id), 0.0) for t in sw.times}
    out: list[Draft] = []
    for (time, d, c, r), real in zip(events, reals, strict=True):
        if real > target[time] + 1e-9:
            note = notes.switch_note(sw.drugs[d], tgt, time, c, r, real, rules)
        else:  # nothing of the target replaces it: a cut, said as one
            day_de = de_of(slot_totals(_doses(sw, current, target)), sw.de_per_mg)
            cut = ((c - r) * sw.de_per_mg[d], day_de)
            note = notes.unreplaced_note(sw.drugs[d], tgt, time, c, r, real, cut, rules)
        current[(time, d)] = r
        target[time] = real
        out.append(Draft(_doses(sw, current, target), days, "crossover", note, dict(sw.makers)))
    final = {Slot(tgt.id, t): mg for t, mg in target.items() if mg > 0}
    stabilise: Literal["stabilise"] = "stabilise"
    out.append(
        Draft(
            dict(final),
            rules.use_stabilise_days,
            stabilise,
            f"Stay on {tgt.name.lower()} {dose_text(sum(final.values()))} a day for "
            f"{rules.use_stabilise_days} days before the first cut.",
            dict(sw.makers),
        )
    )
    return out, final


def _doses(
    sw: _Switch, current: Mapping[tuple[str, str], float], target: Mapping[str, float]
) -> dict[Slot, float]:
    """Every time's doses: each source drug (0 once switched), then the target (0 until)."""
    out: dict[Slot, float] = {}
    for time in sw.times:
        for (t, d), mg in current.items():
            if t == time and d != sw.target.id:
                out[Slot(d, time)] = mg
        out[Slot(sw.target.id, time)] = target[time]
    return out
