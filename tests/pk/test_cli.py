"""`simulate` and `chart`, in-process (tests/cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import Ran, run_cli

TAKES = ["--take", "diazepam 5 mg at 08:00", "--take", "Valium 5mg at 20:00"]


def run(*args: str) -> Ran:
    return run_cli(*args)


def test_simulate_json() -> None:
    proc = run("simulate", *TAKES, "--days", "5", "--start", "2026-01-01", "--age", "70", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["steady_state"]["de_dose_mg"] == 10
    assert len(data["daily"]) == 5
    assert data["daily"][0]["date"] == "2026-01-01"
    assert data["daily"][0]["level_de_mg"]["min"] == 0  # starts from none
    levels = data["daily"][-1]["levels_mean_relative"]
    assert set(levels) == {"diazepam", "diazepam → desmethyldiazepam"}
    half = [p for p in data["parameters"] if p["name"] == "half-life"]
    assert half[0]["value"] == 79  # older adult
    assert any(p["assumption"] and p["source"] == "pk-assumption" for p in data["parameters"])
    assert "relative units" in data["units"] and "prescriber" in data["disclaimer"]
    assert data["days_to_90_percent_of_steady_state"] > 10


def test_simulate_table_and_steady_start() -> None:
    proc = run("simulate", *TAKES, "--days", "3", "--steady", "--start", "2026-01-01")
    assert proc.returncode == 0, proc.stderr
    assert "already at steady state" in proc.stdout
    assert "swing" in proc.stdout and "prescriber" in proc.stdout


def test_simulate_refuses_bad_input() -> None:
    proc = run("simulate", "--take", "diazepam 5 at 08:00")
    assert proc.returncode == 2
    assert "Error" in proc.stderr
    proc = run("simulate", "--take", "diazepamx 5 mg at 08:00", "--days", "2")
    assert proc.returncode == 2 and "Unknown drug" in proc.stderr


def test_chart_writes_svg_png_and_comparison(tmp_path: Path) -> None:
    svg = tmp_path / "level.svg"
    proc = run("chart", *TAKES, "--days", "30", "-o", str(svg), "--start", "2026-01-01")
    assert proc.returncode == 0, proc.stderr
    assert svg.read_bytes().lstrip().startswith(b"<?xml")
    png = tmp_path / "swing.png"
    proc = run(
        "chart",
        "--take",
        "lorazepam 1 mg at 08:00",
        "--take",
        "lorazepam 1 mg at 20:00",
        "--versus",
        "diazepam 10 mg at 08:00",
        "--versus",
        "diazepam 10 mg at 20:00",
        "--size",
        "print",
        "-o",
        str(png),
    )
    assert proc.returncode == 0, proc.stderr
    assert png.read_bytes().startswith(b"\x89PNG")
    proc = run("chart", *TAKES, "-o", str(tmp_path / "x.pdf"))
    assert proc.returncode == 2 and ".svg or .png" in proc.stderr


def test_chart_from_a_saved_plan_and_its_crossover(tmp_path: Path) -> None:
    from tests.pk.plans import make_plan

    plan = make_plan(
        [("08:00", "lorazepam", 1.0), ("20:00", "lorazepam", 1.0)],
        [
            (
                7,
                [
                    ("08:00", "lorazepam", 0.5),
                    ("20:00", "lorazepam", 0.5),
                    ("08:00", "diazepam", 5.0),
                    ("20:00", "diazepam", 5.0),
                ],
            ),
            (14, [("08:00", "diazepam", 10.0), ("20:00", "diazepam", 10.0)]),
        ],
    )
    plan.steps[0].phase = "crossover"
    saved = tmp_path / "plan.json"
    saved.write_text(plan.model_dump_json(), encoding="utf-8")
    out = tmp_path / "plan.svg"
    proc = run("chart", "--plan", str(saved), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert b"Taper plan: diazepam, lorazepam" in out.read_bytes()
    proc = run("chart", "--plan", str(saved), "--crossover", "-o", str(tmp_path / "x.svg"))
    assert proc.returncode == 0, proc.stderr
    assert b"Before (lorazepam)" in (tmp_path / "x.svg").read_bytes()
    saved.write_text('{"steps": []}', encoding="utf-8")
    proc = run("chart", "--plan", str(saved), "-o", str(out))
    assert proc.returncode == 2 and "is not a saved benzotaper plan" in proc.stderr


def test_step_metrics_table_and_json() -> None:
    from benzotaper.catalogue import default_catalogue
    from benzotaper.cli.simulate import step_metrics_json
    from tests.pk.plans import diazepam_taper

    data = step_metrics_json(diazepam_taper(10, cuts=2, days=14), default_catalogue())
    assert [m["index"] for m in data["step_metrics"]] == [0, 1, 2, 3]
    assert data["step_metrics"][1]["de_drop_percent"] == pytest.approx(10.0)
    assert "prescriber" in data["disclaimer"] and data["parameters"]


def test_plan_simulate_json_and_chart(tmp_path: Path) -> None:
    out = tmp_path / "plan.png"
    proc = run(
        "plan",
        "--take",
        "diazepam 10 mg at 08:00",
        "--take",
        "diazepam 10 mg at 20:00",
        "--start",
        "2026-01-05",
        "--simulate",
        "--format",
        "json",
        "--chart",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # stdout stays pure JSON with --chart
    steps, metrics = data["plan"]["steps"], data["simulation"]["step_metrics"]
    assert len(metrics) == len(steps)
    for step, m in zip(steps, metrics, strict=True):
        assert m["start"] == step["start"]
        if m["steady"] is not None:
            assert m["steady"]["de_dose_mg"] == pytest.approx(step["diazepam_equivalent_mg"])
    cuts = [m for m in metrics if m["de_drop_percent"] and m["de_drop_percent"] > 1]
    assert cuts and all(m["days_to_90_percent"] > 3 for m in cuts)
    assert "prescriber" in data["simulation"]["disclaimer"]
    assert out.read_bytes().startswith(b"\x89PNG")


def test_plan_simulate_table_and_refusals(tmp_path: Path) -> None:
    base = ["plan", "--take", "diazepam 10 mg at 08:00", "--start", "2026-01-05"]
    proc = run(*base, "--simulate")
    assert proc.returncode == 0, proc.stderr
    assert "Simulated effect of each step" in proc.stdout and "settled" in proc.stdout
    proc = run(*base, "--simulate", "--format", "csv")
    assert proc.returncode == 2 and "not csv" in proc.stderr
    proc = run(*base, "--chart", str(tmp_path / "plan.jpg"))
    assert proc.returncode == 2 and ".svg or .png" in proc.stderr
