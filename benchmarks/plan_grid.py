"""A grid of plans, one digest each, so that a change to the planner shows "plans unchanged" or
exactly which plans changed (not a golden file: the digests are written where you say).

The grid crosses every strategy (percent, linear, hyperbolic, Ashton bands, and a custom
schedule made of the percent plan's own steps), drugs short- and long-acting at low and high
doses, both markets, every pace and an explicit rate, the person's own tablets or a liquid,
holds, a switch to diazepam with and without its liquid, the final slow section off, each dose
time order, micro-tapering, each tail route asked for or switched off, home methods, a return
to an earlier dose, and two or three drugs under the sequential and proportional policies. A
plan refused is digested by its error's class and message, so a new refusal shows too.

    .venv/bin/python benchmarks/plan_grid.py --save /tmp/grid-before.txt
    .venv/bin/python benchmarks/plan_grid.py --compare /tmp/grid-before.txt
    .venv/bin/python benchmarks/plan_grid.py --show "NAME"      # one plan as JSON, to diff

Last line: ``plans=<n> refused=<r> changed=<c> seconds=<s>`` (changed only with --compare).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benzotaper.errors import BenzotaperError
from benzotaper.knowledge import default_knowledge
from benzotaper.planning import bounds
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import Plan, PlanRequest

TODAY = dt.date(2027, 1, 4)
KNOWLEDGE = default_knowledge()
Takes = list[tuple[str, float, str]]

#: (name, market, doses): single drugs, low and high, one to three dose-times
SINGLE: list[tuple[str, str, Takes]] = [
    ("diazepam 2", "us", [("diazepam", 2, "22:00")]),
    ("diazepam 10", "us", [("diazepam", 5, "08:00"), ("diazepam", 5, "22:00")]),
    ("diazepam 40", "us", [("diazepam", 20, "08:00"), ("diazepam", 20, "22:00")]),
    ("diazepam 15 uk", "uk", [("diazepam", 10, "08:00"), ("diazepam", 5, "22:00")]),
    ("clonazepam 0.25", "us", [("clonazepam", 0.25, "22:00")]),
    ("clonazepam 1", "us", [("clonazepam", 0.5, "08:00"), ("clonazepam", 0.5, "22:00")]),
    ("clonazepam 4", "us", [("clonazepam", 2, "08:00"), ("clonazepam", 2, "22:00")]),
    ("clonazepam 1 uk", "uk", [("clonazepam", 0.5, "08:00"), ("clonazepam", 0.5, "22:00")]),
    ("lorazepam 0.5", "us", [("lorazepam", 0.5, "22:00")]),
    (
        "lorazepam 3",
        "us",
        [("lorazepam", 1, "08:00"), ("lorazepam", 1, "13:00"), ("lorazepam", 1, "22:00")],
    ),
    ("lorazepam 2 uk", "uk", [("lorazepam", 1, "08:00"), ("lorazepam", 1, "22:00")]),
    ("alprazolam 0.25", "us", [("alprazolam", 0.25, "22:00")]),
    ("alprazolam 1.5", "us", [("alprazolam", 0.5, "08:00"), ("alprazolam", 1, "22:00")]),
    ("alprazolam 4", "us", [("alprazolam", 2, "08:00"), ("alprazolam", 2, "22:00")]),
    ("zolpidem 5", "us", [("zolpidem", 5, "22:00")]),
    ("zolpidem 10", "us", [("zolpidem", 10, "22:00")]),
    ("zolpidem 10 uk", "uk", [("zolpidem", 10, "22:00")]),
    ("temazepam 20 uk", "uk", [("temazepam", 20, "22:00")]),
    ("oxazepam 30", "us", [("oxazepam", 15, "08:00"), ("oxazepam", 15, "22:00")]),
    ("zopiclone 7.5 uk", "uk", [("zopiclone", 7.5, "22:00")]),
]

#: several drugs (with the sequential and the proportional policy each)
SEVERAL: list[tuple[str, str, Takes]] = [
    ("alprazolam + zolpidem", "us", [("alprazolam", 0.5, "08:00"), ("zolpidem", 10, "22:00")]),
    ("diazepam + lorazepam", "us", [("diazepam", 5, "08:00"), ("lorazepam", 1, "22:00")]),
    ("clonazepam + zolpidem", "us", [("clonazepam", 1, "08:00"), ("zolpidem", 5, "22:00")]),
    ("diazepam + temazepam uk", "uk", [("diazepam", 5, "08:00"), ("temazepam", 20, "22:00")]),
    (
        "lorazepam + alprazolam + zolpidem",
        "us",
        [("lorazepam", 1, "08:00"), ("alprazolam", 0.5, "13:00"), ("zolpidem", 10, "22:00")],
    ),
    ("diazepam + clonazepam", "us", [("diazepam", 10, "08:00"), ("clonazepam", 0.5, "22:00")]),
    # diazepam tapered first, then lorazepam switched into it (sequential)
    ("diazepam 10 + lorazepam 0.5", "us", [("diazepam", 10, "08:00"), ("lorazepam", 0.5, "22:00")]),
    (
        "alprazolam 1 + lorazepam + zolpidem",
        "us",
        [("alprazolam", 1, "08:00"), ("lorazepam", 1, "13:00"), ("zolpidem", 10, "22:00")],
    ),
]

#: doses taken that no product makes: stopped in the first step (small), routed from the start,
#: or switched with nothing of the target in their place
UNMADE: list[tuple[str, str, Takes]] = [
    ("estazolam 3 + diazepam 0.5", "us", [("estazolam", 3, "18:00"), ("diazepam", 0.5, "13:00")]),
    ("estazolam 3 + diazepam 1/3", "us", [("estazolam", 3, "18:00"), ("diazepam", 1 / 3, "13:00")]),
    ("lorazepam 0.25", "us", [("lorazepam", 0.25, "08:00")]),
    (
        "estazolam 2 + lorazepam 0.25",
        "us",
        [("estazolam", 2, "22:00"), ("lorazepam", 0.25, "08:00")],
    ),
    ("diazepam 7.3", "us", [("diazepam", 7.3, "08:00")]),
    (
        "alprazolam 0.0625 + 0.5",
        "us",
        [("alprazolam", 0.0625, "08:00"), ("alprazolam", 0.5, "20:00")],
    ),
    (
        "zopiclone 0.9375 + 3.75 uk",
        "uk",
        [("zopiclone", 0.9375, "18:00"), ("zopiclone", 3.75, "22:00")],
    ),
]

STRATEGIES: list[dict[str, Any]] = [
    {"strategy": "percent"},
    {"strategy": "linear"},
    {"strategy": "hyperbolic"},
    {"strategy": "ashton-bands"},
]
PACES: list[dict[str, Any]] = [
    {"pace": "slow"},
    {"pace": "moderate"},
    {"pace": "fast"},
    {"percent": 7.5, "every_days": 10},
]
OWN: list[dict[str, Any]] = [{}, {"liquid": True}, {"compounded": True}]


def _variants() -> Iterator[tuple[str, dict[str, Any]]]:
    """Preferences beyond strategy, pace and products, each on its own."""
    yield "hold", {"holds": [{"start": "2027-03-01", "days": 30, "reason": "exams"}]}
    yield (
        "two holds",
        {
            "holds": [
                {"start": "2027-01-04", "days": 7, "reason": "first week"},
                {"start": "2027-06-15", "days": 60, "reason": "summer"},
            ]
        },
    )
    yield "no final section", {"final_slow_section": False}
    for rule in ("daytime-first", "night-first", "largest-first", "across"):
        yield f"times {rule}", {"dose_time_rule": rule}
    yield "micro", {"micro": True, "liquid": True}
    yield "micro 5%/3d", {"micro": True, "liquid": True, "percent": 5, "every_days": 3}
    for route in ("nights", "liquid", "diazepam", "compounded", "maintain"):
        yield f"tail {route}", {"tail": route}
    yield "tail off nights+liquid", {"tail_off": ["nights", "liquid"]}
    yield "tail off all", {"tail_off": ["nights", "liquid", "diazepam", "compounded"]}
    yield "home liquid", {"home_liquid": True}
    yield (
        "override 40",
        {
            "percent": 35,
            "every_days": 14,
            "override": {"reason": "agreed with my prescriber", "max_percent_per_14_days": 40},
        },
    )


def _reinstated(takes: Takes) -> dict[str, Any]:
    """A return to 1.5 times the dose taken now, for 14 days."""
    daily: dict[str, float] = {}
    for drug, mg, _ in takes:
        daily[drug] = daily.get(drug, 0.0) + mg * 1.5
    return {"reinstate": {"from_daily_mg": daily, "days": 14, "reason": "withdrawal"}}


def cases() -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, request) of every plan in the grid."""
    for (name, market, takes), strategy, pace, own in itertools.product(
        SINGLE, STRATEGIES, PACES, OWN
    ):
        prefs = {"market": market, **strategy, **pace, **own}
        yield f"{name} | {prefs}", _request(takes, prefs)
    for (name, market, takes), (variant, extra), strategy in itertools.product(
        SINGLE, _variants(), STRATEGIES
    ):
        if extra.get("micro") and strategy["strategy"] != "percent":
            continue  # micro-tapering is for the percent strategy only (refused otherwise)
        prefs = {"market": market, "pace": "moderate", **strategy, **extra}
        yield f"{name} | {variant} | {prefs}", _request(takes, prefs)
    for (name, market, takes), strategy, pace, extra in itertools.product(
        UNMADE, STRATEGIES, PACES[:3], ({}, {"tail_off": ["diazepam"]}, {"crossover": "diazepam"})
    ):
        if extra.get("crossover") and all(d == "diazepam" for d, _, _ in takes):
            continue
        prefs = {"market": market, **strategy, **pace, **extra}
        yield f"{name} | {prefs}", _request(takes, prefs)
    for (name, market, takes), strategy in itertools.product(SINGLE, STRATEGIES):
        prefs = {"market": market, **strategy, **_reinstated(takes)}
        yield f"{name} | reinstate | {prefs}", _request(takes, prefs)
    for (name, market, takes), liquid, strategy, pace in itertools.product(
        SINGLE + SEVERAL, (False, True), STRATEGIES, PACES[:3]
    ):
        if all(d == "diazepam" for d, _, _ in takes):
            continue
        prefs = {"market": market, "crossover": "diazepam", "liquid": liquid, **strategy, **pace}
        yield f"{name} | crossover | {prefs}", _request(takes, prefs)
    for (name, market, takes), policy, strategy, pace, own in itertools.product(
        SEVERAL, ("sequential", "proportional"), STRATEGIES, PACES, OWN
    ):
        prefs = {"market": market, "multi_drug": policy, **strategy, **pace, **own}
        yield f"{name} | {prefs}", _request(takes, prefs)
    for (name, market, takes), policy, (variant, extra) in itertools.product(
        SEVERAL, ("sequential", "proportional"), _variants()
    ):
        prefs = {"market": market, "multi_drug": policy, "pace": "moderate", **extra}
        yield f"{name} | {variant} | {prefs}", _request(takes, prefs)


