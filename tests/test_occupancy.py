from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from benzotaper.catalogue import default_catalogue
from benzotaper.occupancy import load_occupancy_model

MODEL = load_occupancy_model()


def test_assumption_is_labelled_and_sources_resolve() -> None:
    refs = default_catalogue().references
    assert MODEL.assumption
    for fact in (MODEL.emax_percent, MODEL.ed50_mg, MODEL.hill):
        assert fact.source in refs
        assert fact.unverified


def test_matches_the_derivation_eighty_percent_at_four_mg() -> None:
    assert abs(MODEL.occupancy(4.0) - 80.0) < 1e-9
    assert MODEL.occupancy(0) == 0


@given(st.floats(min_value=0.001, max_value=500))
def test_inverse_round_trip(dose: float) -> None:
    occ = MODEL.occupancy(dose)
    assert abs(MODEL.dose_for(occ) - dose) <= 1e-6 * max(1.0, dose)


def test_override_changes_the_curve_and_is_labelled() -> None:
    m = MODEL.with_overrides(ed50_mg=2.0)
    assert m.ed50_mg.source == "user-override"
    assert abs(m.occupancy(2.0) - 50.0) < 1e-9
