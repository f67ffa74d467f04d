"""`simulate` and `chart`: what a regimen does to the level in the body, as a table, JSON or chart.

Thin adapter over ``benzotaper.pk`` and ``benzotaper.charts``: it reads the options, supplies
today's date (the core never reads a clock) and writes the chart file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from benzotaper.catalogue import Catalogue, default_catalogue
from benzotaper.cli.app import app, console, handle_errors, print_json, rich_table
from benzotaper.cli.request import takes
from benzotaper.errors import InputError, RegimenError
from benzotaper.pk import DISCLAIMER, UNITS_NOTE, Context, Simulation, simulate_regimen
from benzotaper.pk.metrics import (
    SteadyState,
    days_to_settle,
    steady_state,
    step_metrics,
)
from benzotaper.pk.simulate import resolve_doses
from benzotaper.planning.models import Administration, Plan

TakeOpt = Annotated[
    list[str],
    typer.Option(
        "--take",
        help="A dose taken every day: 'DRUG DOSE at HH:MM', e.g. 'diazepam 5 mg at 08:00'. "
        "Repeat for every dose-time and drug.",
    ),
]
DaysOpt = Annotated[int, typer.Option("--days", min=1, max=730, help="Days to simulate.")]
AgeOpt = Annotated[
    int | None,
    typer.Option("--age", min=12, max=120, help="Age in years (65+: older-adult half-lives)."),
]
SourceOpt = Annotated[
    str | None, typer.Option("--source", help="Equivalence table (source key) for DE.")
]
SteadyOpt = Annotated[
    bool,
    typer.Option("--steady", help="Start already at steady state (taken for a long time)."),
]
StartOpt = Annotated[str | None, typer.Option("--start", help="First day, YYYY-MM-DD.")]


def parse_takes(texts: list[str], catalogue: Catalogue) -> list[Administration]:
    """The planner's --take parser: the same words and the same refusals as `plan`."""
    if not texts:
        raise RegimenError("Give at least one --take, e.g. 'diazepam 5 mg at 08:00'.")
    return takes(texts, catalogue)


def _start(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    from benzotaper.dates import in_calendar

    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"Cannot read the date {text!r}: write it as YYYY-MM-DD.") from None
    return in_calendar(day, "start date")


def _daily_rows(sim: Simulation) -> list[dict[str, Any]]:
    per_day = round(24 / sim.dt_h)
    rows = []
    for day in range(int(sim.days)):
        part = slice(day * per_day, (day + 1) * per_day)
        act, occ = sim.activity_de_mg[part], sim.occupancy_percent[part]
        rows.append(
            {
                "date": (sim.start + dt.timedelta(days=day)).isoformat(),
                "scheduled_de_mg": round(float(sim.scheduled_de_mg[part][0]), 4),
                "level_de_mg": {
                    "min": round(float(act.min()), 4),
                    "mean": round(float(act.mean()), 4),
                    "max": round(float(act.max()), 4),
                },
                "occupancy_percent": {
                    "min": round(float(occ.min()), 3),
                    "mean": round(float(occ.mean()), 3),
                    "max": round(float(occ.max()), 3),
                },
                "levels_mean_relative": {
                    k: round(float(np.mean(v[part])), 6) for k, v in sim.levels.items()
                },
            }
        )
    return rows


def _print_parameters(sim: Simulation) -> None:
    table = rich_table("drug", "parameter", "value", "source", "", title="Values used")
    for p in sim.parameters:
        table.add_row(
            p.drug,
            p.name,
            f"{p.value:.4g} {p.unit}",
            p.source,
            "assumption" if p.assumption else "",
        )
    console.print(table)


def _print_steady(state: SteadyState) -> None:
    console.print(
        f"At steady state: level {state.trough_de_mg:.2f}–{state.peak_de_mg:.2f} mg/day DE "
        f"(mean {state.mean_de_mg:.2f}; swing {state.fluctuation_percent:.1f}% of the mean); "
        f"estimated occupancy {state.trough_occupancy_percent:.1f}–"
        f"{state.peak_occupancy_percent:.1f}%",
        highlight=False,
    )


