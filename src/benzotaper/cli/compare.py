"""`compare`: the same regimen planned every way, side by side (the core's ``compare``).

The CLI words the rows: which strategy and pace, tapering directly or switching to diazepam
first, the tail routes a plan took (with the options that choose or refuse them), and what must
be prescribed.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

from benzotaper.cli.app import app, console, handle_errors, print_json, rich_table
from benzotaper.cli.home import with_home_options
from benzotaper.cli.person import with_person_options
from benzotaper.cli.plan import (
    CompoundedOpt,
    LiquidOpt,
    MarketOpt,
    MicroOpt,
    NoTailOpt,
    RegimenOpt,
    SourceOpt,
    TailOpt,
    TakeOpt,
    read_regimen,
)
from benzotaper.cli.request import build_request
from benzotaper.knowledge import default_knowledge
from benzotaper.planning.compare import ComparisonRow, compare
from benzotaper.planning.models import DISCLAIMER

_SECTIONS = {"method": "direct taper", "switch": "switch first", "tail": "tail route"}


@app.command("compare")
@handle_errors
@with_person_options
@with_home_options
def compare_cmd(
    take: TakeOpt = None,
    regimen: RegimenOpt = None,
    market: MarketOpt = "us",
    liquid: LiquidOpt = False,
    compounded: CompoundedOpt = False,
    tail: TailOpt = "auto",
    no_tail: NoTailOpt = None,
    micro: MicroOpt = False,
    source: SourceOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    person: dict[str, Any] | None = None,
    home: dict[str, Any] | None = None,
) -> None:
    """Strategies and paces side by side, tapering directly or switching to diazepam first, and
    the tail routes a plan could take (steps, weeks, what must be prescribed)."""
    knowledge = default_knowledge()
    cat = knowledge.catalogue
    request = build_request(
        read_regimen(take, regimen, cat),
        person or {},
        {
            "market": market,
            "liquid": liquid,
            "compounded": compounded,
            "source": source,
            "tail": tail,
            "tail_off": no_tail or [],
            "micro": micro,
            **(home or {}),
        },
    )
    rows = compare(
        request,
        knowledge,
        today=dt.date.today(),
        paces=("slow", "moderate", "fast"),
        switch_every_way=True,
    )
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    _print_table(rows)


def _print_table(rows: list[ComparisonRow]) -> None:
    table = rich_table(
        "how",
        "strategy",
        "pace",
        "ends",
        "weeks",
        "steps",
        "largest step %",
        "largest %/14 d",
        "jump-off mg DE",
        "tablets",
        "liquid mL",
        title="Taper plans compared",
    )
    for r in rows:
        how = _SECTIONS[r.section] + ("" if r.tail == "auto" else f" --tail {r.tail}")
        strategy = r.strategy + (" --micro" if r.micro else "")
        if r.metrics is None:
            table.add_row(how, strategy, r.pace or "", f"[red]{r.error}[/]")
            continue
        m = r.metrics
        ends = "zero" if r.ends_with == "stop" else "[yellow]maintain[/]"
        routes = ", ".join(c.route for c in r.routes if c.route != "maintain")
        table.add_row(
            how,
            strategy,
            r.pace or "",
            ends + (f"\n[dim]via {routes}[/]" if routes else ""),
            f"{m.weeks:g}",
            str(m.steps),
            f"{m.largest_step_percent:g}",
            f"{m.largest_rate_percent_per_14_days:g}",
            f"{m.jump_off_mg_de:g}",
            f"{m.tablets + m.capsules:g}",
            f"{m.liquid_ml:g}",
        )
    console.print(table)
    console.print(
        "[dim]Largest step excludes the final stop, which is from the small jump-off dose.[/]"
    )
    for line in dict.fromkeys(
        f"{c.route} ({c.drug}): needs {c.prescription}"
        for r in rows
        for c in r.routes
        if c.route != "maintain"
    ):
        console.print(f"[magenta]ROUTE[/] {line}", highlight=False)
    console.print(f"[bold yellow]{DISCLAIMER}[/]")
