"""Charts of a simulation as SVG or PNG bytes, for the CLI, the web app and the PDF export.

Deterministic (fixed SVG hash salt, no dates in metadata), colour-blind safe (Okabe–Ito colours
plus distinct line styles), labelled axes with units, and two size presets: ``phone`` (narrow,
tall, large type) and ``print`` (A4/letter width). Uses matplotlib's object API with the Agg
canvas, never pyplot, so it is safe in a web server.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.transforms import Bbox

from benzotaper.catalogue.catalogue import Catalogue
from benzotaper.errors import InputError
from benzotaper.pk.linear import FloatArray
from benzotaper.pk.metrics import steady_cycle
from benzotaper.pk.simulate import Context, Simulation, TimedDose, resolve_doses, simulate_plan
from benzotaper.planning.models import Plan

Fmt = Literal["svg", "png"]
Size = Literal["phone", "print"]

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
PRESCRIBER = "A model, not a measurement. Agree every change with your prescriber."


@dataclass(frozen=True)
class Preset:
    width_in: float
    height_in: float
    font_pt: float
    dpi: int
    wrap: int  # characters per footnote line


PRESETS: dict[str, Preset] = {
    "phone": Preset(4.0, 6.4, 9.0, 200, 62),
    "print": Preset(7.5, 5.2, 9.0, 300, 120),
}

_RC: Any = {
    "svg.hashsalt": "benzotaper",  # stable ids: the same chart gives the same bytes
    "svg.fonttype": "none",  # text stays text: searchable, accessible, small
    "font.family": "DejaVu Sans",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
}


class SteadyLayout(ConstrainedLayoutEngine):
    """Constrained layout whose axes positions are rounded to 1e-9 of the figure.

    kiwisolver's solution differs in the last bit from call to call in one process (about one
    chart in six), which moved a grid line by 0.000001 pt and so changed the bytes of the same
    chart. Rounded positions give the same bytes every time; 1e-9 of the figure is far below a
    pixel at any size.
    """

    def execute(self, fig: Any) -> Any:
        result = super().execute(fig)
        for ax in fig.axes:
            ax.set_position(Bbox(np.round(ax.get_position().get_points(), 9)))
            ax.set_in_layout(True)  # set_position takes the axes out of the layout; keep it in
        return result


def _figure(size: Size, rows: int) -> tuple[Figure, list[Axes], Preset]:
    if size not in PRESETS:
        raise InputError(f"Unknown chart size {size!r}: use phone or print.")
    p = PRESETS[size]
    fig = Figure(figsize=(p.width_in, p.height_in), layout=SteadyLayout())
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    return fig, list(axes), p


def _save(fig: Figure, fmt: Fmt, preset: Preset) -> bytes:
    buf = io.BytesIO()
    if fmt == "svg":
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "benzotaper"})
        return _stable_clip_ids(buf.getvalue())
    elif fmt == "png":
        fig.savefig(buf, format="png", dpi=preset.dpi, metadata={"Software": "benzotaper"})
    else:
        raise InputError(f"Unknown chart format {fmt!r}: use svg or png.")
    return buf.getvalue()


def _stable_clip_ids(svg: bytes) -> bytes:
    """Renumber clip-path ids in order of appearance.

    matplotlib hashes some clip paths together with ``id()`` of a Python object, so even with
    ``svg.hashsalt`` the ids (not the drawing) change from run to run.
    """
    names: dict[bytes, bytes] = {}

    def rename(match: re.Match[bytes]) -> bytes:
        new = names.setdefault(match[2], b"clip%d" % (len(names) + 1))
        return match[1] + new

    return re.sub(rb'(id="|url\(#)(p[0-9a-f]{10})\b', rename, svg)


def _footnote(fig: Figure, preset: Preset, lines: Sequence[str]) -> None:
    text = "\n".join(textwrap.fill(line, preset.wrap) for line in lines)
    fig.text(0.01, 0.0, text, fontsize=preset.font_pt - 2.5, va="bottom", ha="left", wrap=True)


def _reserve_footnote(fig: Figure, share: float) -> None:
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.set(rect=(0, share, 1, 1 - share))


def _daily(values: FloatArray, per_day: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    whole = values[: len(values) // per_day * per_day].reshape(-1, per_day)
    return whole.min(axis=1), whole.mean(axis=1), whole.max(axis=1)


def simulation_chart(
    sim: Simulation,
    *,
    title: str,
    fmt: Fmt = "svg",
    size: Size = "phone",
    cuts: Sequence[dt.date] = (),
) -> bytes:
    """Scheduled dose and simulated activity (DE mg/day) above estimated occupancy, over dates.

    Longer than three weeks: the daily range (band) and daily mean are drawn, so the file stays
    small and the fluctuation within each day is still visible.
    """
    with mpl.rc_context({**_RC, "font.size": PRESETS.get(size, PRESETS["phone"]).font_pt}):
        fig, (top, bottom), preset = _figure(size, 2)
        if sim.days > 21:
            sched_x, sched = _draw_daily_ranges(sim, top, bottom)
        else:
            sched_x, sched = _draw_every_sample(sim, top, bottom)
        top.step(
            sched_x,
            sched,
            where="post",
            color=OKABE_ITO["black"],
            lw=1.2,
            ls="--",
            label="Scheduled dose",
        )
        if cuts:
            at = [float(mdates.date2num(when)) for when in cuts]  # type: ignore[no-untyped-call]
            for ax in (top, bottom):  # one artist for all the cuts: cheap to lay out and draw
                ax.vlines(
                    at, 0, 1, transform=ax.get_xaxis_transform(), color="#999999", lw=0.6, ls=":"
                )
        _label_simulation_axes(top, bottom, preset, title, size)
        _footnote(
            fig,
            preset,
            [
                "Level: diazepam-equivalent activity of the drug and its active metabolites, "
                "scaled so its daily average at steady state equals the daily dose.",
                sim.occupancy_label,
                PRESCRIBER,
            ],
        )
        _reserve_footnote(fig, 0.13 if size == "phone" else 0.12)
        return _save(fig, fmt, preset)


def _origin(sim: Simulation) -> np.datetime64:
    return np.datetime64(dt.datetime.combine(sim.start, dt.time()), "m")


def _draw_daily_ranges(sim: Simulation, top: Axes, bottom: Axes) -> tuple[Any, FloatArray]:
    """Each day's range as a band and its mean as a line: a long plan drawn sample by sample
    would make a file of megabytes and hide the within-day swing in a solid smear.

    Returns where and what the scheduled dose is drawn (one value a day).
    """
    per_day = round(24 / sim.dt_h)
    days = _origin(sim) + np.arange(len(sim.t_h) // per_day) * np.timedelta64(1, "D")
    x = days + np.timedelta64(12, "h")
    lo, mean, hi = _daily(sim.activity_de_mg, per_day)
    top.fill_between(
        x,
        lo,
        hi,
        color=OKABE_ITO["sky"],
        alpha=0.45,
        lw=0,
        label="Simulated level: daily range",
    )
    top.plot(
        x,
        mean,
        color=OKABE_ITO["blue"],
        lw=1.6,
        ls="-",
        label="Simulated level: daily mean",
    )
    olo, omean, ohi = _daily(sim.occupancy_percent, per_day)
    bottom.fill_between(x, olo, ohi, color=OKABE_ITO["orange"], alpha=0.35, lw=0)
    bottom.plot(
        x,
        omean,
        color=OKABE_ITO["vermillion"],
        lw=1.6,
        ls="-",
        label="Estimated occupancy: daily mean",
    )
    return days, sim.scheduled_de_mg[::per_day][: len(days)]


def _draw_every_sample(sim: Simulation, top: Axes, bottom: Axes) -> tuple[Any, FloatArray]:
    """Up to three weeks, every sample: the rise after each dose and the trough before the next
    are what a person recognises. Returns where and what the scheduled dose is drawn."""
    x = _origin(sim) + (sim.t_h * 60).astype("int64") * np.timedelta64(1, "m")
    top.plot(
        x,
        sim.activity_de_mg,
        color=OKABE_ITO["blue"],
        lw=1.4,
        ls="-",
        label="Simulated level",
    )
    bottom.plot(
        x,
        sim.occupancy_percent,
        color=OKABE_ITO["vermillion"],
        lw=1.4,
        ls="-",
        label="Estimated occupancy",
    )
    return x, sim.scheduled_de_mg


def _label_simulation_axes(top: Axes, bottom: Axes, preset: Preset, title: str, size: Size) -> None:
    """Units on both axes, the title wrapped to the preset, and few enough date ticks for a
    phone screen."""
    top.set_ylabel("Diazepam equivalent\n(mg/day)")
    top.set_ylim(bottom=0)
    fig = top.get_figure(root=True)
    assert fig is not None
    # The title above the legends, which sit above their axes: never over a curve, whatever
    # the plan's shape (a flat line at the top when maintaining, a fall to zero at the end).
    # matplotlib's loc="best" searched every position against every vertex: ~a third of the
    # chart's cost, and it could still land on a line.
    fig.suptitle(
        textwrap.fill(title, preset.wrap - 18), x=0.01, ha="left", fontsize=preset.font_pt + 1
    )
    _legend_above(top, preset, columns=1 if size == "phone" else 3)
    bottom.set_ylabel("Estimated receptor\noccupancy (%)")
    bottom.set_ylim(0, 100)
    bottom.set_xlabel("Date")
    _legend_above(bottom, preset, columns=1)
    locator = mdates.AutoDateLocator(  # type: ignore[no-untyped-call]
        minticks=3, maxticks=6 if size == "phone" else 10
    )
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(
        mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
    )


def _legend_above(ax: Axes, preset: Preset, columns: int) -> None:
    """The axes' legend in a band just above its plotting area (the constrained layout makes
    room for it), left-aligned with the axes."""
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncols=columns,
        borderaxespad=0.2,
        fontsize=preset.font_pt - 1.5,
        frameon=False,
    )


def plan_chart(
    plan: Plan,
    catalogue: Catalogue,
    *,
    fmt: Fmt = "svg",
    size: Size = "phone",
    ctx: Context | None = None,
    sim: Simulation | None = None,
) -> bytes:
    """The whole plan: dose steps, simulated level and estimated occupancy over its dates."""
    context = ctx or Context.for_plan(catalogue, plan)
    simulation = sim or simulate_plan(context, plan)
    drugs = sorted({d.drug for s in plan.steps for d in s.doses})
    span = f"{plan.summary.start:%d %b %Y}–{plan.summary.end:%d %b %Y}"
    title = f"Taper plan: {', '.join(drugs)} ({span})"
    cuts = [s.start for s in plan.steps[1:]]
    return simulation_chart(simulation, title=title, fmt=fmt, size=size, cuts=cuts)


def fluctuation_chart(
    ctx: Context,
    before: Sequence[TimedDose],
    after: Sequence[TimedDose],
    *,
    labels: tuple[str, str] = ("Before", "After"),
    fmt: Fmt = "svg",
    size: Size = "phone",
) -> bytes:
    """One steady-state day of each regimen: how far the level swings between doses."""
    if not before or not after:
        raise InputError("Both regimens need at least one dose to compare.")
    with mpl.rc_context({**_RC, "font.size": PRESETS.get(size, PRESETS["phone"]).font_pt}):
        fig, (top, bottom), preset = _figure(size, 2)
        styles = [(OKABE_ITO["vermillion"], "-"), (OKABE_ITO["blue"], "--")]
        for doses, label, (colour, ls) in zip((before, after), labels, styles, strict=True):
            activity, occupancy = steady_cycle(ctx, doses)
            hours = np.arange(len(activity)) * 24 / len(activity)
            hours = np.r_[hours, 24.0]
            activity, occupancy = np.r_[activity, activity[0]], np.r_[occupancy, occupancy[0]]
            swing = (activity.max() - activity.min()) / activity[:-1].mean() * 100
            top.plot(
                hours,
                activity,
                color=colour,
                ls=ls,
                lw=1.8,
                label=f"{label}: swing {swing:.0f}% of the mean",
            )
            bottom.plot(
                hours,
                occupancy,
                color=colour,
                ls=ls,
                lw=1.8,
                label=f"{label}: {occupancy.min():.1f}–{occupancy.max():.1f}%",
            )
            for d in doses:
                top.plot([d.minute / 60], [0], marker="^", color=colour, ms=6, clip_on=False)
        top.set_title("Between-dose swing at steady state", loc="left", fontsize=preset.font_pt + 1)
        top.set_ylabel("Diazepam equivalent\n(mg/day)")
        top.set_ylim(bottom=0)
        top.legend(loc="lower right", fontsize=preset.font_pt - 1.5, frameon=False)
        bottom.set_ylabel("Estimated receptor\noccupancy (%)")
        bottom.set_xlabel("Time of day (h); ▲ = dose")
        bottom.set_xlim(0, 24)
        bottom.set_xticks(range(0, 25, 4 if size == "phone" else 2))
        bottom.legend(loc="lower right", fontsize=preset.font_pt - 1.5, frameon=False)
        _footnote(fig, preset, [ctx.occupancy.label, PRESCRIBER])
        lo, hi = bottom.get_ylim()
        bottom.set_ylim(lo - (hi - lo) * 0.6, hi)  # room for the legend below the curves
        _reserve_footnote(fig, 0.1 if size == "phone" else 0.07)
        return _save(fig, fmt, preset)


def crossover_chart(
    plan: Plan, catalogue: Catalogue, *, fmt: Fmt = "svg", size: Size = "phone"
) -> bytes:
    """Fluctuation before the plan's crossover (its starting regimen) and after it."""
    ctx = Context.for_plan(catalogue, plan)
    phases = [s.phase for s in plan.steps]
    if "crossover" not in phases:
        raise InputError("This plan has no crossover to compare.")
    last_cross = max(i for i, p in enumerate(phases) if p == "crossover")
    after_step = next((s for s in plan.steps[last_cross + 1 :] if s.doses), None)
    if after_step is None:
        raise InputError("The plan has no step after its crossover.")
    before = resolve_doses(catalogue, plan.request.regimen)
    after = tuple(
        TimedDose(int(d.time[:2]) * 60 + int(d.time[3:]), catalogue.drug(d.drug).id, d.mg)
        for d in after_step.doses
        if d.mg > 0
    )
    names = (
        ", ".join(sorted({d.drug for d in before})),
        ", ".join(sorted({d.drug for d in after})),
    )
    return fluctuation_chart(
        ctx,
        before,
        after,
        labels=(f"Before ({names[0]})", f"After ({names[1]})"),
        fmt=fmt,
        size=size,
    )