@app.command("simulate")
@handle_errors
def simulate_cmd(
    take: TakeOpt,
    days: DaysOpt = 14,
    age: AgeOpt = None,
    source: SourceOpt = None,
    steady: SteadyOpt = False,
    start: StartOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Simulate a regimen taken every day: levels, diazepam-equivalent activity, occupancy."""
    catalogue = default_catalogue()
    regimen = parse_takes(take, catalogue)
    ctx = Context.default(catalogue, source=source, age=age)
    sim = simulate_regimen(ctx, regimen, days=days, start=_start(start), steady=steady)
    doses = resolve_doses(catalogue, regimen)
    state = steady_state(ctx, doses)
    settle = None if steady else days_to_settle(ctx, (), doses)
    rows = _daily_rows(sim)
    if as_json:
        print_json(
            {
                "regimen": [a.model_dump() for a in regimen],
                "start": sim.start.isoformat(),
                "days": days,
                "age": age,
                "started_at_steady_state": steady,
                "equivalence_source": sim.equivalence_source,
                "time_step_minutes": sim.dt_h * 60,
                "steady_state": state.model_dump(),
                "days_to_90_percent_of_steady_state": settle,
                "daily": rows,
                "parameters": [p.as_json() for p in sim.parameters],
                "occupancy_model": sim.occupancy_label,
                "units": UNITS_NOTE,
                "notes": list(sim.notes[1:]),
                "disclaimer": DISCLAIMER,
            }
        )
        return
    console.print(
        f"[bold]{state.de_dose_mg:g} mg/day diazepam equivalent[/] "
        f"(source {sim.equivalence_source}), {days} days from {sim.start}"
        + (", already at steady state" if steady else ", starting from none"),
        highlight=False,
    )
    _print_steady(state)
    if settle is not None:
        console.print(f"90% of steady state reached after {settle:.1f} days.", highlight=False)
    table = rich_table("date", "dose (DE mg)", "level min–max", "mean", "occupancy %")
    for row in rows if days <= 60 else rows[::7]:
        lvl, occ = row["level_de_mg"], row["occupancy_percent"]
        table.add_row(
            row["date"],
            f"{row['scheduled_de_mg']:g}",
            f"{lvl['min']:.2f}–{lvl['max']:.2f}",
            f"{lvl['mean']:.2f}",
            f"{occ['mean']:.1f}",
        )
    console.print(table)
    _print_parameters(sim)
    for note in sim.notes:
        console.print(f"[dim]{note}[/]", highlight=False)
    console.print(f"[dim]{sim.occupancy_label}[/]", highlight=False)
    console.print(f"[yellow]{DISCLAIMER}[/]")


def chart_format(path: Path) -> str:
    """'svg' or 'png' from the file name, or a clear error."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png"):
        raise InputError(f"Write the chart to a .svg or .png file, not {path.name!r}.")
    return fmt


@app.command("chart")
@handle_errors
def chart_cmd(
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write: .svg or .png.")],
    take: Annotated[
        list[str] | None,
        typer.Option(
            "--take",
            help="A dose taken every day: 'DRUG DOSE at HH:MM'. Repeat for every dose-time.",
        ),
    ] = None,
    plan_file: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="A plan saved with `benzotaper plan ... --format json`: chart the whole plan.",
        ),
    ] = None,
    crossover: Annotated[
        bool,
        typer.Option("--crossover", help="With --plan: the swing before and after its crossover."),
    ] = False,
    days: DaysOpt = 14,
    versus: Annotated[
        list[str] | None,
        typer.Option(
            "--versus",
            help="Compare the swing between doses with this regimen (same form as --take), "
            "e.g. before and after a crossover.",
        ),
    ] = None,
    size: Annotated[str, typer.Option("--size", help="phone (default) or print.")] = "phone",
    age: AgeOpt = None,
    source: SourceOpt = None,
    steady: SteadyOpt = False,
    start: StartOpt = None,
) -> None:
    """Chart a regimen's simulated level and occupancy, or compare two regimens' swings."""
    from benzotaper import charts

    fmt = chart_format(output)
    if size not in charts.PRESETS:
        raise InputError(f"Unknown chart size {size!r}: use phone or print.")
    catalogue = default_catalogue()
    if plan_file is not None:
        if take or versus:
            raise InputError("Give either --plan or --take, not both.")
        plan = read_plan(plan_file)
        if crossover:
            data = charts.crossover_chart(plan, catalogue, fmt=fmt, size=size)  # type: ignore[arg-type]
        else:
            data = charts.plan_chart(plan, catalogue, fmt=fmt, size=size)  # type: ignore[arg-type]
        write_chart(output, data)
        return
    if not take:
        raise InputError("Give the doses with --take (or a saved plan with --plan).")
    regimen = parse_takes(take, catalogue)
    ctx = Context.default(catalogue, source=source, age=age)
    if versus:
        other = parse_takes(versus, catalogue)
        data = charts.fluctuation_chart(
            ctx,
            resolve_doses(catalogue, regimen),
            resolve_doses(catalogue, other),
            labels=(_label(regimen), _label(other)),
            fmt=fmt,  # type: ignore[arg-type]
            size=size,  # type: ignore[arg-type]
        )
    else:
        sim = simulate_regimen(ctx, regimen, days=days, start=_start(start), steady=steady)
        data = charts.simulation_chart(
            sim,
            title=_label(regimen),
            fmt=fmt,  # type: ignore[arg-type]
            size=size,  # type: ignore[arg-type]
        )
    write_chart(output, data)


