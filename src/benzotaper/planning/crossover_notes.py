"""What a crossover tells the person: the note on each switch and its warnings, with sources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from benzotaper.catalogue import Catalogue, Drug
from benzotaper.conversion import Conversion
from benzotaper.planning.crossover_rules import CrossoverRules
from benzotaper.planning.models import PersonFactors, PlanWarning
from benzotaper.planning.notices import dose_text


def fmt_mg(mg: float) -> str:
    """An estimate or an equivalence (not a dose taken): to 3 decimals."""
    return f"{round(mg, 3):g} mg"


def switch_note(
    src: Drug, tgt: Drug, time: str, before: float, after: float, tgt_mg: float, r: CrossoverRules
) -> str:
    lo, hi = r.review_days.low, r.review_days.high
    s, t = src.name.lower(), tgt.name.lower()
    if after <= 0:
        what = f"Switch the {time} {s} {dose_text(before)} to {t}"
        take = f"{t} {dose_text(tgt_mg)} at {time}, no {s}"
    else:
        what = f"Switch {dose_text(before - after)} of the {time} {s} {dose_text(before)} to {t}"
        take = f"{s} {dose_text(after)} and {t} {dose_text(tgt_mg)} at {time}"
    return (
        f"{what}: take {take}. "
        f"Review after {lo:g}-{hi:g} days: drowsiness or unsteadiness means too much, anxiety, "
        "poor sleep or other withdrawal symptoms mean too little; tell your prescriber."
    )


def unreplaced_note(
    src: Drug,
    tgt: Drug,
    time: str,
    before: float,
    after: float,
    tgt_mg: float,
    cut: tuple[float, float],
    r: CrossoverRules,
) -> str:
    """A switch that gives none of the target (the products make no dose that small and the
    crossover's tolerance allows the dip): said as the cut it is, with its size, never as a
    switch to "0 mg". ``cut``: (the cut, the day's dose before it), mg diazepam-equivalent."""
    s, t = src.name.lower(), tgt.name.lower()
    cut_de, day_de = cut
    if after <= 0:
        what = f"Stop the {time} {s} {dose_text(before)}"
    else:
        what = f"Cut the {time} {s} {dose_text(before)} to {dose_text(after)}"
    kept = [f"{s} {dose_text(after)}"] if after > 0 else []
    kept += [f"{t} {dose_text(tgt_mg)}"] if tgt_mg > 0 else []
    take = f"{' and '.join(kept) or 'nothing'} at {time}"
    share = f"{100 * cut_de / day_de:.0f}% of the day's {fmt_mg(day_de)}"  # day_de >= cut_de > 0
    return (
        f"{what}: no {t} dose this small can be made from the products allowed, so nothing "
        f"replaces it (a cut of {fmt_mg(cut_de)} diazepam-equivalent, {share}); take {take}. "
        f"Review after {r.review_days.low:g}-{r.review_days.high:g} days: anxiety, poor sleep "
        "or other withdrawal symptoms mean the cut is too much; tell your prescriber."
    )


def equivalence_warning(
    catalogue: Catalogue, src: Drug, tgt: Drug, conv: Conversion, rules: CrossoverRules
) -> PlanWarning:
    values: list[float] = []
    for v in conv.by_source.values():
        values += v if isinstance(v, list) else [v]
    lo, hi = min(values), max(values)
    ratio = hi / lo if lo > 0 else float("inf")
    ref = catalogue.reference(conv.source)
    text = (
        f"{src.name} to {tgt.name.lower()} uses {ref.authors} ({ref.year}): "
        f"{fmt_mg(conv.from_mg)} {src.name.lower()} a day ≈ {fmt_mg(conv.dose_mg)} "
        f"{tgt.name.lower()}. Across {len(conv.by_source)} source(s) the same dose is "
        f"{round(lo, 3):g}–{fmt_mg(hi)}."
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


def cautions(
    rules: CrossoverRules,
    tgt: Drug,
    drugs: Mapping[str, Drug],
    source_ids: list[str],
    person: PersonFactors | None,
    start_de: float,
    src_key: str,
    days: int,
) -> list[PlanWarning]:
    """Every crossover's two notes (how to review each switch, what the evidence says), then the
    cautions this switch calls for: an unchecked target, several drugs, the person, the dose."""
    found = [
        _unverified_target(rules, tgt),
        _several_drugs(rules, tgt, drugs, source_ids),
        *_person_cautions(rules, person),
        _high_dose(rules, start_de, src_key),
    ]
    return [*_always(rules, days), *(w for w in found if w is not None)]


def _always(rules: CrossoverRules, days: int) -> list[PlanWarning]:
    """What every crossover says: how to tell too much from too little after each switch, and
    that switching first is a choice, not a settled benefit."""
    return [
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


def _unverified_target(rules: CrossoverRules, tgt: Drug) -> PlanWarning | None:
    """A target allowed for being long-acting, whose use as a target no primary source checked."""
    target_rule = rules.targets[tgt.id]
    if not target_rule.unverified:
        return None
    return PlanWarning(
        code="crossover.target_unverified",
        severity="caution",
        message=(
            f"Switching to {tgt.name.lower()} is allowed because it is long-acting, but "
            "its use as a switch target was not checked in a primary source. "
            + (target_rule.note or "")
        ).strip(),
        sources=[target_rule.source],
    )


def _several_drugs(
    rules: CrossoverRules, tgt: Drug, drugs: Mapping[str, Drug], source_ids: list[str]
) -> PlanWarning | None:
    """With several drugs, the order of the switches is worth saying."""
    if len(source_ids) <= 1:
        return None
    names = " and ".join(drugs[d].name.lower() for d in source_ids)
    return PlanWarning(
        code="crossover.multi_drug",
        severity="info",
        message=(
            f"Several drugs ({names}) are all switched into {tgt.name.lower()}, one "
            "dose-time per step (night first; at the same time, the larger dose first), "
            f"then {tgt.name.lower()} alone is tapered."
        ),
        sources=[rules.multi_drug_source],
    )


def _person_cautions(
    rules: CrossoverRules, person: PersonFactors | None
) -> list[PlanWarning | None]:
    """Older age and liver impairment: diazepam accumulates, so switching may not be the better
    way for this person."""
    if person is None:
        return []
    older = None
    if person.age is not None and person.age >= rules.older_adult_age.low:
        older = PlanWarning(
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
    liver = None
    if person.liver_impairment:
        liver = PlanWarning(
            code="crossover.liver",
            severity="caution",
            message=(
                "Liver impairment: diazepam can accumulate. Tapering lorazepam or oxazepam "
                "directly is preferred; seek specialist advice before switching."
            ),
            sources=list(rules.liver_sources),
        )
    return [older, liver]


def _high_dose(rules: CrossoverRules, start_de: float, src_key: str) -> PlanWarning | None:
    """Above the rule's dose, the equivalence tables disagree too much to switch unsupervised."""
    if start_de <= rules.high_dose_mg_de.low:
        return None
    return PlanWarning(
        code="crossover.high_dose",
        severity="caution",
        message=(
            f"A very high dose ({start_de:.3g} mg diazepam-equivalent a day, above "
            f"{rules.high_dose_mg_de.low:g} mg): differences between equivalence tables "
            "grow with the dose, so a switch this large needs specialist supervision."
        ),
        sources=[rules.high_dose_mg_de.source, src_key],
    )
