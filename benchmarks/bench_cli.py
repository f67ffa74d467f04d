"""CLI start-up: wall time of fresh ``benzotaper`` processes (what a person waits for).

Each command runs in a new process of the installed console script (``benzotaper`` next to
this interpreter, as a shell runs it; ``python -m benzotaper`` where there is none), next to the
reference ``python -c pass`` (the interpreter alone). The commands take turns, round after round
(``--repeat`` rounds), so a change of machine load during the run touches every command alike.
Per command it prints the first run (cold: the OS file cache may still be cold), the median and
the maximum of the repeats, the median as a ratio of ``python -c pass``'s median, and the median
CPU time (user + system: less sensitive than wall time to other work on the machine). ``deps``
imports only the libraries every command needs (see ``DEPS``), ``deps-json`` the same without
rich; ``typer`` and ``typer-table`` run the smallest Typer application (one option; the second
also prints a Rich table): the floor of any command written with Typer and Rich. ``today``
reads a journal with a saved plan (a throwaway SQLite file). One more line times ``convert``
with an empty snapshot folder: the first start after a data file changed, when the strict loader
runs and the validated snapshot is written (``benzotaper.snapshot``).
``--importtime CMD`` prints instead the 25 slowest imports of one command (``python -X
importtime``, cumulative).

Last line: ``cli_convert_ms=<x> cli_plan_ms=<y> python_ms=<z>`` (goal: convert and plan <= 300 ms).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("benzotaper")
BIN = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "benzotaper"]
TAKE = ["--take", "diazepam 10 mg at 08:00"]
#: What every command's libraries cost before benzotaper runs a line: Typer (which validates
#: options with pydantic: ``typer._adapters``) and rich's console and table (``convert`` and every
#: table; ``--format json`` needs no rich). pydantic's plugin loader is not in it: the console
#: script puts a stand-in without imports in its place (``benzotaper.cli``). A floor no change
#: to benzotaper can go below.
DEPS = "import typer, typer._adapters, rich.console, rich.table"
#: The smallest Typer application: one command, one string option, given. What any Typer 0.29
#: command pays before doing anything (pydantic included: Typer builds a validator for the
#: option); ``typer-table`` also prints a two-cell Rich table, as ``convert`` prints one.
TYPER_NOOP = """import typer
app = typer.Typer(add_completion=False)
@app.command()
def main(name: str = "x") -> None:
    pass
app(["--name", "y"])"""
TYPER_TABLE = TYPER_NOOP.replace(
    "    pass",
    "    from rich.console import Console\n    from rich.table import Table\n"
    "    t = Table('a', 'b')\n    t.add_row('1', name)\n    Console().print(t)",
)
CASES = {
    "python": [sys.executable, "-c", "pass"],
    "deps": [sys.executable, "-c", DEPS],
    "deps-json": [sys.executable, "-c", DEPS.split(", rich")[0]],  # plan --format json's floor
    "typer": [sys.executable, "-c", TYPER_NOOP],
    "typer-table": [sys.executable, "-c", TYPER_TABLE],
    "help": [*BIN, "--help"],
    "convert": [*BIN, "convert", "clonazepam", "1mg"],
    "drugs": [*BIN, "drugs"],
    "plan": [*BIN, "plan", *TAKE, "--format", "json"],
    "simulate": [*BIN, "simulate", *TAKE, "--days", "3"],
    "today": [*BIN, "today"],
}


def wall_ms(cmd: list[str], env: dict[str, str], cpu: list[float] | None = None) -> float:
    """Wall time of one run; its CPU time (user + system) is appended to ``cpu``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    wall = (time.perf_counter() - t0) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return wall


def importtime(name: str, env: dict[str, str]) -> None:
    """The slowest imports (cumulative microseconds) of one command's fresh process."""
    cmd = CASES[name]
    python = [sys.executable, "-X", "importtime"]
    argv = [*python, "-m", "benzotaper", *cmd[len(BIN) :]] if cmd[0] != sys.executable else cmd
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative_us, module = line.split("|")
            rows.append((int(cumulative_us), module.rstrip()))
    for us, module in sorted(rows, reverse=True)[:25]:
        print(f"{us / 1000:8.1f} ms  {module}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--importtime", choices=sorted(CASES), help="slowest imports of CMD")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "BENZOTAPER_DATABASE_URL": f"sqlite:///{Path(tmp) / 'j.sqlite3'}"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # a person's install has its bytecode cached
        subprocess.run([*BIN, "plan", *TAKE, "--save"], check=True, capture_output=True, env=env)
        if args.importtime:
            importtime(args.importtime, env)
            return
        print(f"load average before: {os.getloadavg()[0]:.2f}  ({' '.join(BIN)})")
        first = {name: wall_ms(cmd, env) for name, cmd in CASES.items()}
        runs: dict[str, list[float]] = {name: [] for name in CASES}
        cpu: dict[str, list[float]] = {name: [] for name in CASES}
        for _ in range(args.repeat):
            for name, cmd in CASES.items():
                runs[name].append(wall_ms(cmd, env, cpu[name]))
        median = {name: statistics.median(times) for name, times in runs.items()}
        for name, times in runs.items():
            print(
                f"{name:9s} first {first[name]:6.0f} ms  median of {args.repeat} "
                f"{median[name]:6.0f} ms  max {max(times):6.0f} ms  "
                f"{median[name] / median['python']:5.1f}x python  "
                f"CPU median {statistics.median(cpu[name]):6.0f} ms"
            )
        fresh = {**env, "BENZOTAPER_CACHE_DIR": str(Path(tmp) / "snapshots")}
        cold = wall_ms(CASES["convert"], fresh)
        print(f"convert without a snapshot (strict loader, writes it): {cold:.0f} ms")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(
        f"cli_convert_ms={median['convert']:.0f} cli_plan_ms={median['plan']:.0f} "
        f"python_ms={median['python']:.0f}"
    )


if __name__ == "__main__":
    main()
