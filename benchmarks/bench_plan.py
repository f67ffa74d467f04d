"""Median time to make one plan over varied regimens (tablets, liquid, multi-drug, crossover).

Prints one line per case and, as the last line, ``plan_median_ms=<x>`` (target: <= 5 ms).
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

from benzotaper.knowledge import default_knowledge
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import PlanRequest

TODAY = dt.date(2027, 1, 4)
CASES: dict[str, dict[str, object]] = {
    "diazepam 40 mg bands": {
        "regimen": [
            {"drug": "diazepam", "mg": 20, "time": "08:00"},
            {"drug": "diazepam", "mg": 20, "time": "22:00"},
        ],
        "preferences": {"strategy": "ashton-bands", "pace": "moderate"},
    },
    "diazepam 20 mg liquid fast": {
        "regimen": [{"drug": "diazepam", "mg": 20, "time": "22:00"}],
        "preferences": {"pace": "fast", "liquid": True},
    },
    "clonazepam 1 mg percent": {
        "regimen": [
            {"drug": "clonazepam", "mg": 0.5, "time": "08:00"},
            {"drug": "clonazepam", "mg": 0.5, "time": "22:00"},
        ],
        "preferences": {"pace": "moderate"},
    },
    "lorazepam 2 mg liquid hyperbolic": {
        "regimen": [
            {"drug": "lorazepam", "mg": 1, "time": "08:00"},
            {"drug": "lorazepam", "mg": 1, "time": "22:00"},
        ],
        "preferences": {"strategy": "hyperbolic", "pace": "moderate", "liquid": True},
    },
    "alprazolam + zolpidem": {
        "regimen": [
            {"drug": "alprazolam", "mg": 0.5, "time": "08:00"},
            {"drug": "zolpidem", "mg": 10, "time": "22:00"},
        ],
        "preferences": {"pace": "moderate"},
    },
    "uk temazepam + diazepam linear": {
        "regimen": [
            {"drug": "diazepam", "mg": 5, "time": "08:00"},
            {"drug": "temazepam", "mg": 20, "time": "22:00"},
        ],
        "preferences": {"strategy": "linear", "market": "uk", "liquid": True},
    },
    "uk lorazepam crossover to diazepam": {
        "regimen": [
            {"drug": "lorazepam", "mg": 1, "time": "08:00"},
            {"drug": "lorazepam", "mg": 1, "time": "22:00"},
        ],
        "preferences": {"market": "uk", "pace": "moderate", "crossover": "diazepam"},
    },
    "alprazolam + zolpidem crossover, liquid": {
        "regimen": [
            {"drug": "alprazolam", "mg": 1, "time": "08:00"},
            {"drug": "alprazolam", "mg": 1, "time": "22:00"},
            {"drug": "zolpidem", "mg": 10, "time": "22:00"},
        ],
        "preferences": {"pace": "slow", "liquid": True, "crossover": "diazepam"},
    },
}


def main() -> None:
    knowledge = default_knowledge()
    requests = {name: PlanRequest.model_validate(c) for name, c in CASES.items()}
    for req in requests.values():  # warm caches (formularies, rules) once
        make_plan(req, knowledge, today=TODAY)
    all_ms: list[float] = []
    for name, req in requests.items():
        times = []
        for _ in range(30):
            t0 = time.perf_counter()
            plan = make_plan(req, knowledge, today=TODAY)
            times.append((time.perf_counter() - t0) * 1000)
        all_ms += times
        print(f"{name}: {len(plan.steps)} steps, median {statistics.median(times):.2f} ms")
    print(f"plan_median_ms={statistics.median(all_ms):.2f}")


if __name__ == "__main__":
    main()
