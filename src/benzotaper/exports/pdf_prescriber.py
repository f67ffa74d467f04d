"""The prescriber and pharmacy sheet: regimen, strategy, sources, warnings, what to dispense.

Everything a clinician needs to check the plan: the risk assessment and its reasons, the
equivalence source with its citation, each step, the quantity of every product per dispensing
interval and in total, the catalogue version, and the plan chart.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from typing import Any

from fpdf.fonts import FontFace

from benzotaper.catalogue import Catalogue
from benzotaper.errors import SimulationError
from benzotaper.exports._common import (
    EMERGENCY_SOURCES,
    citations,
    dose_text,
    fmt_mg,
    fmt_percent,
    regimen_text,
    sources_of,
)
from benzotaper.exports._pdf import (
    EMERGENCY_EDGE,
    EMERGENCY_FILL,
    HEAD_FILL,
    SAFETY_FILL,
    Document,
)
from benzotaper.exports.chart import progress_chart
from benzotaper.planning.models import DispenseLine, Plan, PlanWarning, Step

_TEXT = 10
#: The chart's width on the A4 sheet (the text width).
_CHART_MM = 175


def _table(doc: Document, widths: Sequence[float], rows: list[list[str]], size: float = 9) -> None:
    doc.set_font("DejaVu", "", size)
    with doc.table(
        col_widths=tuple(widths),
        width=sum(widths),
        align="LEFT",
        text_align="LEFT",
        headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL),
        line_height=size * 0.5,
        padding=1,
        cell_fill_color=(255, 255, 255),
        cell_fill_mode="ALL",
    ) as table:
        for cells in rows:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    doc.ln(3)


def _quantity(line: DispenseLine) -> str:
    unit = line.unit if line.quantity == 1 or line.unit == "mL" else f"{line.unit}s"
    return f"{fmt_mg(line.quantity)} {unit}"


def _dispense_rows(lines: list[DispenseLine], with_period: bool) -> list[list[str]]:
    head = (
        ["Period", "Drug", "Product", "Quantity"]
        if with_period
        else ["Drug", "Product", "Quantity"]
    )
    rows = [head]
    for line in lines:
        cells = [line.drug, line.product, _quantity(line)]
        if with_period:
            cells.insert(0, f"{line.period_start.isoformat()} – {line.period_end.isoformat()}")
        rows.append(cells)
    return rows


def _label(key: str) -> str:
    return key.replace("_", " ")


def parameter_text(value: Any) -> str:
    """A strategy parameter as words: ``{"used": 5, "range": [5, 10], "source": "asam2025"}``
    -> ``5 (range 5–10; source asam2025)``; nested mappings and lists likewise, never a repr."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return fmt_mg(value)
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(parameter_text(v) for v in value) or "none"
    if isinstance(value, Mapping):
        if "used" in value:
            extras = []
            for key, item in value.items():
                if key == "used":
                    continue
                if key == "range" and isinstance(item, list | tuple) and len(item) == 2:
                    extras.append(f"range {parameter_text(item[0])}–{parameter_text(item[1])}")
                elif key == "source":
                    extras.append(f"source {item}")
                elif key == "unverified":
                    if item:
                        extras.append("unverified")
                else:
                    extras.append(f"{_label(str(key))}: {parameter_text(item)}")
            head = parameter_text(value["used"])
            return f"{head} ({'; '.join(extras)})" if extras else head
        return "; ".join(f"{_label(str(k))}: {parameter_text(v)}" for k, v in value.items())
    return str(value)


def parameter_rows(parameters: Mapping[str, Any]) -> list[list[str]]:
    """The plan's strategy parameters as a two-column table (name, readable value)."""
    return [["Parameter", "Value"]] + [
        [_label(k), parameter_text(v)] for k, v in parameters.items()
    ]


def _warning_rows(warnings: list[PlanWarning]) -> list[list[str]]:
    rows = [["Severity", "Warning", "Sources"]]
    rows += [[w.severity, w.message, ", ".join(w.sources) or "—"] for w in warnings]
    return rows


