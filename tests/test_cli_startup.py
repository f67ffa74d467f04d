"""CLI start-up: a command imports only what it uses (``benchmarks/bench_cli.py`` times it)."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import benzotaper.cli
from benzotaper.cli.app import COMMANDS, app

HEAVY = ("sqlalchemy", "alembic", "numpy", "scipy", "matplotlib", "fastapi", "markdown_it")


def test_every_command_is_in_the_lazy_table() -> None:
    for module in pkgutil.iter_modules(benzotaper.cli.__path__):
        if module.name != "app" and not module.name.startswith("_"):
            importlib.import_module(f"benzotaper.cli.{module.name}")
    registered = {info.name for info in app.registered_commands}
    assert registered == set(COMMANDS), "add new commands to COMMANDS in benzotaper/cli/app.py"
    for info in app.registered_commands:
        assert info.callback is not None
        assert info.callback.__module__ == f"benzotaper.cli.{COMMANDS[str(info.name)]}"


def imported_by(*args: str) -> set[str]:
    """Top-level packages a fresh ``python -m benzotaper ARGS`` imports (``-X importtime``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "benzotaper", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


@pytest.mark.parametrize(
    "args",
    [
        ("convert", "clonazepam", "1mg"),
        ("plan", "--take", "diazepam 10 mg at 08:00", "--format", "json"),
    ],
    ids=["convert", "plan"],
)
def test_convert_and_plan_load_no_database_or_numerics(args: tuple[str, ...]) -> None:
    loaded = imported_by(*args)
    assert "benzotaper" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
