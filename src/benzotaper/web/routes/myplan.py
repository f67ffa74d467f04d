"""A patient's own plan: today's doses with one-tap "taken", this week, the calendar, progress,
next cut and any hold with its reason, plan versions, and export downloads."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from benzotaper.catalogue import Catalogue
from benzotaper.errors import NotFoundError
from benzotaper.storage import Database
from benzotaper.web import planview, suggestions, tracking
from benzotaper.web.deps import CatalogueDep, DbDep, PatientDep
from benzotaper.web.exporting import FORMATS, History, saved_history
from benzotaper.web.templating import render

router = APIRouter()
FormatParam = Annotated[str, PathParam(pattern="^(" + "|".join(FORMATS) + ")$")]


def todays_doses(db: Database, user_id: int, plan: Any, day: dt.date) -> list[dict[str, Any]]:
    """The day's planned doses, each marked taken or missed from the journal's dose entries."""
    from benzotaper.journal.entries import DoseEntry
    from benzotaper.journal.timeline import planned_doses

    logged = [
        r.entry
        for r in tracking.store(db).entries(user_id, kind="dose", start=day, end=day)
        if isinstance(r.entry, DoseEntry)
    ]

    def marked(d: Any, status: str) -> bool:
        return any(
            t.drug == d.drug and t.planned_time == d.time and t.status == status for t in logged
        )

    return [
        {"dose": d, "taken": marked(d, "taken"), "missed": marked(d, "missed")}
        for d in planned_doses(plan, day)
        if d.mg > 0
    ]


def plan_page_context(
    db: Database, cat: Catalogue, user_id: int, day: dt.date, base: str = "/my-plan"
) -> dict[str, Any]:
    """Everything the My plan page (and the clinician's read-only copy, ``base`` its URL)
    shows; the chart is linked (``base``/plans/UID/chart.svg), never drawn here."""
    from benzotaper.exports._common import percent_done
    from benzotaper.journal.timeline import planned_doses, step_on

    st = tracking.status(db, user_id, day)
    js = tracking.store(db)
    active = js.active_plan(user_id)
    ctx: dict[str, Any] = {"status": st, "record": active, "today": day, "formats": FORMATS}
    if active is None:
        return ctx
    plan = active.plan
    step = step_on(plan, day)
    ctx["plan"] = plan
    ctx["view"] = planview.view(plan, day, f"{base}/plans/{active.uid}/chart.svg")
    ctx["progress"] = (
        round(percent_done(plan, step)) if step else (100 if day > plan.summary.end else 0)
    )
    ctx["today_doses"] = todays_doses(db, user_id, plan, day)
    ctx["week"] = [
        (
            day + dt.timedelta(days=i),
            [d for d in planned_doses(plan, day + dt.timedelta(days=i)) if d.mg > 0],
        )
        for i in range(7)
    ]
    ctx["versions"] = list(reversed(js.plan_versions(user_id)))
    return ctx


@router.get("/my-plan", response_class=HTMLResponse, include_in_schema=False)
def my_plan(request: Request, db: DbDep, cat: CatalogueDep, user: PatientDep) -> HTMLResponse:
    ctx = plan_page_context(db, cat, user.id, tracking.today())
    ctx.update({"nav": "myplan", "cat": cat, "saved": request.query_params.get("saved")})
    ctx["suggestions"] = suggestions.for_patient(db, user.id)
    return render(request, "my_plan.html", ctx)


@router.post("/my-plan/dose", response_class=HTMLResponse, include_in_schema=False)
def log_dose(
    request: Request,
    db: DbDep,
    cat: CatalogueDep,
    user: PatientDep,
    drug: Annotated[str, Form(min_length=1, max_length=100)],
    mg: Annotated[float, Form(ge=0, le=1000)],
    planned_time: Annotated[str, Form(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")],
    status: Annotated[str, Form(pattern="^(taken|missed)$")] = "taken",
) -> Response:
    """One tap: the planned dose at ``planned_time`` was taken (now) or missed."""
    from benzotaper.journal.entries import DoseEntry

    now = dt.datetime.now()
    entry = DoseEntry(
        status=status,
        drug=cat.drug(drug).id,
        mg=mg if status == "taken" else 0,
        time=now.strftime("%H:%M") if status == "taken" else None,
        planned_time=planned_time,
        planned_mg=mg,
    )
    js = tracking.store(db)
    active = js.active_plan(user.id)
    js.add_entry(user.id, now.date(), entry, plan_version_uid=active.uid if active else None)
    if request.headers.get("HX-Request"):
        ctx: dict[str, Any] = {"cat": cat, "today": now.date(), "today_doses": []}
        if active is not None:
            ctx["today_doses"] = todays_doses(db, user.id, active.plan, now.date())
        return render(request, "partials/today.html", ctx)
    back = request.headers.get("referer", "")
    return RedirectResponse("/journal" if back.endswith("/journal") else "/my-plan#today", 303)


@router.get("/my-plan/export/{fmt}", include_in_schema=False)
def export_my_plan(db: DbDep, cat: CatalogueDep, user: PatientDep, fmt: FormatParam) -> Response:
    active = tracking.store(db).active_plan(user.id)
    if active is None:
        raise NotFoundError("You have no saved plan yet.")
    return export_response(active.plan, cat, fmt, saved_history(db, user.id))


def export_response(
    plan: Any, cat: Catalogue, fmt: str, history: History | None = None
) -> Response:
    """The export as a download; ``history`` (plan versions, journal) for a saved plan."""
    f = FORMATS[fmt]
    body = f.make(plan, cat, tracking.today(), history)
    return Response(
        body,
        media_type=f.media_type,
        headers={"Content-Disposition": f'attachment; filename="{f.filename}"'},
    )
