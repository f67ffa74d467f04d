"""Every plan a sourced pace makes from a labelled maximum dose: does it fit the plan bounds?

Not a timing. The grid: every catalogue drug with products, at its labelled maximum daily dose
(one, two or three dose-times) in each market that sells it, and pairs of the drugs with the
highest maxima in diazepam equivalents, each at its maximum, under both multi-drug policies;
every strategy at the slowest sourced pace (percent, hyperbolic and linear at the slowest
sourced percent and interval, the Ashton bands at the slow pace at each sourced interval and
the slowest guideline one), micro-tapering at each pace and interval option; the person's own
tablets, a liquid, and a liquid with compounding; the tail chosen, each route asked for, and
every route switched off (maintain and review). Each is planned twice: with the bounds as they
are (refusals listed) and with them lifted (the days and steps each needs; the worst named).

    .venv/bin/python benchmarks/plan_bounds.py            # refusals and the worst needs
    .venv/bin/python benchmarks/plan_bounds.py --quick    # the worst cases only (as the test)

Last line: ``plans=<n> refused=<r> worst_days=<d> worst_steps=<s> seconds=<t>``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from benzotaper.catalogue import MARKETS
from benzotaper.errors import BenzotaperError
from benzotaper.knowledge import default_knowledge
from benzotaper.planning import bounds
from benzotaper.planning.engine import de_per_mg, make_plan
from benzotaper.planning.models import Plan, PlanRequest

TODAY = dt.date(2027, 1, 4)
KNOWLEDGE = default_knowledge()
TIMES = (("08:00",), ("08:00", "20:00"), ("08:00", "14:00", "22:00"))
OWN: list[dict[str, Any]] = [{}, {"liquid": True}, {"liquid": True, "compounded": True}]
TAILS: list[dict[str, Any]] = [
    {},
    {"tail_off": ["nights", "liquid", "diazepam", "compounded"]},
    *({"tail": r} for r in ("nights", "liquid", "diazepam", "compounded")),
]
#: pairs are made of this many drugs with the highest labelled maxima (DE)
TOP = 5


def _strategies() -> list[dict[str, Any]]:
    """Each strategy at the slowest sourced pace (see bounds.slowest_sourced_pace)."""
    percent, every = bounds.slowest_sourced_pace(KNOWLEDGE.pacing)
    slow = {"percent": percent, "every_days": every}
    bands = KNOWLEDGE.pacing.ashton_bands
    return [
        {"strategy": "percent", **slow},
        {"strategy": "hyperbolic", **slow},
        {"strategy": "hyperbolic", "pace": "slow", "every_days": every},
        {"strategy": "linear", **slow},
        *(
            {"strategy": "ashton-bands", "pace": "slow", "every_days": int(d)}
            for d in sorted({bands.every_days.low, bands.every_days.high, every})
        ),
    ]


def _micro() -> list[dict[str, Any]]:
    options = KNOWLEDGE.pacing.micro.every_days_options
    return [
        {"micro": True, "pace": pace, **({"every_days": d} if d else {})}
        for pace in ("slow", "moderate", "fast")
        for d in (None, *options)
    ]


def _maxima() -> list[tuple[float, str, list[str]]]:
    """(labelled maximum in mg DE, drug id, markets with products), highest first."""
    cat = KNOWLEDGE.catalogue
    out = []
    for d in cat:
        markets = [m for m in MARKETS if d.products_in(m)]
        if d.max_daily_mg is None or not markets:
            continue
        try:
            f = de_per_mg(cat, d, cat.default_source, fallback=True)
        except BenzotaperError:
            continue
        out.append((d.max_daily_mg.high * f, d.id, markets))
    return sorted(out, reverse=True)


def _rows(drug: str, mg: float, times: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"drug": drug, "mg": mg / len(times), "time": t} for t in times]


def cases(quick: bool) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, request) of every plan checked; ``quick``: the worst cases bounds derives."""
    if quick:
        yield from bounds.worst_sourced_requests(KNOWLEDGE.catalogue, KNOWLEDGE.pacing)
        return
    cat = KNOWLEDGE.catalogue
    maxima = _maxima()
    top = maxima[0][0]
    for (de, drug, markets), times, market in itertools.product(maxima, TIMES, MARKETS):
        full = de >= top / 4  # the doses that come near the bounds get every variant
        if market not in markets or (len(times) == 3 and not full):
            continue
        rows = _rows(drug, cat.drugs[drug].max_daily_mg.high, times)
        for prefs, own, tail in itertools.product(
            _strategies() + _micro(), OWN, TAILS if full else TAILS[:2]
        ):
            if prefs.get("micro") and (not own or tail not in TAILS[:2]):
                continue  # micro-tapering measures small amounts: a liquid or compounding
            p = {"market": market, **prefs, **own, **tail}
            yield f"{drug} x{len(times)} | {p}", _request(rows, p)
    for (a, b), policy in itertools.product(
        itertools.combinations(maxima[:TOP], 2), ("sequential", "proportional")
    ):
        for market, times in itertools.product(MARKETS, TIMES[1:]):
            if market not in a[2] or market not in b[2]:
                continue
            rows = _rows(a[1], cat.drugs[a[1]].max_daily_mg.high, times) + _rows(
                b[1], cat.drugs[b[1]].max_daily_mg.high, times
            )
            for prefs, own, tail in itertools.product(_strategies() + _micro(), OWN, TAILS[:2]):
                if prefs.get("micro") and not own:
                    continue
                p = {"market": market, "multi_drug": policy, **prefs, **own, **tail}
                yield f"{a[1]} + {b[1]} {times} | {p}", _request(rows, p)


