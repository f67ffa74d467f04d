"""`plan` and `compare`: make a taper plan on the command line; show it as a table, JSON or CSV.

Thin adapter: options become a PlanRequest (benzotaper.planning.request), the core makes the plan,
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
from benzotaper.cli.app import app, console, handle_errors, print_json
from benzotaper.cli.person import with_person_options
from benzotaper.errors import AbruptStopError, InputError, RegimenError
from benzotaper.knowledge import Knowledge, default_knowledge
from benzotaper.planning import stopguard
from benzotaper.planning.engine import make_plan
from benzotaper.planning.metrics import metrics
from benzotaper.planning.models import Administration, Plan, PlanRequest
from benzotaper.planning.request import (
    build_request,
    parse_custom,
    parse_date,
    parse_hold,
    regimen_from_data,
    takes,
)

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
        typer.Option("--cut-order", help="daytime-first (default), night-first or largest-first."),
    ] = None,
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
            "source": source,
        },
    )
    plan = make_plan(request, knowledge, today=dt.date.today())
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
            dose = next((d for d in s.doses if d.drug == drug and d.time == time), None)
            if dose is None or dose.mg <= 0:
                cells.append("—")
            else:
                pieces = "\n".join(p.text for p in dose.make_up)
                cells.append(f"[bold]{dose.mg:g} mg[/]\n[dim]{pieces}[/]")
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
        console.print(f"[{colour}]{w.severity.upper()}[/] {w.message}{src}", highlight=False)
    console.print(f"[bold yellow]{plan.disclaimer}[/]")


@app.command("compare")
@handle_errors
@with_person_options
def compare_cmd(
    take: TakeOpt = None,
    regimen: RegimenOpt = None,
    market: MarketOpt = "us",
    liquid: LiquidOpt = False,
    compounded: CompoundedOpt = False,
    source: SourceOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    person: dict[str, Any] | None = None,
) -> None:
    """Strategies and paces side by side, direct taper and crossover to diazepam first."""
    knowledge = default_knowledge()
    cat = knowledge.catalogue
    adms = read_regimen(take, regimen, cat)
    rows = compare(
        adms, person or {}, market, liquid, compounded, source, knowledge, dt.date.today()
    )
    if as_json:
        print_json(rows)
        return
    table = Table(
        "route",
        "strategy",
        "pace",
        "weeks",
        "steps",
        "largest step %",
        "largest %/14 d",
        "jump-off mg DE",
        "tablets",
        "liquid mL",
        title="Taper strategies compared",
    )
    for r in rows:
        if not r["possible"]:
            table.add_row(r["route"], r["strategy"], r["pace"], "[red]not possible[/]")
            continue
        table.add_row(
            r["route"],
            r["strategy"],
            r["pace"],
            f"{r['weeks']:g}",
            str(r["steps"]),
            f"{r['largest_step_percent']:g}",
            f"{r['largest_rate_percent_per_14_days']:g}",
            f"{r['jump_off_mg_de']:g}",
            f"{r['tablets'] + r['capsules']:g}",
            f"{r['liquid_ml']:g}",
        )
    console.print(table)
    console.print(
        "[dim]Largest step excludes the final stop, which is from the small jump-off dose.[/]"
    )
    for reason in dict.fromkeys(r["reason"] for r in rows if not r["possible"]):
        console.print(
            f"[red]not possible[/]: {reason}, with the products allowed. benzotaper never "
            "proposes stopping abruptly; `benzotaper plan` with the same doses lists the ways "
            "forward.",
            highlight=False,
        )
    console.print(f"[bold yellow]{Plan.model_fields['disclaimer'].default}[/]")


def compare(
    regimen: list[Administration],
    person: dict[str, Any],
    market: str,
    liquid: bool,
    compounded: bool,
    source: str | None,
    knowledge: Knowledge,
    today: dt.date,
) -> list[dict[str, Any]]:
    """Every strategy and pace, tapering directly and (when it makes sense) after switching to
    diazepam; a route the crossover module refuses (e.g. diazepam already) is left out."""
    catalogue = knowledge.catalogue
    rows: list[dict[str, Any]] = []
    routes: list[str | None] = [None]
    if any(catalogue.drug(a.drug).id != "diazepam" for a in regimen):
        routes.append("diazepam")  # "crossover first" beside "direct taper" (issue: crossover)
    for route in routes:
        for strategy in ("percent", "linear", "ashton-bands", "hyperbolic"):
            for pace in ("slow", "moderate", "fast"):
                prefs = {
                    "strategy": strategy,
                    "pace": pace,
                    "market": market,
                    "liquid": liquid,
                    "compounded": compounded,
                    "source": source,
                    "crossover": route,
                }
                request: PlanRequest = build_request(regimen, person, prefs)
                label = "direct taper" if route is None else f"crossover to {route}"
                try:
                    plan = make_plan(request, knowledge, today=today, explain=False)
                except AbruptStopError as exc:
                    rows.append(not_possible(label, strategy, pace, exc, catalogue))
                    continue
                except RegimenError:
                    if route is None:
                        raise
                    break  # this regimen cannot cross over (e.g. already long-acting)
                rows.append(
                    {
                        "route": label,
                        "strategy": strategy,
                        "pace": pace,
                        "possible": True,
                        **metrics(plan).model_dump(),
                    }
                )
    return rows


def not_possible(
    route: str, strategy: str, pace: str, exc: AbruptStopError, catalogue: Catalogue
) -> dict[str, Any]:
    """A compare row for a plan refused by the no-abrupt-stop guardrail."""
    reason = exc.message
    if isinstance(exc.stop, stopguard.AbruptStop):
        reason = stopguard.short_reason(exc.stop, catalogue.drugs[exc.stop.drug].name)
    return {
        "route": route,
        "strategy": strategy,
        "pace": pace,
        "possible": False,
        "reason": reason,
    }
