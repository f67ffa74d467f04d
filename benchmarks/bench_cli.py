"""CLI start-up: wall time of fresh ``benzotaper`` processes (what a person waits for).

Runs each command ``--repeat`` times in a new process (cold: the first run after the others
may have warmed the OS file cache; the median of the rest is the warm figure) next to the
reference ``python -c pass`` (the interpreter alone), run as often.

Last line: ``cli_convert_ms=<x> cli_plan_ms=<y> python_ms=<z>`` (goal: convert and plan <= 300 ms).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CASES = {
    "python": [sys.executable, "-c", "pass"],
    "convert": [sys.executable, "-m", "benzotaper", "convert", "clonazepam", "1mg"],
    "plan": [
        sys.executable,
        "-m",
        "benzotaper",
        "plan",
        "--take",
        "diazepam 10 mg at 08:00",
        "--format",
        "json",
    ],
    "help": [sys.executable, "-m", "benzotaper", "--help"],
}


def wall_ms(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    warm: dict[str, float] = {}
    for name, cmd in CASES.items():
        cold = wall_ms(cmd)
        runs = [wall_ms(cmd) for _ in range(args.repeat)]
        warm[name] = statistics.median(runs)
        print(
            f"{name:8s} cold {cold:7.0f} ms  warm median {warm[name]:7.0f} ms  "
            f"max {max(runs):7.0f} ms"
        )
    print(
        f"cli_convert_ms={warm['convert']:.0f} cli_plan_ms={warm['plan']:.0f} "
        f"python_ms={warm['python']:.0f}"
    )


if __name__ == "__main__":
    main()
