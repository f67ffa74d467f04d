"""`benzotaper plan` and `compare`, in-process (tests/cli.py)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from tests.cli import Ran, run_cli


def run(*args: str) -> Ran:
    return run_cli(*args)


def plan_json(*args: str) -> Any:
    proc = run("plan", *args, "--start", "2027-01-04", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_plan_json_has_the_contract_fields() -> None:
    data = plan_json("--take", "clonazepam 0.5 mg at 08:00", "--take", "clonazepam 0.5 mg at 22:00")
    assert {"summary", "steps", "warnings", "dispense", "dispense_total", "risk", "disclaimer"} <= (
        set(data)
    )
    first, last = data["steps"][0], data["steps"][-1]
    assert first["start"] == "2027-01-04"
    assert {"start", "end", "phase", "doses", "daily_mg", "diazepam_equivalent_mg"} <= set(first)
    piece = first["doses"][0]["make_up"][0]
    assert {"product", "form", "quantity", "unit"} <= set(piece)
    assert last["phase"] == "stop" and all(d["mg"] == 0 for d in last["doses"])
    assert data["summary"]["market"] == "us"
    assert data["summary"]["strategy"] == "percent"
    assert data["dispense"] and data["dispense_total"]
    assert "prescriber" in data["disclaimer"]


def test_plan_table_shows_doses_warnings_and_disclaimer() -> None:
    proc = run(
        "plan", "--take", "diazepam 2 mg at 22:00", "--pace", "moderate", "--start", "2027-01-04"
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Diazepam 22:00" in out and "½ × 2 mg" in out
    assert "stop" in out and "could not be cut as finely" in out
    assert "prescriber" in out


def test_plan_table_columns_keep_their_order_between_runs() -> None:
    """Two drugs at 20:00 (clonazepam, then diazepam after the crossover): the column of the
    drug taken first comes first. The order used to follow a set's, which changes with the
    hash seed: about half of all runs put diazepam first."""
    proc = run_cli(
        "plan",
        *("--take", "clonazepam 0.5 mg at 08:00", "--take", "clonazepam 0.5 mg at 20:00"),
        *("--start", "2026-12-01"),
        env={"COLUMNS": "250"},
    )
    assert proc.returncode == 0, proc.stderr
    header = next(line for line in proc.stdout.splitlines() if "DE mg" in line)
    columns = [cell.strip() for cell in header.split("┃") if cell.strip()]
    assert columns[3:6] == ["Clonazepam 08:00", "Clonazepam 20:00", "Diazepam 20:00"]


def test_plan_csv_one_row_per_dose() -> None:
    proc = run(
        "plan",
        "--take",
        "alprazolam 0.5 mg at 08:00",
        "--take",
        "zolpidem 10 mg at 22:00",
        "--format",
        "csv",
        "--start",
        "2027-01-04",
    )
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0][:5] == ["step", "start", "end", "days", "phase"]
    body = rows[1:-1]
    # alprazolam's tail is switched to diazepam (its 1 mg/mL liquid cannot make 0.05 mg)
    assert {r[6] for r in body} == {"alprazolam", "zolpidem", "diazepam"}
    assert rows[-1][0] == "disclaimer"


def test_plan_from_a_regimen_file_with_options(tmp_path: Path) -> None:
    file = tmp_path / "regimen.json"
    file.write_text(
        json.dumps([{"drug": "Valium", "mg": 10, "time": "08:00"}, "diazepam 5 mg at night"])
    )
    data = plan_json(
        "--regimen",
        str(file),
        "--strategy",
        "ashton-bands",
        "--pace",
        "fast",
        "--liquid",
        "--market",
        "uk",
        "--hold",
        "2027-02-01:14",
        "--age",
        "70",
        "--years",
        "5",
    )
    assert data["summary"]["strategy"] == "ashton-bands"
    assert any(s["phase"] == "hold" for s in data["steps"])
    assert data["request"]["person"]["age"] == 70


def test_override_needs_a_reason_and_is_recorded() -> None:
    data = plan_json(
        "--take",
        "diazepam 20 mg at 08:00",
        "--percent",
        "40",
        "--liquid",
        "--override-reason",
        "Inpatient detox with daily review",
        "--override-max-percent",
        "40",
    )
    assert data["summary"]["override"]["reason"] == "Inpatient detox with daily review"
    proc = run("plan", "--take", "diazepam 20 mg at 08:00", "--override-max-percent", "40")
    assert proc.returncode == 2 and "--override-reason" in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--take", "diazepma 5 mg at 08:00"], "Did you mean: diazepam"),
        (["--take", "diazepam 5 mg"], "Add the time"),
        (["--take", "diazepam 5 ml at 08:00"], "volume"),
        (["--take", "diazepam 5000 mg at 08:00"], "far above"),
        (["--take", "diazepam 5 mg at 25:00"], "not a time of day"),
        (["--take", "diazepam 5 mg at 08:00", "--take", "diazepam 2 mg at 08:00"], "twice"),
        (["--take", "diazepam 5 mg at 08:00", "--format", "xml"], "--format"),
        (["--take", "diazepam 5 mg at 08:00", "--pace", "medium"], "pace"),
        (["--take", "diazepam 5 mg at 08:00", "--percent", "80"], "--percent"),
        (["--take", "diazepam 5 mg at 08:00", "--market", "fr"], "market"),
        (["--take", "diazepam 5 mg at 08:00", "--hold", "soon"], "DATE:DAYS"),
        (["--take", "diazepam 5 mg at 08:00", "--start", "01/02/2027"], "YYYY-MM-DD"),
        (["--take", "diazepam 5 mg at 08:00", "--source", "nosuch"], "nosuch"),
        ([], "--take"),
    ],
)
def test_bad_input_is_a_clear_error_with_status_2(args: list[str], message: str) -> None:
    proc = run("plan", *args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_compare_lists_strategies_and_paces() -> None:
    proc = run("compare", "--take", "diazepam 10 mg at 08:00", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert {(r["strategy"], r["pace"]) for r in rows} >= {
        ("percent", "slow"),
        ("hyperbolic", "fast"),
    }
    assert all(r["metrics"]["largest_rate_percent_per_14_days"] <= 25.01 for r in rows)
    table = run("compare", "--take", "diazepam 10 mg at 08:00")
    assert table.returncode == 0 and "ashton-bands" in table.stdout
