"""Today: the page a patient lands on. The dose to take now with its pieces, one large
"I took it" button, undo for a moment after, and the next cut with the projected end.

Without JavaScript every button is a plain form post that comes back to this page; with htmx
only the doses block is swapped. Times and "today" are on the person's own clock.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from benzotaper.errors import NotFoundError
from benzotaper.storage import Database
from benzotaper.web import clock, today, tracking
from benzotaper.web.accounts import Identity
from benzotaper.web.deps import CatalogueDep, DbDep, PatientDep
from benzotaper.web.templating import render

router = APIRouter()
LATE_UNDO = "That dose was recorded a while ago: correct or retract it in the journal instead."
UID = Annotated[str, PathParam(min_length=8, max_length=36, pattern=r"^[0-9a-f-]+$")]


def _context(db: Database, user: Identity, cat: Any, undo: str | None) -> dict[str, Any]:
    view = today.today_view(db, user.id, clock.now_for(user))
    shown = today.UNDO_SHOWN_SECONDS
    return {"nav": "today", "v": view, "cat": cat, "undo_uid": undo, "undo_seconds": shown}


def _answer(
    request: Request, db: Database, user: Identity, cat: Any, undo: str | None, note: str = ""
) -> Response:
    """htmx: the doses block again; a plain form post: back to the page (Post/Redirect/Get)."""
    if request.headers.get("HX-Request"):
        ctx = _context(db, user, cat, undo) | {"note": note}
        return render(request, "partials/today_doses.html", ctx)
    query = f"?undo={undo}" if undo else ("?note=late" if note else "")
    return RedirectResponse(f"/today{query}#doses", 303)


@router.get("/today", response_class=HTMLResponse, include_in_schema=False)
def today_page(request: Request, db: DbDep, cat: CatalogueDep, user: PatientDep) -> HTMLResponse:
    undo = request.query_params.get("undo") or None
    ctx = _context(db, user, cat, undo if undo and len(undo) <= 36 else None)
    ctx["note"] = LATE_UNDO if request.query_params.get("note") == "late" else ""
    return render(request, "today.html", ctx)


@router.post("/today/take", response_class=HTMLResponse, include_in_schema=False)
def take(
    request: Request,
    db: DbDep,
    cat: CatalogueDep,
    user: PatientDep,
    drug: Annotated[str, Form(min_length=1, max_length=100)],
    mg: Annotated[float, Form(ge=0, le=1000)],
    planned_time: Annotated[str, Form(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")],
    status: Annotated[str, Form(pattern="^(taken|missed)$")] = "taken",
) -> Response:
    """The planned dose at ``planned_time``: taken now, or missed."""
    from benzotaper.journal.entries import DoseEntry

    now = clock.now_for(user)
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
    rec = js.add_entry(user.id, now.date(), entry, plan_version_uid=active.uid if active else None)
    return _answer(request, db, user, cat, rec.uid)


@router.post("/today/undo/{uid}", response_class=HTMLResponse, include_in_schema=False)
def undo(request: Request, db: DbDep, cat: CatalogueDep, user: PatientDep, uid: UID) -> Response:
    """Take back a tap made a moment ago (the entry leaves the journal, kept in its history)."""
    js = tracking.store(db)
    rec = js.entry(user.id, uid)
    if rec.kind != "dose" or rec.deleted:
        raise NotFoundError("There is no dose to undo here.")
    if not today.undo_allowed(rec.created_at, clock.now_in("UTC")):
        return _answer(request, db, user, cat, None, LATE_UNDO)
    js.delete_entry(user.id, uid, reason=today.UNDO_REASON)
    return _answer(request, db, user, cat, None)
