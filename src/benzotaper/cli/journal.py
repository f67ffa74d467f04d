"""Journal commands for the single local user on the embedded database: `today`, `take`,
`checkin`, `sleep`, `note`, `status`, `export-data`, `import-data` (`history`, `edit` and
`retract` are in ``cli.corrections``).

The database is ``BENZOTAPER_DATABASE_URL`` or the SQLite file in the user's data directory.
Every command takes ``--date`` (``status`` takes ``--on``) so entries can be back-filled.
After each check-in the adaptive rules are applied for that day; a hold or a slower resumption
is saved as a new plan version with its reason.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from benzotaper.cli._checkin_prompts import ask_checkin
from benzotaper.cli.app import app, console, err_console, handle_errors, print_json
from benzotaper.errors import InputError
from benzotaper.journal.adaptive import Decision, default_rules
from benzotaper.journal.entries import (
    CheckinEntry,
    DoseEntry,
    EventEntry,
    MedicineEntry,
    NoteEntry,
    SleepEntry,
    check_time,
)
from benzotaper.journal.scales import (
    check_quick,
    default_scales,
    parse_danger,
    parse_items,
    parse_quick,
    score,
)
from benzotaper.journal.sleep import sleep_metrics
from benzotaper.journal.timeline import planned_doses
from benzotaper.planning.models import DISCLAIMER, Plan, PlanRequest
from benzotaper.storage import Database
from benzotaper.storage.journal import JournalStore, PlanRecord
from benzotaper.storage.tracking import Planner, Status, review, status
from benzotaper.storage.transfer import export_journal, import_journal, parse_export

DateOpt = Annotated[
    str | None, typer.Option("--date", help="Day of the entry, YYYY-MM-DD (default: today).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def parse_day(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"Dates are written YYYY-MM-DD, not {value!r}") from None


def open_store() -> tuple[JournalStore, int]:
    """The local journal (migrated on first use) and the local user's id."""
    db = Database()
    db.upgrade()
    store = JournalStore(db)
    return store, store.local_user()


def planner() -> Planner | None:
    """The planning engine with the shipped catalogue (None would make adaptive changes wait)."""
    from benzotaper.knowledge import default_knowledge
    from benzotaper.planning.engine import make_plan

    def run(request: PlanRequest, day: dt.date) -> Plan:
        result: Plan = make_plan(request, default_knowledge(), today=day)
        return result

    return run


def save_plan(plan: Plan, reason: str = "", day: dt.date | None = None) -> None:
    """Keep ``plan`` as the local user's active plan (``benzotaper plan ... --save``)."""
    store, me = open_store()
    if store.profile(me) != plan.request.person:
        store.set_profile(me, plan.request.person)
    previous = store.active_plan(me)
    record = store.save_plan(
        me,
        plan,
        reason=reason or ("New plan" if previous is None else "New plan made by the user"),
        effective_from=day or plan.summary.start,
    )
    err_console.print(
        f"Saved as plan version {record.version} (active) in {store.db.url}", highlight=False
    )


def _valid(
    model: type[DoseEntry] | type[SleepEntry] | type[CheckinEntry], **data: object
) -> object:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "entry"
        raise InputError(f"{field}: {err['msg']}") from None


def _show_decision(decision: Decision | None) -> None:
    if decision is None:
        return
    colour = {"urgent": "bold red", "return": "red", "hold": "yellow", "resume": "green"}.get(
        decision.kind, "dim"
    )
    console.print(f"[{colour}]{decision.kind.upper()}:[/] {decision.reason}", highlight=False)
    for message in decision.messages:
        console.print(f"[bold red]{message}[/]", highlight=False)


# ----------------------------------------------------------------------------- today / take


@app.command("today")
@handle_errors
def today_cmd(date: DateOpt = None, as_json: JsonOpt = False) -> None:
    """What to take today, with the tablets or liquid that make up each dose."""
    day = parse_day(date)
    store, me = open_store()
    st = status(store, me, day, default_rules(), default_scales())
    taken = [r.entry for r in store.entries(me, kind="dose", start=day, end=day)]
    if as_json:
        print_json(
            {
                "date": day.isoformat(),
                "plan_version": st.plan_version,
                "doses": [d.model_dump(mode="json") for d in st.doses],
                "recorded": [t.model_dump(mode="json") for t in taken],
                "hold": st.hold,
                "hold_reason": st.hold_reason,
                "messages": st.messages,
                "disclaimer": DISCLAIMER,
            }
        )
        return
    if st.plan_version is None:
        _show_no_plan(st)
        return
    console.print(f"[bold]{day.isoformat()}[/] · plan version {st.plan_version}", highlight=False)
    for message in st.messages:
        console.print(f"[bold red]{message}[/]", highlight=False)
    if st.hold:
        console.print(f"[yellow]Hold:[/] {st.hold_reason}", highlight=False)
    if not st.doses:
        console.print("No doses planned for this day.")
    else:
        table = Table("time", "drug", "mg", "take")
        for d in st.doses:
            table.add_row(d.time, d.drug, f"{d.mg:g}", " + ".join(p.text for p in d.make_up))
        console.print(table)
    if taken:
        console.print(
            "Recorded: "
            + ", ".join(
                f"{t.status} {t.mg:g} mg {t.drug}" + (f" at {t.time}" if t.time else "")  # type: ignore[union-attr]
                for t in taken
            ),
            highlight=False,
        )
    if st.next_cut:
        console.print(f"Next change: {st.next_cut.isoformat()}", highlight=False)
    console.print(f"[dim]{DISCLAIMER}[/]")


