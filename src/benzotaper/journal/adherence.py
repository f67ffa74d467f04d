"""Doses planned against doses recorded: taken, missed, extra, not recorded, per day and overall.

Pure: takes the plan, the dose entries and the period. Recorded doses are matched to planned
ones by the journal's one dose matcher (:mod:`benzotaper.journal.matching`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import BaseModel

from benzotaper.journal.entries import DoseEntry
from benzotaper.journal.matching import match_doses
from benzotaper.journal.timeline import planned_doses
from benzotaper.planning.models import Plan


class DayAdherence(BaseModel):
    day: dt.date
    planned: int
    taken: int
    missed: int
    extra: int
    unrecorded: int
    planned_mg: dict[str, float]
    taken_mg: dict[str, float]


class AdherenceSummary(BaseModel):
    start: dt.date
    end: dt.date
    planned: int
    taken: int
    missed: int
    extra: int
    unrecorded: int
    adherence_percent: float | None
    days: list[DayAdherence]


def _add(acc: dict[str, float], drug: str, mg: float) -> None:
    acc[drug] = round(acc.get(drug, 0.0) + mg, 6)


def day_adherence(plan: Plan, day: dt.date, doses: Sequence[DoseEntry]) -> DayAdherence:
    matched = match_doses(planned_doses(plan, day), list(enumerate(doses)))
    planned_mg: dict[str, float] = {}
    for slot in matched.slots:
        _add(planned_mg, slot.dose.drug, slot.dose.mg)
    taken_mg: dict[str, float] = {}
    for e in doses:
        if e.status in ("taken", "extra"):
            _add(taken_mg, e.drug, e.mg)
    return DayAdherence(
        day=day,
        planned=matched.planned,
        taken=matched.count("taken"),
        missed=matched.count("missed"),
        extra=len(matched.extras),
        unrecorded=matched.count("open"),
        planned_mg=planned_mg,
        taken_mg=taken_mg,
    )


def summarise(
    plan: Plan,
    entries: Sequence[tuple[dt.date, DoseEntry]],
    start: dt.date,
    end: dt.date,
) -> AdherenceSummary:
    """Adherence from ``start`` to ``end`` inclusive; percent = taken / planned."""
    by_day: dict[dt.date, list[DoseEntry]] = {}
    for day, entry in entries:
        by_day.setdefault(day, []).append(entry)
    days = []
    day = start
    while day <= end:
        days.append(day_adherence(plan, day, by_day.get(day, [])))
        day += dt.timedelta(days=1)
    return _totalled(start, end, days)


def with_days(summary: AdherenceSummary, changed: Sequence[DayAdherence]) -> AdherenceSummary:
    """``summary`` with the days in ``changed`` made again (a dose recorded, corrected or
    retracted on them) and its totals counted again: what :func:`summarise` gives for the new
    entries, from one day's entries instead of the whole period's. Days outside the period are
    ignored."""
    by_day = {d.day: d for d in changed}
    days = [by_day.get(d.day, d) for d in summary.days]
    return _totalled(summary.start, summary.end, days)


def _totalled(start: dt.date, end: dt.date, days: list[DayAdherence]) -> AdherenceSummary:
    planned = sum(d.planned for d in days)
    taken = sum(d.taken for d in days)
    return AdherenceSummary(
        start=start,
        end=end,
        planned=planned,
        taken=taken,
        missed=sum(d.missed for d in days),
        extra=sum(d.extra for d in days),
        unrecorded=sum(d.unrecorded for d in days),
        adherence_percent=round(taken / planned * 100, 1) if planned else None,
        days=days,
    )
