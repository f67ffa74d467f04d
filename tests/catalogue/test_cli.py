"""The command line in-process (tests/cli.py), including every bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.cli import Ran, run_cli

from benzotaper.catalogue import default_catalogue, provenance


def run(*args: str) -> Ran:
    return run_cli(*args)


def run_json(*args: str) -> Any:
    proc = run(*args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_convert_clonazepam_json_has_the_documented_fields() -> None:
    data = run_json("convert", "clonazepam", "1mg")
    assert data["dose_mg"] == 20
    assert data["source"] == "ashton2002"
    assert data["range_mg"] == [10, 40]
    assert data["by_source"] == {
        "ashton2002": 20,
        "vadod-asam2025-table7": 10,
        "medscape-equivalents": [20, 40],
        "nhs-scotland2024": 20,
    }
    assert "prescriber" in data["disclaimer"]


def test_convert_between_two_drugs_with_a_brand_name_and_source() -> None:
    data = run_json(
        "convert", "Klonopin", "0.5 mg", "--to", "lorazepam", "--source", "vadod-asam2025-table7"
    )
    assert data["from_drug"] == "clonazepam"
    assert data["to_drug"] == "lorazepam"
    assert data["dose_mg"] == 1
    assert data["source"] == "vadod-asam2025-table7"


def test_convert_text_output_names_source_and_range() -> None:
    proc = run("convert", "xanex", "500mcg")
    assert proc.returncode == 0, proc.stderr
    assert "0.5 mg Alprazolam ≈ 10 mg Diazepam (source: ashton2002)" in proc.stdout
    assert "Range across sources: 5–10 mg" in proc.stdout
    assert "prescriber" in proc.stdout


def test_total_sums_a_polydrug_regimen() -> None:
    data = run_json("total", "alprazolam 1 mg", "zolpidem 10 mg")
    assert data["dose_mg"] == 25  # 20 + 5 by Ashton
    assert data["range_mg"] == [15, 25]
    assert [p["from_drug"] for p in data["parts"]] == ["alprazolam", "zolpidem"]


def test_drugs_lists_the_whole_catalogue() -> None:
    data = run_json("drugs")
    assert len(data["drugs"]) == 28
    proc = run("drugs")
    assert proc.returncode == 0 and "Eszopiclone" in proc.stdout


def test_drug_shows_products_per_market() -> None:
    proc = run("drug", "Ativan")
    assert proc.returncode == 0, proc.stderr
    assert "Products (US)" in proc.stdout and "Products (UK)" in proc.stdout
    assert "2.5 mg" in proc.stdout
    assert "Labelled maximum: 10 mg/day" in proc.stdout
    assert "(unverified)" not in proc.stdout  # every lorazepam fact was checked at a source
    assert "facts checked at a cited source." in proc.stdout
    proc = run("drug", "clorazepate")  # the 15 mg tablet's scoring is still unverified
    out = " ".join(proc.stdout.split())
    assert "us-clorazepate-scoring (unverified)" in out
    unverified = provenance(default_catalogue().drugs["clorazepate"]).unverified
    assert unverified and f"{unverified} marked (unverified) were not" in out
    proc = run("drug", "temazepam")  # parent PK facts show their flag too
    assert "temazepam-review-1982 (unverified)" in " ".join(proc.stdout.split())
    proc = run("drug", "bromazepam")
    assert "No products listed for the US market." in proc.stdout
    assert "Not marketed in the US or the UK" in " ".join(proc.stdout.split())
    data = run_json("drug", "lorazepam")
    assert data["class"] == "benzodiazepine"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("convert", "paracetamol", "1mg"), "Unknown drug 'paracetamol'."),
        (("convert", "clonazapem", "1mg"), "Did you mean: clonazepam"),
        (("convert", "klonopim", "1mg"), "Did you mean: clonazepam"),
        (("convert", "clonazepam", "1"), "has no unit"),
        (("convert", "clonazepam", "1 tsp"), "Unknown unit 'tsp'"),
        (("convert", "clonazepam", "1 ml"), "is a volume, not a dose"),
        (("convert", "clonazepam", "0mg"), "must be more than zero"),
        (("convert", "clonazepam", "-1mg"), "must be more than zero"),
        (("convert", "clonazepam", "2 g"), "far above any plausible dose"),
        (
            ("convert", "clonazepam", "1mg", "--source", "ashton2003"),
            "Unknown source key 'ashton2003'",
        ),
        (
            ("convert", "clonazepam", "1mg", "--source", "sps-equivalents"),
            "gives no equivalent for Clonazepam",
        ),
        (("convert", "midazolam", "5mg", "--to", "zolpidem"), "No equivalence table covers both"),
        (("total", "2 g clonazepam"), "Did you mean 2 mg (not g)?"),
        (("total", "1 mg"), "write a drug and a daily dose"),
        (("drug", "ibuprofen"), "Unknown drug 'ibuprofen'."),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(args: tuple[str, ...], message: str) -> None:
    proc = run(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    err = " ".join(proc.stderr.split())  # rich may wrap long lines
    assert message in err
    assert err.startswith("Error:")
    assert "Traceback" not in proc.stderr + proc.stdout
