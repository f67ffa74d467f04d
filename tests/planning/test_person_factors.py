"""Person factors declared once: every field's CLI flag reaches the request, raises its sourced
flag, and the guideline's added factors (substance use, opioid agonist treatment, complicated
withdrawal, suicidality, other sedatives, PDMP) say what the guideline says."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.cli import run_cli

from benzotaper.catalogue import Catalogue, Drug
from benzotaper.planning.factors import number_factors, person_factors, yes_no_factors
from benzotaper.planning.models import PersonFactors
from benzotaper.planning.risk import assess_risk, default_risk_rules

REGIMEN = ["--take", "diazepam 5 mg at 08:00", "--take", "diazepam 5 mg at 22:00"]
#: The flag a yes/no factor raises (pdmp_checked: its absence raises the reminder).
RAISES = {
    "seizures": "risk.seizures",
    "complicated_withdrawal": "risk.complicated_withdrawal",
    "alcohol": "risk.alcohol",
    "other_substance_use": "risk.other_substance_use",
    "opioids": "risk.opioids",
    "opioid_agonist_treatment": "risk.opioid_agonist_treatment",
    "other_sedatives": "risk.other_sedatives",
    "suicidality": "risk.suicidality",
    "pregnant": "risk.pregnancy",
    "breastfeeding": "risk.breastfeeding",
    "psychiatric": "risk.psychiatric",
    "bipolar": "risk.bipolar",
    "liver_impairment": "risk.liver",
    "sleep_apnoea": "risk.sleep_apnoea",
    "falls": "risk.falls",
    "dementia": "risk.dementia",
}


def plan(*args: str, command: str = "plan") -> Any:
    extra = ["--start", "2027-01-04", "--format", "json"] if command == "plan" else ["--json"]
    result = run_cli(command, *REGIMEN, *args, *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def codes(flags: list[dict[str, Any]]) -> set[str]:
    return {f["code"] for f in flags}


def test_every_field_is_declared_once_with_flag_label_and_description() -> None:
    factors = person_factors()
    assert [f.name for f in factors] == list(PersonFactors.model_fields)
    flags = [flag for f in factors for flag in f.flags]
    assert len(flags) == len(set(flags))
    for factor in factors:
        assert factor.label and factor.description and factor.flag.startswith("--")
    assert set(RAISES) | {"pdmp_checked"} == {f.name for f in yes_no_factors()}


def test_help_lists_every_factor_flag() -> None:
    for command in ("plan", "compare"):
        result = run_cli(command, "--help", env={"COLUMNS": "250"})
        for factor in person_factors():
            for flag in factor.flags:
                assert flag in result.stdout, (command, flag)


@pytest.mark.parametrize("factor", yes_no_factors(), ids=lambda f: f.name)
def test_every_yes_no_flag_reaches_the_request_and_the_risk(
    factor: Any, catalogue: Catalogue
) -> None:
    base = plan("--years", "2")
    data = plan("--years", "2", factor.flag)
    assert data["request"]["person"][factor.name] is True
    assert base["request"]["person"][factor.name] is False
    if factor.name == "pdmp_checked":
        assert "risk.pdmp_reminder" in codes(base["risk"]["flags"])
        assert "risk.pdmp_reminder" not in codes(data["risk"]["flags"])
        return
    code = RAISES[factor.name]
    assert code in codes(data["risk"]["flags"]) and code not in codes(base["risk"]["flags"])
    raised = next(f for f in data["warnings"] if f["code"] == code)  # warnings are never lost
    assert raised["sources"] and set(raised["sources"]) <= set(catalogue.references)


@pytest.mark.parametrize("factor", number_factors(), ids=lambda f: f.name)
def test_every_number_flag_reaches_the_request_and_is_bounded(factor: Any) -> None:
    value = f"{factor.maximum:g}"
    assert plan(factor.flag, value)["request"]["person"][factor.name] == float(value)
    too_big = f"{factor.maximum + 1:g}"
    result = run_cli("plan", *REGIMEN, factor.flag, too_big)
    assert result.returncode == 2
    assert f"{factor.flag}: Input should be less than or equal to" in result.stderr


def test_compare_takes_the_same_factors() -> None:
    rows = plan("--suicidality", "--opioid-agonist-treatment", command="compare")
    assert rows and all(r["error"] is None and r["metrics"] for r in rows)


# ----------------------------------------------------------------------------- the new flags


@pytest.fixture(scope="module")
def diazepam(catalogue: Catalogue) -> Drug:
    return catalogue.drug("diazepam")


def raised(diazepam: Drug, **person: Any) -> dict[str, Any]:
    risk = assess_risk(
        PersonFactors(years_on_drug=2, pdmp_checked=True, **person),
        10,
        [diazepam],
        default_risk_rules(),
    )
    return {"risk": risk, "codes": {f.code for f in risk.flags}}


@pytest.mark.parametrize(
    ("factor", "code", "severity", "specialist", "slow"),
    [
        ("complicated_withdrawal", "risk.complicated_withdrawal", "danger", True, True),
        ("suicidality", "risk.suicidality", "danger", True, True),
        ("other_substance_use", "risk.other_substance_use", "caution", True, True),
        ("opioid_agonist_treatment", "risk.opioid_agonist_treatment", "caution", False, False),
        ("other_sedatives", "risk.other_sedatives", "caution", False, False),
    ],
)
def test_added_factors(
    diazepam: Drug, factor: str, code: str, severity: str, specialist: bool, slow: bool
) -> None:
    plain = raised(diazepam)
    got = raised(diazepam, **{factor: True})
    flag = next(f for f in got["risk"].flags if f.code == code)
    assert flag.severity == severity
    assert got["risk"].specialist_care is specialist
    assert (got["risk"].recommended_pace == "slow") is (
        slow or plain["risk"].recommended_pace == "slow"
    )


def test_buprenorphine_or_methadone_is_an_opioid_and_is_not_to_be_disrupted(
    diazepam: Drug,
) -> None:
    got = raised(diazepam, opioid_agonist_treatment=True)
    assert {"risk.opioids", "risk.opioid_agonist_treatment"} <= got["codes"]
    message = next(f for f in got["risk"].flags if f.code == "risk.opioid_agonist_treatment")
    assert "disrupt" in message.message and "asam2025-rec19-23" in message.sources


def test_suicidality_gives_crisis_numbers_and_inpatient_consideration(diazepam: Drug) -> None:
    flag = next(
        f for f in raised(diazepam, suicidality=True)["risk"].flags if f.code == "risk.suicidality"
    )
    assert "988" in flag.message and "999" in flag.message and "inpatient" in flag.message
    assert "asam2025-rec5" in flag.sources


def test_other_sedatives_cite_the_fda_gabapentinoid_warning(diazepam: Drug) -> None:
    flag = next(
        f
        for f in raised(diazepam, other_sedatives=True)["risk"].flags
        if f.code == "risk.other_sedatives"
    )
    assert "gabapentin" in flag.message and "fda2019-gabapentinoids" in flag.sources


def test_pdmp_reminder_is_for_the_prescriber_and_quiet_once_checked(diazepam: Drug) -> None:
    risk = assess_risk(PersonFactors(years_on_drug=2), 10, [diazepam], default_risk_rules())
    reminder = next(f for f in risk.flags if f.code == "risk.pdmp_reminder")
    assert reminder.severity == "info" and reminder.sources == ["asam2025-rec1"]
    assert "risk.pdmp_reminder" not in raised(diazepam)["codes"]
