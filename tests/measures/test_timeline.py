"""The dose in force from saved plan versions; splitting it by drug class; the definitions file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from benzotaper.catalogue import Catalogue
from benzotaper.errors import CatalogueError
from benzotaper.measures import ClassSplit, StepDose, VersionDoses, in_force_runs
from benzotaper.measures.definitions import load_measure_book
from benzotaper.measures.facts import age_at
from benzotaper.measures.model import Factors, Period
from benzotaper.measures.timeline import OPEN_END, Run, decode_runs, runs_array, runs_from_bytes
from tests.measures.clinic import d


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def step(start: str, end: str, mg: float, phase: str = "taper") -> StepDose:
    return StepDose(day(start), day(end), phase, {"diazepam": mg}, mg)


def version(effective: str, start: str, steps: list[StepDose]) -> VersionDoses:
    return VersionDoses(day(effective), day(start), steps, {"diazepam": 10.0}, 10.0, "ashton2002")


def test_a_replan_replaces_the_rest_of_the_earlier_plan(catalogue: Catalogue) -> None:
    first = version(
        "2025-12-20",
        "2026-01-01",
        [
            step("2026-01-01", "2026-01-14", 9),
            step("2026-01-15", "2026-01-28", 8),
            step("2026-01-29", "2026-02-04", 0, "stop"),
        ],
    )
    # a hold saved on 20 Jan: the same start (pinned), 8 mg held until 11 Feb
    held = version(
        "2026-01-20",
        "2026-01-01",
        [
            step("2026-01-01", "2026-01-14", 9),
            step("2026-01-15", "2026-02-11", 8, "hold"),
            step("2026-02-12", "2026-02-25", 7),
            step("2026-02-26", "2026-03-04", 0, "stop"),
        ],
    )
    runs = in_force_runs([first, held], ClassSplit(catalogue))
    assert runs == (
        Run(d("2025-12-20"), d("2025-12-31"), 10.0, 0.0),  # saved early: the starting regimen
        Run(d("2026-01-01"), d("2026-01-14"), 9.0, 0.0),
        Run(d("2026-01-15"), d("2026-01-19"), 8.0, 0.0),  # first plan until the re-plan
        Run(d("2026-01-20"), d("2026-02-11"), 8.0, 0.0, hold=True),
        Run(d("2026-02-12"), d("2026-02-25"), 7.0, 0.0),
        Run(d("2026-02-26"), OPEN_END, 0.0, 0.0),  # the stop step, then off from then on
    )
    assert decode_runs(runs_from_bytes(runs_array(runs).tobytes())) == runs


def test_a_later_version_taking_effect_the_same_day_wins(catalogue: Catalogue) -> None:
    a = version("2026-01-01", "2026-01-01", [step("2026-01-01", "2026-01-31", 9)])
    b = version("2026-01-01", "2026-01-01", [step("2026-01-01", "2026-01-31", 7)])
    runs = in_force_runs([a, b], ClassSplit(catalogue))
    # b's last dose continues after its last step, so one run from then on
    assert runs == (Run(d("2026-01-01"), OPEN_END, 7.0, 0.0),)


def test_mixed_days_split_by_each_drugs_equivalent(catalogue: Catalogue) -> None:
    split = ClassSplit(catalogue)
    # Ashton: lorazepam 1 mg ~ diazepam 10 mg; zolpidem 20 mg ~ diazepam 10 mg
    assert split.split({"lorazepam": 0.9, "zolpidem": 10.0}, 14.0, "ashton2002") == (9.0, 5.0)
    assert split.split({"zolpidem": 10.0}, 5.0, None) == (0.0, 5.0)
    assert split.split({"diazepam": 4.0, "zolpidem": 0.0}, 4.0, None) == (4.0, 0.0)
    assert split.split({"diazepam": 0.0}, 0.0, None) == (0.0, 0.0)
    assert split.is_z("Ambien") and not split.is_z("Xanax")
    assert not split.is_z("not a drug")  # unknown names count as benzodiazepines


def test_age_grows_with_the_years_since_it_was_recorded() -> None:
    factors = (Factors(d("2025-01-01"), 66), Factors(d("2026-03-01"), None, falls=True))
    assert age_at(factors, d("2026-12-31")) == 67  # 66 recorded in 2025, one year older
    assert age_at(factors, d("2025-06-30")) == 66
    assert age_at(factors, d("2024-01-01")) == 66  # the first record stands for earlier days
    assert age_at((Factors(d("2025-01-01")),), d("2026-01-01")) is None


def test_period_year_is_cut_at_today() -> None:
    assert Period.year(2026) == Period(day("2026-01-01"), day("2026-12-31"))
    assert Period.year(2026, today=day("2026-11-30")).end == day("2026-11-30")
    assert Period.year(2025, today=day("2026-11-30")).end == day("2025-12-31")
    with pytest.raises(ValueError):
        Period(day("2026-02-01"), day("2026-01-01"))


def test_definitions_need_known_sources(catalogue: Catalogue, tmp_path: Path) -> None:
    from benzotaper.catalogue.loader import DATA_DIR

    text = (DATA_DIR / "measures.toml").read_text()
    bad = tmp_path / "measures.toml"
    bad.write_text(text.replace('source = "ncqa-dbo" }', 'source = "ncqa-dbbo" }', 1))
    with pytest.raises(CatalogueError, match="ncqa-dbbo"):
        load_measure_book(catalogue, bad)
    bad.write_text(text.replace('id = "dbo-50"', 'id = "dbo-40"'))
    with pytest.raises(CatalogueError, match="exactly"):
        load_measure_book(catalogue, bad)
    book = load_measure_book(catalogue)
    assert all(key in catalogue.references for key in book.source_keys())


def test_a_maintain_and_review_step_keeps_its_dose_flagged(catalogue: Catalogue) -> None:
    """The planner's last "maintain" step keeps the dose for review: the dose continues after
    it, still marked as planned maintenance, and survives packing."""
    plan = version(
        "2026-01-01",
        "2026-01-01",
        [step("2026-01-01", "2026-01-28", 8), step("2026-01-29", "2026-04-28", 6, "maintain")],
    )
    runs = in_force_runs([plan], ClassSplit(catalogue))
    assert runs == (
        Run(d("2026-01-01"), d("2026-01-28"), 8.0, 0.0),
        Run(d("2026-01-29"), OPEN_END, 6.0, 0.0, maintain=True),
    )
    assert decode_runs(runs_from_bytes(runs_array(runs).tobytes())) == runs