def write_chart(output: Path, data: bytes, *, quiet: bool = False) -> None:
    """Write the file; ``quiet`` keeps stdout clean when it carries JSON or CSV."""
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise InputError(f"Cannot write {output}: {exc.strerror}.") from None
    if not quiet:
        console.print(f"Wrote {output} ({len(data)} bytes).", highlight=False)
        console.print(f"[yellow]{DISCLAIMER}[/]")


def read_plan(path: Path) -> Plan:
    """A plan saved as JSON (``plan --format json``), or a clear error."""
    from pydantic import ValidationError

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror}.") from None
    try:
        return Plan.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise InputError(
            f"{path} is not a saved benzotaper plan: {where}: {first['msg']} "
            f"({exc.error_count()} problem(s))."
        ) from None


# ------------------------------------------------------------------ `plan ... --simulate`


def step_metrics_json(plan: Plan, catalogue: Catalogue) -> dict[str, Any]:
    """What `plan --simulate --format json` adds beside the plan."""
    ctx = Context.for_plan(catalogue, plan)
    metrics = step_metrics(ctx, plan)
    return {
        "step_metrics": [m.model_dump(mode="json") for m in metrics],
        "parameters": [
            p.as_json()
            for d in sorted(_plan_drugs(plan, catalogue))
            for p in ctx.model(d).parameters
        ],
        "occupancy_model": ctx.occupancy.label,
        "units": UNITS_NOTE,
        "disclaimer": DISCLAIMER,
    }


def _plan_drugs(plan: Plan, catalogue: Catalogue) -> set[str]:
    names = {d.drug for s in plan.steps for d in s.doses} | {a.drug for a in plan.request.regimen}
    return {catalogue.drug(n).id for n in names}


def _num(x: float | None, digits: int) -> str:
    if x is None:
        return "—"
    text = f"{x:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def print_step_metrics(plan: Plan, catalogue: Catalogue) -> None:
    """The per-step table `plan --simulate` prints under the plan."""
    ctx = Context.for_plan(catalogue, plan)
    metrics = step_metrics(ctx, plan)
    table = rich_table(
        "#",
        "start",
        "DE mg",
        "swing %",
        "occ. %",
        "cut DE %",
        "cut occ.",
        "settled (d)",
        title="Simulated effect of each step (at steady state)",
    )
    for m in metrics:
        st = m.steady
        settle = "—" if m.days_to_90_percent is None else f"{m.days_to_90_percent:.1f}"
        if m.settles_within_step is False:
            settle += " [red](after the next cut)[/]"
        table.add_row(
            str(m.index),
            m.start.isoformat(),
            "0" if st is None else f"{st.de_dose_mg:g}",
            "—" if st is None else f"{st.fluctuation_percent:.1f}",
            "—" if st is None else f"{st.mean_occupancy_percent:.1f}",
            _num(m.de_drop_percent, 1),
            _num(m.occupancy_drop_points, 2),
            settle,
        )
    console.print(table)
    console.print(
        "[dim]swing: peak-to-trough of the level between doses, % of its mean; occ.: mean "
        "estimated occupancy. Cuts compare each step's steady state with the one before (the "
        "first with the dose you take now): DE in %, occupancy in percentage points. Settled: "
        "days until the 24-hour average has made 90% of the change.[/]"
    )
    console.print(f"[dim]{UNITS_NOTE}[/]", highlight=False)
    console.print(f"[dim]{ctx.occupancy.label}[/]", highlight=False)
    console.print(f"[yellow]{DISCLAIMER}[/]")


def _label(regimen: list[Administration]) -> str:
    return ", ".join(f"{a.drug} {a.mg:g} mg at {a.time}" for a in regimen)
