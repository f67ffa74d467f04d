"""RxNorm and dm+d codes on the catalogue's products: present, unique, sourced, plausible."""

from __future__ import annotations

import pytest

from benzotaper.catalogue import Catalogue, Form, Product
from benzotaper.catalogue.codes import DMD, RXNORM, SNOMED, product_by_code
from benzotaper.catalogue.loader import check_codes_unique
from benzotaper.errors import CatalogueError

#: How dm+d names each form at the end of a VMP name (before "sugar free", if any).
DMD_FORM = {
    Form.TABLET: " tablets",
    Form.CAPSULE: " capsules",
    Form.ORAL_SOLUTION: " oral solution",
    Form.ORAL_SUSPENSION: " oral suspension",
}


def dmd_strength(product: Product) -> str:
    """How dm+d writes a strength: "500microgram" or "2.5mg" a unit, "500micrograms/5ml" or
    "2mg/5ml" for a liquid (per 5 ml)."""
    if product.mg_per_ml is not None:
        per_5ml = product.mg_per_ml * 5
        return f"{per_5ml * 1000:g}micrograms/5ml" if per_5ml < 1 else f"{per_5ml:g}mg/5ml"
    mg = product.strength_mg or 0
    return f"{mg * 1000:g}microgram" if mg < 1 else f"{mg:g}mg"


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


def test_every_uk_product_has_its_dmd_code(catalogue: Catalogue) -> None:
    missing = [(d.id, p.label) for d in catalogue for p in d.products_in("uk") if p.dmd is None]
    assert missing == []


def test_no_code_names_two_products(catalogue: Catalogue) -> None:
    seen = [p.code.code for d in catalogue for p in d.products if p.code is not None]
    assert len(seen) == len(set(seen)) == 100  # 69 RxNorm, 31 dm+d
    every = [c for d in catalogue for p in d.products if p.code for c in p.code.all_codes]
    assert len(every) == len(set(every)) == 100 + 23  # 23 dm+d VMPs also have an earlier id
    check_codes_unique(catalogue.drugs)  # the loader's own check passes too


def test_a_duplicated_code_is_refused(catalogue: Catalogue) -> None:
    lorazepam = catalogue.drugs["lorazepam"]
    second = lorazepam.products[1].model_copy(update={"rxnorm": lorazepam.products[0].rxnorm})
    broken = lorazepam.model_copy(update={"products": [lorazepam.products[0], second]})
    with pytest.raises(CatalogueError, match="code 197900 is already used by"):
        check_codes_unique({"lorazepam": broken})


def test_a_previous_code_used_elsewhere_is_refused(catalogue: Catalogue) -> None:
    lorazepam = catalogue.drugs["lorazepam"]
    one, two = lorazepam.products_in("uk")
    assert one.dmd is not None and two.dmd is not None
    clash = two.dmd.model_copy(update={"previous": (one.dmd.code,)})
    broken = lorazepam.model_copy(update={"products": [one, two.model_copy(update={"dmd": clash})]})
    with pytest.raises(CatalogueError, match=f"code {one.dmd.code} is already used by"):
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


def test_each_dmd_name_matches_the_product(catalogue: Catalogue) -> None:
    """The dm+d VMP name carries the ingredient, strength (per 5 ml for a liquid) and form: a
    code copied onto the wrong row, or a pack (VMPP/AMPP: "... 28 tablet"), shows here."""
    checked = 0
    for drug in catalogue:
        for p in drug.products_in("uk"):
            assert p.dmd is not None
            name = p.dmd.display
            assert name.startswith(f"{drug.name} {dmd_strength(p)} "), (name, p.label)
            assert name.removesuffix(" sugar free").endswith(DMD_FORM[p.form]), (name, p.form)
            checked += 1
    assert checked == 31


def test_products_are_found_by_code(catalogue: Catalogue) -> None:
    found = product_by_code(catalogue, RXNORM, "197901")
    assert found is not None
    assert (found.drug.id, found.product.label) == ("lorazepam", "1 mg tablet")
    assert found.unverified
    assert product_by_code(catalogue, RXNORM, "0000") is None
    assert product_by_code(catalogue, DMD, "197901") is None  # codes belong to one system
    assert product_by_code(catalogue, SNOMED, "197901") is None


@pytest.mark.parametrize(
    ("system", "code"),
    [(DMD, "42131511000001102"), (SNOMED, "42131511000001102"), (DMD, "321294008")],
)
def test_uk_products_are_found_by_current_or_earlier_dmd_id(
    catalogue: Catalogue, system: str, code: str
) -> None:
    """dm+d gave Lorazepam 1mg tablets a new VMP id; records made before still carry 321294008."""
    found = product_by_code(catalogue, system, code)
    assert found is not None
    assert (found.drug.id, found.product.label, found.code) == ("lorazepam", "1 mg tablet", code)
    assert found.system == DMD and found.display == "Lorazepam 1mg tablets"
    assert product_by_code(catalogue, RXNORM, code) is None
