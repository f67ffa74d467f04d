"""The custom strategy: a person's own schedule, held to the same guardrails."""

from __future__ import annotations

import datetime as dt

import pytest
from planhelpers import TODAY, check_guardrails, plan_for

from benzotaper.catalogue import Catalogue
from benzotaper.cli.request import parse_custom
from benzotaper.errors import GuardrailError, InputError, RegimenError
from benzotaper.planning.models import CustomStep, Override


def day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def rows(*items: tuple[int, str, float]) -> list[CustomStep]:
    return [CustomStep(start=day(n), drug=d, daily_mg=mg) for n, d, mg in items]


def test_a_good_schedule_is_followed_to_zero(catalogue: Catalogue) -> None:
    schedule = rows(
        (0, "diazepam", 4),
        (14, "diazepam", 3),
        (28, "diazepam", 2.5),
        (42, "diazepam", 2),
        (70, "diazepam", 1),
        (112, "diazepam", 0),
    )
    plan = plan_for(catalogue, ("diazepam", 5, "08:00"), strategy="custom", custom_steps=schedule)
    check_guardrails(plan, catalogue)
    assert [s.diazepam_equivalent_mg for s in plan.steps] == [4, 3, 2.5, 2, 1, 0]
    assert plan.steps[-1].start == day(112)
    assert not [w for w in plan.warnings if w.code == "custom-continued"]


def test_a_schedule_ending_early_is_continued_and_says_so(catalogue: Catalogue) -> None:
    plan = plan_for(
        catalogue,
        ("diazepam", 10, "08:00"),
        strategy="custom",
        pace="moderate",
        custom_steps=rows((0, "diazepam", 9), (14, "diazepam", 8)),
    )
    check_guardrails(plan, catalogue)
    assert any(w.code == "custom-continued" for w in plan.warnings)
    assert plan.steps[2].diazepam_equivalent_mg < 8


def test_every_broken_rule_is_listed(catalogue: Catalogue) -> None:
    bad = rows((0, "diazepam", 5), (14, "diazepam", 6), (28, "diazepam", 0))
    with pytest.raises(GuardrailError) as exc:
        plan_for(catalogue, ("diazepam", 10, "08:00"), strategy="custom", custom_steps=bad)
    text = str(exc.value)
    assert "above the maximum" in text
    assert "goes up" in text
    assert "never stop abruptly" in text


def test_an_override_allows_a_faster_schedule(catalogue: Catalogue) -> None:
    fast = rows(
        (0, "diazepam", 6),
        (14, "diazepam", 4),
        (28, "diazepam", 2),
        (42, "diazepam", 1),
        (70, "diazepam", 0),
    )
    with pytest.raises(GuardrailError):
        plan_for(catalogue, ("diazepam", 8, "08:00"), strategy="custom", custom_steps=fast)
    plan = plan_for(
        catalogue,
        ("diazepam", 8, "08:00"),
        strategy="custom",
        custom_steps=fast,
        override=Override(reason="Supervised inpatient taper", max_percent_per_14_days=50),
    )
    check_guardrails(plan, catalogue)


def test_schedule_drug_must_be_in_the_regimen(catalogue: Catalogue) -> None:
    with pytest.raises(RegimenError, match="not in the regimen"):
        plan_for(
            catalogue,
            ("diazepam", 10, "08:00"),
            strategy="custom",
            custom_steps=rows((0, "lorazepam", 1)),
        )
    with pytest.raises(RegimenError, match="needs a schedule"):
        plan_for(catalogue, ("diazepam", 10, "08:00"), strategy="custom")


def test_parse_custom_step(catalogue: Catalogue) -> None:
    step = parse_custom("2027-01-18 Valium 9 mg", catalogue)
    assert (step.start, step.drug, step.daily_mg) == (dt.date(2027, 1, 18), "diazepam", 9)
    assert parse_custom("2027-01-18 diazepam 0", catalogue).daily_mg == 0
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        parse_custom("18/01/2027 diazepam 9 mg", catalogue)
    with pytest.raises(InputError, match="DATE DRUG"):
        parse_custom("2027-01-18", catalogue)
