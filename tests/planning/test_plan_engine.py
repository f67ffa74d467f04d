"""Engine behaviour: golden schedules from the guidance, each guardrail, holds, overrides."""

from __future__ import annotations

import datetime as dt

import pytest
from planhelpers import TODAY, check_guardrails, plan_for, request

from benzotaper.catalogue import Catalogue
from benzotaper.errors import PlanTooLargeError, RegimenError
from benzotaper.knowledge import default_knowledge
from benzotaper.planning.engine import make_plan
from benzotaper.planning.metrics import jump_off, metrics, rates
from benzotaper.planning.models import Hold, Override


def test_nice_cks_bands_from_40_mg_take_30_to_60_weeks(catalogue: Catalogue) -> None:
    plan = plan_for(catalogue, ("diazepam", 40, "08:00"), strategy="ashton-bands", pace="moderate")
    check_guardrails(plan, catalogue)
    assert 30 <= plan.summary.weeks <= 60
    prev = 40.0
    for s in plan.steps[:-1]:
        cut = prev - s.diazepam_equivalent_mg
        if prev > 20:
            assert cut == pytest.approx(4)  # 2-4 mg every 1-2 weeks down to 20 mg (high end)
        elif prev > 10:
            assert cut == pytest.approx(2)  # 1-2 mg down to 10 mg
        elif prev > 5:
            assert cut == pytest.approx(1)  # 1 mg down to 5 mg
        else:
            assert cut <= 1 + 1e-9  # 0.5-1 mg until stopped
        prev = s.diazepam_equivalent_mg
    assert jump_off(plan) <= 1


def test_slow_bands_use_the_low_end_and_say_so(catalogue: Catalogue) -> None:
    plan = plan_for(catalogue, ("diazepam", 30, "08:00"), strategy="ashton-bands", pace="slow")
    assert plan.steps[0].diazepam_equivalent_mg == pytest.approx(28)
    bands = plan.summary.parameters["bands"]
    assert bands[0]["step_mg_de"] == {
        "used": 2.0,
        "source": "nice-cks-bzd-withdrawal",
        "range": [2.0, 4.0],
        "unverified": True,
    }


def test_deprescribing_org_25_percent_then_12_5_near_the_end(catalogue: Catalogue) -> None:
    plan = plan_for(catalogue, ("diazepam", 20, "22:00"), pace="fast", liquid=True)
    check_guardrails(plan, catalogue)
    assert plan.summary.parameters["percent"] == 25
    taper = [s for s in plan.steps if s.phase == "taper"]
    final = [s for s in plan.steps if s.phase == "final"]
    assert taper and final
    assert all(s.days == 14 for s in taper)
    for s in taper[:3]:  # 25% of the current dose, rounded to what 0.1 mL can measure
        assert s.change_percent is not None and -25.0 <= s.change_percent <= -24.0
    # the final section starts at a quarter of the starting dose, with cuts of at most 12.5%
    assert final[0].diazepam_equivalent_mg <= 20 * 0.25
    final_rates = [r for step, r in rates(plan) if step.phase == "final"]
    assert max(final_rates) <= 12.5 + 1e-9
    assert any(s.change_percent == pytest.approx(-12.5, abs=1.5) for s in final)
    assert jump_off(plan) <= 0.5  # liquid: the low end of the 0.5-1 mg jump-off range


def test_no_final_slow_section_keeps_25_percent(catalogue: Catalogue) -> None:
    plan = plan_for(
        catalogue, ("diazepam", 20, "22:00"), pace="fast", liquid=True, final_slow_section=False
    )
    assert not [s for s in plan.steps if s.phase == "final"]
    assert len(plan.steps) < len(
        plan_for(catalogue, ("diazepam", 20, "22:00"), pace="fast", liquid=True).steps
    )


def test_unrealisable_cut_is_lengthened_and_liquid_proposed(catalogue: Catalogue) -> None:
    # US diazepam tablets: 2 mg -> 1 mg (a half tablet) is the smallest possible cut, 50%.
    plan = plan_for(catalogue, ("diazepam", 2, "22:00"), pace="moderate")
    check_guardrails(plan, catalogue)
    first = plan.steps[0]
    assert first.diazepam_equivalent_mg == 1
    assert first.days == 70  # 50% at the 10%-per-14-days pace asked
    assert "smallest possible cut" in (first.note or "")
    warning = next(w for w in plan.warnings if w.code == "cut-lengthened")
    assert warning.preference == {"liquid": True} and warning.sources  # each edge words it


