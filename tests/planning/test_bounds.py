"""A plan is bounded (length, steps, holds, start, cut size): the core, and the CLI's exit 2."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from typer.testing import CliRunner

from benzotaper.catalogue import Catalogue
from benzotaper.cli import app
from benzotaper.cli.request import build
from benzotaper.errors import PlanBudgetError, PlanTooLargeError
from benzotaper.knowledge import Knowledge
from benzotaper.limits import MAX_HOLD_DAYS_TOTAL, MAX_HOLDS
from benzotaper.planning import bounds
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import PlanRequest
from benzotaper.planning.rules import default_pacing_rules

TODAY = dt.date(2027, 1, 4)
REGIMEN = [{"drug": "diazepam", "mg": 20, "time": "08:00"}]


def request(**prefs: Any) -> PlanRequest:
    result: PlanRequest = build(PlanRequest, {"regimen": REGIMEN, "preferences": prefs})
    return result


def test_the_slowest_sourced_pace_and_its_arithmetic(catalogue: Catalogue) -> None:
    rules = default_pacing_rules()
    assert bounds.slowest_sourced_pace(rules) == (5, 28)
    # clonazepam 20 mg = 400 mg DE at 5% every 28 days to 0.5 mg: the floor of any bound
    assert bounds.slowest_sourced_days(catalogue, rules) == 131 * 28


def test_every_worst_sourced_plan_fits_the_bounds_with_room(knowledge: Knowledge) -> None:
    """The longest plans a sourced pace makes from labelled maxima (benchmarks/plan_bounds.py
    finds them in a much wider grid) are planned, not refused, and each bound keeps about 5%
    or more to spare above what the worst needs with every hold a request may add."""
    days = steps = 0
    for name, body in bounds.worst_sourced_requests(knowledge.catalogue, knowledge.pacing):
        req = build(PlanRequest, {**body, "preferences": {**body["preferences"], "start": TODAY}})
        plan = make_plan(req, knowledge, today=TODAY)
        assert plan.ends_with == "stop", name
        days = max(days, (plan.summary.end - plan.summary.start).days + 1)
        steps = max(steps, len(plan.steps))
    review = int(knowledge.pacing.maintain.review_days.low)
    assert days > bounds.slowest_sourced_days(knowledge.catalogue, knowledge.pacing)
    assert (days + MAX_HOLD_DAYS_TOTAL + review) * 1.05 <= bounds.MAX_PLAN_DAYS
    assert (steps + 2 * MAX_HOLDS) * 1.05 <= bounds.MAX_PLAN_STEPS


@pytest.mark.parametrize(
    ("prefs", "limit"),
    [
        ({"percent": 0.1, "every_days": 120, "liquid": True}, "at most 12500 days"),
        ({"percent": 1, "every_days": 120}, "at most 12500 days"),
        ({"strategy": "linear", "step_mg": 0.01, "every_days": 120}, "at most 12500 days"),
        ({"start": "9999-12-01"}, "outside the dates benzotaper accepts"),  # benzotaper.dates
        ({"start": "1999-12-31"}, "outside the dates benzotaper accepts"),
        (
            {"holds": [{"start": "2027-02-01", "days": 365}, {"start": "2027-03-01", "days": 366}]},
            f"at most {MAX_HOLD_DAYS_TOTAL} days of holds",
        ),
    ],
)
def test_beyond_a_bound_is_a_clear_error_before_any_work(
    knowledge: Knowledge, prefs: dict[str, Any], limit: str
) -> None:
    try:
        req = request(**prefs)
    except Exception as exc:  # the hold length and the start date are bounded by the model
        assert ("365" if "holds" in prefs else limit) in str(exc)
        return
    started = time.perf_counter()
    with pytest.raises(PlanTooLargeError, match=limit):
        make_plan(req, knowledge, today=TODAY)
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize(
    ("prefs", "field"),
    [
        ({"percent": 0.01}, "--percent"),
        ({"strategy": "linear", "step_mg": 0.001}, "--step-mg"),
        ({"holds": [{"start": "2027-02-01", "days": 1}] * (MAX_HOLDS + 1)}, "holds"),
        ({"holds": [{"start": "2027-02-01", "days": 1, "reason": "x" * 1001}]}, "reason"),
        (
            {"custom_steps": [{"start": "2027-02-01", "drug": "diazepam", "daily_mg": 1}] * 501},
            "custom_steps",
        ),
        ({"override": {"reason": "because\x00I said so", "max_percent_per_14_days": 30}}, "NUL"),
    ],
)
def test_request_fields_are_bounded(prefs: dict[str, Any], field: str) -> None:
    from benzotaper.errors import InputError

    with pytest.raises(InputError, match=field):
        request(**prefs)


def test_regimen_rows_are_bounded() -> None:
    from benzotaper.errors import InputError

    rows = [{"drug": "diazepam", "mg": 1, "time": f"{h:02d}:00"} for h in range(13)]
    with pytest.raises(InputError, match="at most 12"):
        build(PlanRequest, {"regimen": rows})


def test_a_spent_time_budget_stops_planning(knowledge: Knowledge) -> None:
    with bounds.time_budget(0.0), pytest.raises(PlanBudgetError, match="took too long"):
        time.sleep(0.001)
        make_plan(request(pace="slow"), knowledge, today=TODAY)
    # and without an outer budget, planning has its own and succeeds
    assert make_plan(request(pace="slow"), knowledge, today=TODAY).steps


def test_many_holds_within_the_bounds_plan_quickly(knowledge: Knowledge) -> None:
    """The audit's 'holds make the server spin': the most holds allowed is quick to plan."""
    holds = [
        {"start": (TODAY + dt.timedelta(days=3 + 20 * i)).isoformat(), "days": 14}
        for i in range(MAX_HOLDS)
    ]
    started = time.perf_counter()
    plan = make_plan(
        request(pace="slow", holds=holds, start=TODAY.isoformat()), knowledge, today=TODAY
    )
    assert sum(s.phase == "hold" for s in plan.steps) == MAX_HOLDS
    assert time.perf_counter() - started < 5  # generous: a loaded 2-core machine; ~0.1 s idle


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--percent", "0.1", "--every", "120"], "at most 12500 days"),
        (["--percent", "0.01"], "--percent"),
        (["--start", "9999-12-01"], "outside the dates benzotaper accepts"),
        (["--strategy", "linear", "--step-mg", "0.0001"], "--step-mg"),
        (
            [f"--hold={TODAY + dt.timedelta(days=7 * (i + 1))}:1" for i in range(MAX_HOLDS + 1)],
            f"at most {MAX_HOLDS} items",
        ),
        (["--hold", "2027-02-01:366"], "less than or equal to 365"),
        (
            ["--hold=2027-02-01:365", "--hold=2028-03-01:365", "--hold=2029-04-01:10"],
            f"at most {MAX_HOLD_DAYS_TOTAL} days of holds",
        ),
    ],
)
def test_cli_plan_beyond_a_bound_exits_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["plan", "--take", "diazepam 20 mg at 08:00", *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())