def _request(takes: Takes, prefs: dict[str, Any]) -> dict[str, Any]:
    return {
        "regimen": [{"drug": d, "mg": mg, "time": t} for d, mg, t in takes],
        "preferences": {"start": TODAY.isoformat(), **prefs},
    }


def _custom_of(plan: Plan, request: dict[str, Any]) -> dict[str, Any]:
    """The same request with strategy custom: the plan's own steps as the schedule (its stop
    included), so a custom schedule walks the same doses."""
    rows = []
    for step in plan.steps:
        if step.phase in ("crossover", "stabilise", "hold", "reinstatement", "maintain"):
            continue
        for drug, mg in step.daily_mg.items():
            rows.append({"start": step.start.isoformat(), "drug": drug, "daily_mg": mg})
    prefs = {**request["preferences"], "strategy": "custom", "custom_steps": rows}
    for unused in ("pace", "percent", "every_days", "holds", "micro", "tail", "tail_off"):
        prefs.pop(unused, None)
    return {**request, "preferences": prefs}


def _plan(request: dict[str, Any]) -> tuple[str, Plan | None]:
    """The plan's JSON (or its refusal) and the plan."""
    try:
        with bounds.time_budget(3600):  # a loaded machine must not turn a plan into a refusal
            plan = make_plan(PlanRequest.model_validate(request), KNOWLEDGE, today=TODAY)
    except BenzotaperError as e:
        return f"refused {type(e).__name__}: {e}", None
    return plan.model_dump_json(), plan


