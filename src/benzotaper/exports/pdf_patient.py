"""The patient's printable schedule: week by week, what to take at each time, boxes to tick.

Large type, the next cut highlighted, and on the first page the safety message and the signs
that need urgent help. Every page's footer repeats that the plan must be agreed with the
prescriber.
"""

from __future__ import annotations

import datetime as dt

from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from benzotaper.catalogue import Catalogue
from benzotaper.exports._common import (
    EMERGENCY_ACTION,
    EMERGENCY_SIGNS,
    SAFETY_MESSAGE,
    WeekSegment,
    daily_text,
    dose_times,
    fmt_percent,
    is_cut,
    next_cut,
    percent_done,
    regimen_text,
    step_on,
    take_text,
    week_segments,
)
from benzotaper.exports._pdf import (
    CHANGE_FILL,
    CUT_FILL,
    EMERGENCY_EDGE,
    EMERGENCY_FILL,
    FONT,
    HEAD_FILL,
    SAFETY_FILL,
    Document,
    long_date,
    short_date,
)
from benzotaper.planning.models import Plan, Step

TICK = "☐"
_BODY = 13
_TABLE = 12


def _change_line(step: Step, catalogue: Catalogue | None) -> str:
    parts = [fmt_percent(step.change_percent)] if step.change_percent is not None else []
    if step.percent_14_days is not None:  # micro-tapering: all the cuts of the last 14 days
        parts.append(f"{step.percent_14_days:g}% less over 14 days")
    change = f" ({'; '.join(parts)})" if parts else ""
    if step.phase == "stop":
        return f"From {long_date(step.start)}: no more doses. {step.note or ''}".strip()
    label = {
        "crossover": "Switching",
        "stabilise": "Steady dose",
        "hold": "Hold (same dose)",
        "final": "Final steps",
        "taper": "New dose",
        "reinstatement": "Back to an earlier dose",
        "maintain": "Keep this dose and review",
    }.get(step.phase, "New dose")
    note = f" {step.note.rstrip('.')}." if step.note else ""
    return f"{label} from {long_date(step.start)}: {daily_text(step, catalogue)}{change}.{note}"


def _front_page(doc: Document, plan: Plan, today: dt.date, catalogue: Catalogue | None) -> None:
    s = plan.summary
    doc.heading("Your taper schedule", 24)
    doc.para(
        "Starting from: "
        + regimen_text([(a.drug, a.mg, a.time) for a in plan.request.regimen], catalogue)
        + ".",
        _BODY,
    )
    doc.para(
        f"Plan: {long_date(s.start)} to {long_date(s.end)} ({s.weeks:g} weeks, {s.steps} steps).",
        _BODY,
    )
    doc.box("Agree this with your prescriber", [SAFETY_MESSAGE, plan.disclaimer], SAFETY_FILL)

    now = step_on(plan, today)
    lines: list[str] = []
    if now is not None:
        lines.append(f"**Today ({long_date(today)}):** {daily_text(now, catalogue)}.")
        for time, doses in dose_times(now):
            lines += [f"{time}  {take_text(d, catalogue)}" for d in doses]
        lines.append(f"Progress: {percent_done(plan, now):.0f}% of the way down.")
    elif today < s.start:
        lines.append(f"The plan starts on {long_date(s.start)}.")
    cut = next_cut(plan, today)
    if cut is not None:
        lines.append(f"**Next cut:** {_change_line(cut, catalogue)}")
    if lines:
        doc.box("Where you are", lines, CUT_FILL, _BODY)

    doc.box(
        "Get urgent medical help if you have",
        [f"• {sign}" for sign in EMERGENCY_SIGNS] + [EMERGENCY_ACTION],
        EMERGENCY_FILL,
        _BODY,
        edge=EMERGENCY_EDGE,
    )
    doc.para(
        f"How to use this sheet: tick a box ({TICK}) each time you take a dose. "
        "A coloured line marks every change of dose; the next cut is in orange. "
        "Symptoms after a cut can take up to a week to appear. Write down how you feel, "
        "and tell your prescriber if it gets hard: holding or slowing down is always allowed.",
        11,
    )


def _segment(
    doc: Document, seg: WeekSegment, cut: Step | None, catalogue: Catalogue | None
) -> None:
    step = seg.step
    if seg.days[0] == step.start:
        fill = CUT_FILL if cut is not None and step.index == cut.index else CHANGE_FILL
        prefix = "NEXT CUT. " if fill is CUT_FILL else ("CUT. " if is_cut(step) else "")
        doc.set_fill_color(*fill)
        doc.set_font(FONT, "B", _TABLE)
        doc.multi_cell(
            0,
            6.5,
            prefix + _change_line(step, catalogue),
            fill=True,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
            align="L",
        )
        doc.ln(1)
    times = dose_times(step)
    if not times:
        doc.set_font(FONT, "", _TABLE)
        doc.multi_cell(
            0,
            6.5,
            "No dose to take. See your prescriber for a review.",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        doc.ln(2)
        return
    days = list(seg.days)
    day_w = 13.0
    take_w = 180 - 18 - day_w * 7
    widths = (18.0, take_w, *([day_w] * len(days)))
    doc.set_font(FONT, "", _TABLE)
    heading = FontFace(emphasis="BOLD", fill_color=HEAD_FILL)
    with doc.table(
        col_widths=widths,
        width=sum(widths),
        align="LEFT",
        text_align=("LEFT", "LEFT", *(["CENTER"] * len(days))),
        headings_style=heading,
        line_height=6.5,
        padding=1,
        cell_fill_color=(255, 255, 255),
        cell_fill_mode="ALL",
    ) as table:
        row = table.row()
        row.cell("Time")
        row.cell("Take")
        for day in days:
            row.cell(f"{day:%a}\n{day.day}")
        for time, doses in times:
            row = table.row()
            row.cell(time, style=FontFace(emphasis="BOLD"))
            row.cell("\n".join(take_text(d, catalogue) for d in doses))
            for _ in days:
                row.cell(TICK)
    doc.ln(2)


def pdf_patient(
    plan: Plan,
    *,
    today: dt.date | None = None,
    catalogue: Catalogue | None = None,
    created: dt.datetime | None = None,
) -> bytes:
    """The patient schedule as PDF bytes; ``today`` (default: the start) marks the next cut."""
    today = today or plan.summary.start
    doc = Document(
        "Taper schedule",
        "Agree every change with your prescriber. Never stop abruptly. Made with benzotaper "
        f"(catalogue {plan.summary.catalogue_version}).",
        created,
    )
    doc.add_page()
    _front_page(doc, plan, today, catalogue)
    cut = next_cut(plan, today)
    week = 0
    for seg in week_segments(plan):
        if seg.week != week:
            week = seg.week
            if doc.will_page_break(60):
                doc.add_page()
            else:
                doc.ln(2)
            last = seg.days[0] + dt.timedelta(days=6 - (seg.days[0] - plan.summary.start).days % 7)
            last = min(last, plan.summary.end)
            doc.heading(f"Week {week}: {short_date(seg.days[0])} – {long_date(last)}", 15)
        elif doc.will_page_break(40):
            doc.add_page()
        _segment(doc, seg, cut, catalogue)
    return doc.render()
