from __future__ import annotations

import pytest

from benzotaper.catalogue import Catalogue
from benzotaper.doses import check_plausible, parse_dose
from benzotaper.errors import DoseError


@pytest.mark.parametrize(
    ("text", "mg"),
    [("1mg", 1.0), ("0.5 mg", 0.5), ("500mcg", 0.5), ("250 µg", 0.25), (".5mg", 0.5)],
)
def test_parse_dose(text: str, mg: float) -> None:
    assert parse_dose(text) == pytest.approx(mg)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1", "no unit"),
        ("0 mg", "more than zero"),
        ("-1 mg", "more than zero"),
        ("5 ml", "volume"),
        ("2 tablets", "counts tablets"),
        ("2 kg", "Unknown unit"),
        ("0,5 mg", "decimal point"),
        ("lots", "Cannot read"),
    ],
)
def test_bad_doses_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(DoseError, match=message):
        parse_dose(text)


def test_grams_are_caught_as_a_unit_mistake(catalogue: Catalogue) -> None:
    drug = catalogue.drug("diazepam")
    with pytest.raises(DoseError, match=r"Did you mean 2 mg"):
        check_plausible(drug, parse_dose("2 g"), "2 g")
