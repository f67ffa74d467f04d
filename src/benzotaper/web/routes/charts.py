"""Chart images: a saved plan version's chart (drawn once, kept), the builder preview's chart
and the journal's trend chart. Pages only link to these (see ``web.plancharts``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from benzotaper.web import plancharts, sharing, trends
from benzotaper.web.deps import CatalogueDep, ClinicianDep, DbDep, PatientDep
from benzotaper.web.plan_form import parse_form
from benzotaper.web.tracking import today

router = APIRouter(include_in_schema=False)
UID = Annotated[
    str, PathParam(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]
ID = Annotated[int, PathParam(ge=1, le=2**31 - 1)]
#: Trend charts change with every entry: the browser may reuse one for a minute (policy).
TREND_CACHE = "private, max-age=60"


@router.get("/my-plan/plans/{uid}/chart.svg")
def my_plan_chart(db: DbDep, cat: CatalogueDep, user: PatientDep, uid: UID) -> Response:
    body = plancharts.saved_plan_chart(db, cat, user.id, uid)
    return plancharts.svg_response(body, plancharts.IMMUTABLE)


@router.get("/clinician/patients/{patient_id}/plans/{uid}/chart.svg")
def patient_plan_chart(
    db: DbDep, cat: CatalogueDep, user: ClinicianDep, patient_id: ID, uid: UID
) -> Response:
    with db.transaction() as s:
        sharing.patient_for_clinician(s, user.id, patient_id)
    body = plancharts.saved_plan_chart(db, cat, patient_id, uid)
    return plancharts.svg_response(body, plancharts.IMMUTABLE)


@router.get("/plan/chart.svg")
def preview_chart(request: Request, cat: CatalogueDep) -> Response:
    """The chart of the plan the builder form (in the query string) makes today."""
    plan_request = parse_form(request.query_params, cat).request
    if plan_request is None:
        return plancharts.svg_response(plancharts.NO_CHART, "no-store")
    body = plancharts.preview_chart(plan_request, cat, today())
    return plancharts.svg_response(body, "private, max-age=3600")


@router.get("/journal/trends.svg")
def my_trends(db: DbDep, user: PatientDep) -> Response:
    body = trends.chart_svg(db, user.id, today()) or plancharts.NO_CHART
    return plancharts.svg_response(body, TREND_CACHE)


@router.get("/clinician/patients/{patient_id}/trends.svg")
def patient_trends(db: DbDep, user: ClinicianDep, patient_id: ID) -> Response:
    with db.transaction() as s:
        sharing.patient_for_clinician(s, user.id, patient_id)
    body = trends.chart_svg(db, patient_id, today()) or plancharts.NO_CHART
    return plancharts.svg_response(body, TREND_CACHE)
