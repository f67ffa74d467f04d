"""The clinic benchmark's small case (CI runs this one; the 10,000-patient run is on demand):
its generator writes a clinic the report can read, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from benzotaper.catalogue import Catalogue
from benzotaper.storage import Database
from benzotaper.storage.measures import clinic_measures

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_measures.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_measures", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_measures", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_small_clinic_from_the_benchmark_generator(db: Database, catalogue: Catalogue) -> None:
    bench = _bench()
    clinician = bench.write_clinic(db, 40)
    seen = bench.count_statements(db)
    cold = clinic_measures(db, catalogue, clinician, bench.PERIOD)
    seen.clear()
    warm = clinic_measures(db, catalogue, clinician, bench.PERIOD)
    assert cold == warm and len(seen) == 5
    assert (warm.patients, warm.patients_with_plan) == (40, 40)
    assert "SEARCH entries" in bench.explain(db, clinician) or db.engine.dialect.name != "sqlite"
