"""One drug as a linear system: gut → parent → active metabolites, with every value's source.

State x (mg of the dose in each compartment; index 0 is the gut), x' = K·x, a dose of D mg adds
F·D to the gut. Rates are per hour. Volumes are not modelled: amounts stand in for
concentrations, so levels are in relative units (mg in the body), which is said in every output.

Diazepam-equivalent (DE) activity: A(t) = s·Σ_c w_c·x_c(t), with w the relative potencies
(0 for the gut) and s chosen so that under a constant dose rate R (mg/h) the steady-state value
is the drug's DE dose rate in mg/day, s·w·x_ss = 24·q·R with x_ss = −K⁻¹·F·e₀·R and q mg
diazepam per mg of the drug. So a regimen's time-averaged activity at steady state equals its
daily DE dose, and the shared occupancy model (defined on the DE dose) applies to A(t) directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from benzotaper.catalogue.catalogue import DIAZEPAM, normalise_name
from benzotaper.catalogue.models import Drug, Sourced
from benzotaper.errors import SimulationError, UnknownSourceError
from benzotaper.pk.assumptions import PARENT, DrugAssumption, PkAssumptions

FloatArray = NDArray[np.float64]
LN2 = math.log(2.0)


@dataclass(frozen=True)
class ParameterUsed:
    """One value the simulation used, where it came from, and whether it is an assumption."""

    drug: str
    name: str
    value: float
    unit: str
    source: str
    assumption: bool
    note: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "drug": self.drug,
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "source": self.source,
            "assumption": self.assumption,
            "note": self.note,
        }


@dataclass(frozen=True)
class DrugModel:
    """The linear system of one drug, ready to simulate."""

    drug_id: str
    compartments: tuple[str, ...]  # "gut" first, then the circulating species
    rates: FloatArray  # K, per hour
    bioavailability: float
    potency: FloatArray  # w per compartment (gut 0)
    de_per_mg: float  # q: mg diazepam-equivalent per mg of this drug
    activity_scale: float  # s: DE mg/day per unit of w·x
    parameters: tuple[ParameterUsed, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())

    @property
    def size(self) -> int:
        return len(self.compartments)

    @property
    def input_vector(self) -> FloatArray:
        """Where F·(1 mg) lands: the gut."""
        b = np.zeros(self.size)
        b[0] = self.bioavailability
        return b

    @property
    def activity_weights(self) -> FloatArray:
        """DE activity (mg/day) per mg in each compartment."""
        return self.activity_scale * self.potency


def ka_from_tmax(tmax_h: float, ke_per_h: float) -> float:
    """Absorption rate giving the parent's peak at ``tmax_h`` (Garrett 1994: ke·tmax = ln m/(m−1)).

    m = ka/ke > 1 when ke·tmax < 1 (the usual case), m < 1 ("flip-flop") when ke·tmax > 1,
    and ka = ke exactly when ke·tmax = 1.
    """
    if tmax_h <= 0 or ke_per_h <= 0:
        raise SimulationError("tmax and the elimination rate must be positive")
    s = ke_per_h * tmax_h
    if abs(s - 1.0) < 1e-12:
        return ke_per_h

    def g(log_m: float) -> float:  # ln m / (m − 1) − ke·tmax, in log m for a wide bracket
        return log_m / math.expm1(log_m) - s

    lo, hi = (1e-9, 60.0) if s < 1 else (-60.0, -1e-9)
    if g(lo) * g(hi) > 0:
        raise SimulationError(f"No absorption rate fits tmax {tmax_h:g} h with this half-life.")
    from scipy.optimize import brentq  # lazily: scipy.optimize is slow to import

    return ke_per_h * math.exp(brentq(g, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=500))


def de_per_mg(drug: Drug, source: str) -> float:
    """mg diazepam equal to 1 mg of ``drug`` by ``source`` (midpoint where a range is given)."""
    if drug.id == DIAZEPAM:
        return 1.0
    eq = drug.equivalent(source)
    if eq is None:
        raise UnknownSourceError(
            f"Source {source!r} gives no diazepam equivalent for {drug.name}: "
            f"choose one of {', '.join(e.source for e in drug.equivalents)}."
        )
    return 10.0 / eq.mid


class _Recorder:
    """Collects every value used, so outputs can show it beside its source."""

    def __init__(self, drug_id: str) -> None:
        self.drug_id = drug_id
        self.used: list[ParameterUsed] = []

    def take(self, name: str, fact: Sourced, unit: str, note: str | None = None) -> float:
        value = fact.mid
        extra = f"midpoint of {fact.low:g}-{fact.high:g}" if fact.is_range else None
        text = "; ".join(x for x in (note, extra, fact.note) if x) or None
        self.used.append(
            ParameterUsed(self.drug_id, name, value, unit, fact.source, fact.unverified, text)
        )
        return value

    def derived(self, name: str, value: float, unit: str, note: str) -> float:
        self.used.append(
            ParameterUsed(self.drug_id, name, value, unit, "garrett1994-bateman", True, note)
        )
        return value


def build_drug_model(
    drug: Drug,
    assumptions: PkAssumptions,
    *,
    source: str,
    age: int | None = None,
) -> DrugModel:
    """The linear system for ``drug``; older adults (age ≥ elderly_age) get sourced longer t½.

    Built in the order the values depend on each other: each species' elimination rate, then
    absorption (ka is derived from tmax and the first species' elimination), then the rate matrix
    and potencies, then the scale that makes steady-state activity equal the daily DE dose.
    Every value taken is recorded with its source (``DrugModel.parameters``).
    """
    rec = _Recorder(drug.id)
    notes: list[str] = []
    elderly = age is not None and age >= assumptions.elderly_age
    plan = assumptions.for_drug(drug.id)
    k_elim = _elimination_rates(drug, assumptions, plan, elderly, rec, notes)
    species = list(k_elim)
    _note_unmodelled_metabolites(drug, assumptions, species, notes)
    ka, f_oral = _absorption(drug, assumptions, plan, species[0], k_elim[species[0]], rec)
    names = ("gut", *species)
    k, potency = _rate_matrix(drug, assumptions, plan, names, k_elim, ka, rec)

    q = de_per_mg(drug, source)
    b = np.zeros(len(names))
    b[0] = f_oral
    x_ss = -np.linalg.solve(k, b)  # steady amounts per 1 mg/h dosed
    activity_ss = float(potency @ x_ss)
    if activity_ss <= 0:
        raise SimulationError(f"{drug.name}: no active species to simulate.")
    return DrugModel(
        drug_id=drug.id,
        compartments=names,
        rates=k,
        bioavailability=f_oral,
        potency=potency,
        de_per_mg=q,
        activity_scale=24.0 * q / activity_ss,
        parameters=tuple(rec.used),
        notes=tuple(notes),
    )


def _elimination_rates(
    drug: Drug,
    assumptions: PkAssumptions,
    plan: DrugAssumption,
    elderly: bool,
    rec: _Recorder,
    notes: list[str],
) -> dict[str, float]:
    """Each circulating species' elimination rate, in chain order: the parent first (unless it
    is a prodrug, which does not circulate itself), then each product of the described chain."""
    k_elim: dict[str, float] = {}
    if not drug.pk.prodrug:
        k_elim[drug.id] = LN2 / _parent_half_life(drug, elderly, rec, notes)
    for link in plan.links:
        k_elim[link.product] = LN2 / _species_half_life(
            drug, link.product, assumptions, elderly, rec, notes
        )
    if not k_elim:
        raise SimulationError(f"{drug.name} is a prodrug but no active product is described.")
    return k_elim


def _note_unmodelled_metabolites(
    drug: Drug, assumptions: PkAssumptions, species: list[str], notes: list[str]
) -> None:
    """Say which active metabolites the catalogue lists but no chain models: the simulated
    level then understates the drug's activity, and the reader must know it."""
    prodrug = drug.pk.prodrug
    modelled = {normalise_name(s) for s in species}
    for name in species[0 if prodrug else 1 :]:
        modelled |= {normalise_name(a) for a in assumptions.species[name].aliases}
    unmodelled = [
        m.name for m in drug.metabolites if m.active and normalise_name(m.name) not in modelled
    ]
    if unmodelled:
        notes.append(
            f"{drug.name}: active metabolite(s) {', '.join(unmodelled)} not modelled "
            "(no chain described in pk_assumptions.toml)."
        )