def run() -> Iterator[tuple[str, str, str]]:
    """(name, digest, text) of every plan; a percent plan brings its custom twin (when a
    schedule of daily doses can walk it)."""
    for name, request in cases():
        text, plan = _plan(request)
        yield name, _digest(text), text
        if plan is not None and _schedulable(plan):
            twin = _custom_of(plan, request)
            text, _ = _plan(twin)
            yield f"{name} | custom twin", _digest(text), text


def _schedulable(plan: Plan) -> bool:
    """A percent plan a custom schedule can walk: the person's own products (a schedule takes
    no tail route), every dose every day, no drug switched."""
    return (
        plan.summary.strategy == "percent"
        and not plan.routes
        and all(s.phase != "crossover" for s in plan.steps)
        and all(d.on_days is None for s in plan.steps for d in s.doses)
    )


def _digest(text: str) -> str:
    head = "refused " if text.startswith("refused ") else ""
    return head + hashlib.sha256(text.encode()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--save", type=Path, help="write 'digest<TAB>name' lines here")
    parser.add_argument("--compare", type=Path, help="compare with a file --save wrote")
    parser.add_argument("--show", help="print the plan (or refusal) of this one name")
    args = parser.parse_args()
    t0 = time.perf_counter()
    got: dict[str, str] = {}
    refused = 0
    for name, digest, text in run():
        if args.show is not None:
            if name == args.show:
                print(text)
                return
            continue
        got[name] = digest
        refused += digest.startswith("refused")
    if args.show is not None:
        sys.exit(f"no plan named {args.show!r}")
    lines = [f"{d}\t{n}" for n, d in got.items()]
    if args.save:
        args.save.write_text("\n".join(lines) + "\n")
    changed = ""
    if args.compare:
        before = dict(
            reversed(line.split("\t", 1)) for line in args.compare.read_text().splitlines()
        )
        diff = sorted(n for n in got.keys() | before.keys() if got.get(n) != before.get(n))
        for n in diff:
            print(f"changed: {before.get(n, '-')} -> {got.get(n, '-')}  {n}")
        changed = f" changed={len(diff)}"
        print("plans unchanged" if not diff else f"{len(diff)} plans changed")
    seconds = time.perf_counter() - t0
    print(f"plans={len(got)} refused={refused}{changed} seconds={seconds:.1f}")


if __name__ == "__main__":
    main()
