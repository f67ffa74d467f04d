"""Withdrawal-risk assessment: the 2025 joint guideline's Table 2, a recommended pace, and flags.

The rules (thresholds with sources, flag wording, severities) live in ``data/rules/risk.toml``;
this module only applies them, so a reviewer can check every figure against its source in one
place. The core never reads files: ``assess_risk`` takes the rules as an argument, and
``load_risk_rules`` is the strict loader adapters call.
"""

# No "from __future__ import annotations": see benzotaper.planning.models.
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, NamedTuple, Self

from pydantic import Field, model_validator

from benzotaper.catalogue.catalogue import iter_sourced
from benzotaper.catalogue.loader import DATA_DIR, read_toml, validate
from benzotaper.catalogue.models import Drug, Sourced, SourceKey, Strict
from benzotaper.doses import above_label_maximum
from benzotaper.errors import CatalogueError
from benzotaper.planning.models import Pace, PersonFactors, PlanWarning, RiskAssessment, Severity

Level = Literal["rare", "lower", "moderate", "high"]
DoseBand = Literal["low", "moderate", "high"]

#: Placeholders a flag message may use (filled by ``assess_risk``).
MESSAGE_FIELDS = frozenset({"age", "de", "threshold", "drug", "daily", "maximum", "attempts"})
_BANDS: tuple[DoseBand, ...] = ("low", "moderate", "high")
_SEVERITY_ORDER = {"danger": 0, "caution": 1, "info": 2}


class BandExample(Strict):
    """Table 2's own example for one drug, in mg of that drug a day."""

    low_max_mg: Sourced
    moderate_max_mg: Sourced


class DoseBands(Strict):
    low_max_mg_de: Sourced
    moderate_max_mg_de: Sourced
    #: The guideline's own equivalence source, in which the bands are applied.
    equivalents_source: SourceKey
    examples: dict[str, BandExample] = Field(default_factory=dict)


class Table2(Strict):
    rare_max_days_per_week: Sourced
    short_months: Sourced
    long_months: Sourced
    assume_long_when_unknown: bool


class PaceByLevel(Strict):
    rare: Pace
    lower: Pace
    moderate: Pace
    high: Pace
    source: SourceKey

    def for_level(self, level: Level) -> Pace:
        pace: Pace = getattr(self, level)
        return pace


class Thresholds(Strict):
    older_adult_age: Sourced
    very_high_dose_mg_de: Sourced
    very_high_dose_equivalents_source: SourceKey
    anticonvulsant_drugs: list[str]
    anticonvulsant_source: SourceKey


class FlagRule(Strict):
    code: str
    severity: Severity
    specialist: bool
    slow: bool
    message: str
    sources: list[SourceKey]

    @model_validator(mode="after")
    def _known_placeholders(self) -> Self:
        names = {f for _, f, _, _ in string.Formatter().parse(self.message) if f}
        unknown = names - MESSAGE_FIELDS
        if unknown:
            raise ValueError(f"message uses unknown placeholder(s): {', '.join(sorted(unknown))}")
        return self


class Flags(Strict):
    seizures_high_dose: FlagRule
    seizures: FlagRule
    anticonvulsant: FlagRule
    alcohol: FlagRule
    polydrug: FlagRule
    psychiatric: FlagRule
    bipolar: FlagRule
    pregnancy: FlagRule
    breastfeeding: FlagRule
    older_adult: FlagRule
    falls: FlagRule
    dementia: FlagRule
    opioids: FlagRule
    complicated_withdrawal: FlagRule
    other_substance_use: FlagRule
    opioid_agonist_treatment: FlagRule
    other_sedatives: FlagRule
    suicidality: FlagRule
    pdmp_reminder: FlagRule
    liver: FlagRule
    sleep_apnoea: FlagRule
    previous_attempts: FlagRule
    above_label_maximum: FlagRule
    very_high_dose: FlagRule
    duration_unknown: FlagRule


class RiskRules(Strict):
    version: str
    dose_band: DoseBands
    table2: Table2
    pace: PaceByLevel
    thresholds: Thresholds
    flags: Flags

    @model_validator(mode="after")
    def _bands_ordered(self) -> Self:
        if self.dose_band.low_max_mg_de.low > self.dose_band.moderate_max_mg_de.low:
            raise ValueError("dose_band.low_max_mg_de must not exceed moderate_max_mg_de")
        if self.table2.short_months.low > self.table2.long_months.low:
            raise ValueError("table2.short_months must not exceed long_months")
        return self

    def source_keys(self) -> set[str]:
        """Every source key the rules cite, for the provenance check against references."""
        keys = {fact.source for _, fact in iter_sourced(self)}
        keys.add(self.pace.source)
        keys.add(self.thresholds.anticonvulsant_source)
        keys.add(self.thresholds.very_high_dose_equivalents_source)
        keys.add(self.dose_band.equivalents_source)
        for name in Flags.model_fields:
            keys.update(getattr(self.flags, name).sources)
        return keys


