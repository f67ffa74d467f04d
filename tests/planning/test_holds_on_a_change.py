"""A hold on the first day of a step that changes more than a cut: a switch, a return.

Found by tests/planning/test_tail_properties.py (holds at random points, and reinstatements).

Found by tests/planning/test_tail_properties.py (holds at random points): UK alprazolam, whose
tablets cannot make the small doses at the end, is switched to diazepam one dose-time at a
time. A hold on the first day of a switch step kept that step's new doses, so the hold step
made the switch itself ("Hold for 1 days" was all it said, not which dose-time changes to what)
and a dose-time rose outside a switch. The hold now keeps the doses before the switch, which
waits until after it (the plan's first step: the doses taken now, when they can be made).
"""

from __future__ import annotations

import datetime as dt

import pytest
from planhelpers import TODAY, check_guardrails, plan_for
from test_tail_properties import check_no_week_above_its_pattern

from benzotaper.catalogue import Catalogue
from benzotaper.errors import RegimenError

UK_ALPRAZOLAM = (
    ("alprazolam", 0.25, "07:00"),
    ("alprazolam", 0.25, "08:00"),
    ("alprazolam", 2.75, "12:00"),
)


@pytest.mark.parametrize("nth", [0, 1, 2])
def test_a_hold_on_a_switch_day_keeps_the_doses_before_it(catalogue: Catalogue, nth: int) -> None:
    base = plan_for(catalogue, *UK_ALPRAZOLAM, market="uk", strategy="linear")
    switch = [s for s in base.steps if s.phase == "crossover"]
    assert len(switch) == 3 and switch[0].index > 0  # the tail's switch, near the end
    day = switch[nth].start
    hold = {"start": day, "days": 10, "reason": "a family visit"}
    plan = plan_for(catalogue, *UK_ALPRAZOLAM, market="uk", strategy="linear", holds=[hold])
    check_guardrails(plan, catalogue)
    [held] = [s for s in plan.steps if s.phase == "hold"]
    before = plan.steps[held.index - 1]
    after = plan.steps[held.index + 1]
    assert held.start == day and held.doses == before.doses
    assert held.note == "Hold for 10 days: a family visit. The switch waits until after it."
    assert after.phase == "crossover" and after.note == switch[nth].note
    assert after.doses == switch[nth].doses and after.start == day + dt.timedelta(days=10)
    assert plan.summary.end == base.summary.end + dt.timedelta(days=10)


def test_a_hold_on_the_first_day_of_a_switch_from_the_start_is_refused(
    catalogue: Catalogue,
) -> None:
    """Lorazepam 0.25 mg, which no US product makes, is switched to diazepam from the first
    step: there is no dose before the switch a hold could keep."""
    base = plan_for(catalogue, ("lorazepam", 0.25, "08:00"))
    assert base.steps[0].phase == "crossover"
    hold = {"start": base.steps[0].start, "days": 7, "reason": "travel"}
    with pytest.raises(RegimenError, match="first day of the switch the plan starts with"):
        plan_for(catalogue, ("lorazepam", 0.25, "08:00"), holds=[hold])


def test_a_hold_on_the_first_day_of_a_switch_from_the_start_keeps_the_doses_taken(
    catalogue: Catalogue,
) -> None:
    """UK lorazepam 1 mg tablets make the doses taken but no cut of them: the plan starts by
    switching to diazepam, and a hold on its first day keeps the lorazepam taken now."""
    takes = (("lorazepam", 1, "08:00"), ("lorazepam", 1, "22:00"))
    base = plan_for(catalogue, *takes, market="uk")
    assert base.steps[0].phase == "crossover"
    hold = {"start": base.steps[0].start, "days": 7, "reason": "travel"}
    plan = plan_for(catalogue, *takes, market="uk", holds=[hold])
    check_guardrails(plan, catalogue)
    first = plan.steps[0]
    assert first.phase == "hold" and first.daily_mg == {"lorazepam": 2.0}
    assert all(d.make_up for d in first.doses)
    assert plan.steps[1].phase == "crossover" and plan.steps[1].note == base.steps[0].note


def test_a_hold_on_the_first_day_of_a_return_lengthens_it(catalogue: Catalogue) -> None:
    """A hold from the first day of a return to an earlier dose was split off as its own step,
    which the engine labels as the return: the rise came in a step that said only "Hold for 5
    days", and the return's words followed in a second step at the same dose. Now the return's
    one step lasts the hold's days longer and says both."""
    reinstate = {"from_daily_mg": {"diazepam": 5}, "days": 14, "reason": "withdrawal symptoms"}
    hold = {"start": TODAY, "days": 5, "reason": "settle"}
    plan = plan_for(catalogue, ("diazepam", 10, "22:00"), reinstate=reinstate, holds=[hold])
    check_guardrails(plan, catalogue)
    first, second = plan.steps[:2]
    assert first.phase == "reinstatement" and first.days == 19 and first.change_percent == 100
    assert first.note == (
        "Back to an earlier dose for 14 days before the next cut: withdrawal symptoms. "
        "Hold for 5 days: settle (19 days at this dose in all)."
    )
    assert second.phase == "taper" and second.start == TODAY + dt.timedelta(days=19)


@pytest.mark.parametrize(("offset", "days"), [(0, 10), (1, 3), (3, 1), (5, 8)])
def test_a_weekly_pattern_runs_on_through_a_hold(
    catalogue: Catalogue, offset: int, days: int
) -> None:
    """Zolpidem 10 mg, cut by whole nights (10 mg on six nights, 5 mg on one): a hold inside
    a step restarted the pattern in the hold and again after it, so the nights with a dose came
    together (10 mg seven nights in a row: 70 mg in a week of a 65 mg pattern). The pattern now
    runs on through the hold and the rest of the step, which ends with a whole week."""
    base = plan_for(catalogue, ("zolpidem", 10, "22:00"), tail="nights")
    first = base.steps[0]
    assert any(d.on_days for d in first.doses) and first.days % 7 == 0
    hold = {"start": first.start + dt.timedelta(days=offset), "days": days, "reason": "x"}
    plan = plan_for(catalogue, ("zolpidem", 10, "22:00"), tail="nights", holds=[hold])
    check_guardrails(plan, catalogue)
    check_no_week_above_its_pattern(plan)
    rest = next(s for s in plan.steps if s.index > 0 and s.phase == "taper")
    assert (offset + days + rest.days) % 7 == 0  # the next step starts a whole week
    assert plan.summary.end == base.summary.end + dt.timedelta(days=days + (-days % 7))
