"""Crossover through make_plan, the CLI and compare: switch first, stabilise, then taper."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from planhelpers import TODAY, check_make_up, plan_for
from test_plan_cli import run

from benzotaper.catalogue import Catalogue
from benzotaper.errors import InputError, RegimenError
from benzotaper.planning.metrics import rates
from benzotaper.planning.models import Plan


def check_crossover_plan(plan: Plan, target: str = "diazepam") -> None:
    steps = plan.steps
    phases = [s.phase for s in steps]
    n = phases.count("crossover")
    assert n >= 1 and phases[:n] == ["crossover"] * n and phases[n] == "stabilise"
    assert "crossover" not in phases[n + 1 :] and phases[-1] == "stop"
    assert steps[0].start == (plan.request.preferences.start or TODAY)
    for a, b in itertools.pairwise(steps):
        assert b.start == a.end + dt.timedelta(days=1)
    assert [s.index for s in steps] == list(range(len(steps)))
    start_de = plan.summary.starting_diazepam_equivalent_mg
    tol = plan.summary.parameters["crossover"]["crossover_de_tolerance_mg"]
    for s in steps[: n + 1]:
        assert s.days >= 7
        # constant DE within the stated tolerance (step DE is shown to 4 decimals)
        assert abs(s.diazepam_equivalent_mg - start_de) <= tol + 1e-3, (s.index, s)
    # after the switch only the target drug is taken, and it never rises
    prev_de = steps[n].diazepam_equivalent_mg
    prev = {(d.time): d.mg for d in steps[n].doses}
    for s in steps[n + 1 :]:
        assert {d.drug for d in s.doses} <= {target}
        assert s.diazepam_equivalent_mg <= prev_de + 1e-6
        prev_de = s.diazepam_equivalent_mg
        for d in s.doses:
            assert d.mg <= prev.get(d.time, 0) + 1e-6
            prev[d.time] = d.mg
    assert all(d.mg == 0 for d in steps[-1].doses)
    # the crossover keeps DE within its tolerance; the taper after it, within the maximum rate
    assert all(
        rate <= 25.01 for s, rate in rates(plan) if s.phase not in ("crossover", "stabilise")
    )
    # every printed dose, crossover steps included, is exactly the pieces listed
    check_make_up(plan, plan_catalogue())


def plan_catalogue() -> Catalogue:
    from benzotaper.catalogue import default_catalogue

    return default_catalogue()


def test_nhs_scotland_example_end_to_end(catalogue: Catalogue) -> None:
    """Lorazepam 1 mg morning + night: night then morning switched, then the morning dose cut."""
    plan = plan_for(
        catalogue,
        ("lorazepam", 1, "08:00"),
        ("lorazepam", 1, "22:00"),
        crossover="diazepam",
        market="uk",
    )
    check_crossover_plan(plan)
    one, two, stab, first_cut = plan.steps[:4]
    assert [(d.time, d.drug, d.mg) for d in one.doses] == [
        ("08:00", "lorazepam", 1),
        ("08:00", "diazepam", 0),
        ("22:00", "lorazepam", 0),
        ("22:00", "diazepam", 10),
    ]
    assert {(d.time, d.drug): d.mg for d in two.doses}[("08:00", "diazepam")] == 10
    assert stab.daily_mg == {"diazepam": 20}
    cut = {d.time: d.mg for d in first_cut.doses}
    assert cut["08:00"] < 10 and cut["22:00"] == 10  # the morning dose is reduced first
    assert plan.risk.diazepam_equivalent_mg == 20  # risk from the regimen taken now
    assert plan.summary.parameters["crossover"]["crossover_target"] == "diazepam"
    codes = {w.code for w in plan.warnings}
    assert {"crossover.equivalence", "crossover.monitoring"} <= codes
    products = {(line.drug, line.product) for line in plan.dispense_total}
    assert ("lorazepam", "1 mg tablet") in products and ("diazepam", "10 mg tablet") in products


def test_crossover_keeps_the_pace_of_the_original_risk(catalogue: Catalogue) -> None:
    plan = plan_for(
        catalogue,
        ("alprazolam", 0.5, "08:00"),
        ("zolpidem", 10, "22:00"),
        crossover="diazepam",
        person={"years_on_drug": 3},
    )
    check_crossover_plan(plan)
    assert "risk.polydrug" in {w.code for w in plan.warnings}
    assert plan.summary.pace == plan.risk.recommended_pace == "slow"


def test_refused_targets_are_clear_errors(catalogue: Catalogue) -> None:
    with pytest.raises(RegimenError, match="not a long-acting drug"):
        plan_for(catalogue, ("lorazepam", 1, "22:00"), crossover="alprazolam")
    with pytest.raises(RegimenError, match="nothing to switch"):
        plan_for(catalogue, ("diazepam", 10, "22:00"), crossover="diazepam")
    # 140 mg DE: the switch's diazepam dose is refused as the switch's, not as a unit mistake
    takes = [("clonazepam", 2, t) for t in ("08:00", "18:00", "22:00")]
    with pytest.raises(RegimenError, match="switch to Diazepam would need 140 mg") as e:
        plan_for(catalogue, *takes, ("alprazolam", 1, "13:00"), market="uk", crossover="diazepam")
    assert "(not g)" not in str(e.value)


@settings(max_examples=25, deadline=None)
@given(
    drug=st.sampled_from(["lorazepam", "alprazolam", "clonazepam", "temazepam", "oxazepam"]),
    units=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    market=st.sampled_from(["us", "uk"]),
    liquid=st.booleans(),
    strategy=st.sampled_from(["percent", "linear", "ashton-bands", "hyperbolic"]),
    pace=st.sampled_from(["slow", "moderate", "fast"]),
)
def test_crossover_plans_keep_every_guardrail(
    catalogue: Catalogue,
    drug: str,
    units: list[int],
    market: str,
    liquid: bool,
    strategy: str,
    pace: str,
) -> None:
    unit = {"lorazepam": 0.5, "alprazolam": 0.25, "clonazepam": 0.25}.get(drug, 10.0)
    times = ["08:00", "14:00", "22:00"]
    takes = [(drug, unit * u, t) for u, t in zip(units, times, strict=False)]
    try:
        plan = plan_for(
            catalogue,
            *takes,
            crossover="diazepam",
            market=market,
            liquid=liquid,
            strategy=strategy,
            pace=pace,
        )
    except InputError:
        return  # e.g. no product on this market: a clear, typed refusal
    check_crossover_plan(plan)


def test_cli_plan_with_crossover_and_compare_routes() -> None:
    proc = run(
        "plan",
        "--take",
        "lorazepam 1 mg at 08:00",
        "--take",
        "lorazepam 1 mg at 22:00",
        "--crossover",
        "diazepam",
        "--market",
        "uk",
        "--start",
        "2027-01-04",
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    first = data["steps"][0]
    assert first["phase"] == "crossover"
    assert {d["drug"] for d in first["doses"]} == {"lorazepam", "diazepam"}
    csv_out = run(
        "plan",
        "--take",
        "lorazepam 1 mg at 22:00",
        "--crossover",
        "diazepam",
        "--start",
        "2027-01-04",
        "--format",
        "csv",
    )
    assert csv_out.returncode == 0 and "crossover" in csv_out.stdout
    bad = run("plan", "--take", "lorazepam 1 mg at 22:00", "--crossover", "alprazolam")
    assert bad.returncode == 2 and "not a long-acting drug" in bad.stderr
    cmp = run("compare", "--take", "lorazepam 1 mg at 22:00", "--json")
    assert cmp.returncode == 0, cmp.stderr
    rows = json.loads(cmp.stdout)
    assert {r["section"] for r in rows} >= {"method", "switch"}
    assert {r["crossover"] for r in rows if r["section"] == "switch"} == {"diazepam"}
    only_diazepam = run("compare", "--take", "diazepam 5 mg at 22:00", "--json")
    assert {r["section"] for r in json.loads(only_diazepam.stdout)} == {"method"}


def test_holds_apply_to_the_taper_after_a_crossover(catalogue: Catalogue) -> None:
    from benzotaper.planning.models import Hold

    early = Hold(start=TODAY + dt.timedelta(days=3), days=14)
    with pytest.raises(RegimenError, match="falls in the crossover or stabilisation"):
        plan_for(catalogue, ("lorazepam", 1, "22:00"), crossover="diazepam", holds=[early])
    later = Hold(start=TODAY + dt.timedelta(days=40), days=14)
    plan = plan_for(catalogue, ("lorazepam", 1, "22:00"), crossover="diazepam", holds=[later])
    assert "hold" in [s.phase for s in plan.steps]
    check_crossover_plan(plan)
