"""`plan` and `compare`: make a taper plan on the command line; show it as a table, JSON or CSV.

Thin adapter: options become a PlanRequest (benzotaper.planning.request), the core makes the plan,
and this module only renders it. Default market: ``us`` (the products sold in the United States).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from benzotaper.catalogue import Catalogue, default_catalogue
from benzotaper.cli.app import app, console, handle_errors, print_json
from benzotaper.errors import AbruptStopError, InputError, RegimenError
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
AgeOpt = Annotated[int | None, typer.Option("--age", help="Age in years.")]
YearsOpt = Annotated[float | None, typer.Option("--years", help="Years on the drug (0.5 = 6 mo).")]
DaysOpt = Annotated[int | None, typer.Option("--days-per-week", help="Days a week taken (1-7).")]
SeizuresOpt = Annotated[bool, typer.Option("--seizures", help="History of seizures.")]
AlcoholOpt = Annotated[bool, typer.Option("--alcohol", help="Alcohol use disorder or heavy use.")]
OpioidsOpt = Annotated[bool, typer.Option("--opioids", help="Also takes opioids.")]
PregnantOpt = Annotated[bool, typer.Option("--pregnant", help="Pregnant.")]
BreastfeedingOpt = Annotated[bool, typer.Option("--breastfeeding", help="Breastfeeding.")]
PsychiatricOpt = Annotated[
    bool,
    typer.Option("--psychiatric", help="A serious psychiatric illness (e.g. depression, PTSD)."),
]
BipolarOpt = Annotated[bool, typer.Option("--bipolar", help="Bipolar disorder.")]
AttemptsOpt = Annotated[
    int | None,
    typer.Option("--previous-attempts", help="How many earlier attempts to stop (0-50)."),
]
LiverOpt = Annotated[bool, typer.Option("--liver", help="Liver impairment.")]
ApnoeaOpt = Annotated[bool, typer.Option("--sleep-apnoea", "--sleep-apnea", help="Sleep apnoea.")]
FallsOpt = Annotated[bool, typer.Option("--falls", help="Falls in the past year.")]


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


#: Command parameter → PersonFactors field, for both `plan` and `compare`.
PERSON_FLAGS = {
    "age": "age",
    "years": "years_on_drug",
    "days_per_week": "days_per_week",
    "seizures": "seizures",
    "alcohol": "alcohol",
    "opioids": "opioids",
    "pregnant": "pregnant",
    "breastfeeding": "breastfeeding",
    "psychiatric": "psychiatric",
    "bipolar": "bipolar",
    "previous_attempts": "previous_attempts",
    "liver": "liver_impairment",
    "sleep_apnoea": "sleep_apnoea",
    "falls": "falls",
}


def person_options(params: Mapping[str, Any]) -> dict[str, Any]:
    """PersonFactors fields from a command's parameters (its ``locals()``)."""
    return {field: params[name] for name, field in PERSON_FLAGS.items()}


@app.command("plan")
@handle_errors
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
    age: AgeOpt = None,
    years: YearsOpt = None,
    days_per_week: DaysOpt = None,
    seizures: SeizuresOpt = False,
    alcohol: AlcoholOpt = False,
    opioids: OpioidsOpt = False,
    pregnant: PregnantOpt = False,
    breastfeeding: BreastfeedingOpt = False,
    psychiatric: PsychiatricOpt = False,
    bipolar: BipolarOpt = False,
    previous_attempts: AttemptsOpt = None,
    liver: LiverOpt = False,
    sleep_apnoea: ApnoeaOpt = False,
    falls: FallsOpt = False,
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
) -> None:
    """Make a taper plan from the doses you take now. Agree it with your prescriber first."""
    output = _format(fmt)
    cat = default_catalogue()
    if (override_reason is None) != (override_max_percent is None):
        raise InputError("An override needs both --override-reason and --override-max-percent.")
    request = build_request(
        read_regimen(take, regimen, cat),
        person_options(locals()),
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
    plan = make_plan(request, cat, today=dt.date.today())
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
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for s in plan.steps:
        for d in s.doses:
            w.writerow(
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
    for w in plan.warnings:
        colour = {"danger": "red", "caution": "yellow", "info": "cyan"}[w.severity]
        src = f" [dim]({', '.join(w.sources)})[/]" if w.sources else ""
        console.print(f"[{colour}]{w.severity.upper()}[/] {w.message}{src}", highlight=False)
    console.print(f"[bold yellow]{plan.disclaimer}[/]")


@app.command("compare")
@handle_errors
def compare_cmd(
    take: TakeOpt = None,
    regimen: RegimenOpt = None,
    market: MarketOpt = "us",
    liquid: LiquidOpt = False,
    compounded: CompoundedOpt = False,
    age: AgeOpt = None,
    years: YearsOpt = None,
    days_per_week: DaysOpt = None,
    seizures: SeizuresOpt = False,
    alcohol: AlcoholOpt = False,
    opioids: OpioidsOpt = False,
    pregnant: PregnantOpt = False,
    breastfeeding: BreastfeedingOpt = False,
    psychiatric: PsychiatricOpt = False,
    bipolar: BipolarOpt = False,
    previous_attempts: AttemptsOpt = None,
    liver: LiverOpt = False,
    sleep_apnoea: ApnoeaOpt = False,
    falls: FallsOpt = False,
    source: SourceOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Strategies and paces side by side, direct taper and crossover to diazepam first."""
    cat = default_catalogue()
    adms = read_regimen(take, regimen, cat)
    person = person_options(locals())
    rows = compare(adms, person, market, liquid, compounded, source, cat, dt.date.today())
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
    catalogue: Catalogue,
    today: dt.date,
) -> list[dict[str, Any]]:
    """Every strategy and pace, tapering directly and (when it makes sense) after switching to
    diazepam; a route the crossover module refuses (e.g. diazepam already) is left out."""
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
                    plan = make_plan(request, catalogue, today=today, explain=False)
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
