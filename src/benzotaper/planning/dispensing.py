"""Doses that can really be taken, and how many tablets or mL to dispense.

A *formulary* is the set of products one person may use for one drug in one market. ``make_up``
chooses the pieces for one administration by an exact, lexicographic objective:

1. smallest ``|realised - target|``;
2. on a tie, the smaller dose wins (never exceed the target when an equally close lower dose
   exists: in a taper, the risk of an unplanned rise outweighs that of a slightly larger cut);
3. fewest pieces (a half or a quarter tablet is one piece; a measured volume of liquid is one);
4. fewest splits (each half or quarter piece counts as one split);
5. whole solids over a measured liquid or compounded capsule (simpler to take and to dispense);
6. a fixed, deterministic choice among what is still equal (larger strengths first, then
   plain tablets before capsules and orally disintegrating tablets).

All arithmetic is in integer nanograms (quarter tablets of 0.125 mg and 0.1 mL of any listed
concentration are then exact), so the optimum is exact, not approximate; a test compares it with
brute-force enumeration. Targets are first rounded to the whole microgram (the cache key).

Software policy (not clinical claims), stated here so outputs can cite them:

* ``MAX_PIECES_PER_DOSE``: at most 6 pieces in one administration.
* At most one *measured* piece per administration: either one liquid (one product) or one
  compounded capsule; tablets may be added to it.
* Liquids are measured to 0.1 mL, at most ``MAX_LIQUID_ML`` (one fill of a 10 mL oral syringe);
  the syringe named is the smallest of 1, 3, 5 or 10 mL that holds the volume.
* Compounded capsules (only when allowed) can be made at any multiple of a step of one tenth of
  the smallest marketed solid strength, rounded down to a 1-2-5 series value (e.g. diazepam 2 mg
  → 0.2 mg; alprazolam 0.25 mg → 0.02 mg), up to the largest marketed strength (larger doses
  are made from marketed tablets). One capsule per administration.
* A target below half the smallest piece can realise to 0 mg (no pieces): the planner chooses
  step doses from ``achievable_doses`` so that this never silently drops a dose.
* Extended-release products are never used for tapering: they must not be split and release the
  dose over hours, so their dose steps are coarse and their timing differs.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, cast

from benzotaper.catalogue.models import Drug, Form, Market, Product, Split
from benzotaper.errors import UnknownProductError
from benzotaper.planning.models import DispenseLine, Dose, Piece, Step

MAX_PIECES_PER_DOSE = 6
MAX_LIQUID_ML = 10.0
SYRINGES_ML = (1, 3, 5, 10)
COMPOUNDED_STEP_FRACTION = 10  # step = smallest marketed strength / 10, rounded down to 1-2-5

NG_PER_MG = 1_000_000
NG_PER_UG = 1_000

_FRACTION_TEXT = {1: "", 2: "½", 4: "¼"}
_QUARTERS_TEXT = {0: "", 1: "¼", 2: "½", 3: "¾"}
_SOLID_FORMS = (Form.TABLET, Form.ODT, Form.CAPSULE)
_ER_FORMS = (Form.ER_TABLET, Form.ER_CAPSULE)
_FORM_PREFERENCE = {Form.TABLET: 0, Form.CAPSULE: 1, Form.ODT: 2, Form.COMPOUNDED_CAPSULE: 3}


# ----------------------------------------------------------------------------- formulary


class Excluded(NamedTuple):
    """A product of the drug on this market that the formulary does not use, and why."""

    product: str
    reason: str


class SolidPiece(NamedTuple):
    """One kind of piece: a whole tablet/capsule, or a half or quarter of a scored tablet."""

    option: int  # index into Formulary.solids
    parts: int  # 1 whole, 2 half, 4 quarter
    ng: int
    splits: int  # 0 for a whole piece, 1 for a half or quarter


class Option(NamedTuple):
    """One usable product: a solid of fixed strength, a liquid, or the compounded capsule."""

    label: str
    form: Form
    unit: Literal["tablet", "capsule", "mL"]
    strength_mg: float | None = None
    mg_per_ml: float | None = None
    split: Split = Split.NONE
    source: str | None = None
    name: str | None = None

    @classmethod
    def of(cls, product: Product) -> Option:
        unit: Literal["tablet", "capsule", "mL"]
        if product.form.is_liquid:
            unit = "mL"
        elif product.form in (Form.CAPSULE, Form.COMPOUNDED_CAPSULE):
            unit = "capsule"
        else:
            unit = "tablet"
        return cls(
            label=product.label,
            form=product.form,
            unit=unit,
            strength_mg=product.strength_mg,
            mg_per_ml=product.mg_per_ml,
            split=product.split,
            source=product.source,
            name=product.name,
        )


@dataclass(frozen=True)
class Formulary:
    """The products one person may use for one drug on one market (see module docstring)."""

    drug: str
    drug_name: str
    market: Market
    liquid: bool
    compounded: bool
    solids: tuple[Option, ...]
    liquids: tuple[Option, ...] = ()
    compounded_step_mg: float | None = None
    compounded_max_mg: float | None = None
    excluded: tuple[Excluded, ...] = ()
    max_pieces: int = MAX_PIECES_PER_DOSE
    max_liquid_ml: float = MAX_LIQUID_ML
    _cache: dict[int, MakeUp] = field(default_factory=dict, compare=False, hash=False, repr=False)
    _tables: dict[str, object] = field(default_factory=dict, compare=False, hash=False, repr=False)

    # -- derived tables, computed once per formulary -------------------------------------

    @property
    def piece_kinds(self) -> tuple[SolidPiece, ...]:
        """Every kind of solid piece, larger first (the deterministic tie-break order)."""
        cached = self._tables.get("kinds")
        if cached is None:
            kinds: list[SolidPiece] = []
            for i, opt in enumerate(self.solids):
                whole = round((opt.strength_mg or 0) * NG_PER_MG)
                kinds.append(SolidPiece(i, 1, whole, 0))
                for parts in (2, 4):
                    if opt.split.pieces >= parts:
                        kinds.append(SolidPiece(i, parts, whole // parts, 1))
            kinds.sort(key=lambda k: (-k.ng, k.splits, k.option))
            cached = self._tables["kinds"] = tuple(kinds)
        return cached  # type: ignore[return-value]

    @property
    def measured_units(self) -> tuple[tuple[int, int, int], ...]:
        """(option index or -1 for compounded, ng per unit, max units) for each measured kind."""
        cached = self._tables.get("measured")
        if cached is None:
            out: list[tuple[int, int, int]] = []
            max_tenths = round(self.max_liquid_ml * 10)
            for i, opt in enumerate(self.liquids):
                out.append((i, round((opt.mg_per_ml or 0) * NG_PER_MG / 10), max_tenths))
            if self.compounded_step_mg is not None:
                step = round(self.compounded_step_mg * NG_PER_MG)
                top = round((self.compounded_max_mg or 0) * NG_PER_MG) // step
                out.append((-1, step, top))
            cached = self._tables["measured"] = tuple(out)
        return cached  # type: ignore[return-value]

    @property
    def solid_table(self) -> dict[int, tuple[int, int, tuple[int, ...]]]:
        """Every solid total (ng) → (pieces, splits, piece-kind indices) at its best."""
        cached = self._tables.get("solid")
        if cached is None:
            cached = self._tables["solid"] = _solid_table(self.piece_kinds, self.max_pieces)
        return cached  # type: ignore[return-value]

    @property
    def solid_totals(self) -> list[int]:
        cached = self._tables.get("solid_sorted")
        if cached is None:
            cached = self._tables["solid_sorted"] = sorted(self.solid_table)
        return cached  # type: ignore[return-value]


def formulary(drug: Drug, market: Market, *, liquid: bool, compounded: bool) -> Formulary:
    """The products this person may use for ``drug`` on ``market`` (cached per drug object)."""
    key = (id(drug), market, liquid, compounded)
    hit = _FORMULARIES.get(key)
    if hit is not None and hit[0] is drug:
        return hit[1]
    made = _make_formulary(drug, market, liquid=liquid, compounded=compounded)
    _FORMULARIES[key] = (drug, made)
    return made


_FORMULARIES: dict[tuple[int, str, bool, bool], tuple[Drug, Formulary]] = {}


def _make_formulary(drug: Drug, market: Market, *, liquid: bool, compounded: bool) -> Formulary:
    solids: list[Option] = []
    liquids: list[Option] = []
    excluded: list[Excluded] = []
    for product in drug.products_in(market):
        if product.form in _ER_FORMS:
            excluded.append(
                Excluded(
                    product.label,
                    "extended-release: must not be split and releases the dose over hours, "
                    "so it is not used for tapering steps",
                )
            )
        elif product.form.is_liquid:
            if liquid:
                liquids.append(Option.of(product))
            else:
                excluded.append(Excluded(product.label, "liquid not allowed in this plan"))
        elif product.form is Form.SUBLINGUAL_TABLET:
            excluded.append(
                Excluded(
                    product.label,
                    "sublingual tablet: must not be split, and is licensed for a fixed "
                    "bedtime or middle-of-the-night dose, so it is not used for tapering steps",
                )
            )
        elif product.form is Form.COMPOUNDED_CAPSULE:
            if compounded:
                solids.append(Option.of(product))
            else:
                excluded.append(
                    Excluded(product.label, "compounded products not allowed in this plan")
                )
        elif product.form in _SOLID_FORMS:
            solids.append(Option.of(product))
    step = top = None
    marketed = [
        o.strength_mg
        for o in solids
        if o.strength_mg is not None and o.form is not Form.COMPOUNDED_CAPSULE
    ]
    if compounded and marketed:
        step = compounded_step_mg(min(marketed))
        top = max(marketed)
    if not solids and not liquids:
        raise UnknownProductError(_no_product_message(drug, market, liquid, compounded))
    # larger strengths first, plain tablets before other forms: the deterministic tie-break
    solids.sort(key=lambda o: (-(o.strength_mg or 0), _FORM_PREFERENCE.get(o.form, 9)))
    liquids.sort(key=lambda o: (-(o.mg_per_ml or 0), o.form.value))
    return Formulary(
        drug=drug.id,
        drug_name=drug.name,
        market=market,
        liquid=liquid,
        compounded=compounded,
        solids=tuple(solids),
        liquids=tuple(liquids),
        compounded_step_mg=step,
        compounded_max_mg=top,
        excluded=tuple(excluded),
    )


def compounded_step_mg(smallest_strength_mg: float) -> float:
    """Policy: one tenth of the smallest marketed strength, rounded down to a 1-2-5 value."""
    raw_ug = smallest_strength_mg * 1000 / COMPOUNDED_STEP_FRACTION
    if raw_ug < 1:
        return 0.001
    decade = 10.0 ** math.floor(math.log10(raw_ug))
    mantissa = max(m for m in (1, 2, 5) if m * decade <= raw_ug * (1 + 1e-9))
    return mantissa * decade / 1000


def _no_product_message(drug: Drug, market: Market, liquid: bool, compounded: bool) -> str:
    name = drug.name.lower()
    products = drug.products_in(market)
    if not products:
        hints = ["cross over to diazepam"] if drug.id != "diazepam" else []
        tail = f"; {' or '.join(hints)}" if hints else ""
        return f"No {name} product is listed for the {market} market{tail}."
    missing = []
    hints = []
    if not liquid and any(p.form.is_liquid for p in products):
        missing.append("liquid")
        hints.append("allow oral solution (--liquid)")
    if not compounded and any(p.form is Form.COMPOUNDED_CAPSULE for p in products):
        missing.append("compounded capsules")
        hints.append("allow compounded capsules (--compounded)")
    if drug.id != "diazepam":
        hints.append("cross over to diazepam")
    without = f" without {' or '.join(missing)}" if missing else " for tapering"
    tail = f"; {' or '.join(hints)}" if hints else ""
    return f"No {name} product on the {market} market can be used{without}{tail}."


# ----------------------------------------------------------------------------- make-up


class MakeUp(NamedTuple):
    """The pieces for one administration. Shared from a cache: treat as read-only."""

    target_mg: float
    mg: float
    pieces: list[Piece]
    deviation_mg: float  # realised - target (negative: below the target)
    piece_count: int
    splits: int


def _solid_table(
    kinds: Sequence[SolidPiece], max_pieces: int
) -> dict[int, tuple[int, int, tuple[int, ...]]]:
    """Layered search: first layer reaching a total has fewest pieces; keep fewest splits there."""
    best: dict[int, tuple[int, int, tuple[int, ...]]] = {0: (0, 0, ())}
    frontier: dict[int, tuple[int, tuple[int, ...]]] = {0: (0, ())}
    for n in range(1, max_pieces + 1):
        layer: dict[int, tuple[int, tuple[int, ...]]] = {}
        for total, (splits, combo) in frontier.items():
            for k, kind in enumerate(kinds):
                t = total + kind.ng
                s = splits + kind.splits
                old = layer.get(t)
                if old is None or s < old[0]:
                    layer[t] = (s, (*combo, k))
        for t, (s, combo) in layer.items():
            if t not in best:
                best[t] = (n, s, combo)
        frontier = layer
    return best


# A candidate: (sort key, solid total, measured kind index or -1 for none, units)
_Key = tuple[int, int, int, int, int]


def _key(target: int, total: int, pieces: int, splits: int, measured: int) -> _Key:
    dev = total - target
    return (abs(dev), 1 if dev > 0 else 0, pieces, splits, measured)


def _search(target: int, f: Formulary) -> tuple[_Key, int, int, int]:
    table = f.solid_table
    totals = f.solid_totals
    best: tuple[_Key, int, int, int] | None = None
    # solids alone: only the two totals around the target can be nearest; others may tie
    i = bisect.bisect_left(totals, target)
    for t in totals[max(0, i - 1) : i + 1]:
        pieces, splits, _ = table[t]
        cand = (_key(target, t, pieces, splits, 0), t, -1, 0)
        if best is None or cand < best:
            best = cand
    assert best is not None  # 0 is always in the table
    # one measured piece (liquid or compounded capsule) on top of a solid total
    for m, (_, unit, max_units) in enumerate(f.measured_units):
        if max_units < 1:
            continue
        for t in totals:
            if t + unit > target + best[0][0]:
                break  # even one unit on top of a larger total is further away than the best
            pieces, splits, _ = table[t]
            if pieces + 1 > f.max_pieces:
                continue
            q = (target - t) // unit
            for units in {min(max(q, 1), max_units), min(max(q + 1, 1), max_units)}:
                cand = (_key(target, t + units * unit, pieces + 1, splits, 1), t, m, units)
                if cand < best:
                    best = cand
    return best


def make_up(target_mg: float, formulary: Formulary) -> MakeUp:
    """The exact best pieces for ``target_mg`` (see the module docstring for the objective)."""
    if target_mg < 0 or not math.isfinite(target_mg):
        raise ValueError(f"target dose must be a finite number ≥ 0, not {target_mg!r}")
    target_ug = round(target_mg * 1000)
    hit = formulary._cache.get(target_ug)
    if hit is not None:
        return hit
    target = target_ug * NG_PER_UG
    (_, _, pieces, splits, _), solid, m, units = _search(target, formulary)
    realised = solid + (formulary.measured_units[m][1] * units if m >= 0 else 0)
    made = MakeUp(
        target_mg=target_ug / 1000,
        mg=realised / NG_PER_MG,
        pieces=_pieces(formulary, solid, m, units),
        deviation_mg=(realised - target) / NG_PER_MG,
        piece_count=pieces,
        splits=splits,
    )
    formulary._cache[target_ug] = made
    return made


def _pieces(f: Formulary, solid: int, m: int, units: int) -> list[Piece]:
    kinds = f.piece_kinds
    quarters: dict[int, int] = {}
    for k in f.solid_table[solid][2]:
        kind = kinds[k]
        quarters[kind.option] = quarters.get(kind.option, 0) + 4 // kind.parts
    out: list[Piece] = []
    for i in sorted(quarters):
        opt = f.solids[i]
        q = quarters[i]
        strength = opt.strength_mg or 0
        out.append(
            Piece(
                product=opt.label,
                form=opt.form,
                strength_mg=strength,
                quantity=q / 4,
                unit=opt.unit,
                mg=round(strength * q / 4, 6),
                text=f"{_count_text(q)} × {opt.label}",
            )
        )
    if m >= 0:
        idx, unit_ng, _ = f.measured_units[m]
        if idx >= 0:
            liq = f.liquids[idx]
            ml = units / 10
            out.append(
                Piece(
                    product=liq.label,
                    form=liq.form,
                    mg_per_ml=liq.mg_per_ml,
                    quantity=ml,
                    unit="mL",
                    mg=units * unit_ng / NG_PER_MG,
                    text=f"{ml:g} mL of {liq.label} (measure with a {syringe_ml(ml)} mL "
                    "oral syringe)",
                )
            )
        else:
            mg = units * unit_ng / NG_PER_MG
            label = f"{mg:g} mg compounded capsule"
            out.append(
                Piece(
                    product=label,
                    form=Form.COMPOUNDED_CAPSULE,
                    strength_mg=mg,
                    quantity=1,
                    unit="capsule",
                    mg=mg,
                    text=f"1 × {label} (made up by a pharmacy)",
                )
            )
    return out


def _count_text(quarters: int) -> str:
    whole, frac = divmod(quarters, 4)
    if whole and frac:
        return f"{whole}{_QUARTERS_TEXT[frac]}"
    return str(whole) if whole else _QUARTERS_TEXT[frac]


def syringe_ml(ml: float) -> int:
    """The smallest oral syringe (1, 3, 5 or 10 mL) that measures ``ml`` in one fill."""
    for size in SYRINGES_ML:
        if ml <= size + 1e-9:
            return size
    return SYRINGES_ML[-1]


def achievable_doses(formulary: Formulary, max_mg: float) -> list[float]:
    """Sorted distinct doses above zero, up to ``max_mg``, that the piece policy makes exactly."""
    limit = round(max_mg * NG_PER_MG)
    key = f"achievable:{limit}"
    cached = formulary._tables.get(key)
    if cached is not None:
        return list(cast(tuple[float, ...], cached))
    table = formulary.solid_table
    doses = {t for t in table if 0 < t <= limit}
    for _, unit, max_units in formulary.measured_units:
        for t, (pieces, _, _) in table.items():
            if pieces + 1 > formulary.max_pieces:
                continue
            top = min(max_units, (limit - t) // unit)
            doses.update(t + u * unit for u in range(1, top + 1))
    out = [d / NG_PER_MG for d in sorted(doses)]
    formulary._tables[key] = tuple(out)
    return out


# ----------------------------------------------------------------------------- dispensing

# (drug, product label, form, strength_mg, mg_per_ml, unit)
_ItemKey = tuple[str, str, Form, float | None, float | None, Literal["tablet", "capsule", "mL"]]


def dispense(
    steps: Sequence[Step], interval_days: int = 28
) -> tuple[list[DispenseLine], list[DispenseLine]]:
    """Quantities per dispensing interval (consecutive windows from the first step) and in total.

    Rule: within one interval, every piece of a product taken is added up (a half is 0.5 of a
    tablet) and the sum is rounded up to whole tablets or capsules once, so two halves on
    consecutive doses share one tablet; a part tablet left at the end of an interval is not
    carried into the next (each supply stands alone). Liquids are summed in mL exactly (0.1 mL
    steps). The total is the sum of the interval lines. Lines are built without validating again
    (``trusted``): every field comes from validated steps.
    """
    if interval_days < 1:
        raise ValueError("interval_days must be at least 1")
    if not steps:
        return [], []
    first = min(s.start for s in steps)
    last = max(s.end for s in steps)
    usage = _usage(steps, first, interval_days)
    items = sorted(usage, key=lambda k: (k[0], k[1]))
    totals = dict.fromkeys(items, 0.0)
    by_window: dict[int, list[tuple[_ItemKey, int]]] = {}  # items in their sorted order
    for item in items:
        for window, amount in usage[item].items():
            by_window.setdefault(window, []).append((item, amount))
    periods: list[DispenseLine] = []
    span = dt.timedelta(days=interval_days - 1)
    for window in sorted(by_window):
        start = first + dt.timedelta(days=window * interval_days)
        end = min(start + span, last)
        for item, amount in by_window[window]:
            qty = amount / 10 if item[5] == "mL" else float(math.ceil(amount / 4))
            periods.append(_line(item, start, end, qty))
            totals[item] = round(totals[item] + qty, 1)
    return periods, [_line(item, first, last, qty) for item, qty in totals.items()]


def _line(item: _ItemKey, start: dt.date, end: dt.date, quantity: float) -> DispenseLine:
    drug, product, form, strength, per_ml, unit = item
    return DispenseLine.trusted_from(
        {
            "period_start": start,
            "period_end": end,
            "drug": drug,
            "product": product,
            "form": form,
            "strength_mg": strength,
            "mg_per_ml": per_ml,
            "quantity": quantity,
            "unit": unit,
        }
    )


def _usage(
    steps: Sequence[Step], first: dt.date, interval_days: int
) -> dict[_ItemKey, dict[int, int]]:
    """Per (drug, product) → per interval index → quantity in quarters (solids) or tenths of mL.
    A dose of a weekly pattern (medication-free nights) counts only on the days it is taken."""
    usage: dict[_ItemKey, dict[int, int]] = {}
    made: dict[int, list[tuple[_ItemKey, int]]] = {}  # id(dose) → its pieces (doses are shared)
    for step in steps:
        per_day: dict[_ItemKey, int] = {}
        weekly: list[tuple[Dose, list[tuple[_ItemKey, int]]]] = []
        for dose in step.doses:
            pieces = made.get(id(dose))
            if pieces is None:
                pieces = made[id(dose)] = _daily_pieces(dose)
            if dose.on_days is not None:
                weekly.append((dose, pieces))
                continue
            for item, amount in pieces:
                per_day[item] = per_day.get(item, 0) + amount
        if not per_day and not weekly:
            continue
        offset = (step.start - first).days
        a, b = offset, (step.end - first).days
        while a <= b:  # each interval the step's days fall in, and its days there
            window = a // interval_days
            upto = min(b, (window + 1) * interval_days - 1)
            for item, amount in per_day.items():
                _add(usage, item, window, amount * (upto - a + 1))
            for dose, pieces in weekly:
                taken = sum(dose.taken_on(d) for d in range(a - offset, upto - offset + 1))
                for item, amount in pieces if taken else ():
                    _add(usage, item, window, amount * taken)
            a = upto + 1
    return usage


def _add(usage: dict[_ItemKey, dict[int, int]], item: _ItemKey, window: int, amount: int) -> None:
    slot = usage.get(item)
    if slot is None:
        slot = usage[item] = {}
    slot[window] = slot.get(window, 0) + amount


def _daily_pieces(dose: Dose) -> list[tuple[_ItemKey, int]]:
    """What one dose takes of each product a day, in quarter tablets or tenths of mL."""
    return [
        (
            (dose.drug, p.product, p.form, p.strength_mg, p.mg_per_ml, p.unit),
            round(p.quantity * (10 if p.unit == "mL" else 4)),
        )
        for p in dose.make_up
    ]
