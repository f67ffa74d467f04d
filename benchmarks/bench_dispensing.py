"""How fast the dose optimiser is, cold (first sight of a target) and warm (cached).

Prints figures for the shipped diazepam formularies and ends with ``make_up_warm_us=<x>``.
"""

from __future__ import annotations

import statistics
import time

from benzotaper.catalogue import MARKETS, default_catalogue
from benzotaper.planning.dispensing import _make_formulary, achievable_doses, make_up


def main() -> None:
    drug = default_catalogue().drug("diazepam")
    targets = [i / 40 for i in range(1, 1601)]  # 0.025 mg steps to 40 mg
    builds: list[float] = []
    cold: list[float] = []
    warm: list[float] = []
    for market in MARKETS:
        for liquid in (False, True):
            for compounded in (False, True):
                t0 = time.perf_counter()
                f = _make_formulary(drug, market, liquid=liquid, compounded=compounded)
                achievable_doses(f, 40)
                builds.append(time.perf_counter() - t0)
                for t in targets:
                    t0 = time.perf_counter()
                    make_up(t, f)
                    cold.append(time.perf_counter() - t0)
                for t in targets:
                    t0 = time.perf_counter()
                    make_up(t, f)
                    warm.append(time.perf_counter() - t0)
    us = 1e6
    print(f"formulary + achievable_doses(40 mg): median {statistics.median(builds) * 1e3:.2f} ms")
    print(
        f"make_up cold: median {statistics.median(cold) * us:.1f} µs, "
        f"max {max(cold) * us:.1f} µs ({len(cold)} targets)"
    )
    print(f"make_up warm: median {statistics.median(warm) * us:.2f} µs")
    print(f"make_up_warm_us={statistics.median(warm) * us:.2f}")


if __name__ == "__main__":
    main()
