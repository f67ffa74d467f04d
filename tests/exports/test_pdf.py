"""The PDFs, read back by independent readers (pypdf and poppler's pdftotext)."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest
from plan_fixture import build_plan

from benzotaper.catalogue import Catalogue
from benzotaper.errors import ExportError
from benzotaper.exports import _pdf, pdf_patient, pdf_prescriber, progress_chart
from benzotaper.exports._common import dose_times, pieces_text
from benzotaper.exports._pdf import long_date
from benzotaper.exports.pdf_prescriber import parameter_rows
from benzotaper.planning.models import Plan

TODAY = dt.date(2026, 12, 20)  # in the hold-free 18 mg step; next cut 2027-01-12


def pdftotext(data: bytes, tmp_path: Path) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(
        [exe, "-raw", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def pypdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope="module")
def patient_pdf(full_catalogue: Catalogue) -> bytes:
    return pdf_patient(build_plan(), today=TODAY, catalogue=full_catalogue)


def test_patient_pdf_has_every_dose_piece_and_date(
    patient_pdf: bytes, handmade: Plan, tmp_path: Path
) -> None:
    plan = handmade
    text = pdftotext(patient_pdf, tmp_path)
    flat = re.sub(r"\s+", " ", text)
    for step in plan.steps:
        assert long_date(step.start) in flat, step.start
        for dose in step.doses:
            for piece in dose.make_up:
                assert piece.text in flat, piece.text
    assert "½ × 2 mg tablet" in flat
    assert "0.5 mL of 1 mg/mL oral solution" in flat
    assert "Lorazepam 1 mg: 1 × 1 mg tablet" in flat


def test_patient_pdf_one_tick_box_per_dose_time_per_day(
    patient_pdf: bytes, handmade: Plan, tmp_path: Path
) -> None:
    plan = handmade
    expected = sum(step.days * len(dose_times(step)) for step in plan.steps)
    assert expected > 300
    assert pdftotext(patient_pdf, tmp_path).count("☐") == expected + 1  # +1: the "how to" line


def test_patient_pdf_safety_message_emergency_and_next_cut(
    patient_pdf: bytes, tmp_path: Path
) -> None:
    flat = re.sub(r"\s+", " ", pdftotext(patient_pdf, tmp_path))
    assert "agree this schedule" in flat.lower()
    assert "Never stop a benzodiazepine or Z-drug abruptly" in flat
    assert "seizure" in flat and "suicide" in flat and "999" in flat and "911" in flat
    # the next cut (12 Jan 2027, 18 -> 16 mg) is highlighted once, and named on the first page
    assert flat.count("NEXT CUT") == 1
    assert re.search(r"NEXT CUT\. New dose from Tue 12 Jan 2027: Diazepam 16 mg a day", flat)
    first_page = pypdf.PdfReader(io.BytesIO(patient_pdf)).pages[0].extract_text()
    assert "Next cut" in first_page and "12 Jan 2027" in first_page
    assert "Today (Sun 20 Dec 2026)" in first_page


def test_patient_pdf_default_today_is_plan_start(handmade: Plan, tmp_path: Path) -> None:
    plan = handmade
    flat = re.sub(r"\s+", " ", pdftotext(pdf_patient(plan), tmp_path))
    assert "NEXT CUT. New dose from Tue 15 Dec 2026" in flat  # the first cut after the switch


def test_patient_pdf_embeds_a_unicode_font_and_every_page_says_prescriber(
    patient_pdf: bytes,
) -> None:
    reader = pypdf.PdfReader(io.BytesIO(patient_pdf))
    assert len(reader.pages) > 5
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        names = [str(f.get_object()["/BaseFont"]) for f in fonts.values()]
        assert any("DejaVu" in n for n in names)
        assert "prescriber" in page.extract_text()
    descendant = next(iter(reader.pages[0]["/Resources"]["/Font"].values())).get_object()
    descriptor = descendant["/DescendantFonts"][0].get_object()["/FontDescriptor"]
    assert "/FontFile2" in descriptor  # embedded, not just referenced


def test_patient_pdf_renders_to_an_image(patient_pdf: bytes, tmp_path: Path) -> None:
    exe = shutil.which("pdftoppm")
    if exe is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    (tmp_path / "p.pdf").write_bytes(patient_pdf)
    subprocess.run(
        [exe, "-png", "-r", "30", "-f", "1", "-l", "2", "p.pdf", "page"], cwd=tmp_path, check=True
    )
    pngs = sorted(tmp_path.glob("page*.png"))
    assert len(pngs) == 2 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_prescriber_pdf_regimen_sources_dispensing_and_chart(
    handmade: Plan, full_catalogue: Catalogue, tmp_path: Path
) -> None:
    plan = handmade
    chart = progress_chart(plan, today=TODAY)
    data = pdf_prescriber(plan, catalogue=full_catalogue, chart_png=chart)
    flat = re.sub(r"\s+", " ", pdftotext(data, tmp_path))
    assert "Lorazepam 1 mg at 08:00, Lorazepam 1 mg at 22:00" in flat
    assert "ashton-bands" in flat and re.search(r"every days\s+14", flat), flat
    assert "catalogue 2026.11.1" in flat.lower() or "Catalogue version 2026.11.1" in flat
    assert "Ashton CH" in flat  # the equivalence source's full citation
    assert "doi:10.1007/s11606-025-09499-2" in flat  # a risk flag's source resolved
    assert "Halving 2 mg diazepam tablets is off-licence." in flat
    for line in plan.dispense_total:
        unit = "mL" if line.unit == "mL" else "tablets"
        assert f"{line.quantity:g} {unit}" in flat, line
    for line in plan.dispense:
        assert f"{line.period_start.isoformat()} – {line.period_end.isoformat()}" in flat
    for step in plan.steps:
        assert f"{step.start.isoformat()}" in flat
        for dose in step.doses:
            assert pieces_text(dose) in flat
    assert plan.disclaimer in flat
    assert "Specialist care recommended" not in flat
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert sum(len(page.images) for page in reader.pages) == 1


def test_prescriber_pdf_flags_specialist_care_and_override(plan: Plan, tmp_path: Path) -> None:
    from benzotaper.planning.models import Override

    risky = plan.model_copy(deep=True)
    risky.risk.specialist_care = True
    risky.risk.reasons = ["History of withdrawal seizures"]
    risky.summary.override = Override(
        reason="Inpatient detox under supervision", max_percent_per_14_days=50
    )
    flat = re.sub(r"\s+", " ", pdftotext(pdf_prescriber(risky), tmp_path))
    assert "Specialist care recommended" in flat and "History of withdrawal seizures" in flat
    assert "Recorded override" in flat and "Inpatient detox under supervision" in flat
    assert "Up to 50% per 14 days" in flat


def test_missing_font_is_a_clear_error(
    plan: Plan, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(_pdf, "_candidates", lambda: [tmp_path])
    _pdf.font_files.cache_clear()
    try:
        with pytest.raises(ExportError, match="fonts-dejavu-core"):
            pdf_patient(plan)
    finally:
        _pdf.font_files.cache_clear()


def test_font_dir_from_the_environment_is_used_first(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    regular, bold = _pdf.font_files()
    shutil.copy(regular, tmp_path / "DejaVuSans.ttf")
    shutil.copy(bold, tmp_path / "DejaVuSans-Bold.ttf")
    monkeypatch.setenv("BENZOTAPER_FONT_DIR", str(tmp_path))
    _pdf.font_files.cache_clear()
    try:
        assert _pdf.font_files()[0] == tmp_path / "DejaVuSans.ttf"
    finally:
        _pdf.font_files.cache_clear()


def test_prescriber_pdf_embeds_the_pharmacokinetic_chart_by_default(
    handmade: Plan, full_catalogue: Catalogue
) -> None:
    """On the hand-made plan (its crossover simulates two drugs); the planner's plan is drawn
    with its chart in test_prescriber_pdf_of_a_planner_plan."""
    plan = handmade

    def image_widths(data: bytes) -> list[int]:
        reader = pypdf.PdfReader(io.BytesIO(data))
        return [img.image.width for page in reader.pages for img in page.images]

    assert image_widths(pdf_prescriber(plan, catalogue=full_catalogue)) == [2250]  # pk "print"
    no_catalogue = image_widths(pdf_prescriber(plan))
    assert len(no_catalogue) == 1 and no_catalogue[0] < 2250  # the dose-step chart instead
    assert image_widths(pdf_prescriber(plan, chart=False)) == []


def test_patient_pdf_of_a_planner_plan(
    real_plan: Plan, catalogue: Catalogue, tmp_path: Path
) -> None:
    data = pdf_patient(real_plan, today=dt.date(2027, 3, 5), catalogue=catalogue)
    flat = re.sub(r"\s+", " ", pdftotext(data, tmp_path))
    for step in real_plan.steps:
        assert long_date(step.start) in flat
        for dose in step.doses:
            assert pieces_text(dose) in flat
    expected = sum(step.days * len(dose_times(step)) for step in real_plan.steps)
    assert flat.count("☐") == expected + 1
    assert flat.count("NEXT CUT") == 1
    assert "Hold (same dose) from Mon 1 Mar 2027" in flat
    assert "No dose to take" in flat  # the stop step


def test_prescriber_pdf_of_a_planner_plan(
    real_plan: Plan, catalogue: Catalogue, tmp_path: Path
) -> None:
    data = pdf_prescriber(real_plan, catalogue=catalogue)
    widths = [i.image.width for p in pypdf.PdfReader(io.BytesIO(data)).pages for i in p.images]
    assert widths == [2250]  # the pharmacokinetic chart, drawn for print
    flat = re.sub(r"\s+", " ", pdftotext(data, tmp_path))
    for line in real_plan.dispense_total:
        unit = "mL" if line.unit == "mL" else "tablets"
        assert f"{line.quantity:g} {unit}" in flat, line
    for warning in real_plan.warnings:
        assert re.sub(r"\s+", " ", warning.message) in flat
    assert real_plan.summary.catalogue_version in flat
    assert "Ashton CH" in flat


def test_prescriber_pdf_nested_parameters_read_as_words(
    real_plan: Plan, full_catalogue: Catalogue, tmp_path: Path
) -> None:
    params = real_plan.summary.parameters
    assert any(isinstance(v, dict) for v in params.values())  # the case this guards
    data = pdf_prescriber(real_plan, catalogue=full_catalogue, chart=False)
    flat = re.sub(r"\s+", " ", pdftotext(data, tmp_path))
    assert "{" not in flat and "'used'" not in flat and "True" not in flat
    rows = dict(parameter_rows(params)[1:])
    for name, value in rows.items():
        assert name in flat and value in flat, (name, value)
    assert re.fullmatch(r"[\d.]+ \(source [\w-]+; range [\d.]+–[\d.]+\)", rows["percent range"])
    assert rows["final slow section"] in ("yes", "no")
    assert re.search(r"guideline: [\d.]+ \(source [\w-]+\)", rows["max rate"])
