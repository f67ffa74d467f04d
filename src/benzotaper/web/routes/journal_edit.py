"""Correcting and retracting journal entries on the web, with a reason, as the CLI does.

The page of one entry shows its history (every revision, with the reason for each change), a
form to correct it and a form to retract it. Both go to the journal service, which checks the
corrected entry like a new one and reviews the adaptive rules again (a retraction can lift the
hold it caused). The forms carry the revision they were made from: if the entry was changed
meanwhile (in another tab, from the CLI), the change is refused with 409 and nothing is
written.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from benzotaper.errors import ConfirmationRequired, ConflictError, InputError
from benzotaper.services.journal import JournalService, Recorded
from benzotaper.storage.journal import EntryRecord
from benzotaper.web import flash
from benzotaper.web.deps import FormDep, JournalDep, PatientDep
from benzotaper.web.journal_forms import day_of, entry_data, field_errors, form_values
from benzotaper.web.routes.journal import UID_PATTERN, decision_messages
from benzotaper.web.templating import render

router = APIRouter()
UID = Annotated[str, PathParam(pattern=f"^{UID_PATTERN.pattern}$")]


def form_of(rec: EntryRecord) -> dict[str, str]:
    """The entry's fields as the edit form shows them."""
    data = rec.entry.model_dump(mode="json")
    values = {"day": rec.day.isoformat(), "revision": rec.uid}
    for key, value in data.items():
        if key == "quick":
            values |= {f"q_{k}": str(v) for k, v in value.items()}
        elif key == "danger_signs":
            values |= {f"d_{k}": "on" for k in value}
        elif isinstance(value, list):
            values[key] = ",".join(str(v) for v in value)
        elif value is not None:
            values[key] = str(value)
    return values


def summary(rec: EntryRecord) -> list[tuple[str, str]]:
    """What a revision says, field by field (defaults left out), for its history."""
    data = rec.entry.model_dump(mode="json", exclude={"kind"}, exclude_defaults=True)
    return [(k.replace("_", " "), str(v)) for k, v in data.items()]


def _page(
    request: Request,
    journal: JournalService,
    user_id: int,
    uid: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    revisions, superseded = journal.history(user_id, uid)
    current = revisions[-1]
    ctx = {
        "nav": "journal",
        "entry": current,
        "revisions": revisions,
        "summaries": {r.uid: summary(r) for r in revisions},
        "superseded": superseded,
        "values": values or form_of(current),
        "errors": errors or {},
        "book": journal.book,
        "today": journal.today_date(),
        "cat": journal.catalogue,
        **extra,
    }
    return render(request, "entry.html", ctx, status_code=status_code)


@router.get("/journal/entries/{uid}", response_class=HTMLResponse, include_in_schema=False)
def entry_page(request: Request, journal: JournalDep, user: PatientDep, uid: UID) -> HTMLResponse:
    return _page(request, journal, user.id, uid)


def _done(request: Request, done: Recorded, what: str) -> Response:
    """Back to the journal (Post/Redirect/Get), saying ``what`` was done and what the review
    decided."""
    return flash.redirect(request, f"/journal?saved={what}", messages=decision_messages(done))


@router.post("/journal/entries/{uid}/edit", response_class=HTMLResponse, include_in_schema=False)
def edit_entry(
    request: Request, journal: JournalDep, user: PatientDep, uid: UID, form: FormDep
) -> Response:
    values = form_values(form)
    revision = values.get("revision", uid)
    old = journal.entry(user.id, revision)
    errors: dict[str, str] = {}
    day = day_of(values.get("day", ""), journal.today_date(), errors)
    changes = entry_data(old.kind, values, journal.book, errors)
    if errors:
        return _page(request, journal, user.id, uid, values, errors, 422)
    try:
        done = journal.correct(
            user.id,
            revision,
            changes,
            day=day,
            reason=values.get("reason", ""),
            confirm=values.get("confirm") == "true",
        )
    except ConflictError as exc:
        return _page(
            request, journal, user.id, uid, None, {"form": exc.message}, 409, conflict=True
        )
    except ConfirmationRequired as exc:
        errors = field_errors(exc)
        return _page(request, journal, user.id, uid, values, errors, 422, ask_confirm=True)
    except InputError as exc:
        return _page(request, journal, user.id, uid, values, field_errors(exc), 422)
    return _done(request, done, "corrected")


@router.post("/journal/entries/{uid}/retract", response_class=HTMLResponse, include_in_schema=False)
def retract_entry(
    request: Request, journal: JournalDep, user: PatientDep, uid: UID, form: FormDep
) -> Response:
    values = form_values(form)
    revision = values.get("revision", uid)
    try:
        done = journal.retract(user.id, revision, reason=values.get("reason", ""))
    except ConflictError as exc:
        return _page(
            request, journal, user.id, uid, None, {"form": exc.message}, 409, conflict=True
        )
    except InputError as exc:
        errors = {
            "retract_reason": field_errors(exc, {"reason": "retract_reason"}).get(
                "retract_reason", exc.message
            )
        }
        return _page(request, journal, user.id, uid, None, errors, 422, retract_values=values)
    return _done(request, done, "retracted")
