"""Person-factor flags on the CLI, per-drug labels of several-drug plans, clean errors, dates
that are never cut short, and crossovers that keep the dose constant with real pieces."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from planhelpers import check_guardrails, plan_for
from test_crossover_plan import check_crossover_plan
from test_plan_cli import plan_json, run
from tests.cli import run_cli

from benzotaper.catalogue import Catalogue
from benzotaper.errors import InputError, RegimenError

REGIMEN = ("--take", "diazepam 5 mg at 08:00", "--take", "diazepam 5 mg at 22:00")


def codes(data: dict[str, Any]) -> set[str]:
    return {w["code"] for w in data["warnings"]}


# ----------------------------------------------------------------------------- person factors


@pytest.mark.parametrize(
    ("flags", "code"),
    [
        (["--breastfeeding"], "risk.breastfeeding"),
        (["--psychiatric"], "risk.psychiatric"),
        (["--bipolar"], "risk.bipolar"),
        (["--liver"], "risk.liver"),
        (["--sleep-apnoea"], "risk.sleep_apnoea"),
        (["--sleep-apnea"], "risk.sleep_apnoea"),
        (["--falls"], "risk.falls"),
        (["--previous-attempts", "2"], "risk.previous_attempts"),
        (["--days-per-week", "2"], None),
    ],
)
def test_every_person_factor_flag_changes_the_assessment(
    flags: list[str], code: str | None, catalogue: Catalogue
) -> None:
    base = plan_json(*REGIMEN, "--years", "2")
    data = plan_json(*REGIMEN, "--years", "2", *flags)
    assert data["risk"] != base["risk"]
    assert data["request"]["person"] != base["request"]["person"]
    if code is None:  # 3 days a week or fewer: withdrawal is rare (Table 2)
        assert data["risk"]["level"] == "rare" != base["risk"]["level"]
        return
    assert code in codes(data) and code not in codes(base)
    flag = next(w for w in data["risk"]["flags"] if w["code"] == code)
    assert flag["sources"] and set(flag["sources"]) <= set(catalogue.references)


def test_pregnant_no_longer_means_breastfeeding() -> None:
    data = plan_json(*REGIMEN, "--pregnant")
    assert "risk.pregnancy" in codes(data) and "risk.breastfeeding" not in codes(data)


def test_liver_impairment_cautions_against_switching_to_diazepam(catalogue: Catalogue) -> None:
    takes = (("alprazolam", 0.5, "08:00"), ("zolpidem", 10, "22:00"))
    plain = plan_for(catalogue, *takes)
    liver = plan_for(catalogue, *takes, person={"liver_impairment": True})
    policy = next(w for w in liver.warnings if w.code == "multi-drug-policy")
    assert "liver impairment" in policy.message and "sps-equivalents" in policy.sources
    assert "liver" not in next(w for w in plain.warnings if w.code == "multi-drug-policy").message
    switched = plan_for(
        catalogue,
        ("lorazepam", 1, "22:00"),
        crossover="diazepam",
        person={"liver_impairment": True},
    )
    assert {"risk.liver", "crossover.liver"} <= {w.code for w in switched.warnings}


def test_compare_takes_the_person_factors_too() -> None:
    proc = run("compare", "--take", "diazepam 5 mg at 08:00", "--liver", "--falls", "--json")
    assert proc.returncode == 0, proc.stderr


# ----------------------------------------------------------------------------- clean errors


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--market", "fr"], "--market"),
        (["--pace", "quick"], "--pace"),
        (["--strategy", "random"], "--strategy"),
        (["--previous-attempts", "-1"], "--previous-attempts"),
        (["--cut-order", "biggest"], "--cut-order"),
    ],
)
def test_errors_name_the_cli_flag(args: list[str], flag: str) -> None:
    proc = run("plan", "--take", "diazepam 5 mg at 08:00", *args)
    assert proc.returncode == 2
    assert f"{flag}:" in proc.stderr and "preferences." not in proc.stderr
    assert "person." not in proc.stderr and "Traceback" not in proc.stderr


def test_custom_schedule_breaking_a_guardrail_exits_2_with_the_way_forward() -> None:
    proc = run(
        "plan",
        "--take",
        "diazepam 10 mg at 08:00",
        "--strategy",
        "custom",
        "--step",
        "2027-01-04 diazepam 5 mg",
        "--start",
        "2027-01-04",
    )
    assert proc.returncode == 2, proc.stderr
    err = " ".join(proc.stderr.split())
    assert "breaks safety rules" in err and "--override-reason" in err
    assert "Traceback" not in proc.stderr


def test_start_not_realisable_names_drug_and_product_sources(catalogue: Catalogue) -> None:
    plan = plan_for(catalogue, ("diazepam", 7.3, "08:00"))
    w = next(w for w in plan.warnings if w.code == "start-not-realisable")
    assert "Diazepam" in w.message
    assert w.sources and set(w.sources) <= set(catalogue.references)


@pytest.mark.parametrize(
    "takes",
    [
        (("clonazepam", 0.5, "08:00"),),
        (("alprazolam", 0.5, "08:00"), ("alprazolam", 0.5, "20:00"), ("zolpidem", 10, "22:00")),
        (("lorazepam", 1, "08:00"), ("lorazepam", 1, "22:00")),
    ],
)
def test_lengthened_count_matches_the_steps(
    catalogue: Catalogue, takes: tuple[tuple[str, float, str], ...]
) -> None:
    plan = plan_for(catalogue, *takes, pace="slow")
    w = next(w for w in plan.warnings if w.code == "cut-lengthened")
    said = sum((s.note or "").count("allow no cut of") for s in plan.steps)
    match = re.match(r"(\d+) step\(s\)", w.message)
    assert match is not None and int(match.group(1)) == said > 0
    check_guardrails(plan, catalogue)


# ----------------------------------------------------------------------------- several drugs

MULTI = (
    "--take",
    "alprazolam 0.5 mg at 08:00",
    "--take",
    "alprazolam 0.5 mg at 20:00",
    "--take",
    "zolpidem 10 mg at 22:00",
    "--market",
    "us",
)


def test_several_drugs_one_at_a_time_say_which_drug_each_step_cuts(catalogue: Catalogue) -> None:
    data = plan_json(*MULTI)
    steps = data["steps"]
    phases = [s["phase"] for s in steps]
    assert set(phases) <= {"taper", "final", "hold", "stop", "crossover", "stabilise"}
    # "final" only at the very end: never "taper" again after it
    if "final" in phases:
        assert set(phases[phases.index("final") :]) <= {"final", "stop"}
    # alprazolam's tail is switched to diazepam (a recorded route), so it counts as alprazolam
    assert [r["route"] for r in data["routes"]][:1] == ["diazepam"]
    tapering = [s for s in steps if s["phase"] not in ("stop", "crossover", "stabilise")]
    cut_by = [s["cuts"] for s in tapering]
    assert all(len(c) == 1 for c in cut_by)  # sequential: one drug per step
    order = [{"diazepam": "alprazolam"}.get(c[0], c[0]) for c in cut_by]
    assert order == sorted(order, key=order.index)  # alprazolam's steps, then zolpidem's
    assert order[0] == "alprazolam" and order[-1] == "zolpidem"
    # the slower cuts near the end of alprazolam are said, not labelled "final"
    assert any("smaller cuts near the end" in (s["note"] or "") for s in steps)
    assert set(steps[-1]["cuts"]) == {"zolpidem"}


def test_several_drugs_table_and_csv_show_the_drug_cut() -> None:
    proc = run("plan", *MULTI, "--start", "2027-01-04")
    assert proc.returncode == 0, proc.stderr
    assert "cuts Alprazolam" in proc.stdout and "cuts Zolpidem" in proc.stdout
    proc = run("plan", *MULTI, "--start", "2027-01-04", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert {r["cuts"] for r in rows[:-1]} >= {"alprazolam", "zolpidem"}


def test_a_single_drug_plan_keeps_its_final_section(catalogue: Catalogue) -> None:
    plan = plan_for(catalogue, ("diazepam", 20, "22:00"), pace="fast", liquid=True)
    assert "final" in [s.phase for s in plan.steps]
    assert all(s.cuts == ["diazepam"] for s in plan.steps if s.phase in ("taper", "final"))


# ----------------------------------------------------------------------------- dates in full


@pytest.mark.parametrize("columns", ["80", "60"])
def test_table_never_cuts_dates_short(columns: str) -> None:
    args = [*MULTI, "--take", "zolpidem 5 mg at 03:00", "--start", "2027-01-04"]
    proc = run_cli("plan", *args, env={"COLUMNS": columns})
    assert proc.returncode == 0, proc.stderr
    data = plan_json(*args[:-2])
    shown = set(re.findall(r"\d{4}-\d{2}-\d{2}", proc.stdout))
    for s in data["steps"]:
        assert s["start"] in shown and s["end"] in shown
    assert "…" not in "".join(
        line.split("│")[2] for line in proc.stdout.splitlines() if "│" in line
    )


# ----------------------------------------------------------------------------- crossover rounding


def test_lormetazepam_and_loprazolam_crossover_stays_constant(catalogue: Catalogue) -> None:
    """UK diazepam 2 mg tablets are not scored: 3 mg cannot be made. The switch rounds the
    night dose so that the next switch lands within tolerance (the rounding carried from one
    dose-time to the next once lost 7.5% of the dose in one step here)."""
    plan = plan_for(
        catalogue,
        ("lormetazepam", 0.5, "13:00"),
        ("loprazolam", 0.5, "13:00"),
        ("loprazolam", 1, "22:00"),
        crossover="diazepam",
        market="uk",
    )
    check_crossover_plan(plan)


def test_a_dose_no_product_makes_is_switched_first(catalogue: Catalogue) -> None:
    plan = plan_for(
        catalogue,
        ("lorazepam", 0.5, "08:00"),  # UK lorazepam tablets (1 mg, 2.5 mg) cannot make 0.5 mg
        ("lorazepam", 1, "22:00"),
        crossover="diazepam",
        market="uk",
    )
    check_crossover_plan(plan)
    first = plan.steps[0]
    assert {(d.time, d.mg) for d in first.doses if d.drug == "lorazepam"} == {
        ("08:00", 0.0),
        ("22:00", 1.0),
    }
    assert any(w.code == "crossover.current_dose_unlisted" for w in plan.warnings)


def test_two_doses_no_product_makes_are_refused_clearly(catalogue: Catalogue) -> None:
    with pytest.raises(RegimenError, match="cannot be made from the products allowed"):
        plan_for(
            catalogue,
            ("lormetazepam", 1, "08:00"),  # not sold in the US
            ("lormetazepam", 1, "22:00"),
            crossover="diazepam",
            market="us",
        )


UK_SHORT = {"lormetazepam": 0.5, "loprazolam": 0.5, "temazepam": 5.0, "lorazepam": 0.5}


@settings(max_examples=60, deadline=None)
@given(
    doses=st.lists(
        st.tuples(
            st.sampled_from(sorted(UK_SHORT)),
            st.integers(1, 6),
            st.sampled_from(["08:00", "13:00", "22:00"]),
        ),
        min_size=1,
        max_size=4,
        unique_by=lambda x: (x[0], x[2]),
    ),
    market=st.sampled_from(["uk", "us"]),
    liquid=st.booleans(),
    target=st.sampled_from(["diazepam", "chlordiazepoxide"]),
)
def test_crossover_keeps_de_within_tolerance_and_every_dose_has_pieces(
    catalogue: Catalogue,
    doses: list[tuple[str, int, str]],
    market: str,
    liquid: bool,
    target: str,
) -> None:
    takes = [(d, UK_SHORT[d] * n, t) for d, n, t in doses]
    try:
        plan = plan_for(catalogue, *takes, crossover=target, market=market, liquid=liquid)
    except InputError:
        return  # a clear, typed refusal (e.g. a drug not sold in this market)
    check_crossover_plan(plan, target=catalogue.drug(target).id)
