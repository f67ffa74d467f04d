"""A starting dose no product allowed makes: the first step takes the doses made, within the
pace, and the plan still reaches zero correctly (no zero "taper" step, no rate above the limit).

US tablets only: no diazepam product makes 0.5 mg (the 2 mg tablet's half is 1 mg); no lorazepam
product makes 0.25 mg (2.5 mg diazepam-equivalent: too much to stop from at once).
"""

from __future__ import annotations

import pytest
from planhelpers import check_guardrails, plan_for

from benzotaper.catalogue import Catalogue
from benzotaper.errors import RegimenError
from benzotaper.planning.custom import ScheduleError
from benzotaper.planning.models import Plan

UNMADE = ("diazepam", 0.5, "13:00")


def check_reaches_zero(plan: Plan) -> None:
    """One stop, last, from at most 1 mg DE; no step before it at zero (a meaningless step)."""
    steps = plan.steps
    assert [s.phase for s in steps].count("stop") == 1 and steps[-1].phase == "stop"
    assert all(s.diazepam_equivalent_mg > 0 for s in steps[:-1]), [
        (s.index, s.phase, s.note) for s in steps if s.diazepam_equivalent_mg <= 0
    ]
    if len(steps) > 1:
        assert steps[-2].diazepam_equivalent_mg <= 1 + 1e-6


@pytest.mark.parametrize("estazolam", [0.5, 1, 1.5, 2, 3])
@pytest.mark.parametrize("strategy", ["linear", "percent", "hyperbolic", "ashton-bands"])
@pytest.mark.parametrize("pace", ["slow", "moderate", "fast"])
def test_a_small_dose_no_product_makes_stops_first_within_the_pace(
    catalogue: Catalogue, estazolam: float, strategy: str, pace: str
) -> None:
    """The lead's repro grid (all 60 cases failed before: a zero "taper" step before the stop,
    rates up to 37.8% per 14 days, first cuts above 25% counted from the dose really taken)."""
    plan = plan_for(
        catalogue, ("estazolam", estazolam, "18:00"), UNMADE, strategy=strategy, pace=pace
    )
    check_guardrails(plan, catalogue)
    check_reaches_zero(plan)
    first = plan.steps[0]
    assert first.daily_mg == {"diazepam": 0.0, "estazolam": estazolam}  # nothing else cut
    assert first.cuts == ["diazepam"]
    assert "Diazepam 0.5 mg at 13:00: no product allowed makes this small dose" in (
        first.note or ""
    )
    w = next(w for w in plan.warnings if w.code == "start-not-realisable")
    assert "stops in the first step" in w.message and w.preference == {"liquid": True}
    assert not any("the others go on" in (s.note or "") for s in plan.steps)


@pytest.mark.parametrize(
    ("prefs", "first_diazepam"),
    [({"liquid": True}, 0.5), ({"compounded": True}, 0.4), ({"micro": True}, 0.0)],
)
def test_the_same_dose_with_a_liquid_compounding_or_a_switch(
    catalogue: Catalogue, prefs: dict[str, bool], first_diazepam: float
) -> None:
    """A liquid makes 0.5 mg (kept); compounded capsules make the nearest smaller 0.4 mg (a
    first step of its own); micro-tapering switches estazolam to diazepam from the start, and
    that switch's first step says the 13:00 dose stops."""
    plan = plan_for(catalogue, ("estazolam", 3, "18:00"), UNMADE, pace="fast", **prefs)
    check_guardrails(plan, catalogue)
    check_reaches_zero(plan)
    at_1300 = [d.mg for d in plan.steps[0].doses if d.drug == "diazepam" and d.time == "13:00"]
    assert at_1300 == [first_diazepam]
    if prefs.get("micro"):
        assert plan.steps[0].phase == "crossover"
        assert "Diazepam 0.5 mg at 13:00" in (plan.steps[0].note or "")


def test_a_nearest_smaller_dose_is_a_first_step_of_its_own(catalogue: Catalogue) -> None:
    plan = plan_for(catalogue, ("diazepam", 7.3, "08:00"), pace="fast")
    check_guardrails(plan, catalogue)
    first, second = plan.steps[:2]
    assert first.daily_mg == {"diazepam": 7.0} and "nearest smaller dose" in (first.note or "")
    assert second.daily_mg["diazepam"] < 7.0


