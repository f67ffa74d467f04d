"""`plan --home-liquid / --scale` (issue 12): the refusal with its reason and status 2, the
recipe and accuracy band of each home dose, and the flag that switches the route off."""

from __future__ import annotations

from tests.cli import run_cli

LORAZEPAM = ["plan", "--take", "lorazepam 1 mg at 22:00"]


def test_home_liquid_for_lorazepam_in_water_is_refused_with_status_2() -> None:
    r = run_cli(*LORAZEPAM, "--home-liquid")
    assert r.returncode == 2
    assert "insoluble in water" in r.stderr + r.stdout


def test_scale_prints_each_home_dose_its_band_and_the_caution() -> None:
    r = run_cli(*LORAZEPAM, "--scale", "--tablet-weight", "120", env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "weigh 24 mg of the powder" in out and "MADE AT HOME" in out
    assert "not licensed methods" in out and "prescriber's agreement" in out
    assert "Switch it off: plan without --scale." in out
    assert "scale for lorazepam (asked for)" in out