def _default_time(day: dt.date, target: object, missed: bool) -> str | None:
    """Now for today's doses; the planned time when back-filling; none for a missed dose."""
    if missed:
        return None
    if day == dt.date.today():
        return dt.datetime.now().strftime("%H:%M")
    time: str | None = getattr(target, "time", None)
    return time


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
    as_json: JsonOpt = False,
) -> None:
    """Record a dose taken (or --missed, or --extra)."""
    if missed and extra:
        raise InputError("A dose is either --missed or --extra, not both")
    day = parse_day(date)
    store, me = open_store()
    active = store.active_plan(me)
    planned = planned_doses(active.plan, day) if active else []
    recorded = {
        r.entry.planned_time  # type: ignore[union-attr]
        for r in store.entries(me, kind="dose", start=day, end=day)
    }
    check_time(planned_time) if planned_time else None
    target = None
    if not extra:
        if planned_time:
            target = next((d for d in planned if d.time == planned_time), None)
            if target is None:
                raise InputError(f"No dose is planned at {planned_time} on {day.isoformat()}")
        else:
            target = next((d for d in planned if d.time not in recorded), None)
    if mg is None and target is None:
        raise InputError("No planned dose left for this day: give --mg (and --drug) or --extra")
    if drug is None and target is None:
        raise InputError("Give --drug: there is no planned dose to take it from")
    entry = _valid(
        DoseEntry,
        status="missed" if missed else "extra" if extra else "taken",
        drug=drug or (target.drug if target else ""),
        mg=mg if mg is not None else (target.mg if target else 0),
        time=time if time is not None else _default_time(day, target, missed),
        planned_time=target.time if target else None,
        planned_mg=target.mg if target else None,
        note=note,
    )
    assert isinstance(entry, DoseEntry)
    rec = store.add_entry(me, day, entry, plan_version_uid=active.uid if active else None)
    if as_json:
        print_json(rec)
        return
    what = {"taken": "Taken", "missed": "Missed", "extra": "Extra dose"}[entry.status]
    console.print(
        f"{what}: {entry.mg:g} mg {entry.drug} on {day.isoformat()}"
        + (f" at {entry.time}" if entry.time else "")
        + f" [dim]({rec.uid[:8]})[/]",
        highlight=False,
    )
    if target and entry.status == "taken" and abs(entry.mg - target.mg) > 1e-9:
        console.print(f"[yellow]Planned was {target.mg:g} mg.[/]", highlight=False)


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
    data: dict[str, object] = {"note": note}
    if ciwa_b is not None:
        data["ciwa_b"] = parse_items(ciwa_b)
    if bwsq is not None:
        data["bwsq"] = parse_items(bwsq)
    if gad7 is not None:
        data["gad7"] = parse_items(gad7)
    if phq9 is not None:
        data["phq9"] = parse_items(phq9)
    if quick is not None:
        data["quick"] = check_quick(book, parse_quick(quick))
    if danger is not None:
        data["danger_signs"] = parse_danger(book, danger)
    if interactive or len(data) == 1:
        if not interactive and not sys.stdin.isatty():
            raise InputError(
                "Give at least one of --ciwa-b, --bwsq, --gad7, --phq9, --quick, --danger"
            )
        data.update(ask_checkin(err_console if as_json else console, book))
    entry = _valid(CheckinEntry, **data)
    assert isinstance(entry, CheckinEntry)
    if entry.is_empty():
        raise InputError("Nothing to record")
    scores = {k: score(book, k, v) for k, v in entry.scales().items()}  # validates items first
    store, me = open_store()
    rec = store.add_entry(me, day, entry)
    decision, version = review_day(store, me, day)
    if as_json:
        print_json(
            {
                "entry": rec.model_dump(mode="json"),
                "scores": {k: v.model_dump(mode="json") for k, v in scores.items()},
                "decision": decision.model_dump(mode="json") if decision else None,
                "new_plan_version": version.version if version else None,
            }
        )
        return
    console.print(f"Check-in saved for {day.isoformat()} [dim]({rec.uid[:8]})[/]", highlight=False)
    show_checkin_outcome(entry, day, decision, version)