def load_risk_rules(
    path: Path | None = None, references: Mapping[str, object] | None = None
) -> RiskRules:
    """Read and validate the risk rules; with ``references``, every source must resolve.

    Adapters load every rules file through ``benzotaper.knowledge``, which checks the sources.
    """
    file = path or DATA_DIR / "rules" / "risk.toml"
    rules = validate(RiskRules, read_toml(file), f"rules/{file.name}")
    if references is not None:
        for key in sorted(rules.source_keys()):
            if key not in references:
                raise CatalogueError(f"rules/{file.name}: source {key!r} is not in references.toml")
    return rules


def default_risk_rules() -> RiskRules:
    """The shipped rules, from the one cached ``Knowledge`` (for tests and scripts)."""
    from benzotaper.knowledge import default_knowledge

    return default_knowledge().risk


# ----------------------------------------------------------------------------- assessment


def _yes_no_flags(person: PersonFactors, f: Flags) -> list[FlagRule]:
    """The flags raised by a yes/no factor alone (opioid agonist treatment is an opioid too)."""
    raised = [
        (person.complicated_withdrawal, f.complicated_withdrawal),
        (person.suicidality, f.suicidality),
        (person.alcohol, f.alcohol),
        (person.other_substance_use, f.other_substance_use),
        (person.psychiatric, f.psychiatric),
        (person.bipolar, f.bipolar),
        (person.pregnant, f.pregnancy),
        (person.breastfeeding, f.breastfeeding),
        (person.falls, f.falls),
        (person.dementia, f.dementia),
        (person.opioids or person.opioid_agonist_treatment, f.opioids),
        (person.opioid_agonist_treatment, f.opioid_agonist_treatment),
        (person.other_sedatives, f.other_sedatives),
        (person.liver_impairment, f.liver),
        (person.sleep_apnoea, f.sleep_apnoea),
        (not person.pdmp_checked, f.pdmp_reminder),
    ]
    return [rule for on, rule in raised if on]


def dose_band(diazepam_equivalent_mg: float, rules: RiskRules) -> DoseBand:
    if diazepam_equivalent_mg <= rules.dose_band.low_max_mg_de.low:
        return "low"
    if diazepam_equivalent_mg <= rules.dose_band.moderate_max_mg_de.low:
        return "moderate"
    return "high"


class InUnits(NamedTuple):
    """A regimen's diazepam equivalent in one source's units, and the sources it needed."""

    mg: float
    sources: tuple[str, ...]


def in_units(
    daily_mg: Mapping[str, float],
    drugs: Sequence[Drug],
    source: str,
    fallback_de_per_mg: Mapping[str, float],
    fallback_source: str,
) -> InUnits:
    """The daily DE by ``source``; a drug it does not list uses the plan's factor instead."""
    total, used = 0.0, []
    for drug in {d.id: d for d in drugs}.values():
        eq = drug.equivalent(source)
        if eq is not None:
            total += daily_mg.get(drug.id, 0.0) * 10.0 / eq.mid
            used.append(source)
        else:
            total += daily_mg.get(drug.id, 0.0) * fallback_de_per_mg[drug.id]
            used.append(fallback_source)
    return InUnits(total, tuple(dict.fromkeys(used)))


def _example_band(
    daily_mg: Mapping[str, float], drugs: Sequence[Drug], rules: RiskRules
) -> tuple[str, DoseBand] | None:
    """Table 2's own example band, for a regimen of one drug that has an example."""
    ids = {d.id for d in drugs}
    if len(ids) != 1:
        return None
    (drug_id,) = ids
    example = rules.dose_band.examples.get(drug_id)
    if example is None:
        return None
    mg = daily_mg.get(drug_id, 0.0)
    if mg <= example.low_max_mg.low:
        return drug_id, "low"
    return drug_id, "moderate" if mg <= example.moderate_max_mg.low else "high"


class BandResult(NamedTuple):
    band: DoseBand
    de: InUnits
    example: tuple[str, DoseBand] | None
    reason: str

    def sources(self, rules: RiskRules) -> list[str]:
        """The equivalence sources used, then Table 2's own example's source if one applied."""
        example = [] if self.example is None else [rules.dose_band.examples[self.example[0]]]
        return list(dict.fromkeys([*self.de.sources, *(e.low_max_mg.source for e in example)]))


