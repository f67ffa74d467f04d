"""Journal commands for the single local user on the embedded database: `today`, `take`,
`checkin`, `sleep`, `note`, `status`, `export-data`, `import-data` (`history`, `edit` and
`retract` are in ``cli.corrections``).

Every command calls the journal service (``benzotaper.services.journal``), as the pages and the
API do: the same checks, the same review of the adaptive rules, the same answers. The database is
``BENZOTAPER_DATABASE_URL`` or the SQLite file in the user's data directory. Every command takes
``--date`` (``status`` takes ``--on``) so entries can be back-filled (see the README for how far).
A dose that differs from the plan, or goes above the labelled maximum, is asked about first
(interactively), or needs ``--confirm``.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from benzotaper.cli._journal_words import words
from benzotaper.cli.app import (
    app,
    close_when_done,
    console,
    err_console,
    handle_errors,
    print_json,
    rich_table,
)
from benzotaper.errors import ConfirmationRequired, InputError
from benzotaper.isodate import iso_date
from benzotaper.journal.adaptive import Decision
from benzotaper.journal.scales import (
    check_quick,
    default_scales,
    parse_danger,
    parse_items,
    parse_quick,
)
from benzotaper.journal.status import Status
from benzotaper.planning.models import DISCLAIMER, Plan
from benzotaper.services.journal import JournalService, Recorded
from benzotaper.storage import Database

DateOpt = Annotated[
    str | None, typer.Option("--date", help="Day of the entry, YYYY-MM-DD (default: today).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ConfirmOpt = Annotated[
    bool,
    typer.Option("--confirm", help="Record a dose that differs from the plan without asking."),
]
T = TypeVar("T")


def clock() -> dt.datetime:
    """The CLI's "now": the computer's local time."""
    return dt.datetime.now()


def parse_day(value: str | None, what: str = "date") -> dt.date:
    if value is None:
        return clock().date()
    try:
        return iso_date(value.strip())
    except ValueError as exc:
        raise InputError(f"--{what}: {exc}", field=what) from None


def open_journal() -> tuple[JournalService, int]:
    """The journal service on the local database (migrated on first use) and the local
    user's id."""
    from benzotaper.knowledge import default_knowledge

    db = Database()
    close_when_done(db.dispose)
    db.upgrade()
    journal = JournalService(db, default_knowledge(), now=clock)
    return journal, journal.local_user()


def save_plan(plan: Plan, reason: str = "") -> None:
    """Keep ``plan`` as the local user's active plan (``benzotaper plan ... --save``)."""
    journal, me = open_journal()
    record = journal.save_plan(me, plan, reason=reason)
    err_console.print(
        f"Saved as plan version {record.version} (active) in {journal.db.url}", highlight=False
    )


def confirmed(attempt: Callable[[bool], T], confirm: bool, as_json: bool) -> T:
    """Run ``attempt``; a dose question is asked at a terminal (else needs --confirm)."""
    try:
        return attempt(confirm)
    except ConfirmationRequired as exc:
        if confirm or not sys.stdin.isatty():
            raise
        for question in exc.questions:
            (err_console if as_json else console).print(f"[yellow]{words(question)}[/]")
        if not typer.confirm("Record it?", default=False, err=as_json):
            raise typer.Exit(1) from None
        return attempt(True)


def _show_decision(decision: Decision | None) -> None:
    if decision is None:
        return
    colour = {
        "urgent": "bold red",
        "return": "red",
        "hold": "yellow",
        "resume": "green",
        "lift": "green",
    }.get(decision.kind, "dim")
    console.print(f"[{colour}]{decision.kind.upper()}:[/] {decision.reason}", highlight=False)
    for n in decision.notices:
        console.print(f"[bold red]{words(n)}[/]", highlight=False)


def show_outcome(done: Recorded) -> None:
    """Scores with their bands (or why there is none), crisis information, the decision, any
    new plan version."""
    review = done.review
    for s in done.scores.values():
        band = s.band if s.band else "no established band"
        console.print(f"  {s.short}: {s.total}/{s.max_total} ({band})", highlight=False)
        if not s.band_established:
            console.print(f"  [dim]{s.band_note}[/]", highlight=False)
    shown = {words(n) for n in review.decision.notices} if review.decision else set()
    for n in done.notices:
        if words(n) not in shown:
            console.print(f"[bold red]{words(n)}[/]", highlight=False)
    if review.decision is not None and review.decision.kind != "continue":
        _show_decision(review.decision)
    if review.new_version is not None:
        v = review.new_version
        console.print(
            f"[yellow]New plan version {v.version}[/] from {v.effective_from.isoformat()}: "
            f"{v.reason}",
            highlight=False,
        )
    console.print(f"[dim]{DISCLAIMER}[/]")


