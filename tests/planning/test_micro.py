"""Micro-tapering (issue 12): a small cut of the current dose every day or every few days,
measured with a liquid, within the percent chosen per 14 days, and every hard invariant kept."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from planhelpers import TODAY, check_guardrails, plan_for
from test_invariants import CAT, regimens
from tests.cli import run_cli

from benzotaper.catalogue import Catalogue
from benzotaper.errors import RegimenError
from benzotaper.planning.metrics import window_percents
from benzotaper.planning.models import Plan, PlanRequest, Step

TAPERED = ("taper", "final")


def check_window(plan: Plan, percent: float) -> None:
    """The cuts of any 14 days add up to at most ``percent``, except a single cut the measured
    doses cannot make smaller (its step came after at least 14 days at the dose before)."""
    steps = plan.steps
    assert all(s.percent_14_days is not None for s in steps if s.phase != "stop")
    for prev, step in itertools.pairwise(steps):
        if step.phase in TAPERED and step.percent_14_days is not None:
            assert step.percent_14_days <= percent + 0.05 or prev.days >= 14, (step, prev.days)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(regimens(), st.sampled_from(["slow", "moderate", "fast"]))
def test_micro_plans_keep_every_invariant(
    reg: tuple[str, list[tuple[str, float, str]]], pace: str
) -> None:
    market, takes = reg
    plan = plan_for(CAT, *takes, market=market, pace=pace, micro=True, person={"pregnant": True})
    check_guardrails(plan, CAT)  # cuts <= 25% or <= 1 mg DE, the 14-day rate, the final stop
    micro = plan.summary.parameters["micro"]
    check_window(plan, micro["percent_per_14_days"])
    assert len(plan.steps) <= 2000


def test_uk_diazepam_micro_uses_the_oral_liquid_from_the_first_step() -> None:
    plan = plan_for(
        CAT, ("diazepam", 10, "08:00"), ("diazepam", 10, "22:00"), market="uk", micro=True
    )
    check_guardrails(plan, CAT)
    [route] = plan.routes
    assert (route.route, route.step) == ("liquid", 0)
    assert route.reason.startswith("Micro-tapering")
    micro = plan.summary.parameters["micro"]
    pct, every = micro["percent_per_14_days"], micro["every_days"]
    assert every < 7 and plan.summary.parameters["every_days_source"] == "micro policy"
    check_window(plan, pct)
    first = plan.steps[0]
    assert first.days == every and first.diazepam_equivalent_mg < 20
    # proportional cuts: early cuts in mg are larger than late ones, never a fixed mg amount
    early = 20 - first.diazepam_equivalent_mg
    late = [s for s in plan.steps if s.phase == "final"][-1]
    assert early > 20 * micro["percent_per_cut"] / 100 * 0.9
    assert late.diazepam_equivalent_mg <= 1.0
    assert plan.ends_with == "stop" and len(plan.steps) <= 400


def test_micro_takes_the_finest_route_allowed() -> None:
    """US lorazepam: its concentrate measures 0.2 mg (2 mg DE) at a time; diazepam oral
    solution measures far smaller cuts, so micro-tapering switches to diazepam."""
    plan = plan_for(CAT, ("lorazepam", 1, "08:00"), ("lorazepam", 1, "22:00"), micro=True)
    check_guardrails(plan, CAT)
    assert [r.route for r in plan.routes] == ["diazepam"]
    plan = plan_for(
        CAT, ("lorazepam", 1, "08:00"), ("lorazepam", 1, "22:00"), micro=True, tail="liquid"
    )
    assert [r.route for r in plan.routes][:1] == ["liquid"]  # asked for: taken as asked


def test_micro_without_a_measured_route_says_so() -> None:
    plan = plan_for(
        CAT, ("clonazepam", 1, "08:00"), micro=True, tail_off=["diazepam", "liquid", "compounded"]
    )
    check_guardrails(plan, CAT)
    assert "micro-not-measured" in {w.code for w in plan.warnings}


def test_micro_percent_is_per_14_days_and_every_days_can_be_chosen() -> None:
    plan = plan_for(CAT, ("diazepam", 5, "22:00"), micro=True, percent=5, every_days=2)
    micro = plan.summary.parameters["micro"]
    assert (micro["percent_per_14_days"], micro["every_days"]) == (5, 2)
    assert micro["percent_per_cut"] == pytest.approx((1 - 0.95 ** (1 / 7)) * 100, abs=1e-3)
    check_window(plan, 5)


def test_micro_is_for_the_percent_strategy_only() -> None:
    with pytest.raises(RegimenError, match="percent strategy"):
        plan_for(CAT, ("diazepam", 10, "22:00"), micro=True, strategy="hyperbolic")


def _step(index: int, start: dt.date, days: int, de: float, phase: str = "taper") -> Step:
    return Step(
        index=index,
        start=start,
        end=start + dt.timedelta(days=days - 1),
        phase=phase,  # type: ignore[arg-type]
        doses=[],
        daily_mg={},
        diazepam_equivalent_mg=de,
    )


def test_window_percents_measure_the_dose_14_days_before() -> None:
    days = [TODAY + dt.timedelta(days=7 * i) for i in range(4)]
    steps = [
        _step(0, days[0], 7, 9.0),
        _step(1, days[1], 7, 8.0),
        _step(2, days[2], 7, 8.0),
        _step(3, days[3], 7, 0.0, "stop"),
    ]
    assert window_percents(steps, 10.0) == [10.0, 20.0, 11.11, None]


def test_cli_micro_shows_the_14_day_percent_in_table_and_csv() -> None:
    take = ["--take", "diazepam 5 mg at 22:00", "--market", "uk", "--micro", "--pace", "fast"]
    table = run_cli("plan", *take)
    assert table.returncode == 0, table.stderr
    assert "14 d: -" in table.stdout and "Micro-tapering" in table.stdout
    out = run_cli("plan", *take, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert {r["percent_14_days"] for r in rows if r["phase"] == "taper"} - {""}
    bad = run_cli("plan", "--take", "diazepam 5 mg at 22:00", "--micro", "--strategy", "linear")
    assert bad.returncode == 2 and "percent strategy" in bad.stderr


def test_builder_form_and_api_schema_carry_micro(catalogue: Catalogue) -> None:
    from benzotaper.web.plan_form import from_request, parse_form

    form = {
        "drug_0": "diazepam",
        "dose_0": "5 mg",
        "time_0": "22:00",
        "strategy": "percent",
        "market": "uk",
        "micro": "on",
    }
    parsed = parse_form(form, catalogue)
    assert parsed.request is not None and parsed.request.preferences.micro
    assert from_request(parsed.request).values["micro"] == "on"
    field = PlanRequest.model_json_schema()["$defs"]["Preferences"]["properties"]["micro"]
    assert "community practice" in field["description"]


def test_micro_pdfs_show_the_cuts_of_14_days() -> None:
    import pypdf

    from benzotaper.exports import pdf_patient, pdf_prescriber

    plan = plan_for(CAT, ("diazepam", 5, "22:00"), market="uk", micro=True, pace="fast")

    def text(data: bytes) -> str:
        return " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)

    assert "less over 14 days" in text(pdf_patient(plan, catalogue=CAT))
    # the schedule table is what is read here; the sheet's chart: tests/exports/test_pdf.py
    assert "14 d: -" in text(pdf_prescriber(plan, catalogue=CAT, chart=False))
