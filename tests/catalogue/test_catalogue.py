from __future__ import annotations

import pytest

from benzotaper.catalogue import Catalogue, iter_sourced
from benzotaper.errors import UnknownDrugError


def test_every_sourced_fact_resolves(catalogue: Catalogue) -> None:
    count = 0
    for drug in catalogue:
        for where, fact in iter_sourced(drug):
            assert fact.source in catalogue.references, f"{drug.id}.{where}"
            count += 1
        for product in drug.products:
            assert product.source in catalogue.references, f"{drug.id} {product.label}"
    assert count > len(catalogue)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("Valium", "diazepam"), ("DIAZEPAM", "diazepam"), ("diazapam", "diazepam")],
)
def test_find_by_generic_brand_or_misspelling(
    catalogue: Catalogue, typed: str, expected: str
) -> None:
    assert catalogue.drug(typed).id == expected


def test_unknown_drug_suggests_close_names(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownDrugError) as exc:
        catalogue.drug("diazepma")
    assert "diazepam" in exc.value.suggestions
    assert "Did you mean: diazepam" in str(exc.value)


def test_unknown_drug_without_any_match(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownDrugError) as exc:
        catalogue.drug("paracetamol")
    assert exc.value.suggestions == []


def test_citation_reads_cleanly(catalogue: Catalogue) -> None:
    text = catalogue.reference("vadod-asam2025-table7").citation()
    assert "et al.. " not in text
    assert text.startswith("VA/DoD, as printed in Brunner E, et al. Joint Clinical")
    assert text.endswith("doi:10.1007/s11606-025-09499-2")