def guideline_band(
    daily_mg: Mapping[str, float] | None,
    drugs: Sequence[Drug],
    rules: RiskRules,
    plan_de: float,
    plan_de_per_mg: Mapping[str, float] | None,
    plan_source: str,
) -> BandResult:
    """Table 2's dose band in the guideline's own units (see rules/risk.toml [dose_band])."""
    b = rules.dose_band
    limits = f"low ≤{b.low_max_mg_de.low:g}, moderate ≤{b.moderate_max_mg_de.low:g}, high above"
    if daily_mg is None or plan_de_per_mg is None:
        band = dose_band(plan_de, rules)
        return BandResult(band, InUnits(plan_de, (plan_source,)), None, "")
    de = in_units(daily_mg, drugs, b.equivalents_source, plan_de_per_mg, plan_source)
    by_de = dose_band(de.mg, rules)
    example = _example_band(daily_mg, drugs, rules)
    band = by_de if example is None else max(by_de, example[1], key=_BANDS.index)
    units = "the guideline's own equivalents (its Table 7, VA/DoD 2021 column)"
    if plan_source in de.sources:
        units += f"; drugs that table does not list by the plan's source, {plan_source}"
    reason = f"Dose band {band} (Table 2: {limits} mg DE): {de.mg:.3g} mg DE a day by {units}."
    if example is not None:
        drug_id, ex_band = example
        ex = b.examples[drug_id]
        reason += (
            f" Table 2's own example for {drug_id} (low ≤{ex.low_max_mg.low:g} mg, moderate "
            f"≤{ex.moderate_max_mg.low:g} mg, high above) puts {daily_mg[drug_id]:g} mg a day "
            f"in the {ex_band} band"
            + (
                "."
                if ex_band == by_de
                else f"; the two disagree, so the higher band, {band}, is used (policy)."
            )
        )
    return BandResult(band, de, example, reason)


def _table2(
    person: PersonFactors, band: DoseBand, rules: RiskRules
) -> tuple[Level, list[str], bool]:
    """Table 2's row → (level, reasons, duration was assumed)."""
    t = rules.table2
    if person.days_per_week <= t.rare_max_days_per_week.low:
        return (
            "rare",
            [
                f"Taken {person.days_per_week} day(s) a week (≤{t.rare_max_days_per_week.low:g}): "
                "clinically significant withdrawal is rare (Table 2)."
            ],
            False,
        )
    assumed = person.years_on_drug is None
    months = None if person.years_on_drug is None else person.years_on_drug * 12
    often = f"taken {person.days_per_week} days a week"
    if months is None:
        months = t.long_months.low if t.assume_long_when_unknown else 0.0
    if months < t.short_months.low:
        return "lower", [f"Under 1 month, {often}: withdrawal risk lower but possible."], assumed
    if months < t.long_months.low:
        if band == "low":
            return (
                "lower",
                [f"1–3 months at a low dose, {often}: withdrawal risk lower but possible."],
                assumed,
            )
        row = f"1–3 months at a {band} dose, {often}"
    else:
        row = f"{'Assumed ' if assumed else ''}3 months or more, {often}"
    if band == "high":
        return (
            "high",
            [f"{row}: withdrawal risk (rises with dose and duration); the dose is high."],
            assumed,
        )
    return "moderate", [f"{row}: withdrawal risk (rises with dose and duration)."], assumed


def assess_risk(
    person: PersonFactors,
    diazepam_equivalent_mg: float,
    drugs: Sequence[Drug],
    rules: RiskRules,
    *,
    daily_mg: Mapping[str, float] | None = None,
    de_per_mg: Mapping[str, float] | None = None,
    source: str = "the plan's source",
) -> RiskAssessment:
    """Risk level, recommended pace and sourced flags for one person and regimen.

    ``diazepam_equivalent_mg`` is the DE by the plan's equivalence ``source``. With ``daily_mg``
    (drug id → mg a day) and ``de_per_mg`` (the plan's DE factor per drug), each threshold is
    applied in its own source's units (Table 2's bands in the guideline's equivalents; the very
    high dose in UK ones) and the label maximum is checked; without them, the plan's DE is used.
    """
    de = round(diazepam_equivalent_mg, 2)
    result = guideline_band(daily_mg, drugs, rules, diazepam_equivalent_mg, de_per_mg, source)
    band = result.band
    level, reasons, assumed = _table2(person, band, rules)
    reasons.append(
        result.reason
        or (
            f"Dose {de:g} mg diazepam-equivalent a day: {band} band "
            f"(low ≤{rules.dose_band.low_max_mg_de.low:g}, "
            f"moderate ≤{rules.dose_band.moderate_max_mg_de.low:g}, high above)."
        )
    )
    raised = _Raised(de)
    _seizure_flags(raised, person, result, rules)
    _regimen_flags(raised, drugs, rules)
    _person_flags(raised, person, rules)
    _dose_flags(raised, drugs, rules, diazepam_equivalent_mg, daily_mg, de_per_mg, source)
    if assumed:
        raised(rules.flags.duration_unknown)

    pace = rules.pace.for_level(level)
    slowing = [r.code for r, _ in raised.flags if r.slow]
    if slowing and pace != "slow":
        reasons.append(f"Pace slowed to 'slow' by: {', '.join(slowing)}.")
        pace = "slow"
    warnings = sorted((w for _, w in raised.flags), key=lambda w: _SEVERITY_ORDER[w.severity])
    return RiskAssessment(
        level=level,
        diazepam_equivalent_mg=de,
        dose_band=band,
        dose_band_diazepam_equivalent_mg=round(result.de.mg, 2),
        dose_band_sources=list(result.de.sources)
        + (
            [rules.dose_band.examples[result.example[0]].low_max_mg.source]
            if result.example
            else []
        ),
        recommended_pace=pace,
        specialist_care=any(r.specialist for r, _ in raised.flags),
        reasons=reasons,
        flags=warnings,
    )


