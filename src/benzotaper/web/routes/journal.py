"""Journal pages: the quick daily check-in, the four scales, the sleep diary, notes, trends.

Every entry goes to the journal service (as from the CLI and the API): it checks the entry,
stores it and reviews the adaptive rules, so a hold (with its reason) appears as soon as it is
due. A refused entry comes back with everything typed and a message beside each field; nothing
is stored. Editing and retracting entries are in ``routes.journal_edit``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from benzotaper.errors import InputError, NotFoundError
from benzotaper.journal.entries import CheckinEntry, SleepEntry
from benzotaper.journal.scales import ScaleBook, try_score
from benzotaper.journal.sleep import sleep_metrics
from benzotaper.journal.wording import notice_text
from benzotaper.services.journal import JournalService, Recorded
from benzotaper.storage.journal import EntryRecord
from benzotaper.web import flash
from benzotaper.web.deps import FormDep, JournalDep, PatientDep
from benzotaper.web.journal_forms import (
    SCALE_FIELDS,
    checkin_data,
    day_of,
    field_errors,
    form_values,
    sleep_data,
)
from benzotaper.web.templating import render

router = APIRouter()
ScaleParam = Annotated[str, PathParam(pattern="^(ciwa-b|bwsq|gad-7|phq-9)$")]
UID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def journal_context(journal: JournalService, user_id: int) -> dict[str, Any]:
    from benzotaper.web import trends

    today = journal.today_date()
    with journal.db.read() as s, journal.reading(s):  # one read transaction for the page
        start = today - dt.timedelta(days=13)
        recent = list(reversed(journal.recent_entries(user_id, start, today)))
        st = journal.status(user_id, today)
        charted = trends.has_data(journal, user_id, today, recent=recent)
    return {
        "has_plan": st.plan_version is not None,
        "nav": "journal",
        "status": st,
        "book": journal.book,
        "recent": recent,
        "today": today,
        "trend_chart": "/journal/trends.svg" if charted else None,
        "cat": journal.catalogue,
    }


def decision_messages(done: Recorded) -> list[str]:
    """What a change has to say, each message once: urgent information about the entry
    itself, then the review's decision (nothing when the plan simply continues)."""
    out = [notice_text(n) for n in done.notices]
    decision = done.review.decision
    if decision is not None and decision.kind != "continue":
        out += [decision.reason, *decision.messages]
    return list(dict.fromkeys(out))


def _record(
    journal: JournalService,
    user_id: int,
    data: dict[str, Any],
    day: dt.date,
    errors: dict[str, str],
    rename: dict[str, str] | None = None,
) -> Recorded | None:
    """Record the entry, or add the service's refusal to ``errors`` (nothing stored)."""
    if errors:  # the form's own errors, and whether the date could be used, all at once
        for n in journal.day_problems(user_id, day) if "day" not in errors else []:
            errors["day"] = f"Date: {notice_text(n)}"
        return None
    try:
        return journal.record(user_id, data, day=day)
    except InputError as exc:
        errors.update(field_errors(exc, rename))
        return None


#: What the journal page says after a change (``?saved=``); the review's messages come with it.
SAVED = {
    "checkin": "Check-in saved.",
    "corrected": "Entry corrected; the earlier version stays in its history.",
    "retracted": "Entry retracted; it stays in its history.",
}


@router.get("/journal", response_class=HTMLResponse, include_in_schema=False)
def journal_page(request: Request, journal: JournalDep, user: PatientDep) -> HTMLResponse:
    ctx = journal_context(journal, user.id) | {"values": {}, "errors": {}}
    saved = request.query_params.get("saved") or ""
    ctx["flash"] = saved
    if saved in SAVED:
        ctx["saved_title"] = SAVED[saved]
        ctx["saved_messages"] = flash.take(request).get("messages") or [SAVED[saved]]
    return render(request, "journal.html", ctx)


def saved_entry(journal: JournalService, user_id: int, uid: str | None) -> EntryRecord | None:
    """The entry a page was sent back to after saving (``?saved=<uid>``), if it is theirs."""
    if not uid or not UID_PATTERN.fullmatch(uid):
        return None
    try:
        return journal.entry(user_id, uid)
    except NotFoundError:
        return None


@router.post("/journal/checkin", response_class=HTMLResponse, include_in_schema=False)
def checkin(request: Request, journal: JournalDep, user: PatientDep, form: FormDep) -> Response:
    values = form_values(form)
    errors: dict[str, str] = {}
    day = day_of(values.get("day", ""), journal.today_date(), errors)
    data = checkin_data(values, journal.book, errors)
    if not errors and not (data["quick"] or data["danger_signs"]):
        if not data["note"]:
            errors["form"] = "Rate at least one symptom, or write a note."
        else:  # only a note: it is kept as a note
            data = {"kind": "note", "note": data["note"]}
    done = _record(journal, user.id, data, day, errors, {"quick": "form", "danger_signs": "form"})
    if done is None:
        ctx = journal_context(journal, user.id) | {"values": values, "errors": errors}
        return render(request, "journal.html", ctx, status_code=422)
    messages = decision_messages(done)
    return flash.redirect(request, "/journal?saved=checkin", messages=messages)


