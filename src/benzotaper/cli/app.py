"""The Typer application object and the one place errors become messages and exit codes.

Commands are imported only when they run: :data:`COMMANDS` names the module that registers each
one, so ``benzotaper convert`` never loads SQLAlchemy, Alembic, numpy or matplotlib. ``--help``
lists every command with its summary from the same table, importing none of them; a command's
own ``--help`` (and a test's CliRunner) imports that command's module. Rich is imported when
something is first written through :data:`console` or :func:`table` (``--format json`` never
imports it).
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any, NamedTuple, ParamSpec, TypeVar, cast

import typer
from typer.core import TyperCommand, TyperGroup

from benzotaper.errors import BenzotaperError

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console
    from rich.table import Table
    from typer import _click as click  # typer's own copy of click (types only)

P = ParamSpec("P")
R = TypeVar("R")


class Lazy(NamedTuple):
    """Where a command is registered and the summary ``benzotaper --help`` lists for it."""

    module: str
    summary: str


#: Every command, the module (in ``benzotaper.cli``) that registers it and its summary (the
#: first paragraph of its help), in help order. ``--help`` lists these without importing any
#: command module. A new command must be added here (a test checks the table against the
#: modules, summaries included).
COMMANDS: dict[str, Lazy] = {
    "convert": Lazy(
        "catalogue_cmds", "Convert a dose to its equivalent in another drug (diazepam by default)."
    ),
    "drugs": Lazy("catalogue_cmds", "List every drug in the catalogue."),
    "drug": Lazy(
        "catalogue_cmds",
        "Show one drug: equivalents per source, half-lives, and products per market.",
    ),
    "total": Lazy(
        "catalogue_cmds",
        "Sum several drugs (a polydrug regimen) to one diazepam-equivalent daily total.",
    ),
    "edit": Lazy(
        "corrections",
        "Correct a journal entry: a new revision is added, the earlier one stays in the history.",
    ),
    "retract": Lazy(
        "corrections",
        "Withdraw a journal entry (e.g. entered twice): it leaves the journal, not the history.",
    ),
    "history": Lazy(
        "corrections", "Journal entries (with their ids) and plan versions, newest last."
    ),
    "reinstate": Lazy(
        "reinstate",
        "Go back to the dose before the most recent cut, hold it, then taper again with smaller\n"
        "cuts: a new plan version from today. Agree it with your prescriber first.",
    ),
    "export": Lazy(
        "export",
        "Export a plan: PDF schedule, calendar reminders, CSV, HL7 FHIR, or a taper story.",
    ),
    "today": Lazy(
        "journal", "What to take today, with the tablets or liquid that make up each dose."
    ),
    "take": Lazy("journal", "Record a dose taken (or --missed, or --extra)."),
    "checkin": Lazy(
        "journal", "Record how you are: withdrawal scales, a quick 0-10 check-in, danger signs."
    ),
    "sleep": Lazy(
        "journal",
        "Record last night in the sleep diary (Consensus Sleep Diary); shows TIB, TST and SE.",
    ),
    "note": Lazy(
        "journal",
        "Record a note, a life event, or another medicine or aid (gabapentin, melatonin, CBT-I).",
    ),
    "status": Lazy(
        "journal", "Plan version, current step, next cut, hold and why, latest scores, adherence."
    ),
    "export-data": Lazy(
        "journal", "Export your whole journal (every plan version and entry revision) as JSON."
    ),
    "import-data": Lazy(
        "journal", "Import a journal exported with export-data into this (empty) journal."
    ),
    "plan": Lazy(
        "plan",
        "Make a taper plan from the doses you take now. Agree it with your prescriber first.",
    ),
    "compare": Lazy(
        "compare",
        "Strategies and paces side by side, tapering directly or switching to diazepam first, "
        "and\nthe tail routes a plan could take (steps, weeks, what must be prescribed).",
    ),
    "serve": Lazy(
        "serve",
        "Start the web app (default http://127.0.0.1:8000) on BENZOTAPER_DATABASE_URL or SQLite.",
    ),
    "migrate": Lazy(
        "serve",
        "Bring the database (BENZOTAPER_DATABASE_URL or SQLite) to the newest schema, once.",
    ),
    "simulate": Lazy(
        "simulate",
        "Simulate a regimen taken every day: levels, diazepam-equivalent activity, occupancy.",
    ),
    "chart": Lazy(
        "simulate",
        "Chart a regimen's simulated level and occupancy, or compare two regimens' swings.",
    ),
}


class _LazyCommands(MutableMapping[str, Any]):
    """The group's commands: the names from :data:`COMMANDS` at once, each command built the
    first time it is looked up (its module imported then)."""

    def __init__(self, loaded: MutableMapping[str, Any]) -> None:
        self.loaded = loaded

    def _load(self, name: str) -> None:
        """Import the command's module and build that one command (not its neighbours: each
        costs an inspection of its signature)."""
        from typer.main import get_command_from_info

        importlib.import_module(f"benzotaper.cli.{COMMANDS[name].module}")
        for info in app.registered_commands:
            if info.name == name:
                self.loaded[name] = get_command_from_info(
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
    """The top-level group, with commands loaded on first use. Its own help lists each
    command's name and summary from :data:`COMMANDS`, importing none of them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = _LazyCommands(self.commands)
        self.commands = self.lazy
        self._listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = COMMANDS.get(cmd_name)
        if self._listing and lazy and cmd_name not in self.lazy.loaded:
            return TyperCommand(cmd_name, help=lazy.summary)
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


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


#: What the running command opened and must close when it ends (``close_when_done``).
_to_close: list[Callable[[], None]] = []


def close_when_done(close: Callable[[], None]) -> None:
    """Call ``close`` when the running command ends, however it ends. A shell's process exits
    anyway; a caller running commands in its own process (Typer's CliRunner in the tests)
    would otherwise leave, e.g., open database connections to the garbage collector."""
    _to_close.append(close)


def _close_all() -> None:
    while _to_close:
        _to_close.pop()()


@app.callback()
def _root(ctx: typer.Context) -> None:
    """Plan, follow and adapt a safe benzodiazepine or Z-drug taper."""
    ctx.call_on_close(_close_all)


class _FirstUse:
    """A rich ``Console`` made when first used, so a command that writes nothing through it
    (JSON output, a file export) never imports rich. Rich finds ``sys.stdout`` when it writes,
    not when made, so the output goes where it always went (a test's CliRunner included)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
            if self._console.color_system is None:
                # Plain text (a pipe, a file, a test): highlighting only adds styles, which
                # plain text drops, so the output is the same without it; finding numbers and
                # strings to colour (rich's ReprHighlighter: a dozen regular expressions
                # compiled on first use) was ~2% of ``convert``. A terminal keeps its colours.
                self._console = Console(**self._options, highlight=False)
        return getattr(self._console, name)


#: ``emoji=False``: text is shown as written. Rich would otherwise turn ``:name:`` codes into
#: emoji, in what a person typed too (a note "felt :smile:" showed "felt 😄"); benzotaper's own
#: words have none, and the table of 3,600 codes is then never loaded (~1% of ``convert``).
console = cast("Console", _FirstUse(emoji=False))
err_console = cast("Console", _FirstUse(stderr=True, emoji=False))


def rich_table(*headers: str, **options: Any) -> Table:
    """A rich ``Table`` (imported here, when a command first draws one)."""
    from rich.table import Table

    return Table(*headers, **options)


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
        import json  # here: a command that prints no JSON dict never imports it

        text = json.dumps(data, indent=2, default=str)
    sys.stdout.write(text + "\n")
