"""CLI start-up: wall time of fresh ``benzotaper`` processes (what a person waits for).

Each command runs ``--repeat`` times in a new process, next to the reference ``python -c pass``
(the interpreter alone), run as often. Per command it prints the first run (cold: the OS file
cache may still be cold), the median and the maximum of the repeats. ``today`` reads a journal
with a saved plan (a throwaway SQLite file). One more line times ``convert`` with an empty
snapshot folder: the first start after a data file changed, when the strict loader runs and the
validated snapshot is written (``benzotaper.snapshot``).

Last line: ``cli_convert_ms=<x> cli_plan_ms=<y> python_ms=<z>`` (goal: convert and plan <= 300 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = [sys.executable, "-m", "benzotaper"]
TAKE = ["--take", "diazepam 10 mg at 08:00"]
CASES = {
    "python": [sys.executable, "-c", "pass"],
    "help": [*BIN, "--help"],
    "convert": [*BIN, "convert", "clonazepam", "1mg"],
    "plan": [*BIN, "plan", *TAKE, "--format", "json"],
    "today": [*BIN, "today"],
}


def wall_ms(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "BENZOTAPER_DATABASE_URL": f"sqlite:///{Path(tmp) / 'j.sqlite3'}"}
        subprocess.run([*BIN, "plan", *TAKE, "--save"], check=True, capture_output=True, env=env)
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        median: dict[str, float] = {}
        for name, cmd in CASES.items():
            cold = wall_ms(cmd, env)
            runs = [wall_ms(cmd, env) for _ in range(args.repeat)]
            median[name] = statistics.median(runs)
            print(
                f"{name:8s} first {cold:7.0f} ms  median of {args.repeat} {median[name]:7.0f} ms"
                f"  max {max(runs):7.0f} ms"
            )
        fresh = {**env, "BENZOTAPER_CACHE_DIR": str(Path(tmp) / "snapshots")}
        first = wall_ms(CASES["convert"], fresh)
        print(f"convert without a snapshot (strict loader, writes it): {first:.0f} ms")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(
        f"cli_convert_ms={median['convert']:.0f} cli_plan_ms={median['plan']:.0f} "
        f"python_ms={median['python']:.0f}"
    )


if __name__ == "__main__":
    main()
