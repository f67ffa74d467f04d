"""`benzotaper export`: a plan as PDF, calendar, CSV, FHIR or a taper story, to a file or stdout.

With ``--active`` (the saved plan) the FHIR Bundle also carries the journal's check-ins and the
story tells what actually happened, as a clinic receiving the file would expect; ``--no-journal``
leaves the journal out.

The plan comes from a saved plan file (``--plan-file``), or from the very same options as
``benzotaper plan`` (``--take``, ``--strategy``, ...): those are handed, unparsed, to the `plan`
command's own parser and request building, so the two commands can never disagree.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from benzotaper.catalogue import Catalogue, default_catalogue
from benzotaper.cli.app import app, err_console, handle_errors
from benzotaper.dates import in_calendar
from benzotaper.errors import InputError
from benzotaper.limits import EXPORT_CHECKINS_MAX
from benzotaper.planning.models import Plan
from benzotaper.services.exports import History, JournalPart, left_out_message


class Format(StrEnum):
    PDF = "pdf"
    ICS = "ics"
    CSV = "csv"
    FHIR = "fhir"
    STORY = "story"


class PdfKind(StrEnum):
    PATIENT = "patient"
    PRESCRIBER = "prescriber"


class FhirVersionOpt(StrEnum):
    R4 = "r4"
    R4B = "r4b"
    R5 = "r5"


class CsvKind(StrEnum):
    STEPS = "steps"
    JOURNAL = "journal"


class StoryKind(StrEnum):
    MARKDOWN = "markdown"
    TEXT = "text"
    PNG = "png"


def load_plan_file(path: Path) -> Plan:
    """A plan saved as JSON (``benzotaper plan ... --format json > plan.json``); ``-``: stdin."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"Cannot read the plan file {str(path)!r}: {exc.strerror}.") from None
    try:
        return Plan.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise InputError(
            f"{path.name} is not a benzotaper plan: {loc}: {first['msg']} "
            f"({exc.error_count()} problem(s))."
        ) from None


def plan_from_plan_options(args: list[str]) -> Plan:
    """Run `benzotaper plan ARGS --format json` in-process and read the plan it prints."""
    from typer.core import TyperGroup
    from typer.main import get_command

    group = get_command(app)
    if not isinstance(group, TyperGroup) or "plan" not in group.commands:
        raise InputError("Plan options need the `plan` command, which is not installed.")
    command = group.commands["plan"]
    try:
        ctx = command.make_context("benzotaper export", [*args, "--format", "json"])
    except (typer.Exit, typer.Abort):
        raise
    except typer.TyperException as exc:  # a usage error: unknown option, bad value
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        raise InputError(
            f"{message} (plan options are those of `benzotaper plan`; see its --help)."
        ) from None
    buf = io.StringIO()
    with ctx, contextlib.redirect_stdout(buf):
        command.invoke(ctx)  # errors are reported by `plan` itself, with its exit status
    return Plan.model_validate_json(buf.getvalue())


def active_plan_and_history(
    part: JournalPart, start: dt.date | None, end: dt.date | None, today: dt.date
) -> tuple[Plan, History]:
    """The local user's active saved plan and the part of its journal the format shows, read
    as the web app reads it (bounded: see :mod:`benzotaper.services.exports`)."""
    from benzotaper.cli.journal import open_journal
    from benzotaper.services.exports import saved_history

    journal, me = open_journal()
    record = journal.active_plan(me)
    if record is None:
        raise InputError("No saved plan yet: make one with `benzotaper plan ... --save`.")
    return record.plan, saved_history(journal, me, part, start=start, end=end, today=today)


def stream_journal_csv(output: Path | None) -> None:
    """The active journal as CSV, written as it is read (``EXPORT_CHUNK`` entries at a time:
    the same memory for two weeks or ten years of entries)."""
    from benzotaper import exports
    from benzotaper.cli.journal import open_journal

    journal, me = open_journal()
    if journal.active_plan(me) is None:
        raise InputError("No saved plan yet: make one with `benzotaper plan ... --save`.")
    chunks = exports.journal_csv_chunks(journal.iter_entries(me))
    if output is None or str(output) == "-":
        for chunk in chunks:
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    try:
        with output.open("w", encoding="utf-8", newline="") as f:
            written = sum(f.write(chunk) for chunk in chunks)
    except OSError as exc:
        raise InputError(f"Cannot write {str(output)!r}: {exc.strerror}.") from None
    err_console.print(f"Wrote {output} ({written:,} characters).", highlight=False)