def outcome_json(done: Recorded, **extra: Any) -> dict[str, Any]:
    review = done.review
    return {
        "entry": done.entry.model_dump(mode="json"),
        **extra,
        "scores": {k: v.model_dump(mode="json") for k, v in done.scores.items()},
        "sleep": done.sleep.model_dump(mode="json") if done.sleep else None,
        "decision": review.decision.model_dump(mode="json") if review.decision else None,
        "new_plan_version": review.new_version.version if review.new_version else None,
        "hold_lifted": review.lifted,
    }


# ----------------------------------------------------------------------------- today / take


@app.command("today")
@handle_errors
def today_cmd(date: DateOpt = None, as_json: JsonOpt = False) -> None:
    """What to take today, with the tablets or liquid that make up each dose."""
    day = parse_day(date)
    journal, me = open_journal()
    t = journal.today(me, day)
    st = t.status
    if as_json:
        print_json(
            {
                "date": day.isoformat(),
                "plan_version": st.plan_version,
                "doses": [d.model_dump(mode="json") for d in t.doses],
                "extras": [e.model_dump(mode="json") for e in t.extras],
                "hold": st.hold,
                "hold_reason": st.hold_reason,
                "next_cut": st.next_cut.isoformat() if st.next_cut else None,
                "plan_end": t.plan_end.isoformat() if t.plan_end else None,
                "messages": [words(n) for n in st.notices],
                "disclaimer": DISCLAIMER,
            }
        )
        return
    if st.plan_version is None:
        _show_no_plan(st)
        return
    console.print(f"[bold]{day.isoformat()}[/] · plan version {st.plan_version}", highlight=False)
    for n in st.notices:
        console.print(f"[bold red]{words(n)}[/]", highlight=False)
    if st.hold:
        console.print(f"[yellow]Hold:[/] {st.hold_reason}", highlight=False)
    if not t.doses:
        console.print("No doses planned for this day.")
    else:
        table = rich_table("time", "drug", "mg", "take", "recorded")
        for d in t.doses:
            table.add_row(
                d.dose.time,
                d.dose.drug,
                f"{d.dose.mg:g}",
                " + ".join(p.text for p in d.dose.make_up),
                "" if d.status == "open" else d.status,
            )
        console.print(table)
    for e in t.extras:
        console.print(f"Extra: {e.entry.mg:g} mg {e.entry.drug}", highlight=False)  # type: ignore[union-attr]
    if st.next_cut:
        console.print(f"Next cut: {st.next_cut.isoformat()}", highlight=False)
    console.print(f"[dim]{DISCLAIMER}[/]")


