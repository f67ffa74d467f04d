"""Looking back and putting things right: `history`, `edit` and `retract`.

Nothing is overwritten. `edit ENTRY_ID --set FIELD=VALUE` appends a corrected revision of the
entry, `retract ENTRY_ID --reason ...` appends a retraction marker; the earlier revisions stay
and `history ENTRY_ID` shows them all, with the reason given for each change. Status and the
adaptive rules read only the newest revision and leave retracted entries out; a corrected or
retracted check-in is reviewed like a new one.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ValidationError
from rich.table import Table

from benzotaper.cli.app import app, console, handle_errors, print_json
from benzotaper.cli.journal import (
    DateOpt,
    JsonOpt,
    open_store,
    parse_day,
    review_day,
    show_checkin_outcome,
)
from benzotaper.errors import InputError
from benzotaper.journal.adaptive import Decision
from benzotaper.journal.entries import ENTRY_ADAPTER, CheckinEntry, JournalEntry
from benzotaper.journal.scales import (
    check_quick,
    default_scales,
    parse_danger,
    parse_items,
    parse_quick,
    score,
)
from benzotaper.storage.journal import EntryRecord, JournalStore, PlanRecord

IdArg = Annotated[
    str, typer.Argument(help="The entry's id as `history` shows it (8 characters are enough).")
]
#: The longest reason kept for a correction or retraction.
MAX_REASON = 1000
_ALIASES = {"gad_7": "gad7", "phq_9": "phq9", "danger": "danger_signs"}
_SCALE_FIELDS = ("ciwa_b", "bwsq", "gad7", "phq9")
#: What reviewing a day gave: the decision and any new plan version.
Reviewed = tuple[Decision | None, PlanRecord | None]


def _summary(entry: JournalEntry) -> str:
    data = entry.model_dump(exclude={"kind"}, exclude_defaults=True)
    return ", ".join(f"{k}={v}" for k, v in data.items())


def _reason(text: str, *, required: bool) -> str:
    text = text.strip()
    if required and not text:
        raise InputError("Say why with --reason (it is kept in the history)")
    if len(text) > MAX_REASON:
        raise InputError(f"--reason is {len(text)} characters; at most {MAX_REASON}")
    return text


def changed_entry(entry: JournalEntry, assignments: list[str]) -> JournalEntry:
    """``entry`` with ``FIELD=VALUE`` assignments applied, validated like a new entry.

    An empty value puts an optional field back to its default; list and rating fields take the
    same text as the `checkin` options (``ciwa_b=0,1,2,...``, ``quick=anxiety=5``).
    """
    model: type[BaseModel] = type(entry)
    fields = [name for name in model.model_fields if name != "kind"]
    book = default_scales()
    data: dict[str, Any] = entry.model_dump()
    for assignment in assignments:
        raw_name, sep, value = assignment.partition("=")
        name = raw_name.strip().lower().replace("-", "_")
        name = _ALIASES.get(name, name)
        if not sep or name not in fields:
            raise InputError(
                f"Write --set FIELD=VALUE with a field of a {entry.kind} entry "
                f"({', '.join(fields)}), not {assignment!r}"
            )
        value = value.strip()
        if not value:
            info = model.model_fields[name]
            if info.is_required():
                raise InputError(f"{name} cannot be empty")
            data[name] = info.get_default(call_default_factory=True)
        elif name in _SCALE_FIELDS:
            data[name] = parse_items(value)
        elif name == "quick":
            data[name] = check_quick(book, parse_quick(value))
        elif name == "danger_signs":
            data[name] = parse_danger(book, value)
        else:
            data[name] = value
    try:
        new = ENTRY_ADAPTER.validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"][1:]) or "entry"
        raise InputError(f"{field}: {err['msg']}") from None
    if isinstance(new, CheckinEntry):
        for scale, items in new.scales().items():
            score(book, scale, items)  # item count and range, as for a new check-in
        if new.is_empty():
            raise InputError("A check-in cannot be left empty; use `benzotaper retract` instead")
    return new


def _review(store: JournalStore, me: int, rec: EntryRecord) -> Reviewed:
    """A corrected or retracted check-in goes through the adaptive rules again."""
    if rec.kind != "checkin":
        return None, None
    return review_day(store, me, rec.day)


def _report(rec: EntryRecord, reviewed: Reviewed, extra: dict[str, Any], as_json: bool) -> bool:
    """Print the JSON answer (True), or nothing yet for the text answer (False)."""
    if not as_json:
        return False
    decision, version = reviewed
    print_json(
        {
            "entry": rec.model_dump(mode="json"),
            **extra,
            "decision": decision.model_dump(mode="json") if decision else None,
            "new_plan_version": version.version if version else None,
        }
    )
    return True


def _outcome(rec: EntryRecord, reviewed: Reviewed) -> None:
    if rec.kind != "checkin":
        console.print("[dim]Agree any change to your plan with your prescriber.[/]")
        return
    entry = rec.entry if not rec.deleted and isinstance(rec.entry, CheckinEntry) else None
    show_checkin_outcome(entry, rec.day, *reviewed)


@app.command("edit")
@handle_errors
def edit_cmd(
    entry_id: IdArg,
    assignments: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="FIELD=VALUE to correct, e.g. --set mg=4.5 --set time=08:10 (repeat)."
        ),
    ] = None,
    date: DateOpt = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the history).")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Correct a journal entry: a new revision is added, the earlier one stays in the history."""
    why = _reason(reason, required=False)
    if not assignments and date is None:
        raise InputError("Give what to correct: --set FIELD=VALUE (repeatable) and/or --date")
    store, me = open_store()
    old = store.entry(me, entry_id)
    if old.deleted:
        raise InputError(f"Entry {old.uid[:8]} is a retraction; it cannot be edited")
    new_day = parse_day(date) if date is not None else old.day
    new = changed_entry(old.entry, assignments or [])
    if new == old.entry and new_day == old.day:
        raise InputError("Nothing changes: the entry already says that")
    rec = store.edit_entry(me, old.uid, new, day=new_day, reason=why)
    reviewed = _review(store, me, rec)
    if _report(rec, reviewed, {"replaces": old.uid}, as_json):
        return
    console.print(
        f"Corrected {rec.kind} of {rec.day.isoformat()} [dim]({rec.uid[:8]}, replaces "
        f"{old.uid[:8]})[/]: {_summary(rec.entry)}" + (f" — {why}" if why else ""),
        highlight=False,
    )
    console.print(
        f"[dim]The earlier text stays in the history: benzotaper history {rec.uid[:8]}[/]",
        highlight=False,
    )
    _outcome(rec, reviewed)


