"""Clinician pages: redeem a patient's invite code, the patient list with alerts (a page at a
time, searchable, most urgent first: ``web.patient_list``), read-only
views of a patient's plan, journal and trends, and a suggested plan change.

Every look at a patient's data goes through ``services.care`` (no active share: 404, as if the
patient did not exist), which writes the audit-log row the patient can see in the look's
transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from benzotaper.errors import InputError, NotFoundError
from benzotaper.services.care import CareService
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database, User
from benzotaper.storage.journal import PlanRecord
from benzotaper.web import clock, sharing, suggestions
from benzotaper.web.deps import ClinicianDep, DbDep, FormDep, JournalDep
from benzotaper.web.exporting import FORMATS
from benzotaper.web.patient_list import MAX_PER_PAGE, Sort, list_page
from benzotaper.web.patient_view import summary_from_status
from benzotaper.web.routes.myplan import (
    JournalEnd,
    JournalStart,
    plan_page_context,
    saved_export,
)
from benzotaper.web.templating import render

router = APIRouter()
ID = Annotated[int, PathParam(ge=1, le=2**31 - 1)]
FormatParam = Annotated[str, PathParam(pattern="^(" + "|".join(FORMATS) + ")$")]


def shared_patient(db: Database, clinician_id: int, patient_id: int, action: str | None) -> User:
    """The patient if shared with this clinician (else NotFoundError), with an audit row for
    ``action`` (None: for an action the service audits once it is done, in its transaction)."""
    return CareService(db).patient(clinician_id, patient_id, action)


SearchParam = Annotated[str, Query(max_length=200)]
PageParam = Annotated[int, Query(ge=1, le=2**31 - 1)]
PerPageParam = Annotated[int, Query(ge=1, le=MAX_PER_PAGE)]


def _list_context(journal: JournalService, clinician_id: int, **page: Any) -> dict[str, Any]:
    found = list_page(journal, clinician_id, **page)
    return {"nav": "clinician", "patients": found.patients, "listing": found}


def reinstate_patient(
    journal: JournalService, clinician_id: int, patient: User, reason: str, action: str
) -> PlanRecord:
    """Return a shared patient to their last well-tolerated dose, on the patient's clock (their
    "today"), recorded as asked by the prescriber and audited in the same transaction."""
    on_their_clock = JournalService(
        journal.db, journal.knowledge, now=lambda: clock.now_for(patient)
    )
    return on_their_clock.reinstate_for_patient(
        clinician_id, patient.id, reason=reason, action=action
    )


@router.get("/clinician", response_class=HTMLResponse, include_in_schema=False)
def clinician_home(
    request: Request,
    journal: JournalDep,
    user: ClinicianDep,
    q: SearchParam = "",
    page: PageParam = 1,
    sort: Sort = "urgency",
) -> HTMLResponse:
    ctx = _list_context(journal, user.id, q=q, page=page, sort=sort)
    return render(request, "clinician.html", ctx)


@router.post("/clinician/redeem", response_class=HTMLResponse, include_in_schema=False)
def redeem(
    request: Request,
    db: DbDep,
    journal: JournalDep,
    user: ClinicianDep,
    code: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        with db.transaction() as s:
            patient_id = sharing.redeem_invite(s, user.id, code).id
    except sharing.ShareError as exc:
        ctx = _list_context(journal, user.id) | {"problems": [exc.message], "code": code}
        return render(request, "clinician.html", ctx, status_code=422)
    return RedirectResponse(f"/clinician/patients/{patient_id}", status_code=303)


def _patient_context(
    journal: JournalService, patient: User, session: Session | None = None
) -> dict[str, Any]:
    """Alerts and the last two weeks first; the plan after them (on the patient's date), all
    read in one read transaction (``session``, or one opened here)."""
    from benzotaper.web import trends

    if session is None:
        with journal.db.read() as s, journal.reading(s):
            return _patient_context(journal, patient, s)
    day = clock.today_in(patient.time_zone)
    base = f"/clinician/patients/{patient.id}"
    ctx = plan_page_context(journal, patient.id, day, f"{base}/chart.svg")
    start = day - dt.timedelta(days=13)
    recent = list(reversed(journal.recent_entries(patient.id, start, day)))
    has_trends = trends.has_data(journal, patient.id, day, recent=recent)
    ctx |= {
        "recent": recent,
        "trend_chart": f"{base}/trends.svg" if has_trends else None,
        "summary": summary_from_status(patient, ctx["status"]),
        "patient": patient,
        "cat": journal.catalogue,
        "nav": "clinician",
        "suggestions": suggestions.for_patient(journal.db, patient.id, session),
        "reinstate_days": int(journal.rules.reinstate.hold_days.low),
    }
    return ctx


@router.get(
    "/clinician/patients/{patient_id}", response_class=HTMLResponse, include_in_schema=False
)
def patient_page(
    request: Request, journal: JournalDep, user: ClinicianDep, patient_id: ID
) -> HTMLResponse:
    """The patient's page: the share checked, everything shown read and the look's audit row
    written in one transaction, before the page is sent: a look that could not be audited
    shows nothing."""
    looks = CareService(journal.db)
    with (
        looks.look(user.id, patient_id, "view.patient") as (s, patient),
        journal.reading(s, known=[patient.id]),
    ):
        ctx = _patient_context(journal, patient, s)
    return render(request, "patient.html", ctx)


@router.get("/clinician/patients/{patient_id}/export/{fmt}", include_in_schema=False)
def patient_export(
    request: Request,
    journal: JournalDep,
    user: ClinicianDep,
    patient_id: ID,
    fmt: FormatParam,
    journal_start: JournalStart = None,
    journal_end: JournalEnd = None,
) -> Response:
    patient = shared_patient(journal.db, user.id, patient_id, f"export.{fmt}")
    active = journal.active_plan(patient.id)
    if active is None:
        raise NotFoundError("This patient has no saved plan.")
    return saved_export(journal, patient.id, active, fmt, request, journal_start, journal_end)


@router.post(
    "/clinician/patients/{patient_id}/suggest",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def suggest(
    request: Request, journal: JournalDep, user: ClinicianDep, patient_id: ID, form: FormDep
) -> Response:
    patient = shared_patient(journal.db, user.id, patient_id, "suggest.plan")
    values = {k: str(v)[:2000] for k, v in form.items() if isinstance(v, str)}
    try:
        suggestions.create(journal.db, journal.catalogue, user.id, patient.id, values)
    except suggestions.SuggestionError as exc:
        ctx = _patient_context(journal, patient) | {"problems": [exc.message], "values": values}
        return render(request, "patient.html", ctx, status_code=422)
    return RedirectResponse(f"/clinician/patients/{patient.id}?suggested=1", status_code=303)


@router.post(
    "/clinician/patients/{patient_id}/reinstate",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def reinstate(
    request: Request,
    journal: JournalDep,
    user: ClinicianDep,
    patient_id: ID,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Return the patient to their last well-tolerated dose (a new plan version, audited)."""
    patient = shared_patient(journal.db, user.id, patient_id, None)
    try:
        reinstate_patient(journal, user.id, patient, reason, "plan.reinstate")
    except (InputError, NotFoundError) as exc:
        ctx = _patient_context(journal, patient) | {
            "problems": [exc.message],
            "reinstate_reason": reason,
        }
        return render(request, "patient.html", ctx, status_code=exc.http_status)
    return RedirectResponse(f"/clinician/patients/{patient.id}?reinstated=1", status_code=303)
