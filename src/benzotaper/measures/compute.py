"""The clinic measures: counts and scores from every patient's facts for one period.

Pure: :func:`clinic_report` takes the patients' records, the period and the definitions
(``data/measures.toml``) and returns a :class:`ClinicReport`. Each published measure is
benzotaper's adaptation, computed from what people record; its ``adaptation`` and
``cannot_see`` say what differs from the published definition, which ``sources`` cite.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from benzotaper.measures.definitions import MeasureBook, MeasureDef, RateDef
from benzotaper.measures.facts import Facts, clinic_facts
from benzotaper.measures.model import (
    ClinicData,
    ClinicReport,
    MeasureResult,
    PatientRecord,
    Period,
    RateResult,
    Unit,
)

_EPS = 1e-9


@dataclass(frozen=True)
class Counts:
    """The populations of one rate, before scoring."""

    initial: int
    denominator: int
    numerator: int
    numerator_exclusions: int = 0
    events: int | None = None


def _proportion(d: RateDef, c: Counts) -> RateResult:
    score = c.numerator / c.denominator if c.denominator else None
    return _rate(d, c, score, "proportion")


def _rate(d: RateDef, c: Counts, score: float | None, unit: Unit) -> RateResult:
    return RateResult(
        id=d.id,
        label=d.label,
        source=d.source_key,
        primary=d.primary,
        computable=d.computable,
        initial_population=c.initial,
        denominator=c.denominator,
        numerator_exclusions=c.numerator_exclusions,
        numerator=c.numerator,
        events=c.events,
        score=None if score is None else round(score, 6),
        unit=unit,
    )


def _result(m: MeasureDef, rates: list[RateResult], age_unknown: int = 0) -> MeasureResult:
    return MeasureResult(
        id=m.id,
        title=m.title,
        steward=m.steward,
        kind=m.kind,
        scoring=m.scoring,
        improvement=m.improvement,
        sources=list(m.sources),
        definition=m.definition,
        adaptation=m.adaptation,
        cannot_see=list(m.cannot_see),
        age_unknown=age_unknown,
        rates=rates,
    )


def _aged(facts: Sequence[Facts], m: MeasureDef) -> tuple[list[Facts], int]:
    """Patients with a plan in the period old enough for ``m``, and how many have no age."""
    floor = m.min_age.low if m.min_age else 0
    present = [f for f in facts if f.in_period]
    unknown = sum(1 for f in present if f.age is None and floor > 0)
    return [f for f in present if floor <= 0 or (f.age is not None and f.age >= floor)], unknown


def dbo_members(facts: Sequence[Facts], m: MeasureDef) -> dict[str, frozenset[int]]:
    """Patient ids in each DBO rate (denominator under ``"denominator"``): nested by design."""
    aged, _ = _aged(facts, m)
    base = [f for f in aged if f.dbo_start is not None and f.dbo_start > _EPS]
    out = {"denominator": frozenset(f.pid for f in base)}
    for r in m.rates:
        assert r.threshold is not None
        out[r.id] = frozenset(f.pid for f in base if _reduced(f, r.threshold.low))
    return out


def _reduced(f: Facts, share: float) -> bool:
    """The end dose is at least ``share`` below the start dose."""
    start, end = f.dbo_start, f.dbo_end
    return start is not None and end is not None and start - end >= share * start - _EPS


def dbo(facts: Sequence[Facts], m: MeasureDef) -> MeasureResult:
    aged, unknown = _aged(facts, m)
    members = dbo_members(facts, m)
    den = len(members["denominator"])
    rates = [_proportion(r, Counts(len(aged), den, len(members[r.id]))) for r in m.rates]
    return _result(m, rates, unknown)


def dae(facts: Sequence[Facts], m: MeasureDef, supply_days: int) -> MeasureResult:
    aged, unknown = _aged(facts, m)
    z = {f.pid for f in aged if f.z_days > supply_days}
    bzd_users = [f for f in aged if f.benzo_days > supply_days]
    bzd = {f.pid for f in bzd_users if not f.seizures}
    excepted = len(bzd_users) - len(bzd)
    n = len(aged)
    rates = [
        _proportion(m.rate("dae-z"), Counts(n, n, len(z))),
        _proportion(m.rate("dae-bzd"), Counts(n, n, len(bzd), numerator_exclusions=excepted)),
        _proportion(m.rate("dae-total"), Counts(n, n, len(z | bzd))),
    ]
    return _result(m, rates, unknown)


def dde(facts: Sequence[Facts], m: MeasureDef) -> MeasureResult:
    aged, unknown = _aged(facts, m)
    fallers = [f for f in aged if f.falls_since is not None]
    falls = Counts(len(aged), len(fallers), sum(f.used_after_falls for f in fallers))
    with_dementia = [f for f in aged if f.dementia_since is not None]
    dementia = Counts(
        len(aged), len(with_dementia), sum(f.used_after_dementia for f in with_dementia)
    )
    rates = [
        _proportion(m.rate("dde-falls"), falls),
        _proportion(m.rate("dde-dementia"), dementia),
    ]
    return _result(m, rates, unknown)


def cob(facts: Sequence[Facts], m: MeasureDef, supply_days: int) -> MeasureResult:
    assert m.opioid_days is not None and m.overlap_days is not None
    aged, unknown = _aged(facts, m)
    den = [f for f in aged if f.opioid_days >= m.opioid_days.low]
    num = [f for f in den if f.overlap_days >= m.overlap_days.low and f.benzo_days > supply_days]
    rates = [_proportion(m.rate("cob"), Counts(len(aged), len(den), len(num)))]
    return _result(m, rates, unknown)


def _project(
    facts: Sequence[Facts], m: MeasureDef, hit: Callable[[Facts], bool], events: int | None = None
) -> MeasureResult:
    present = [f for f in facts if f.in_period]
    active = [f for f in present if f.active]
    counts = Counts(len(present), len(active), sum(hit(f) for f in active), events=events)
    return _result(m, [_proportion(m.rates[0], counts)])


def completion(facts: Sequence[Facts], m: MeasureDef) -> MeasureResult:
    """Reached zero; beside it, those on a planned maintain-and-review dose at the period's end
    (the plan keeps the dose for review by design: not completed, not lost either)."""
    present = [f for f in facts if f.in_period]
    active = [f for f in present if f.active]
    done = sum(f.zero_in_period for f in active)
    kept = sum(f.maintained and not f.zero_in_period for f in active)
    n, a = len(present), len(active)
    reached, maintaining = m.rates
    return _result(
        m, [_proportion(reached, Counts(n, a, done)), _proportion(maintaining, Counts(n, a, kept))]
    )


def time_to_zero(facts: Sequence[Facts], m: MeasureDef, lo: int, hi: int) -> MeasureResult:
    present = [f for f in facts if f.in_period]
    done = [f for f in present if f.zero_day is not None and lo <= f.zero_day <= hi]
    days = [f.zero_day - f.first_day for f in done if f.zero_day is not None]
    median = float(statistics.median(days)) if days else None
    counts = Counts(len(present), len(done), len(done))
    return _result(m, [_rate(m.rates[0], counts, median, "days")])


def holds(facts: Sequence[Facts], m: MeasureDef) -> MeasureResult:
    present = [f for f in facts if f.in_period]
    active = [f for f in present if f.active]
    n_holds = sum(f.holds for f in active)
    counts = Counts(len(present), len(active), n_holds, events=n_holds)
    score = n_holds / len(active) if active else None
    return _result(m, [_rate(m.rates[0], counts, score, "per patient")])


def still_off(facts: Sequence[Facts], m: MeasureDef) -> MeasureResult:
    present = [f for f in facts if f.in_period or f.zero_day is not None]
    rates = []
    for r in m.rates:
        assert r.checkpoint is not None
        cohort = [f.still_off[r.checkpoint] for f in present]
        known = [x for x in cohort if x is not None]
        rates.append(_proportion(r, Counts(len(present), len(known), sum(known))))
    return _result(m, rates)


def clinic_report(
    records: ClinicData | Iterable[PatientRecord],
    period: Period,
    book: MeasureBook,
    *,
    patients: int | None = None,
) -> ClinicReport:
    """Every measure of ``book`` for ``records`` (a :class:`ClinicData`, or patient records)
    over ``period``. ``patients`` is the number of patients sharing with the clinician
    (default: one per record)."""
    lo, hi = period.start.toordinal(), period.end.toordinal()
    policy = book.policy
    supply = int(policy.supply_days.low)
    checkpoints = [int(s.low) for s in policy.still_off_days]
    window = int(policy.dbo_end_window_days.low)
    data = records if isinstance(records, ClinicData) else ClinicData.from_records(records)
    facts = clinic_facts(data, lo, hi, window, checkpoints)
    m = book.measure
    reinstated = sum(f.rises for f in facts if f.in_period and f.active)
    measures = [
        dbo(facts, m("dbo")),
        dae(facts, m("dae"), supply),
        dde(facts, m("dde")),
        cob(facts, m("cob"), supply),
        completion(facts, m("completion")),
        time_to_zero(facts, m("time-to-zero"), lo, hi),
        holds(facts, m("holds")),
        _project(facts, m("reinstatements"), lambda f: f.rises > 0, events=reinstated),
        still_off(facts, m("still-off")),
    ]
    return ClinicReport(
        period_start=period.start,
        period_end=period.end,
        patients=len(facts) if patients is None else patients,
        patients_with_plan=sum(1 for f in facts if f.first_day <= hi),
        definitions_version=book.version,
        measures=measures,
    )
