"""``benchmarks/bench_journal.py`` at a few days: its status figures time a computed status.

Every journal write leaves the new status remembered under the person's summary stamp, so a
status read straight after the writes is a look-up; the benchmark's cold and warm figures must
compute it (the plan version, the stored summary and the days the rules read), or they say
nothing about the journal."""

from __future__ import annotations

import pytest

from benzotaper.storage import Database
from tests.benches import count_computed_statuses, load_bench


def test_the_status_figures_are_computed_not_remembered(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = load_bench("bench_journal")
    journal, me, last = bench.write_journal(db, 5)
    computed = count_computed_statuses(monkeypatch)
    cold, warm, kept = bench.status_figures(journal, me, last)
    assert min(cold, warm, kept) > 0
    assert len(computed) == 1 + 5  # cold, then 5 warm; the 5 remembered runs compute nothing