def render(
    plan: Plan,
    fmt: Format,
    *,
    catalogue: Catalogue,
    today: dt.date,
    pdf_kind: PdfKind = PdfKind.PATIENT,
    fhir_version: FhirVersionOpt = FhirVersionOpt.R4B,
    tz: str = "UTC",
    alarm_minutes: int = 0,
    story_kind: StoryKind = StoryKind.MARKDOWN,
    csv_kind: CsvKind = CsvKind.STEPS,
    journal: Sequence[Any] = (),
    versions: Sequence[Any] | None = None,
    with_journal: bool = False,
) -> bytes:
    """The export's bytes; imported lazily so `benzotaper --help` stays fast.

    ``with_journal``: the FHIR Bundle carries the journal's check-ins, and the story tells the
    saved ``versions`` and ``journal`` (what actually happened)."""
    from benzotaper import exports

    if fmt is Format.PDF:
        if pdf_kind is PdfKind.PRESCRIBER:
            return exports.pdf_prescriber(plan, catalogue=catalogue)
        return exports.pdf_patient(plan, today=today, catalogue=catalogue)
    if fmt is Format.ICS:
        return exports.plan_ics(plan, tz=tz, catalogue=catalogue, alarm_minutes=alarm_minutes)
    if fmt is Format.CSV:
        if csv_kind is CsvKind.JOURNAL:
            return exports.journal_csv(journal).encode()
        return exports.steps_csv(plan).encode()
    if fmt is Format.FHIR:
        version = fhir_version.value
        text = exports.plan_fhir_json(
            plan,
            version,  # type: ignore[arg-type]
            catalogue=catalogue,
            journal=journal if with_journal else None,
        )
        return (text + "\n").encode()
    if story_kind is StoryKind.PNG:
        return exports.progress_chart(plan, today=today)
    story = exports.story_text if story_kind is StoryKind.TEXT else exports.story_markdown
    if with_journal:
        return story(
            plan, today=today, catalogue=catalogue, versions=versions, journal=journal
        ).encode()
    return story(plan, today=today, catalogue=catalogue).encode()


def _binary(fmt: Format, pdf_story_png: bool) -> bool:
    return fmt is Format.PDF or pdf_story_png


def write_output(data: bytes, output: Path | None, binary: bool) -> None:
    if output is None or str(output) == "-":
        if binary and sys.stdout.isatty():
            raise InputError("This export is binary: write it to a file with -o FILE.")
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise InputError(f"Cannot write {str(output)!r}: {exc.strerror}.") from None
    err_console.print(f"Wrote {output} ({len(data):,} bytes).", highlight=False)


PlanFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--plan-file",
        help="A plan saved as JSON (benzotaper plan ... --format json); - reads stdin.",
    ),
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
]
PdfKindOpt = Annotated[
    PdfKind, typer.Option("--pdf-kind", help="Patient schedule or prescriber sheet.")
]
FhirVersionOption = Annotated[
    FhirVersionOpt,
    typer.Option(
        "--fhir-version",
        help="FHIR R4B or R5, or R4 in US Core shapes (RxNorm-coded, one request per step).",
    ),
]
TzOpt = Annotated[
    str, typer.Option("--tz", help="IANA time zone for reminders, e.g. Europe/London.")
]
AlarmOpt = Annotated[
    int, typer.Option("--alarm-minutes", help="Reminder alarm, minutes before each dose.")
]
StoryKindOpt = Annotated[
    StoryKind, typer.Option("--story-kind", help="Markdown, plain text or a PNG chart.")
]
ActiveOpt = Annotated[
    bool, typer.Option("--active", help="Export the active saved plan (and its journal).")
]
CsvKindOpt = Annotated[
    CsvKind, typer.Option("--csv-kind", help="The plan's steps, or journal entries (--active).")
]
TodayOpt = Annotated[
    str | None,
    typer.Option("--today", help="Date to show progress for (YYYY-MM-DD; default today)."),
]
JournalStartOpt = Annotated[
    str | None,
    typer.Option("--journal-start", help="FHIR: only check-ins from this day (YYYY-MM-DD)."),
]
JournalEndOpt = Annotated[
    str | None,
    typer.Option(
        "--journal-end",
        help=f"FHIR: only check-ins to this day. A Bundle carries the newest "
        f"{EXPORT_CHECKINS_MAX} of the range; the command says when earlier ones are left out.",
    ),
]
JournalOpt = Annotated[
    bool | None,
    typer.Option(
        "--journal/--no-journal",
        help="FHIR and story: add the saved journal (check-ins as questionnaires and "
        "scores; actual holds and progress). Default: on with --active.",
    ),
]


