"""A patient's own plan: today's doses with one-tap "taken", this week, the calendar, progress,
next cut and any hold with its reason, plan versions, and export downloads."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from benzotaper.catalogue import Catalogue
from benzotaper.errors import NotFoundError
from benzotaper.services.journal import JournalService
from benzotaper.web import clock, planview, suggestions
from benzotaper.web.deps import DbDep, JournalDep, PatientDep
from benzotaper.web.exporting import FORMATS, History, saved_history
from benzotaper.web.templating import render

router = APIRouter()
FormatParam = Annotated[str, PathParam(pattern="^(" + "|".join(FORMATS) + ")$")]


def plan_page_context(
    journal: JournalService, user_id: int, day: dt.date, chart_url: str
) -> dict[str, Any]:
    """What My plan (and the clinician's read-only copy) shows: status, the plan as rows, the
    chart's URL, progress and versions. Small and explicit: each key is used by the page."""
    from benzotaper.exports._common import percent_done
    from benzotaper.journal.timeline import step_on

    state = journal.plan_state(user_id, day)
    st, active = state.status, state.active
    cat = journal.catalogue
    ctx: dict[str, Any] = {"status": st, "record": active, "today": day, "formats": FORMATS}
    if active is None:
        return ctx
    plan = active.plan
    step = step_on(plan, day)
    ctx["plan"] = plan
    ctx["view"] = planview.view(plan, cat, day, chart=chart_url, uid=active.uid)
    ctx["progress"] = (
        round(percent_done(plan, step)) if step else (100 if day > plan.summary.end else 0)
    )
    ctx["versions"] = list(reversed(state.versions))
    return ctx


@router.get("/my-plan", response_class=HTMLResponse, include_in_schema=False)
def my_plan(request: Request, db: DbDep, journal: JournalDep, user: PatientDep) -> HTMLResponse:
    ctx = plan_page_context(journal, user.id, journal.today_date(), "/my-plan/chart.svg")
    saved = request.query_params.get("saved")
    ctx.update({"nav": "myplan", "cat": journal.catalogue, "saved": saved})
    ctx["suggestions"] = suggestions.for_patient(db, user.id)
    return render(request, "my_plan.html", ctx)


@router.get("/my-plan/export/{fmt}", include_in_schema=False)
def export_my_plan(journal: JournalDep, user: PatientDep, fmt: FormatParam) -> Response:
    active = journal.active_plan(user.id)
    if active is None:
        raise NotFoundError("You have no saved plan yet.")
    return export_response(active.plan, journal.catalogue, fmt, saved_history(journal, user.id))


def export_response(
    plan: Any, cat: Catalogue, fmt: str, history: History | None = None
) -> Response:
    """The export as a download; ``history`` (plan versions, journal) for a saved plan."""
    f = FORMATS[fmt]
    day = clock.today_in(history.time_zone if history else None)
    body = f.make(plan, cat, day, history)
    return Response(
        body,
        media_type=f.media_type,
        headers={"Content-Disposition": f'attachment; filename="{f.filename}"'},
    )
