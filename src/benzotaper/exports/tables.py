"""CSV exports: the step table (one row per step × dose-time × drug), for spreadsheets and audits.

Plain RFC 4180 CSV (comma, CRLF, UTF-8 with no BOM); numbers are written without float noise.
Journal entries get their own CSV once the journal exists (see ``journal_csv``).

Every text cell goes through ``csv_cell``: a spreadsheet would run a cell starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return as a formula (CSV injection, OWASP), so such a
cell is written with a leading apostrophe. Numbers, even negative ones, are left as they are.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from benzotaper.exports._common import fmt_mg, pieces_text
from benzotaper.planning.models import Plan

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """``value`` safe to open in a spreadsheet: text that could start a formula is quoted."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value  # a number such as -12.5 is not a formula


def csv_row(values: Iterable[object]) -> list[object]:
    return [csv_cell(v) for v in values]


STEP_COLUMNS = (
    "step",
    "phase",
    "start",
    "end",
    "days",
    "time",
    "drug",
    "dose_mg",
    "pieces",
    "drug_daily_mg",
    "diazepam_equivalent_mg",
    "change_percent",
    "note",
)


def steps_csv(plan: Plan) -> str:
    """One row per step, dose-time and drug; a step without doses (the stop) gets one row."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(STEP_COLUMNS)
    for step in plan.steps:
        common = [
            step.index + 1,
            step.phase,
            step.start.isoformat(),
            step.end.isoformat(),
            step.days,
        ]
        tail = [
            fmt_mg(step.diazepam_equivalent_mg),
            "" if step.change_percent is None else f"{step.change_percent:g}",
            step.note or "",
        ]
        doses = sorted(step.doses, key=lambda d: (d.time, d.drug))
        if not doses:
            writer.writerow(csv_row([*common, "", "", "0", "", "0", *tail]))
        for dose in doses:
            writer.writerow(
                csv_row(
                    [
                        *common,
                        dose.time,
                        dose.drug,
                        fmt_mg(dose.mg),
                        pieces_text(dose),
                        fmt_mg(step.daily_mg.get(dose.drug, dose.mg)),
                        *tail,
                    ]
                )
            )
    return buf.getvalue()


class JournalRow(Protocol):
    """What a journal export needs of a stored entry (``storage.journal.EntryRecord`` fits)."""

    @property
    def uid(self) -> str: ...
    @property
    def day(self) -> dt.date: ...
    @property
    def entry(self) -> Any: ...


JOURNAL_COLUMNS = (
    "date",
    "kind",
    "time",
    "drug",
    "mg",
    "status",
    "planned_mg",
    "ciwa_b_total",
    "bwsq_total",
    "gad7_total",
    "phq9_total",
    "quick",
    "danger_signs",
    "bed_time",
    "sol_min",
    "awakenings",
    "waso_min",
    "final_wake_time",
    "out_of_bed_time",
    "sleep_quality",
    "total_sleep_min",
    "sleep_efficiency_percent",
    "name",
    "action",
    "title",
    "note",
    "uid",
)


def _journal_fields(entry: Any) -> dict[str, object]:
    from benzotaper.journal.sleep import sleep_metrics

    kind = entry.kind
    out: dict[str, object] = {"kind": kind, "note": entry.note}
    if kind == "dose":
        out.update(
            time=entry.time or entry.planned_time or "",
            drug=entry.drug,
            mg=fmt_mg(entry.mg),
            status=entry.status,
            planned_mg="" if entry.planned_mg is None else fmt_mg(entry.planned_mg),
        )
    elif kind == "checkin":
        for scale, column in (
            ("ciwa-b", "ciwa_b"),
            ("bwsq", "bwsq"),
            ("gad-7", "gad7"),
            ("phq-9", "phq9"),
        ):
            items = entry.scales().get(scale)
            if items is not None:
                out[f"{column}_total"] = sum(items)
        out.update(
            time=entry.time or "",
            quick="; ".join(f"{k}={v}" for k, v in sorted(entry.quick.items())),
            danger_signs="; ".join(entry.danger_signs),
        )
    elif kind == "sleep":
        metrics = sleep_metrics(entry)
        out.update(
            bed_time=entry.bed_time,
            sol_min=entry.sol_min,
            awakenings=entry.awakenings,
            waso_min=entry.waso_min,
            final_wake_time=entry.final_wake_time,
            out_of_bed_time=entry.out_of_bed_time,
            sleep_quality="" if entry.quality is None else entry.quality,
            total_sleep_min="" if metrics is None else metrics.tst_min,
            sleep_efficiency_percent="" if metrics is None else f"{metrics.se_percent:g}",
        )
    elif kind == "medicine":
        out.update(name=entry.name, action=entry.action, mg=entry.dose)
    elif kind == "event":
        out.update(title=entry.title)
    return out


def journal_csv(entries: Iterable[JournalRow]) -> str:
    """One row per journal entry, as entered; scale totals and sleep metrics derived."""
    return "".join(journal_csv_chunks(entries))


def journal_csv_chunks(entries: Iterable[JournalRow], rows: int = 500) -> Iterator[str]:
    """:func:`journal_csv` as pieces of the header or ``rows`` rows each, made as ``entries``
    is read: a journal of any length is written in the same memory."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, JOURNAL_COLUMNS, lineterminator="\r\n", restval="")
    writer.writeheader()
    for i, row in enumerate(entries, start=1):
        fields = {"date": row.day.isoformat(), "uid": row.uid, **_journal_fields(row.entry)}
        writer.writerow({k: csv_cell(v) for k, v in fields.items()})
        if i % rows == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()
