"""Exports people and health systems use: PDF, calendar, CSV, HL7 FHIR and the taper story.

Every function takes a finished :class:`~benzotaper.planning.Plan` and returns the file's
content; nothing here reads the clock unless a time is left out, touches a database or writes
a file, so the CLI, the web app and the API call them the same way:

- ``pdf_patient(plan, today=, catalogue=)``: patient schedule, PDF ``bytes``
- ``pdf_prescriber(plan, catalogue=, chart_png=)``: prescriber/pharmacy sheet, PDF ``bytes``
- ``plan_ics(plan, tz="UTC", catalogue=, alarm_minutes=0)``: reminders, iCalendar ``bytes``
- ``steps_csv(plan)``: the step table, CSV ``str``
- ``journal_csv(entries)``: journal entries (``EntryRecord``s), CSV ``str``
- ``plan_fhir_json(plan, version="r4b"|"r5", catalogue=)``: FHIR Bundle, JSON ``str``
- ``bundle(plan, version, extra=[...])``: the same Bundle as a ``dict`` (``extra``: more
  resources, e.g. journal Observations)
- ``medication_requests(plan, version)``: one MedicationRequest ``dict`` per drug
- ``regimen_from_fhir(json, catalogue)``: FHIR in, ``list[Administration]`` out
- ``story_markdown(plan, today=)``: anonymised forum-style summary, Markdown ``str``
- ``story_text(plan, today=)``: the same as plain text
- ``progress_chart(plan, today=, fmt="png"|"svg")``: progress chart, ``bytes``

``catalogue`` (optional) gives display names and full citations; without it ids are shown.
Errors: :class:`~benzotaper.errors.ExportError` (e.g. no font for the PDF),
:class:`~benzotaper.errors.InputError` (unknown time zone),
:class:`~benzotaper.errors.ImportFormatError` / ``UnknownDrugError`` (FHIR import).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benzotaper.exports.chart import progress_chart
    from benzotaper.exports.fhir_codes import VERSIONS as FHIR_VERSIONS
    from benzotaper.exports.fhir_codes import FhirVersion, check_codes, code_problems
    from benzotaper.exports.fhir_import import regimen_from_fhir
    from benzotaper.exports.fhir_plan import bundle, medication_requests, plan_fhir_json
    from benzotaper.exports.ical import plan_ics
    from benzotaper.exports.pdf_patient import pdf_patient
    from benzotaper.exports.pdf_prescriber import pdf_prescriber
    from benzotaper.exports.story import story_markdown, story_text
    from benzotaper.exports.tables import JOURNAL_COLUMNS, STEP_COLUMNS, journal_csv, steps_csv

# Each format pulls in a heavy library (fpdf2, matplotlib, fhir.resources); load on first use so
# that a CSV export or the CLI's help does not pay for all of them.
_WHERE = {
    "progress_chart": ("chart", "progress_chart"),
    "FHIR_VERSIONS": ("fhir_codes", "VERSIONS"),
    "FhirVersion": ("fhir_codes", "FhirVersion"),
    "check_codes": ("fhir_codes", "check_codes"),
    "code_problems": ("fhir_codes", "code_problems"),
    "regimen_from_fhir": ("fhir_import", "regimen_from_fhir"),
    "bundle": ("fhir_plan", "bundle"),
    "medication_requests": ("fhir_plan", "medication_requests"),
    "plan_fhir_json": ("fhir_plan", "plan_fhir_json"),
    "plan_ics": ("ical", "plan_ics"),
    "pdf_patient": ("pdf_patient", "pdf_patient"),
    "pdf_prescriber": ("pdf_prescriber", "pdf_prescriber"),
    "story_markdown": ("story", "story_markdown"),
    "story_text": ("story", "story_text"),
    "STEP_COLUMNS": ("tables", "STEP_COLUMNS"),
    "steps_csv": ("tables", "steps_csv"),
    "JOURNAL_COLUMNS": ("tables", "JOURNAL_COLUMNS"),
    "journal_csv": ("tables", "journal_csv"),
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attr = _WHERE[name]
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    globals()[name] = value
    return value


__all__ = [
    "FHIR_VERSIONS",
    "JOURNAL_COLUMNS",
    "STEP_COLUMNS",
    "FhirVersion",
    "bundle",
    "check_codes",
    "code_problems",
    "journal_csv",
    "medication_requests",
    "pdf_patient",
    "pdf_prescriber",
    "plan_fhir_json",
    "plan_ics",
    "progress_chart",
    "regimen_from_fhir",
    "steps_csv",
    "story_markdown",
    "story_text",
]
