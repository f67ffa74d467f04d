"""One real subprocess per command: the installed ``benzotaper`` entry point, as a shell runs it.

Every other CLI test runs in-process (tests/cli.py). These check what only a real process shows:
the console script starts, imports what each command needs, writes to the real stdout/stderr
and exits with the right status. One process per command, with small inputs: a real process
costs its start-up (tests/test_cli_startup.py and benchmarks/bench_cli.py watch it). ``serve``
has its own subprocess test (tests/web/test_browser.py), the interactive check-in another
(tests/journal/test_cli.py). A refused input (exit status 2, a message, no traceback) in a real
process: tests/exports/test_cli_export.py; in-process, each command's own tests.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benzotaper.cli.app import COMMANDS
from tests.cli import run_cli

URL = "BENZOTAPER_DATABASE_URL"
BIN = Path(sys.executable).with_name("benzotaper")
TAKE = ["--take", "diazepam 5 mg at 08:00", "--take", "diazepam 5 mg at 20:00"]
#: Next week: a fixed date would slip out of the plan start window as the calendar moves on.
START = (dt.date.today() + dt.timedelta(days=7)).isoformat()


def shell(
    *args: str, url: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    if url is not None:
        env[URL] = url
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=180
    )


STATELESS = {
    "convert": (["convert", "clonazepam", "1mg"], "Diazepam"),
    "drugs": (["drugs"], "Lorazepam"),
    "drug": (["drug", "lorazepam"], "Lorazepam"),
    "total": (["total", "alprazolam 1 mg", "zolpidem 10 mg"], "iazepam"),
    "plan": (["plan", *TAKE, "--start", START], "prescriber"),
    "compare": (["compare", *TAKE], "prescriber"),
    "simulate": (["simulate", "--take", "diazepam 5 mg at 08:00", "--days", "3"], "iazepam"),
}


@pytest.mark.parametrize("command", sorted(STATELESS))
def test_stateless_command_runs_in_a_real_process(command: str) -> None:
    args, expected = STATELESS[command]
    proc = shell(*args)
    assert proc.returncode == 0, proc.stderr
    assert expected in proc.stdout
    assert "Traceback" not in proc.stderr


def test_files_written_by_chart_and_export(tmp_path: Path) -> None:
    chart = shell(
        "chart", "--take", "diazepam 5 mg at 08:00", "--days", "3", "-o", "c.svg", cwd=tmp_path
    )
    assert chart.returncode == 0, chart.stderr
    assert (tmp_path / "c.svg").read_text().lstrip().startswith("<")
    export = shell("export", "-f", "csv", *TAKE, "--start", START, cwd=tmp_path)
    assert export.returncode == 0, export.stderr
    assert export.stdout.splitlines()[0].count(",") > 3


def test_journal_commands_in_real_processes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'smoke.sqlite3'}"
    today = dt.date.today()
    start = (today - dt.timedelta(days=3)).isoformat()
    # The plan is saved in-process (``plan`` has its own real process above).
    saved = run_cli("plan", *TAKE, "--start", start, "--save", "--reason", "agreed", env={URL: url})
    assert saved.returncode == 0, saved.stderr
    for args in (
        ["migrate"],
        ["today"],
        ["take"],
        ["checkin", "--quick", "anxiety=3,insomnia=4"],
        [
            "sleep",
            "--bed",
            "23:00",
            "--sol",
            "20",
            "--waso",
            "30",
            "--wake",
            "06:30",
            "--out",
            "07:00",
        ],
        ["note", "started a walk every morning"],
        ["status"],
        ["reinstate", "--reason", "severe anxiety since the cut"],
    ):
        proc = shell(*args, url=url)
        assert proc.returncode == 0, (args, proc.stderr)
    history = json.loads(shell("history", "--json", url=url).stdout)
    note = next(e for e in history["entries"] if e["kind"] == "note")
    uid = note["uid"][:8]
    edited = shell("edit", uid, "--set", "note=walked twice", "--reason", "typo", "--json", url=url)
    assert edited.returncode == 0, edited.stderr
    newest = json.loads(edited.stdout)["entry"]["uid"]
    retracted = shell("retract", newest[:8], "--reason", "entered twice", url=url)
    assert retracted.returncode == 0, retracted.stderr
    exported = tmp_path / "journal.json"
    assert shell("export-data", "--output", str(exported), url=url).returncode == 0
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    imported = shell("import-data", str(exported), url=other)
    assert imported.returncode == 0, imported.stderr


def test_every_command_has_a_smoke_test_here() -> None:
    """A new command needs its real-process check (serve and checkin -i have theirs elsewhere)."""
    source = Path(__file__).read_text()
    names = set(COMMANDS)  # every command (tests/test_cli_startup.py checks the table)
    missing = [n for n in sorted(names) if n != "serve" and f'"{n}"' not in source]
    assert not missing, f"commands without a subprocess smoke test: {missing}"
