"""The shipped catalogue: every Ashton Table 1 drug, its sources, flags and products."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from benzotaper.catalogue import (
    Catalogue,
    DrugClass,
    Form,
    Product,
    Split,
    iter_sourced,
    provenance,
)

ASHTON_TABLE_1 = [
    "alprazolam", "bromazepam", "chlordiazepoxide", "clobazam", "clonazepam", "clorazepate",
    "diazepam", "estazolam", "flunitrazepam", "flurazepam", "halazepam", "ketazolam",
    "loprazolam", "lorazepam", "lormetazepam", "medazepam", "nitrazepam", "nordazepam",
    "oxazepam", "prazepam", "quazepam", "temazepam", "triazolam", "zaleplon", "zolpidem",
    "zopiclone", "eszopiclone",
]  # fmt: skip


def test_every_ashton_drug_and_oral_midazolam_is_present(catalogue: Catalogue) -> None:
    assert len(ASHTON_TABLE_1) == 27
    assert sorted(catalogue.drugs) == sorted([*ASHTON_TABLE_1, "midazolam"])


@pytest.mark.parametrize("drug_id", ASHTON_TABLE_1)
def test_every_ashton_drug_has_an_ashton_equivalent(catalogue: Catalogue, drug_id: str) -> None:
    assert catalogue.drugs[drug_id].equivalent("ashton2002") is not None


def test_z_drugs_are_classed_as_such(catalogue: Catalogue) -> None:
    z = {d.id for d in catalogue if d.drug_class is DrugClass.Z_DRUG}
    assert z == {"zaleplon", "zolpidem", "zopiclone", "eszopiclone"}


def test_every_fact_and_product_source_resolves(catalogue: Catalogue) -> None:
    for drug in catalogue:
        facts = list(iter_sourced(drug))
        assert facts, drug.id
        for where, fact in facts:
            assert fact.source in catalogue.references, f"{drug.id}.{where}"
        for product in drug.products:
            assert product.source in catalogue.references, f"{drug.id} {product.label}"


@pytest.mark.parametrize(
    ("drug_id", "market"),
    [("bromazepam", "us"), ("bromazepam", "uk"), ("zopiclone", "us"), ("nitrazepam", "us"),
     ("estazolam", "uk"), ("flunitrazepam", "us")],
)  # fmt: skip
def test_a_market_without_products_is_explained(
    catalogue: Catalogue, drug_id: str, market: str
) -> None:
    drug = catalogue.drugs[drug_id]
    assert drug.products_in(market) == []  # type: ignore[arg-type]
    assert drug.note and "Not marketed in the" in drug.note


def _products(catalogue: Catalogue, drug_id: str, market: str) -> set[tuple[str, float, str]]:
    return {
        (p.form.value, p.strength_mg or p.mg_per_ml or 0, p.split.value)
        for p in catalogue.drugs[drug_id].products_in(market)  # type: ignore[arg-type]
    }


def test_lorazepam_products(catalogue: Catalogue) -> None:
    us = _products(catalogue, "lorazepam", "us")
    assert {("tablet", 0.5, "none"), ("tablet", 1, "half"), ("tablet", 2, "half")} <= us
    assert ("oral_solution", 2, "none") in us
    # Loreev XR: four strengths, 1.5 mg included (DailyMed lists four NDCs)
    er = {s for form, s, _ in us if form == "extended_release_capsule"}
    assert er == {1, 1.5, 2, 3}
    assert _products(catalogue, "lorazepam", "uk") == {
        ("tablet", 1, "none"),
        ("tablet", 2.5, "half"),
    }


def test_clonazepam_products(catalogue: Catalogue) -> None:
    us = _products(catalogue, "clonazepam", "us")
    assert {("tablet", s, "half") for s in (0.5, 1, 2)} <= us
    odt = {s for form, s, _ in us if form == "orally_disintegrating_tablet"}
    assert odt == {0.125, 0.25, 0.5, 1, 2}
    uk = _products(catalogue, "clonazepam", "uk")
    assert {("tablet", 0.5, "none"), ("tablet", 2, "none")} <= uk
    # 500 micrograms/5 mL and 2 mg/5 mL
    assert {("oral_solution", 0.1, "none"), ("oral_solution", 0.4, "none")} <= uk


def test_zolpidem_and_zopiclone_products(catalogue: Catalogue) -> None:
    us = _products(catalogue, "zolpidem", "us")
    assert {("tablet", 5, "none"), ("tablet", 10, "none")} <= us
    assert {
        ("extended_release_tablet", 6.25, "none"),
        ("extended_release_tablet", 12.5, "none"),
    } <= us
    # sublingual tablets (Edluar 10 mg; the 3.5 mg generic of Intermezzo) are never split
    assert {("sublingual_tablet", 10, "none"), ("sublingual_tablet", 3.5, "none")} <= us
    assert {s for _, s, _ in _products(catalogue, "zolpidem", "uk")} == {5, 10}
    assert {s for _, s, _ in _products(catalogue, "zopiclone", "uk")} == {3.75, 7.5}


def test_extended_release_and_capsules_are_never_split(catalogue: Catalogue) -> None:
    seen = 0
    for drug in catalogue:
        for p in drug.products:
            never = (Form.CAPSULE, Form.ER_CAPSULE, Form.ER_TABLET, Form.SUBLINGUAL_TABLET)
            if p.form in never or p.form.is_liquid:
                assert p.split is Split.NONE, f"{drug.id} {p.label}"
                seen += 1
    assert seen > 10


# Facts tagged [U] in the clinical brief must carry unverified = true; [V] ones must not.
@pytest.mark.parametrize(
    ("drug_id", "market", "form", "amount"),
    [
        ("alprazolam", "us", Form.ORAL_SOLUTION, 1),
        ("alprazolam", "uk", Form.TABLET, 0.25),
        ("clorazepate", "us", Form.TABLET, 15),  # strength read, scoring not
        ("estazolam", "us", Form.TABLET, 2),
    ],
)
def test_unverified_facts_are_flagged(
    catalogue: Catalogue, drug_id: str, market: str, form: Form, amount: float
) -> None:
    (product,) = [
        p
        for p in catalogue.drugs[drug_id].products_in(market)  # type: ignore[arg-type]
        if p.form is form and (p.strength_mg or p.mg_per_ml) == amount
    ]
    assert product.unverified


def test_verified_facts_are_not_flagged(catalogue: Catalogue) -> None:
    for p in catalogue.drugs["lorazepam"].products_in("us"):
        if p.form is Form.TABLET:
            assert not p.unverified
    assert not catalogue.drugs["lorazepam"].max_daily_mg.unverified
    assert catalogue.drugs["nordazepam"].max_daily_mg.unverified  # derived, not published


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("Klonopin", "clonazepam"), ("klonopan", "clonazepam"), ("xanex", "alprazolam"),
     ("Xanax XR", "alprazolam"), ("Ativan", "lorazepam"), ("ambian", "zolpidem"),
     ("Zimovane", "zopiclone"), ("Restoril", "temazepam"), ("Librium", "chlordiazepoxide"),
     ("Mogadon", "nitrazepam"), ("Lunesta", "eszopiclone"), ("Rivotril", "clonazepam")],
)  # fmt: skip
def test_brands_and_misspellings_resolve(catalogue: Catalogue, typed: str, expected: str) -> None:
    assert catalogue.drug(typed).id == expected


def test_ranges_are_ranges(catalogue: Catalogue) -> None:
    eq = catalogue.drugs["bromazepam"].equivalent("ashton2002")
    assert eq is not None and (eq.low, eq.high) == (5, 6)


# Checked at a cited source in the 2026-11 verification pass (see references.toml notes).
@pytest.mark.parametrize(
    ("drug_id", "market", "form", "amount", "split"),
    [
        ("alprazolam", "us", Form.TABLET, 0.25, Split.HALF),
        ("alprazolam", "us", Form.TABLET, 0.5, Split.HALF),
        ("alprazolam", "us", Form.TABLET, 1, Split.HALF),
        ("alprazolam", "us", Form.TABLET, 2, Split.QUARTER),
        ("lorazepam", "us", Form.ER_CAPSULE, 1.5, Split.NONE),
        ("clobazam", "us", Form.TABLET, 10, Split.HALF),
        ("clobazam", "us", Form.ORAL_SUSPENSION, 2.5, Split.NONE),
        ("temazepam", "uk", Form.TABLET, 10, Split.NONE),
        ("zolpidem", "uk", Form.TABLET, 10, Split.NONE),
        ("zolpidem", "us", Form.SUBLINGUAL_TABLET, 10, Split.NONE),
        ("clorazepate", "us", Form.TABLET, 3.75, Split.HALF),
        ("estazolam", "us", Form.TABLET, 1, Split.HALF),
        ("oxazepam", "us", Form.CAPSULE, 30, Split.NONE),
        ("oxazepam", "uk", Form.TABLET, 15, Split.NONE),
        ("nitrazepam", "uk", Form.ORAL_SUSPENSION, 0.5, Split.NONE),
        ("chlordiazepoxide", "uk", Form.CAPSULE, 5, Split.NONE),
        ("quazepam", "us", Form.TABLET, 15, Split.HALF),  # label: split for 7.5 mg
        ("triazolam", "us", Form.TABLET, 0.25, Split.HALF),
        ("triazolam", "us", Form.TABLET, 0.125, Split.NONE),
        ("loprazolam", "uk", Form.TABLET, 1, Split.HALF),  # SmPC: half a tablet for the frail
        ("midazolam", "us", Form.ORAL_SOLUTION, 2, Split.NONE),
    ],
)
def test_products_checked_at_a_source(
    catalogue: Catalogue, drug_id: str, market: str, form: Form, amount: float, split: Split
) -> None:
    (product,) = [
        p
        for p in catalogue.drugs[drug_id].products_in(market)  # type: ignore[arg-type]
        if p.form is form and (p.strength_mg or p.mg_per_ml) == amount
    ]
    assert not product.unverified
    assert product.split is split
    assert catalogue.references[product.source].url


@pytest.mark.parametrize(
    ("drug_id", "maximum"),
    [
        ("alprazolam", 10),
        ("clonazepam", 20),
        ("diazepam", 40),
        ("temazepam", 30),
        ("oxazepam", 120),
        ("triazolam", 0.5),
        ("eszopiclone", 3),
        ("zaleplon", 20),
    ],
)
def test_maxima_checked_at_a_source(catalogue: Catalogue, drug_id: str, maximum: float) -> None:
    mx = catalogue.drugs[drug_id].max_daily_mg
    assert (mx.high, mx.unverified) == (maximum, False)


def test_a_sublingual_tablet_can_never_be_marked_splittable() -> None:
    with pytest.raises(ValidationError, match="must never be split"):
        Product(market="us", form=Form.SUBLINGUAL_TABLET, strength_mg=10, split=Split.HALF,
                source="us-edluar")  # fmt: skip


def test_provenance_counts_every_fact_once(catalogue: Catalogue) -> None:
    verified = unverified = 0
    for drug in catalogue:
        counts = provenance(drug)
        flagged = [w for w, f in iter_sourced(drug) if f.unverified]
        flagged += [f"products[{i}]" for i, p in enumerate(drug.products) if p.unverified]
        assert list(counts.unverified_paths) == flagged
        assert counts.total == len(list(iter_sourced(drug))) + len(drug.products)
        verified += counts.verified
        unverified += counts.unverified
    assert provenance(catalogue.drugs["lorazepam"]).unverified == 0
    assert "max_daily_mg" in provenance(catalogue.drugs["nordazepam"]).unverified_paths
    # the verification pass left most facts checked; this fails if flags creep back in bulk
    assert unverified < verified / 3


def test_quazepam_lists_only_the_marketed_15_mg_tablet(catalogue: Catalogue) -> None:
    # The current Doral label makes 7.5 mg by splitting the 15 mg tablet; no 7.5 mg tablet is sold.
    assert _products(catalogue, "quazepam", "us") == {("tablet", 15, "half")}
