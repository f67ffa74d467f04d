"""Small doses people make at home: a tablet made up as a liquid, or a crushed tablet weighed.

Many people taper by making a tablet up in water (or milk, or a suspending vehicle) and taking
or removing a measured volume ("liquid titration"), or by weighing a portion of a crushed tablet
on a milligram scale. Neither is a licensed method. benzotaper offers both only when the person
opts in (``Preferences.home_liquid`` / ``Preferences.scale``), as tail routes like the others
(``planning/tail.py``), with the recipe of every dose and its accuracy band as data
(``models.HomeRecipe``); each edge words them. The figures come from
``data/rules/home_methods.toml`` (sourced, or labelled project policy):

* whether the drug dissolves in water at the recipe's strength (its label's or pharmacopoeia's
  solubility term); a drug practically insoluble in water, or whose solubility is not recorded,
  is refused (``HomeMethodRefused``) unless a suspending vehicle is named;
* the recipe (community practice: one tablet made up to 100 mL), the oral syringes and their
  marks (project policy), measured volumes on those marks;
* the scale's readability and the smallest reliable portion (ten times the readability);
* the accuracy band: dispersing tablets not made to disperse and taking a fraction gave 3%-99%
  of the intended dose (Eur J Hosp Pharm 28(2):76); a weighed portion is within one
  readability step of its weight.

A home dose uses one tablet (the drug's smallest plain tablet or capsule on the market) for its
measured part, plus whole or split tablets for the rest: dispensing counts that tablet.
"""

# No "from __future__ import annotations": see benzotaper.planning.models.
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from benzotaper.catalogue.loader import DATA_DIR, read_toml, validate
from benzotaper.catalogue.models import Drug, Form, Market, Sourced, SourceKey, Strict
from benzotaper.errors import InputError, UnknownProductError
from benzotaper.planning import bounds, dispensing
from benzotaper.planning.models import (
    Accuracy,
    HomeRecipe,
    HomeRoute,
    Piece,
    Preferences,
    RouteChange,
)
from benzotaper.planning.realisers import Realiser

NG_PER_MG = dispensing.NG_PER_MG
#: Software policy: at most this many weighed portions per tablet (steps of several readabilities
#: for a heavy tablet), so a plan stays within its time budget.
MAX_PORTIONS = 500


class HomeMethodRefused(InputError):
    """A home method asked for that cannot be used for this drug (e.g. it does not dissolve in
    water and no suspending vehicle is named). ``reason`` says which, as data."""

    code = "home_method_refused"

    def __init__(
        self,
        message: str,
        *,
        drug: str,
        route: HomeRoute,
        reason: Literal[
            "insoluble",
            "solubility-unknown",
            "too-strong",
            "no-tablet",
            "tablet-weight",
            "tablet-too-light",
        ],
        sources: Sequence[str] = (),
    ) -> None:
        super().__init__(message, field=_FIELDS.get(reason, route.replace("-", "_")))
        self.drug = drug
        self.route = route
        self.reason = reason
        self.sources = list(sources)


#: The request field a refusal concerns (the edges point at it).
_FIELDS = {
    "insoluble": "home_vehicle",
    "solubility-unknown": "home_vehicle",
    "too-strong": "home_vehicle",
    "tablet-weight": "tablet_weight_mg",
    "tablet-too-light": "tablet_weight_mg",
}


# ----------------------------------------------------------------------------- the data file


class Syringe(Strict):
    ml: float = Field(gt=0)
    graduation_ml: float = Field(gt=0)


class LiquidRules(Strict):
    tablets: int = Field(ge=1)
    volume_ml: Sourced
    syringes: list[Syringe] = Field(min_length=1)
    min_measure_ml: float = Field(gt=0)
    max_fills: int = Field(ge=1)
    accuracy_percent: Sourced
    mixed_accuracy_percent: Sourced
    policy_source: SourceKey


class ScaleRules(Strict):
    readability_mg: Sourced
    min_multiple: Sourced


class SolubilityTerm(Strict):
    term: str
    min_mg_per_ml: float = Field(ge=0)


class DrugSolubility(Strict):
    drug: str
    water: str
    label_words: str
    source: SourceKey
    unstable_in_solution: bool = False


