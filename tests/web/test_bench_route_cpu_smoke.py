"""The route CPU benchmark's small case: its in-process driver gets every route's answer (a
benchmark that measures error pages would flatter the figures)."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.benches import load_bench


def test_bench_route_cpu_runs_every_route(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    load_bench("bench_load")  # imported by it as a sibling module
    bench = load_bench("bench_route_cpu")
    argv = ["bench_route_cpu", "--patients", "2", "--requests", "8", "--mode", "asgi"]
    monkeypatch.setattr(sys, "argv", argv)
    # a thread of its own (its event loop): a browser test earlier in this worker leaves
    # Playwright's loop running in this one, where asyncio.run refuses to start
    with ThreadPoolExecutor(1) as pool:
        pool.submit(bench.main).result(timeout=120)  # exits with a route's status if not a 200
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("route_cpu_worst_ms=")
    assert [line.split()[0] for line in out[-7:-1]] == [
        "route",
        "Today",
        "My",
        "Journal",
        "status",
        "preview",
    ]