def review_day(
    store: JournalStore, me: int, day: dt.date
) -> tuple[Decision | None, PlanRecord | None]:
    """Apply the adaptive rules for ``day`` (after a check-in is recorded, corrected or
    retracted); a hold or a slower resumption is saved as a new plan version."""
    plan_maker = planner()
    if plan_maker is not None:
        return review(store, me, day, plan_maker, default_rules(), default_scales())
    return status(store, me, day, default_rules(), default_scales()).decision, None


def show_checkin_outcome(
    entry: CheckinEntry | None,
    day: dt.date,
    decision: Decision | None,
    version: PlanRecord | None,
) -> None:
    """Scores with their bands (or why there is none), crisis information, the decision."""
    book = default_scales()
    for scale, items in (entry.scales() if entry else {}).items():
        s = score(book, scale, items)
        band = s.band if s.band else "no established band"
        console.print(f"  {s.short}: {s.total}/{s.max_total} ({band})", highlight=False)
        if not s.band_established:
            console.print(f"  [dim]{s.band_note}[/]", highlight=False)
        shown = decision is not None and s.crisis_message in decision.messages
        if s.crisis and s.crisis_message and not shown:
            console.print(f"[bold red]{s.crisis_message}[/]", highlight=False)
    if decision is not None and decision.kind != "continue":
        _show_decision(decision)
    if version is not None:
        console.print(
            f"[yellow]New plan version {version.version}[/] from {day.isoformat()}: "
            f"{version.reason}",
            highlight=False,
        )
    console.print(f"[dim]{DISCLAIMER}[/]")


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
    entry = _valid(
        SleepEntry,
        bed_time=bed,
        try_sleep_time=try_sleep,
        sol_min=sol,
        awakenings=awakenings,
        waso_min=waso,
        final_wake_time=wake,
        out_of_bed_time=out,
        quality=quality,
        naps_min=naps,
        alcohol_drinks=alcohol,
        caffeine_drinks=caffeine,
        sleep_aid=aid,
        note=note,
    )
    assert isinstance(entry, SleepEntry)
    metrics = sleep_metrics(entry)
    store, me = open_store()
    rec = store.add_entry(me, day, entry)
    if as_json:
        print_json({"entry": rec.model_dump(mode="json"), "metrics": metrics.model_dump()})
        return
    console.print(
        f"Night to {day.isoformat()}: in bed {metrics.tib_min // 60}h{metrics.tib_min % 60:02d}, "
        f"asleep {metrics.tst_min // 60}h{metrics.tst_min % 60:02d}, "
        f"efficiency {metrics.se_percent:g}% "
        + ("(meets the 85% target)" if metrics.meets_target else "(below the 85% target)"),
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
    if kind == "note":
        entry: NoteEntry | EventEntry | MedicineEntry = NoteEntry(note=text)
    elif kind == "event":
        entry = EventEntry(title=text)
    elif kind == "medicine":
        entry = MedicineEntry(name=text, dose=dose)
    else:
        raise InputError(f"--kind is note, event or medicine, not {kind!r}")
    store, me = open_store()
    rec = store.add_entry(me, day, entry)
    console.print(f"Saved {kind} for {day.isoformat()} [dim]({rec.uid[:8]})[/]", highlight=False)


# ----------------------------------------------------------------------------- status


def _show_no_plan(st: Status) -> None:
    """Without a plan: any crisis information (in red), then how to make a plan."""
    *urgent, no_plan = st.messages
    for message in urgent:
        console.print(f"[bold red]{message}[/]", highlight=False)
    console.print(no_plan)


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
    day = parse_day(on)
    store, me = open_store()
    st = status(store, me, day, default_rules(), default_scales())
    if as_json:
        print_json(st)
        return
    if st.plan_version is None:
        _show_no_plan(st)
        _show_scores(st)
        return
    for message in st.messages:
        console.print(f"[bold red]{message}[/]", highlight=False)
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
        console.print(
            f"Sleep {st.latest_sleep.day.isoformat()}: efficiency {m.se_percent:g}%",
            highlight=False,
        )
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
    store, me = open_store()
    text = export_journal(store.db, me).model_dump_json(indent=2)
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
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror}") from None
    doc = parse_export(raw)
    store, me = open_store()
    import_journal(store.db, doc, user_id=me)
    console.print(
        f"Imported {len(doc.entries)} entries and {len(doc.plan_versions)} plan versions.",
        highlight=False,
    )
