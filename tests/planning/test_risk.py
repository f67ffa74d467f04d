"""Risk assessment: the guideline's Table 2 row by row, each flag, and the strict rules loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from benzotaper.catalogue import Catalogue, Drug
from benzotaper.catalogue.loader import DATA_DIR
from benzotaper.errors import CatalogueError
from benzotaper.planning.models import PersonFactors
from benzotaper.planning.risk import (
    RiskRules,
    assess_risk,
    default_risk_rules,
    dose_band,
    load_risk_rules,
)


@pytest.fixture(scope="module")
def rules() -> RiskRules:
    return default_risk_rules()


@pytest.fixture(scope="module")
def diazepam(catalogue: Catalogue) -> Drug:
    return catalogue.drug("diazepam")


def fake(drug_id: str, name: str | None = None) -> Drug:
    return Drug.model_validate(
        {
            "id": drug_id,
            "name": name or drug_id.capitalize(),
            "class": "benzodiazepine",
            "uses": ["anxiolytic"],
            "max_daily_mg": {"value": 4, "source": "test"},
            "equivalents": [{"value": 0.5, "source": "ashton2002"}],
        }
    )


def codes(person: PersonFactors, de: float, drugs: list[Drug], rules: RiskRules) -> set[str]:
    return {f.code for f in assess_risk(person, de, drugs, rules).flags}


@pytest.mark.parametrize(
    ("de", "band"),
    [(0.5, "low"), (10, "low"), (10.01, "moderate"), (15, "moderate"), (15.5, "high")],
)
def test_dose_bands(rules: RiskRules, de: float, band: str) -> None:
    assert dose_band(de, rules) == band


@pytest.mark.parametrize(
    ("days", "years", "de", "level"),
    [
        # any duration, <= 3 days a week: rare
        (3, 10, 25, "rare"),
        (1, 0.01, 5, "rare"),
        # < 1 month, >= 4 days a week, any dose: lower but possible
        (4, 0.05, 25, "lower"),
        (7, 0.05, 5, "lower"),
        # 1-3 months, low dose: lower but possible
        (7, 2 / 12, 10, "lower"),
        # 1-3 months, moderate-high dose: yes (moderate; high in the high band)
        (7, 2 / 12, 12, "moderate"),
        (5, 2 / 12, 20, "high"),
        # >= 3 months, any dose: yes
        (7, 0.25, 2, "moderate"),
        (7, 5, 14, "moderate"),
        (4, 5, 16, "high"),
    ],
)
def test_table2_rows(
    rules: RiskRules, diazepam: Drug, days: int, years: float, de: float, level: str
) -> None:
    person = PersonFactors(days_per_week=days, years_on_drug=years, pdmp_checked=True)
    risk = assess_risk(person, de, [diazepam], rules)
    assert risk.level == level
    assert (
        risk.recommended_pace
        == {
            "rare": "fast",
            "lower": "fast",
            "moderate": "moderate",
            "high": "slow",
        }[level]
    )
    assert not risk.specialist_care
    assert risk.flags == []


def test_unknown_duration_assumes_long_and_says_so(rules: RiskRules, diazepam: Drug) -> None:
    risk = assess_risk(PersonFactors(pdmp_checked=True), 5, [diazepam], rules)
    assert risk.level == "moderate"
    assert [f.code for f in risk.flags] == ["risk.duration_unknown"]
    assert risk.flags[0].severity == "info"


#: Long use, and the PDMP checked (so its reminder does not add to the flags asserted).
LONG = {"years_on_drug": 2.0, "pdmp_checked": True}


@pytest.mark.parametrize(
    ("factors", "de", "code", "severity", "specialist", "slow"),
    [
        ({"seizures": True}, 20, "risk.seizures_high_dose", "danger", True, True),
        ({"seizures": True}, 10, "risk.seizures", "caution", False, True),
        ({"alcohol": True}, 10, "risk.alcohol", "danger", True, True),
        ({"psychiatric": True}, 10, "risk.psychiatric", "caution", True, True),
        ({"bipolar": True}, 10, "risk.bipolar", "caution", True, True),
        ({"pregnant": True}, 10, "risk.pregnancy", "caution", True, True),
        ({"breastfeeding": True}, 10, "risk.breastfeeding", "caution", True, True),
        ({"age": 65}, 10, "risk.older_adult", "caution", False, True),
        ({"falls": True}, 10, "risk.falls", "caution", False, True),
        ({"dementia": True}, 10, "risk.dementia", "caution", False, False),
        ({"opioids": True}, 10, "risk.opioids", "danger", False, False),
        ({"liver_impairment": True}, 10, "risk.liver", "caution", True, True),
        ({"sleep_apnoea": True}, 10, "risk.sleep_apnoea", "caution", False, False),
        ({"previous_attempts": 2}, 10, "risk.previous_attempts", "caution", False, True),
        ({}, 31, "risk.very_high_dose", "danger", True, True),
    ],
)
def test_each_flag(
    rules: RiskRules,
    catalogue: Catalogue,
    diazepam: Drug,
    factors: dict[str, object],
    de: float,
    code: str,
    severity: str,
    specialist: bool,
    slow: bool,
) -> None:
    person = PersonFactors.model_validate({**LONG, **factors})
    risk = assess_risk(person, de, [diazepam], rules)
    (flag,) = [f for f in risk.flags if f.code == code]
    assert flag.severity == severity
    assert flag.sources and all(s in catalogue.references for s in flag.sources)
    assert "{" not in flag.message
    assert risk.specialist_care is specialist
    # at 10 mg DE for 2 years the level is moderate: a slowing flag makes the pace slow
    if de == 10:
        assert risk.recommended_pace == ("slow" if slow else "moderate")
    # the same person without the factor has no such flag
    assert code not in codes(PersonFactors.model_validate(LONG), 10, [diazepam], rules)


def test_flag_boundaries(rules: RiskRules, diazepam: Drug) -> None:
    p = PersonFactors(years_on_drug=1, seizures=True)
    assert "risk.seizures" in codes(p, 15, [diazepam], rules)
    assert "risk.seizures_high_dose" in codes(p, 15.1, [diazepam], rules)
    assert "risk.older_adult" not in codes(PersonFactors(age=64, **LONG), 5, [diazepam], rules)
    assert "risk.very_high_dose" not in codes(PersonFactors(**LONG), 30, [diazepam], rules)


def test_older_adult_message_names_age(rules: RiskRules, diazepam: Drug) -> None:
    risk = assess_risk(PersonFactors(age=78, **LONG), 5, [diazepam], rules)
    (flag,) = risk.flags
    assert flag.message.startswith("Age 78 (65 or over)")
    assert set(flag.sources) == {"asam2025-rec27", "beers2023", "greenblatt2021"}


def test_opioid_flag_mentions_naloxone_and_breathing(rules: RiskRules, diazepam: Drug) -> None:
    (flag,) = assess_risk(PersonFactors(opioids=True, **LONG), 5, [diazepam], rules).flags
    assert "naloxone" in flag.message and "breathing" in flag.message
    assert "fda2016-opioid-bzd" in flag.sources


def test_polydrug_and_anticonvulsant(rules: RiskRules, diazepam: Drug) -> None:
    clonazepam = fake("clonazepam")
    risk = assess_risk(PersonFactors(**LONG), 12, [clonazepam, diazepam], rules)
    by_code = {f.code: f for f in risk.flags}
    assert "Clonazepam and Diazepam" in by_code["risk.polydrug"].message
    assert "epilepsy" in by_code["risk.anticonvulsant"].message
    assert risk.specialist_care and risk.recommended_pace == "slow"
    # the same drug at two times of day is not polydrug use
    assert "risk.polydrug" not in codes(PersonFactors(**LONG), 12, [diazepam, diazepam], rules)


def test_above_label_maximum_uses_daily_mg(rules: RiskRules, diazepam: Drug) -> None:
    person = PersonFactors(**LONG)
    assert "risk.above_label_maximum" not in codes(person, 45, [diazepam], rules)
    risk = assess_risk(person, 45, [diazepam], rules, daily_mg={"diazepam": 45})
    flag = next(f for f in risk.flags if f.code == "risk.above_label_maximum")
    assert flag.message.startswith("45 mg of diazepam a day is above its labelled maximum (40")
    assert flag.sources == [diazepam.max_daily_mg.source]
    ok = assess_risk(person, 40, [diazepam], rules, daily_mg={"diazepam": 40})
    assert "risk.above_label_maximum" not in {f.code for f in ok.flags}


def test_flags_sorted_danger_first(rules: RiskRules, diazepam: Drug) -> None:
    person = PersonFactors(age=80, opioids=True, sleep_apnoea=True)
    severities = [f.severity for f in assess_risk(person, 5, [diazepam], rules).flags]
    order = {"danger": 0, "caution": 1, "info": 2}
    assert severities == sorted(severities, key=order.__getitem__)
    assert severities[0] == "danger" and severities[-1] == "info"


# ----------------------------------------------------------------------------- loader


def test_every_rule_source_resolves(rules: RiskRules, catalogue: Catalogue) -> None:
    assert rules.source_keys() <= set(catalogue.references)
    assert len(rules.source_keys()) >= 10


def _write(tmp_path: Path, old: str, new: str) -> Path:
    text = (DATA_DIR / "rules" / "risk.toml").read_text()
    assert old in text
    path = tmp_path / "risk.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_loader_rejects_unknown_source(tmp_path: Path, catalogue: Catalogue) -> None:
    path = _write(tmp_path, 'source = "ni-formulary-bzd"', 'source = "no-such-ref"')
    with pytest.raises(CatalogueError, match=r"source 'no-such-ref' is not in references\.toml"):
        load_risk_rules(path, catalogue.references)


def test_loader_rejects_unknown_field(tmp_path: Path, catalogue: Catalogue) -> None:
    path = _write(tmp_path, "[pace]\n", "[pace]\nspeedy = true\n")
    with pytest.raises(CatalogueError, match=r"rules/risk\.toml: pace\.speedy: unknown field"):
        load_risk_rules(path, catalogue.references)


def test_loader_rejects_unknown_placeholder(tmp_path: Path, catalogue: Catalogue) -> None:
    path = _write(tmp_path, "{attempts} earlier", "{tries} earlier")
    with pytest.raises(CatalogueError, match="unknown placeholder"):
        load_risk_rules(path, catalogue.references)


def test_loader_rejects_missing_flag(tmp_path: Path, catalogue: Catalogue) -> None:
    path = _write(tmp_path, "[flags.liver]", "[flags.kidney]")
    with pytest.raises(CatalogueError, match=r"flags\.liver: Field required"):
        load_risk_rules(path, catalogue.references)
