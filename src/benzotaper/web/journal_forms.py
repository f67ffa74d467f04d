"""Journal forms on the pages: what a form's fields mean as an entry, and the journal service's
refusals as messages beside each field.

The pages read the fields into the same documents the API and the CLI send; the journal
service checks them (one check for every edge). A refusal comes back as notices that name a
field; here they become ``errors[field] = "Label: plain words"`` for the form's macros.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from benzotaper.errors import BenzotaperError
from benzotaper.journal.scales import ScaleBook
from benzotaper.journal.wording import notice_text

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
#: Field labels as the pages show them, for messages beside each field.
LABELS = {
    "day": "Date",
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
    "note_text": "Note",
    "title": "What happened",
    "name": "Medicine or aid",
    "dose": "Its dose",
    "mg": "Amount (mg)",
    "time": "Time taken",
    "status": "Taken, missed or extra",
    "reason": "Why",
}
SCALE_FIELDS = {"ciwa-b": "ciwa_b", "bwsq": "bwsq", "gad-7": "gad7", "phq-9": "phq9"}


def form_values(form: Mapping[str, Any]) -> dict[str, str]:
    """The text fields of a submitted form (kept whole: nothing is cut silently)."""
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


def day_of(text: str, today: dt.date, errors: dict[str, str]) -> dt.date:
    """The form's date (empty: today); a date that cannot be read is an error beside it. Which
    days an entry may have (not in the future, how far back) is the journal service's rule."""
    if not text:
        return today
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors["day"] = "Date: enter it as YYYY-MM-DD."
        return today


def field_errors(exc: BenzotaperError, rename: Mapping[str, str] | None = None) -> dict[str, str]:
    """A refusal as messages by form field (``form`` for the whole form)."""
    out: dict[str, str] = {}
    notices = getattr(exc, "problems", None) or getattr(exc, "questions", None) or []
    for n in notices:
        key = (rename or {}).get(n.field or "", n.field or "form")
        label = LABELS.get(key)
        text = str(n.values.get("plain") or notice_text(n))
        out.setdefault(key, f"{label}: {text}" if label and key != "form" else text)
    if not out:
        key = (rename or {}).get(getattr(exc, "field", None) or "", "form")
        out[key] = exc.message
    return out


def checkin_data(
    values: Mapping[str, str], book: ScaleBook, errors: dict[str, str]
) -> dict[str, Any]:
    """A quick check-in from its form: ratings ``q_<symptom>``, danger signs ``d_<sign>``."""
    q = book.quick
    ratings: dict[str, int] = {}
    for s in q.symptoms:
        raw = values.get(f"q_{s.key}", "")
        if raw == "":
            continue
        if not raw.isdigit() or not q.item_min <= int(raw) <= q.item_max:
            errors[f"q_{s.key}"] = f"{s.label}: choose a number from {q.item_min} to {q.item_max}."
        else:
            ratings[s.key] = int(raw)
    danger = [s.key for s in book.danger.signs if values.get(f"d_{s.key}")]
    data: dict[str, Any] = {"kind": "checkin", "quick": ratings, "danger_signs": danger}
    data["note"] = values.get("note", "").strip()
    for scale, field in SCALE_FIELDS.items():
        text = values.get(field, "").strip()
        if text:
            try:
                data[field] = [int(p) for p in text.replace(";", ",").split(",") if p.strip()]
            except ValueError:
                short = book.scales[scale].short  # type: ignore[index]
                errors[field] = f"{short}: write the item scores as numbers separated by commas."
    return data


def sleep_data(values: Mapping[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {k: values[k] for k in SLEEP_FIELDS if values.get(k, "") != ""}
    return {"kind": "sleep", **data, "note": values.get("note", "").strip()}


def entry_data(
    kind: str, values: Mapping[str, str], book: ScaleBook, errors: dict[str, str]
) -> dict[str, Any]:
    """The entry a form describes, for any kind (the edit page uses one form per kind)."""
    if kind == "checkin":
        return checkin_data(values, book, errors)
    if kind == "sleep":
        return sleep_data(values)
    fields = {
        "dose": ("status", "drug", "mg", "time", "note"),
        "medicine": ("name", "category", "dose", "action", "note"),
        "event": ("title", "note"),
        "note": ("note",),
    }[kind]
    data: dict[str, Any] = {"kind": kind}
    for name in fields:
        value = values.get(name, "").strip()
        data[name] = value if value or name in ("note", "dose") else None
    return {k: v for k, v in data.items() if v is not None}
