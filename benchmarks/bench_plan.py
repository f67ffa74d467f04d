"""Time to make one plan over varied regimens (tablets, liquid, multi-drug, crossover), per case.

Two figures per case, never pooled across cases (a pooled median hides the slow ones):

- **cold**: the formulary caches are emptied before each run, so the dose optimiser really runs
  (its tables are built and every dose is optimised afresh), as for the first plan of a drug in
  a new worker process;
- **warm**: the same request again, with the optimiser's answers memoised (a busy server).

Last line: ``plan_cold_worst_ms=<x> plan_warm_worst_ms=<y> worst="<case>"`` (target: cold
worst <= 50 ms, warm worst <= 5 ms).
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

from benzotaper.knowledge import default_knowledge
from benzotaper.planning import dispensing
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


def _times(run: object, repeat: int, cold: bool) -> list[float]:
    out = []
    for _ in range(repeat):
        if cold:
            dispensing._FORMULARIES.clear()  # the optimiser starts from nothing
        t0 = time.perf_counter()
        run()  # type: ignore[operator]
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    knowledge = default_knowledge()
    requests = {name: PlanRequest.model_validate(c) for name, c in CASES.items()}
    make_plan(requests[next(iter(requests))], knowledge, today=TODAY)  # load rules files once
    rows = []
    for name, req in requests.items():

        def run(req: PlanRequest = req) -> int:
            return len(make_plan(req, knowledge, today=TODAY).steps)

        cold = _times(run, 10, cold=True)
        warm = _times(run, 30, cold=False)
        rows.append((name, run(), cold, warm))
    print(f"{'case':42s} {'steps':>5s} {'cold p50':>9s} {'cold max':>9s} {'warm p50':>9s}")
    for name, steps, cold, warm in rows:
        print(
            f"{name:42s} {steps:5d} {statistics.median(cold):8.2f}ms {max(cold):8.2f}ms "
            f"{statistics.median(warm):8.2f}ms"
        )
    worst = max(rows, key=lambda r: statistics.median(r[2]))
    warm_worst = max(statistics.median(r[3]) for r in rows)
    print(
        f"plan_cold_worst_ms={statistics.median(worst[2]):.2f} "
        f"plan_warm_worst_ms={warm_worst:.2f} worst={worst[0]!r}"
    )


if __name__ == "__main__":
    main()
