"""Tail routes over many regimens: which route each plan takes, how long, how fast it is made.

Regimens are drawn with a fixed seed the way issue 12 asks (every catalogue drug sold in a
market, both markets, one to four dose-times, each dose one the person's products make, up to
the labelled maximum a day). For every plan: the tail routes it took, whether it ends at zero or
in "maintain and review", its length, and the time to make it. Refusals of valid input are
counted (the target is 0).

Each plan is timed cold (the formulary caches emptied first, so the dose optimiser and the
realisers are made again, as for the first plan of a drug in a new process) and warm (the median
of five more runs). Prints the share of plans per tail route, the median weeks per route, the
refusals, the slowest regimens cold and warm (named), and as the last line
``tail_plan_median_ms=<warm> tail_plan_cold_median_ms=<cold> worst_warm_ms=<x> worst="<regimen>"``:
the medians over the plans that needed a tail route, beside ``plan_median_ms`` of those that did
not (same process, same run: the baseline).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import time
from collections import Counter, defaultdict

from benzotaper.catalogue import Catalogue
from benzotaper.errors import BenzotaperError
from benzotaper.knowledge import default_knowledge
from benzotaper.planning import dispensing
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import Plan, PlanRequest

TODAY = dt.date(2027, 1, 4)
TIMES = ["07:00", "08:00", "12:00", "13:00", "17:00", "18:00", "22:00", "23:00"]
REGIMENS = int(os.environ.get("BENZOTAPER_BENCH_REGIMENS", "300"))
REPEATS = 5


def _grids(catalogue: Catalogue) -> dict[tuple[str, str], list[float]]:
    """Per (drug, market): the doses one dose-time can take with the products sold there."""
    out: dict[tuple[str, str], list[float]] = {}
    for market in ("us", "uk"):
        for drug in catalogue:
            products = drug.products_in(market)  # type: ignore[arg-type]
            if drug.max_daily_mg is None or not any(
                not p.form.value.startswith("extended") for p in products
            ):
                continue
            only_liquid = all(p.form.is_liquid for p in products)
            f = dispensing.formulary(drug, market, liquid=only_liquid, compounded=False)  # type: ignore[arg-type]
            out[(drug.id, market)] = dispensing.achievable_doses(f, drug.max_daily_mg.high)
    return out


def _requests(catalogue: Catalogue, n: int, seed: int = 12) -> list[PlanRequest]:
    rng = random.Random(seed)
    grids = _grids(catalogue)
    keys = sorted(grids)
    out: list[PlanRequest] = []
    while len(out) < n:
        drug, market = rng.choice(keys)
        maximum = catalogue.drugs[drug].max_daily_mg
        budget = maximum.high if maximum is not None else 0.0
        regimen = []
        for t in sorted(rng.sample(TIMES, rng.randint(1, 4))):
            fits = [g for g in grids[(drug, market)] if g <= budget + 1e-9]
            if not fits:
                break
            mg = rng.choice(fits)
            budget -= mg
            regimen.append({"drug": drug, "mg": mg, "time": t})
        if regimen:
            prefs = {"market": market, "pace": rng.choice(["slow", "moderate", "fast"])}
            out.append(PlanRequest.model_validate({"regimen": regimen, "preferences": prefs}))
    return out


def _timed(request: PlanRequest) -> tuple[Plan, float]:
    """The plan and its warm median time (ms)."""
    plan, _, warm = _timings(request)
    return plan, warm


def _timings(request: PlanRequest) -> tuple[Plan, float, float]:
    """The plan, its cold time and its warm median time (ms)."""
    knowledge = default_knowledge()
    dispensing._FORMULARIES.clear()  # cold: the optimiser and the realisers start from nothing
    t0 = time.perf_counter()
    plan = make_plan(request, knowledge, today=TODAY)
    cold = (time.perf_counter() - t0) * 1000
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        plan = make_plan(request, knowledge, today=TODAY)
        times.append((time.perf_counter() - t0) * 1000)
    return plan, cold, statistics.median(times)


def _named(request: PlanRequest) -> str:
    prefs = request.preferences
    taken = ", ".join(f"{a.drug} {a.mg:g} mg at {a.time}" for a in request.regimen)
    return f"{taken} ({prefs.market}, {prefs.pace})"


def main() -> None:
    catalogue = default_knowledge().catalogue
    requests = _requests(catalogue, REGIMENS)
    routes: Counter[str] = Counter()
    weeks: dict[str, list[float]] = defaultdict(list)
    tail_ms: list[float] = []
    tail_cold: list[float] = []
    plain_ms: list[float] = []
    refused: list[str] = []
    worst: dict[str, tuple[float, str]] = {"cold": (0.0, ""), "warm": (0.0, "")}
    for request in requests:
        try:
            plan, cold, ms = _timings(request)
        except BenzotaperError as exc:
            refused.append(f"{request.regimen}: {exc.message}")
            continue
        taken = "+".join(sorted({r.route for r in plan.routes})) or "none"
        routes[taken] += 1
        weeks[taken].append(plan.summary.weeks)
        (tail_ms if plan.routes else plain_ms).append(ms)
        if plan.routes:
            tail_cold.append(cold)
            for kind, value in (("cold", cold), ("warm", ms)):
                if value > worst[kind][0]:
                    worst[kind] = (value, f"{_named(request)}: {taken}, {len(plan.steps)} steps")
    planned = sum(routes.values())
    print(f"{len(requests)} regimens, {planned} plans, {len(refused)} refused")
    for line in refused:
        print(f"  refused: {line}")
    for route, count in routes.most_common():
        print(
            f"{route:24s} {count:4d} plans ({count / planned:6.1%}), "
            f"median {statistics.median(weeks[route]):g} weeks"
        )
    for kind, (value, name) in worst.items():
        print(f"slowest tail plan {kind}: {value:.2f} ms, {name}")
    print(f"plan_median_ms={statistics.median(plain_ms):.2f} (no tail route)")
    print(
        f"tail_plan_median_ms={statistics.median(tail_ms):.2f} "
        f"tail_plan_cold_median_ms={statistics.median(tail_cold):.2f} "
        f'worst_warm_ms={worst["warm"][0]:.2f} worst="{worst["warm"][1]}"'
    )


if __name__ == "__main__":
    main()