class HomeRules(Strict):
    version: str
    caution_source: SourceKey
    community_source: SourceKey
    liquid: LiquidRules
    scale: ScaleRules
    solubility_terms_source: SourceKey
    solubility_terms: list[SolubilityTerm] = Field(min_length=1)
    drugs: list[DrugSolubility] = Field(default_factory=list)

    def water(self, drug: str) -> DrugSolubility | None:
        return next((d for d in self.drugs if d.drug == drug), None)

    def term(self, name: str) -> SolubilityTerm:
        for t in self.solubility_terms:
            if t.term == name:
                return t
        raise KeyError(name)


def load_home_rules(path: Path | None = None) -> HomeRules:
    """Read and validate data/rules/home_methods.toml (sources: checked by ``knowledge``)."""
    file = path or DATA_DIR / "rules" / "home_methods.toml"
    rules = validate(HomeRules, read_toml(file), f"rules/{file.name}")
    for d in rules.drugs:
        rules.term(d.water)  # every drug's term is one of the listed terms
    return rules


# ----------------------------------------------------------------------------- who can use it


@dataclass(frozen=True)
class Method:
    """A home method that this drug allows: the tablet it is made from, and how."""

    route: HomeRoute
    drug: str
    tablet: dispensing.Option
    vehicle: str | None = None
    dissolves: bool | None = None
    tablet_weight_mg: float | None = None
    sources: tuple[str, ...] = ()
    unstable: bool = False  # its label: unstable in solution (made fresh, taken at once)


def home_tablet(drug: Drug, market: Market) -> dispensing.Option | None:
    """The smallest plain tablet or capsule of ``drug`` sold on ``market`` (made up or crushed)."""
    solids = [
        p
        for p in drug.products_in(market)
        if p.form in (Form.TABLET, Form.CAPSULE) and p.strength_mg
    ]
    if not solids:
        return None
    return dispensing.Option.of(min(solids, key=lambda p: (p.strength_mg or 0, p.form.value)))


def method(route: HomeRoute, drug: Drug, prefs: Preferences, rules: HomeRules) -> Method:
    """The home method ``route`` for ``drug``, or ``HomeMethodRefused`` saying why not."""
    tablet = home_tablet(drug, prefs.market)
    if tablet is None:
        raise HomeMethodRefused(
            f"No {drug.name.lower()} tablet or capsule is sold on the {prefs.market} market to "
            "make a home dose from.",
            drug=drug.id,
            route=route,
            reason="no-tablet",
        )
    if route == "scale":
        return _scale_method(drug, prefs, rules, tablet)
    return _liquid_method(drug, prefs, rules, tablet)


def _liquid_method(
    drug: Drug, prefs: Preferences, rules: HomeRules, tablet: dispensing.Option
) -> Method:
    volume = rules.liquid.volume_ml.low
    if prefs.home_vehicle:
        return Method("home-liquid", drug.id, tablet, prefs.home_vehicle, None)
    water = rules.water(drug.id)
    if water is None:
        raise HomeMethodRefused(
            f"Whether {drug.name.lower()} dissolves in water is not recorded (unknown), so "
            "benzotaper does not suggest making it up in water. Name a suspending vehicle your "
            "pharmacist advises, or use another route.",
            drug=drug.id,
            route="home-liquid",
            reason="solubility-unknown",
        )
    term = rules.term(water.water)
    sources = (water.source, rules.solubility_terms_source)
    if term.min_mg_per_ml <= 0:
        raise HomeMethodRefused(
            f'{drug.name} is {water.water} in water (its label: "{water.label_words}"): a '
            "tablet stirred into water does not dissolve, so a measured volume holds an unknown "
            "share of the dose. Name a suspending vehicle your pharmacist advises, or use "
            "another route.",
            drug=drug.id,
            route="home-liquid",
            reason="insoluble",
            sources=sources,
        )
    strength = rules.liquid.tablets * (tablet.strength_mg or 0) / volume
    if strength > term.min_mg_per_ml:
        raise HomeMethodRefused(
            f"{drug.name} is {water.water} in water (at least {term.min_mg_per_ml:g} mg/mL); "
            f"{rules.liquid.tablets} × {tablet.label} in {volume:g} mL would be "
            f"{strength:g} mg/mL, more than is sure to dissolve.",
            drug=drug.id,
            route="home-liquid",
            reason="too-strong",
            sources=sources,
        )
    return Method(
        "home-liquid",
        drug.id,
        tablet,
        "water",
        True,
        sources=sources,
        unstable=water.unstable_in_solution,
    )


