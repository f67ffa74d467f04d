"""Helpers for the tests that run a benchmark from ``benchmarks/`` at a small size."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

import benzotaper.services.journal as service

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_bench(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` as a module (registered first: dataclasses look it up)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


def count_computed_statuses(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """A list that grows by one each time the journal service computes a status (a remembered
    status is not computed): what a benchmark's timed status runs really did."""
    computed: list[object] = []
    compute = service.compute_status

    def counted(*args: object) -> object:
        computed.append(args)
        return compute(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "compute_status", counted)
    return computed
