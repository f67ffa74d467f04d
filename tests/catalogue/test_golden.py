"""Conversions against the published tables, copied here independently of the data files.

mg of each drug equal to 10 mg oral diazepam, per source, as in the clinical brief §3 (the UK
tables give values per 5 mg diazepam; they are doubled there). A tuple is a range as printed.
"""

from __future__ import annotations

import pytest

from benzotaper.catalogue import Catalogue
from benzotaper.conversion import convert

A, VA, NHS, SPS, WHO, MED = (
    "ashton2002",
    "vadod-asam2025-table7",
    "nhs-scotland2024",
    "sps-equivalents",
    "who2009",
    "medscape-equivalents",
)

Amount = float | tuple[float, float]

PUBLISHED: dict[str, dict[str, Amount]] = {
    "alprazolam": {A: 0.5, VA: 1, SPS: 0.5, WHO: 1, MED: (0.5, 1)},
    "bromazepam": {A: (5, 6), WHO: 6, MED: (3, 6)},
    "chlordiazepoxide": {A: 25, VA: 25, NHS: 25, SPS: 25, MED: (10, 25)},
    "clobazam": {A: 20, NHS: 20, SPS: 20, WHO: 20},
    "clonazepam": {A: 0.5, VA: 1, NHS: 0.5, MED: (0.25, 0.5)},
    "clorazepate": {A: 15, VA: 15, MED: (7.5, 15)},
    "estazolam": {A: (1, 2), VA: 1},
    "flunitrazepam": {A: 1, WHO: 2},
    "flurazepam": {A: (15, 30), VA: 15, MED: (15, 30)},
    "loprazolam": {A: (1, 2), NHS: (1, 2)},
    "lorazepam": {A: 1, VA: 2, NHS: 1, WHO: 1, MED: (1, 2)},
    "lormetazepam": {A: (1, 2), NHS: (1, 2), WHO: 1.5},
    "midazolam": {WHO: 5},
    "nitrazepam": {A: 10, NHS: 10, WHO: 10, MED: (2.5, 10)},
    "oxazepam": {A: 20, VA: 30, NHS: 20, WHO: 30, MED: (15, 30)},
    "quazepam": {A: 20, VA: 10, MED: (10, 20)},
    "temazepam": {A: 20, VA: 15, NHS: 20, WHO: 20, MED: (10, 20)},
    "triazolam": {A: 0.5, VA: 0.25, WHO: 0.5, MED: (0.25, 0.5)},
    "zolpidem": {A: 20, NHS: 20},
    "zopiclone": {A: 15, NHS: 15},
    # Ashton Table 1 only
    "diazepam": {A: 10},
    "halazepam": {A: 20},
    "ketazolam": {A: (15, 30)},
    "medazepam": {A: 10},
    "nordazepam": {A: 10},
    "prazepam": {A: (10, 20)},
    "zaleplon": {A: 20},
    "eszopiclone": {A: 3},
}

CASES = [(drug, src, amount) for drug, row in PUBLISHED.items() for src, amount in row.items()]


def test_every_drug_is_in_the_golden_table(catalogue: Catalogue) -> None:
    assert set(PUBLISHED) == set(catalogue.drugs)


@pytest.mark.parametrize("drug", sorted(PUBLISHED))
def test_data_gives_exactly_the_published_sources(catalogue: Catalogue, drug: str) -> None:
    given = {e.source for e in catalogue.drugs[drug].equivalents}
    if drug == "diazepam":  # the reference drug is 10 mg in every table
        assert A in given
        return
    assert given == set(PUBLISHED[drug])


@pytest.mark.parametrize(("drug", "source", "amount"), CASES)
def test_10mg_diazepam_converts_to_the_published_amount(
    catalogue: Catalogue, drug: str, source: str, amount: Amount
) -> None:
    result = convert(catalogue, "diazepam", 10, to=drug, source=source)
    expected = list(amount) if isinstance(amount, tuple) else amount
    assert result.by_source[source] == expected
    low, high = amount if isinstance(amount, tuple) else (amount, amount)
    assert result.dose_mg == pytest.approx((low + high) / 2)


@pytest.mark.parametrize(("drug", "source", "amount"), CASES)
def test_the_published_amount_converts_back_to_10mg_diazepam(
    catalogue: Catalogue, drug: str, source: str, amount: Amount
) -> None:
    low, high = amount if isinstance(amount, tuple) else (amount, amount)
    result = convert(catalogue, drug, (low + high) / 2, source=source)
    assert result.dose_mg == pytest.approx(10)
    assert result.source == source


@pytest.mark.parametrize(
    ("drug", "mg", "default_mg", "low", "high"),
    [
        # clonazepam 1 mg: Ashton/NHS 20 mg, VA/DoD 10 mg, Medscape 20-40 mg
        ("clonazepam", 1, 20, 10, 40),
        # alprazolam 1 mg: Ashton/SPS 20 mg, VA/WHO 10 mg, Medscape 10-20 mg
        ("alprazolam", 1, 20, 10, 20),
        # lorazepam 2 mg: Ashton/NHS/WHO 20 mg, VA/DoD 10 mg, Medscape 10-20 mg
        ("lorazepam", 2, 20, 10, 20),
    ],
)
def test_the_factor_of_two_disagreements_show_in_the_range(
    catalogue: Catalogue, drug: str, mg: float, default_mg: float, low: float, high: float
) -> None:
    result = convert(catalogue, drug, mg)
    assert result.source == "ashton2002"
    assert result.dose_mg == default_mg
    assert result.range_mg == (low, high)


def test_two_non_diazepam_drugs_convert_through_diazepam(catalogue: Catalogue) -> None:
    # Ashton: alprazolam 0.5 = 10 mg diazepam = lorazepam 1 mg
    result = convert(catalogue, "Xanax", 0.5, to="Ativan")
    assert result.dose_mg == 1
    assert result.diazepam_equivalent_mg == 10
    assert result.by_source["vadod-asam2025-table7"] == 1  # 1 mg alprazolam = 2 mg lorazepam


def test_midazolam_falls_back_to_who_and_says_so(catalogue: Catalogue) -> None:
    result = convert(catalogue, "midazolam", 7.5)
    assert result.source == "who2009"
    assert result.dose_mg == 15
    assert "ashton2002 gives no equivalent for Midazolam" in result.source_reason
