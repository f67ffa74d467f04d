"""The start a drug switched into diazepam is judged from, under the sequential policy.

The loop judged it from the new drug's own start whenever the new drug was not in the group
being tapered, even when that drug had been stopped already in an earlier group: diazepam 10 mg
tapered first and stopped, then lorazepam 0.5 mg (5 mg diazepam-equivalent) switched to
diazepam was tapered as if from 10 mg. A linear taper then cut 1 mg every step of a 5 mg dose
(up to 25% a step, the guideline's maximum, where 10% of the start was asked) and a percent
taper's final slow section began at twice the dose it should. What decides is whether the new
drug still has doses (found with benchmarks/plan_grid.py).
"""

from __future__ import annotations

import itertools

import pytest
from planhelpers import check_guardrails, plan_for

from benzotaper.catalogue import Catalogue
from benzotaper.planning.models import Plan
from benzotaper.planning.rules import default_pacing_rules

DIAZEPAM_FIRST = (("diazepam", 10, "08:00"), ("lorazepam", 0.5, "22:00"))
#: alprazolam 1 mg (20 mg DE) switched to diazepam and stopped, then lorazepam 1 mg (10 mg DE)
ALPRAZOLAM_FIRST = (
    ("alprazolam", 1, "08:00"),
    ("lorazepam", 1, "13:00"),
    ("zolpidem", 10, "22:00"),
)


def _after_last_switch(plan: Plan) -> list[float]:
    """Diazepam's daily mg in the steps after the last stabilisation, the stop left out."""
    last = max(i for i, s in enumerate(plan.steps) if s.phase == "stabilise")
    return [s.daily_mg.get("diazepam", 0.0) for s in plan.steps[last:] if s.phase != "stop"]


@pytest.mark.parametrize(
    ("takes", "switched_start_mg"), [(DIAZEPAM_FIRST, 5.0), (ALPRAZOLAM_FIRST, 10.0)]
)
def test_a_linear_step_after_a_switch_is_that_of_the_drug_switched(
    catalogue: Catalogue, takes: tuple[tuple[str, float, str], ...], switched_start_mg: float
) -> None:
    plan = plan_for(catalogue, *takes, strategy="linear", pace="moderate", multi_drug="sequential")
    check_guardrails(plan, catalogue)
    assert [r.drug for r in plan.routes if r.route == "diazepam"][-1] == "lorazepam"
    step = switched_start_mg * plan.summary.parameters["step_percent_of_starting_dose"] / 100
    doses = _after_last_switch(plan)
    cuts = [a - b for a, b in itertools.pairwise(doses)]
    assert doses[0] == switched_start_mg
    assert max(cuts) <= step + 1e-9, (step, doses)  # was 1 mg (2 mg) steps: the stale start's


def test_a_final_section_after_a_switch_starts_from_the_drug_switched(
    catalogue: Catalogue,
) -> None:
    plan = plan_for(catalogue, *DIAZEPAM_FIRST, pace="moderate", multi_drug="sequential")
    check_guardrails(plan, catalogue)
    fraction = default_pacing_rules().final_section.start_fraction_of_start.low
    first_final = next(s for s in plan.steps if s.phase == "final")
    # lorazepam 0.5 mg is 5 mg diazepam-equivalent (it began at 2.2 mg: 10 mg's section)
    assert first_final.diazepam_equivalent_mg <= 5.0 * fraction + 1e-9, first_final
    assert "taper" not in [s.phase for s in plan.steps[first_final.index :]]