def _absorption(
    drug: Drug,
    assumptions: PkAssumptions,
    plan: DrugAssumption,
    first: str,
    k_first: float,
    rec: _Recorder,
) -> tuple[float, float]:
    """(ka, oral bioavailability) into the first species. No source publishes ka for these
    drugs, so it is derived from tmax (the catalogue's, else the chain's, else the labelled
    default) and marked as an assumption."""
    if drug.pk.prodrug and plan.tmax_h is not None:
        tmax = rec.take("tmax", plan.tmax_h, "h", f"of {first} after {drug.name}")
    elif drug.pk.tmax_h is not None:
        tmax = rec.take("tmax", drug.pk.tmax_h, "h")
    elif plan.tmax_h is not None:
        tmax = rec.take("tmax", plan.tmax_h, "h")
    else:
        tmax = rec.take("tmax", assumptions.default_tmax_h, "h", "no published tmax")
    ka = rec.derived(
        "absorption rate ka",
        ka_from_tmax(tmax, k_first),
        "1/h",
        "ASSUMPTION: derived from tmax and the elimination rate (no published ka used)",
    )
    if drug.pk.bioavailability is not None:
        f_oral = rec.take("bioavailability", drug.pk.bioavailability, "fraction")
    else:
        f_oral = rec.take("bioavailability", assumptions.default_bioavailability, "fraction")
    return ka, f_oral


