"""`plan` and `compare`: make a taper plan on the command line; show it as a table, JSON or CSV.

Thin adapter: options become a PlanRequest (benzotaper.cli.request), the core makes the plan,
and this module only renders it. Default market: ``us`` (the products sold in the United States).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from benzotaper.catalogue import Catalogue
from benzotaper.cli import plan_words
from benzotaper.cli.app import app, console, handle_errors, print_json
from benzotaper.cli.home import with_home_options
from benzotaper.cli.person import with_person_options
from benzotaper.cli.request import (
    build_request,
    parse_custom,
    parse_date,
    parse_hold,
    regimen_from_data,
    takes,
)
from benzotaper.errors import GuardrailError, InputError
from benzotaper.knowledge import default_knowledge
from benzotaper.planning.custom import ScheduleError
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import Administration, Plan

Format = Literal["table", "json", "csv"]

TakeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--take",
        help="A dose you take now: 'DRUG DOSE at HH:MM', e.g. 'clonazepam 0.5 mg at 08:00'. "
        "Repeat for every dose-time and drug.",
    ),
]
RegimenOpt = Annotated[
    Path | None,
    typer.Option(
        "--regimen",
        help='JSON file: [{"drug": "clonazepam", "mg": 0.5, "time": "08:00"}, ...] or a list of '
        "--take strings.",
    ),
]
MarketOpt = Annotated[
    str, typer.Option("--market", help="Products of which market: us (default) or uk.")
]
LiquidOpt = Annotated[bool, typer.Option("--liquid", help="Oral solutions may be used.")]
CompoundedOpt = Annotated[
    bool, typer.Option("--compounded", help="Compounded capsules may be used.")
]
SourceOpt = Annotated[
    str | None, typer.Option("--source", help="Equivalence table (source key) for DE.")
]
TailOpt = Annotated[
    str,
    typer.Option(
        "--tail",
        help="How to make the small doses at the end when your products cannot: auto (default: "
        "the first that works of nights, liquid, diazepam, compounded), or one of nights "
        "(medication-free nights, hypnotics taken at night), liquid (the drug's licensed oral "
        "liquid), diazepam (switch the tail to diazepam), compounded (a compounding pharmacy), "
        "maintain (keep the lowest dose reached and review), or home-liquid / scale (made at "
        "home: the same as --home-liquid / --scale).",
    ),
]
NoTailOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--no-tail",
        help="A tail route you or your prescriber do not want (repeatable): nights, liquid, "
        "diazepam or compounded. With every route off, the plan ends by maintaining the lowest "
        "dose reached, for review.",
    ),
]


def read_regimen(
    take: list[str] | None, regimen: Path | None, catalogue: Catalogue
) -> list[Administration]:
    out = takes(take or [], catalogue)
    if regimen is not None:
        try:
            data = json.loads(regimen.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"Cannot read {regimen}: {exc.strerror}.") from None
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{regimen} is not valid JSON: {exc.msg} (line {exc.lineno})."
            ) from None
        out += regimen_from_data(data, catalogue, str(regimen))
    return out


@app.command("plan")
@handle_errors
@with_person_options
@with_home_options
def plan_cmd(
    take: TakeOpt = None,
    regimen: RegimenOpt = None,
    strategy: Annotated[
        str,
        typer.Option(
            "--strategy", help="percent (default), linear, ashton-bands, hyperbolic or custom."
        ),
    ] = "percent",
    pace: Annotated[
        str | None,
        typer.Option("--pace", help="slow, moderate or fast (default: from the risk assessment)."),
    ] = None,
    percent: Annotated[
        float | None, typer.Option("--percent", help="Cut this % of the current dose per step.")
    ] = None,
    every: Annotated[int | None, typer.Option("--every", help="Days between cuts.")] = None,
    step_mg: Annotated[
        float | None, typer.Option("--step-mg", help="linear: mg cut per step.")
    ] = None,
    market: MarketOpt = "us",
    liquid: LiquidOpt = False,
    compounded: CompoundedOpt = False,
    start: Annotated[
        str | None, typer.Option("--start", help="First day, YYYY-MM-DD (default: today).")
    ] = None,
    hold: Annotated[
        list[str] | None,
        typer.Option("--hold", help="Hold the dose: DATE:DAYS, e.g. 2027-01-15:14. Repeatable."),
    ] = None,
    step: Annotated[
        list[str] | None,
        typer.Option(
            "--step",
            help="custom: 'DATE DRUG DAILY-DOSE', e.g. '2027-01-18 diazepam 9 mg'. Repeatable.",
        ),
    ] = None,
    override_reason: Annotated[
        str | None,
        typer.Option("--override-reason", help="Why the guideline maximum rate may be exceeded."),
    ] = None,
    override_max_percent: Annotated[
        float | None,
        typer.Option("--override-max-percent", help="New maximum % per 14 days (with a reason)."),
    ] = None,
    crossover: Annotated[
        str | None,
        typer.Option("--crossover", help="Switch to this long-acting drug first, e.g. diazepam."),
    ] = None,
    no_final_slow: Annotated[
        bool, typer.Option("--no-final-slow", help="No slower final section near the end.")
    ] = False,
    dose_time_rule: Annotated[
        str | None,
        typer.Option(
            "--cut-order",
            help="Which dose-time is cut first: daytime-first (the default for long-acting "
            "drugs), night-first, largest-first, or across (every dose-time together; the "
            "default for short-acting drugs taken several times a day).",
        ),
    ] = None,
    tail: TailOpt = "auto",
    no_tail: NoTailOpt = None,
    source: SourceOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    simulate: Annotated[
        bool,
        typer.Option(
            "--simulate",
            help="Also show each step's simulated effect: swing between doses, size of each cut "
            "in diazepam equivalent and estimated occupancy, days to settle. With --format "
            'json the output becomes {"plan": ..., "simulation": ...}.',
        ),
    ] = False,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Also write a chart of the plan (.svg or .png)."),
    ] = None,
    save: Annotated[
        bool, typer.Option("--save", help="Keep it in your journal as the active plan.")
    ] = False,
    reason: Annotated[
        str, typer.Option("--reason", help="With --save: why this plan (kept with it).")
    ] = "",
    person: dict[str, Any] | None = None,
    home: dict[str, Any] | None = None,
) -> None:
    """Make a taper plan from the doses you take now. Agree it with your prescriber first."""
    output = _format(fmt)
    knowledge = default_knowledge()
    cat = knowledge.catalogue
    if (override_reason is None) != (override_max_percent is None):
        raise InputError("An override needs both --override-reason and --override-max-percent.")
    request = build_request(
        read_regimen(take, regimen, cat),
        person or {},
        {
            "strategy": strategy,
            "pace": pace,
            "percent": percent,
            "every_days": every,
            "step_mg": step_mg,
            "market": market,
            "liquid": liquid,
            "compounded": compounded,
            "start": parse_date(start, "start date") if start else None,
            "holds": [parse_hold(h) for h in hold or []],
            "custom_steps": [parse_custom(t, cat) for t in step or []],
            "override": (
                {"reason": override_reason, "max_percent_per_14_days": override_max_percent}
                if override_reason is not None
                else None
            ),
            "crossover": crossover,
            "final_slow_section": not no_final_slow,
            "dose_time_rule": dose_time_rule,
            "tail": tail,
            "tail_off": no_tail or [],
            **(home or {}),
            "source": source,
        },
    )
    if request.preferences.start is not None:
        from benzotaper.dates import check_plan_start

        check_plan_start(request.preferences.start, dt.date.today(), "--start date")
    try:
        plan = make_plan(request, knowledge, today=dt.date.today())
    except ScheduleError as exc:
        way = plan_words.flags(exc.preference)
        raise GuardrailError(exc.message + (f" ({way})" if way else "")) from None
    if simulate or chart is not None:
        from benzotaper.cli import simulate as simulate_cli  # numpy: only when asked for
    if simulate and output == "csv":
        raise InputError("--simulate works with --format table or json, not csv.")
    if chart is not None:
        simulate_cli.chart_format(chart)  # refuse a bad file name before any work
    if simulate and output == "json":
        print_json(
            {
                "plan": plan.model_dump(mode="json", by_alias=True),
                "simulation": simulate_cli.step_metrics_json(plan, cat),
            }
        )
    else:
        render(plan, output, cat)
        if simulate:
            simulate_cli.print_step_metrics(plan, cat)
    if chart is not None:
        from benzotaper.charts import plan_chart

        data = plan_chart(plan, cat, fmt=simulate_cli.chart_format(chart))  # type: ignore[arg-type]
        simulate_cli.write_chart(chart, data, quiet=output != "table")
    if save:
        from benzotaper.cli.journal import save_plan

        save_plan(plan, reason)


def _format(fmt: str) -> Format:
    if fmt not in ("table", "json", "csv"):
        raise InputError(f"Unknown --format {fmt!r}: use table, json or csv.")
    return fmt  # type: ignore[return-value]


def render(plan: Plan, fmt: Format, catalogue: Catalogue) -> None:
    if fmt == "json":
        print_json(plan)
    elif fmt == "csv":
        write_csv(plan)
    else:
        print_table(plan, catalogue)


#: Width of an ISO date: the date column never gets narrower than this.
DATE_WIDTH = 10

CSV_FIELDS = [
    "step",
    "start",
    "end",
    "days",
    "phase",
    "time",
    "drug",
    "mg",
    "pieces",
    "daily_mg",
    "diazepam_equivalent_mg",
    "change_percent",
    "note",
    "cuts",
    "taken_on",
]


def write_csv(plan: Plan) -> None:
    """One row per dose per step; the disclaimer is the last row (plain CSV, no comments)."""
    from benzotaper.exports.tables import csv_row

    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for s in plan.steps:
        for d in s.doses:
            w.writerow(
                csv_row(
                    [
                        s.index,
                        s.start.isoformat(),
                        s.end.isoformat(),
                        s.days,
                        s.phase,
                        d.time,
                        d.drug,
                        f"{d.mg:g}",
                        " + ".join(p.text for p in d.make_up),
                        f"{s.daily_mg.get(d.drug, 0.0):g}",
                        f"{s.diazepam_equivalent_mg:g}",
                        "" if s.change_percent is None else f"{s.change_percent:g}",
                        s.note or "",
                        " ".join(s.cuts),
                        plan_words.weekdays(s, d),
                    ]
                )
            )
    w.writerow(["disclaimer", plan.disclaimer] + [""] * (len(CSV_FIELDS) - 2))


def print_table(plan: Plan, catalogue: Catalogue) -> None:
    """The plan as a Rich table. Dates are never cut short (a person must read them): the date
    column does not wrap and keeps its width; the drug columns give way (and fold) instead."""
    slots = sorted({(d.drug, d.time) for s in plan.steps for d in s.doses}, key=lambda x: x[1])
    names = {d: catalogue.drugs[d].name for d, _ in slots}
    several = len({d for d, _ in slots}) > 1
    table = Table(title="Taper plan", show_lines=True)
    table.add_column("#", no_wrap=True)
    table.add_column("dates", no_wrap=True, min_width=DATE_WIDTH)
    table.add_column("phase", overflow="fold")
    for drug, time in slots:
        table.add_column(f"{names[drug]} {time}", overflow="fold")
    table.add_column("DE mg", overflow="fold")
    table.add_column("change", overflow="fold")
    for s in plan.steps:
        cells = []
        for drug, time in slots:
            doses = [d for d in s.doses if d.drug == drug and d.time == time and d.mg > 0]
            if not doses:
                cells.append("—")
            else:
                cells.append(
                    "\n".join(
                        f"[bold]{plan_words.dose_text(s, d)}[/]\n[dim]"
                        + "\n".join(p.text for p in d.make_up)
                        + "[/]"
                        for d in doses
                    )
                )
        change = "" if s.change_percent is None else f"{s.change_percent:+.1f}%"
        phase: str = s.phase
        if several and s.cuts and s.phase not in ("crossover", "stop"):
            phase += "\n[dim]cuts " + ", ".join(names.get(d, d) for d in s.cuts) + "[/]"
        table.add_row(
            str(s.index),
            f"{s.start.isoformat()}\n{s.end.isoformat()}\n{s.days} days",
            phase,
            *cells,
            f"{s.diazepam_equivalent_mg:g}",
            change,
        )
    console.print(table)
    sm = plan.summary
    console.print(
        f"{sm.strategy} · pace {sm.pace} · {sm.weeks:g} weeks · {sm.steps} steps · market "
        f"{sm.market} · DE by {sm.equivalence_source} · start "
        f"{sm.starting_diazepam_equivalent_mg:g} mg DE · risk {plan.risk.level}",
        highlight=False,
    )
    risk = plan.risk
    if risk.dose_band_sources:  # the band is judged in the guideline's own units
        console.print(
            f"dose band {risk.dose_band}: {risk.dose_band_diazepam_equivalent_mg:g} mg DE by "
            f"{', '.join(risk.dose_band_sources)}",
            highlight=False,
        )
    for w in plan.warnings:
        colour = {"danger": "red", "caution": "yellow", "info": "cyan"}[w.severity]
        src = f" [dim]({', '.join(w.sources)})[/]" if w.sources else ""
        way = plan_words.flags(w.preference, plan.request.preferences)
        how = f" [dim](option: {way})[/]" if way and not w.code.startswith("tail-") else ""
        console.print(f"[{colour}]{w.severity.upper()}[/] {w.message}{how}{src}", highlight=False)
    for line in plan_words.route_lines(plan):
        console.print(f"[magenta]ROUTE[/] {line}", highlight=False)
    for line in plan_words.home_lines(plan):
        console.print(f"[magenta]MADE AT HOME[/] {line}", highlight=False)
    console.print(f"[bold yellow]{plan.disclaimer}[/]")
