"""Regimen text, times, holds and the pacing rules file: clear errors for every mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from benzotaper.catalogue import Catalogue
from benzotaper.catalogue.loader import DATA_DIR
from benzotaper.cli.request import parse_hold, regimen_from_data
from benzotaper.errors import CatalogueError, DoseError, InputError, RegimenError
from benzotaper.planning.models import Administration
from benzotaper.planning.regimen import parse_take, parse_time, resolve
from benzotaper.planning.rules import default_pacing_rules, load_pacing_rules


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("clonazepam 0.5 mg at 08:00", ("clonazepam", 0.5, "08:00")),
        ("Klonopin 500mcg 8am", ("clonazepam", 0.5, "08:00")),
        ("Xanax XR 1 mg at 10 pm", ("alprazolam", 1.0, "22:00")),
        ("diazepam 2.5mg at night", ("diazepam", 2.5, "22:00")),
        ("zolpidem 10 mg @ 23:30", ("zolpidem", 10.0, "23:30")),
    ],
)
def test_take_is_read(catalogue: Catalogue, text: str, expected: tuple[str, float, str]) -> None:
    a = parse_take(text, catalogue)
    assert (a.drug, a.mg, a.time) == expected


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("clonazepam at 08:00", RegimenError, "Cannot find a dose"),
        ("0.5 mg at 08:00", RegimenError, "names no drug"),
        ("clonazepam 0.5 mg", RegimenError, "Add the time"),
        ("clonazepam 0.5 mg 1 mg at 08:00", RegimenError, "more than one dose"),
        ("clonazepam 2 tablets at 08:00", DoseError, "counts tablets"),
        ("clonazepam 0.5 mg at 12pm3", RegimenError, "Cannot read the time"),
        ("clonazepam 0.5 mg at 13pm", RegimenError, "1-12"),
    ],
)
def test_bad_take_is_refused_clearly(
    catalogue: Catalogue, text: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        parse_take(text, catalogue)


def test_times() -> None:
    assert parse_time("12am") == "00:00"
    assert parse_time("12pm") == "12:00"
    assert parse_time("7:05") == "07:05"
    assert parse_time("Morning") == "08:00"


def test_same_drug_and_time_twice_is_refused(catalogue: Catalogue) -> None:
    regimen = [
        Administration(drug="Valium", mg=5, time="08:00"),
        Administration(drug="diazepam", mg=2, time="08:00"),
    ]
    with pytest.raises(RegimenError, match="listed twice"):
        resolve(regimen, catalogue)


def test_regimen_file_content(catalogue: Catalogue) -> None:
    got = regimen_from_data(
        {"regimen": ["diazepam 5 mg at 08:00", {"drug": "diazepam", "mg": 2, "time": "22:00"}]},
        catalogue,
        "r.json",
    )
    assert [(a.drug, a.mg, a.time) for a in got] == [
        ("diazepam", 5, "08:00"),
        ("diazepam", 2, "22:00"),
    ]
    with pytest.raises(RegimenError, match="expected a list"):
        regimen_from_data({"doses": []}, catalogue, "r.json")
    with pytest.raises(InputError, match="item 1"):
        regimen_from_data([{"drug": "diazepam", "mg": -1, "time": "08:00"}], catalogue, "r.json")


def test_holds() -> None:
    h = parse_hold("2027-01-15:14")
    assert (h.start.isoformat(), h.days) == ("2027-01-15", 14)
    for bad in ("2027-01-15", "2027-01-15:x", "15/01/2027:14"):
        with pytest.raises(InputError):
            parse_hold(bad)
    with pytest.raises(InputError, match="hold"):
        parse_hold("2027-01-15:0")


def test_pacing_rules_are_sourced_and_within_their_ranges(catalogue: Catalogue) -> None:
    rules = default_pacing_rules()
    assert rules.source_keys() <= set(catalogue.references)
    assert rules.max_rate.percent.low == 25 and rules.max_rate.per_days.low == 14
    for pace in rules.paces.values():
        assert pace.percent.low <= pace.use_percent <= pace.percent.high
    assert rules.jump_off.limit(liquid=False) == 1
    assert rules.jump_off.limit(liquid=True) == 0.5


def test_broken_pacing_rules_name_the_file_and_field(tmp_path: Path, catalogue: Catalogue) -> None:
    text = (DATA_DIR / "rules" / "pacing.toml").read_text()
    bad = tmp_path / "pacing.toml"
    bad.write_text(text.replace("use_percent = 25", "use_percent = 30"))
    with pytest.raises(CatalogueError, match=r"pacing\.toml.*paces\.fast.*outside the sourced"):
        load_pacing_rules(bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(
        text.replace('source = "nhs-scotland-reduction-schedules"', 'source = "no-such-ref"')
    )
    with pytest.raises(CatalogueError, match="no-such-ref"):
        load_pacing_rules(unknown, references=catalogue.references)
