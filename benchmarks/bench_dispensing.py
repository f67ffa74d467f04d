"""How fast the dose optimiser is: cold (each target seen for the first time, the real work) and
warm (the memoised answer, a dictionary look-up: shown for comparison, never the headline).

For every shipped diazepam formulary (market × liquid × compounded) on a fresh formulary: the
tables are built, then every target from 0.025 to 40 mg in 0.025 mg steps is optimised once
(cold) and asked again (warm). Per formulary the slowest target is named.

Last line: ``make_up_cold_median_us=<x> make_up_cold_max_us=<y> worst="<formulary, target>"``.
"""

from __future__ import annotations

import statistics
import time

from benzotaper.catalogue import MARKETS, default_catalogue
from benzotaper.planning.dispensing import _make_formulary, achievable_doses, make_up

US = 1e6


def main() -> None:
    drug = default_catalogue().drug("diazepam")
    targets = [i / 40 for i in range(1, 1601)]  # 0.025 mg steps to 40 mg
    all_cold: list[float] = []
    worst = (0.0, "")
    print(
        f"{'formulary':32s} {'build':>9s} {'cold p50':>10s} {'cold p99':>10s} {'cold max':>10s}"
        f" {'warm p50':>9s}  slowest target"
    )
    for market in MARKETS:
        for liquid in (False, True):
            for compounded in (False, True):
                label = f"{market} liquid={liquid:d} compounded={compounded:d}"
                t0 = time.perf_counter()
                f = _make_formulary(drug, market, liquid=liquid, compounded=compounded)
                achievable_doses(f, 40)
                build = time.perf_counter() - t0
                cold: list[tuple[float, float]] = []
                for t in targets:
                    t0 = time.perf_counter()
                    make_up(t, f)
                    cold.append((time.perf_counter() - t0, t))
                warm = []
                for t in targets:
                    t0 = time.perf_counter()
                    make_up(t, f)
                    warm.append(time.perf_counter() - t0)
                secs = sorted(c for c, _ in cold)
                slow = max(cold)
                all_cold += secs
                if slow[0] > worst[0]:
                    worst = (slow[0], f"{label}, {slow[1]:g} mg")
                print(
                    f"{label:32s} {build * 1e3:7.2f}ms {statistics.median(secs) * US:8.1f}µs "
                    f"{secs[int(len(secs) * 0.99)] * US:8.1f}µs {slow[0] * US:8.1f}µs "
                    f"{statistics.median(warm) * US:7.2f}µs  {slow[1]:g} mg"
                )
    print(
        f"make_up_cold_median_us={statistics.median(all_cold) * US:.1f} "
        f"make_up_cold_max_us={worst[0] * US:.1f} worst={worst[1]!r}"
    )


if __name__ == "__main__":
    main()
