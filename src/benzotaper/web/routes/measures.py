"""The clinic report: quality measures over a clinician's shared patients, as a page, JSON,
CSV and a FHIR MeasureReport. Each call writes one audit-log row (clinic level: the report
shows counts only, never a patient)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response

from benzotaper.catalogue import Catalogue
from benzotaper.measures import ClinicReport, Period
from benzotaper.measures.export import report_csv, report_fhir
from benzotaper.storage import Database, care
from benzotaper.web.accounts import Identity
from benzotaper.web.clock import today_for
from benzotaper.web.deps import CatalogueDep, ClinicianDep, DbDep
from benzotaper.web.responses import AUTH_401, CSRF_403, INPUT_422, Responses
from benzotaper.web.templating import render

router = APIRouter(tags=["clinician"])
#: The first measurement year offered (policy: before benzotaper existed there is nothing).
FIRST_YEAR = 2020
READ: Responses = {
    401: AUTH_401,
    403: {**CSRF_403, "description": "Not a clinician account."},
    422: INPUT_422,
}
YearQuery = Annotated[
    int | None,
    Query(
        ge=FIRST_YEAR,
        le=2100,
        description="Measurement year (calendar, as HEDIS and PQA count); default this year, "
        "to date. A year that has not begun is refused.",
    ),
]


def measurement_period(year: int | None, now: dt.date) -> Period:
    """The calendar year asked for (default: this one), up to ``now`` (the clinician's today)."""
    chosen = now.year if year is None else year
    if chosen > now.year:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "year"),
                    "msg": f"{chosen} has not begun yet: choose {now.year} or an earlier year.",
                    "type": "value_error",
                }
            ]
        )
    return Period.year(chosen, today=now)


def clinic_report_for(
    db: Database, cat: Catalogue, clinician: Identity, year: int | None, shown_as: str
) -> ClinicReport:
    """The report for this clinician's patients, with an audit row saying how it was shown."""
    from benzotaper.storage.measures import clinic_measures

    period = measurement_period(year, today_for(clinician))
    report = clinic_measures(db, cat, clinician.id, period)
    with db.transaction() as s:
        detail = f"{period.start.isoformat()}..{period.end.isoformat()} as {shown_as}"
        care.audit(s, clinician.id, None, "view.measures", detail)
    return report


@router.get("/clinician/measures", response_class=HTMLResponse, include_in_schema=False)
def measures_page(
    request: Request, db: DbDep, cat: CatalogueDep, user: ClinicianDep, year: YearQuery = None
) -> HTMLResponse:
    report = clinic_report_for(db, cat, user, year, "page")
    ctx: dict[str, Any] = {
        "nav": "clinician",
        "report": report,
        "refs": cat.references,
        "years": list(range(today_for(user).year, FIRST_YEAR - 1, -1)),
        "year": report.period_start.year,
        "partial": report.period_end < dt.date(report.period_start.year, 12, 31),
    }
    return render(request, "clinic_measures.html", ctx)


@router.get("/api/clinic/measures", response_model=ClinicReport, responses=READ)
def api_measures(
    db: DbDep, cat: CatalogueDep, user: ClinicianDep, year: YearQuery = None
) -> ClinicReport:
    """Quality measures over the patients who share with you, for one measurement year.

    HEDIS DBO, DAE and DDE and PQA COB are benzotaper's adaptations of the published measures,
    computed from saved plans and journals: each measure says how, what it cannot see, and
    cites its definition (keys of GET /api/references). Counts only, never a patient."""
    return clinic_report_for(db, cat, user, year, "json")


ExportFormat = Literal["csv", "fhir", "fhir-r5"]
#: format: (media type, file suffix)
_EXPORTS: dict[str, tuple[str, str]] = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "fhir": ("application/fhir+json", "r4b.json"),
    "fhir-r5": ("application/fhir+json", "r5.json"),
}
EXPORT_RESPONSES: Responses = {
    200: {
        "description": "The file: CSV (one row per rate) or a FHIR MeasureReport (JSON)",
        "content": {
            "text/csv": {"schema": {"type": "string", "format": "binary"}},
            "application/fhir+json": {"schema": {"type": "string", "format": "binary"}},
        },
    },
    **READ,
}


@router.get(
    "/api/clinic/measures/export",
    tags=["clinician", "exports"],
    response_class=Response,
    responses=EXPORT_RESPONSES,
)
def api_measures_export(
    db: DbDep,
    cat: CatalogueDep,
    user: ClinicianDep,
    year: YearQuery = None,
    format: Annotated[ExportFormat, Query(description="csv, fhir (R4B) or fhir-r5")] = "csv",
) -> Response:
    """The clinic report as a file. ``csv``: one row per rate with its counts, score and
    sources; text cells a spreadsheet would run as a formula get a leading single quote.
    ``fhir`` / ``fhir-r5``: a validated HL7 FHIR MeasureReport (summary), one group per measure
    with its population counts and measureScore, the definitions, adaptations and sources in a
    contained Measure."""
    report = clinic_report_for(db, cat, user, year, format)
    media, suffix = _EXPORTS[format]
    if format == "csv":
        body = report_csv(report)
    else:
        version = "r5" if format == "fhir-r5" else "r4b"
        body = json.dumps(report_fhir(report, cat.references, version), ensure_ascii=False)
    name = f"benzotaper-clinic-measures-{report.period_start.year}.{suffix}"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