def _request(rows: list[dict[str, Any]], prefs: dict[str, Any]) -> dict[str, Any]:
    return {"regimen": rows, "preferences": {"start": TODAY.isoformat(), **prefs}}


def plan(request: dict[str, Any]) -> Plan | BenzotaperError:
    try:
        with bounds.time_budget(3600):  # a loaded machine must not turn a plan into a refusal
            return make_plan(PlanRequest.model_validate(request), KNOWLEDGE, today=TODAY)
    except BenzotaperError as e:
        return e


@contextmanager
def lifted() -> Iterator[None]:
    """The bounds out of the way, to see what each plan needs."""
    saved = bounds.MAX_PLAN_DAYS, bounds.MAX_PLAN_STEPS
    bounds.MAX_PLAN_DAYS = bounds.MAX_PLAN_STEPS = 10**7
    try:
        yield
    finally:
        bounds.MAX_PLAN_DAYS, bounds.MAX_PLAN_STEPS = saved


def days_of(p: Plan) -> int:
    return (p.summary.end - p.summary.start).days + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the worst cases only")
    args = parser.parse_args()
    t0 = time.perf_counter()
    n = refused = 0
    worst_days: tuple[int, str] = (0, "")
    worst_steps: tuple[int, str] = (0, "")
    for name, request in cases(args.quick):
        n += 1
        with lifted():
            need = plan(request)
        if not isinstance(need, Plan):
            continue
        days, steps = days_of(need), len(need.steps)
        worst_days = max(worst_days, (days, name))
        worst_steps = max(worst_steps, (steps, name))
        if days > bounds.MAX_PLAN_DAYS or steps > bounds.MAX_PLAN_STEPS:
            refused += 1  # the bounds as they are refuse it (the error, to be sure)
            got = plan(request)
            said = f"{type(got).__name__}" if not isinstance(got, Plan) else "NOT refused"
            print(f"refused ({said}; needs {days} days, {steps} steps): {name}")
    print(f"bounds: {bounds.MAX_PLAN_DAYS} days, {bounds.MAX_PLAN_STEPS} steps")
    print(f"most days: {worst_days[0]}  {worst_days[1]}")
    print(f"most steps: {worst_steps[0]}  {worst_steps[1]}")
    print(
        f"plans={n} refused={refused} worst_days={worst_days[0]} worst_steps={worst_steps[0]} "
        f"seconds={time.perf_counter() - t0:.1f}"
    )


if __name__ == "__main__":
    main()