def _scale_method(
    drug: Drug, prefs: Preferences, rules: HomeRules, tablet: dispensing.Option
) -> Method:
    least = rules.scale.readability_mg.low * rules.scale.min_multiple.low
    sources = (rules.scale.readability_mg.source, rules.scale.min_multiple.source)
    weight = prefs.tablet_weight_mg
    if weight is None:
        raise HomeMethodRefused(
            f"Weighing needs the weight of one whole {tablet.label}: weigh "
            "several on your scale and divide by their number. No tablet weights are recorded "
            "in benzotaper's data.",
            drug=drug.id,
            route="scale",
            reason="tablet-weight",
            sources=sources,
        )
    if weight < 2 * least:
        raise HomeMethodRefused(
            f"A tablet of {weight:g} mg leaves no portion a milligram scale weighs reliably: a "
            f"weighed portion must be at least {least:g} mg (ten times the scale's readability).",
            drug=drug.id,
            route="scale",
            reason="tablet-too-light",
            sources=sources,
        )
    return Method("scale", drug.id, tablet, tablet_weight_mg=weight, sources=sources)


def check(drugs: Sequence[Drug], prefs: Preferences, rules: HomeRules) -> None:
    """Refuse, before planning, a home method opted in (``prefs.home_routes()``) for a drug
    that cannot use it."""
    for route in prefs.home_routes():
        for drug in drugs:
            method(route, drug, prefs, rules)


# ----------------------------------------------------------------------------- measured parts


@dataclass(frozen=True)
class Part:
    """The measured part of one dose: ng of drug, and what makes it (the recipe is built only
    for the doses a plan uses: a plan considers hundreds)."""

    ng: int
    measure: Literal["take", "remove", "weigh"]
    amount: float  # mL measured, or mg of powder weighed
    syringe: Syringe | None = None
    fills: int = 1
    low: float = 100.0
    high: float = 100.0


def _volumes(rules: LiquidRules) -> list[tuple[float, Syringe, int]]:
    """Every volume on the syringes' marks (mL, syringe, fills): smaller syringes first; above
    the largest, whole mL in several fills (project policy); at most half the made-up volume."""
    out: list[tuple[float, Syringe, int]] = []
    below = 0.0
    half = rules.volume_ml.low / 2
    for s in sorted(rules.syringes, key=lambda s: s.ml):
        n = round(below / s.graduation_ml) + 1
        while (v := round(n * s.graduation_ml, 6)) <= min(s.ml, half) + 1e-9:
            if v >= rules.min_measure_ml - 1e-9:
                out.append((v, s, 1))
            n += 1
        below = s.ml
    largest = max(rules.syringes, key=lambda s: s.ml)
    top = min(half, largest.ml * rules.max_fills)
    v = math.floor(largest.ml) + 1.0
    while v <= top + 1e-9:
        out.append((v, largest, math.ceil(v / largest.ml - 1e-9)))
        v += 1.0
    return out


def _liquid_parts(m: Method, rules: HomeRules) -> list[Part]:
    lr = rules.liquid
    whole = lr.tablets * (m.tablet.strength_mg or 0.0)
    per_ml = whole / lr.volume_ml.low
    band = lr.accuracy_percent
    out: list[Part] = []
    for ml, syringe, fills in _volumes(lr):
        taken = ml * per_ml
        out.append(Part(round(taken * NG_PER_MG), "take", ml, syringe, fills, band.low, band.high))
        rest = whole - taken
        if rest > 0:
            low, high = _removed_band(rest, whole, band)
            out.append(Part(round(rest * NG_PER_MG), "remove", ml, syringe, fills, low, high))
    return out


def _removed_band(mg: float, whole: float, band: Sourced) -> tuple[float, float]:
    """Percent of the intended dose taken when the volume removed holds low%-high% of its share:
    the rest, taken, then holds more than intended (the tablet's whole content is in the glass)."""
    removed = whole - mg
    low = (whole - removed * band.high / 100) / mg * 100
    high = (whole - removed * band.low / 100) / mg * 100
    return round(low, 1), round(high, 1)


