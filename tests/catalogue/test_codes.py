"""RxNorm and dm+d codes on the catalogue's products: present, unique, sourced, plausible."""

from __future__ import annotations

import pytest

from benzotaper.catalogue import Catalogue, Form
from benzotaper.catalogue.codes import DMD, RXNORM, SNOMED, product_by_code
from benzotaper.catalogue.loader import check_codes_unique
from benzotaper.errors import CatalogueError

#: UK products with no dm+d code yet. No dm+d VMP/AMP id for these could be read at a source
#: that can be cited (the dm+d browser and TRUD were not reachable); they are a known gap, not
#: guessed. Remove a line when its code is added; a new UK product must come with its code.
UK_WITHOUT_DMD = {
    ("alprazolam", "0.25 mg tablet"), ("alprazolam", "0.5 mg tablet"),
    ("chlordiazepoxide", "5 mg capsule"), ("chlordiazepoxide", "10 mg capsule"),
    ("clobazam", "10 mg tablet"), ("clobazam", "1 mg/mL oral suspension"),
    ("clonazepam", "0.5 mg tablet"), ("clonazepam", "2 mg tablet"),
    ("clonazepam", "0.1 mg/mL oral solution"), ("clonazepam", "0.4 mg/mL oral solution"),
    ("diazepam", "2 mg tablet"), ("diazepam", "5 mg tablet"), ("diazepam", "10 mg tablet"),
    ("diazepam", "0.4 mg/mL oral suspension"), ("diazepam", "1 mg/mL oral suspension"),
    ("loprazolam", "1 mg tablet"),
    ("lorazepam", "1 mg tablet"), ("lorazepam", "2.5 mg tablet"),
    ("lormetazepam", "0.5 mg tablet"), ("lormetazepam", "1 mg tablet"),
    ("nitrazepam", "5 mg tablet"), ("nitrazepam", "0.5 mg/mL oral suspension"),
    ("oxazepam", "10 mg tablet"), ("oxazepam", "15 mg tablet"),
    ("temazepam", "2 mg/mL oral solution"), ("temazepam", "10 mg tablet"),
    ("temazepam", "20 mg tablet"),
    ("zolpidem", "5 mg tablet"), ("zolpidem", "10 mg tablet"),
    ("zopiclone", "3.75 mg tablet"), ("zopiclone", "7.5 mg tablet"),
}  # fmt: skip

#: How RxNorm names each form in a clinical drug's name.
RXNORM_FORM = {
    Form.TABLET: " Oral Tablet",
    Form.ODT: " Disintegrating Oral Tablet",
    Form.CAPSULE: " Oral Capsule",
    Form.ORAL_SOLUTION: " Oral Solution",
    Form.ORAL_SUSPENSION: " Oral Suspension",
    Form.ER_TABLET: " Extended Release Oral Tablet",
    Form.ER_CAPSULE: " Extended Release Oral Capsule",
    Form.SUBLINGUAL_TABLET: " Sublingual Tablet",
}


def test_every_us_product_has_its_rxnorm_code(catalogue: Catalogue) -> None:
    missing = [(d.id, p.label) for d in catalogue for p in d.products_in("us") if p.rxnorm is None]
    assert missing == []


def test_uk_products_without_a_dmd_code_are_exactly_the_listed_gap(catalogue: Catalogue) -> None:
    without = {(d.id, p.label) for d in catalogue for p in d.products_in("uk") if p.dmd is None}
    assert without == UK_WITHOUT_DMD


def test_no_code_names_two_products(catalogue: Catalogue) -> None:
    seen = [p.code.code for d in catalogue for p in d.products if p.code is not None]
    assert len(seen) == len(set(seen)) == 69
    check_codes_unique(catalogue.drugs)  # the loader's own check passes too


def test_a_duplicated_code_is_refused(catalogue: Catalogue) -> None:
    lorazepam = catalogue.drugs["lorazepam"]
    second = lorazepam.products[1].model_copy(update={"rxnorm": lorazepam.products[0].rxnorm})
    broken = lorazepam.model_copy(update={"products": [lorazepam.products[0], second]})
    with pytest.raises(CatalogueError, match="code 197900 is already used by"):
        check_codes_unique({"lorazepam": broken})


def test_every_code_is_sourced_and_unchecked_codes_say_so(catalogue: Catalogue) -> None:
    for drug in catalogue:
        for product in drug.products:
            code = product.code
            if code is None:
                continue
            assert code.source in catalogue.references
            # Every code so far was read in a published value set, not at RxNav itself.
            assert code.unverified, (drug.id, product.label)


@pytest.mark.parametrize("market", ["us"])
def test_each_rxnorm_name_matches_the_product(catalogue: Catalogue, market: str) -> None:
    """The RxNorm name carries the product's ingredient, strength and form: a code copied onto
    the wrong row shows here."""
    for drug in catalogue:
        for p in drug.products_in(market):
            assert p.rxnorm is not None
            name = p.rxnorm.display
            strength = p.mg_per_ml if p.mg_per_ml is not None else p.strength_mg
            unit = "MG/ML" if p.mg_per_ml is not None else "MG"
            assert name.lower().startswith((drug.id, f"24 hr {drug.id}")), name
            assert f" {strength:g} {unit} " in name + " ", (name, strength)
            assert name.endswith(RXNORM_FORM[p.form]), (name, p.form)
            if p.form is Form.TABLET:
                assert "Disintegrating" not in name and "Extended" not in name


def test_products_are_found_by_code(catalogue: Catalogue) -> None:
    found = product_by_code(catalogue, RXNORM, "197901")
    assert found is not None
    assert (found.drug.id, found.product.label) == ("lorazepam", "1 mg tablet")
    assert found.unverified
    assert product_by_code(catalogue, RXNORM, "0000") is None
    assert product_by_code(catalogue, DMD, "197901") is None  # codes belong to one system
    assert product_by_code(catalogue, SNOMED, "197901") is None
