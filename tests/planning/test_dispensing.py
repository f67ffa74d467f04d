"""Doses that can really be taken: the exact optimiser against brute force, and pill counts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benzotaper.catalogue import Catalogue, Drug, Form, Split
from benzotaper.errors import UnknownProductError
from benzotaper.planning.dispensing import (
    Formulary,
    MakeUp,
    achievable_doses,
    compounded_step_mg,
    dispense,
    formulary,
    make_up,
    syringe_ml,
)
from benzotaper.planning.models import Dose, Piece, Step

NG = 1_000_000


def fake_drug(products: list[dict[str, Any]], drug_id: str = "testazepam") -> Drug:
    return Drug.model_validate(
        {
            "id": drug_id,
            "name": drug_id.capitalize(),
            "class": "benzodiazepine",
            "uses": ["anxiolytic"],
            "max_daily_mg": {"value": 40, "source": "test"},
            "equivalents": [{"value": 1, "source": "test"}],
            "products": [{"market": "us", "source": "test", **p} for p in products],
        }
    )


# ----------------------------------------------------------------------------- brute force

SOLID_STRENGTHS = [0.125, 0.25, 0.5, 1, 2, 2.5, 3, 4, 5, 7.5, 10, 15]
LIQUID_STRENGTHS = [0.1, 0.4, 1, 2, 5]


@st.composite
def formularies(draw: st.DrawFn) -> Formulary:
    products: list[dict[str, Any]] = []
    for strength in draw(st.lists(st.sampled_from(SOLID_STRENGTHS), max_size=3, unique=True)):
        form = draw(st.sampled_from(["tablet", "orally_disintegrating_tablet", "capsule"]))
        split = "none" if form == "capsule" else draw(st.sampled_from(["none", "half", "quarter"]))
        products.append({"form": form, "strength_mg": strength, "split": split})
    liquid = draw(st.booleans())
    for conc in draw(st.lists(st.sampled_from(LIQUID_STRENGTHS), max_size=2, unique=True)):
        products.append({"form": "oral_solution", "mg_per_ml": conc})
    compounded = draw(st.booleans())
    if not any(p["form"] != "oral_solution" for p in products) and not liquid:
        products.append({"form": "tablet", "strength_mg": 1, "split": "half"})
    if not products:
        products.append({"form": "tablet", "strength_mg": 1, "split": "half"})
    f = formulary(fake_drug(products), "us", liquid=liquid, compounded=compounded)
    # shrink the piece and volume policy so brute force stays small
    return dataclasses.replace(
        f,
        max_pieces=draw(st.integers(1, 4)),
        max_liquid_ml=draw(st.sampled_from([0.5, 1.0, 2.0])),
        compounded_max_mg=(
            None if f.compounded_step_mg is None else min(f.compounded_max_mg or 0, 2.0)
        ),
    )


def brute_force_best(target_ng: int, f: Formulary) -> tuple[int, int, int, int]:
    """Enumerate every multiset of pieces and measured amounts: the objective's minimum."""
    kinds: list[tuple[int, int]] = []  # (ng, splits)
    for opt in f.solids:
        whole = round((opt.strength_mg or 0) * NG)
        kinds.append((whole, 0))
        if opt.split in (Split.HALF, Split.QUARTER):
            kinds.append((whole // 2, 1))
        if opt.split is Split.QUARTER:
            kinds.append((whole // 4, 1))
    measured: list[int] = [0]  # 0 = none
    for liq in f.liquids:
        unit = round((liq.mg_per_ml or 0) * NG / 10)
        measured += [unit * k for k in range(1, round(f.max_liquid_ml * 10) + 1)]
    if f.compounded_step_mg is not None:
        step = round(f.compounded_step_mg * NG)
        measured += [step * k for k in range(1, round((f.compounded_max_mg or 0) * NG) // step + 1)]
    best: tuple[int, int, int, int] | None = None
    for r in range(f.max_pieces + 1):
        for combo in itertools.combinations_with_replacement(kinds, r):
            solid = sum(k[0] for k in combo)
            splits = sum(k[1] for k in combo)
            for extra in measured:
                pieces = r + (1 if extra else 0)
                if pieces > f.max_pieces:
                    continue
                dev = solid + extra - target_ng
                key = (abs(dev), int(dev > 0), pieces, splits)
                if best is None or key < best:
                    best = key
    assert best is not None
    return best


def minimal_pieces(piece: Piece, split: Split) -> tuple[int, int]:
    """Fewest pieces (and their splits) that make ``quantity`` of one solid product."""
    whole, frac = divmod(round(piece.quantity * 4), 4)
    assert frac == 0 or split is not Split.NONE
    assert frac in (0, 2) or split is Split.QUARTER
    extra = {0: 0, 1: 1, 2: 1, 3: 2}[frac]
    return whole + extra, extra


def check_consistent(mu: MakeUp, f: Formulary) -> None:
    """Pieces only from the formulary, only allowed fractions, summing to the stated mg."""
    solids = {o.label: o for o in f.solids}
    liquids = {o.label: o for o in f.liquids}
    pieces = splits = 0
    total_ng = 0
    measured = 0
    for piece in mu.pieces:
        if piece.unit == "mL":
            opt = liquids[piece.product]
            tenths = round(piece.quantity * 10)
            assert abs(piece.quantity * 10 - tenths) < 1e-9, "liquid measured to 0.1 mL"
            assert 1 <= tenths <= round(f.max_liquid_ml * 10)
            total_ng += tenths * round((opt.mg_per_ml or 0) * NG / 10)
            pieces += 1
            measured += 1
        elif piece.form is Form.COMPOUNDED_CAPSULE and piece.product not in solids:
            assert f.compounded_step_mg is not None
            step = round(f.compounded_step_mg * NG)
            assert round((piece.strength_mg or 0) * NG) % step == 0
            assert piece.quantity == 1
            total_ng += round((piece.strength_mg or 0) * NG)
            pieces += 1
            measured += 1
        else:
            opt = solids[piece.product]
            assert opt.form in (Form.TABLET, Form.ODT, Form.CAPSULE, Form.COMPOUNDED_CAPSULE)
            p, s = minimal_pieces(piece, opt.split)
            pieces += p
            splits += s
            total_ng += round(piece.quantity * 4) * round((opt.strength_mg or 0) * NG) // 4
        per_unit = piece.mg_per_ml if piece.unit == "mL" else piece.strength_mg
        assert math.isclose(piece.mg, (per_unit or 0) * piece.quantity, abs_tol=1e-9)
    assert measured <= 1
    assert pieces == mu.piece_count <= f.max_pieces
    assert splits == mu.splits
    assert total_ng == round(mu.mg * NG)
    assert math.isclose(sum(p.mg for p in mu.pieces), mu.mg, abs_tol=1e-6)
    assert math.isclose(mu.deviation_mg, mu.mg - mu.target_mg, abs_tol=1e-9)


@settings(max_examples=150, deadline=None)
@given(f=formularies(), target_ug=st.integers(0, 12_000))
def test_make_up_is_the_exact_optimum(f: Formulary, target_ug: int) -> None:
    mu = make_up(target_ug / 1000, f)
    check_consistent(mu, f)
    dev = round(mu.mg * NG) - target_ug * 1000
    got = (abs(dev), int(dev > 0), mu.piece_count, mu.splits)
    assert got == brute_force_best(target_ug * 1000, f)


# ----------------------------------------------------------------------------- real catalogue


@pytest.fixture(params=[(m, liq, comp) for m in ("us", "uk") for liq in (0, 1) for comp in (0, 1)])
def diazepam_formulary(request: pytest.FixtureRequest, catalogue: Catalogue) -> Formulary:
    market, liq, comp = request.param
    return formulary(catalogue.drug("diazepam"), market, liquid=bool(liq), compounded=bool(comp))


@settings(max_examples=60, deadline=None)
@given(target=st.floats(0, 45, allow_nan=False))
def test_real_formularies_only_allowed_products_and_fractions(
    catalogue: Catalogue, target: float
) -> None:
    for market in ("us", "uk"):
        for liq in (False, True):
            for comp in (False, True):
                f = formulary(catalogue.drug("diazepam"), market, liquid=liq, compounded=comp)
                mu = make_up(target, f)
                check_consistent(mu, f)
                if not liq:
                    assert all(p.unit != "mL" for p in mu.pieces)
                if not comp:
                    assert all(p.form is not Form.COMPOUNDED_CAPSULE for p in mu.pieces)


def test_uk_diazepam_2_mg_is_never_halved(catalogue: Catalogue) -> None:
    f = formulary(catalogue.drug("diazepam"), "uk", liquid=False, compounded=False)
    assert make_up(1, f).mg == 0  # 1 mg cannot be made from unscored 2 mg tablets
    assert make_up(3, f).mg == 2  # tie between 2 and 4: the smaller dose wins
    assert make_up(5, f).pieces[0].text == "1 × 5 mg tablet"
    us = formulary(catalogue.drug("diazepam"), "us", liquid=False, compounded=False)
    half = make_up(1, us)
    assert [p.text for p in half.pieces] == ["½ × 2 mg tablet"]
    assert (half.piece_count, half.splits) == (1, 1)
    assert [p.text for p in make_up(3, us).pieces] == ["1½ × 2 mg tablet"]


def test_fewest_pieces_then_fewest_splits(catalogue: Catalogue) -> None:
    us = formulary(catalogue.drug("diazepam"), "us", liquid=False, compounded=False)
    # 10 mg: one whole 10 mg tablet, not two 5 mg or 2 × 5 halves
    assert [p.text for p in make_up(10, us).pieces] == ["1 × 10 mg tablet"]
    # 5 mg: one whole 5 mg tablet (1 piece, 0 splits) beats ½ × 10 mg (1 piece, 1 split)
    assert [p.text for p in make_up(5, us).pieces] == ["1 × 5 mg tablet"]
    assert make_up(2.5, us).splits == 1


def test_fewer_splits_win_among_equal_piece_counts() -> None:
    drug = fake_drug(
        [
            {"form": "tablet", "strength_mg": 10, "split": "half"},
            {"form": "tablet", "strength_mg": 8},
            {"form": "tablet", "strength_mg": 7},
        ]
    )
    mu = make_up(15, formulary(drug, "us", liquid=False, compounded=False))
    assert (mu.piece_count, mu.splits) == (2, 0)  # 8 + 7, not 10 + ½ × 10
    assert [p.text for p in mu.pieces] == ["1 × 8 mg tablet", "1 × 7 mg tablet"]


def test_liquid_to_tenth_ml_with_syringe(catalogue: Catalogue) -> None:
    uk = formulary(catalogue.drug("diazepam"), "uk", liquid=True, compounded=False)
    mu = make_up(0.7, uk)
    assert mu.mg == pytest.approx(0.7)
    (piece,) = mu.pieces
    assert piece.unit == "mL" and piece.quantity == pytest.approx(0.7)
    assert piece.text == "0.7 mL of 1 mg/mL oral suspension (measure with a 1 mL oral syringe)"
    assert make_up(2.5, uk).pieces[0].text.endswith("(measure with a 3 mL oral syringe)")
    assert [syringe_ml(v) for v in (0.1, 1, 1.1, 3, 4.5, 5.1, 10)] == [1, 1, 3, 3, 5, 10, 10]


def test_achievable_doses_are_exact_and_complete(diazepam_formulary: Formulary) -> None:
    doses = achievable_doses(diazepam_formulary, 12)
    assert doses == sorted(set(doses)) and doses[0] > 0 and doses[-1] <= 12
    for d in doses:
        assert make_up(d, diazepam_formulary).deviation_mg == pytest.approx(0, abs=1e-9)
    # every exact µg target in range that is not listed cannot be made exactly
    listed = {round(d * 1000) for d in doses}
    for ug in range(10, 12_000, 10):
        exact = make_up(ug / 1000, diazepam_formulary).deviation_mg == 0
        assert exact == (ug in listed), ug


def test_compounded_step_policy() -> None:
    assert compounded_step_mg(2) == pytest.approx(0.2)
    assert compounded_step_mg(0.25) == pytest.approx(0.02)
    assert compounded_step_mg(0.125) == pytest.approx(0.01)
    assert compounded_step_mg(7.5) == pytest.approx(0.5)
    assert compounded_step_mg(1) == pytest.approx(0.1)


# ----------------------------------------------------------------------------- exclusions


def test_er_products_excluded_with_reason_and_never_used() -> None:
    drug = fake_drug(
        [
            {"form": "extended_release_tablet", "strength_mg": 0.5},
            {"form": "tablet", "strength_mg": 1, "split": "half"},
        ]
    )
    f = formulary(drug, "us", liquid=True, compounded=False)
    assert [o.label for o in f.solids] == ["1 mg tablet"]
    (excluded,) = f.excluded
    assert excluded.product == "0.5 mg extended release tablet"
    assert "extended-release" in excluded.reason
    assert [p.text for p in make_up(0.5, f).pieces] == ["½ × 1 mg tablet"]


def test_only_er_means_no_usable_product() -> None:
    drug = fake_drug([{"form": "extended_release_capsule", "strength_mg": 1}])
    with pytest.raises(UnknownProductError, match="cross over to diazepam"):
        formulary(drug, "us", liquid=True, compounded=True)


def test_no_product_without_liquid_says_how_to_fix() -> None:
    drug = fake_drug([{"form": "oral_solution", "mg_per_ml": 2}], drug_id="lorazepam")
    with pytest.raises(UnknownProductError) as err:
        formulary(drug, "us", liquid=False, compounded=False)
    assert err.value.message == (
        "No lorazepam product on the us market can be used without liquid; "
        "allow oral solution (--liquid) or cross over to diazepam."
    )
    assert formulary(drug, "us", liquid=True, compounded=False).liquids


def test_no_product_on_market(catalogue: Catalogue) -> None:
    drug = fake_drug([{"form": "tablet", "strength_mg": 1}])
    with pytest.raises(UnknownProductError, match="No testazepam product is listed for the uk"):
        formulary(drug, "uk", liquid=True, compounded=True)


def test_capsules_and_unscored_never_split() -> None:
    drug = fake_drug(
        [
            {"form": "capsule", "strength_mg": 15},
            {"form": "tablet", "strength_mg": 10, "split": "none"},
        ]
    )
    f = formulary(drug, "us", liquid=False, compounded=False)
    for target in (5, 7.5, 12.5, 20, 25, 27.5):
        mu = make_up(target, f)
        assert all(p.quantity == int(p.quantity) for p in mu.pieces)
        assert mu.splits == 0


def test_negative_target_refused(diazepam_formulary: Formulary) -> None:
    with pytest.raises(ValueError):
        make_up(-1, diazepam_formulary)


def test_cache_returns_same_answer(diazepam_formulary: Formulary) -> None:
    assert make_up(7.3, diazepam_formulary) is make_up(7.3, diazepam_formulary)


# ----------------------------------------------------------------------------- dispensing


def _step(i: int, start: dt.date, days: int, doses: list[Dose]) -> Step:
    return Step(
        index=i,
        start=start,
        end=start + dt.timedelta(days=days - 1),
        phase="taper",
        doses=doses,
        daily_mg={},
        diazepam_equivalent_mg=0,
    )


def test_dispense_counts_on_hand_made_steps(catalogue: Catalogue) -> None:
    us = formulary(catalogue.drug("diazepam"), "us", liquid=True, compounded=False)
    d0 = dt.date(2026, 1, 1)
    five = make_up(5, us)  # 1 × 5 mg tablet
    one = make_up(1, us)  # 0.2 mL of 5 mg/mL
    three = formulary(catalogue.drug("diazepam"), "us", liquid=False, compounded=False)
    half = make_up(1, three)  # ½ × 2 mg tablet
    steps = [
        # 10 days: 5 mg twice a day
        _step(0, d0, 10, [Dose(time="08:00", drug="diazepam", mg=5, make_up=five.pieces)] * 2),
        # 21 days: ½ × 2 mg once a day, crosses the 28-day boundary (days 11-31)
        _step(
            1,
            d0 + dt.timedelta(days=10),
            21,
            [Dose(time="22:00", drug="diazepam", mg=1, make_up=half.pieces)],
        ),
        # 7 days of liquid
        _step(
            2,
            d0 + dt.timedelta(days=31),
            7,
            [Dose(time="22:00", drug="diazepam", mg=1, make_up=one.pieces)],
        ),
        _step(3, d0 + dt.timedelta(days=38), 1, []),
    ]
    periods, total = dispense(steps, interval_days=28)
    got = {(p.period_start.isoformat(), p.product): p.quantity for p in periods}
    assert got == {
        ("2026-01-01", "5 mg tablet"): 20,
        ("2026-01-01", "2 mg tablet"): 9,  # 18 halves = 9 tablets
        ("2026-01-29", "2 mg tablet"): 2,  # 3 halves, rounded up within the interval
        ("2026-01-29", "5 mg/mL oral solution"): pytest.approx(1.4),  # 7 × 0.2 mL
    }
    assert {p.period_end.isoformat() for p in periods if p.period_start == d0} == {"2026-01-28"}
    assert {p.period_end.isoformat() for p in periods if p.period_start != d0} == {"2026-02-08"}
    totals = {t.product: (t.quantity, t.unit) for t in total}
    assert totals == {
        "5 mg tablet": (20, "tablet"),
        "2 mg tablet": (11, "tablet"),
        "5 mg/mL oral solution": (pytest.approx(1.4), "mL"),
    }
    assert all(t.period_start == d0 and t.period_end == dt.date(2026, 2, 8) for t in total)


def test_dispense_empty_and_bad_interval() -> None:
    assert dispense([]) == ([], [])
    with pytest.raises(ValueError):
        dispense([], interval_days=0)


@settings(max_examples=120, deadline=None)
@given(
    data=st.data(),
    market=st.sampled_from(["us", "uk"]),
    liquid=st.booleans(),
    compounded=st.booleans(),
)
def test_every_catalogue_drug_makes_consistent_doses(
    catalogue: Catalogue, data: st.DataObject, market: str, liquid: bool, compounded: bool
) -> None:
    drug = data.draw(st.sampled_from(sorted(catalogue.drugs)))
    try:
        f = formulary(catalogue.drugs[drug], market, liquid=liquid, compounded=compounded)  # type: ignore[arg-type]
    except UnknownProductError as err:
        assert drug in err.message.lower() and market in err.message
        return
    assert all(o.form not in (Form.ER_TABLET, Form.ER_CAPSULE) for o in f.solids)
    target = data.draw(st.floats(0, catalogue.drugs[drug].max_daily_mg.high, allow_nan=False))
    check_consistent(make_up(target, f), f)


def test_nights_are_dispensed_only_for_the_nights_taken(catalogue: Catalogue) -> None:
    """Medication-free nights: each interval supplies the tablets of the nights a dose is taken
    (the pattern's nights within it), not of every night."""
    from tests.planning.planhelpers import plan_for

    plan = plan_for(catalogue, ("zolpidem", 10.0, "22:00"), market="us", dispense_days=28)
    assert any(d.on_days for d in plan.steps[0].doses)
    first = plan.steps[0].start
    for line in plan.dispense:
        need = 0.0
        day = line.period_start
        while day <= line.period_end:
            step = next(s for s in plan.steps if s.start <= day <= s.end)
            need += sum(
                p.quantity
                for d in step.doses_on(day)
                for p in d.make_up
                if p.product == line.product
            )
            day += dt.timedelta(days=1)
        assert line.quantity == math.ceil(need - 1e-9), (line, (line.period_start - first).days)