def _scale_parts(m: Method, rules: HomeRules) -> list[Part]:
    """Portions of the crushed tablet on the scale's steps, from ten readabilities up to (not
    including) the whole tablet; each within one readability step of its weight."""
    read = rules.scale.readability_mg.low
    least = read * rules.scale.min_multiple.low
    weight = m.tablet_weight_mg or 0.0
    strength = m.tablet.strength_mg or 0.0
    out: list[Part] = []
    n = math.ceil(least / read - 1e-9)
    every = max(1, math.ceil((weight - least) / read / MAX_PORTIONS))  # a heavy tablet: coarser
    while (w := round(n * read, 6)) < weight - 1e-9:
        err = read / w * 100
        ng = round(strength * w / weight * NG_PER_MG)
        out.append(Part(ng, "weigh", w, low=round(100 - err, 1), high=round(100 + err, 1)))
        n += every
    return out


def recipe(m: Method, part: Part, rules: HomeRules) -> HomeRecipe:
    """The recipe of one measured part, as data."""
    strength = m.tablet.strength_mg or 0.0
    if part.measure == "weigh":
        sr = rules.scale
        return HomeRecipe(
            method="scale",
            tablet_mg=strength,
            mg=part.ng / NG_PER_MG,
            tablet_weight_mg=m.tablet_weight_mg,
            weigh_mg=part.amount,
            readability_mg=sr.readability_mg.low,
            accuracy=Accuracy(
                low_percent=part.low,
                high_percent=part.high,
                basis="scale-readability",
                sources=[sr.readability_mg.source, sr.min_multiple.source],
            ),
            sources=list(m.sources),
        )
    lr = rules.liquid
    assert part.syringe is not None
    return HomeRecipe(
        method="liquid",
        tablets=lr.tablets,
        tablet_mg=strength,
        mg=part.ng / NG_PER_MG,
        vehicle=m.vehicle,
        dissolves=m.dissolves,
        volume_ml=lr.volume_ml.low,
        measure=part.measure,
        measure_ml=part.amount,
        syringe_ml=part.syringe.ml,
        graduation_ml=part.syringe.graduation_ml,
        fills=part.fills,
        accuracy=Accuracy(
            low_percent=part.low,
            high_percent=part.high,
            basis="dispersed-tablets",
            sources=[lr.accuracy_percent.source],
        ),
        sources=[lr.volume_ml.source, rules.community_source, lr.policy_source, *m.sources],
    )


# ----------------------------------------------------------------------------- the realiser


_REALISERS: dict[tuple[object, ...], Realiser] = {}


def realiser(
    route: HomeRoute, drug: Drug, prefs: Preferences, rules: HomeRules, peak_mg: float
) -> Realiser:
    """The doses of ``drug`` a home method makes up to ``peak_mg`` (one measured part from one
    tablet, plus whole or split tablets), cached; ``HomeMethodRefused`` when it cannot."""
    m = method(route, drug, prefs, rules)
    key = (id(rules), id(drug), route, prefs.market, m.vehicle, m.tablet_weight_mg, peak_mg)
    hit = _REALISERS.get(key)
    if hit is not None:
        return hit
    try:
        solids = dispensing.formulary(drug, prefs.market, liquid=False, compounded=False)
    except UnknownProductError:
        raise HomeMethodRefused(
            f"No {drug.name.lower()} tablet is sold on the {prefs.market} market.",
            drug=drug.id,
            route=route,
            reason="no-tablet",
        ) from None
    parts = _liquid_parts(m, rules) if route == "home-liquid" else _scale_parts(m, rules)
    made = _realiser(route, drug, solids, m, parts, peak_mg, rules)
    _REALISERS[key] = made
    return made


def _realiser(
    route: HomeRoute,
    drug: Drug,
    solids: dispensing.Formulary,
    m: Method,
    parts: list[Part],
    peak_mg: float,
    rules: HomeRules,
) -> Realiser:
    limit = round(peak_mg * NG_PER_MG)
    table = solids.solid_table
    totals = [t for t in sorted(table) if t <= limit and table[t][0] < solids.max_pieces]
    best: dict[int, tuple[int, Part | None]] = {}  # dose (ng) → (solid total, part)
    for t in totals:
        if t:
            best.setdefault(t, (t, None))
    for part in parts:
        for t in totals:
            dose = t + part.ng
            if dose > limit:
                break
            best.setdefault(dose, (t, part))
    grid = tuple(d / NG_PER_MG for d in sorted(best))

    made: dict[int, tuple[float, list[Piece]]] = {}

    def make(mg: float) -> tuple[float, list[Piece]]:
        bounds.check_time()
        if mg <= 0:
            return 0.0, []
        target = round(mg * NG_PER_MG)
        if target not in made:
            # a dose on the grid; anything else (never asked by the planner): the nearest
            t, part = best.get(target) or best[min(best, key=lambda d: (abs(d - target), d))]
            pieces = list(dispensing.make_up(t / NG_PER_MG, solids).pieces) if t else []
            if part is not None:
                pieces.append(_home_piece(m, recipe(m, part, rules)))
            made[target] = ((t + (part.ng if part else 0)) / NG_PER_MG, pieces)
        dose, pieces = made[target]
        return dose, list(pieces)

    return Realiser(drug.id, grid, make, route, measured=True)  # micro-tapering may use it