def plan_chart_png(plan: Plan, catalogue: Catalogue | None) -> bytes:
    """The pk helper's chart when it can be simulated, else the dose-step progress chart."""
    if catalogue is not None:
        from benzotaper.charts import plan_chart

        try:
            return plan_chart(plan, catalogue, fmt="png", size="print")
        except SimulationError:
            pass  # e.g. a drug without a half-life: the dose steps alone still help
    return progress_chart(plan)


def pdf_prescriber(
    plan: Plan,
    *,
    catalogue: Catalogue | None = None,
    chart_png: bytes | None = None,
    chart: bool = True,
    created: dt.datetime | None = None,
) -> bytes:
    """The prescriber/pharmacy sheet as PDF bytes, with the plan chart.

    The chart is ``chart_png`` when given; otherwise, with a catalogue, the pharmacokinetic plan
    chart (simulated level and occupancy); without one, or when the catalogue lacks what the
    simulation needs, the simpler dose-step chart. ``chart=False`` leaves it out.

    The sheet reads in the order a prescriber checks a plan: who and how risky, how the taper is
    paced and why, the chart, each step, then what the pharmacy dispenses and the sources.
    """
    if chart and chart_png is None:
        chart_png = plan_chart_png(plan, catalogue)
    s = plan.summary
    doc = Document(
        "Taper plan: prescriber and pharmacy sheet",
        f"benzotaper decision support: catalogue {s.catalogue_version}; equivalence source "
        f"{s.equivalence_source}. Review before prescribing or dispensing.",
        created,
    )
    doc.add_page()
    doc.heading("Taper plan: prescriber and pharmacy sheet", 18)
    doc.box("Decision support, not a prescription", [plan.disclaimer], SAFETY_FILL, _TEXT)
    _regimen_and_risk(doc, plan, catalogue)
    eq_key = _strategy(doc, plan, catalogue)
    if plan.warnings:
        doc.heading("Warnings", 13)
        _table(doc, (22, 128, 30), _warning_rows(plan.warnings))
    if chart_png:
        _chart(doc, chart_png)
    _schedule(doc, plan, catalogue)
    _dispensing(doc, plan)
    _sources(doc, plan, catalogue, eq_key)
    return doc.render()


def _regimen_and_risk(doc: Document, plan: Plan, catalogue: Catalogue | None) -> None:
    """What the person takes now and how risky stopping it is; specialist care stands out."""
    s, risk = plan.summary, plan.risk
    doc.heading("Current regimen and risk", 13)
    regimen = [(a.drug, a.mg, a.time) for a in plan.request.regimen]
    doc.para(f"**Regimen:** {regimen_text(regimen, catalogue)}.", _TEXT)
    doc.para(
        f"**Diazepam equivalent:** {fmt_mg(s.starting_diazepam_equivalent_mg)} mg/day "
        f"(source {s.equivalence_source}).  **Dose band:** {risk.dose_band}.  "
        f"**Withdrawal risk:** {risk.level}.  **Recommended pace:** {risk.recommended_pace}.",
        _TEXT,
    )
    if risk.specialist_care:
        doc.box(
            "Specialist care recommended",
            [f"• {r}" for r in risk.reasons] or ["See the risk flags below."],
            EMERGENCY_FILL,
            _TEXT,
            edge=EMERGENCY_EDGE,
        )
    elif risk.reasons:
        doc.para("**Reasons:** " + "; ".join(risk.reasons) + ".", _TEXT)
    if risk.flags:
        _table(doc, (22, 128, 30), _warning_rows(risk.flags))


