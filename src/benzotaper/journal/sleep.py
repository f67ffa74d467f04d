"""Sleep diary metrics derived from the Consensus Sleep Diary (Carney et al. 2012).

TIB = into bed → out of bed; TST = (final awakening − trying to sleep) − SOL − WASO;
SE = TST / TIB × 100, with the CBT-I target of at least 85%. Times are clock times that may
cross midnight; each stage must follow the previous one within 24 hours.
"""

from __future__ import annotations

from pydantic import BaseModel

from benzotaper.errors import InputError
from benzotaper.journal.entries import SleepEntry

#: CBT-I sleep-efficiency target (percent), source ``sleep-efficiency-cbti``.
SE_TARGET_PERCENT = 85.0
SOURCES = ["carney2012", "sleep-efficiency-cbti"]


class SleepMetrics(BaseModel):
    tib_min: int
    tst_min: int
    sol_min: int
    waso_min: int
    se_percent: float
    meets_target: bool
    target_percent: float = SE_TARGET_PERCENT
    sources: list[str] = SOURCES


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _after(start: str, end: str) -> int:
    """Minutes from clock time ``start`` to the next ``end`` (0 if equal)."""
    return (_minutes(end) - _minutes(start)) % 1440


def sleep_metrics(entry: SleepEntry) -> SleepMetrics:
    """Derive TIB, TST, SOL, WASO and SE; inconsistent times raise InputError."""
    try_sleep = entry.try_sleep_time or entry.bed_time
    to_try = _after(entry.bed_time, try_sleep)
    asleep_window = _after(try_sleep, entry.final_wake_time)
    to_out = _after(entry.final_wake_time, entry.out_of_bed_time)
    tib = to_try + asleep_window + to_out
    if tib == 0 or tib >= 1440:
        raise InputError("Time in bed must be more than 0 and less than 24 hours")
    tst = asleep_window - entry.sol_min - entry.waso_min
    if tst < 0:
        raise InputError(
            "Falling asleep and night waking add up to more than the time between trying to "
            "sleep and the final awakening: check the times"
        )
    se = round(tst / tib * 100, 1)
    return SleepMetrics(
        tib_min=tib,
        tst_min=tst,
        sol_min=entry.sol_min,
        waso_min=entry.waso_min,
        se_percent=se,
        meets_target=se >= SE_TARGET_PERCENT,
    )