def _home_piece(m: Method, r: HomeRecipe) -> Piece:
    tablet = m.tablet
    if r.method == "liquid":
        verb = "take" if r.measure == "take" else "remove and discard"
        text = (
            f"1 × {tablet.label} made up to {r.volume_ml:g} mL with {r.vehicle}; "
            f"{verb} {r.measure_ml:g} mL ({r.syringe_ml:g} mL oral syringe"
            + (f", {r.fills} fills" if (r.fills or 1) > 1 else "")
            + ")"
            + ("" if r.measure == "take" else ", take the rest")
            + f" = {r.mg:.4g} mg (made at home)"
        )
    else:
        text = (
            f"1 × {tablet.label} crushed (whole tablet {r.tablet_weight_mg:g} mg); weigh "
            f"{r.weigh_mg:g} mg of the powder = {r.mg:.4g} mg (made at home)"
        )
    return Piece(
        product=tablet.label,
        form=tablet.form,
        strength_mg=tablet.strength_mg,
        quantity=1,
        unit=tablet.unit,
        mg=r.mg,
        text=text,
        home=r,
    )


# ----------------------------------------------------------------------------- the route


def route_change(
    route: HomeRoute,
    drug: Drug,
    rules: HomeRules,
    prefs: Preferences,
    unmade_start: str | None = None,
) -> RouteChange:
    """The route's data (reason and what it needs, for the plan's routes and warnings).
    ``unmade_start``: taken from the start, because no product allowed makes these doses."""
    chosen = method(route, drug, prefs, rules)
    tablet = chosen.tablet.label
    if route == "home-liquid":
        lr = rules.liquid
        how = (
            f"made at home: {lr.tablets} × {tablet} made up to {lr.volume_ml.low:g} mL with "
            f"{chosen.vehicle}, then a measured volume taken or removed with an oral syringe "
            f"(community practice). Doses measured this way were {lr.accuracy_percent.low:g}%-"
            f"{lr.accuracy_percent.high:g}% of the intended dose in a study of dispersed tablets"
        )
        sources = [lr.volume_ml.source, rules.community_source, lr.accuracy_percent.source]
        needs = f"{drug.name} {tablet}s (one a dose is made from), an oral syringe"
        off: dict[str, object] = {"home_liquid": False}
    else:
        sr = rules.scale
        least = sr.readability_mg.low * sr.min_multiple.low
        how = (
            f"made at home: one {tablet} crushed and a portion weighed on a scale reading "
            f"{sr.readability_mg.low:g} mg; no portion under {least:g} mg (ten times the "
            "readability) is used"
        )
        sources = [sr.readability_mg.source, sr.min_multiple.source, rules.community_source]
        needs = f"{drug.name} {tablet}s and a milligram scale"
        off = {"scale": False}
    return RouteChange.model_construct(
        route=route,
        drug=drug.id,
        step=0,
        start=dt.date.min,
        chosen="asked",
        reason=(
            (
                f"{unmade_start}, so from the start the doses are {how}. "
                if unmade_start
                else f"The tablets cannot make the next small cut of {drug.name}; the doses "
                f"are {how}. "
            )
            + (
                "Its label says it is unstable in solution: make each dose just before taking it. "
                if chosen.unstable
                else ""
            )
            + "This is not a licensed method: it needs your prescriber's agreement."
        ),
        prescription=f"{needs}; your prescriber's agreement to make the doses at home.",
        preference=off,
        sources=list(dict.fromkeys([*sources, *chosen.sources, rules.caution_source])),
    )
