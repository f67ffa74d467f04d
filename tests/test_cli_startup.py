"""CLI start-up: a command imports only what it uses (``benchmarks/bench_cli.py`` times it)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import benzotaper.cli
from benzotaper.cli.app import COMMANDS, app
from benzotaper.knowledge import default_knowledge
from tests.cli import run_cli

HEAVY = (
    "sqlalchemy",
    "alembic",
    "numpy",
    "scipy",
    "matplotlib",
    "fastapi",
    "markdown_it",
    "rich.markdown",
    "pydantic_settings",
    "importlib.metadata",  # pydantic's plugin search: turned off by the console script
)
#: What each command must not import: the heavy packages, the parts of benzotaper it does not
#: use (``convert`` no planner; ``plan`` no journal or pharmacokinetics, and no crossover or
#: home-method code for a plan that switches nothing and makes no dose at home), and for JSON
#: no rich.
NOT_FOR = {
    "convert": (*HEAVY, "benzotaper.planning", "benzotaper.journal", "benzotaper.pk"),
    "plan": (
        *HEAVY,
        "benzotaper.journal",
        "benzotaper.pk",
        "benzotaper.storage",
        "rich",
        "benzotaper.planning.crossover",
        "benzotaper.planning.home_methods",
    ),
}


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


ARGS = {
    "convert": ["convert", "clonazepam", "1mg"],
    "plan": ["plan", "--take", "diazepam 10 mg at 08:00", "--format", "json"],
}


@pytest.mark.parametrize("command", sorted(NOT_FOR))
def test_a_command_imports_only_what_it_uses(command: str) -> None:
    """A fresh process runs the command as the console script does (``benzotaper.cli.main``)
    and reports what it had loaded that it must not (an in-process run would see the test's
    own imports). The validated snapshot of the data is made first, as a person's first run
    makes it: without it the strict loader runs, which imports every rules module."""
    default_knowledge()
    script = f"""
import sys
sys.argv = ["benzotaper", *{ARGS[command]!r}]
from benzotaper.cli import main
try:
    main()
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
print("loaded:", sorted(n for n in {NOT_FOR[command]!r} if n in sys.modules), file=sys.stderr)
import gc
print("gc threshold:", gc.get_threshold()[0], file=sys.stderr)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "loaded: []" in done.stderr, done.stderr[-2000:]
    # the console script's process collects less often (benzotaper.cli._short_lived)
    assert f"gc threshold: {benzotaper.cli.GC_THRESHOLD}" in done.stderr, done.stderr[-2000:]


def test_the_console_scripts_plugin_loader_answers_as_pydantics_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``main`` puts a loader without imports in place of pydantic's when plugins are off: it
    must answer what pydantic's own answers then (no plugins), and ``get_plugins`` must be all
    that pydantic takes from it (an upgrade that uses more fails here, not in a shell)."""
    from pathlib import Path

    import pydantic
    from pydantic.plugin import _loader

    from benzotaper.cli import LOADER, PLUGINS_ENV, PLUGINS_OFF

    assert _loader.__name__ == LOADER
    for value in PLUGINS_OFF:
        monkeypatch.setenv(PLUGINS_ENV, value)
        assert tuple(_loader.get_plugins()) == ()
    uses = {
        line.strip()
        for path in Path(pydantic.__file__).parent.rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if "_loader import" in line
    }
    assert uses == {"from ._loader import get_plugins"}


def test_a_console_highlights_on_a_terminal_only() -> None:
    """Plain text (a pipe, a file) is written without rich's highlighting, which would only add
    styles that plain text drops (a start-up saving); a terminal keeps its colours."""
    import io

    from benzotaper.cli.app import _FirstUse

    text = "Take 2.5 mg at 'night'"
    plain, terminal = io.StringIO(), io.StringIO()
    _FirstUse(file=plain, emoji=False, width=80).print(text)
    _FirstUse(
        file=terminal, force_terminal=True, color_system="standard", emoji=False, width=80
    ).print(text)
    assert plain.getvalue() == text + "\n"
    assert "\x1b[" in terminal.getvalue()  # the number and the quoted word, highlighted
