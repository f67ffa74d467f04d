"""Home methods over many regimens: what opting in to a home liquid or a scale changes.

The regimens of ``bench_tail_routes`` (same seed), each planned three ways: as asked (the
baseline, same process), with ``home_liquid`` and a named suspending vehicle, and with ``scale``
and a 100 mg tablet (an assumed weight for the benchmark only). For each way: plans made, refusals
by reason (only ``no-tablet`` is expected: a drug with no plain tablet or capsule), the routes
taken, plans whose last dose before the stop is above 1 mg diazepam-equivalent (target 0),
median weeks, and the median time to make a plan that took a home route, beside the baseline's.

Last line: ``home_plan_median_ms=<x> baseline_tail_median_ms=<y>``.
"""

from __future__ import annotations

import statistics
from collections import Counter

from bench_tail_routes import REGIMENS, _requests, _timed
from benzotaper.knowledge import default_knowledge
from benzotaper.planning.home_methods import HomeMethodRefused
from benzotaper.planning.metrics import jump_off
from benzotaper.planning.models import PlanRequest

WAYS: dict[str, dict[str, object]] = {
    "as asked": {},
    "home liquid": {"home_liquid": True, "home_vehicle": "a suspending vehicle"},
    "scale": {"scale": True, "tablet_weight_mg": 100},
}


def _with(request: PlanRequest, prefs: dict[str, object]) -> PlanRequest:
    return request.model_copy(update={"preferences": request.preferences.model_copy(update=prefs)})


def main() -> None:
    requests = _requests(default_knowledge().catalogue, REGIMENS)
    figures: dict[str, list[float]] = {}
    for way, prefs in WAYS.items():
        refused: Counter[str] = Counter()
        routes: Counter[str] = Counter()
        weeks: list[float] = []
        ms_home: list[float] = []
        ms_tail: list[float] = []
        high_stops = 0
        for request in requests:
            try:
                plan, ms = _timed(_with(request, prefs))
            except HomeMethodRefused as exc:
                refused[exc.reason] += 1
                continue
            taken = {r.route for r in plan.routes}
            routes.update(taken or {"none"})
            weeks.append(plan.summary.weeks)
            high_stops += plan.ends_with == "stop" and jump_off(plan) > 1 + 1e-9
            if taken & {"home-liquid", "scale"}:
                ms_home.append(ms)
            elif taken:
                ms_tail.append(ms)
        print(
            f"{way}: {len(weeks)} plans, refused {dict(refused) or 0}, stops above 1 mg DE "
            f"{high_stops}, median {statistics.median(weeks):g} weeks, routes {dict(routes)}"
        )
        figures[way] = ms_home or ms_tail
    home = statistics.median([*figures["home liquid"], *figures["scale"]])
    print(
        f"home_plan_median_ms={home:.2f} "
        f"baseline_tail_median_ms={statistics.median(figures['as asked']):.2f}"
    )


if __name__ == "__main__":
    main()
