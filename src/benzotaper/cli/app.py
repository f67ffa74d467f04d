"""The Typer application object and the one place errors become messages and exit codes.

Commands are imported only when they run: :data:`COMMANDS` names the module that registers each
one, so ``benzotaper convert`` never loads SQLAlchemy, Alembic, numpy or matplotlib. ``--help``
(and a test's CliRunner) still see every command: listing them imports them all.
"""

from __future__ import annotations

import functools
import importlib
import json
import sys
from collections.abc import Callable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from typer.core import TyperGroup

from benzotaper.errors import BenzotaperError

if TYPE_CHECKING:
    from pydantic import BaseModel

P = ParamSpec("P")
R = TypeVar("R")

#: Every command and the module (in ``benzotaper.cli``) that registers it, in help order.
#: A new command must be added here (a test checks the table against the modules).
COMMANDS: dict[str, str] = {
    "convert": "catalogue_cmds",
    "drugs": "catalogue_cmds",
    "drug": "catalogue_cmds",
    "total": "catalogue_cmds",
    "edit": "corrections",
    "retract": "corrections",
    "history": "corrections",
    "reinstate": "reinstate",
    "export": "export",
    "today": "journal",
    "take": "journal",
    "checkin": "journal",
    "sleep": "journal",
    "note": "journal",
    "status": "journal",
    "export-data": "journal",
    "import-data": "journal",
    "plan": "plan",
    "compare": "compare",
    "serve": "serve",
    "migrate": "serve",
    "simulate": "simulate",
    "chart": "simulate",
}


class _LazyCommands(MutableMapping[str, Any]):
    """The group's commands: the names from :data:`COMMANDS` at once, each command built the
    first time it is looked up (its module imported then)."""

    def __init__(self, loaded: MutableMapping[str, Any]) -> None:
        self.loaded = loaded

    def _load(self, name: str) -> None:
        from typer.main import get_command_from_info

        importlib.import_module(f"benzotaper.cli.{COMMANDS[name]}")
        for info in app.registered_commands:
            key = info.name or ""
            if key and key not in self.loaded:
                self.loaded[key] = get_command_from_info(
                    info,
                    pretty_exceptions_short=app.pretty_exceptions_short,
                    rich_markup_mode=app.rich_markup_mode,
                )

    def __getitem__(self, name: str) -> Any:
        if name not in self.loaded and name in COMMANDS:
            self._load(name)
        return self.loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self.loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (k for k in list(self.loaded) if k not in COMMANDS)

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self.loaded))

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self.loaded


class LazyGroup(TyperGroup):
    """The top-level group, with commands loaded on first use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _LazyCommands(self.commands)


app = typer.Typer(
    name="benzotaper",
    cls=LazyGroup,
    help=(
        "Plan, follow and adapt a safe benzodiazepine or Z-drug taper. "
        "Never stop these medicines abruptly; agree every change with your prescriber."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Plan, follow and adapt a safe benzodiazepine or Z-drug taper."""


console = Console()
err_console = Console(stderr=True)

#: Exit status for input a person can correct (unknown drug, bad dose, a custom schedule that
#: breaks a guardrail, an entry changed meanwhile, ...): ``exit_code`` of those errors.
EXIT_INPUT = 2
#: Exit status for anything else benzotaper refused on purpose.
EXIT_ERROR = 1


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn typed errors into a clear message and their exit status (each error class carries
    it, see ``benzotaper.errors``), never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except BenzotaperError as exc:
            from benzotaper.cli._journal_words import describe

            err_console.print(f"[bold red]Error:[/] {describe(exc)}", highlight=False)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def print_json(data: BaseModel | dict[str, Any] | list[Any]) -> None:
    """Plain JSON on stdout (no colour codes), so it can be piped into other tools."""
    from pydantic import BaseModel

    if isinstance(data, BaseModel):
        text = data.model_dump_json(indent=2, by_alias=True)
    else:
        text = json.dumps(data, indent=2, default=str)
    sys.stdout.write(text + "\n")
