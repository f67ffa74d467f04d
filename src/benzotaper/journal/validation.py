"""The one check of every journal entry before it is stored (the service calls it for every
edge: the CLI, the pages and the API).

Two answers, both lists of :class:`~benzotaper.journal.notices.Notice`:

- :func:`entry_problems`: why the entry cannot be recorded at all (a day in the future or too
  far back, a night whose times do not add up, scale items out of range, an unknown symptom or
  danger sign, an empty check-in, a dose far above any plausible amount);
- :func:`dose_questions`: what to ask before recording a dose (not what the plan says, not in
  the plan, the day's total above the labelled maximum, already recorded). Such a dose is
  recorded only after the person confirms, never silently.

Pure: the context (today, the plan, the labelled maxima, the day's doses) comes in as data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from benzotaper.dates import BACKFILL_DAYS, entry_window
from benzotaper.doses import IMPLAUSIBLE_FACTOR
from benzotaper.errors import InputError
from benzotaper.journal.entries import (
    ENTRY_ADAPTER,
    CheckinEntry,
    DoseEntry,
    JournalEntry,
    SleepEntry,
)
from benzotaper.journal.matching import match_doses
from benzotaper.journal.notices import Notice, notice
from benzotaper.journal.scales import ScaleBook, check_quick, score
from benzotaper.journal.sleep import sleep_problems
from benzotaper.journal.timeline import planned_doses
from benzotaper.planning.models import Plan

_SCALE_FIELDS = {"ciwa-b": "ciwa_b", "bwsq": "bwsq", "gad-7": "gad7", "phq-9": "phq9"}
_EPS = 1e-9


@dataclass(frozen=True)
class EntryContext:
    """What checking an entry needs besides the entry itself."""

    today: dt.date
    book: ScaleBook
    first_plan_start: dt.date | None = None
    plan: Plan | None = None
    max_daily_mg: Mapping[str, float] = field(default_factory=dict)
    #: The day's dose entries already recorded (without the one being corrected).
    day_doses: Sequence[DoseEntry] = ()


def parse_entry(data: Mapping[str, Any]) -> JournalEntry:
    """A journal entry from a document (API body, form, CLI options); an EntryError that lists
    every problem by field when the document does not fit its model."""
    from benzotaper.errors import EntryError
    from benzotaper.journal.wording import notice_text

    try:
        return ENTRY_ADAPTER.validate_python(dict(data))
    except ValidationError as exc:
        problems = [_pydantic_notice(err) for err in exc.errors()]
        raise EntryError(
            "; ".join(notice_text(p) for p in problems), problems=problems, field=problems[0].field
        ) from None


def _pydantic_notice(err: Any) -> Notice:
    loc = [str(p) for p in err.get("loc", ()) if not str(p).endswith("Entry")]
    if loc and loc[0] in ("dose", "checkin", "sleep", "medicine", "event", "note"):
        loc = loc[1:]
    name = ".".join(loc) or None
    ctx = err.get("ctx") or {}
    if err.get("type") == "string_too_long":
        return notice(
            "text_too_long",
            "caution",
            field=name,
            length=len(str(err.get("input", ""))),
            limit=ctx.get("max_length"),
        )
    message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return notice(
        "invalid_value",
        "caution",
        field=name,
        message=f"{name}: {message}" if name else message,
        plain=_plain(str(err.get("type", "")), ctx, message),
    )


def _plain(kind: str, ctx: Mapping[str, Any], message: str) -> str:
    """Pydantic's complaint in words for a form, without the field's name."""
    if kind == "missing":
        return "please fill this in"
    if kind == "int_parsing":
        return "enter a whole number"
    if kind == "float_parsing":
        return "enter a number"
    if kind in ("greater_than_equal", "less_than_equal"):
        word = "at least" if kind == "greater_than_equal" else "at most"
        return f"enter a number {word} {ctx.get('ge', ctx.get('le'))}"
    return message


def date_problems(day: dt.date, ctx: EntryContext) -> list[Notice]:
    earliest, latest = entry_window(ctx.today, ctx.first_plan_start)
    if day > latest:
        return [notice("date_in_future", "caution", field="day", day=day, today=ctx.today)]
    if day < earliest:
        return [
            notice(
                "date_before_window",
                "caution",
                field="day",
                day=day,
                earliest=earliest,
                plan_start=ctx.first_plan_start,
                window_days=BACKFILL_DAYS,
            )
        ]
    return []


def _checkin_problems(entry: CheckinEntry, book: ScaleBook) -> list[Notice]:
    out: list[Notice] = []
    for scale, items in entry.scales().items():
        try:
            score(book, scale, items)
        except InputError as exc:
            out.append(
                notice("invalid_value", "caution", field=_SCALE_FIELDS[scale], message=exc.message)
            )
    try:
        check_quick(book, entry.quick)
    except InputError as exc:
        out.append(notice("invalid_value", "caution", field="quick", message=exc.message))
    unknown = [s for s in entry.danger_signs if s not in book.danger.keys]
    if unknown:
        message = f"Unknown danger sign {unknown[0]!r}; known: {', '.join(book.danger.keys)}"
        out.append(notice("invalid_value", "caution", field="danger_signs", message=message))
    if entry.is_empty():
        out.append(notice("checkin_empty", "caution", field="quick"))
    return out


def entry_problems(entry: JournalEntry, day: dt.date, ctx: EntryContext) -> list[Notice]:
    """Why ``entry`` on ``day`` cannot be recorded (empty: it can)."""
    out = date_problems(day, ctx)
    if isinstance(entry, CheckinEntry):
        out += _checkin_problems(entry, ctx.book)
    elif isinstance(entry, SleepEntry):
        out += sleep_problems(entry)
    elif isinstance(entry, DoseEntry):
        limit = ctx.max_daily_mg.get(entry.drug)
        if limit is not None and entry.mg > limit * IMPLAUSIBLE_FACTOR:
            out.append(
                notice(
                    "dose_implausible",
                    "danger",
                    field="mg",
                    drug=entry.drug,
                    mg=entry.mg,
                    max_daily_mg=limit,
                )
            )
    return out


def dose_questions(entry: DoseEntry, day: dt.date, ctx: EntryContext) -> list[Notice]:
    """What to ask before recording ``entry`` (empty: record it without asking)."""
    if entry.status == "missed":
        return []
    out: list[Notice] = []
    planned = planned_doses(ctx.plan, day) if ctx.plan is not None else []
    matched = match_doses(planned, list(enumerate(ctx.day_doses)))
    if entry.status == "taken":
        slot = matched.slot_at(entry.planned_time, entry.drug) if entry.planned_time else None
        if slot is not None and slot.status != "open":
            out.append(
                notice(
                    "dose_already_recorded",
                    "caution",
                    field="planned_time",
                    drug=entry.drug,
                    time=slot.dose.time,
                    status=slot.status,
                )
            )
        target = slot or next(
            (s for s in matched.slots if s.status == "open" and s.dose.drug == entry.drug), None
        )
        if target is not None and abs(entry.mg - target.dose.mg) > _EPS:
            out.append(
                notice(
                    "dose_differs_from_plan",
                    "caution",
                    field="mg",
                    drug=entry.drug,
                    mg=entry.mg,
                    planned_mg=target.dose.mg,
                    time=target.dose.time,
                )
            )
        if ctx.plan is not None and not any(d.drug == entry.drug for d in planned):
            out.append(
                notice("dose_not_in_plan", "caution", field="drug", drug=entry.drug, mg=entry.mg)
            )
    limit = ctx.max_daily_mg.get(entry.drug)
    total = entry.mg + sum(
        e.mg for e in ctx.day_doses if e.drug == entry.drug and e.status in ("taken", "extra")
    )
    if limit is not None and total > limit + _EPS:
        out.append(
            notice(
                "dose_above_label_max",
                "danger",
                field="mg",
                drug=entry.drug,
                day_total_mg=round(total, 6),
                max_daily_mg=limit,
            )
        )
    return out
