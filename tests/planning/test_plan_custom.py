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


def test_a_last_row_lasts_as_long_as_its_cut_needs(catalogue: Catalogue) -> None:
    """A schedule ending on 1 mg from 2 mg (50%, within the 1 mg a single cut may take): the
    last row has no end date, so it lasts 28 days (25% per 14 days), not an assumed 14 days
    that the rate check then refused; the planner's stop follows."""
    plan = plan_for(
        catalogue,
        ("diazepam", 2, "08:00"),
        strategy="custom",
        custom_steps=rows((0, "diazepam", 2), (28, "diazepam", 1)),
    )
    check_guardrails(plan, catalogue)
    last = plan.steps[1]
    assert (last.diazepam_equivalent_mg, last.days) == (1, 28)
    assert last.note is not None and "no end date: it lasts 28 days" in last.note
    assert plan.steps[-1].phase == "stop"


def test_a_last_row_with_a_shorter_interval_is_continued_not_refused(
    catalogue: Catalogue,
) -> None:
    plan = plan_for(
        catalogue,
        ("diazepam", 20, "08:00"),
        strategy="custom",
        every_days=7,
        custom_steps=rows((0, "diazepam", 20), (28, "diazepam", 15)),
    )
    check_guardrails(plan, catalogue)
    assert plan.steps[1].days == 14 and plan.steps[-1].phase == "stop"


def test_a_last_row_cutting_too_much_at_once_names_it_and_offers_the_override(
    catalogue: Catalogue,
) -> None:
    schedule = rows((0, "diazepam", 20), (28, "diazepam", 10))
    with pytest.raises(GuardrailError) as exc:
        plan_for(catalogue, ("diazepam", 20, "08:00"), strategy="custom", custom_steps=schedule)
    assert "cuts 50% of the dose in one step" in str(exc.value)
    assert getattr(exc.value, "preference", None) == {"override": True}
    allowed = Override(reason="agreed with my prescriber", max_percent_per_14_days=50)
    plan = plan_for(
        catalogue,
        ("diazepam", 20, "08:00"),
        strategy="custom",
        custom_steps=schedule,
        override=allowed,
    )
    assert plan.steps[1].diazepam_equivalent_mg == 10 and plan.steps[-1].phase == "stop"


def test_cli_custom_schedule_ending_on_a_small_dose() -> None:
    from typer.testing import CliRunner

    from benzotaper.cli import app

    args = ["plan", "--take", "diazepam 2 mg at 08:00", "--start", "2027-01-04"]
    args += ["--strategy", "custom", "--format", "csv"]
    args += ["--step", "2027-01-04 diazepam 2 mg", "--step", "2027-02-01 diazepam 1 mg"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2027-02-01,2027-02-28,28,taper" in result.stdout
    bad = [a.replace("1 mg", "0.25 mg") for a in args]  # a 0.75 mg cut: fine; now too fast
    bad[-1] = "2027-01-05 diazepam 1 mg"
    result = CliRunner().invoke(app, [*bad, "--step", "2027-02-01 diazepam 0.5 mg"])
    assert result.exit_code == 2
    assert "--override-reason" in " ".join(result.stderr.split())
