"""A patient's own plan: today's doses with one-tap "taken", this week, the calendar, progress,
next cut and any hold with its reason, plan versions, and export downloads."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from benzotaper.catalogue import Catalogue
from benzotaper.errors import ConfirmationRequired, NotFoundError
from benzotaper.services.journal import JournalService
from benzotaper.web import planview, suggestions
from benzotaper.web.deps import CatalogueDep, DbDep, JournalDep, PatientDep
from benzotaper.web.exporting import FORMATS, History, saved_history
from benzotaper.web.templating import render

router = APIRouter()
FormatParam = Annotated[str, PathParam(pattern="^(" + "|".join(FORMATS) + ")$")]


def plan_page_context(journal: JournalService, user_id: int, day: dt.date) -> dict[str, Any]:
    """Everything the My plan page (and the clinician's read-only copy) shows."""
    from benzotaper.exports._common import percent_done
    from benzotaper.journal.timeline import planned_doses, step_on

    today = journal.today(user_id, day)
    active = journal.active_plan(user_id)
    cat = journal.catalogue
    ctx: dict[str, Any] = {
        "status": today.status,
        "record": active,
        "today": day,
        "formats": FORMATS,
        "today_doses": today.doses,
    }
    if active is None:
        return ctx
    plan = active.plan
    step = step_on(plan, day)
    ctx["plan"] = plan
    ctx["view"] = planview.view(plan, cat, day)
    ctx["progress"] = (
        round(percent_done(plan, step)) if step else (100 if day > plan.summary.end else 0)
    )
    ctx["week"] = [
        (
            day + dt.timedelta(days=i),
            [d for d in planned_doses(plan, day + dt.timedelta(days=i)) if d.mg > 0],
        )
        for i in range(7)
    ]
    ctx["versions"] = list(reversed(journal.version_infos(user_id)))
    return ctx


@router.get("/my-plan", response_class=HTMLResponse, include_in_schema=False)
def my_plan(
    request: Request, db: DbDep, journal: JournalDep, cat: CatalogueDep, user: PatientDep
) -> HTMLResponse:
    ctx = plan_page_context(journal, user.id, journal.today_date())
    ctx.update({"nav": "myplan", "cat": cat, "saved": request.query_params.get("saved")})
    ctx["suggestions"] = suggestions.for_patient(db, user.id)
    return render(request, "my_plan.html", ctx)


@router.post("/my-plan/dose", response_class=HTMLResponse, include_in_schema=False)
def log_dose(
    request: Request,
    journal: JournalDep,
    cat: CatalogueDep,
    user: PatientDep,
    planned_time: Annotated[str, Form(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")],
    drug: Annotated[str | None, Form(min_length=1, max_length=100)] = None,
    status: Annotated[str, Form(pattern="^(taken|missed)$")] = "taken",
    confirm: Annotated[bool, Form()] = False,
) -> Response:
    """One tap: the planned dose at ``planned_time`` was taken (now) or missed (the journal
    service matches it to the plan; a second tap for the same dose is asked about first)."""
    questions: list[str] = []
    try:
        journal.take(
            user.id,
            planned_time=planned_time,
            drug=drug,
            status=status,  # type: ignore[arg-type]
            confirm=confirm,
        )
    except ConfirmationRequired as exc:
        from benzotaper.journal.wording import notice_text

        questions = [notice_text(q) for q in exc.questions]
    day = journal.today_date()
    if request.headers.get("HX-Request") or questions:
        ctx: dict[str, Any] = {
            "cat": cat,
            "today": day,
            "today_doses": journal.today(user.id).doses,
        }
        ctx |= {
            "questions": questions,
            "asked": {"planned_time": planned_time, "drug": drug or "", "status": status},
        }
        if questions and not request.headers.get("HX-Request"):
            return render(request, "dose_question.html", ctx | {"nav": "myplan"})
        return render(request, "partials/today.html", ctx)
    back = request.headers.get("referer", "")
    return RedirectResponse("/journal" if back.endswith("/journal") else "/my-plan#today", 303)


@router.get("/my-plan/export/{fmt}", include_in_schema=False)
def export_my_plan(journal: JournalDep, user: PatientDep, fmt: FormatParam) -> Response:
    active = journal.active_plan(user.id)
    if active is None:
        raise NotFoundError("You have no saved plan yet.")
    history = saved_history(journal, user.id)
    return export_response(active.plan, journal.catalogue, fmt, history, journal.today_date())


def export_response(
    plan: Any, cat: Catalogue, fmt: str, history: History | None, today: dt.date
) -> Response:
    """The export as a download; ``history`` (plan versions, journal) for a saved plan."""
    f = FORMATS[fmt]
    body = f.make(plan, cat, today, history)
    return Response(
        body,
        media_type=f.media_type,
        headers={"Content-Disposition": f'attachment; filename="{f.filename}"'},
    )
