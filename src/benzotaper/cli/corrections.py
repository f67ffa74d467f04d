"""Looking back and putting things right: `history`, `edit` and `retract`.

Nothing is overwritten. `edit ENTRY_ID --set FIELD=VALUE` appends a corrected revision of the
entry, `retract ENTRY_ID --reason ...` appends a retraction marker; the earlier revisions stay
and `history ENTRY_ID` shows them all, with the reason given for each change. Both go through
the journal service like a new entry: the same checks, then the adaptive rules are reviewed
again (a correction or a retraction can start, extend or lift a hold). An entry changed
meanwhile (by the web app, say) is refused with exit status 2: look at it again first.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from benzotaper.cli.app import app, console, handle_errors, print_json, rich_table
from benzotaper.cli.journal import (
    ConfirmOpt,
    DateOpt,
    JsonOpt,
    confirmed,
    open_journal,
    outcome_json,
    parse_day,
    show_outcome,
)
from benzotaper.errors import InputError
from benzotaper.journal.entries import JournalEntry, UnreadableEntry
from benzotaper.journal.scales import (
    check_quick,
    default_scales,
    parse_danger,
    parse_items,
    parse_quick,
)
from benzotaper.limits import ENTRIES_PAGE_DEFAULT, ENTRIES_PAGE_MAX
from benzotaper.services.journal import Recorded
from benzotaper.storage.journal import EntryRecord

IdArg = Annotated[
    str, typer.Argument(help="The entry's id as `history` shows it (8 characters are enough).")
]
_ALIASES = {"gad_7": "gad7", "phq_9": "phq9", "danger": "danger_signs"}
_SCALE_FIELDS = ("ciwa_b", "bwsq", "gad7", "phq9")


def _summary(entry: JournalEntry | UnreadableEntry) -> str:
    data = entry.model_dump(exclude={"kind"}, exclude_defaults=True)
    return ", ".join(f"{k}={v}" for k, v in data.items())


def changes_of(entry: JournalEntry, assignments: list[str]) -> dict[str, Any]:
    """``FIELD=VALUE`` assignments as the fields to change (checked by the service).

    An empty value puts an optional field back to its default; list and rating fields take the
    same text as the `checkin` options (``ciwa_b=0,1,2,...``, ``quick=anxiety=5``).
    """
    model: type[BaseModel] = type(entry)
    fields = [name for name in model.model_fields if name != "kind"]
    book = default_scales()
    out: dict[str, Any] = {}
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
            out[name] = info.get_default(call_default_factory=True)
        elif name in _SCALE_FIELDS:
            out[name] = parse_items(value)
        elif name == "quick":
            out[name] = check_quick(book, parse_quick(value))
        elif name == "danger_signs":
            out[name] = parse_danger(book, value)
        else:
            out[name] = value
    return out


def _outcome(done: Recorded) -> None:
    if done.entry.kind != "checkin":
        console.print("[dim]Agree any change to your plan with your prescriber.[/]")
        return
    show_outcome(done)


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
    confirm: ConfirmOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Correct a journal entry: a new revision is added, the earlier one stays in the history."""
    if not assignments and date is None:
        raise InputError("Give what to correct: --set FIELD=VALUE (repeatable) and/or --date")
    journal, me = open_journal()
    old = journal.entry(me, entry_id)
    if old.deleted or isinstance(old.entry, UnreadableEntry):
        raise InputError(f"Entry {old.uid[:8]} cannot be edited; retract it instead")
    changes = changes_of(old.entry, assignments or [])
    new_day = parse_day(date) if date is not None else None
    done = confirmed(
        lambda yes: journal.correct(me, old.uid, changes, day=new_day, reason=reason, confirm=yes),
        confirm,
        as_json,
    )
    if as_json:
        print_json(outcome_json(done, replaces=old.uid))
        return
    rec = done.entry
    why = rec.reason
    console.print(
        f"Corrected {rec.kind} of {rec.day.isoformat()} [dim]({rec.uid[:8]}, replaces "
        f"{old.uid[:8]})[/]: {_summary(rec.entry)}" + (f" — {why}" if why else ""),
        highlight=False,
    )
    console.print(
        f"[dim]The earlier text stays in the history: benzotaper history {rec.uid[:8]}[/]",
        highlight=False,
    )
    _outcome(done)


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
    journal, me = open_journal()
    uid = journal.entry(me, entry_id).uid
    done = journal.retract(me, uid, reason=reason)
    if as_json:
        print_json(outcome_json(done, retracts=done.replaces))
        return
    rec = done.entry
    console.print(
        f"Retracted {rec.kind} of {rec.day.isoformat()} [dim]({(done.replaces or '')[:8]})[/]"
        f" — {rec.reason}",
        highlight=False,
    )
    console.print(
        f"[dim]It stays in the history: benzotaper history {rec.uid[:8]}[/]", highlight=False
    )
    _outcome(done)


# ----------------------------------------------------------------------------- history


def _state(rec: EntryRecord, superseded: set[str]) -> str:
    if rec.deleted:
        return "retraction"
    if rec.uid in superseded:
        return "superseded"
    return "edited" if rec.supersedes_uid else "current"


def _entry_history(entry_id: str, as_json: bool) -> None:
    journal, me = open_journal()
    revisions, superseded = journal.history(me, entry_id)
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
    table = rich_table("#", "id", "recorded (UTC)", "date", "state", "entry", "reason")
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
    days: Annotated[int, typer.Option("--days", help="How many days back.", min=1, max=3650)] = 30,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind of entry.")] = None,
    every: Annotated[
        bool,
        typer.Option("--all", help="Also earlier revisions and retracted entries."),
    ] = False,
    date: DateOpt = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            help=f"Entries to show at most (1-{ENTRIES_PAGE_MAX}); the rest with --after.",
        ),
    ] = ENTRIES_PAGE_DEFAULT,
    after: Annotated[
        str | None,
        typer.Option("--after", help="Go on from the cursor the previous page named."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Journal entries (with their ids) and plan versions, newest last.

    A page at a time (--limit); the command names the next page's --after."""
    if entry_id is not None:
        _entry_history(entry_id, as_json)
        return
    end = parse_day(date)
    start = max(end - dt.timedelta(days=days - 1), dt.date(2000, 1, 1))
    journal, me = open_journal()
    page = journal.entries_page(
        me, kind=kind, start=start, end=end, every_revision=every, after=after, limit=limit
    )
    entries = page.items
    superseded = journal.superseded_uids(me) if every else set()
    versions = journal.version_infos(me)
    if as_json:
        print_json(
            {
                "plan_versions": [p.model_dump(mode="json") for p in versions],
                "entries": [
                    {**e.model_dump(mode="json"), "state": _state(e, superseded)} for e in entries
                ],
                "next": page.next_cursor,
            }
        )
        return
    if versions:
        table = rich_table("version", "from", "origin", "reason", title="Plan versions")
        for p in versions:
            table.add_row(
                f"{p.version}{' (active)' if p.active else ''}",
                p.effective_from.isoformat(),
                p.origin,
                p.reason,
            )
        console.print(table)
    table = rich_table("date", "kind", "entry", "id", "state", title=f"Journal {start} – {end}")
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
    if page.next_cursor is not None:
        console.print(
            f"More entries: add --after {page.next_cursor} (the same options otherwise).",
            highlight=False,
        )
