"""Sleep diary metrics derived from the Consensus Sleep Diary (Carney et al. 2012).

TIB = into bed → out of bed; TST = (final awakening − trying to sleep) − SOL − WASO;
SE = TST / TIB × 100, with the CBT-I target of at least 85%. Times are clock times that may
cross midnight; each stage must follow the previous one within 24 hours.

A night adds up when the time in bed is more than nothing and less than a day, the final
awakening comes after trying to sleep, and SOL + WASO fit between the two (so TST ≥ 0 and
0 ≤ SE ≤ 100). :func:`sleep_problems` says what does not add up (a new entry is refused with
it); :func:`sleep_metrics` is total: a stored night that does not add up has no metrics (None),
it never makes a page fail.
"""

from __future__ import annotations

from pydantic import BaseModel

from benzotaper.journal.entries import SleepEntry
from benzotaper.journal.notices import Notice, notice

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


def _spans(entry: SleepEntry) -> tuple[int, int]:
    """(time in bed, minutes from trying to sleep to the final awakening)."""
    try_sleep = entry.try_sleep_time or entry.bed_time
    to_try = _after(entry.bed_time, try_sleep)
    night = _after(try_sleep, entry.final_wake_time)
    to_out = _after(entry.final_wake_time, entry.out_of_bed_time)
    return to_try + night + to_out, night


def sleep_problems(entry: SleepEntry) -> list[Notice]:
    """What does not add up in a night's times and minutes (empty: it adds up)."""
    tib, night = _spans(entry)
    if tib == 0 or tib >= 1440:
        return [notice("sleep_no_time_in_bed", "caution", field="out_of_bed_time")]
    if night == 0:
        return [notice("sleep_woke_before_sleep", "caution", field="final_wake_time")]
    if entry.sol_min + entry.waso_min > night:
        field = "waso_min" if entry.waso_min else "sol_min"
        return [
            notice(
                "sleep_latency_exceeds_night",
                "caution",
                field=field,
                sol_min=entry.sol_min,
                waso_min=entry.waso_min,
                night_min=night,
            )
        ]
    return []


def sleep_metrics(entry: SleepEntry) -> SleepMetrics | None:
    """TIB, TST, SOL, WASO and SE; None for a night whose times do not add up."""
    if sleep_problems(entry):
        return None
    tib, night = _spans(entry)
    tst = night - entry.sol_min - entry.waso_min
    se = round(tst / tib * 100, 1)
    return SleepMetrics(
        tib_min=tib,
        tst_min=tst,
        sol_min=entry.sol_min,
        waso_min=entry.waso_min,
        se_percent=se,
        meets_target=se >= SE_TARGET_PERCENT,
    )
