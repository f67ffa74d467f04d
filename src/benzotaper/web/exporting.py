"""Which export formats the web app offers, and how each is produced (by ``benzotaper.exports``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from benzotaper.catalogue import Catalogue
from benzotaper.planning.models import Plan

ExportFormat = Literal["pdf", "prescriber-pdf", "ics", "csv", "fhir", "story"]


@dataclass(frozen=True)
class Format:
    label: str
    media_type: str
    filename: str
    make: Callable[[Plan, Catalogue, dt.date], bytes]


def _pdf(plan: Plan, cat: Catalogue, today: dt.date) -> bytes:
    from benzotaper.exports import pdf_patient

    return pdf_patient(plan, today=today, catalogue=cat)


def _prescriber(plan: Plan, cat: Catalogue, today: dt.date) -> bytes:
    from benzotaper.charts import plan_chart
    from benzotaper.exports import pdf_prescriber

    return pdf_prescriber(plan, catalogue=cat, chart_png=plan_chart(plan, cat, fmt="png"))


def _ics(plan: Plan, cat: Catalogue, today: dt.date) -> bytes:
    from benzotaper.exports import plan_ics

    return plan_ics(plan, catalogue=cat)


def _csv(plan: Plan, cat: Catalogue, today: dt.date) -> bytes:
    from benzotaper.exports import steps_csv

    return steps_csv(plan).encode("utf-8")


def _fhir(plan: Plan, cat: Catalogue, today: dt.date) -> bytes:
    from benzotaper.exports import plan_fhir_json

    return plan_fhir_json(plan, "r4b", catalogue=cat).encode("utf-8")


def _story(plan: Plan, cat: Catalogue, today: dt.date) -> bytes:
    from benzotaper.exports import story_markdown

    return story_markdown(plan, today=today, catalogue=cat).encode("utf-8")


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
    "fhir": Format("HL7 FHIR R4 bundle (JSON)", "application/fhir+json", "taper-fhir.json", _fhir),
    "story": Format("Taper story (Markdown)", "text/markdown", "taper-story.md", _story),
}
