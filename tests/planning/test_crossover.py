"""Crossover to a long-acting drug: the NHS Scotland golden case, refusals, cautions, properties."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benzotaper.catalogue import Catalogue, Drug
from benzotaper.catalogue.loader import DATA_DIR
from benzotaper.errors import CatalogueError, RegimenError, UnknownDrugError
from benzotaper.planning.crossover import (
    CrossoverResult,
    CrossoverRules,
    default_crossover_rules,
    load_crossover_rules,
    night_first_key,
    plan_crossover,
)
from benzotaper.planning.crossover_notes import unreplaced_note
from benzotaper.planning.dispensing import Formulary, formulary
from benzotaper.planning.models import Administration, PersonFactors

START = dt.date(2026, 1, 5)


@pytest.fixture(scope="module")
def rules() -> CrossoverRules:
    return default_crossover_rules()


def forms(market: str = "uk", liquid: bool = False):  # type: ignore[no-untyped-def]
    def formulary_for(drug: Drug) -> Formulary:
        return formulary(drug, market, liquid=liquid, compounded=False)  # type: ignore[arg-type]

    return formulary_for


def run(
    catalogue: Catalogue,
    rules: CrossoverRules,
    regimen: list[tuple[str, float, str]],
    target: str = "diazepam",
    market: str = "uk",
    liquid: bool = False,
    person: PersonFactors | None = None,
    source: str | None = None,
) -> CrossoverResult:
    adms = [Administration(drug=d, mg=mg, time=t) for d, mg, t in regimen]
    return plan_crossover(
        catalogue, adms, target, START, forms(market, liquid), rules, source, person=person
    )


def test_nhs_scotland_golden(catalogue: Catalogue, rules: CrossoverRules) -> None:
    """Lorazepam 1 mg morning + 1 mg night: night switched first, then morning, 10 mg each."""
    res = run(catalogue, rules, [("lorazepam", 1, "08:00"), ("lorazepam", 1, "22:00")])
    one, two, stab = res.steps
    assert [s.phase for s in res.steps] == ["crossover", "crossover", "stabilise"]

    def at(step, time, drug):  # type: ignore[no-untyped-def]
        return next(d.mg for d in step.doses if d.time == time and d.drug == drug)

    assert (at(one, "22:00", "lorazepam"), at(one, "22:00", "diazepam")) == (0, 10)
    assert (at(one, "08:00", "lorazepam"), at(one, "08:00", "diazepam")) == (1, 0)
    assert (at(two, "08:00", "lorazepam"), at(two, "08:00", "diazepam")) == (0, 10)
    assert (at(two, "22:00", "lorazepam"), at(two, "22:00", "diazepam")) == (0, 10)
    assert [s.diazepam_equivalent_mg for s in res.steps] == [20, 20, 20]
    assert (one.start, one.end, two.start, two.end) == (
        START,
        START + dt.timedelta(days=6),
        START + dt.timedelta(days=7),
        START + dt.timedelta(days=13),
    )
    assert stab.days == 14 and res.next_start == stab.end + dt.timedelta(days=1)
    assert [(a.drug, a.mg, a.time) for a in res.final_regimen] == [
        ("diazepam", 10, "08:00"),
        ("diazepam", 10, "22:00"),
    ]
    assert [p.text for d in stab.doses for p in d.make_up] == ["1 × 10 mg tablet"] * 2
    eq = next(w for w in res.warnings if w.code == "crossover.equivalence")
    assert eq.severity == "caution" and "×2" in eq.message and "ashton2002" in eq.sources
    assert "10–20 mg" in eq.message
    assert any(w.code == "crossover.monitoring" for w in res.warnings)
    assert "Review after 5-7 days" in (one.note or "")


def test_large_dose_switched_in_portions(catalogue: Catalogue, rules: CrossoverRules) -> None:
    res = run(catalogue, rules, [("lorazepam", 2.5, "22:00")], market="uk")
    cross = [s for s in res.steps if s.phase == "crossover"]
    # UK lorazepam: unscored 1 mg and scored 2.5 mg tablets make 1, 1.25, 2, 2.25, 2.5 mg...
    # Each portion is at most 1 mg lorazepam (10 mg DE) and leaves a dose the tablets make:
    # 2.5 → 2 (1.5 cannot be made) → 1 → 0.
    night = [next(d.mg for d in s.doses if d.drug == "lorazepam") for s in cross]
    assert night == [2, 1, 0]
    assert [s.daily_mg["diazepam"] for s in cross] == [5, 15, 25]
    assert all(s.diazepam_equivalent_mg == 25 for s in res.steps)


def test_refusals(catalogue: Catalogue, rules: CrossoverRules) -> None:
    with pytest.raises(RegimenError, match=r"not a long-acting drug .* diazepam, chlordiazepoxide"):
        run(catalogue, rules, [("lorazepam", 1, "22:00")], target="alprazolam")
    with pytest.raises(RegimenError, match="already Diazepam only: there is nothing to switch"):
        run(catalogue, rules, [("diazepam", 5, "22:00")])
    with pytest.raises(RegimenError, match="already long-acting"):
        run(catalogue, rules, [("chlordiazepoxide", 10, "22:00")], target="diazepam")
    with pytest.raises(UnknownDrugError):
        run(catalogue, rules, [("lorazepam", 1, "22:00")], target="diazepan-x")
    # 4 mg clonazepam at one dose-time is 80 mg diazepam in one dose: more than six pieces
    # make, so the refusal says that (not "finer strengths"), and points to the ways forward.
    with pytest.raises(RegimenError, match=r"about 80 mg of diazepam at 22:00 in one dose.*60 mg"):
        run(catalogue, rules, [("clonazepam", 4, "22:00")], market="us")
    run(catalogue, rules, [("clonazepam", 2, "08:00"), ("clonazepam", 2, "22:00")], market="us")
    with pytest.raises(RegimenError, match="shorter than the guideline's 7 days"):
        plan_crossover(
            catalogue,
            [Administration(drug="lorazepam", mg=1, time="22:00")],
            "diazepam",
            START,
            forms(),
            rules,
            None,
            step_days=3,
        )


def test_chlordiazepoxide_target_allowed_with_caution(
    catalogue: Catalogue, rules: CrossoverRules
) -> None:
    res = run(catalogue, rules, [("lorazepam", 1, "22:00")], target="chlordiazepoxide", market="us")
    assert res.final_regimen[0].drug == "chlordiazepoxide"
    assert any(w.code == "crossover.target_unverified" for w in res.warnings)


def test_diazepam_already_in_regimen_is_kept(catalogue: Catalogue, rules: CrossoverRules) -> None:
    res = run(catalogue, rules, [("diazepam", 5, "08:00"), ("lorazepam", 1, "22:00")])
    assert [(a.mg, a.time) for a in res.final_regimen] == [(5, "08:00"), (10, "22:00")]
    assert len([s for s in res.steps if s.phase == "crossover"]) == 1


def test_a_switch_with_no_target_dose_is_worded_as_the_cut_it_is(
    catalogue: Catalogue, rules: CrossoverRules
) -> None:
    """UK zopiclone 0.9375 mg at 18:00 (switched first: no product makes it) + 3.75 mg at 22:00:
    no diazepam tablet makes its 0.625 mg equivalent, so the first step stops it with nothing in
    its place. Its note said "Switch ... to diazepam: take diazepam 0 mg at 18:00"; it now says
    it is a stop and how large a cut (20% of the day's dose)."""
    res = run(catalogue, rules, [("zopiclone", 0.9375, "18:00"), ("zopiclone", 3.75, "22:00")])
    first = res.steps[0]
    assert sum(d.mg for d in first.doses if d.time == "18:00") == 0
    assert (first.note or "").startswith(
        "Stop the 18:00 zopiclone 0.9375 mg: no diazepam dose this small can be made"
    )
    assert "a cut of 0.625 mg diazepam-equivalent, 20% of the day's 3.125 mg" in (first.note or "")
    assert "take nothing at 18:00." in (first.note or "")
    assert all(" 0 mg" not in (s.note or "") for s in res.steps)
    assert (res.steps[1].note or "").startswith("Switch the 22:00 zopiclone 3.75 mg to diazepam")
    kept = unreplaced_note(
        catalogue.drug("lorazepam"),
        catalogue.drug("diazepam"),
        "22:00",
        1.0,
        0.5,
        5.0,
        (5.0, 30.0),
        rules,
    )
    assert kept.startswith("Cut the 22:00 lorazepam 1 mg to 0.5 mg: no diazepam dose this small")
    assert "(a cut of 5 mg diazepam-equivalent, 17% of the day's 30 mg)" in kept
    assert "take lorazepam 0.5 mg and diazepam 5 mg at 22:00." in kept


def test_cautions(catalogue: Catalogue, rules: CrossoverRules) -> None:
    old = PersonFactors(age=70, liver_impairment=True)
    res = run(
        catalogue, rules, [("temazepam", 20, "22:00"), ("alprazolam", 1, "08:00")], person=old
    )
    codes = {w.code for w in res.warnings}
    assert {"crossover.older_adult", "crossover.liver", "crossover.multi_drug"} <= codes
    liver = next(w for w in res.warnings if w.code == "crossover.liver")
    assert "lorazepam or oxazepam" in liver.message
    older = next(w for w in res.warnings if w.code == "crossover.older_adult")
    assert "greenblatt2021" in older.sources
    high = run(catalogue, rules, [("lorazepam", 2, "08:00"), ("lorazepam", 2, "22:00")])
    assert any(w.code == "crossover.high_dose" for w in high.warnings)
    assert "crossover.high_dose" not in codes
    zolpidem = run(catalogue, rules, [("zolpidem", 10, "22:00")])
    eq = next(w for w in zolpidem.warnings if w.code == "crossover.equivalence")
    assert eq.severity == "info"


def test_source_choice_changes_the_dose(catalogue: Catalogue, rules: CrossoverRules) -> None:
    va = run(
        catalogue, rules, [("lorazepam", 2, "22:00")], source="vadod-asam2025-table7", liquid=True
    )
    assert va.final_regimen[0].mg == 10  # VA/DoD: lorazepam 2 mg ≈ diazepam 10 mg
    assert "vadod-asam2025-table7" in va.warnings[0].sources


def test_night_first_order() -> None:
    times = ["08:00", "13:00", "22:00", "02:00"]
    assert sorted(times, key=lambda t: -night_first_key(t, "05:00")) == [
        "02:00",
        "22:00",
        "13:00",
        "08:00",
    ]


# ----------------------------------------------------------------------------- properties

SHORT = ["alprazolam", "lorazepam", "clonazepam", "temazepam", "oxazepam", "zolpidem"]
TIMES = ["07:00", "08:00", "13:00", "18:00", "22:00", "23:30"]


@st.composite
def regimens(draw: st.DrawFn) -> list[tuple[str, float, str]]:
    out = []
    times = draw(st.lists(st.sampled_from(TIMES), min_size=1, max_size=3, unique=True))
    drugs = draw(st.lists(st.sampled_from(SHORT), min_size=1, max_size=2, unique=True))
    for t in times:
        drug = draw(st.sampled_from(drugs))
        unit = {"alprazolam": 0.25, "lorazepam": 0.5, "clonazepam": 0.25}.get(drug, 5)
        out.append((drug, unit * draw(st.integers(1, 6)), t))
    return out


@settings(max_examples=60, deadline=None)
@given(
    regimen=regimens(),
    market=st.sampled_from(["us", "uk"]),
    liquid=st.booleans(),
    target=st.sampled_from(["diazepam", "chlordiazepoxide"]),
)
def test_crossover_properties(
    catalogue: Catalogue,
    regimen: list[tuple[str, float, str]],
    market: str,
    liquid: bool,
    target: str,
) -> None:
    rules = default_crossover_rules()
    try:
        res = run(catalogue, rules, regimen, target=target, market=market, liquid=liquid)
    except Exception as exc:  # only clear, typed refusals are acceptable
        from benzotaper.errors import InputError

        assert isinstance(exc, InputError), exc
        return
    steps = res.steps
    start_de = res.starting_de_mg
    cross = [s for s in steps if s.phase == "crossover"]
    assert cross and steps[-1].phase == "stabilise"
    assert [s.phase for s in steps] == ["crossover"] * len(cross) + ["stabilise"]
    # dates consecutive, each step at least 7 days
    assert steps[0].start == START
    for a, b in itertools.pairwise(steps):
        assert b.start == a.end + dt.timedelta(days=1)
    assert all(s.days >= 7 for s in steps)
    assert res.next_start == steps[-1].end + dt.timedelta(days=1)
    # constant DE within the stated tolerance (step DE is shown to 4 decimals)
    off = max(abs(s.diazepam_equivalent_mg - start_de) for s in steps)
    assert off <= res.tolerance_mg + 1e-3
    # no note tells anyone to take "0 mg" of anything (a switch giving none is said as a cut)
    assert all(" 0 mg" not in (s.note or "") for s in steps), [s.note for s in steps]
    # every dose shown is made of real pieces that add up to it
    for s in steps:
        for dose in s.doses:
            assert (dose.mg > 0) == bool(dose.make_up), dose
    # exactly one dose-time changes per step; both drugs shown at every time of every step
    original = {}
    for d, mg, t in regimen:
        did = catalogue.drug(d).id
        original[(t, did)] = original.get((t, did), 0) + mg
    prev = {t: {dr: mg for (tt, dr), mg in original.items() if tt == t} for t in TIMES}
    for s in cross:
        now: dict[str, dict[str, float]] = {t: {} for t in TIMES}
        for dose in s.doses:
            now[dose.time][dose.drug] = dose.mg
            assert sum(p.mg for p in dose.make_up) == pytest.approx(dose.mg, abs=1e-6)
        for t, drug_id in original:
            assert drug_id in now[t] and res.target in now[t]
        changed = [
            t
            for t in TIMES
            if {k: v for k, v in now[t].items() if v} != {k: v for k, v in prev[t].items() if v}
        ]
        assert len(changed) == 1, (changed, s)
        prev = now
    # the stabilise step is the final regimen, target drug only
    stab = steps[-1]
    assert {d.drug for d in stab.doses} == {res.target}
    assert sorted((d.time, d.mg) for d in stab.doses) == sorted(
        (a.time, a.mg) for a in res.final_regimen
    )


# ----------------------------------------------------------------------------- loader


def test_every_rule_source_resolves(rules: CrossoverRules, catalogue: Catalogue) -> None:
    assert rules.source_keys() <= set(catalogue.references)


def test_loader_rejects_step_days_outside_source(tmp_path: Path, catalogue: Catalogue) -> None:
    text = (DATA_DIR / "rules" / "crossover.toml").read_text()
    path = tmp_path / "crossover.toml"
    path.write_text(text.replace("use_step_days = 7", "use_step_days = 2"))
    with pytest.raises(CatalogueError, match="use_step_days 2 is outside the sourced range"):
        load_crossover_rules(path, catalogue.references)


def test_loader_rejects_unknown_source(tmp_path: Path, catalogue: Catalogue) -> None:
    text = (DATA_DIR / "rules" / "crossover.toml").read_text()
    path = tmp_path / "crossover.toml"
    path.write_text(
        text.replace('evidence_source = "maudsley2024-switch"', 'evidence_source = "x1"')
    )
    with pytest.raises(CatalogueError, match="source 'x1' is not in references"):
        load_crossover_rules(path, catalogue.references)