class _Raised:
    """The flags raised so far, each kept with its rule: the rule says whether it slows the pace
    or calls for specialist care, the warning is what the person and prescriber read."""

    def __init__(self, de: float) -> None:
        self.de = de
        self.flags: list[tuple[FlagRule, PlanWarning]] = []

    def __call__(self, rule: FlagRule, extra_sources: Sequence[str] = (), **values: object) -> None:
        text = rule.message.format(**{"de": self.de, **values})  # values may give their own DE
        sources = list(dict.fromkeys([*rule.sources, *extra_sources]))
        warning = PlanWarning(code=rule.code, severity=rule.severity, message=text, sources=sources)
        self.flags.append((rule, warning))


def _seizure_flags(
    raised: _Raised, person: PersonFactors, band: BandResult, rules: RiskRules
) -> None:
    """A history of seizures, with its own wording when the dose is in the high band."""
    if not person.seizures:
        return
    if band.band == "high":
        high = rules.dose_band.moderate_max_mg_de.low
        raised(rules.flags.seizures_high_dose, de=round(band.de.mg, 2), threshold=high)
    else:
        raised(rules.flags.seizures)


def _regimen_flags(raised: _Raised, drugs: Sequence[Drug], rules: RiskRules) -> None:
    """What the drugs themselves call for: one used against seizures, or several at once."""
    f, th = rules.flags, rules.thresholds
    for drug in drugs:
        if drug.id in th.anticonvulsant_drugs:
            raised(f.anticonvulsant, [th.anticonvulsant_source], drug=drug.name)
    if len({d.id for d in drugs}) > 1:
        names = list(dict.fromkeys(d.name for d in drugs))
        raised(f.polydrug, drug=" and ".join(names))


def _person_flags(raised: _Raised, person: PersonFactors, rules: RiskRules) -> None:
    """The person's age, earlier attempts and every yes/no factor the rules name."""
    f, th = rules.flags, rules.thresholds
    if person.age is not None and person.age >= th.older_adult_age.low:
        raised(f.older_adult, age=person.age, threshold=th.older_adult_age.low)
    if person.previous_attempts > 0:
        raised(f.previous_attempts, attempts=person.previous_attempts)
    for rule in _yes_no_flags(person, f):
        raised(rule)


def _dose_flags(
    raised: _Raised,
    drugs: Sequence[Drug],
    rules: RiskRules,
    diazepam_equivalent_mg: float,
    daily_mg: Mapping[str, float] | None,
    de_per_mg: Mapping[str, float] | None,
    source: str,
) -> None:
    """A drug above its label maximum, and a very high total dose measured in the units of the
    threshold's own source (UK equivalents) when the regimen's daily doses are known."""
    f, th = rules.flags, rules.thresholds
    by_id = {d.id: d for d in drugs}
    for drug_id, mg in (daily_mg or {}).items():
        known = by_id.get(drug_id)
        if known is not None and above_label_maximum(known, mg):
            raised(
                f.above_label_maximum,
                [known.max_daily_mg.source],
                drug=known.name.lower(),
                daily=round(mg, 3),
                maximum=known.max_daily_mg.high,
            )
    very_high = diazepam_equivalent_mg
    if daily_mg is not None and de_per_mg is not None:
        uk = th.very_high_dose_equivalents_source
        very_high = in_units(daily_mg, drugs, uk, de_per_mg, source).mg
    if very_high > th.very_high_dose_mg_de.low:
        raised(f.very_high_dose, de=round(very_high, 2), threshold=th.very_high_dose_mg_de.low)