@router.get("/journal/scales/{scale}", response_class=HTMLResponse, include_in_schema=False)
def scale_page(
    request: Request, journal: JournalDep, user: PatientDep, scale: ScaleParam
) -> HTMLResponse:
    """The scale's form; after saving (``?saved=<uid>``), the saved answers' score first."""
    ctx = {"nav": "journal", "scale_id": scale, "scale": journal.book.scales[scale], "values": {}}  # type: ignore[index]
    rec = saved_entry(journal, user.id, request.query_params.get("saved"))
    if rec is not None and isinstance(rec.entry, CheckinEntry) and not rec.deleted:
        items = rec.entry.scales().get(scale)
        result = try_score(journal.book, scale, items) if items else None
        if result is not None:
            ctx |= {"result": result, "messages": flash.take(request).get("messages", [])}
    return render(request, "scale.html", ctx | {"errors": {}, "today": journal.today_date()})


def _items(
    values: dict[str, str], book: ScaleBook, scale: str, errors: dict[str, str]
) -> list[int]:
    d = book.scales[scale]  # type: ignore[index]
    items: list[int] = []
    for i in range(1, d.item_count + 1):
        raw = values.get(f"item_{i}", "")
        if not raw.isdigit() or not d.item_min <= int(raw) <= d.item_max:
            errors[f"item_{i}"] = f"{i}. {d.item_labels[i - 1]}: please choose an answer."
        else:
            items.append(int(raw))
    return items


@router.post("/journal/scales/{scale}", response_class=HTMLResponse, include_in_schema=False)
def scale_submit(
    request: Request, journal: JournalDep, user: PatientDep, scale: ScaleParam, form: FormDep
) -> Response:
    values = form_values(form)
    book = journal.book
    errors: dict[str, str] = {}
    day = day_of(values.get("day", ""), journal.today_date(), errors)
    items = _items(values, book, scale, errors)
    data = {"kind": "checkin", SCALE_FIELDS[scale]: items}
    done = _record(journal, user.id, data, day, errors)
    if done is None:
        ctx: dict[str, Any] = {"nav": "journal", "scale_id": scale, "scale": book.scales[scale]}  # type: ignore[index]
        ctx |= {"values": values, "errors": errors, "today": journal.today_date()}
        return render(request, "scale.html", ctx, status_code=422)
    url = f"/journal/scales/{scale}?saved={done.entry.uid}"
    return flash.redirect(request, url, messages=decision_messages(done))


@router.get("/journal/sleep", response_class=HTMLResponse, include_in_schema=False)
def sleep_page(request: Request, journal: JournalDep, user: PatientDep) -> HTMLResponse:
    """The sleep diary; after saving (``?saved=<uid>``), the saved night's figures first."""
    ctx: dict[str, Any] = {"nav": "journal", "values": {}, "errors": {}}
    rec = saved_entry(journal, user.id, request.query_params.get("saved"))
    if rec is not None and isinstance(rec.entry, SleepEntry) and not rec.deleted:
        ctx["metrics"] = sleep_metrics(rec.entry)
    return render(request, "sleep.html", ctx | {"today": journal.today_date()})


@router.post("/journal/sleep", response_class=HTMLResponse, include_in_schema=False)
def sleep_submit(
    request: Request, journal: JournalDep, user: PatientDep, form: FormDep
) -> Response:
    values = form_values(form)
    errors: dict[str, str] = {}
    day = day_of(values.get("day", ""), journal.today_date(), errors)
    done = _record(journal, user.id, sleep_data(values), day, errors)
    if done is None:
        ctx = {"nav": "journal", "today": journal.today_date(), "values": values, "errors": errors}
        return render(request, "sleep.html", ctx, status_code=422)
    return RedirectResponse(f"/journal/sleep?saved={done.entry.uid}", status_code=303)


@router.post("/journal/note", include_in_schema=False)
def note_submit(request: Request, journal: JournalDep, user: PatientDep, form: FormDep) -> Response:
    values = form_values(form)
    text = values.get("note_text", "").strip()
    errors: dict[str, str] = {}
    day = day_of(values.get("day", ""), journal.today_date(), errors)
    if not text:
        errors["note_text"] = "Write something before saving the note."
    done = _record(
        journal, user.id, {"kind": "note", "note": text}, day, errors, {"note": "note_text"}
    )
    if done is None:
        ctx = journal_context(journal, user.id) | {"values": values, "errors": errors}
        return render(request, "journal.html", ctx, status_code=422)
    return RedirectResponse("/journal?saved=note", status_code=303)