@app.command("take")
@handle_errors
def take_cmd(
    mg: Annotated[
        float | None, typer.Option("--mg", help="Amount taken (default: as planned).")
    ] = None,
    drug: Annotated[str | None, typer.Option("--drug", help="Drug (default: as planned).")] = None,
    time: Annotated[str | None, typer.Option("--time", help="Time taken, HH:MM.")] = None,
    planned_time: Annotated[
        str | None, typer.Option("--planned", help="Which planned dose, HH:MM.")
    ] = None,
    missed: Annotated[bool, typer.Option("--missed", help="Record a missed dose.")] = False,
    extra: Annotated[bool, typer.Option("--extra", help="Record an extra dose.")] = False,
    note: Annotated[str, typer.Option("--note", help="A note.")] = "",
    date: DateOpt = None,
    confirm: ConfirmOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Record a dose taken (or --missed, or --extra)."""
    if missed and extra:
        raise InputError("A dose is either --missed or --extra, not both.")
    day = parse_day(date)
    journal, me = open_journal()
    status = "missed" if missed else "extra" if extra else "taken"
    done = confirmed(
        lambda yes: journal.take(
            me,
            planned_time=planned_time,
            drug=drug,
            mg=mg,
            status=status,  # type: ignore[arg-type]
            time=time,
            note=note,
            day=day,
            confirm=yes,
        ),
        confirm,
        as_json,
    )
    if as_json:
        print_json(outcome_json(done))
        return
    entry = done.entry.entry
    what = {"taken": "Taken", "missed": "Missed", "extra": "Extra dose"}[status]
    console.print(
        f"{what}: {entry.mg:g} mg {entry.drug} on {day.isoformat()}"  # type: ignore[union-attr]
        + (f" at {entry.time}" if entry.time else "")  # type: ignore[union-attr]
        + f" [dim]({done.entry.uid[:8]})[/]",
        highlight=False,
    )


# ----------------------------------------------------------------------------- check-ins


@app.command("checkin")
@handle_errors
def checkin_cmd(
    ciwa_b: Annotated[
        str | None, typer.Option("--ciwa-b", help="22 CIWA-B item scores 0-4, comma-separated.")
    ] = None,
    bwsq: Annotated[
        str | None, typer.Option("--bwsq", help="20 BWSQ item scores 0-2, comma-separated.")
    ] = None,
    gad7: Annotated[str | None, typer.Option("--gad7", help="7 GAD-7 item scores 0-3.")] = None,
    phq9: Annotated[str | None, typer.Option("--phq9", help="9 PHQ-9 item scores 0-3.")] = None,
    quick: Annotated[
        str | None, typer.Option("--quick", help="Quick ratings 0-10, e.g. anxiety=5,insomnia=7.")
    ] = None,
    danger: Annotated[
        str | None,
        typer.Option(
            "--danger", help="Danger signs: seizure, hallucinations, confusion, suicidal_thoughts."
        ),
    ] = None,
    note: Annotated[str, typer.Option("--note", help="A note.")] = "",
    interactive: Annotated[
        bool, typer.Option("--interactive", "-i", help="Ask the questions one by one.")
    ] = False,
    date: DateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record how you are: withdrawal scales, a quick 0-10 check-in, danger signs."""
    book = default_scales()
    day = parse_day(date)
    data: dict[str, object] = {"kind": "checkin", "note": note}
    for field, text in (("ciwa_b", ciwa_b), ("bwsq", bwsq), ("gad7", gad7), ("phq9", phq9)):
        if text is not None:
            data[field] = parse_items(text)
    if quick is not None:
        data["quick"] = check_quick(book, parse_quick(quick))
    if danger is not None:
        data["danger_signs"] = parse_danger(book, danger)
    if interactive or len(data) == 2:
        if not interactive and not sys.stdin.isatty():
            raise InputError(
                "Give at least one of --ciwa-b, --bwsq, --gad7, --phq9, --quick, --danger"
            )
        from benzotaper.cli._checkin_prompts import ask_checkin  # rich prompts, only here

        data.update(ask_checkin(err_console if as_json else console, book))
    journal, me = open_journal()
    done = journal.record(me, data, day=day)
    if as_json:
        print_json(outcome_json(done))
        return
    console.print(
        f"Check-in saved for {day.isoformat()} [dim]({done.entry.uid[:8]})[/]", highlight=False
    )
    show_outcome(done)


# ----------------------------------------------------------------------------- sleep, notes


@app.command("sleep")
@handle_errors
def sleep_cmd(
    bed: Annotated[str, typer.Option("--bed", help="Got into bed, HH:MM.")],
    wake: Annotated[str, typer.Option("--wake", help="Final awakening, HH:MM.")],
    out: Annotated[str, typer.Option("--out", help="Got out of bed, HH:MM.")],
    sol: Annotated[int, typer.Option("--sol", help="Minutes to fall asleep.")] = 0,
    try_sleep: Annotated[
        str | None, typer.Option("--try-sleep", help="Tried to sleep, HH:MM (default: --bed).")
    ] = None,
    awakenings: Annotated[int, typer.Option("--awakenings", help="Times woken in the night.")] = 0,
    waso: Annotated[int, typer.Option("--waso", help="Minutes awake in the night.")] = 0,
    quality: Annotated[
        int | None, typer.Option("--quality", help="1 very poor ... 5 very good.")
    ] = None,
    naps: Annotated[int, typer.Option("--naps", help="Minutes napped yesterday.")] = 0,
    alcohol: Annotated[int, typer.Option("--alcohol", help="Alcoholic drinks.")] = 0,
    caffeine: Annotated[int, typer.Option("--caffeine", help="Caffeinated drinks.")] = 0,
    aid: Annotated[str, typer.Option("--aid", help="Sleep medicine or aid taken.")] = "",
    note: Annotated[str, typer.Option("--note", help="A note.")] = "",
    date: DateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record last night in the sleep diary (Consensus Sleep Diary); shows TIB, TST and SE."""
    day = parse_day(date)
    journal, me = open_journal()
    done = journal.record(
        me,
        {
            "kind": "sleep",
            "bed_time": bed,
            "try_sleep_time": try_sleep,
            "sol_min": sol,
            "awakenings": awakenings,
            "waso_min": waso,
            "final_wake_time": wake,
            "out_of_bed_time": out,
            "quality": quality,
            "naps_min": naps,
            "alcohol_drinks": alcohol,
            "caffeine_drinks": caffeine,
            "sleep_aid": aid,
            "note": note,
        },
        day=day,
    )
    if as_json:
        print_json(outcome_json(done, metrics=done.sleep.model_dump() if done.sleep else None))
        return
    m = done.sleep
    assert m is not None  # a night that does not add up is refused before it is stored
    console.print(
        f"Night to {day.isoformat()}: in bed {m.tib_min // 60}h{m.tib_min % 60:02d}, "
        f"asleep {m.tst_min // 60}h{m.tst_min % 60:02d}, "
        f"efficiency {m.se_percent:g}% "
        + ("(meets the 85% target)" if m.meets_target else "(below the 85% target)"),
        highlight=False,
    )


@app.command("note")
@handle_errors
def note_cmd(
    text: Annotated[str, typer.Argument(help="The note, event or medicine name.")],
    kind: Annotated[
        str, typer.Option("--kind", help="note, event (a life event) or medicine (or aid).")
    ] = "note",
    dose: Annotated[str, typer.Option("--dose", help="For --kind medicine: its dose.")] = "",
    date: DateOpt = None,
) -> None:
    """Record a note, a life event, or another medicine or aid (gabapentin, melatonin, CBT-I)."""
    day = parse_day(date)
    entries: dict[str, dict[str, object]] = {
        "note": {"kind": "note", "note": text},
        "event": {"kind": "event", "title": text},
        "medicine": {"kind": "medicine", "name": text, "dose": dose},
    }
    if kind not in entries:
        raise InputError(f"--kind is note, event or medicine, not {kind!r}")
    journal, me = open_journal()
    done = journal.record(me, entries[kind], day=day)
    console.print(
        f"Saved {kind} for {day.isoformat()} [dim]({done.entry.uid[:8]})[/]", highlight=False
    )


# ----------------------------------------------------------------------------- status


def _show_no_plan(st: Status) -> None:
    """Without a plan: any crisis information (in red), then how to make a plan."""
    for n in st.notices:
        if n.kind == "no_plan":
            console.print(words(n))
        else:
            console.print(f"[bold red]{words(n)}[/]", highlight=False)


def _show_scores(st: Status) -> None:
    for scale, s in st.latest_scores.items():
        band = s.band or "no established band"
        console.print(
            f"{s.short} {st.latest_score_dates[scale].isoformat()}: "
            f"{s.total}/{s.max_total} ({band})",
            highlight=False,
        )


@app.command("status")
@handle_errors
def status_cmd(
    on: Annotated[
        str | None, typer.Option("--on", help="Show the status on this day, YYYY-MM-DD.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan version, current step, next cut, hold and why, latest scores, adherence."""
    day = parse_day(on, "on")
    journal, me = open_journal()
    st = journal.status(me, day)
    if as_json:
        st = st.model_copy(update={"messages": [words(n) for n in st.notices]})
        print_json(st)
        return
    if st.plan_version is None:
        _show_no_plan(st)
        _show_scores(st)
        return
    for n in st.notices:
        console.print(f"[bold red]{words(n)}[/]", highlight=False)
    daily = ", ".join(f"{k} {v:g} mg" for k, v in (st.daily_mg or {}).items()) or "none"
    console.print(
        f"[bold]{day.isoformat()}[/]: plan version {st.plan_version}, step {st.current_step} "
        f"({st.phase}), daily {daily}",
        highlight=False,
    )
    console.print(
        f"Next cut: {st.next_cut.isoformat() if st.next_cut else 'none planned'}",
        highlight=False,
    )
    if st.hold:
        console.print(f"[yellow]Hold:[/] {st.hold_reason}", highlight=False)
    if st.pending_replan:
        console.print("[yellow]The plan will be adjusted at the next check-in.[/]")
    _show_scores(st)
    if st.latest_sleep:
        m = st.latest_sleep.metrics
        se = f"efficiency {m.se_percent:g}%" if m else "times do not add up"
        console.print(f"Sleep {st.latest_sleep.day.isoformat()}: {se}", highlight=False)
    if st.adherence and st.adherence.planned:
        a = st.adherence
        console.print(
            f"Doses {a.start.isoformat()}–{a.end.isoformat()}: {a.taken}/{a.planned} taken, "
            f"{a.missed} missed, {a.extra} extra, {a.unrecorded} not recorded",
            highlight=False,
        )
    console.print(f"[dim]{DISCLAIMER}[/]")


# ----------------------------------------------------------------------------- export / import


@app.command("export-data")
@handle_errors
def export_cmd(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Export your whole journal (every plan version and entry revision) as JSON."""
    from benzotaper.storage.transfer import export_journal  # its models: only these two commands

    journal, me = open_journal()
    text = export_journal(journal.db, me).model_dump_json(indent=2)
    if output is None:
        sys.stdout.write(text + "\n")
    else:
        output.write_text(text + "\n", encoding="utf-8")
        err_console.print(f"Journal written to {output}")


@app.command("import-data")
@handle_errors
def import_cmd(
    path: Annotated[Path, typer.Argument(help="A file written by export-data.")],
) -> None:
    """Import a journal exported with export-data into this (empty) journal."""
    from benzotaper.storage.transfer import import_journal, parse_export

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror}") from None
    doc = parse_export(raw)
    journal, me = open_journal()
    import_journal(journal.db, doc, user_id=me)
    console.print(
        f"Imported {len(doc.entries)} entries and {len(doc.plan_versions)} plan versions.",
        highlight=False,
    )