def test_only_small_doses_no_product_makes_the_plan_is_the_stop(catalogue: Catalogue) -> None:
    plan = plan_for(catalogue, ("diazepam", 0.5, "08:00"))
    check_guardrails(plan, catalogue)
    assert [s.phase for s in plan.steps] == ["stop"]
    w = next(w for w in plan.warnings if w.code == "start-not-realisable")
    assert "the plan is to stop them" in w.message


def test_a_dose_too_large_to_stop_from_is_routed_from_the_start(catalogue: Catalogue) -> None:
    """Lorazepam 0.25 mg (2.5 mg DE): before, a crash (ValueError in the liquid route)."""
    plan = plan_for(catalogue, ("estazolam", 2, "22:00"), ("lorazepam", 0.25, "08:00"))
    check_guardrails(plan, catalogue)
    check_reaches_zero(plan)
    assert (plan.routes[0].drug, plan.routes[0].step) == ("lorazepam", 0)
    assert all(d.mg > 0 for d in plan.steps[0].doses if d.drug != "lorazepam")


@pytest.mark.parametrize(("tail_off", "route"), [([], "diazepam"), (["diazepam"], "compounded")])
def test_a_route_from_the_start_says_why(
    catalogue: Catalogue, tail_off: list[str], route: str
) -> None:
    """Its reason (in the plan's routes and its tail warning, which the CLI and PDF print) said
    "cannot make the next small cut": nothing had been cut; no product makes the dose taken."""
    plan = plan_for(catalogue, ("lorazepam", 0.25, "08:00"), tail_off=tail_off)
    change = plan.routes[0]
    assert (change.route, change.step) == (route, 0)
    why = "No product allowed makes the lorazepam dose taken now (0.25 mg at 08:00), so"
    assert change.reason.startswith(why) and "from the start" in change.reason
    warning = next(w for w in plan.warnings if w.code == f"tail-{route}")
    assert why in warning.message and "next small cut" not in warning.message


def test_a_dose_no_route_makes_is_refused_clearly(catalogue: Catalogue) -> None:
    off = ["liquid", "compounded", "diazepam", "nights"]
    with pytest.raises(RegimenError, match="Lorazepam doses taken now cannot be made"):
        plan_for(catalogue, ("lorazepam", 0.25, "08:00"), tail_off=off)


def test_a_return_to_an_earlier_dose_no_product_makes_lasts_as_the_pace_needs(
    catalogue: Catalogue,
) -> None:
    reinstate = {"days": 7, "reason": "symptoms", "from_daily_mg": {"estazolam": 0.25}}
    plan = plan_for(catalogue, ("estazolam", 0.5, "18:00"), UNMADE, reinstate=reinstate)
    check_guardrails(plan, catalogue)
    check_reaches_zero(plan)
    first = plan.steps[0]
    assert first.phase == "reinstatement" and first.days > 7
    assert f"for {first.days} days" in (first.note or "")


@pytest.mark.parametrize(
    "takes",
    [
        (("estazolam", 1, "18:00"), ("diazepam", 0.5, "13:00")),
        (("estazolam", 3, "18:00"), ("diazepam", 0.5, "13:00")),
    ],
)
def test_proportional_plans_end_with_one_final_section(
    catalogue: Catalogue, takes: tuple[tuple[str, float, str], ...]
) -> None:
    """A drug that reaches its final section first (or ends) no longer labels the step
    "final" while another drug is still tapered: "final" came back to "taper" before."""
    plan = plan_for(
        catalogue, *takes, multi_drug="proportional", pace="slow", liquid=True, compounded=True
    )
    check_guardrails(plan, catalogue)
    check_reaches_zero(plan)


def test_a_last_cut_to_zero_is_the_stop_not_a_zero_step(catalogue: Catalogue) -> None:
    """UK, liquids: lorazepam 0.1 mg (1 mg DE) above the liquid jump-off (0.5 mg DE) was cut
    to zero in a "final" step of 112 days, then stopped."""
    plan = plan_for(
        catalogue,
        ("lorazepam", 0.5, "08:00"),
        ("temazepam", 20, "22:00"),
        market="uk",
        liquid=True,
        compounded=True,
        pace="fast",
    )
    check_guardrails(plan, catalogue)
    check_reaches_zero(plan)


