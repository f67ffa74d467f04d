"""Where every simulation parameter comes from, and the refusals when data are missing."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benzotaper.catalogue import Catalogue, default_catalogue
from benzotaper.errors import CatalogueError, SimulationError, UnknownSourceError
from benzotaper.pk import Context, build_drug_model, load_pk_assumptions

ASSUMPTIONS = load_pk_assumptions()


def test_assumptions_load_and_every_source_resolves() -> None:
    ASSUMPTIONS.check_sources(default_catalogue())
    assert ASSUMPTIONS.elderly_age == 65
    for drug in ASSUMPTIONS.drugs.values():
        for link in drug.links:
            assert link.fraction.note, "an assumed fraction must say why"


def test_unverified_values_are_reported_as_assumptions(ctx: Context) -> None:
    params = {p.name: p for p in ctx.model("diazepam").parameters}
    assert params["fraction parent -> desmethyldiazepam"].assumption
    assert params["fraction parent -> desmethyldiazepam"].source == "pk-assumption"
    assert params["absorption rate ka"].assumption
    assert not params["half-life"].assumption
    assert params["half-life"].source == "greenblatt2021"
    assert "midpoint of 31-45" in (params["half-life"].note or "")


def test_older_adults_use_the_sourced_longer_half_lives(test_catalogue: Catalogue) -> None:
    old = Context.default(test_catalogue, age=65)
    dz = {p.name: p.value for p in old.model("diazepam").parameters}
    assert dz["half-life"] == 79.0 and dz["half-life of desmethyldiazepam"] == 80.0
    assert -old.model("agedzepam").rates[1, 1] == pytest.approx(math.log(2) / 40)
    young = Context.default(test_catalogue, age=64)
    assert -young.model("agedzepam").rates[1, 1] == pytest.approx(math.log(2) / 20)
    # no older-adult value: the adult one is used and the output says so
    simple = old.model("simplezepam")
    assert any("no sourced older-adult half-life" in n for n in simple.notes)


def test_a_drug_without_any_half_life_cannot_be_simulated(ctx: Context) -> None:
    with pytest.raises(SimulationError, match="no half-life for Nohalfzepam"):
        ctx.model("nohalfzepam")


def test_an_unknown_equivalence_source_is_refused(test_catalogue: Catalogue) -> None:
    with pytest.raises(UnknownSourceError, match="gives no diazepam equivalent"):
        build_drug_model(test_catalogue.drugs["simplezepam"], ASSUMPTIONS, source="who2009")


def test_broken_assumption_file_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "pk_assumptions.toml"
    bad.write_text(
        'version = "x"\nelderly_age = 65\n'
        'default_tmax_h = { value = 1, source = "pk-assumption" }\n'
        'default_bioavailability = { value = 1, source = "pk-assumption" }\n'
        "[drugs.diazepam]\n[[drugs.diazepam.links]]\n"
        'precursor = "parent"\nproduct = "oxazepam"\n'
        'fraction = { value = 0.5, source = "pk-assumption" }\n',
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError, match="species 'oxazepam' is not described"):
        load_pk_assumptions(bad)


def test_unknown_source_key_in_assumptions_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "pk_assumptions.toml"
    bad.write_text(
        'version = "x"\nelderly_age = 65\n'
        'default_tmax_h = { value = 1, source = "nowhere" }\n'
        'default_bioavailability = { value = 1, source = "pk-assumption" }\n',
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError, match="default_tmax_h: source 'nowhere'"):
        load_pk_assumptions(bad).check_sources(default_catalogue())


def test_every_catalogue_drug_simulates_or_says_why(ctx: Context) -> None:
    from benzotaper.pk import TimedDose
    from benzotaper.pk.metrics import steady_state

    refused = []
    for drug in default_catalogue():
        try:
            state = steady_state(ctx, (TimedDose(480, drug.id, 1.0),))
        except SimulationError as exc:
            assert drug.name in exc.message
            refused.append(drug.id)
            continue
        assert state.mean_de_mg == pytest.approx(state.de_dose_mg, rel=0.01)
    # refused: exactly the drugs with no parent half-life that are not prodrugs
    assert set(refused) == {
        d.id
        for d in default_catalogue()
        if d.half_life_h is None and d.pk.half_life_h is None and not d.pk.prodrug
    }


def test_nordazepam_from_clorazepate_is_the_modelled_species(ctx: Context) -> None:
    model = ctx.model("clorazepate")
    assert model.compartments == ("gut", "desmethyldiazepam")
    assert not any("not modelled" in n for n in model.notes)
