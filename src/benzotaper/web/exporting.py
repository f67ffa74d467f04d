"""Which export formats the web app offers, and how each is produced (by ``benzotaper.exports``).

A saved plan is exported with its :class:`History` (the person's plan versions and the part of
the journal the format shows, read bounded: see :mod:`benzotaper.services.exports`): the FHIR
Bundles then carry the newest check-ins (Questionnaires, QuestionnaireResponses and score
Observations) after the plan, and the taper story tells what actually happened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from benzotaper.catalogue import Catalogue
from benzotaper.planning.models import Plan
from benzotaper.services.exports import History, JournalPart, saved_history

__all__ = ["FORMATS", "ExportFormat", "Format", "History", "saved_history"]

ExportFormat = Literal["pdf", "prescriber-pdf", "ics", "csv", "fhir", "fhir-r4", "fhir-r5", "story"]


@dataclass(frozen=True)
class Format:
    label: str
    media_type: str
    filename: str
    make: Callable[[Plan, Catalogue, dt.date, History | None], bytes]
    #: What of the journal the format shows (read bounded: see ``services.exports``).
    journal: JournalPart = "none"


def _pdf(plan: Plan, cat: Catalogue, today: dt.date, history: History | None) -> bytes:
    from benzotaper.exports import pdf_patient

    return pdf_patient(plan, today=today, catalogue=cat)


def _prescriber(plan: Plan, cat: Catalogue, today: dt.date, history: History | None) -> bytes:
    from benzotaper.exports import pdf_prescriber

    # the chart drawn for print (A4 width), as the CLI's sheet; not the tall phone chart
    return pdf_prescriber(plan, catalogue=cat)


def _ics(plan: Plan, cat: Catalogue, today: dt.date, history: History | None) -> bytes:
    from benzotaper.exports import plan_ics

    # The person's own zone: an 08:00 dose rings at 08:00 where they live (VTIMEZONE included).
    return plan_ics(plan, catalogue=cat, tz=history.time_zone if history else "UTC")


def _csv(plan: Plan, cat: Catalogue, today: dt.date, history: History | None) -> bytes:
    from benzotaper.exports import steps_csv

    return steps_csv(plan).encode("utf-8")


def _fhir_bundle(version: Literal["r4", "r4b", "r5"]) -> Callable[..., bytes]:
    def make(plan: Plan, cat: Catalogue, today: dt.date, history: History | None) -> bytes:
        from benzotaper.exports import plan_fhir_json

        journal = history.journal if history is not None else None
        return plan_fhir_json(plan, version, catalogue=cat, journal=journal).encode("utf-8")

    return make


def _story(plan: Plan, cat: Catalogue, today: dt.date, history: History | None) -> bytes:
    from benzotaper.exports import story_markdown

    if history is None:
        return story_markdown(plan, today=today, catalogue=cat).encode("utf-8")
    text = story_markdown(
        plan, today=today, catalogue=cat, versions=history.versions, journal=history.journal
    )
    return text.encode("utf-8")


FORMATS: dict[str, Format] = {
    "pdf": Format("Printable schedule (PDF)", "application/pdf", "taper-schedule.pdf", _pdf),
    "prescriber-pdf": Format(
        "Prescriber and pharmacy sheet (PDF)",
        "application/pdf",
        "taper-prescriber.pdf",
        _prescriber,
    ),
    "ics": Format("Calendar reminders (.ics)", "text/calendar", "taper-reminders.ics", _ics),
    "csv": Format("Step table (CSV)", "text/csv", "taper-steps.csv", _csv),
    "fhir": Format(
        "HL7 FHIR R4 bundle: plan and check-ins (JSON)",
        "application/fhir+json",
        "taper-fhir-r4b.json",
        _fhir_bundle("r4b"),
        "checkins",
    ),
    "fhir-r4": Format(
        "HL7 FHIR R4 (US Core shapes, RxNorm codes): plan and check-ins (JSON)",
        "application/fhir+json",
        "taper-fhir-r4-us-core.json",
        _fhir_bundle("r4"),
        "checkins",
    ),
    "fhir-r5": Format(
        "HL7 FHIR R5 bundle: plan and check-ins (JSON)",
        "application/fhir+json",
        "taper-fhir-r5.json",
        _fhir_bundle("r5"),
        "checkins",
    ),
    "story": Format("Taper story (Markdown)", "text/markdown", "taper-story.md", _story, "today"),
}
