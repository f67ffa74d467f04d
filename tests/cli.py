"""The command line as tests drive it: in-process through Typer's CliRunner.

``run_cli`` invokes the same Typer app the ``benzotaper`` entry point runs and returns what a
shell would see (exit code, stdout, stderr kept apart). It saves the ~1 s of imports a subprocess
pays per call; ``tests/test_cli_smoke.py`` keeps one real subprocess per command.

An exception that escapes a command is re-raised here rather than folded into an exit code: in a
shell it would be a traceback, which is always a defect, so the test must fail loudly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from typer.testing import CliRunner

from benzotaper.cli import app

#: What the subprocess tests used to pass: a wide terminal and no colour codes.
DEFAULT_ENV = {"COLUMNS": "200", "NO_COLOR": "1"}


@dataclass(frozen=True)
class Ran:
    """A finished command, with the field names of subprocess.CompletedProcess."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: Mapping[str, str] | None = None, input: str | None = None) -> Ran:
    """Run ``benzotaper ARGS`` in this process; ``env`` is added to the environment meanwhile."""
    result = CliRunner().invoke(app, list(args), env={**DEFAULT_ENV, **(env or {})}, input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)