def test_a_stop_from_too_high_a_dose_takes_the_liquid_route(catalogue: Catalogue) -> None:
    # UK diazepam 2 mg tablets are not scored: 2 mg is the smallest dose tablets can make, and
    # stopping from 2 mg is more than the 1 mg jump-off limit. The UK oral suspension is sold.
    plan = plan_for(catalogue, ("diazepam", 2, "22:00"), market="uk")
    check_guardrails(plan, catalogue)
    assert [(r.route, r.step) for r in plan.routes] == [("liquid", 0)]
    assert jump_off(plan) <= 1
    liquid = plan_for(catalogue, ("diazepam", 2, "22:00"), market="uk", liquid=True)
    assert jump_off(liquid) <= 0.5 and not liquid.routes


def test_morning_dose_is_cut_before_the_night_dose(catalogue: Catalogue) -> None:
    # NHS Scotland's example after switching: diazepam 10 mg morning + 10 mg night,
    # morning dose reduced to zero first, then the night dose.
    plan = plan_for(
        catalogue,
        ("diazepam", 10, "08:00"),
        ("diazepam", 10, "22:00"),
        strategy="linear",
        step_mg=1,
    )
    check_guardrails(plan, catalogue)
    morning = [next(d.mg for d in s.doses if d.time == "08:00") for s in plan.steps]
    night = [next(d.mg for d in s.doses if d.time == "22:00") for s in plan.steps]
    gone = morning.index(0)
    assert morning[:gone] == [9, 8, 7, 6, 5, 4, 3, 2, 1]
    assert all(n == 10 for n in night[: gone + 1])
    assert night[gone + 1] == 9
    assert plan.summary.parameters["dose_time_rule"]["source"] == "nhs-scotland-reduction-schedules"


def test_night_first_rule_is_configurable(catalogue: Catalogue) -> None:
    plan = plan_for(
        catalogue,
        ("diazepam", 10, "08:00"),
        ("diazepam", 10, "22:00"),
        strategy="linear",
        step_mg=1,
        dose_time_rule="night-first",
    )
    first = {d.time: d.mg for d in plan.steps[0].doses}
    assert first == {"08:00": 10, "22:00": 9}


def test_override_is_recorded_and_allows_a_faster_rate(catalogue: Catalogue) -> None:
    reason = "Inpatient withdrawal under specialist supervision"
    plan = plan_for(
        catalogue,
        ("diazepam", 20, "08:00"),
        percent=40,
        every_days=14,
        override=Override(reason=reason, max_percent_per_14_days=40),
    )
    check_guardrails(plan, catalogue)
    assert plan.summary.override is not None and plan.summary.override.reason == reason
    assert max(r for _, r in rates(plan)) > 25
    w = next(w for w in plan.warnings if w.code == "override")
    assert reason in w.message and w.severity == "danger"


def test_without_override_the_maximum_caps_the_asked_percent(catalogue: Catalogue) -> None:
    plan = plan_for(catalogue, ("diazepam", 20, "08:00"), percent=40, liquid=True)
    check_guardrails(plan, catalogue)
    assert plan.steps[0].change_percent == -25.0


def test_holds_shift_later_steps(catalogue: Catalogue) -> None:
    base = plan_for(catalogue, ("diazepam", 10, "08:00"), liquid=True)
    hold_day = base.steps[2].start + dt.timedelta(days=3)
    held = plan_for(
        catalogue,
        ("diazepam", 10, "08:00"),
        liquid=True,
        holds=[Hold(start=hold_day, days=14, reason="exams")],
    )
    check_guardrails(held, catalogue)
    hold = next(s for s in held.steps if s.phase == "hold")
    assert hold.start == hold_day and hold.days == 14 and "exams" in (hold.note or "")
    assert hold.doses == base.steps[2].doses
    assert held.summary.end == base.summary.end + dt.timedelta(days=14)
    assert held.steps[-1].doses == base.steps[-1].doses


@pytest.mark.parametrize("offset", [-1, 10_000])
def test_holds_outside_the_plan_are_refused(catalogue: Catalogue, offset: int) -> None:
    # far outside (10,000 days) the plan-size bound answers first; both name the hold
    with pytest.raises((RegimenError, PlanTooLargeError), match="hold"):
        plan_for(
            catalogue,
            ("diazepam", 10, "08:00"),
            holds=[Hold(start=TODAY + dt.timedelta(days=offset), days=7)],
        )


