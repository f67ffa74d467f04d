"""Small hand-made clinics: records written as dated runs, answers worked out by hand."""

from __future__ import annotations

import datetime as dt

from benzotaper.measures import Factors, PatientRecord, Period, Run
from benzotaper.measures.timeline import OPEN_END

YEAR = Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))


def d(text: str) -> int:
    return dt.date.fromisoformat(text).toordinal()


def run(start: str, end: str | None, benzo: float = 0.0, z: float = 0.0, **flags: bool) -> Run:
    return Run(d(start), OPEN_END if end is None else d(end), benzo, z, **flags)


def patient(
    pid: int,
    runs: list[Run],
    *,
    age: int | None = 70,
    since: str = "2025-01-01",
    start_benzo: float | None = None,
    start_z: float = 0.0,
    later: list[Factors] | None = None,
    logged: str | None = None,
    **factors: bool,
) -> PatientRecord:
    """A patient whose factors were first recorded on ``since`` (``later``: later records)."""
    first = Factors(d(since), age, **factors)
    return PatientRecord(
        patient_id=pid,
        runs=tuple(runs),
        start_benzo=runs[0].benzo if start_benzo is None else start_benzo,
        start_z=start_z,
        factors=(first, *(later or [])),
        dose_logged_after_zero=None if logged is None else d(logged),
    )
