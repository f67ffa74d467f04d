"""The public face of benzotaper.exports: every documented name exists and loads lazily."""

from __future__ import annotations

import subprocess
import sys

import benzotaper.exports as exports


def test_every_public_name_resolves_and_is_documented() -> None:
    doc = exports.__doc__ or ""
    for name in exports.__all__:
        assert getattr(exports, name) is not None
    for name in (
        "pdf_patient",
        "pdf_prescriber",
        "plan_ics",
        "steps_csv",
        "plan_fhir_json",
        "regimen_from_fhir",
        "story_markdown",
        "story_text",
        "progress_chart",
    ):
        assert f"``{name}(" in doc, name


def test_csv_export_does_not_import_the_heavy_libraries() -> None:
    code = (
        "import sys, benzotaper.exports as e; e.steps_csv; "
        "print(sorted(m for m in ('fpdf', 'matplotlib', 'fhir') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
