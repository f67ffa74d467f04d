"""Per-step metrics of hand-made plans with known answers."""

from __future__ import annotations

import math

import pytest

from benzotaper.pk import Context, simulate_plan
from benzotaper.pk.metrics import step_metrics
from tests.pk.plans import diazepam_taper, make_plan


def test_diazepam_taper_metrics(ctx: Context) -> None:
    plan = diazepam_taper(10, cuts=4, days=14)
    metrics = step_metrics(ctx, plan)
    assert [m.index for m in metrics] == list(range(6))
    first, cut, last = metrics[0], metrics[1], metrics[-1]
    assert first.de_drop_percent == pytest.approx(0, abs=1e-9)  # first step = current dose
    assert first.days_to_90_percent is None
    assert cut.de_drop_percent == pytest.approx(10.0, rel=1e-6)  # 10 -> 9 mg
    assert metrics[2].de_drop_percent == pytest.approx(100 / 9, rel=1e-6)  # 9 -> 8 mg
    occ = ctx.occupancy
    assert cut.occupancy_drop_points == pytest.approx(
        occ.occupancy(10) - occ.occupancy(9), abs=0.02
    )
    # linear kinetics: proportional regimens fluctuate by the same percentage and settle alike
    flucts = {round(m.steady.fluctuation_percent, 9) for m in metrics if m.steady}
    assert len(flucts) == 1
    settle = {m.days_to_90_percent for m in metrics[1:5]}
    assert len(settle) == 1
    days = settle.pop()
    assert days is not None and 5 < days < 12  # diazepam t½ 38 h chained to nordazepam t½ 40 h
    assert cut.settles_within_step  # 14-day steps
    assert last.steady is None and last.de_drop_percent == pytest.approx(100.0)
    assert last.occupancy_drop_points == pytest.approx(
        metrics[-2].steady.mean_occupancy_percent if metrics[-2].steady else 0
    )


def test_a_short_step_is_flagged_as_not_settled(ctx: Context) -> None:
    plan = diazepam_taper(10, cuts=2, days=4)
    metrics = step_metrics(ctx, plan)
    assert metrics[1].settles_within_step is False


def test_one_compartment_settling_time(ctx: Context) -> None:
    # parent only, t½ 12 h: 90% of an exponential change takes log2(10)·t½ ≈ 1.66 days,
    # plus up to a day for the trailing 24-hour average to catch up
    plan = make_plan(
        [("08:00", "simplezepam", 2.0)],
        [(7, [("08:00", "simplezepam", 2.0)]), (7, [("08:00", "simplezepam", 1.0)])],
    )
    m = step_metrics(ctx, plan)[1]
    assert m.days_to_90_percent is not None
    assert math.log2(10) * 0.5 < m.days_to_90_percent < math.log2(10) * 0.5 + 1


def test_crossover_smooths_interdose_fluctuation(ctx: Context) -> None:
    plan = make_plan(
        [("08:00", "lorazepam", 1.0), ("20:00", "lorazepam", 1.0)],
        [
            (7, [("08:00", "lorazepam", 1.0), ("20:00", "lorazepam", 1.0)]),
            (
                7,
                [
                    ("08:00", "lorazepam", 0.5),
                    ("20:00", "lorazepam", 0.5),
                    ("08:00", "diazepam", 5.0),
                    ("20:00", "diazepam", 5.0),
                ],
            ),
            (14, [("08:00", "diazepam", 10.0), ("20:00", "diazepam", 10.0)]),
        ],
    )
    metrics = step_metrics(ctx, plan)
    before, after = metrics[0].steady, metrics[2].steady
    assert before is not None and after is not None
    assert after.fluctuation_percent < before.fluctuation_percent / 2
    sim = simulate_plan(ctx, plan)
    assert "lorazepam" in sim.levels and "diazepam → desmethyldiazepam" in sim.levels
    # level never drops to zero across the switch (steady state assumed at the start)
    assert sim.activity_de_mg.min() > 0
