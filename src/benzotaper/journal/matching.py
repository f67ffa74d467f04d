"""Which planned dose each recorded dose is: the one dose matcher (today's page, ``take``,
adherence and the dose questions all use it).

A day's planned doses are slots (drug and time). A dose recorded as taken or missed fills the
slot it names (``planned_time`` and drug), or, when it names none, the first open slot of its
drug in the plan's order. A taken dose with no open slot left, and every dose recorded as
extra, is extra. A second "missed" for a filled slot changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from benzotaper.journal.entries import DoseEntry
from benzotaper.planning.models import Dose

K = TypeVar("K")
SlotStatus = Literal["open", "taken", "missed"]


@dataclass
class Slot(Generic[K]):
    """One planned dose and what was recorded for it (``key``: e.g. the entry's uid)."""

    dose: Dose
    status: SlotStatus = "open"
    entry: DoseEntry | None = None
    key: K | None = None


@dataclass
class DayDoses(Generic[K]):
    slots: list[Slot[K]]
    extras: list[tuple[K, DoseEntry]] = field(default_factory=list)

    @property
    def planned(self) -> int:
        return len(self.slots)

    def count(self, status: SlotStatus) -> int:
        return sum(1 for s in self.slots if s.status == status)

    def next_open(self) -> Slot[K] | None:
        return next((s for s in self.slots if s.status == "open"), None)

    def slot_at(self, time: str, drug: str | None = None) -> Slot[K] | None:
        return next(
            (s for s in self.slots if s.dose.time == time and drug in (None, s.dose.drug)), None
        )


def _fill(day: DayDoses[K], slot: Slot[K] | None, key: K, entry: DoseEntry) -> None:
    if slot is not None and slot.status == "open":
        slot.status = "taken" if entry.status == "taken" else "missed"
        slot.entry, slot.key = entry, key
    elif entry.status == "taken":
        day.extras.append((key, entry))


def match_doses(planned: Sequence[Dose], recorded: Sequence[tuple[K, DoseEntry]]) -> DayDoses[K]:
    """Match one day's recorded doses (in the order recorded) to its planned doses."""
    day: DayDoses[K] = DayDoses(slots=[Slot(dose=d) for d in planned if d.mg > 0])
    named = [(k, e) for k, e in recorded if e.status != "extra" and e.planned_time]
    unnamed = [(k, e) for k, e in recorded if e.status != "extra" and not e.planned_time]
    for key, entry in named:
        assert entry.planned_time is not None
        _fill(day, day.slot_at(entry.planned_time, entry.drug), key, entry)
    for key, entry in unnamed:
        slot = next(
            (s for s in day.slots if s.status == "open" and s.dose.drug == entry.drug), None
        )
        _fill(day, slot, key, entry)
    day.extras.extend((k, e) for k, e in recorded if e.status == "extra")
    return day