def _strategy(doc: Document, plan: Plan, catalogue: Catalogue | None) -> str:
    """How the taper is paced, any recorded override of the maximum pace, and the equivalence
    source; returns that source's key (the sources section names it as the one used)."""
    s = plan.summary
    doc.heading("Strategy", 13)
    doc.para(
        f"**Strategy:** {s.strategy}.  **Pace:** {s.pace or 'from the risk assessment'}.  "
        f"**Parameters:** {'see the table' if s.parameters else 'defaults'}.",
        _TEXT,
    )
    if s.parameters:
        _table(doc, (50, 130), parameter_rows(s.parameters), 8)
    doc.para(
        f"**Dates:** {s.start.isoformat()} to {s.end.isoformat()} ({s.weeks:g} weeks, "
        f"{s.steps} steps).  **Market:** {s.market.upper()}.  "
        f"**Dispensing interval:** {plan.request.preferences.dispense_days} days.",
        _TEXT,
    )
    if s.override is not None:
        doc.box(
            "Recorded override of the guideline's maximum pace",
            [
                f"Up to {fmt_mg(s.override.max_percent_per_14_days)}% per 14 days.",
                f"Reason: {s.override.reason}",
            ],
            EMERGENCY_FILL,
            _TEXT,
            edge=EMERGENCY_EDGE,
        )
    (eq_key, eq_cite), *_ = citations([s.equivalence_source], catalogue)
    doc.para(f"**Equivalence source:** {eq_cite}", _TEXT)
    return eq_key


def _chart(doc: Document, chart_png: bytes) -> None:
    """The chart on one page with its heading: a new page rather than a chart cut in two or
    running into the footer."""
    from PIL import Image

    with Image.open(io.BytesIO(chart_png)) as image:
        width, height = image.size
    shown = _CHART_MM * height / width
    if doc.will_page_break(shown + 15):
        doc.add_page()
    doc.heading("Plan chart", 13)
    doc.image(chart_png, w=_CHART_MM, alt_text="Chart of the planned daily dose over time")
    doc.ln(3)


def _schedule(doc: Document, plan: Plan, catalogue: Catalogue | None) -> None:
    """Every step with its dates, phase, doses as products and the change it makes."""
    doc.heading("Schedule", 13)
    rows = [["Step", "Dates", "Phase", "Doses (what to take)", "DE mg", "Change"]]
    for step in plan.steps:
        doses = "\n".join(f"{d.time} {dose_text(d, catalogue)}" for d in step.doses if d.mg > 0)
        if step.note:
            doses = f"{doses}\n{step.note}" if doses else step.note
        rows.append(
            [
                str(step.index + 1),
                f"{step.start.isoformat()}\n{step.end.isoformat()} ({step.days} d)",
                step.phase,
                doses or "no dose",
                fmt_mg(step.diazepam_equivalent_mg),
                _change_cell(step),
            ]
        )
    _table(doc, (11, 30, 19, 88, 15, 17), rows, 8)


def _change_cell(step: Step) -> str:
    """The step's change, and in a micro-taper the cuts of the 14 days before it together."""
    cell = "—" if step.change_percent is None else fmt_percent(step.change_percent)
    if step.percent_14_days is not None:
        cell += f"\n14 d: -{step.percent_14_days:g}%"
    return cell


def _dispensing(doc: Document, plan: Plan) -> None:
    """What the pharmacy hands over per interval and over the whole plan."""
    doc.heading(f"Dispensing per {plan.request.preferences.dispense_days}-day interval", 13)
    if plan.dispense:
        _table(doc, (45, 25, 70, 40), _dispense_rows(plan.dispense, True))
    else:
        doc.para("No dispensing quantities were calculated for this plan.", _TEXT)
    doc.heading("Total for the whole plan", 13)
    if plan.dispense_total:
        _table(doc, (45, 95, 40), _dispense_rows(plan.dispense_total, False))
    else:
        doc.para("No totals were calculated for this plan.", _TEXT)


def _sources(doc: Document, plan: Plan, catalogue: Catalogue | None, eq_key: str) -> None:
    """Every source the plan cites, so a clinician can check each figure at its origin."""
    s = plan.summary
    doc.heading("Sources", 13)
    keys = sources_of(plan)
    rows = [["Key", "Reference"]] + [[k, c] for k, c in citations(keys, catalogue)]
    _table(doc, (40, 140), rows, 8)
    doc.para(
        f"Catalogue version {s.catalogue_version}. Emergency advice after "
        f"{', '.join(EMERGENCY_SOURCES)}. Equivalent doses are approximate and tables disagree "
        f"(used: {eq_key}).",
        8,
    )
