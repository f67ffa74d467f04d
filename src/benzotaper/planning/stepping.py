"""Turning an asked-for cut into doses real products can make, one dose-time at a time.

Rules (each a guardrail in the issue):
- a cut never makes any dose-time larger (doses never rise);
- the realised cut is the largest one not above the cut asked for; when products allow no such
  cut, the smallest cut they allow is taken instead and the step is lengthened so that the rate
  (cut per day) stays within what was asked - the caller does the lengthening;
- which dose-time is cut first follows the dose-time rule (see ``cut_order``).
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Mapping, Sequence

from benzotaper.planning.rules import DoseTimeRule

EPS = 1e-6


def cut_order(doses: Mapping[str, float], rule: DoseTimeRule) -> list[str]:
    """Dose-times (HH:MM) in the order they are cut.

    ``daytime-first``: earliest first, so the last dose of the day (the night dose) goes last -
    NHS Scotland's worked example reduces the morning dose to zero before the night dose.
    ``night-first``: the reverse. ``largest-first``: the largest current dose, ties earliest.
    ``across`` (every dose-time cut together, see ``cut_across``) breaks its ties the same way
    as ``largest-first``.
    """
    times = sorted(doses)
    if rule == "night-first":
        return times[::-1]
    if rule in ("largest-first", "across"):
        return sorted(times, key=lambda t: (-doses[t], t))
    return times


def snap_down(mg: float, grid: Sequence[float]) -> float:
    """The largest realisable dose not above ``mg`` (0.0 when even the smallest is larger)."""
    i = bisect.bisect_right(grid, mg + EPS)
    return grid[i - 1] if i else 0.0


def unmade(mg: float, grid: Sequence[float]) -> bool:
    """Whether ``mg`` is a dose the products (``grid``) cannot make: above nothing (``EPS``) and
    above the largest dose they make not above it. The one test of it, for the taper loop's
    doses and the words a tail route says of them."""
    return mg > EPS and snap_down(mg, grid) < mg - EPS


def next_below(mg: float, grid: Sequence[float]) -> float:
    """The largest realisable dose strictly below ``mg`` (0.0 if none)."""
    i = bisect.bisect_left(grid, mg - EPS)
    return grid[i - 1] if i else 0.0


def smallest_at_least(lo: float, below: float, grid: Sequence[float]) -> float | None:
    """The smallest realisable dose in [lo, below), 0.0 counting when lo <= 0; None if none."""
    if lo <= EPS:
        return 0.0
    i = bisect.bisect_left(grid, lo - EPS)
    if i < len(grid) and grid[i] < below - EPS:
        return grid[i]
    return None


def cut(
    doses: Mapping[str, float],
    target_total: float,
    order: Sequence[str],
    grid: Sequence[float],
) -> dict[str, float]:
    """New per-time doses: the largest cut towards ``target_total`` that products allow without
    going below it; if products allow no cut at all within it, the smallest possible cut.

    ``doses`` must already be realisable (on ``grid``); the result always totals less than them.
    """
    total = sum(doses.values())
    remaining = total - target_total
    new = dict(doses)
    for t in order:
        c = new[t]
        if c <= EPS:
            continue
        if remaining >= c - EPS:
            new[t] = 0.0
            remaining -= c
            if remaining <= EPS:
                return new
            continue
        x = smallest_at_least(c - remaining, c, grid)
        if x is not None:
            new[t] = x
            return new
        break
    if sum(new.values()) < total - EPS:
        return new  # some dose-times were cut; the rest of the cut waits for the next step
    # No cut within the request is possible: the smallest one products allow.
    return smallest_cut(doses, order, grid) or dict(doses)


def cut_across(
    doses: Mapping[str, float],
    target_total: float,
    order: Sequence[str],
    grid: Sequence[float],
) -> dict[str, float]:
    """New per-time doses sharing the cut between every dose-time in proportion to its dose:
    the largest cut not below ``target_total`` that products allow, and among equal cuts the
    most even one (the smallest spread of each time's relative cut; ties in ``order``). When no
    such cut exists, the smallest possible cut (the largest dose-time first on ties).

    Each time's dose is rounded down or up to the doses around its proportional share, never
    above what it is now, so a time is not dropped long before the others.
    """
    total = sum(doses.values())
    times = [t for t in order if doses[t] > EPS]
    share = target_total / total if total > 0 else 0.0
    choices = [_around(doses[t] * share, doses[t], grid) for t in times]
    best: tuple[float, float, tuple[float, ...]] | None = None
    for combo in itertools.product(*choices):
        s = sum(combo)
        if s >= total - EPS or s < target_total - EPS:
            continue
        cuts = [(doses[t] - mg) / doses[t] for t, mg in zip(times, combo, strict=True)]
        key = (round(s, 9), max(cuts) - min(cuts), combo)
        if best is None or key[:2] < best[:2]:
            best = key
    if best is None:
        return smallest_cut(doses, order, grid) or dict(doses)
    new = dict(doses)
    new.update(zip(times, best[2], strict=True))
    return new


def _around(ideal: float, current: float, grid: Sequence[float]) -> list[float]:
    """The realisable doses just below and just above ``ideal`` (0 counts), at most ``current``."""
    low = snap_down(ideal, grid)
    high = smallest_at_least(ideal, current + EPS, grid)
    return sorted({x for x in (low, high, current) if x is not None and x <= current + EPS})


def smallest_cut(
    doses: Mapping[str, float], order: Sequence[str], grid: Sequence[float]
) -> dict[str, float] | None:
    """The smallest cut the products allow: one dose-time down to its next lower dose, the
    dose-time whose cut is smallest (ties: the first in ``order``); None if none can go lower."""
    best: tuple[float, str] | None = None
    for t in order:
        c = doses[t]
        if c <= EPS:
            continue
        step = c - next_below(c, grid)
        if best is None or step < best[0] - EPS:
            best = (step, t)
    if best is None:
        return None
    new = dict(doses)
    new[best[1]] = next_below(doses[best[1]], grid)
    return new


def lengthened_days(every_days: int, realised: float, asked: float) -> int:
    """Days a step needs so ``realised`` (a fraction) keeps within ``asked`` per ``every_days``."""
    if asked <= 0 or realised <= asked + EPS:
        return every_days
    return max(every_days, math.ceil(every_days * realised / asked - EPS))


def days_for_rate(fraction: float, max_fraction_per_14_days: float) -> int:
    """Fewest days a cut of ``fraction`` needs to stay within the maximum rate."""
    return max(1, math.ceil(fraction * 14 / max_fraction_per_14_days - EPS))