def _rate_matrix(
    drug: Drug,
    assumptions: PkAssumptions,
    plan: DrugAssumption,
    names: tuple[str, ...],
    k_elim: dict[str, float],
    ka: float,
    rec: _Recorder,
) -> tuple[FloatArray, FloatArray]:
    """K (index 0 the gut, then the species in chain order) and each compartment's potency.

    A prodrug's gut empties into its first product; otherwise into the parent, whose elimination
    feeds the chain by each link's sourced fraction.
    """
    prodrug = drug.pk.prodrug
    index = {name: i for i, name in enumerate(names)}
    n = len(names)
    k = np.zeros((n, n))
    k[0, 0] = -ka
    for name, rate in k_elim.items():
        k[index[name], index[name]] = -rate
    if not prodrug:
        k[index[drug.id], 0] += ka
    potency = np.zeros(n)
    if not prodrug:
        potency[index[drug.id]] = 1.0
    for link in plan.links:
        frac = rec.take(f"fraction {link.precursor} -> {link.product}", link.fraction, "fraction")
        if link.precursor == PARENT:
            src = 0 if prodrug else index[drug.id]
            rate = ka if prodrug else k_elim[drug.id]
        else:
            src = index[link.precursor]
            rate = k_elim[link.precursor]
        k[index[link.product], src] += frac * rate
        potency[index[link.product]] = rec.take(
            f"relative potency of {link.product}",
            assumptions.species[link.product].relative_potency,
            "x parent",
        )
    return k, potency


def _parent_half_life(drug: Drug, elderly: bool, rec: _Recorder, notes: list[str]) -> float:
    if elderly and drug.pk.half_life_elderly_h is not None:
        return rec.take("half-life", drug.pk.half_life_elderly_h, "h", "older adult")
    fact = drug.pk.half_life_h or drug.half_life_h
    if fact is None:
        raise SimulationError(f"The catalogue gives no half-life for {drug.name}: cannot simulate.")
    if elderly:
        notes.append(f"{drug.name}: no sourced older-adult half-life; the adult value is used.")
    return rec.take("half-life", fact, "h", "adult")


def _species_half_life(
    drug: Drug,
    name: str,
    assumptions: PkAssumptions,
    elderly: bool,
    rec: _Recorder,
    notes: list[str],
) -> float:
    spec = assumptions.species[name]
    label = f"half-life of {name}"
    if elderly and spec.half_life_elderly_h is not None:
        return rec.take(label, spec.half_life_elderly_h, "h", "older adult")
    fact = spec.half_life_h
    if fact is None:
        names = {normalise_name(n) for n in (name, *spec.aliases)}
        fact = next(
            (m.half_life_h for m in drug.metabolites if normalise_name(m.name) in names), None
        )
    if fact is None:
        raise SimulationError(f"No half-life for {name} (metabolite of {drug.name}).")
    if elderly:
        notes.append(f"{name}: no sourced older-adult half-life; the adult value is used.")
    return rec.take(label, fact, "h", "adult")
