"""Small doses made at home (issue 12): opt-in routes, refusals with reasons, recipes as data."""

from __future__ import annotations

import pytest
from planhelpers import check_guardrails, plan_for

from benzotaper.catalogue import default_catalogue
from benzotaper.knowledge import default_knowledge
from benzotaper.planning import home_methods
from benzotaper.planning.home_methods import HomeMethodRefused
from benzotaper.planning.models import Plan

CAT = default_catalogue()
RULES = default_knowledge().home


def _home_pieces(plan: Plan) -> list:  # type: ignore[type-arg]
    return [p for s in plan.steps for d in s.doses for p in d.make_up if p.home is not None]


def test_lorazepam_in_water_is_refused_with_its_label_and_the_way_out() -> None:
    with pytest.raises(HomeMethodRefused) as caught:
        plan_for(CAT, ("lorazepam", 1, "22:00"), home_liquid=True)
    err = caught.value
    assert (err.reason, err.drug, err.route) == ("insoluble", "lorazepam", "home-liquid")
    assert (err.http_status, err.exit_code, err.field) == (422, 2, "home_vehicle")
    assert "almost insoluble in water" in err.message and "suspending vehicle" in err.message
    assert "us-lorazepam-label-description" in err.sources


def test_a_drug_whose_solubility_is_not_recorded_is_refused_as_unknown() -> None:
    with pytest.raises(HomeMethodRefused) as caught:
        plan_for(CAT, ("clonazepam", 0.5, "22:00"), home_liquid=True)
    assert caught.value.reason == "solubility-unknown" and "unknown" in caught.value.message


def test_not_opted_in_plans_never_make_doses_at_home() -> None:
    plan = plan_for(CAT, ("lorazepam", 1, "22:00"))
    assert not _home_pieces(plan)
    assert not {"home-liquid", "scale"} & {r.route for r in plan.routes}


def test_a_named_vehicle_makes_lorazepam_a_home_liquid_with_its_band_and_caution() -> None:
    plan = plan_for(CAT, ("lorazepam", 1, "22:00"), home_liquid=True, home_vehicle="whole milk")
    check_guardrails(plan, CAT)
    route = next(r for r in plan.routes if r.route == "home-liquid")
    assert route.chosen == "asked" and route.preference == {"home_liquid": False}
    assert "not a licensed method" in route.reason and "prescriber" in route.prescription
    assert {"brustugun2021-ejhp", "home-methods-policy"} <= set(route.sources)
    assert "tail-home-liquid" in {w.code for w in plan.warnings}
    pieces = _home_pieces(plan)
    assert pieces and all(p.home.vehicle == "whole milk" for p in pieces)
    assert all(p.home.dissolves is None for p in pieces)  # a suspension: not claimed to dissolve
    takes = [p.home for p in pieces if p.home.measure == "take"]
    assert takes and all(
        (h.accuracy.low_percent, h.accuracy.high_percent) == (3, 99) for h in takes
    )


def test_a_soluble_drug_dissolves_in_water_and_removing_a_volume_can_overshoot() -> None:
    plan = plan_for(CAT, ("chlordiazepoxide", 10, "22:00"), home_liquid=True)
    check_guardrails(plan, CAT)
    pieces = _home_pieces(plan)
    assert pieces and all(p.home.vehicle == "water" and p.home.dissolves for p in pieces)
    removed = [p.home for p in pieces if p.home.measure == "remove"]
    # the volume removed may hold less than its share, so the rest taken holds more
    assert removed and all(h.accuracy.high_percent > 100 for h in removed)
    assert "unstable in solution" in plan.routes[0].reason


def test_scale_needs_the_tablet_weight_and_never_weighs_under_ten_readabilities() -> None:
    with pytest.raises(HomeMethodRefused) as caught:
        plan_for(CAT, ("lorazepam", 1, "22:00"), scale=True)
    assert caught.value.reason == "tablet-weight"
    with pytest.raises(HomeMethodRefused) as caught:
        plan_for(CAT, ("lorazepam", 1, "22:00"), scale=True, tablet_weight_mg=15)
    assert caught.value.reason == "tablet-too-light"
    plan = plan_for(CAT, ("lorazepam", 1, "22:00"), scale=True, tablet_weight_mg=120)
    check_guardrails(plan, CAT)  # checks every weighed portion is at least 10 mg
    bands = [p.home.accuracy for p in _home_pieces(plan)]
    assert bands and all(b.basis == "scale-readability" for b in bands)
    assert all(90 <= b.low_percent <= 100 <= b.high_percent <= 110 for b in bands)


def test_dispensing_counts_the_tablet_each_home_dose_is_made_from() -> None:
    plan = plan_for(CAT, ("lorazepam", 1, "22:00"), scale=True, tablet_weight_mg=120)
    home_days = sum(s.days for s in plan.steps if any(p.home for d in s.doses for p in d.make_up))
    half_mg = sum(line.quantity for line in plan.dispense_total if line.strength_mg == 0.5)
    assert half_mg >= home_days


def test_the_syringe_volumes_sit_on_their_marks_and_never_exceed_half_the_liquid() -> None:
    volumes = home_methods._volumes(RULES.liquid)
    assert volumes[0][0] == RULES.liquid.min_measure_ml
    assert max(v for v, _, _ in volumes) <= RULES.liquid.volume_ml.low / 2
    for ml, syringe, fills in volumes:
        assert fills <= RULES.liquid.max_fills and ml <= syringe.ml * fills
