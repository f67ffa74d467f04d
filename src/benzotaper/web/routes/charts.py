"""Charts as images of their own (SVG), so the pages that show them stay light.

My plan, the journal and the clinician's view of a patient load their charts from here; each
route checks who may see the chart exactly as its page does (a clinician: an active share).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from benzotaper.errors import NotFoundError
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database, care
from benzotaper.web import clock, plancharts, trends
from benzotaper.web.deps import CatalogueDep, ClinicianDep, JournalDep, PatientDep
from benzotaper.web.security import CSP_SVG

router = APIRouter()
ID = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


def svg_response(svg: bytes | None) -> Response:
    """An SVG chart as an image (matplotlib's inline styles get their own, narrow CSP)."""
    if svg is None:
        raise NotFoundError("There is no chart to show yet.")
    headers = {"Content-Security-Policy": CSP_SVG, "Cache-Control": "private, max-age=300"}
    return Response(svg, media_type="image/svg+xml", headers=headers)


def _plan_chart(journal: JournalService, user_id: int) -> Response:
    active = journal.active_plan(user_id)
    if active is None:
        raise NotFoundError("No plan has been saved yet.")
    # drawn once per version by any worker, stored, then only read
    chart = plancharts.saved_plan_chart(journal.db, journal.catalogue, user_id, active.uid)
    return svg_response(chart)


def _shared_tz(db: Database, clinician_id: int, patient_id: int) -> str:
    with db.read() as s:
        return care.patient_for_clinician(s, clinician_id, patient_id).time_zone


@router.get("/my-plan/chart.svg", include_in_schema=False)
def my_plan_chart(journal: JournalDep, user: PatientDep) -> Response:
    return _plan_chart(journal, user.id)


@router.get("/journal/trends.svg", include_in_schema=False)
def my_trends(journal: JournalDep, user: PatientDep) -> Response:
    return svg_response(trends.chart_svg(journal, user.id, journal.today_date()))


@router.get("/clinician/patients/{patient_id}/chart.svg", include_in_schema=False)
def patient_chart(journal: JournalDep, user: ClinicianDep, patient_id: ID) -> Response:
    _shared_tz(journal.db, user.id, patient_id)
    return _plan_chart(journal, patient_id)


@router.get("/clinician/patients/{patient_id}/trends.svg", include_in_schema=False)
def patient_trends(journal: JournalDep, user: ClinicianDep, patient_id: ID) -> Response:
    tz = _shared_tz(journal.db, user.id, patient_id)
    return svg_response(trends.chart_svg(journal, patient_id, clock.today_in(tz)))


@router.get("/plan/chart.svg", include_in_schema=False)
def preview_chart(request: Request, cat: CatalogueDep) -> Response:
    """The builder preview's chart: the plan the form (in the query string) makes today, drawn
    only when the image is fetched and kept in a small per-process cache."""
    from benzotaper.web.plan_form import parse_form
    from benzotaper.web.routes.builder import today

    plan_request = parse_form(request.query_params, cat).request
    if plan_request is None:
        raise NotFoundError("There is no chart to show yet.")
    return svg_response(plancharts.preview_chart(plan_request, cat, today()))
