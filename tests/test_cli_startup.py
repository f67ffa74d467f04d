"""CLI start-up: a command imports only what it uses (``benchmarks/bench_cli.py`` times it)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import benzotaper.cli
from benzotaper.cli.app import COMMANDS, app
from tests.cli import run_cli

HEAVY = ("sqlalchemy", "alembic", "numpy", "scipy", "matplotlib", "fastapi", "markdown_it")


def test_every_command_is_in_the_lazy_table_with_its_summary() -> None:
    from typer.main import get_command_from_info

    for module in pkgutil.iter_modules(benzotaper.cli.__path__):
        if module.name != "app" and not module.name.startswith("_"):
            importlib.import_module(f"benzotaper.cli.{module.name}")
    registered = {info.name for info in app.registered_commands}
    assert registered == set(COMMANDS), "add new commands to COMMANDS in benzotaper/cli/app.py"
    for info in app.registered_commands:
        assert info.callback is not None
        lazy = COMMANDS[str(info.name)]
        assert info.callback.__module__ == f"benzotaper.cli.{lazy.module}"
        command = get_command_from_info(
            info, pretty_exceptions_short=True, rich_markup_mode=app.rich_markup_mode
        )
        first = inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]
        assert lazy.summary == first, f"update {info.name!r}'s summary in COMMANDS"


def test_help_lists_every_command_with_its_summary() -> None:
    done = run_cli("--help")
    assert done.returncode == 0
    for name, lazy in COMMANDS.items():
        assert f" {name} " in done.stdout
        assert lazy.summary.split()[-1] in done.stdout


def test_convert_and_plan_load_no_database_numerics_or_markdown() -> None:
    """One fresh process runs ``--help``, ``convert`` and ``plan`` in turn and reports which
    heavy packages each left in ``sys.modules`` (in-process runs would see the test's own)."""
    script = f"""
import sys
from benzotaper.cli import app
HEAVY = {HEAVY!r}
for args in (["convert", "clonazepam", "1mg"], ["plan", "--take", "diazepam 10 mg at 08:00",
             "--format", "json"]):
    try:
        app(args)
    except SystemExit as exc:
        assert exc.code in (0, None), (args, exc.code)
    loaded = sorted(h for h in HEAVY if h in sys.modules)
    print(args[0], "loaded:", ",".join(loaded) or "nothing heavy", file=sys.stderr)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "convert loaded: nothing heavy" in done.stderr, done.stderr[-2000:]
    assert "plan loaded: nothing heavy" in done.stderr, done.stderr[-2000:]
