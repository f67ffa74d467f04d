"""A reference implementation of the facts, one patient at a time in plain Python.

The shipped :func:`benzotaper.measures.facts.clinic_facts` computes the same facts for a whole
clinic with numpy; ``test_facts_match_the_reference`` compares the two on random clinics.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from benzotaper.measures.facts import NEVER, Facts, age_at, opioid_spans
from benzotaper.measures.model import PatientRecord
from benzotaper.measures.timeline import Run

_EPS = 1e-9


def _days(r: Run, lo: int, hi: int) -> int:
    return max(0, min(r.end, hi) - max(r.start, lo) + 1)


def zero_events(runs: Sequence[Run]) -> list[int]:
    """Days when the dose in force reached zero from above zero (touching runs only)."""
    return [
        cur.start
        for prev, cur in pairwise(runs)
        if prev.end + 1 == cur.start and prev.total > _EPS and cur.total <= _EPS
    ]


def _rises(runs: Sequence[Run], lo: int, hi: int) -> int:
    return sum(
        1
        for prev, cur in pairwise(runs)
        if lo <= cur.start <= hi
        and prev.end + 1 == cur.start
        and cur.total > prev.total + _EPS
        and not cur.switch
    )


def _holds(runs: Sequence[Run], lo: int, hi: int) -> int:
    count, prev = 0, None
    for r in runs:
        if r.hold and lo <= r.start <= hi and not (prev and prev.hold and prev.end + 1 == r.start):
            count += 1
        prev = r
    return count


def _benzo_average(rec: PatientRecord, lo: int, hi: int) -> float | None:
    """Average daily benzodiazepine DE over days ``lo``..``hi``; days before the first plan
    count at the regimen the person started from; days no plan covers are left out."""
    first = rec.runs[0].start
    total, days = 0.0, 0
    if lo < first:
        n = min(hi, first - 1) - lo + 1
        total, days = rec.start_benzo * n, n
    for r in rec.runs:
        n = _days(r, lo, hi)
        total, days = total + r.benzo * n, days + n
    return total / days if days else None


def _benzo_on(rec: PatientRecord, day: int) -> float | None:
    if day < rec.runs[0].start:
        return rec.start_benzo
    return next((r.benzo for r in rec.runs if r.start <= day <= r.end), None)


def _still_off(rec: PatientRecord, zero: int | None, k: int, lo: int, hi: int) -> bool | None:
    """Off ``k`` days after first reaching zero, for those whose checkpoint is in the period."""
    if zero is None or not lo <= zero + k <= hi:
        return None
    back_on = any(r.total > _EPS and _days(r, zero + 1, zero + k) for r in rec.runs)
    logged = rec.dose_logged_after_zero
    return not back_on and not (logged is not None and logged <= zero + k)


def _used_since(
    rec: PatientRecord, condition: str, first: int, lo: int, hi: int
) -> tuple[int | None, bool]:
    """The first day ``condition`` (falls, dementia) was recorded by ``hi``, and whether a drug
    was in force on a day of the period on or after it."""
    days = [f.on for f in rec.factors if getattr(f, condition) and f.on <= hi]
    since = days[0] if days else None
    after = max(lo, since or lo, first)
    return since, since is not None and any(
        r.total > _EPS and _days(r, after, hi) for r in rec.runs
    )


def patient_facts(
    rec: PatientRecord, lo: int, hi: int, end_window: int, checkpoints: Sequence[int]
) -> Facts:
    """Everything the measures need of ``rec`` for the period ``lo``..``hi`` (ordinals)."""
    runs = rec.runs
    first = runs[0].start if runs else NEVER
    benzo_days = z_days = 0
    positive = False
    for r in runs:
        n = _days(r, lo, hi)
        if n:
            benzo_days += n if r.benzo > _EPS else 0
            z_days += n if r.z > _EPS else 0
            positive = positive or r.total > _EPS
    events = zero_events(runs)
    zero_in_period = any(lo <= d <= hi for d in events)
    in_period = first <= hi
    dbo_start = dbo_end = None
    if in_period:
        dbo_start = rec.start_benzo if first >= lo else _benzo_on(rec, lo)
        dbo_end = _benzo_average(rec, max(lo, hi - end_window + 1), hi)
    falls_since, used_after_falls = _used_since(rec, "falls", first, lo, hi)
    dementia_since, used_after_dementia = _used_since(rec, "dementia", first, lo, hi)
    opioid = opioid_spans(rec.factors, max(lo, first), hi) if in_period else []
    overlap = sum(_days(r, a, b) for a, b in opioid for r in runs if r.benzo > _EPS)
    zero = events[0] if events else None
    return Facts(
        pid=rec.patient_id,
        age=age_at(rec.factors, hi),
        in_period=in_period,
        active=in_period and (positive or zero_in_period),
        benzo_days=benzo_days,
        z_days=z_days,
        dbo_start=dbo_start,
        dbo_end=dbo_end,
        first_day=first,
        zero_day=zero,
        zero_in_period=zero_in_period,
        holds=_holds(runs, lo, hi),
        rises=_rises(runs, lo, hi),
        maintained=any(r.maintain and r.start <= hi <= r.end and r.total > _EPS for r in runs),
        seizures=any(f.seizures and f.on <= hi for f in rec.factors),
        falls_since=falls_since,
        used_after_falls=used_after_falls,
        dementia_since=dementia_since,
        used_after_dementia=used_after_dementia,
        opioid_days=sum(b - a + 1 for a, b in opioid),
        overlap_days=overlap,
        still_off=tuple(_still_off(rec, zero, k, lo, hi) for k in checkpoints),
    )
