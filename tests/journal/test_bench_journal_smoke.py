"""``benchmarks/bench_journal.py`` at a few days: its status figures time a computed status.

Every journal write leaves the new status remembered under the person's summary stamp, so a
status read straight after the writes is a look-up; the benchmark's cold and warm figures must
compute it (the plan version, the stored summary and the days the rules read), or they say
nothing about the journal."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

import benzotaper.services.journal as service
from benzotaper.storage import Database

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_journal.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_journal", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_journal", module)
    spec.loader.exec_module(module)
    return module


def test_the_status_figures_are_computed_not_remembered(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = _bench()
    journal, me, last = bench.write_journal(db, 5)
    computed: list[object] = []
    compute = service.compute_status

    def counted(*args: object) -> object:
        computed.append(args)
        return compute(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "compute_status", counted)
    cold, warm, kept = bench.status_figures(journal, me, last)
    assert min(cold, warm, kept) > 0
    assert len(computed) == 1 + 5  # cold, then 5 warm; the 5 remembered runs compute nothing
