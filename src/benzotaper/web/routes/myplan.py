"""A patient's own plan: today's doses with one-tap "taken", this week, the calendar, progress,
next cut and any hold with its reason, plan versions, and export downloads."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from benzotaper.catalogue import Catalogue
from benzotaper.errors import NotFoundError
from benzotaper.limits import EXPORT_CHECKINS_MAX
from benzotaper.lru import LRU
from benzotaper.services.journal import JournalService
from benzotaper.storage.journal import PlanRecord
from benzotaper.web import clock, planview, suggestions
from benzotaper.web.deps import DbDep, JournalDep, PatientDep
from benzotaper.web.exporting import FORMATS, History, saved_history
from benzotaper.web.isodate import ISODate
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
    ctx["checkins_max"] = EXPORT_CHECKINS_MAX
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


JournalStart = Annotated[
    ISODate | None, Query(description="FHIR: only check-ins from this day (YYYY-MM-DD)")
]
JournalEnd = Annotated[
    ISODate | None,
    Query(
        description=f"FHIR: only check-ins to this day. A Bundle carries the newest "
        f"{EXPORT_CHECKINS_MAX} of the range; when earlier ones are left out, the answer's "
        'Link header (rel="prev") names the range that gives them.'
    ),
]


@router.get("/my-plan/export/{fmt}", include_in_schema=False)
def export_my_plan(
    request: Request,
    journal: JournalDep,
    user: PatientDep,
    fmt: FormatParam,
    journal_start: JournalStart = None,
    journal_end: JournalEnd = None,
) -> Response:
    active = journal.active_plan(user.id)
    if active is None:
        raise NotFoundError("You have no saved plan yet.")
    return saved_export(journal, user.id, active, fmt, request, journal_start, journal_end)


def saved_export(
    journal: JournalService,
    user_id: int,
    record: PlanRecord,
    fmt: str,
    request: Request,
    start: dt.date | None,
    end: dt.date | None,
) -> Response:
    """A saved plan's export with the part of the journal its format shows (bounded: see
    :mod:`benzotaper.services.exports`); when the bound left check-ins out, the ``Link``
    header (``rel="prev"``) names this export for the earlier ones and
    ``X-Journal-Left-Out-From`` the day of the newest one left out. PDFs are kept (see
    ``KEPT_PDFS``)."""
    history = saved_history(journal, user_id, FORMATS[fmt].journal, start=start, end=end)
    response = export_response(record.plan, journal.catalogue, fmt, history, keep=record.uid)
    if history.left_out_from is not None:
        day = history.left_out_from.isoformat()
        earlier = request.url.include_query_params(journal_end=day)
        response.headers["Link"] = f'<{earlier.path}?{earlier.query}>; rel="prev"'
        response.headers["X-Journal-Left-Out-From"] = day
    return response


#: Policy: PDFs kept per worker process, by plan version, format and day (a patient schedule is
#: ~100 KB, a prescriber sheet ~300 KB: at most ~10 MB). A PDF shows only the plan (and the
#: day's progress), never the journal, and a saved plan version never changes: making it again
#: (2-10 s of CPU) would give the same bytes.
KEPT_PDFS: LRU[tuple[str, str, dt.date], bytes] = LRU(32)


def export_response(
    plan: Any,
    cat: Catalogue,
    fmt: str,
    history: History | None = None,
    *,
    keep: str | None = None,
) -> Response:
    """The export as a download; ``history`` (plan versions, journal) for a saved plan;
    ``keep``: the saved plan version's uid, under which a PDF is kept."""
    f = FORMATS[fmt]
    day = clock.today_in(history.time_zone if history else None)
    key = (keep, fmt, day) if keep is not None and f.media_type == "application/pdf" else None
    body = KEPT_PDFS.get(key) if key is not None else None
    if body is None:
        body = f.make(plan, cat, day, history)
        if key is not None:
            KEPT_PDFS.put(key, body)
    return Response(
        body,
        media_type=f.media_type,
        headers={"Content-Disposition": f'attachment; filename="{f.filename}"'},
    )
