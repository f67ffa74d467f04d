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

from benzotaper.errors import ConfirmationRequired, NotFoundError
from benzotaper.services.journal import JournalService
from benzotaper.web import clock, today
from benzotaper.web.deps import JournalDep, PatientDep
from benzotaper.web.templating import render

router = APIRouter()
LATE_UNDO = "That dose was recorded a while ago: correct or retract it in the journal instead."
UID = Annotated[str, PathParam(min_length=8, max_length=36, pattern=r"^[0-9a-f-]+$")]


ALREADY = "That dose is already recorded: correct it in the journal if it was wrong."
NOTES = {"late": LATE_UNDO, "already": ALREADY}


def _context(journal: JournalService, user_id: int, undo: str | None) -> dict[str, Any]:
    view = today.today_view(journal, user_id)
    shown = today.UNDO_SHOWN_SECONDS
    cat = journal.catalogue
    return {"nav": "today", "v": view, "cat": cat, "undo_uid": undo, "undo_seconds": shown}


def _answer(
    request: Request, journal: JournalService, user_id: int, undo: str | None, note: str = ""
) -> Response:
    """htmx: the doses block again; a plain form post: back to the page (Post/Redirect/Get)."""
    if request.headers.get("HX-Request"):
        ctx = _context(journal, user_id, undo) | {"note": NOTES.get(note, "")}
        return render(request, "partials/today_doses.html", ctx)
    query = f"?undo={undo}" if undo else (f"?note={note}" if note else "")
    return RedirectResponse(f"/today{query}#doses", 303)


@router.get("/today", response_class=HTMLResponse, include_in_schema=False)
def today_page(request: Request, journal: JournalDep, user: PatientDep) -> HTMLResponse:
    undo = request.query_params.get("undo") or None
    ctx = _context(journal, user.id, undo if undo and len(undo) <= 36 else None)
    ctx["note"] = NOTES.get(request.query_params.get("note") or "", "")
    return render(request, "today.html", ctx)


@router.post("/today/take", response_class=HTMLResponse, include_in_schema=False)
def take(
    request: Request,
    journal: JournalDep,
    user: PatientDep,
    drug: Annotated[str, Form(min_length=1, max_length=100)],
    planned_time: Annotated[str, Form(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")],
    status: Annotated[str, Form(pattern="^(taken|missed)$")] = "taken",
) -> Response:
    """The planned dose at ``planned_time``: taken now (the plan's amount), or missed. A second
    tap for a dose already recorded records nothing."""
    try:
        done = journal.take(
            user.id,
            planned_time=planned_time,
            drug=drug,
            status=status,  # type: ignore[arg-type]
        )
    except ConfirmationRequired:
        return _answer(request, journal, user.id, None, "already")
    return _answer(request, journal, user.id, done.entry.uid)


@router.post("/today/undo/{uid}", response_class=HTMLResponse, include_in_schema=False)
def undo(request: Request, journal: JournalDep, user: PatientDep, uid: UID) -> Response:
    """Take back a tap made a moment ago (the entry leaves the journal, kept in its history)."""
    rec = journal.entry(user.id, uid)
    if rec.kind != "dose" or rec.deleted:
        raise NotFoundError("There is no dose to undo here.")
    if not today.undo_allowed(rec.created_at, clock.now_in("UTC")):
        return _answer(request, journal, user.id, None, "late")
    journal.retract(user.id, rec.uid, reason=today.UNDO_REASON)
    return _answer(request, journal, user.id, None)
