"""One year of a real taper at 15-minute resolution: the exact linear solver vs scipy solve_ivp.

The plan (default): the planner's own plan (`make_plan`, default strategy and pacing) for
diazepam 10 mg at 08:00 and 20:00, its first 365 days, simulated from no drug. With `--hand`, a
hand-built NICE CKS-style diazepam taper (20 mg/day, 2 mg then 1 mg then 0.5 mg cuts every 14
days); with `--crossover`, a hand-built lorazepam 1 mg twice daily → diazepam crossover and
taper (two drugs, shared grid).

Reference: the same equations (x' = K·x per drug, K from the same DrugModel) integrated with
solve_ivp (DOP853, max_step 6 h) between doses, each dose added to the gut compartment as a
discontinuity, evaluated on the same grid; at rtol 1e-10 (atol 1e-14: the accuracy reference)
and at rtol 1e-6 (atol 1e-10: what one would use in practice, the fair speed comparison).

Timing is honest: ours and each reference run the same number of times (``--repeat``), and each
reports its cold run (the first, in a fresh context) and the median of the warm runs.

max_rel_err: max over every species and the diazepam-equivalent activity of
|ours − reference| / max(|reference|, 1e-4 · peak of that series): relative where a level is
above 0.01% of its peak, and relative to 0.01% of the peak below that. The floor is needed
because the *reference* loses relative accuracy as a level decays towards nothing: after the
last lorazepam dose its absolute error stays near 3e-11 of the peak, so at 1e-6 of the peak it
is 4e-6 relative and at 5e-9 of the peak about 1% (it even goes negative), while ours matches
the closed-form decay exp(−ke·t) to 1e-13 there. The per-series lines show each figure.

Both run single-threaded (OPENBLAS_NUM_THREADS=1 unless set): on a busy machine, OpenBLAS
threads waking up for 3×3 matrices cost far more than the arithmetic.

Last line: pk_speedup=<rtol 1e-10 median / ours median> pk_speedup_rtol6=<rtol 1e-6 median /
ours median> max_rel_err=<max relative difference to the rtol 1e-10 reference>
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy is imported

import numpy as np
from scipy.integrate import solve_ivp

from benzotaper.catalogue import Catalogue, default_catalogue
from benzotaper.knowledge import default_knowledge
from benzotaper.pk import Context, Segment, Simulation, TimedDose, simulate_segments
from benzotaper.pk.simulate import plan_segments

START = dt.date(2026, 1, 5)
DAYS = 365
FLOOR = 1e-4
#: Without a cap DOP853 takes day-long steps in the long decays and its dense output (used for
#: the grid points inside a step) is then far less accurate than rtol: 1e-4 relative was seen.
MAX_STEP_H = 6.0


def bid(drug: str, total: float) -> tuple[TimedDose, ...]:
    return (TimedDose(480, drug, total / 2), TimedDose(1200, drug, total / 2))


def diazepam_year() -> list[Segment]:
    levels = [20, 18, 16, 14, 12, 10, 9, 8, 7, 6, 5, 4.5, 4, 3.5, 3, 2.5, 2, 1.5, 1, 0.5]
    return _segments([bid("diazepam", mg) for mg in levels])


def crossover_year() -> list[Segment]:
    lz = [(TimedDose(480, "lorazepam", 1.0), TimedDose(1200, "lorazepam", 1.0))]
    cross = [
        (*bid("lorazepam", 1.5), *bid("diazepam", 5)),
        (*bid("lorazepam", 1.0), *bid("diazepam", 10)),
        (*bid("lorazepam", 0.5), *bid("diazepam", 15)),
    ]
    rest = [bid("diazepam", mg) for mg in [20, 18, 16, 14, 12, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]
    return _segments([*lz, *cross, *rest])


def planner_year(catalogue: Catalogue) -> list[Segment]:
    from benzotaper.cli.request import build_request, takes
    from benzotaper.planning.engine import make_plan

    regimen = takes(["diazepam 10 mg at 08:00", "diazepam 10 mg at 20:00"], catalogue)
    plan = make_plan(build_request(regimen, {}, {"start": START}), default_knowledge(), today=START)
    return plan_segments(catalogue, plan)


def _segments(daily: list[tuple[TimedDose, ...]]) -> list[Segment]:
    out = []
    for i, doses in enumerate(daily):
        start = START + dt.timedelta(days=14 * i)
        out.append(Segment(start, start + dt.timedelta(days=13), doses))
    return out


def reference(
    ctx: Context, segments: list[Segment], sim: Simulation, rtol: float = 1e-10, atol: float = 1e-14
) -> dict[str, np.ndarray]:
    """solve_ivp between dose events; returns the same series as ``sim.levels`` plus activity."""
    t_grid = sim.t_h
    end_h = t_grid[-1]
    out: dict[str, np.ndarray] = {"activity": np.zeros(len(t_grid))}
    for drug_id, model in sim.models.items():
        k = model.rates

        def rhs(_t: float, y: np.ndarray, k: np.ndarray = k) -> np.ndarray:
            return k @ y

        events: dict[float, float] = {}
        for seg in segments:
            for day in range(seg.days):
                base = ((seg.start - START).days + day) * 24.0
                for d in seg.doses:
                    if d.drug == drug_id and base + d.minute / 60 <= end_h:
                        events[base + d.minute / 60] = events.get(base + d.minute / 60, 0) + d.mg
        times = sorted(events)
        x = np.zeros(model.size)
        states = np.zeros((len(t_grid), model.size))
        bounds = [*times, end_h + sim.dt_h]
        if times and times[0] > 0:
            bounds = [0.0, *bounds]
        for a, b in itertools.pairwise(bounds):
            if a in events:
                x = x + model.input_vector * events[a]
            mask = (t_grid >= a - 1e-9) & (t_grid < b - 1e-9)
            sol = solve_ivp(
                rhs,
                (a, b),
                x,
                method="DOP853",
                t_eval=np.r_[t_grid[mask], b],
                rtol=rtol,
                atol=atol,
                max_step=MAX_STEP_H,
            )
            states[mask] = sol.y.T[:-1]
            x = sol.y[:, -1]
        for i, name in enumerate(model.compartments[1:], start=1):
            out[drug_id if name == drug_id else f"{drug_id} → {name}"] = states[:, i]
        out["activity"] += states @ model.activity_weights
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crossover", action="store_true")
    parser.add_argument("--hand", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    catalogue = default_catalogue()
    if args.crossover and "lorazepam" not in catalogue.drugs:
        sys.exit("lorazepam is not in the catalogue yet: run without --crossover")
    if args.crossover:
        segments = crossover_year()
    elif args.hand:
        segments = diazepam_year()
    else:
        segments = planner_year(catalogue)
    ctx = Context.default(catalogue)

    def ours() -> Simulation:
        fresh = Context(ctx.catalogue, ctx.assumptions, ctx.occupancy, ctx.source)
        return simulate_segments(fresh, segments, start=START, days=DAYS, step_minutes=15)

    def timed(run: Callable[[], object]) -> tuple[float, float, object]:
        """Cold (first) time, median of ``repeat`` warm runs, and the last result."""
        t0 = time.perf_counter()
        result = run()
        cold = time.perf_counter() - t0
        warm = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            result = run()
            warm.append(time.perf_counter() - t0)
        return cold, statistics.median(warm), result

    our_cold, our_warm, result = timed(ours)
    assert isinstance(result, Simulation)
    sim = result
    ref_cold, ref_warm, ref_result = timed(lambda: reference(ctx, segments, sim))
    r6_cold, r6_warm, _ = timed(lambda: reference(ctx, segments, sim, rtol=1e-6, atol=1e-10))
    assert isinstance(ref_result, dict)
    ref = ref_result

    worst = 0.0
    for key, mine in [*sim.levels.items(), ("activity", sim.activity_de_mg)]:
        theirs = ref[key]
        floor = FLOOR * np.abs(theirs).max()
        err = np.abs(mine - theirs) / np.maximum(np.abs(theirs), floor)
        worst = max(worst, float(err.max()))
        print(f"{key:40s} peak={np.abs(theirs).max():10.4f}  max_rel_err={err.max():.3e}")
    print(f"grid points: {len(sim.t_h)} ({sim.dt_h * 60:g} min), drugs: {', '.join(sim.models)}")
    n = args.repeat
    print(f"{'run (cold, then median of ' + str(n) + ' warm)':44s} {'cold':>10s} {'warm':>10s}")
    print(f"{'ours (exact linear solver)':44s} {our_cold * 1e3:8.2f}ms {our_warm * 1e3:8.2f}ms")
    print(f"{'solve_ivp DOP853 rtol 1e-10':44s} {ref_cold * 1e3:8.0f}ms {ref_warm * 1e3:8.0f}ms")
    print(f"{'solve_ivp DOP853 rtol 1e-6':44s} {r6_cold * 1e3:8.0f}ms {r6_warm * 1e3:8.0f}ms")
    print(
        f"pk_speedup={ref_warm / our_warm:.1f} pk_speedup_rtol6={r6_warm / our_warm:.1f} "
        f"max_rel_err={worst:.3e}"
    )


if __name__ == "__main__":
    main()
