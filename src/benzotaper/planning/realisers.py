"""Realisers: how the doses of one drug are made at one dose-time, on one route.

The taper loop works with numbers (mg of a drug at a dose-time, per day). A realiser says which
numbers are possible (``grid``, sorted, above zero) and turns one into the doses to take (the
pieces from the dispensing module). The person's own products are one realiser; a tail route
(an oral liquid, compounded capsules, medication-free nights) swaps in another from the step
where it starts, so every later dose is made on that route.

A *weekly* realiser (medication-free nights, deprescribing.org) makes an average daily dose from
a pattern of nightly doses over each week: its grid holds the averages that whole nights can make
(a week's total over 7) and ``doses`` returns one Dose per amount, with the days of the week it
is taken.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from benzotaper.planning import bounds, dispensing
from benzotaper.planning.models import Dose, Piece, TailRoute

#: Days in the repeating pattern of a weekly realiser.
WEEK = 7

MakeFn = Callable[[float], tuple[float, list[Piece]]]


@dataclass(frozen=True, eq=False)
class Realiser:
    """The doses of ``drug`` possible at one dose-time, and the pieces for each.

    ``route`` is None for the person's own products, else the tail route it belongs to.
    ``measured``: doses are measured in small amounts (an oral liquid by syringe, or another
    measured method), as micro-tapering needs.
    """

    drug: str
    grid: tuple[float, ...]
    make: MakeFn
    route: TailRoute | None = None
    weekly: bool = False
    measured: bool = False
    _patterns: dict[float, tuple[float, ...]] = field(default_factory=dict, repr=False)
    _made: dict[tuple[str, float], tuple[Dose, ...]] = field(default_factory=dict, repr=False)
    #: realisers made from this one (weekly patterns, preferred products), memoised: pure
    _derived: dict[tuple[object, ...], tuple[object, Realiser]] = field(
        default_factory=dict, repr=False
    )

    def derived(
        self, key: tuple[object, ...], other: object, build: Callable[[], Realiser]
    ) -> Realiser:
        """``build()``, memoised under ``key`` for as long as ``other`` (its other input) is the
        same object."""
        hit = self._derived.get(key)
        if hit is not None and hit[0] is other:
            return hit[1]
        made = build()
        self._derived[key] = (other, made)
        return made

    def doses(self, time: str, mg: float) -> list[Dose]:
        """What to take at ``time`` for ``mg`` a day (an average, for a weekly realiser).

        Memoised per realiser (a pure function of its products; realisers of the person's
        products are themselves memoised per formulary): a plan takes the same dose on many
        steps, and plans are made often. The Doses are shared: never change one in place.
        """
        return list(self.made(time, mg))

    def made(self, time: str, mg: float) -> tuple[Dose, ...]:
        """``doses`` as the memoised tuple itself (for callers that only read it)."""
        key = (time, round(mg, 9))
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = tuple(self._doses(time, mg))
        return made

    def _doses(self, time: str, mg: float) -> list[Dose]:
        if mg <= 0:
            return [_dose(time, self.drug, 0.0, [])]
        if not self.weekly:
            made, pieces = self.make(mg)
            return [_dose(time, self.drug, made, pieces)]
        return self._week(time, mg)

    def pattern(self, mg: float) -> tuple[float, ...]:
        """Nightly doses, day 0 to 6 of each week, whose average is ``mg`` (weekly only; found
        by ``mg`` to 6 decimals)."""
        return self._patterns[round(mg, 6)]

    def _week(self, time: str, mg: float) -> list[Dose]:
        nights = self.pattern(mg)
        out: list[Dose] = []
        for amount in sorted({n for n in nights if n > 0}, reverse=True):
            made, pieces = self.make(amount)
            days = [i for i, n in enumerate(nights) if n == amount]
            on_days = None if len(days) == WEEK else days
            out.append(_dose(time, self.drug, made, pieces, on_days))
        return out


def _dose(
    time: str, drug: str, mg: float, pieces: list[Piece], on_days: list[int] | None = None
) -> Dose:
    return Dose(time=time, drug=drug, mg=mg, make_up=pieces, on_days=on_days)


def cached_make(formulary: dispensing.Formulary) -> MakeFn:
    """make_up as (mg, pieces), with 0 mg made of nothing."""

    def make(mg: float) -> tuple[float, list[Piece]]:
        bounds.check_time()  # the planning budget (planning/bounds.py)
        if mg <= 0:
            return 0.0, []
        mu = dispensing.make_up(mg, formulary)
        return mu.mg, list(mu.pieces)

    return make


def from_formulary(
    formulary: dispensing.Formulary, peak_mg: float, route: TailRoute | None = None
) -> Realiser:
    """The realiser of a formulary: every dose its pieces make exactly, up to ``peak_mg``.

    Memoised on the (cached) formulary: a realiser is a pure function of the products, so its
    grid and the doses it has made serve every later plan of the same drug and market.
    """
    key = f"realiser:{peak_mg!r}:{route}"
    hit = formulary._tables.get(key)
    if isinstance(hit, Realiser):
        return hit
    grid = tuple(dispensing.achievable_doses(formulary, peak_mg))
    made = Realiser(
        formulary.drug, grid, cached_make(formulary), route, measured=bool(formulary.liquids)
    )
    formulary._tables[key] = made
    return made


#: Software policy: nightly amounts a weekly pattern may use (the largest ones, plus the smallest).
MAX_NIGHTLY_AMOUNTS = 16


def weekly(base: Realiser, peak_mg: float, route: TailRoute = "nights") -> Realiser:
    """Averages of whole-night patterns from ``base``'s doses (none above ``peak_mg`` a night).

    Software policy: a week mixes at most two amounts (one may be no dose); each average keeps
    the pattern with the most nights with a dose (medication-free nights only once the smallest
    dose is reached), then the larger smaller amount, spread evenly over the week.
    """
    return base.derived(
        ("weekly", round(peak_mg, 9), route), None, lambda: _weekly(base, peak_mg, route)
    )


def _weekly(base: Realiser, peak_mg: float, route: TailRoute) -> Realiser:
    amounts = [g for g in base.grid if g <= peak_mg + 1e-9]
    if len(amounts) > MAX_NIGHTLY_AMOUNTS:
        amounts = [amounts[0], *amounts[-(MAX_NIGHTLY_AMOUNTS - 1) :]]
    best: dict[float, tuple[tuple[int, float], tuple[float, ...]]] = {}
    for high in amounts:
        for low in (0.0, *(a for a in amounts if a < high)):
            for n_low in range(WEEK):
                nights = (high,) * (WEEK - n_low) + (low,) * n_low
                avg = round(sum(nights) / WEEK, 6)  # the same average, whichever nights
                key = (nights.count(0.0), -low)
                if avg not in best or key < best[avg][0]:
                    best[avg] = (key, nights)
    patterns = {avg: spread(nights) for avg, (_, nights) in best.items()}
    # the grid holds each pattern's exact average (as equivalents.daily_totals computes it),
    # so the taper loop paces the averages the steps' DEs are computed from
    grid = sorted(_average(nights) for _, nights in best.values())
    return Realiser(base.drug, tuple(grid), base.make, route, weekly=True, _patterns=patterns)


def _average(nights: Sequence[float]) -> float:
    """The exact mg a day of a week of nights (the night's dose itself when every night is the
    same, as a dose taken every day counts in ``equivalents.daily_totals``)."""
    return nights[0] if len(set(nights)) == 1 else math.fsum(nights) / WEEK


def spread(nights: Sequence[float]) -> tuple[float, ...]:
    """The same nightly doses in an order that spreads the smaller ones evenly over the week."""
    ordered = sorted(nights, reverse=True)
    largest = ordered[0]
    small = [n for n in ordered if n != largest]
    slots = [largest] * WEEK
    if small:
        step = WEEK / len(small)
        for i, n in enumerate(small):
            slots[min(WEEK - 1, int((i + 0.5) * step))] = n
    return tuple(slots)


def exact_only(base: Realiser) -> Realiser:
    """``base``, except that a dose its products cannot make exactly is shown without pieces
    (a crossover's source dose taken now that no listed product makes)."""
    return base.derived(("exact",), None, lambda: _exact_only(base))


def _exact_only(base: Realiser) -> Realiser:

    def make(mg: float) -> tuple[float, list[Piece]]:
        i = bisect.bisect_right(base.grid, mg + 1e-9)
        if i and abs(base.grid[i - 1] - mg) <= 1e-9:
            return base.make(mg)
        return round(mg, 4), []

    return Realiser(base.drug, base.grid, make, base.route, measured=base.measured)


def prefer(base: Realiser, fine: Realiser) -> Realiser:
    """``fine``'s doses, made by ``base`` whenever ``base`` makes them exactly: e.g. diazepam
    tablets, with diazepam oral liquid only for the doses tablets cannot make."""
    return base.derived(("prefer", id(fine)), fine, lambda: _prefer(base, fine))


def _prefer(base: Realiser, fine: Realiser) -> Realiser:
    grid = tuple(sorted({*base.grid, *fine.grid}))

    def make(mg: float) -> tuple[float, list[Piece]]:
        i = bisect.bisect_right(base.grid, mg + 1e-9)
        if i and abs(base.grid[i - 1] - mg) <= 1e-9:
            return base.make(mg)
        return fine.make(mg)

    return Realiser(base.drug, grid, make, fine.route, measured=fine.measured)
