"""The proportional policy (several drugs cut together), where the lead's wide grid of 864 plans
found wrong labels and refusals: two drugs switched into diazepam, and a hyperbolic taper with a
drug that starts at or below the jump-off dose."""

from __future__ import annotations

import pytest
from planhelpers import check_guardrails, plan_for

from benzotaper.catalogue import Catalogue
from benzotaper.planning import bounds


@pytest.mark.parametrize("strategy", ["percent", "linear"])
def test_two_drugs_switched_into_diazepam_end_with_one_final_section(
    catalogue: Catalogue, strategy: str
) -> None:
    """Clorazepate is switched to diazepam from the start, alprazolam near its end; the second
    switch's diazepam was judged against clorazepate's small starting dose, so it was "taper"
    again after alprazolam's "final" steps. Now its final section is alprazolam's."""
    plan = plan_for(
        catalogue,
        ("alprazolam", 1, "08:00"),
        ("clorazepate", 1, "20:00"),
        strategy=strategy,
        pace="slow",
        liquid=True,
        multi_drug="proportional",
    )
    check_guardrails(plan, catalogue)
    phases = [s.phase for s in plan.steps]
    assert phases.count("crossover") == 2
    assert "taper" not in phases[phases.index("final") :]


@pytest.mark.parametrize(
    ("takes", "prefs"),
    [
        ((("estazolam", 1, "18:00"), ("diazepam", 0.5, "13:00")), {"liquid": True}),
        ((("clonazepam", 0.5, "08:00"), ("alprazolam", 0.05, "20:00")), {"compounded": True}),
    ],
)
def test_hyperbolic_with_a_drug_at_the_jump_off_dose_is_paced_not_refused(
    catalogue: Catalogue, takes: tuple[tuple[str, float, str], ...], prefs: dict[str, bool]
) -> None:
    """Diazepam 0.5 mg (alprazolam 0.05 mg) is at the jump-off dose from the start: no
    occupancy to share out, so the strategy asked a cut of float noise (~1e-17) and its 100%
    cut "needed" 1e17 days (refused: 'past the year 9999'). It asks the pace's percent now,
    like the percent strategy: a plan of about three years at the slow pace, not a refusal."""
    plan = plan_for(
        catalogue, *takes, strategy="hyperbolic", pace="slow", multi_drug="proportional", **prefs
    )
    check_guardrails(plan, catalogue)
    assert plan.steps[-1].phase == "stop"
    assert (plan.steps[-1].end - plan.steps[0].start).days < bounds.MAX_PLAN_DAYS / 3


@pytest.mark.parametrize(
    ("takes", "prefs"),
    [
        (  # was a first cut of 26% (10 -> 7.4 mg DE): above the 25% a single cut may be
            (
                ("zolpidem", 5, "13:00"),
                ("zolpidem", 5, "18:00"),
                ("zolpidem", 5, "22:00"),
                ("zopiclone", 3.75, "18:00"),
            ),
            {"strategy": "percent", "pace": "fast", "market": "uk"},
        ),
        (  # was a rise of zolpidem at 22:00, then "maintain" with zolpidem held
            (
                ("diazepam", 8, "13:00"),
                ("diazepam", 8, "18:00"),
                ("diazepam", 2, "22:00"),
                ("zolpidem", 5, "22:00"),
            ),
            {"strategy": "hyperbolic", "pace": "fast", "market": "uk"},
        ),
        (  # was "maintain and review" with diazepam 0.5 mg held
            (("estazolam", 3, "18:00"), ("diazepam", 0.5, "13:00")),
            {"strategy": "percent", "pace": "fast", "liquid": True},
        ),
    ],
)
def test_a_drug_whose_cut_does_not_fit_this_step_waits_for_the_next(
    catalogue: Catalogue, takes: tuple[tuple[str, float, str], ...], prefs: dict[str, object]
) -> None:
    """Cut together, the drugs share one step's limit (25% of the total DE). A drug whose cut
    no longer fitted what the drugs before it had used was taken as stuck: tail routes it did
    not need (a compounded diazepam that could not make its dose, shown lower than planned),
    then "maintain". Now it waits for the next step; stuck only if no cut fits the whole
    limit. Found by a 1,500-case exploration with multi_drug varied (8 failures, 3 kinds)."""
    plan = plan_for(catalogue, *takes, multi_drug="proportional", **prefs)
    check_guardrails(plan, catalogue)
    assert plan.ends_with == "stop" and not any(r.route == "maintain" for r in plan.routes)
