"""Issue 12 golden cases: every common regimen reaches zero safely, or says why not and what would.

The refusals of the past (zolpidem 10 mg at night, UK lorazepam, small clonazepam and triazolam
doses...) now get plans: a tail route chosen automatically (medication-free nights, the licensed
oral liquid, diazepam for the tail, a compounding pharmacy) or, when every route is switched off,
a labelled "maintain and review" ending with the ways forward that were checked to work.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "planning"))

from planhelpers import check_guardrails, plan_for

from benzotaper.catalogue import default_catalogue
from benzotaper.errors import RegimenError
from benzotaper.planning.metrics import jump_off
from benzotaper.planning.models import Plan

CAT = default_catalogue()

#: 30 common regimens (drug, mg, time) per market, including every one issue 12 names.
REGIMENS: list[tuple[str, list[tuple[str, float, str]], dict[str, object]]] = [
    ("us", [("zolpidem", 10, "22:00")], {}),
    ("uk", [("zopiclone", 7.5, "22:00")], {}),
    ("us", [("lorazepam", 0.5, "22:00")], {}),
    ("us", [("clonazepam", 0.25, "22:00")], {}),
    ("us", [("triazolam", 0.25, "22:00")], {}),
    ("us", [("eszopiclone", 3, "22:00")], {}),
    ("uk", [("diazepam", 2, "22:00")], {}),
    ("uk", [("nitrazepam", 5, "22:00")], {}),
    ("uk", [("clobazam", 10, "08:00")], {}),
    ("us", [("clonazepam", 0.125, "08:00"), ("clonazepam", 0.25, "22:00")], {}),
    ("uk", [("lorazepam", 2.5, "08:00"), ("lorazepam", 2.5, "22:00")], {}),
    ("us", [("lorazepam", 1, "08:00"), ("lorazepam", 1, "22:00")], {"age": 80, "falls": True}),
    (
        "us",
        [("alprazolam", 0.5, "08:00"), ("alprazolam", 0.5, "13:00"), ("alprazolam", 0.5, "22:00")],
        {},
    ),
    ("us", [("alprazolam", 1, "08:00"), ("alprazolam", 1, "22:00")], {}),
    ("uk", [("alprazolam", 0.25, "22:00")], {}),
    ("us", [("clonazepam", 0.5, "08:00"), ("clonazepam", 0.5, "22:00")], {}),
    ("uk", [("clonazepam", 0.5, "08:00"), ("clonazepam", 0.5, "22:00")], {}),
    ("uk", [("diazepam", 5, "08:00"), ("diazepam", 5, "13:00"), ("diazepam", 5, "22:00")], {}),
    ("us", [("diazepam", 10, "08:00"), ("diazepam", 10, "22:00")], {}),
    ("uk", [("temazepam", 20, "22:00")], {}),
    ("us", [("temazepam", 15, "22:00")], {}),
    ("uk", [("oxazepam", 15, "08:00"), ("oxazepam", 15, "13:00"), ("oxazepam", 15, "22:00")], {}),
    ("uk", [("chlordiazepoxide", 10, "08:00"), ("chlordiazepoxide", 10, "22:00")], {}),
    ("uk", [("zolpidem", 5, "22:00")], {}),
    ("us", [("zaleplon", 10, "22:00")], {}),
    ("us", [("estazolam", 1, "22:00")], {}),
    ("us", [("flurazepam", 30, "22:00")], {}),
    ("uk", [("lormetazepam", 1, "22:00")], {}),
    ("us", [("clorazepate", 7.5, "08:00"), ("clorazepate", 7.5, "22:00")], {}),
    ("us", [("lorazepam", 1, "08:00")], {"pregnant": True}),
]


def _plan(
    market: str, takes: list[tuple[str, float, str]], person: dict[str, object], **prefs: object
) -> Plan:
    return plan_for(CAT, *takes, market=market, person=person, **prefs)


def last_before_stop_mg(plan: Plan, drug: str) -> float:
    """mg a day of ``drug`` in the step before it first reaches zero outside a switch."""
    prev: dict[str, float] = {}
    for s in plan.steps:
        if (
            s.phase not in ("crossover", "stabilise")
            and prev.get(drug, 0) > 0
            and s.daily_mg.get(drug, 0) <= 0
        ):
            return prev[drug]
        prev = s.daily_mg
    return 0.0


@pytest.mark.parametrize(("market", "takes", "person"), REGIMENS, ids=lambda v: str(v)[:40])
def test_thirty_common_regimens_get_plans_that_keep_the_invariants(
    market: str, takes: list[tuple[str, float, str]], person: dict[str, object]
) -> None:
    plan = _plan(market, takes, person)
    check_guardrails(plan, CAT)
    assert plan.ends_with == "stop", [r.model_dump() for r in plan.routes]
    assert jump_off(plan) <= 1.0 + 1e-9


def test_zolpidem_10_mg_at_night_ends_with_medication_free_nights() -> None:
    plan = _plan("us", [("zolpidem", 10, "22:00")], {})
    check_guardrails(plan, CAT)
    (route,) = plan.routes
    assert route.route == "nights" and route.step == 0
    assert "pottie2018-deprescribing" in route.sources and route.preference == {
        "tail_off": ["nights"]
    }
    assert "No new prescription" in route.prescription
    # the last steps are weekly patterns of the 5 mg tablet, e.g. "5 mg on 2 of 7 nights"
    last = [s for s in plan.steps if s.phase != "stop"][-1]
    (dose,) = last.doses
    assert dose.mg == 5 and dose.on_days is not None and len(dose.on_days) < 7
    assert last.diazepam_equivalent_mg <= 1.0  # zolpidem 20 mg ≈ diazepam 10 mg (Ashton)
    assert all(d.mg in (0, 5, 10) for s in plan.steps for d in s.doses)  # the tablets sold
    assert all(s.days % 7 == 0 for s in plan.steps if s.weekly)
    assert any(w.code == "tail-nights" for w in plan.warnings)


def test_uk_lorazepam_2_5_mg_twice_daily_never_stops_from_1_mg() -> None:
    plan = _plan("uk", [("lorazepam", 2.5, "08:00"), ("lorazepam", 2.5, "22:00")], {})
    check_guardrails(plan, CAT)
    assert last_before_stop_mg(plan, "lorazepam") <= 0.1 + 1e-9  # 1 mg DE at most
    assert [r.route for r in plan.routes] == ["diazepam"]
    assert "Diazepam tablets" in plan.routes[0].prescription


def test_nice_cks_diazepam_steps_of_half_to_one_mg_at_the_end() -> None:
    plan = _plan("us", [("diazepam", 20, "08:00")], {}, strategy="ashton-bands", pace="moderate")
    check_guardrails(plan, CAT)
    prev = 20.0
    for s in plan.steps:
        if prev <= 5 and s.phase != "stop":
            assert 0.5 - 1e-9 <= prev - s.diazepam_equivalent_mg <= 1 + 1e-9
        prev = s.diazepam_equivalent_mg
    assert jump_off(plan) <= 1


def test_pregnancy_caution_is_on_a_plan_that_needed_a_route() -> None:
    plan = _plan("uk", [("lorazepam", 1, "08:00"), ("lorazepam", 1, "22:00")], {"pregnant": True})
    assert plan.routes
    assert any("pregnan" in w.code for w in plan.warnings), [w.code for w in plan.warnings]


def test_every_route_switched_off_ends_in_maintain_and_review_with_checked_ways_forward() -> None:
    off = ["nights", "liquid", "diazepam", "compounded"]
    plan = _plan("uk", [("lorazepam", 1, "08:00"), ("lorazepam", 1, "22:00")], {}, tail_off=off)
    check_guardrails(plan, CAT)
    last = plan.steps[-1]
    assert plan.ends_with == "maintain" and last.phase == "maintain"
    assert last.days == 90 and last.diazepam_equivalent_mg > 1
    assert [r.route for r in plan.routes] == ["maintain"]
    assert "asam2025-goal-maintain" in plan.routes[0].sources
    kinds = {w.kind for w in plan.ways_forward}
    assert kinds == {"diazepam", "compounded"}  # UK lorazepam: no liquid, not a hypnotic
    for way in plan.ways_forward:
        again = _plan(
            "uk", [("lorazepam", 1, "08:00"), ("lorazepam", 1, "22:00")], {}, **way.preference
        )
        assert again.ends_with == "stop"


def test_a_route_can_be_chosen_and_switched_off() -> None:
    takes = [("clonazepam", 0.5, "08:00"), ("clonazepam", 0.5, "22:00")]
    auto = _plan("us", takes, {})
    assert [r.route for r in auto.routes] == ["diazepam"]
    asked = _plan("us", takes, {}, tail="compounded")
    assert [(r.route, r.chosen) for r in asked.routes] == [("compounded", "asked")]
    check_guardrails(asked, CAT)
    off = _plan("us", takes, {}, tail_off=["diazepam"])
    assert [r.route for r in off.routes] == ["compounded"]
    assert "Beyond-use date" in off.routes[0].prescription


def test_uk_lorazepam_made_at_home_reaches_zero_from_at_most_1_mg_de() -> None:
    """Opted in to a home liquid (a named vehicle: lorazepam does not dissolve in water) or a
    scale, UK lorazepam 2.5 mg twice daily is tapered on that route and stops from <= 1 mg DE."""
    takes = [("lorazepam", 2.5, "08:00"), ("lorazepam", 2.5, "22:00")]
    for home in (
        {"home_liquid": True, "home_vehicle": "an oral suspending vehicle"},
        {"scale": True, "tablet_weight_mg": 100},
    ):
        plan = _plan("uk", takes, {}, **home)
        check_guardrails(plan, CAT)
        assert plan.ends_with == "stop" and jump_off(plan) <= 1.0 + 1e-9
        assert [(r.route, r.chosen) for r in plan.routes] == [
            ("home-liquid" if "home_liquid" in home else "scale", "asked")
        ]


def test_a_weekly_start_is_the_pattern_given_or_a_clear_refusal() -> None:
    """A start on a weekly pattern (``nightly_mg``, as a resumed nights plan sends it) keeps
    that pattern; an average its nights cannot make is refused, not replaced by another."""
    kept = plan_for(CAT, ("zolpidem", 10, "22:00"), nightly_mg=10)
    check_guardrails(kept, CAT)
    with pytest.raises(RegimenError, match="not a weekly pattern of 20 mg nights"):
        plan_for(CAT, ("zolpidem", 2.5, "22:00"), nightly_mg=20)