@app.command("retract")
@handle_errors
def retract_cmd(
    entry_id: IdArg,
    reason: Annotated[
        str, typer.Option("--reason", help="Why it is withdrawn (required; kept in the history).")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Withdraw a journal entry (e.g. entered twice): it leaves the journal, not the history."""
    why = _reason(reason, required=True)
    store, me = open_store()
    rec = store.delete_entry(me, entry_id, reason=why)
    reviewed = _review(store, me, rec)
    if _report(rec, reviewed, {"retracts": rec.supersedes_uid}, as_json):
        return
    was = (rec.supersedes_uid or "")[:8]
    console.print(
        f"Retracted {rec.kind} of {rec.day.isoformat()} [dim]({was})[/] — {why}",
        highlight=False,
    )
    console.print(
        f"[dim]It stays in the history: benzotaper history {rec.uid[:8]}[/]", highlight=False
    )
    _outcome(rec, reviewed)


# ----------------------------------------------------------------------------- history


def _state(rec: EntryRecord, superseded: set[str]) -> str:
    if rec.deleted:
        return "retraction"
    if rec.uid in superseded:
        return "superseded"
    return "edited" if rec.supersedes_uid else "current"


def _entry_history(entry_id: str, as_json: bool) -> None:
    store, me = open_store()
    revisions = store.entry_history(me, entry_id)
    superseded = store.superseded_uids(me)
    if as_json:
        print_json(
            {
                "entry_uid": revisions[0].uid,
                "revisions": [
                    {**r.model_dump(mode="json"), "state": _state(r, superseded)} for r in revisions
                ],
            }
        )
        return
    table = Table("#", "id", "recorded (UTC)", "date", "state", "entry", "reason")
    for i, r in enumerate(revisions, start=1):
        table.add_row(
            str(i),
            r.uid[:8],
            r.created_at.strftime("%Y-%m-%d %H:%M"),
            r.day.isoformat(),
            _state(r, superseded),
            "" if r.deleted else _summary(r.entry),
            r.reason,
        )
    console.print(table)


@app.command("history")
@handle_errors
def history_cmd(
    entry_id: Annotated[
        str | None, typer.Argument(help="Show every revision of this one entry.")
    ] = None,
    days: Annotated[int, typer.Option("--days", help="How many days back.", min=1)] = 30,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind of entry.")] = None,
    every: Annotated[
        bool,
        typer.Option("--all", help="Also earlier revisions and retracted entries."),
    ] = False,
    date: DateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Journal entries (with their ids) and plan versions, newest last."""
    if entry_id is not None:
        _entry_history(entry_id, as_json)
        return
    end = parse_day(date)
    start = end - dt.timedelta(days=days - 1)
    store, me = open_store()
    entries = store.entries(me, kind=kind, start=start, end=end, every_revision=every)
    superseded = store.superseded_uids(me) if every else set()
    versions = store.plan_versions(me)
    if as_json:
        print_json(
            {
                "plan_versions": [
                    {
                        k: v
                        for k, v in p.model_dump(mode="json").items()
                        if k not in ("plan", "request")
                    }
                    for p in versions
                ],
                "entries": [
                    {**e.model_dump(mode="json"), "state": _state(e, superseded)} for e in entries
                ],
            }
        )
        return
    if versions:
        table = Table("version", "from", "origin", "reason", title="Plan versions")
        for p in versions:
            table.add_row(
                f"{p.version}{' (active)' if p.active else ''}",
                p.effective_from.isoformat(),
                p.origin,
                p.reason,
            )
        console.print(table)
    table = Table("date", "kind", "entry", "id", "state", title=f"Journal {start} – {end}")
    for e in entries:
        state = _state(e, superseded)
        table.add_row(
            e.day.isoformat(),
            e.kind,
            f"retracted: {e.reason}" if e.deleted else _summary(e.entry),
            e.uid[:8],
            "" if state == "current" else state,
        )
    console.print(table)
