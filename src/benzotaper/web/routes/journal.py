"""Journal pages: the quick daily check-in, the four scales, the sleep diary, notes, trends.

Every entry goes through the journal library's models and store; after each check-in the
adaptive rules are reviewed, so a hold (with its reason) appears as soon as it is due.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from benzotaper.catalogue import Catalogue
from benzotaper.errors import BenzotaperError
from benzotaper.storage import Database
from benzotaper.web import tracking
from benzotaper.web.deps import CatalogueDep, DbDep, PatientDep
from benzotaper.web.templating import render

router = APIRouter()
ScaleParam = Annotated[str, PathParam(pattern="^(ciwa-b|bwsq|gad-7|phq-9)$")]
SCALE_FIELDS = {"ciwa-b": "ciwa_b", "bwsq": "bwsq", "gad-7": "gad7", "phq-9": "phq9"}
#: Policy: entries may be back-filled up to this many days (a diary, not a history rewrite).
BACKFILL_DAYS = 60
SLEEP_FIELDS = (
    "bed_time",
    "try_sleep_time",
    "sol_min",
    "awakenings",
    "waso_min",
    "final_wake_time",
    "out_of_bed_time",
    "quality",
    "naps_min",
    "alcohol_drinks",
    "caffeine_drinks",
    "sleep_aid",
)


def _book() -> Any:
    from benzotaper.journal.scales import default_scales

    return default_scales()


def _day(text: str, errors: dict[str, str]) -> dt.date:
    today = tracking.today()
    if not text:
        return today
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        errors["day"] = "Date: enter it as YYYY-MM-DD."
        return today
    if day > today:
        errors["day"] = "Date: the journal records what happened; it cannot be in the future."
    elif (today - day).days > BACKFILL_DAYS:
        errors["day"] = f"Date: entries can be added up to {BACKFILL_DAYS} days back."
    return day


def journal_context(db: Database, user_id: int, cat: Catalogue) -> dict[str, Any]:
    from benzotaper.web import trends

    today = tracking.today()
    js = tracking.store(db)
    recent = list(reversed(js.entries(user_id, start=today - dt.timedelta(days=13), end=today)))
    return {
        "has_plan": js.active_plan(user_id) is not None,
        "nav": "journal",
        "status": tracking.status(db, user_id, today),
        "book": _book(),
        "recent": recent,
        "today": today,
        "trend_chart": "/journal/trends.svg" if trends.has_data(db, user_id, today) else None,
        "cat": cat,
    }


#: Field labels as the sleep diary page shows them, for messages beside each field.
SLEEP_LABELS = {
    "bed_time": "Went to bed",
    "try_sleep_time": "Tried to sleep",
    "sol_min": "Minutes to fall asleep",
    "awakenings": "Times woken",
    "waso_min": "Minutes awake in the night",
    "final_wake_time": "Woke for the day",
    "out_of_bed_time": "Got out of bed",
    "quality": "Sleep quality",
    "naps_min": "Minutes napping yesterday",
    "alcohol_drinks": "Alcoholic drinks",
    "caffeine_drinks": "Caffeinated drinks",
    "sleep_aid": "Sleep aid taken",
    "note": "Note",
}


def _pydantic_errors(exc: ValidationError, labels: dict[str, str] | None = None) -> dict[str, str]:
    """The model's complaints, one plain sentence per field, keyed by the form field's name."""
    out: dict[str, str] = {}
    for err in exc.errors():
        key = str(err["loc"][0]) if err["loc"] else "form"
        name = (labels or {}).get(key, key.replace("_", " ").capitalize())
        ctx = err.get("ctx") or {}
        kind = err["type"]
        if kind == "missing":
            msg = "please fill this in"
        elif kind == "int_parsing":
            msg = "enter a whole number"
        elif kind in ("greater_than_equal", "less_than_equal"):
            bound = ctx.get("ge", ctx.get("le"))
            word = "at least" if kind == "greater_than_equal" else "at most"
            msg = f"enter a number {word} {bound}"
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
        out.setdefault(key, f"{name}: {msg}.")
    return out


def _save(
    db: Database, cat: Catalogue, user_id: int, day: dt.date, entry: Any, review: bool
) -> list[str]:
    """Store the entry; after a check-in, review the adaptive rules. Returns messages to show."""
    js = tracking.store(db)
    active = js.active_plan(user_id)
    js.add_entry(user_id, day, entry, plan_version_uid=active.uid if active else None)
    if not review or active is None:
        return []
    decision = tracking.review(db, user_id, cat, day)
    if decision is None:
        return []
    return [decision.reason, *decision.messages] if decision.kind != "continue" else []


@router.get("/journal", response_class=HTMLResponse, include_in_schema=False)
def journal_page(request: Request, db: DbDep, cat: CatalogueDep, user: PatientDep) -> HTMLResponse:
    ctx = journal_context(db, user.id, cat) | {"values": {}, "errors": {}}
    ctx["flash"] = request.query_params.get("saved")
    return render(request, "journal.html", ctx)


@router.post("/journal/checkin", response_class=HTMLResponse, include_in_schema=False)
async def checkin(request: Request, db: DbDep, cat: CatalogueDep, user: PatientDep) -> Response:
    from benzotaper.journal.entries import CheckinEntry
    from benzotaper.journal.scales import check_quick

    form = await request.form()
    book = _book()
    values = {k: str(v)[:5000] for k, v in form.items() if isinstance(v, str)}
    errors: dict[str, str] = {}
    day = _day(values.get("day", ""), errors)
    ratings: dict[str, int] = {}
    q = book.quick
    for s in q.symptoms:
        raw = values.get(f"q_{s.key}", "")
        if raw == "":
            continue
        value = int(raw) if raw.isdigit() else None
        if value is None or not q.item_min <= value <= q.item_max:
            errors[f"q_{s.key}"] = f"{s.label}: choose a number from {q.item_min} to {q.item_max}."
        else:
            ratings[s.key] = value
    danger = [s.key for s in book.danger.signs if values.get(f"d_{s.key}")]
    entry = None
    try:
        ratings = check_quick(book, ratings)
        entry = CheckinEntry(
            time=dt.datetime.now().strftime("%H:%M") if day == tracking.today() else None,
            quick=ratings,
            danger_signs=danger,
            note=values.get("note", "").strip(),
        )
        if entry.is_empty() and not entry.note:
            errors["form"] = "Rate at least one symptom, or write a note."
    except BenzotaperError as exc:
        errors["form"] = exc.message
    except ValidationError as exc:
        errors.update(_pydantic_errors(exc))
    if errors or entry is None:
        ctx = journal_context(db, user.id, cat) | {"values": values, "errors": errors}
        return render(request, "journal.html", ctx, status_code=422)
    messages = _save(db, cat, user.id, day, entry, review=True)
    if danger:
        messages.insert(0, book.danger.message)
    ctx = journal_context(db, user.id, cat) | {
        "values": {},
        "errors": {},
        "saved_messages": messages or ["Check-in saved. Thank you."],
    }
    return render(request, "journal.html", ctx)


@router.get("/journal/scales/{scale}", response_class=HTMLResponse, include_in_schema=False)
def scale_page(request: Request, user: PatientDep, scale: ScaleParam) -> HTMLResponse:
    book = _book()
    ctx = {"nav": "journal", "scale_id": scale, "scale": book.scales[scale], "values": {}}
    return render(request, "scale.html", ctx | {"errors": {}, "today": tracking.today()})


@router.post("/journal/scales/{scale}", response_class=HTMLResponse, include_in_schema=False)
async def scale_submit(
    request: Request, db: DbDep, cat: CatalogueDep, user: PatientDep, scale: ScaleParam
) -> Response:
    from benzotaper.journal.entries import CheckinEntry
    from benzotaper.journal.scales import score

    form = await request.form()
    book = _book()
    d = book.scales[scale]
    values = {k: str(v)[:20] for k, v in form.items() if isinstance(v, str)}
    errors: dict[str, str] = {}
    day = _day(values.get("day", ""), errors)
    items: list[int] = []
    for i in range(1, d.item_count + 1):
        raw = values.get(f"item_{i}", "")
        value = int(raw) if raw.isdigit() else None
        if value is None or not d.item_min <= value <= d.item_max:
            errors[f"item_{i}"] = f"{i}. {d.item_labels[i - 1]}: please choose an answer."
        else:
            items.append(value)
    result = None
    if not errors:
        try:
            result = score(book, scale, items)
        except BenzotaperError as exc:
            errors["form"] = exc.message
    if errors or result is None:
        ctx = {"nav": "journal", "scale_id": scale, "scale": d, "values": values}
        ctx |= {"errors": errors, "today": tracking.today()}
        return render(request, "scale.html", ctx, status_code=422)
    entry = CheckinEntry.model_validate({SCALE_FIELDS[scale]: items})
    messages = _save(db, cat, user.id, day, entry, review=True)
    ctx = {"nav": "journal", "scale_id": scale, "scale": d, "result": result}
    ctx |= {"messages": messages, "values": {}, "errors": {}, "today": tracking.today()}
    return render(request, "scale.html", ctx)


@router.get("/journal/sleep", response_class=HTMLResponse, include_in_schema=False)
def sleep_page(request: Request, user: PatientDep) -> HTMLResponse:
    ctx = {"nav": "journal", "values": {}, "errors": {}, "today": tracking.today()}
    return render(request, "sleep.html", ctx)


@router.post("/journal/sleep", response_class=HTMLResponse, include_in_schema=False)
async def sleep_submit(
    request: Request, db: DbDep, cat: CatalogueDep, user: PatientDep
) -> Response:
    from benzotaper.journal.entries import SleepEntry
    from benzotaper.journal.sleep import sleep_metrics

    form = await request.form()
    values = {k: str(v)[:200] for k, v in form.items() if isinstance(v, str)}
    errors: dict[str, str] = {}
    day = _day(values.get("day", ""), errors)
    data: dict[str, Any] = {k: values[k] for k in SLEEP_FIELDS if values.get(k, "") != ""}
    entry = None
    try:
        entry = SleepEntry(**data, note=values.get("note", "").strip())
    except ValidationError as exc:
        errors.update(_pydantic_errors(exc, SLEEP_LABELS))
    if errors or entry is None:
        ctx = {"nav": "journal", "values": values, "errors": errors, "today": tracking.today()}
        return render(request, "sleep.html", ctx, status_code=422)
    _save(db, cat, user.id, day, entry, review=False)
    ctx = {"nav": "journal", "values": {}, "errors": {}, "today": tracking.today()}
    return render(request, "sleep.html", ctx | {"metrics": sleep_metrics(entry)})


@router.post("/journal/note", include_in_schema=False)
async def note_submit(request: Request, db: DbDep, cat: CatalogueDep, user: PatientDep) -> Response:
    from benzotaper.journal.entries import NoteEntry

    form = await request.form()
    text = str(form.get("note_text", "")).strip()[:5000]
    errors: dict[str, str] = {}
    day = _day(str(form.get("day", "")), errors)
    if not text:
        errors["note_text"] = "Write something before saving the note."
    if errors:
        ctx = journal_context(db, user.id, cat) | {"values": {"note_text": text}, "errors": errors}
        return render(request, "journal.html", ctx, status_code=422)
    _save(db, cat, user.id, day, NoteEntry(note=text), review=False)
    return RedirectResponse("/journal?saved=note", status_code=303)