def test_several_drugs_one_at_a_time_largest_share_first(catalogue: Catalogue) -> None:
    plan = plan_for(catalogue, ("alprazolam", 0.5, "08:00"), ("zolpidem", 10, "22:00"), liquid=True)
    check_guardrails(plan, catalogue)
    # alprazolam 0.5 mg = 10 mg DE (Ashton) > zolpidem 10 mg = 5 mg DE: alprazolam goes first
    # alprazolam's 1 mg/mL liquid cannot make 0.05 mg (1 mg DE): its tail goes to diazepam
    assert [r.route for r in plan.routes] == ["diazepam", "nights"]
    for s in plan.steps:
        assert {"alprazolam", "zolpidem"} <= set(s.daily_mg) | {"alprazolam"}
    first_zolpidem_cut = next(i for i, s in enumerate(plan.steps) if s.daily_mg["zolpidem"] < 10)
    for s in plan.steps[first_zolpidem_cut:]:
        assert s.daily_mg.get("alprazolam", 0) == 0 and s.daily_mg.get("diazepam", 0) == 0
    assert any(w.code == "multi-drug-policy" for w in plan.warnings)
    assert plan.summary.parameters["multi_drug"]["policy"] == "sequential"


def test_proportional_policy_cuts_every_drug(catalogue: Catalogue) -> None:
    plan = plan_for(
        catalogue,
        ("diazepam", 10, "08:00"),
        ("temazepam", 20, "22:00"),
        liquid=True,
        multi_drug="proportional",
        market="uk",
    )
    check_guardrails(plan, catalogue)
    assert plan.steps[0].daily_mg["diazepam"] < 10


