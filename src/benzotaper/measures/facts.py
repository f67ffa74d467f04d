"""Every fact the measures count, for every patient of a clinic at once.

The per-day questions (days on a benzodiazepine in the period, the dose when it began, the
average over its last 30 days, the day the dose reached zero, holds and rises) are answered for
all runs of all patients together with numpy, then summed per patient; only the person factors
(a few records per patient) are read one patient at a time. The measures then only count facts
(see :mod:`benzotaper.measures.compute`), so 10,000 patients take one pass, whatever the number
of measures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from benzotaper.measures.model import ClinicData, Factors
from benzotaper.measures.timeline import RUN_DTYPE

_EPS = 1e-9
_YEAR = 365.2425
#: "Never", as a day ordinal bigger than any date.
NEVER = 10**8

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass(slots=True)
class Facts:
    pid: int
    age: int | None
    in_period: bool  # a plan was in force on some day up to the period's end
    active: bool  # a benzodiazepine or Z-drug in force in the period (or reaching zero in it)
    benzo_days: int
    z_days: int
    dbo_start: float | None
    dbo_end: float | None
    first_day: int
    zero_day: int | None  # the first day at zero after a day above it, ever
    zero_in_period: bool  # some day of the period is such a day
    holds: int  # holds that began in the period
    rises: int  # days in the period when the dose in force rose (not a switch)
    maintained: bool  # on the period's last day, a planned maintain-and-review dose above zero
    seizures: bool
    falls_since: int | None
    used_after_falls: bool
    dementia_since: int | None
    used_after_dementia: bool
    opioid_days: int
    overlap_days: int  # opioid days with a benzodiazepine in force
    still_off: tuple[bool | None, ...]  # per checkpoint: None = not in that cohort


def age_at(factors: Sequence[Factors], day: int) -> int | None:
    """Age on ``day``: the latest recorded age on or before it, plus the whole years since."""
    known = [f for f in factors if f.age is not None]
    if not known:
        return None
    before = [f for f in known if f.on <= day]
    f = before[-1] if before else known[0]
    assert f.age is not None
    return f.age + max(0, int((day - f.on) / _YEAR))


def opioid_spans(factors: Sequence[Factors], lo: int, hi: int) -> list[tuple[int, int]]:
    """Days ``lo``..``hi`` on which the factors then in force say the person takes opioids
    (the first record also stands for the days before it)."""
    spans: list[tuple[int, int]] = []
    for i, f in enumerate(factors):
        a = lo if i == 0 else max(lo, f.on)
        b = hi if i + 1 == len(factors) else min(hi, factors[i + 1].on - 1)
        if f.opioids and a <= b:
            spans.append((a, b))
    return spans


class _Runs:
    """All runs of a clinic as arrays, with the per-patient sums the facts need."""

    def __init__(self, data: ClinicData) -> None:
        self.n = len(data)
        # one buffer, one array: concatenating thousands of structured arrays is far slower
        runs = np.frombuffer(b"".join(r.tobytes() for r in data.runs), dtype=RUN_DTYPE)
        lengths = [len(r) for r in data.runs]
        self.p = np.repeat(np.arange(self.n, dtype=np.int64), lengths)
        self.s = runs["start"].astype(np.int64)
        self.e = runs["end"].astype(np.int64)
        self.b = runs["benzo"].astype(np.float64)
        self.z = runs["z"].astype(np.float64)
        flags = runs["flags"].astype(np.int64)
        self.hold = (flags & 1).astype(bool)
        self.switch = (flags & 2).astype(bool)
        self.maintain = (flags & 4).astype(bool)
        self.on = (self.b + self.z) > _EPS
        # the previous run of the same patient, when it ends the day before this one starts
        self.touch = np.zeros(len(self.p), dtype=bool)
        self.touch[1:] = (self.p[1:] == self.p[:-1]) & (self.e[:-1] + 1 == self.s[1:])
        total = self.b + self.z
        self.prev_total = np.concatenate(([0.0], total[:-1]))
        self.prev_hold = np.concatenate(([False], self.hold[:-1]))
        self.rose = self.touch & (total > self.prev_total + _EPS) & ~self.switch
        self.reached_zero = self.touch & (self.prev_total > _EPS) & ~self.on

    def days(self, lo: Ints | int, hi: Ints | int) -> Ints:
        """Days of each run within ``lo``..``hi`` (scalars, or one bound per run)."""
        out: Ints = np.clip(np.minimum(self.e, hi) - np.maximum(self.s, lo) + 1, 0, None)
        return out

    def per_patient(self, weights: npt.ArrayLike) -> Floats:
        w = np.asarray(weights, dtype=np.float64)
        out: Floats = np.bincount(self.p, weights=w, minlength=self.n).astype(np.float64)
        return out

    def first_where(self, mask: Bools) -> Ints:
        """Per patient, the first start day of a run in ``mask`` (``NEVER`` if none)."""
        out = np.full(self.n, NEVER, dtype=np.int64)
        np.minimum.at(out, self.p[mask], self.s[mask])
        return out


def _dbo_doses(
    runs: _Runs, start_benzo: Floats, first: Ints, lo: int, hi: int, window: int
) -> tuple[Floats, Floats]:
    """The benzodiazepine dose when the period began (or, for a later first plan, the dose the
    person was taking then) and the average over the period's last ``window`` days (days before
    the first plan count at that starting dose; days no plan covers are left out)."""
    at_lo = np.full(runs.n, np.nan)
    cover = (runs.s <= lo) & (runs.e >= lo)
    at_lo[runs.p[cover]] = runs.b[cover]
    start = np.where(first >= lo, start_benzo, at_lo)
    wlo = max(lo, hi - window + 1)
    in_window = runs.days(wlo, hi)
    before_first = np.clip(np.minimum(hi, first - 1) - wlo + 1, 0, None)
    total = runs.per_patient(runs.b * in_window) + start_benzo * before_first
    days = runs.per_patient(in_window) + before_first
    end = np.where(days > 0, total / np.maximum(days, 1), np.nan)
    return start, end


def _still_off(
    runs: _Runs, zero: Ints, logged: Ints, k: int, lo: int, hi: int
) -> list[bool | None]:
    """Per patient: None outside the cohort whose ``k``-day checkpoint after first reaching
    zero falls in the period; else whether no plan put them back on a drug and no dose was
    logged as taken by then."""
    mark = zero + k
    cohort = (zero < NEVER) & (mark >= lo) & (mark <= hi)
    zr = zero[runs.p]
    back = runs.per_patient(runs.on & (runs.days(zr + 1, zr + k) > 0)) > 0
    off = ~back & ~(logged <= mark)
    return [bool(o) if c else None for c, o in zip(cohort.tolist(), off.tolist(), strict=True)]


def _overlap_days(runs: _Runs, spans: Sequence[Sequence[tuple[int, int]]]) -> list[int]:
    """Per patient, the days within their ``spans`` on which a benzodiazepine was in force
    (the k-th spans of all patients together, so a clinic takes a few array passes)."""
    total = np.zeros(runs.n)
    benzo = runs.b > _EPS
    for k in range(max((len(x) for x in spans), default=0)):
        a = np.array([x[k][0] if k < len(x) else 1 for x in spans], dtype=np.int64)
        b = np.array([x[k][1] if k < len(x) else 0 for x in spans], dtype=np.int64)
        total += runs.per_patient(runs.days(a[runs.p], b[runs.p]) * benzo)
    return total.astype(int).tolist()


def _used_since(
    data: ClinicData, runs: _Runs, first: Ints, condition: str, lo: int, hi: int
) -> tuple[list[int], list[bool]]:
    """Per patient: the first day (ordinal, NEVER if none) on or before ``hi`` a factor named
    ``condition`` (falls, dementia) was recorded, and whether a drug was in force on a day of
    the period on or after it (DDE: the drug concurrent with or after the diagnosis)."""
    since = np.array(
        [
            next((f.on for f in fs if getattr(f, condition) and f.on <= hi), NEVER)
            for fs in data.factors
        ],
        dtype=np.int64,
    )
    after = np.maximum(np.maximum(since, lo), first)
    used = (runs.per_patient(runs.on & (runs.days(after[runs.p], hi) > 0)) > 0) & (since < NEVER)
    return since.tolist(), used.tolist()


def clinic_facts(
    data: ClinicData, lo: int, hi: int, end_window: int, checkpoints: Sequence[int]
) -> list[Facts]:
    """The facts of every patient in ``data`` for the period ``lo``..``hi`` (ordinals)."""
    runs = _Runs(data)
    first = runs.first_where(np.ones(len(runs.p), dtype=bool))
    starts_in = (runs.s >= lo) & (runs.s <= hi)
    in_period_days = runs.days(lo, hi)
    benzo_days = runs.per_patient(in_period_days * (runs.b > _EPS)).astype(int).tolist()
    z_days = runs.per_patient(in_period_days * (runs.z > _EPS)).astype(int).tolist()
    positive = (runs.per_patient(in_period_days * runs.on) > 0).tolist()
    zero = runs.first_where(runs.reached_zero)
    zero_in = (runs.per_patient(runs.reached_zero & starts_in) > 0).tolist()
    rises = runs.per_patient(runs.rose & starts_in).astype(int).tolist()
    on_last_day = (runs.s <= hi) & (runs.e >= hi) & runs.maintain & runs.on
    maintained = (runs.per_patient(on_last_day) > 0).tolist()
    new_hold = runs.hold & ~(runs.touch & runs.prev_hold)
    holds = runs.per_patient(new_hold & starts_in).astype(int).tolist()
    start_benzo = np.asarray(data.start_benzo, dtype=np.float64)
    dbo_start, dbo_end = _dbo_doses(runs, start_benzo, first, lo, hi, end_window)
    logged = np.array([NEVER if x is None else x for x in data.logged_after_zero], dtype=np.int64)
    off = [_still_off(runs, zero, logged, k, lo, hi) for k in checkpoints]
    falls_l, used_l = _used_since(data, runs, first, "falls", lo, hi)
    dementia_l, used_dementia_l = _used_since(data, runs, first, "dementia", lo, hi)
    first_l, zero_l = first.tolist(), zero.tolist()
    start_l, end_l = dbo_start.tolist(), dbo_end.tolist()
    spans = [
        opioid_spans(fs, max(lo, f), hi) if f <= hi else []
        for fs, f in zip(data.factors, first_l, strict=True)
    ]
    overlap = _overlap_days(runs, spans)
    out = []
    for i, pid in enumerate(data.patient_ids):
        fs = data.factors[i]
        in_period = first_l[i] <= hi
        out.append(
            Facts(
                pid=pid,
                age=age_at(fs, hi),
                in_period=in_period,
                active=in_period and (positive[i] or zero_in[i]),
                benzo_days=benzo_days[i],
                z_days=z_days[i],
                dbo_start=None if not in_period or start_l[i] != start_l[i] else start_l[i],
                dbo_end=None if not in_period or end_l[i] != end_l[i] else end_l[i],
                first_day=first_l[i],
                zero_day=None if zero_l[i] >= NEVER else zero_l[i],
                zero_in_period=zero_in[i],
                holds=holds[i],
                rises=rises[i],
                maintained=maintained[i],
                seizures=any(f.seizures and f.on <= hi for f in fs),
                falls_since=None if falls_l[i] >= NEVER else falls_l[i],
                used_after_falls=used_l[i],
                dementia_since=None if dementia_l[i] >= NEVER else dementia_l[i],
                used_after_dementia=used_dementia_l[i],
                opioid_days=sum(b - a + 1 for a, b in spans[i]),
                overlap_days=overlap[i],
                still_off=tuple(o[i] for o in off),
            )
        )
    return out
