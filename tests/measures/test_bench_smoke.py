"""The clinic benchmark's small case (CI runs this one; the 10,000-patient run is on demand):
its generator writes a clinic the report can read, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from benzotaper.catalogue import Catalogue
from benzotaper.storage import Database
from benzotaper.storage.measures import clinic_measures
from tests.benches import load_bench

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py


def test_small_clinic_from_the_benchmark_generator(db: Database, catalogue: Catalogue) -> None:
    bench = load_bench("bench_measures")
    clinician = bench.write_clinic(db, 40)
    seen = bench.count_statements(db)
    cold = clinic_measures(db, catalogue, clinician, bench.PERIOD)
    seen.clear()
    warm = clinic_measures(db, catalogue, clinician, bench.PERIOD)
    assert cold == warm and len(seen) == 5
    assert (warm.patients, warm.patients_with_plan) == (40, 40)
    assert "SEARCH entries" in bench.explain(db, clinician) or db.engine.dialect.name != "sqlite"