def test_hyperbolic_cuts_shrink_and_the_assumption_is_shown(catalogue: Catalogue) -> None:
    plan = plan_for(
        catalogue, ("diazepam", 20, "08:00"), strategy="hyperbolic", liquid=True, pace="moderate"
    )
    check_guardrails(plan, catalogue)
    cuts = [-(s.change_percent or 0) / s.days * 14 for s in plan.steps[:-1]]
    assert cuts[0] == pytest.approx(10, abs=0.1)
    assert min(cuts[len(cuts) // 2 :]) < cuts[0] / 2  # near the end the rate is much smaller
    model = plan.summary.parameters["occupancy_model"]
    assert model["assumption"] is True and "assum" in model["label"].lower()
    assert any(w.code == "occupancy-assumption" for w in plan.warnings)
    overridden = plan_for(
        catalogue,
        ("diazepam", 20, "08:00"),
        strategy="hyperbolic",
        liquid=True,
        pace="moderate",
        occupancy_ed50_mg=3.0,
    )
    ed50 = overridden.summary.parameters["occupancy_model"]["ed50_mg"]
    assert ed50 == {"used": 3.0, "source": "user-override"}
    assert overridden.steps != plan.steps


def test_already_at_jump_off_still_gets_a_last_step_before_stopping(catalogue: Catalogue) -> None:
    plan = plan_for(catalogue, ("diazepam", 1, "22:00"))
    check_guardrails(plan, catalogue)
    assert [s.phase for s in plan.steps] == ["final", "stop"]


def test_start_defaults_to_today_and_the_core_reads_no_clock(catalogue: Catalogue) -> None:
    req = request(("diazepam", 5, "08:00"))
    req = req.model_copy(update={"preferences": req.preferences.model_copy(update={"start": None})})
    day = dt.date(2030, 5, 6)
    assert make_plan(req, default_knowledge(), today=day).steps[0].start == day


def test_metrics_describe_the_plan(catalogue: Catalogue) -> None:
    plan = plan_for(catalogue, ("diazepam", 10, "08:00"))
    m = metrics(plan)
    assert m.steps == len(plan.steps)
    assert m.tablets > 0 and m.liquid_ml == 0
    assert m.largest_rate_percent_per_14_days <= 25


def test_nhs_scotland_example_through_crossover_then_morning_first(catalogue: Catalogue) -> None:
    # Lorazepam 1 mg morning + 1 mg night: night then morning switched to diazepam 10 mg, then
    # the morning dose reduced first (NHS Scotland reduction schedule).
    plan = plan_for(
        catalogue,
        ("lorazepam", 1, "08:00"),
        ("lorazepam", 1, "22:00"),
        crossover="diazepam",
        strategy="linear",
        step_mg=1,
    )
    check_guardrails(plan, catalogue)
    phases = [s.phase for s in plan.steps]
    assert phases[:3] == ["crossover", "crossover", "stabilise"]
    stab = plan.steps[2]
    assert {(d.drug, d.time): d.mg for d in stab.doses if d.mg} == {
        ("diazepam", "08:00"): 10,
        ("diazepam", "22:00"): 10,
    }
    first_cut = plan.steps[3]
    assert first_cut.start == stab.end + dt.timedelta(days=1)
    assert {d.time: d.mg for d in first_cut.doses} == {"08:00": 9, "22:00": 10}
    assert plan.summary.parameters["crossover"]["crossover_target"] == "diazepam"
    assert jump_off(plan) <= 1


def test_crossover_refused_for_a_long_acting_drug(catalogue: Catalogue) -> None:
    with pytest.raises(RegimenError, match=r"nothing to switch|already"):
        plan_for(catalogue, ("diazepam", 10, "08:00"), crossover="diazepam")


def test_a_weekly_pattern_is_paced_on_its_exact_averages(catalogue: Catalogue) -> None:
    """Medication-free nights (lormetazepam 1 mg, UK, fast): the DEs are the exact weekly
    averages, so cuts paced at the maximum read as the maximum. From the 4-decimal averages
    shown (6 nights of 0.5 mg and one of 1 mg: 0.5715, was) the cut to 0.5 mg every night over
    7 days read as 25.02% per 14 days, above the 25% pace."""
    plan = plan_for(
        catalogue, ("lormetazepam", 1, "22:00"), market="uk", strategy="ashton-bands", pace="fast"
    )
    check_guardrails(plan, catalogue)
    per_mg = plan.summary.starting_diazepam_equivalent_mg  # 1 mg a day to start
    for step in plan.steps:
        nights = sum(d.mg * (7 if d.on_days is None else len(d.on_days)) for d in step.doses)
        assert step.diazepam_equivalent_mg == pytest.approx(nights / 7 * per_mg, rel=1e-12)
        assert step.daily_mg["lormetazepam"] == round(nights / 7, 4)  # shown to 4 decimals
    paced = [(s, r) for s, r in rates(plan) if r > 24.9]
    assert {(s.daily_mg["lormetazepam"], s.days) for s, _ in paced} >= {(0.5, 7), (0.2143, 14)}
    assert all(r <= 25 + 1e-9 for _, r in paced), paced
    assert metrics(plan).largest_rate_percent_per_14_days == 25.0
    # read back from its JSON (as stored), the plan gives the same figures
    again = type(plan).model_validate_json(plan.model_dump_json())
    assert again == plan and rates(again) == rates(plan)


def test_a_night_dose_no_tablet_makes_is_not_put_on_whole_nights(catalogue: Catalogue) -> None:
    """Zolpidem 1.25 mg at night (US: no tablet makes it; with a liquid asked, the jump-off is
    below its DE, so it is routed from the start): whole nights of a dose the tablets do not
    make cannot be made either, so another route is taken (was a nights route with no pattern:
    KeyError in Realiser.pattern; found by a long exploration of test_every_guardrail_holds)."""
    plan = plan_for(
        catalogue,
        ("zolpidem", 1.25, "18:00"),
        market="us",
        liquid=True,
        strategy="hyperbolic",
        pace="fast",
    )
    check_guardrails(plan, catalogue)
    assert "nights" not in {r.route for r in plan.routes}


def test_a_lengthened_nights_step_says_the_days_it_really_lasts(catalogue: Catalogue) -> None:
    """Medication-free nights move the weekly average by whole nights, and their steps last whole
    weeks: the note says so, with the step's real length (not the days before rounding)."""
    plan = plan_for(catalogue, ("zolpidem", 10, "22:00"))
    noted = [s for s in plan.steps if "allow no cut of" in (s.note or "")]
    assert noted
    for s in noted:
        assert "whole nights a week allow no cut" in (s.note or "")
        assert f"gets {s.days} days instead of" in (s.note or ""), (s.days, s.note)
    [warning] = [w for w in plan.warnings if w.code == "cut-lengthened"]
    assert "whole nights a week" in warning.message