def test_a_dose_routed_from_the_start_comes_before_a_micro_switch(catalogue: Catalogue) -> None:
    """Zaleplon 3.75 + 1.25 mg (US: 5 mg capsules) with micro-tapering: the alprazolam switch's
    steps showed zaleplon at 0 mg at 13:00, then 1 mg (a rise) once zaleplon was routed."""
    plan = plan_for(
        catalogue,
        ("alprazolam", 0.875, "08:00"),
        ("alprazolam", 0.5, "13:00"),
        ("zaleplon", 3.75, "08:00"),
        ("zaleplon", 1.25, "13:00"),
        pace="slow",
        micro=True,
    )
    check_guardrails(plan, catalogue)
    check_reaches_zero(plan)


@pytest.mark.parametrize(
    ("takes", "prefs", "match"),
    [
        (  # each too large to stop from, and only a switch makes it: refused, not shown as 0
            (("alprazolam", 0.0625, "08:00"), ("flurazepam", 3.75, "08:00")),
            {},
            "Alprazolam and Flurazepam cannot be made",
        ),
        (  # a crossover to 0 mg diazepam (UK 2 mg tablets) was two zero steps before the stop
            (("lormetazepam", 0.125, "08:00"),),
            {"market": "uk", "crossover": "diazepam"},
            "too small to switch to Diazepam",
        ),
    ],
)
def test_doses_that_cannot_be_planned_as_given_are_refused_clearly(
    catalogue: Catalogue,
    takes: tuple[tuple[str, float, str], ...],
    prefs: dict[str, str],
    match: str,
) -> None:
    with pytest.raises(RegimenError, match=match):
        plan_for(catalogue, *takes, **prefs)


def test_a_custom_schedule_measures_from_the_doses_taken(catalogue: Catalogue) -> None:
    rows = [{"start": "2027-01-18", "drug": "estazolam", "daily_mg": 2.5}]
    plan = plan_for(
        catalogue, ("estazolam", 3, "18:00"), UNMADE, strategy="custom", custom_steps=rows
    )
    check_guardrails(plan, catalogue)
    check_reaches_zero(plan)
    assert plan.steps[0].phase == "hold" and "no product makes stops here" in (
        plan.steps[0].note or ""
    )
    rows = [{"start": "2027-01-04", "drug": "estazolam", "daily_mg": 2.5}]  # from today
    plan = plan_for(
        catalogue, ("estazolam", 3, "18:00"), UNMADE, strategy="custom", custom_steps=rows
    )
    check_guardrails(plan, catalogue)
    first = plan.steps[0]  # the row itself says what the generated plan's first step says
    assert first.cuts == ["diazepam", "estazolam"]
    assert first.note == (
        "Diazepam 0.5 mg at 13:00: no product allowed makes this small dose, so it stops here."
    )
    rows = [{"start": "2027-01-18", "drug": "estazolam", "daily_mg": 1.5}]
    with pytest.raises(ScheduleError, match=r"Lorazepam 0\.25 mg at 08:00 cannot be made"):
        plan_for(
            catalogue,
            ("estazolam", 2, "22:00"),
            ("lorazepam", 0.25, "08:00"),
            strategy="custom",
            custom_steps=rows,
        )


def test_doses_taken_are_worded_as_the_steps_show_them(catalogue: Catalogue) -> None:
    """A crossover's notes rounded the doses taken to 3 decimals (a quarter of a 0.25 mg tablet,
    0.0625 mg, read "0.062 mg"), the first step's note to 6 figures (0.333333 mg); every note
    now shows a dose as the steps' doses do (4 decimals, no float noise)."""
    plan = plan_for(
        catalogue,
        ("alprazolam", 0.0625, "08:00"),
        ("alprazolam", 0.5, "20:00"),
        crossover="diazepam",
    )
    assert (plan.steps[0].note or "").startswith("Switch the 08:00 alprazolam 0.0625 mg")
    assert any("Alprazolam 0.0625 mg at 08:00" in w.message for w in plan.warnings)
    plan = plan_for(catalogue, ("estazolam", 3, "18:00"), ("diazepam", 1 / 3, "13:00"))
    assert "Diazepam 0.3333 mg at 13:00: no product allowed makes" in (plan.steps[0].note or "")
