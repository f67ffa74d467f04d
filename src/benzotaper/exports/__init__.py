"""Exports people and health systems use: PDF, calendar, CSV, HL7 FHIR and the taper story.

Every function takes a finished :class:`~benzotaper.planning.Plan` and returns the file's
content; nothing here reads the clock unless a time is left out, touches a database or writes
a file, so the CLI, the web app and the API call them the same way:

- ``pdf_patient(plan, today=, catalogue=)``: patient schedule, PDF ``bytes``
- ``pdf_prescriber(plan, catalogue=, chart_png=)``: prescriber/pharmacy sheet, PDF ``bytes``
- ``plan_ics(plan, tz="UTC", catalogue=, alarm_minutes=0)``: reminders, iCalendar ``bytes``
- ``steps_csv(plan)``: the step table, CSV ``str``
- ``journal_csv(entries)``: journal entries (``EntryRecord``s), CSV ``str``;
  ``journal_csv_chunks(entries)`` the same in pieces, made as ``entries`` is read (streaming)
- ``plan_fhir_json(plan, version="r4b"|"r5", catalogue=, journal=)``: FHIR Bundle, JSON
  ``str``; with ``journal`` (``EntryRecord``s) it also carries the check-ins: Questionnaires,
  QuestionnaireResponses and score Observations (see ``fhir_journal``)
- ``bundle(plan, version, journal=, extra=[...])``: the same Bundle as a ``dict``
- ``journal_entries(rows, version, patient_ref=)``: the journal's check-ins as Bundle entries
- ``answer_problems(bundle)`` / ``unit_problems(resource)``: checks fhir.resources does not make
  (each answer against its Questionnaire item; the UCUM units we write)
- ``medication_requests(plan, version)``: one MedicationRequest ``dict`` per drug
- ``regimen_from_fhir(json, catalogue)``: FHIR in, ``list[Administration]`` out (strict)
- ``read_regimen(json, catalogue)``: the same, keeping what can be read and listing what cannot
  (unknown code or drug, as-needed use, missing clock times) in a ``RegimenReading``
- ``story_markdown(plan, today=, versions=, journal=)``: anonymised forum-style summary,
  Markdown ``str``; with the saved plan ``versions`` and ``journal``, what actually happened
- ``story_text(plan, today=, versions=, journal=)``: the same as plain text
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
    from benzotaper.exports.fhir_codes import (
        FhirVersion,
        answer_problems,
        check_codes,
        code_problems,
        unit_problems,
    )
    from benzotaper.exports.fhir_import import read_regimen, regimen_from_fhir
    from benzotaper.exports.fhir_journal import journal_entries
    from benzotaper.exports.fhir_plan import bundle, medication_requests, plan_fhir_json
    from benzotaper.exports.ical import plan_ics
    from benzotaper.exports.pdf_patient import pdf_patient
    from benzotaper.exports.pdf_prescriber import pdf_prescriber
    from benzotaper.exports.story import story_markdown, story_text
    from benzotaper.exports.tables import (
        JOURNAL_COLUMNS,
        STEP_COLUMNS,
        journal_csv,
        journal_csv_chunks,
        steps_csv,
    )

# Each format pulls in a heavy library (fpdf2, matplotlib, fhir.resources); load on first use so
# that a CSV export or the CLI's help does not pay for all of them.
_WHERE = {
    "progress_chart": ("chart", "progress_chart"),
    "FHIR_VERSIONS": ("fhir_codes", "VERSIONS"),
    "FhirVersion": ("fhir_codes", "FhirVersion"),
    "check_codes": ("fhir_codes", "check_codes"),
    "code_problems": ("fhir_codes", "code_problems"),
    "answer_problems": ("fhir_codes", "answer_problems"),
    "unit_problems": ("fhir_codes", "unit_problems"),
    "journal_entries": ("fhir_journal", "journal_entries"),
    "regimen_from_fhir": ("fhir_import", "regimen_from_fhir"),
    "read_regimen": ("fhir_import", "read_regimen"),
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
    "journal_csv_chunks": ("tables", "journal_csv_chunks"),
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
    "answer_problems",
    "bundle",
    "check_codes",
    "code_problems",
    "journal_csv",
    "journal_csv_chunks",
    "journal_entries",
    "medication_requests",
    "pdf_patient",
    "pdf_prescriber",
    "plan_fhir_json",
    "plan_ics",
    "progress_chart",
    "read_regimen",
    "regimen_from_fhir",
    "steps_csv",
    "story_markdown",
    "story_text",
    "unit_problems",
]
