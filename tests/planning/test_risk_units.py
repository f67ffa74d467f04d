"""Each risk threshold in the units of its source: Table 2's dose bands in the guideline's own
equivalents (its Table 7, VA/DoD column) and its own per-drug examples, not Ashton's; the very
high dose (a UK formulary) in UK, Ashton-derived, equivalents; and the output says which."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.cli import run_cli

from benzotaper.catalogue import Catalogue
from benzotaper.knowledge import Knowledge
from benzotaper.planning.engine import de_per_mg, make_plan
from benzotaper.planning.models import PersonFactors, PlanRequest, RiskAssessment
from benzotaper.planning.risk import assess_risk, default_risk_rules

LONG = PersonFactors(years_on_drug=2, pdmp_checked=True)
ASHTON = "ashton2002"
GUIDELINE = "vadod-asam2025-table7"


def risk_for(catalogue: Catalogue, person: PersonFactors = LONG, **daily: float) -> RiskAssessment:
    """The assessment as make_plan asks for it, with Ashton as the plan's source."""
    drugs = [catalogue.drug(d) for d in daily]
    factors = {d.id: de_per_mg(catalogue, d, ASHTON) for d in drugs}
    plan_de = sum(mg * factors[d] for d, mg in daily.items())
    return assess_risk(
        person,
        plan_de,
        drugs,
        default_risk_rules(),
        daily_mg=daily,
        de_per_mg=factors,
        source=ASHTON,
    )


def test_the_examples_are_table2s_footnotes_as_printed() -> None:
    examples = default_risk_rules().dose_band.examples
    printed = {"clonazepam": (0.5, 1.5), "lorazepam": (2, 3), "alprazolam": (1, 2)}
    assert {k: (e.low_max_mg.low, e.moderate_max_mg.low) for k, e in examples.items()} == printed
    assert default_risk_rules().dose_band.equivalents_source == GUIDELINE


@pytest.mark.parametrize(
    ("drug", "mg", "band"),
    [
        # the low-dose examples of Table 2, all "low" (by Ashton they are 10-20 mg DE)
        ("clonazepam", 0.5, "low"),
        ("lorazepam", 2, "low"),
        ("alprazolam", 1, "low"),
        # the moderate examples' upper ends
        ("clonazepam", 1.5, "moderate"),
        ("lorazepam", 3, "moderate"),
        ("lorazepam", 3.5, "high"),
        ("clonazepam", 2, "high"),
    ],
)
def test_table2_examples_fall_in_their_own_bands(
    catalogue: Catalogue, drug: str, mg: float, band: str
) -> None:
    risk = risk_for(catalogue, **{drug: mg})
    assert risk.dose_band == band
    assert risk.dose_band_sources == [GUIDELINE, "asam2025-table2"]


def test_lorazepam_2mg_is_low_not_ashtons_high(catalogue: Catalogue) -> None:
    risk = risk_for(catalogue, lorazepam=2)
    assert risk.diazepam_equivalent_mg == 20  # the plan's own source (Ashton) is unchanged
    assert risk.dose_band == "low" and risk.dose_band_diazepam_equivalent_mg == 10
    assert risk.level == "moderate"  # 3 months or more: "yes", in its low band
    assert any("VA/DoD" in r and "10 mg DE" in r for r in risk.reasons)


def test_where_the_example_and_table7_disagree_the_higher_band_is_used(
    catalogue: Catalogue,
) -> None:
    clonazepam = risk_for(catalogue, clonazepam=1)  # Table 7: 10 mg DE (low); example: moderate
    assert clonazepam.dose_band == "moderate" and clonazepam.dose_band_diazepam_equivalent_mg == 10
    assert any("disagree" in r and "(policy)" in r for r in clonazepam.reasons)
    alprazolam = risk_for(catalogue, alprazolam=2)  # Table 7: 20 mg DE (high); example: moderate
    assert alprazolam.dose_band == "high" and alprazolam.level == "high"


def test_drugs_table7_lacks_use_the_plans_source_and_say_so(catalogue: Catalogue) -> None:
    risk = risk_for(catalogue, zolpidem=10)
    assert risk.dose_band_sources == [ASHTON] and risk.dose_band_diazepam_equivalent_mg == 5
    assert any("does not list" in r and ASHTON in r for r in risk.reasons)
    mixed = risk_for(catalogue, alprazolam=0.5, zolpidem=10)  # 5 (VA/DoD) + 5 (Ashton)
    assert mixed.dose_band_sources == [GUIDELINE, ASHTON]
    assert mixed.dose_band_diazepam_equivalent_mg == 10 and mixed.dose_band == "low"


def test_seizure_high_dose_uses_the_guidelines_band(catalogue: Catalogue) -> None:
    person = LONG.model_copy(update={"seizures": True})
    codes = {f.code for f in risk_for(catalogue, person, lorazepam=2).flags}
    assert "risk.seizures" in codes and "risk.seizures_high_dose" not in codes  # 20 by Ashton
    high = risk_for(catalogue, person, lorazepam=4)
    flag = next(f for f in high.flags if f.code == "risk.seizures_high_dose")
    assert flag.message.startswith("A history of seizures with a high dose (20 mg")


def test_very_high_dose_is_judged_in_uk_units(catalogue: Catalogue) -> None:
    risk = risk_for(catalogue, lorazepam=4)  # 40 mg DE by Ashton, 20 by the guideline's table
    flag = next(f for f in risk.flags if f.code == "risk.very_high_dose")
    assert flag.message.startswith("40 mg diazepam-equivalent a day (by UK equivalents")
    assert "risk.very_high_dose" not in {f.code for f in risk_for(catalogue, lorazepam=3).flags}


def test_make_plan_assesses_in_the_guidelines_units(knowledge: Knowledge) -> None:
    request = PlanRequest.model_validate(
        {
            "regimen": [
                {"drug": "lorazepam", "mg": 1, "time": "08:00"},
                {"drug": "lorazepam", "mg": 1, "time": "22:00"},
            ],
            "person": {"years_on_drug": 2},
        }
    )
    plan = make_plan(request, knowledge, today=dt.date(2027, 1, 4))
    assert plan.summary.equivalence_source == ASHTON
    assert plan.risk.dose_band == "low" and plan.risk.dose_band_diazepam_equivalent_mg == 10
    assert GUIDELINE in plan.risk.dose_band_sources


def test_the_cli_table_says_which_equivalents_made_the_band() -> None:
    out = run_cli("plan", "--take", "lorazepam 1 mg at 08:00", "--take", "lorazepam 1 mg at 22:00")
    assert out.returncode == 0, out.stderr
    assert "DE by ashton2002" in out.stdout  # the plan's own source
    assert f"dose band low: 10 mg DE by {GUIDELINE}, asam2025-table2" in out.stdout
