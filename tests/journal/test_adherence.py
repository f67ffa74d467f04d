"""Planned against recorded doses."""

from __future__ import annotations

import datetime as dt

from benzotaper.journal.adherence import summarise
from benzotaper.journal.entries import DoseEntry
from tests.journal.factory import request, stub_plan

D = dt.date


def test_taken_missed_extra_and_unrecorded() -> None:
    plan = stub_plan(request(10))  # 5 mg at 08:00 and 20:00 from 1 Jan
    entries = [
        (D(2026, 1, 1), DoseEntry(drug="diazepam", mg=5, time="08:05")),
        (D(2026, 1, 1), DoseEntry(drug="diazepam", mg=5, time="20:00")),
        (D(2026, 1, 2), DoseEntry(drug="diazepam", mg=5, time="08:00")),
        (D(2026, 1, 2), DoseEntry(status="missed", drug="diazepam", mg=5, planned_time="20:00")),
        (D(2026, 1, 3), DoseEntry(status="extra", drug="diazepam", mg=2, time="14:00")),
    ]
    s = summarise(plan, entries, D(2026, 1, 1), D(2026, 1, 3))
    assert (s.planned, s.taken, s.missed, s.extra, s.unrecorded) == (6, 3, 1, 1, 2)
    assert s.adherence_percent == 50.0
    assert s.days[0].taken_mg == {"diazepam": 10} and s.days[0].planned_mg == {"diazepam": 10}
    assert s.days[2].taken_mg == {"diazepam": 2}
