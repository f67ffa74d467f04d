"""The Typer application object and the one place errors become messages and exit codes."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console

from benzotaper.errors import BenzotaperError

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="benzotaper",
    help=(
        "Plan, follow and adapt a safe benzodiazepine or Z-drug taper. "
        "Never stop these medicines abruptly; agree every change with your prescriber."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

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
    if isinstance(data, BaseModel):
        text = data.model_dump_json(indent=2, by_alias=True)
    else:
        text = json.dumps(data, indent=2, default=str)
    sys.stdout.write(text + "\n")