@app.command(
    "export",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    epilog="Any other option is an option of `benzotaper plan` (e.g. --take 'lorazepam 1 mg at "
    "08:00' --strategy percent --pace slow) and makes the plan to export.",
)
@handle_errors
def export_cmd(
    ctx: typer.Context,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="What to make.")],
    plan_file: PlanFileOpt = None,
    output: OutputOpt = None,
    pdf_kind: PdfKindOpt = PdfKind.PATIENT,
    fhir_version: FhirVersionOption = FhirVersionOpt.R4B,
    tz: TzOpt = "UTC",
    alarm_minutes: AlarmOpt = 0,
    story_kind: StoryKindOpt = StoryKind.MARKDOWN,
    active: ActiveOpt = False,
    csv_kind: CsvKindOpt = CsvKind.STEPS,
    today: TodayOpt = None,
    with_journal: JournalOpt = None,
    journal_start: JournalStartOpt = None,
    journal_end: JournalEndOpt = None,
) -> None:
    """Export a plan: PDF schedule, calendar reminders, CSV, HL7 FHIR, or a taper story."""
    if sum([plan_file is not None, bool(ctx.args), active]) > 1:
        raise InputError("Give one plan: --plan-file, --active or plan options, not several.")
    if csv_kind is CsvKind.JOURNAL and not active:
        raise InputError("--csv-kind journal exports the journal of the saved plan: add --active.")
    if with_journal and not active:
        raise InputError("--journal adds the journal of the saved plan: add --active.")
    if fmt is Format.CSV and csv_kind is CsvKind.JOURNAL:
        stream_journal_csv(output)
        return
    day = _today(today)
    with_journal = active if with_journal is None else with_journal
    part = _journal_part(fmt, with_journal)
    start = _day_option(journal_start, "--journal-start")
    end = _day_option(journal_end, "--journal-end")
    plan, history = _plan_to_export(plan_file, list(ctx.args), active, part, start, end, day)
    data = render(
        plan,
        fmt,
        catalogue=default_catalogue(),
        today=day,
        pdf_kind=pdf_kind,
        fhir_version=fhir_version,
        tz=tz,
        alarm_minutes=alarm_minutes,
        story_kind=story_kind,
        csv_kind=csv_kind,
        journal=history.journal if history else (),
        versions=history.versions if history else None,
        with_journal=with_journal,
    )
    write_output(data, output, _binary(fmt, fmt is Format.STORY and story_kind is StoryKind.PNG))
    if history is not None and history.left_out_from is not None:
        err_console.print(
            left_out_message(history.left_out_from, end_option="--journal-end"), highlight=False
        )


def _journal_part(fmt: Format, with_journal: bool) -> JournalPart:
    """What of the journal ``fmt`` shows (as the web app's formats say)."""
    if not with_journal:
        return "none"
    return {Format.FHIR: "checkins", Format.STORY: "today"}.get(fmt, "none")  # type: ignore[return-value]


def _plan_to_export(
    plan_file: Path | None,
    plan_options: list[str],
    active: bool,
    part: JournalPart,
    start: dt.date | None,
    end: dt.date | None,
    today: dt.date,
) -> tuple[Plan, History | None]:
    """(plan, its saved versions and journal) from the one way the plan was named; only the
    saved plan has versions and a journal."""
    if active:
        return active_plan_and_history(part, start, end, today)
    if plan_file is not None:
        return load_plan_file(plan_file), None
    if plan_options:
        return plan_from_plan_options(plan_options), None
    raise InputError(
        "Give the plan to export: --plan-file PLAN.json, or the options of `benzotaper "
        "plan`, e.g. --take 'lorazepam 1 mg at 08:00'."
    )


def _day_option(value: str | None, option: str) -> dt.date | None:
    """A date option (checked), or None when left out."""
    if value is None:
        return None
    try:
        return in_calendar(dt.date.fromisoformat(value), f"{option} date")
    except ValueError:
        raise InputError(f"{option} must be a date like 2026-12-01, not {value!r}.") from None


def _today(today: str | None) -> dt.date:
    """The day progress is shown for: ``--today`` when given (checked), else the real today."""
    try:
        day = dt.date.fromisoformat(today) if today else dt.date.today()
    except ValueError:
        raise InputError(f"--today must be a date like 2026-12-01, not {today!r}.") from None
    in_calendar(day, "--today date")
    return day
