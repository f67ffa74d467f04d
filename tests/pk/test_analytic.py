"""The simulation against closed-form pharmacokinetics: exact, not approximately right."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benzotaper.pk import (
    Context,
    Segment,
    TimedDose,
    ka_from_tmax,
    simulate_regimen,
    simulate_segments,
)
from benzotaper.pk.linear import convolve, propagate
from benzotaper.pk.metrics import steady_cycle
from benzotaper.planning.models import Administration

START = dt.date(2026, 1, 1)


def once(drug: str, mg: float, minute: int = 0) -> Segment:
    return Segment(START, START, (TimedDose(minute, drug, mg),))


def daily(drug: str, mg: float, days: int, minutes: tuple[int, ...] = (0,)) -> Segment:
    return Segment(
        START, START + dt.timedelta(days=days - 1), tuple(TimedDose(m, drug, mg) for m in minutes)
    )


def bateman(t: np.ndarray, dose: float, f: float, ka: float, ke: float) -> np.ndarray:
    return dose * f * ka / (ka - ke) * (np.exp(-ke * t) - np.exp(-ka * t))


def test_single_dose_matches_the_bateman_function(ctx: Context) -> None:
    sim = simulate_segments(ctx, [once("simplezepam", 4.0)], start=START, days=5, step_minutes=5)
    model = ctx.model("simplezepam")
    ka, ke = -model.rates[0, 0], -model.rates[1, 1]
    expected = bateman(sim.t_h, 4.0, 0.8, ka, ke)
    got = sim.levels["simplezepam"]
    assert np.max(np.abs(got - expected)) <= 1e-12 * expected.max()
    # the derived absorption rate puts the peak at the catalogue's tmax (2 h)
    assert abs(math.log(ka / ke) / (ka - ke) - 2.0) < 1e-9
    assert sim.t_h[np.argmax(got)] == pytest.approx(2.0, abs=5 / 60)


def test_equal_rate_constants_give_k_t_exp_minus_kt(ctx: Context) -> None:
    model = ctx.model("equalzepam")
    assert model.rates[0, 0] == model.rates[1, 1]  # ka == ke exactly: Bateman would divide by 0
    k = -model.rates[1, 1]
    sim = simulate_segments(ctx, [once("equalzepam", 3.0)], start=START, days=6)
    expected = 3.0 * k * sim.t_h * np.exp(-k * sim.t_h)
    got = sim.levels["equalzepam"]
    assert np.all(np.isfinite(got))
    assert np.max(np.abs(got - expected)) <= 1e-12 * expected.max()


def test_nearly_equal_rate_constants_are_continuous() -> None:
    k = 0.1
    near = np.array([[-k * (1 + 1e-9), 0.0], [k * (1 + 1e-9), -k]])
    t = np.arange(200) * 0.25
    got = propagate(near, 0.25, 200, np.array([1.0, 0.0]))[:, 1]
    assert np.max(np.abs(got - k * t * np.exp(-k * t))) < 1e-8


@settings(max_examples=50, deadline=None)
@given(
    tmax=st.floats(min_value=0.1, max_value=30.0),
    half_life=st.floats(min_value=1.0, max_value=200.0),
)
def test_ka_from_tmax_reproduces_tmax(tmax: float, half_life: float) -> None:
    ke = math.log(2) / half_life
    ka = ka_from_tmax(tmax, ke)
    if abs(ka - ke) < 1e-12 * ke:
        assert abs(1 / ke - tmax) < 1e-9 * tmax
    else:
        assert abs(math.log(ka / ke) / (ka - ke) - tmax) < 1e-9 * tmax
    assert (ka > ke) == (ke * tmax < 1)


def test_steady_state_accumulation_ratio(ctx: Context) -> None:
    # once daily at 00:00: the trough just before dose n is the parent level at (n-1)·24 h
    sim = simulate_segments(ctx, [daily("simplezepam", 2.0, 40)], start=START, days=40)
    model = ctx.model("simplezepam")
    ke = -model.rates[1, 1]
    per_day = round(24 / sim.dt_h)
    level = sim.levels["simplezepam"]
    ratio = level[39 * per_day] / level[per_day]
    assert ratio == pytest.approx(1 / (1 - math.exp(-ke * 24)), rel=1e-10)


def test_half_life_recovered_from_simulated_decay(ctx: Context) -> None:
    sim = simulate_segments(ctx, [once("simplezepam", 5.0)], start=START, days=6)
    i, j = round(48 / sim.dt_h), round(96 / sim.dt_h)
    level = sim.levels["simplezepam"]
    half_life = math.log(2) * (sim.t_h[j] - sim.t_h[i]) / math.log(level[i] / level[j])
    assert half_life == pytest.approx(12.0, rel=1e-9)


def test_older_adult_diazepam_decays_more_slowly(test_catalogue: object) -> None:
    from benzotaper.catalogue import Catalogue

    assert isinstance(test_catalogue, Catalogue)
    young = Context.default(test_catalogue, age=40)
    old = Context.default(test_catalogue, age=70)
    k_young = -young.model("diazepam").rates[1, 1]
    k_old = -old.model("diazepam").rates[1, 1]
    assert math.log(2) / k_young == pytest.approx(38.0)  # midpoint of 31-45 h
    assert math.log(2) / k_old == pytest.approx(79.0)  # midpoint of 72-86 h (older adults)
    sims = [
        simulate_segments(c, [once("diazepam", 10.0)], start=START, days=20) for c in (young, old)
    ]
    late = round(15 * 24 / sims[0].dt_h)
    assert sims[1].activity_de_mg[late] > 2 * sims[0].activity_de_mg[late]


def test_superposition_of_two_regimens(ctx: Context) -> None:
    a = Segment(START, START + dt.timedelta(days=9), (TimedDose(480, "diazepam", 5.0),))
    b = Segment(
        START + dt.timedelta(days=3),
        START + dt.timedelta(days=12),
        (TimedDose(1200, "lorazepam", 1.0), TimedDose(1230, "diazepam", 2.0)),
    )
    both = Segment(a.start, a.end, a.doses), Segment(b.start, b.end, b.doses)
    sa = simulate_segments(ctx, [a], start=START, days=20)
    sb = simulate_segments(ctx, [b], start=START, days=20)
    sab = simulate_segments(ctx, list(both), start=START, days=20)
    assert sa.dt_h == sb.dt_h == sab.dt_h == 0.25  # 20:30 and 20:00 fall on the 15-min grid
    for key, value in sab.levels.items():
        expected = sa.levels.get(key, 0) + sb.levels.get(key, 0)
        assert np.allclose(value, expected, rtol=0, atol=1e-12 * value.max())
    assert np.allclose(
        sab.activity_de_mg, sa.activity_de_mg + sb.activity_de_mg, rtol=0, atol=1e-12 * 20
    )


def test_metabolite_mass_balance(ctx: Context) -> None:
    # what entered (F·D) = what is in the gut, parent and metabolite + what was eliminated
    sim = simulate_segments(ctx, [once("diazepam", 10.0)], start=START, days=30, step_minutes=1)
    model = ctx.model("diazepam")
    k = model.rates
    full = convolve(
        np.r_[10.0, np.zeros(len(sim.t_h) - 1)],
        propagate(k, sim.dt_h, len(sim.t_h), model.input_vector),
    )
    gut, parent, metab = full.T
    assert np.allclose(parent, sim.levels["diazepam"]) and np.allclose(
        metab, sim.levels["diazepam → desmethyldiazepam"]
    )
    frac = k[2, 1] / -k[1, 1]
    out_rate = (1 - frac) * -k[1, 1] * parent + -k[2, 2] * metab
    eliminated = np.r_[0, np.cumsum((out_rate[1:] + out_rate[:-1]) / 2 * sim.dt_h)]
    total = gut + parent + metab + eliminated
    assert np.max(np.abs(total - 10.0 * model.bioavailability)) < 1e-5
    # metabolite formed (frac of the parent eliminated) = metabolite eliminated + still present
    formed = frac * -k[1, 1] * np.trapezoid(parent, dx=sim.dt_h)
    gone = -k[2, 2] * np.trapezoid(metab, dx=sim.dt_h)
    assert formed == pytest.approx(gone + metab[-1], rel=1e-5)  # trapezoid error


def test_chains_for_chlordiazepoxide_and_clorazepate(ctx: Context) -> None:
    cdx = ctx.model("chlordiazepoxide")
    assert cdx.compartments == ("gut", "chlordiazepoxide", "demoxepam", "desmethyldiazepam")
    clz = ctx.model("clorazepate")
    assert clz.compartments == ("gut", "desmethyldiazepam")  # prodrug: no circulating parent
    sim = simulate_segments(ctx, [once("chlordiazepoxide", 25.0)], start=START, days=10)
    dmx = sim.levels["chlordiazepoxide → demoxepam"]
    nor = sim.levels["chlordiazepoxide → desmethyldiazepam"]
    assert np.argmax(sim.levels["chlordiazepoxide"]) < np.argmax(dmx) < np.argmax(nor)


@pytest.mark.parametrize("drug", ["diazepam", "lorazepam", "chlordiazepoxide", "clorazepate"])
def test_steady_state_activity_averages_the_de_dose(ctx: Context, drug: str) -> None:
    doses = (TimedDose(480, drug, 2.0), TimedDose(1200, drug, 2.0))
    activity, occupancy = steady_cycle(ctx, doses, step_minutes=1)
    expected = 4.0 * ctx.model(drug).de_per_mg
    assert activity.mean() == pytest.approx(expected, rel=2e-3)  # grid mean vs exact mean
    assert np.all(occupancy < 100) and np.all(occupancy > 0)


def test_vectorised_occupancy_is_the_shared_model(ctx: Context) -> None:
    values = np.array([0.0, 0.5, 1.0, 4.0, 40.0])
    got = ctx.occupancy.occupancy_array(values)
    assert got.tolist() == pytest.approx([ctx.occupancy.occupancy(v) for v in values])


def test_starting_at_steady_state_matches_a_long_run(ctx: Context) -> None:
    regimen = [
        Administration(drug="diazepam", mg=5, time="08:00"),
        Administration(drug="Diazepam", mg=5, time="20:00"),
    ]
    long = simulate_regimen(ctx, regimen, days=150, start=START)
    steady = simulate_regimen(ctx, regimen, days=2, start=START, steady=True)
    per_day = round(24 / long.dt_h)
    assert np.allclose(steady.activity_de_mg[:per_day], long.activity_de_mg[-per_day:], rtol=1e-9)


def test_chain_recursion_matches_fft_convolution_of_the_impulse_response(ctx: Context) -> None:
    from benzotaper.pk.linear import respond

    model = ctx.model("chlordiazepoxide")
    rng = np.random.default_rng(7)
    doses = np.where(rng.random(3000) < 0.02, rng.random(3000) * 10, 0.0)
    x0 = np.array([0.5, 1.0, 2.0, 3.0])
    fast = respond(model.rates, 0.25, doses, model.input_vector, x0)
    h = propagate(model.rates, 0.25, 3000, model.input_vector)
    slow = convolve(doses, h) + propagate(model.rates, 0.25, 3000, x0)
    assert np.allclose(fast, slow, rtol=1e-10, atol=1e-12 * slow.max())
    # a matrix that is not a chain takes the FFT path and gives the same answer
    full = model.rates.copy()
    full[0, 1] = 1e-3
    full[1, 1] -= 1e-3
    both = respond(full, 0.25, doses, model.input_vector)
    assert np.allclose(both, convolve(doses, propagate(full, 0.25, 3000, model.input_vector)))
