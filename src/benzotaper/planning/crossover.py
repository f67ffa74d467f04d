"""Crossover: switch a regimen to a long-acting drug (diazepam) one dose-time at a time.

Ashton's method, which NHS Scotland and NICE CKS follow: the long-acting drug replaces the
short-acting one one dose-time per step (the night dose first), keeping the total
diazepam-equivalent (DE) constant, then the person stabilises before the first cut. Every dose is
made from real products by ``make_up``; the rules and their sources are in
``data/rules/crossover.toml``.

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
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Self

from pydantic import field_validator, model_validator

from benzotaper.catalogue import Catalogue, Drug, Sourced
from benzotaper.catalogue.catalogue import iter_sourced
from benzotaper.catalogue.loader import DATA_DIR, read_toml, validate
from benzotaper.catalogue.models import SourceKey, Strict
from benzotaper.conversion import convert
from benzotaper.errors import CatalogueError, RegimenError, UnknownProductError
from benzotaper.planning.dispensing import Formulary, MakeUp, achievable_doses, make_up
from benzotaper.planning.models import (
    Administration,
    Dose,
    PersonFactors,
    PlanWarning,
    Step,
)

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class TargetRule(Strict):
    source: SourceKey
    unverified: bool = False
    note: str | None = None


class CrossoverRules(Strict):
    version: str
    targets: dict[str, TargetRule]
    step_days: Sourced
    use_step_days: int
    review_days: Sourced
    stabilise_days: Sourced
    use_stabilise_days: int
    order: Literal["night-first"]
    order_source: SourceKey
    night_wraps_before: str
    max_portion_mg_de: Sourced
    de_tolerance_mg: float
    de_tolerance_fraction: float
    spread_caution_ratio: Sourced
    older_adult_age: Sourced
    high_dose_mg_de: Sourced
    older_adult_sources: list[SourceKey]
    liver_sources: list[SourceKey]
    evidence_source: SourceKey
    monitoring_sources: list[SourceKey]
    multi_drug: Literal["consolidate"]
    multi_drug_source: SourceKey

    @field_validator("night_wraps_before")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not _HHMM.match(v):
            raise ValueError(f"must be HH:MM, not {v!r}")
        return v

    @model_validator(mode="after")
    def _within_sources(self) -> Self:
        if not self.step_days.low <= self.use_step_days <= self.step_days.high:
            raise ValueError(f"use_step_days {self.use_step_days} is outside the sourced range")
        if not self.targets:
            raise ValueError("targets: at least one target drug is needed")
        return self

    def source_keys(self) -> set[str]:
        keys = {fact.source for _, fact in iter_sourced(self)}
        keys.update(t.source for t in self.targets.values())
        keys.update(self.older_adult_sources + self.liver_sources + self.monitoring_sources)
        keys.update({self.order_source, self.evidence_source, self.multi_drug_source})
        return keys


def load_crossover_rules(
    path: Path | None = None, references: Mapping[str, object] | None = None
) -> CrossoverRules:
    """Read and validate the crossover rules; with ``references``, every source must resolve."""
    file = path or DATA_DIR / "rules" / "crossover.toml"
    rules = validate(CrossoverRules, read_toml(file), f"rules/{file.name}")
    if references is not None:
        for key in sorted(rules.source_keys()):
            if key not in references:
                raise CatalogueError(f"rules/{file.name}: source {key!r} is not in references.toml")
    return rules


def default_crossover_rules() -> CrossoverRules:
    """The shipped rules, from the one cached ``Knowledge`` (for tests and scripts)."""
    from benzotaper.knowledge import default_knowledge

    return default_knowledge().crossover


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


# ----------------------------------------------------------------------------- planning


def _minutes(time: str) -> int:
    h, m = time.split(":")
    return int(h) * 60 + int(m)


def night_first_key(time: str, wraps_before: str) -> int:
    """Sort key: larger is later in the night (times before ``wraps_before`` follow midnight)."""
    t = _minutes(time)
    return t + 24 * 60 if t < _minutes(wraps_before) else t


def _fmt(mg: float) -> str:
    return f"{round(mg, 3):g} mg"


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
    tgt = catalogue.drug(target)
    if tgt.id not in rules.targets:
        allowed = ", ".join(rules.targets)
        raise RegimenError(
            f"{tgt.name} is not a long-acting drug that a crossover switches to; "
            f"choose one of: {allowed}."
        )
    if not regimen:
        raise RegimenError("The regimen is empty: there is nothing to switch.")
    src_key = source or catalogue.default_source
    days = step_days if step_days is not None else rules.use_step_days
    if days < rules.step_days.low:
        raise RegimenError(
            f"Crossover steps of {days} days are shorter than the guideline's "
            f"{rules.step_days.low:g} days (switch over 1-2 weeks, not 1-2 days)."
        )

    # merge the regimen: (time, drug id) → mg
    drugs: dict[str, Drug] = {tgt.id: tgt}
    amounts: dict[tuple[str, str], float] = {}
    for adm in regimen:
        drug = catalogue.drug(adm.drug)
        drugs[drug.id] = drug
        amounts[(adm.time, drug.id)] = amounts.get((adm.time, drug.id), 0.0) + adm.mg
    switch = [k for k in amounts if k[1] != tgt.id]
    if not switch:
        raise RegimenError(
            f"The regimen is already {tgt.name} only: there is nothing to switch. "
            "Plan the taper directly (without a crossover)."
        )
    source_ids = sorted({d for _, d in switch})
    if all(d in rules.targets for d in source_ids):
        names = ", ".join(drugs[d].name for d in source_ids)
        raise RegimenError(
            f"{names} is already long-acting: switching to {tgt.name} brings no benefit. "
            "Taper it directly (without a crossover)."
        )

    # conversion factors, with the spread across sources, from the daily dose of each drug
    daily = {d: sum(mg for (_, dd), mg in amounts.items() if dd == d) for d in drugs}
    to_target: dict[str, float] = {}
    de_per_mg: dict[str, float] = {}
    warnings: list[PlanWarning] = []
    for d in drugs:
        mg = daily[d] or 1.0
        conv = convert(catalogue, d, mg, "diazepam", src_key)
        de_per_mg[d] = conv.diazepam_equivalent_mg / mg
        if d != tgt.id:
            to_t = convert(catalogue, d, mg, tgt.id, src_key)
            to_target[d] = to_t.dose_mg / mg
            warnings.append(_equivalence_warning(catalogue, drugs[d], tgt, to_t, rules))
    to_target[tgt.id] = 1.0

    tf = formulary_for(tgt)
    src_formularies: dict[str, Formulary | None] = {}
    for d in source_ids:
        try:
            src_formularies[d] = formulary_for(drugs[d])
        except UnknownProductError:
            src_formularies[d] = None

    unmade = [
        (time, d)
        for (time, d), mg in sorted(amounts.items())
        if d != tgt.id
        and ((f := src_formularies.get(d)) is None or abs(make_up(mg, f).deviation_mg) > 1e-9)
    ]
    _refuse_unmade(unmade, amounts, drugs, tgt, tf)
    for time, d in unmade:
        warnings.append(
            PlanWarning(
                code="crossover.current_dose_unlisted",
                severity="caution",
                message=(
                    f"{drugs[d].name} {_fmt(amounts[(time, d)])} at {time} cannot be made from "
                    f"the {drugs[d].name.lower()} products allowed on this market, so it is "
                    "switched first (before the night-first order), and every dose shown can be "
                    "made from real products. Check with your pharmacist."
                ),
                sources=[],
            )
        )

    wrap = rules.night_wraps_before
    times = sorted({t for t, _ in amounts}, key=_minutes)
    order = sorted(
        switch,
        key=lambda k: (
            k not in unmade,
            -night_first_key(k[0], wrap),
            -amounts[k] * de_per_mg[k[1]],
            k[1],
        ),
    )
    start_de = sum(mg * de_per_mg[d] for (_, d), mg in amounts.items())
    tolerance = max(rules.de_tolerance_mg, rules.de_tolerance_fraction * start_de)
    events = _events(order, amounts, rules.max_portion_mg_de.low, de_per_mg, src_formularies)
    initial = {t: amounts.get((t, tgt.id), 0.0) for t in times}
    reals = None
    for share in _TOLERANCE_TRIES:  # the closest to constant that the products allow, first
        reals = _target_doses(
            events, initial, times, tf, to_target, de_per_mg, tgt.id, start_de, share * tolerance
        )
        if reals is not None:
            break
    if reals is None:
        raise RegimenError(_tolerance_refusal(tgt, drugs, start_de, tolerance, tf))

    current = dict(amounts)
    tgt_real = dict(initial)
    tgt_made: dict[str, MakeUp | None] = {
        t: make_up(mg, tf) if mg > 0 else None for t, mg in initial.items()
    }
    steps: list[Step] = []
    prev_de = start_de
    for (time, d, c, r), real in zip(events, reals, strict=True):
        made = make_up(real, tf)
        tgt_real[time] = made.mg
        tgt_made[time] = made
        current[(time, d)] = r
        step = _step(
            len(steps),
            start + dt.timedelta(days=len(steps) * days),
            days,
            "crossover",
            times,
            current,
            tgt,
            tgt_real,
            tgt_made,
            drugs,
            src_formularies,
            de_per_mg,
            prev_de,
            note=_switch_note(drugs[d], tgt, time, c, r, made.mg, rules),
        )
        prev_de = step.diazepam_equivalent_mg
        steps.append(step)

    stabilise_start = start + dt.timedelta(days=len(steps) * days)
    final_doses = {t: tgt_real[t] for t in times if tgt_real[t] > 0}
    stab = _step(
        len(steps),
        stabilise_start,
        rules.use_stabilise_days,
        "stabilise",
        [t for t in times if t in final_doses],
        {},
        tgt,
        tgt_real,
        tgt_made,
        drugs,
        src_formularies,
        de_per_mg,
        prev_de,
        note=(
            f"Stay on {tgt.name.lower()} {_fmt(sum(final_doses.values()))} a day for "
            f"{rules.use_stabilise_days} days before the first cut."
        ),
    )
    steps.append(stab)
    final = [Administration(drug=tgt.id, mg=mg, time=t) for t, mg in final_doses.items()]

    warnings += _cautions(rules, tgt, drugs, source_ids, person, start_de, src_key, days)
    return CrossoverResult(
        steps=steps,
        final_regimen=final,
        warnings=warnings,
        next_start=stab.end + dt.timedelta(days=1),
        target=tgt.id,
        source=src_key,
        starting_de_mg=round(start_de, 3),
        tolerance_mg=round(tolerance, 3),
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


#: Search budget for the target doses of one crossover (nodes); plans need a few dozen.
_SEARCH_BUDGET = 5000
#: Shares of the tolerance tried in turn (keeps every step as near the start as products allow).
_TOLERANCE_TRIES = (0.25, 0.5, 0.75, 1.0)


def _events(
    order: list[tuple[str, str]],
    amounts: Mapping[tuple[str, str], float],
    portion_mg_de: float,
    de_per_mg: Mapping[str, float],
    src_formularies: Mapping[str, Formulary | None],
) -> list[tuple[str, str, float, float]]:
    """The switches in order: (time, source drug, dose before, dose left after), one per step.

    They do not depend on how the target's doses are rounded, so they are fixed first.
    """
    out: list[tuple[str, str, float, float]] = []
    for time, d in order:
        portion = portion_mg_de / de_per_mg[d]
        c = amounts[(time, d)]
        while c > 1e-9:
            r = _remainder(c, portion, src_formularies[d])
            out.append((time, d, c, r))
            c = r
    return out


def _target_doses(
    events: list[tuple[str, str, float, float]],
    initial: Mapping[str, float],
    times: list[str],
    tf: Formulary,
    to_target: Mapping[str, float],
    de_per_mg: Mapping[str, float],
    target: str,
    start_de: float,
    tolerance: float,
) -> list[float] | None:
    """The target dose at the switched time after each event, every one made exactly from the
    products allowed, so that every step's total DE stays within ``tolerance`` of ``start_de``.

    Depth-first: at each step the candidates closest to the starting total come first (then
    closest to the exact converted dose), so the answer is the greedy one whenever the greedy
    one works; a step that cannot stay within tolerance sends the search back to choose an
    earlier rounding differently. None: no choice keeps every step within tolerance.
    """
    f_t = de_per_mg[target]
    src_de = []
    exact_t = []
    exact = dict(initial)
    remaining: dict[tuple[str, str], float] = {}
    for time, d, c, _ in events:
        remaining.setdefault((time, d), c)  # the first switch of a dose-time starts from it all
    for time, d, c, r in events:
        remaining[(time, d)] = r
        src_de.append(sum(mg * de_per_mg[dd] for (_, dd), mg in remaining.items()))
        exact[time] += (c - r) * to_target[d]
        exact_t.append(exact[time])
    top = (start_de + tolerance) / f_t
    grid = [0.0, *achievable_doses(tf, top + 1e-9)]
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

    return chosen if search(0, dict(initial)) else None


def _refuse_unmade(
    unmade: list[tuple[str, str]],
    amounts: Mapping[tuple[str, str], float],
    drugs: Mapping[str, Drug],
    tgt: Drug,
    tf: Formulary,
) -> None:
    """Doses that no product allowed can make would be shown without pieces: at most one such
    dose-time can be switched first (so it is never shown); more, or a target dose taken now
    that cannot be made, are refused with what to do."""
    bad_target = [
        (t, mg)
        for (t, d), mg in sorted(amounts.items())
        if d == tgt.id and abs(make_up(mg, tf).deviation_mg) > 1e-9
    ]
    if len(unmade) <= 1 and not bad_target:
        return
    listed = [f"{drugs[d].name.lower()} {_fmt(amounts[(t, d)])} at {t}" for t, d in unmade]
    listed += [f"{tgt.name.lower()} {_fmt(mg)} at {t}" for t, mg in bad_target]
    raise RegimenError(
        "These doses taken now cannot be made from the products allowed on this market: "
        + "; ".join(listed)
        + ". A crossover shows every dose as the pieces to take, so it cannot start from them. "
        "Check with your pharmacist which products you take (another --market, --liquid or "
        "--compounded may list them), or ask your prescriber about doses the products can make."
    )


def _tolerance_refusal(
    tgt: Drug, drugs: Mapping[str, Drug], start_de: float, tolerance: float, tf: Formulary
) -> str:
    sources = ", ".join(d.name.lower() for d in drugs.values() if d.id != tgt.id)
    hint = (
        " Allowing an oral liquid (--liquid) gives finer doses."
        if not tf.liquid and any(p.form.is_liquid for p in tgt.products_in(tf.market))
        else ""
    )
    return (
        f"Switching {sources} to {tgt.name.lower()} with the products allowed cannot keep the "
        f"total within {tolerance:.2g} mg of the starting {start_de:.3g} mg "
        "diazepam-equivalent at every step (the crossover keeps the dose constant; the "
        f"{tgt.name.lower()} products allowed cannot make doses close enough)."
        f"{hint} Otherwise taper directly (without --crossover), or ask your prescriber and "
        "pharmacist about other strengths."
    )


def _remainder(c: float, portion: float, f: Formulary | None) -> float:
    """What is left of the source dose after this step (0 when the rest fits one portion)."""
    if c <= portion + 1e-9 or f is None:
        return 0.0
    below = [x for x in achievable_doses(f, c) if x < c - 1e-9]
    within = [x for x in below if x >= c - portion - 1e-9]
    if within:
        return min(within)
    return max(below, default=0.0)


def _step(
    index: int,
    start: dt.date,
    days: int,
    phase: Literal["crossover", "stabilise"],
    times: list[str],
    current: Mapping[tuple[str, str], float],
    tgt: Drug,
    tgt_real: Mapping[str, float],
    tgt_made: Mapping[str, MakeUp | None],
    drugs: Mapping[str, Drug],
    src_formularies: Mapping[str, Formulary | None],
    de_per_mg: Mapping[str, float],
    prev_de: float,
    note: str,
) -> Step:
    doses: list[Dose] = []
    daily: dict[str, float] = {}
    de = 0.0
    for time in times:
        for (t, d), mg in current.items():
            if t != time:
                continue
            f = src_formularies.get(d)
            pieces = []
            if f is not None and mg > 0:
                mu = make_up(mg, f)
                pieces = mu.pieces if abs(mu.deviation_mg) < 1e-9 else []
            doses.append(Dose(time=time, drug=d, mg=round(mg, 4), target_mg=mg, make_up=pieces))
            daily[d] = round(daily.get(d, 0.0) + mg, 4)
            de += mg * de_per_mg[d]
        tmg = tgt_real.get(time, 0.0)
        made = tgt_made.get(time)
        if phase == "crossover" or tmg > 0:
            doses.append(
                Dose(
                    time=time,
                    drug=tgt.id,
                    mg=round(tmg, 4),
                    target_mg=made.target_mg if made else tmg,
                    make_up=made.pieces if made else [],
                )
            )
        daily[tgt.id] = round(daily.get(tgt.id, 0.0) + tmg, 4)
        de += tmg * de_per_mg[tgt.id]
    de = round(de, 4)
    change = None if prev_de <= 0 else round((de - prev_de) / prev_de * 100, 2)
    return Step(
        index=index,
        start=start,
        end=start + dt.timedelta(days=days - 1),
        phase=phase,
        doses=doses,
        daily_mg=daily,
        diazepam_equivalent_mg=de,
        change_percent=change,
        note=note,
    )


def _switch_note(
    src: Drug, tgt: Drug, time: str, before: float, after: float, tgt_mg: float, r: CrossoverRules
) -> str:
    lo, hi = r.review_days.low, r.review_days.high
    if after <= 0:
        what = f"Switch the {time} {src.name.lower()} {_fmt(before)} to {tgt.name.lower()}"
        take = f"{tgt.name.lower()} {_fmt(tgt_mg)} at {time}, no {src.name.lower()}"
    else:
        what = (
            f"Switch {_fmt(before - after)} of the {time} {src.name.lower()} {_fmt(before)} "
            f"to {tgt.name.lower()}"
        )
        take = f"{src.name.lower()} {_fmt(after)} and {tgt.name.lower()} {_fmt(tgt_mg)} at {time}"
    return (
        f"{what}: take {take}. "
        f"Review after {lo:g}-{hi:g} days: drowsiness or unsteadiness means too much, anxiety, "
        "poor sleep or other withdrawal symptoms mean too little; tell your prescriber."
    )


def _equivalence_warning(
    catalogue: Catalogue, src: Drug, tgt: Drug, conv: object, rules: CrossoverRules
) -> PlanWarning:
    from benzotaper.conversion import Conversion

    assert isinstance(conv, Conversion)
    values: list[float] = []
    for v in conv.by_source.values():
        values += v if isinstance(v, list) else [v]
    lo, hi = min(values), max(values)
    ratio = hi / lo if lo > 0 else float("inf")
    ref = catalogue.reference(conv.source)
    text = (
        f"{src.name} to {tgt.name.lower()} uses {ref.authors} ({ref.year}): "
        f"{_fmt(conv.from_mg)} {src.name.lower()} a day ≈ {_fmt(conv.dose_mg)} "
        f"{tgt.name.lower()}. Across {len(conv.by_source)} source(s) the same dose is "
        f"{round(lo, 3):g}–{_fmt(hi)}."
    )
    sources = [conv.source]
    severity: Literal["info", "caution"] = "info"
    if ratio >= rules.spread_caution_ratio.low - 1e-9:
        severity = "caution"
        text += (
            f" The tables differ by ×{ratio:.1g} or more for {src.name.lower()}: the switched "
            "dose may be too strong or too weak, so watch closely after each switch."
        )
        sources.append(rules.spread_caution_ratio.source)
    return PlanWarning(
        code="crossover.equivalence", severity=severity, message=text, sources=sources
    )


def _cautions(
    rules: CrossoverRules,
    tgt: Drug,
    drugs: Mapping[str, Drug],
    source_ids: list[str],
    person: PersonFactors | None,
    start_de: float,
    src_key: str,
    days: int,
) -> list[PlanWarning]:
    out = [
        PlanWarning(
            code="crossover.monitoring",
            severity="info",
            message=(
                f"Each switch step lasts {days} days. After each switch, review within "
                f"{rules.review_days.low:g}-{rules.review_days.high:g} days: drowsiness, "
                "unsteadiness or slurred speech suggest too much; anxiety, poor sleep, "
                "restlessness or other withdrawal symptoms suggest too little. The dose can be "
                "adjusted with your prescriber before the next switch."
            ),
            sources=list(rules.monitoring_sources),
        ),
        PlanWarning(
            code="crossover.evidence",
            severity="info",
            message=(
                "Whether switching first helps is not settled: it helps most with withdrawal "
                "between doses or when small doses are hard to make. Your preference decides; "
                "`compare` shows the direct taper beside it."
            ),
            sources=[rules.evidence_source],
        ),
    ]
    target_rule = rules.targets[tgt.id]
    if target_rule.unverified:
        out.append(
            PlanWarning(
                code="crossover.target_unverified",
                severity="caution",
                message=(
                    f"Switching to {tgt.name.lower()} is allowed because it is long-acting, but "
                    "its use as a switch target was not checked in a primary source. "
                    + (target_rule.note or "")
                ).strip(),
                sources=[target_rule.source],
            )
        )
    if len(source_ids) > 1:
        names = " and ".join(drugs[d].name.lower() for d in source_ids)
        out.append(
            PlanWarning(
                code="crossover.multi_drug",
                severity="info",
                message=(
                    f"Several drugs ({names}) are all switched into {tgt.name.lower()}, one "
                    "dose-time per step (night first; at the same time, the larger dose first), "
                    f"then {tgt.name.lower()} alone is tapered."
                ),
                sources=[rules.multi_drug_source],
            )
        )
    if person is not None and person.age is not None and person.age >= rules.older_adult_age.low:
        out.append(
            PlanWarning(
                code="crossover.older_adult",
                severity="caution",
                message=(
                    f"Age {person.age}: diazepam and its metabolite desmethyldiazepam build up "
                    "in older people (half-lives roughly double), so sedation and falls can "
                    "creep up over weeks. Tapering the current drug directly may be better; "
                    "discuss it with your prescriber."
                ),
                sources=[rules.older_adult_age.source, *rules.older_adult_sources],
            )
        )
    if person is not None and person.liver_impairment:
        out.append(
            PlanWarning(
                code="crossover.liver",
                severity="caution",
                message=(
                    "Liver impairment: diazepam can accumulate. Tapering lorazepam or oxazepam "
                    "directly is preferred; seek specialist advice before switching."
                ),
                sources=list(rules.liver_sources),
            )
        )
    if start_de > rules.high_dose_mg_de.low:
        out.append(
            PlanWarning(
                code="crossover.high_dose",
                severity="caution",
                message=(
                    f"A very high dose ({start_de:.3g} mg diazepam-equivalent a day, above "
                    f"{rules.high_dose_mg_de.low:g} mg): differences between equivalence tables "
                    "grow with the dose, so a switch this large needs specialist supervision."
                ),
                sources=[rules.high_dose_mg_de.source, src_key],
            )
        )
    return out
