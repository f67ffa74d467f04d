"""`plan` and `compare`: make a taper plan on the command line; show it as a table, JSON or CSV.

Thin adapter: options become a PlanRequest (benzotaper.cli.request), the core makes the plan,
and this module only renders it. Default market: ``us`` (the products sold in the United States).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from benzotaper.catalogue import Catalogue
from benzotaper.cli import plan_words
from benzotaper.cli.app import app, console, handle_errors, print_json, rich_table
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
from benzotaper.knowledge import Knowledge, default_knowledge
from benzotaper.planning.custom import ScheduleError
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import Administration, Plan, PlanRequest

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
        import json  # here: most plans come from --take (json and csv are imported when used)

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


StrategyOpt = Annotated[
    str,
    typer.Option(
        "--strategy", help="percent (default), linear, ashton-bands, hyperbolic or custom."
    ),
]
PaceOpt = Annotated[
    str | None,
    typer.Option("--pace", help="slow, moderate or fast (default: from the risk assessment)."),
]
PercentOpt = Annotated[
    float | None,
    typer.Option(
        "--percent",
        help="Cut this % of the current dose per step (with --micro: the most the cuts may add "
        "up to in any 14 days).",
    ),
]
EveryOpt = Annotated[
    int | None, typer.Option("--every", help="Days between cuts (with --micro: 1 to a few).")
]
StepMgOpt = Annotated[float | None, typer.Option("--step-mg", help="linear: mg cut per step.")]
StartOpt = Annotated[
    str | None, typer.Option("--start", help="First day, YYYY-MM-DD (default: today).")
]
HoldOpt = Annotated[
    list[str] | None,
    typer.Option("--hold", help="Hold the dose: DATE:DAYS, e.g. 2027-01-15:14. Repeatable."),
]
StepOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--step",
        help="custom: 'DATE DRUG DAILY-DOSE', e.g. '2027-01-18 diazepam 9 mg'. Repeatable.",
    ),
]
OverrideReasonOpt = Annotated[
    str | None,
    typer.Option("--override-reason", help="Why the guideline maximum rate may be exceeded."),
]
OverrideMaxOpt = Annotated[
    float | None,
    typer.Option("--override-max-percent", help="New maximum % per 14 days (with a reason)."),
]
CrossoverOpt = Annotated[
    str | None,
    typer.Option("--crossover", help="Switch to this long-acting drug first, e.g. diazepam."),
]
NoFinalSlowOpt = Annotated[
    bool, typer.Option("--no-final-slow", help="No slower final section near the end.")
]
CutOrderOpt = Annotated[
    str | None,
    typer.Option(
        "--cut-order",
        help="Which dose-time is cut first: daytime-first (the default for long-acting "
        "drugs), night-first, largest-first, or across (every dose-time together; the "
        "default for short-acting drugs taken several times a day).",
    ),
]
MicroOpt = Annotated[
    bool,
    typer.Option(
        "--micro",
        help="Micro-tapering (community practice, not a guideline method): a small cut of the "
        "current dose every day or every few days, measured with an oral liquid (the drug's "
        "own, or diazepam oral solution after a switch to diazepam), the cuts in any 14 days "
        "adding up to at most the pace's percent (or --percent; the 2025 joint guideline: "
        "typically not more than 25% every 2 weeks). The plan shows each step's dose and the "
        "percent cut over the 14 days before it. Percent strategy only.",
    ),
]
FormatOpt = Annotated[str, typer.Option("--format", help="table, json or csv.")]
SimulateOpt = Annotated[
    bool,
    typer.Option(
        "--simulate",
        help="Also show each step's simulated effect: swing between doses, size of each cut "
        "in diazepam equivalent and estimated occupancy, days to settle. With --format "
        'json the output becomes {"plan": ..., "simulation": ...}.',
    ),
]
ChartOpt = Annotated[
    Path | None, typer.Option("--chart", help="Also write a chart of the plan (.svg or .png).")
]
SaveOpt = Annotated[
    bool, typer.Option("--save", help="Keep it in your journal as the active plan.")
]
ReasonOpt = Annotated[
    str, typer.Option("--reason", help="With --save: why this plan (kept with it).")
]


@app.command("plan")
@handle_errors
@with_person_options
@with_home_options
def plan_cmd(
    take: TakeOpt = None,
    regimen: RegimenOpt = None,
    strategy: StrategyOpt = "percent",
    pace: PaceOpt = None,
    percent: PercentOpt = None,
    every: EveryOpt = None,
    step_mg: StepMgOpt = None,
    market: MarketOpt = "us",
    liquid: LiquidOpt = False,
    compounded: CompoundedOpt = False,
    start: StartOpt = None,
    hold: HoldOpt = None,
    step: StepOpt = None,
    override_reason: OverrideReasonOpt = None,
    override_max_percent: OverrideMaxOpt = None,
    crossover: CrossoverOpt = None,
    no_final_slow: NoFinalSlowOpt = False,
    dose_time_rule: CutOrderOpt = None,
    tail: TailOpt = "auto",
    no_tail: NoTailOpt = None,
    micro: MicroOpt = False,
    source: SourceOpt = None,
    fmt: FormatOpt = "table",
    simulate: SimulateOpt = False,
    chart: ChartOpt = None,
    save: SaveOpt = False,
    reason: ReasonOpt = "",
    person: dict[str, Any] | None = None,
    home: dict[str, Any] | None = None,
) -> None:
    """Make a taper plan from the doses you take now. Agree it with your prescriber first."""
    output = _format(fmt)
    _check_outputs(output, simulate, chart)
    knowledge = default_knowledge()
    cat = knowledge.catalogue
    if (override_reason is None) != (override_max_percent is None):
        raise InputError("An override needs both --override-reason and --override-max-percent.")
    preferences = {
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
        "micro": micro,
        **(home or {}),
        "source": source,
    }
    request = build_request(read_regimen(take, regimen, cat), person or {}, preferences)
    plan = _make(request, knowledge)
    _show(plan, output, cat, simulate=simulate, chart=chart)
    if save:
        from benzotaper.cli.journal import save_plan

        save_plan(plan, reason)


def _check_outputs(output: Format, simulate: bool, chart: Path | None) -> None:
    """Refuse an impossible output before any work (a bad chart name, --simulate with csv)."""
    if simulate and output == "csv":
        raise InputError("--simulate works with --format table or json, not csv.")
    if chart is not None:
        from benzotaper.cli import simulate as simulate_cli  # numpy: only when asked for

        simulate_cli.chart_format(chart)


def _make(request: PlanRequest, knowledge: Knowledge) -> Plan:
    """The core's plan for the request (a start date checked against today, a custom schedule's
    refusal worded with the flag that would fix it)."""
    today = dt.date.today()
    if request.preferences.start is not None:
        from benzotaper.dates import check_plan_start

        check_plan_start(request.preferences.start, today, "--start date")
    try:
        return make_plan(request, knowledge, today=today)
    except ScheduleError as exc:
        way = plan_words.flags(exc.preference)
        raise GuardrailError(exc.message + (f" ({way})" if way else "")) from None


def _show(
    plan: Plan, output: Format, cat: Catalogue, *, simulate: bool, chart: Path | None
) -> None:
    """The plan as asked: table, JSON or CSV, with the simulation and a chart file if asked."""
    if simulate or chart is not None:
        from benzotaper.cli import simulate as simulate_cli  # numpy: only when asked for
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
    "percent_14_days",
]


def write_csv(plan: Plan) -> None:
    """One row per dose per step; the disclaimer is the last row (plain CSV, no comments)."""
    import csv

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
                        "" if s.percent_14_days is None else f"{s.percent_14_days:g}",
                    ]
                )
            )
    w.writerow(["disclaimer", plan.disclaimer] + [""] * (len(CSV_FIELDS) - 2))


def print_table(plan: Plan, catalogue: Catalogue) -> None:
    """The plan as a Rich table. Dates are never cut short (a person must read them): the date
    column does not wrap and keeps its width; the drug columns give way (and fold) instead."""
    # By time; drugs at the same time in the order they first appear (a crossover's new drug
    # after the one it replaces), the same in every run (a set's order changes with the hash seed)
    seen = dict.fromkeys((d.drug, d.time) for s in plan.steps for d in s.doses)
    slots = sorted(seen, key=lambda x: x[1])
    names = {d: catalogue.drugs[d].name for d, _ in slots}
    several = len({d for d, _ in slots}) > 1
    table = rich_table(title="Taper plan", show_lines=True)
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
        if s.percent_14_days is not None:  # micro-tapering: the cuts of the 14 days before
            change += f"\n[dim]14 d: -{s.percent_14_days:g}%[/]"
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
