"""`convert`, `drugs` and `drug`: the catalogue and dose equivalence from the command line.

No ``from __future__ import annotations`` here: Typer reads each command's annotations, and as
strings it compiles and evaluates them on every start (~6 M instructions for ``convert``'s five).
"""

from typing import Annotated

import typer

from benzotaper.catalogue import DIAZEPAM, MARKETS, Sourced, default_catalogue, provenance
from benzotaper.cli.app import app, console, handle_errors, print_json, rich_table
from benzotaper.conversion import convert, total_equivalent
from benzotaper.doses import parse_dose, split_drug_dose


def _fmt(x: float | list[float]) -> str:
    return f"{x[0]:g}–{x[1]:g}" if isinstance(x, list) else f"{x:g}"


# Negative doses ("-1mg") must reach parse_dose for a clear message, not look like options.
_ALLOW_NEGATIVE = {"ignore_unknown_options": True}


@app.command("convert", context_settings=_ALLOW_NEGATIVE)
@handle_errors
def convert_cmd(
    drug: Annotated[
        str, typer.Argument(metavar="DRUG", help="Drug taken, e.g. clonazepam or Klonopin.")
    ],
    dose: Annotated[
        str, typer.Argument(metavar="DOSE", help="Dose with a unit, e.g. '1mg' or '500mcg'.")
    ],
    to: Annotated[str, typer.Option("--to", help="Drug to convert to.")] = DIAZEPAM,
    source: Annotated[
        str | None, typer.Option("--source", help="Equivalence table (source key).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Convert a dose to its equivalent in another drug (diazepam by default)."""
    cat = default_catalogue()
    result = convert(cat, drug, parse_dose(dose), to, source)
    if as_json:
        print_json(result)
        return
    src = cat.drugs[result.from_drug].name
    dst = cat.drugs[result.to_drug].name
    console.print(
        f"[bold]{result.from_mg:g} mg {src}[/] ≈ [bold green]{result.dose_mg:g} mg {dst}[/] "
        f"(source: {result.source})"
    )
    console.print(
        f"Range across sources: {result.range_mg[0]:g}–{result.range_mg[1]:g} mg", highlight=False
    )
    table = rich_table("source", f"mg {dst}", "reference")
    for key, value in result.by_source.items():
        table.add_row(key, _fmt(value), cat.reference(key).citation())
    console.print(table)
    console.print(f"[dim]{result.source_reason}[/]")
    console.print(f"[yellow]{result.disclaimer}[/]")


@app.command("drugs")
@handle_errors
def drugs_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List every drug in the catalogue."""
    cat = default_catalogue()
    if as_json:
        print_json(
            {
                "catalogue_version": cat.version,
                "drugs": [
                    {
                        "id": d.id,
                        "name": d.name,
                        "class": d.drug_class.value,
                        "brands": d.all_brands,
                        "uses": [u.value for u in d.uses],
                        "equivalent_to_10mg_diazepam": {
                            e.source: e.as_json() for e in d.equivalents
                        },
                    }
                    for d in cat
                ],
            }
        )
        return
    table = rich_table("drug", "class", "brands", "≈ 10 mg diazepam (mg)", "half-life (h)")
    for d in cat:
        eq = [e.low for e in d.equivalents] + [e.high for e in d.equivalents]
        hl = d.half_life_h
        table.add_row(
            d.name,
            d.drug_class.value,
            ", ".join(d.all_brands),
            f"{min(eq):g}–{max(eq):g}" if min(eq) != max(eq) else f"{min(eq):g}",
            "—" if hl is None else _fmt(hl.as_json()),
        )
    console.print(table)
    console.print(f"[dim]Catalogue version {cat.version}[/]")


@app.command("drug")
@handle_errors
def drug_cmd(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Generic or brand name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one drug: equivalents per source, half-lives, and products per market."""
    cat = default_catalogue()
    d = cat.drug(name)
    if as_json:
        print_json(d)
        return
    console.print(f"[bold]{d.name}[/] ({d.drug_class.value}) — {', '.join(d.all_brands)}")
    console.print(f"Uses: {', '.join(u.value for u in d.uses)}")
    if d.half_life_h:
        console.print(f"Half-life: {_fmt(d.half_life_h.as_json())} h {_src(d.half_life_h)}")
    for m in d.metabolites:
        kind = "Active metabolite" if m.active else "Inactive metabolite"
        console.print(
            f"{kind} {m.name}: half-life {_fmt(m.half_life_h.as_json())} h "
            f"[dim]({m.half_life_h.source}{_unverified(m.half_life_h.unverified)})[/]"
        )
    pk = [
        (label, fact)
        for label, fact in (
            ("bioavailability", d.pk.bioavailability),
            ("tmax (h)", d.pk.tmax_h),
            ("half-life (h)", d.pk.half_life_h),
            ("half-life, elderly (h)", d.pk.half_life_elderly_h),
            ("volume of distribution (L/kg)", d.pk.volume_l_per_kg),
        )
        if fact is not None
    ]
    if pk:
        console.print(
            "Pharmacokinetics: "
            + "; ".join(f"{label} {_fmt(fact.as_json())} {_src(fact)}" for label, fact in pk)
        )
    mx = d.max_daily_mg
    console.print(
        f"Labelled maximum: {_fmt(mx.as_json())} mg/day "
        f"[dim]({mx.source}{_unverified(mx.unverified)}{'; ' + mx.note if mx.note else ''})[/]"
    )
    if d.note:
        console.print(f"Note: {d.note}")
    eq = rich_table("source", "mg ≈ 10 mg diazepam", "citation")
    for e in d.equivalents:
        eq.add_row(
            e.source,
            _fmt(e.as_json()) + _unverified(e.unverified),
            cat.reference(e.source).citation(),
        )
    console.print(eq)
    for market in MARKETS:
        products = d.products_in(market)
        if not products:
            console.print(f"[dim]No products listed for the {market.upper()} market.[/]")
            continue
        pt = rich_table(
            "form", "strength", "split", "source", "note", title=f"Products ({market.upper()})"
        )
        for p in products:
            strength = f"{p.mg_per_ml:g} mg/mL" if p.mg_per_ml else f"{p.strength_mg:g} mg"
            pt.add_row(
                p.form.value.replace("_", " "),
                strength,
                p.split.value,
                p.source + _unverified(p.unverified),
                " ".join(x for x in (p.name, p.note) if x),
            )
        console.print(pt)
    counts = provenance(d)
    if counts.unverified:
        console.print(
            f"[yellow]{counts.verified} of {counts.total} facts checked at a cited source; "
            f"{counts.unverified} marked (unverified) were not, so treat them with care.[/]"
        )
    else:
        console.print(f"[dim]All {counts.total} facts checked at a cited source.[/]")


def _unverified(flag: bool) -> str:
    return " (unverified)" if flag else ""


def _src(fact: Sourced) -> str:
    return f"[dim]({fact.source}{_unverified(fact.unverified)})[/]"


@app.command("total", context_settings=_ALLOW_NEGATIVE)
@handle_errors
def total_cmd(
    takes: Annotated[
        list[str],
        typer.Argument(
            metavar="'DRUG DOSE'...",
            help="Each drug with its daily dose, quoted: 'alprazolam 1 mg' 'zolpidem 10 mg'.",
            show_default=False,
        ),
    ],
    source: Annotated[
        str | None, typer.Option("--source", help="Equivalence table (source key).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Sum several drugs (a polydrug regimen) to one diazepam-equivalent daily total."""
    cat = default_catalogue()
    doses = []
    for take in takes:
        drug_text, dose_text = split_drug_dose(take)
        doses.append((drug_text, parse_dose(dose_text)))
    result = total_equivalent(cat, doses, source)
    if as_json:
        print_json(result)
        return
    table = rich_table("drug", "daily dose", "≈ diazepam (mg)", "source", "range across sources")
    for part in result.parts:
        table.add_row(
            cat.drugs[part.from_drug].name,
            f"{part.from_mg:g} mg",
            f"{part.dose_mg:g}",
            part.source,
            f"{part.range_mg[0]:g}–{part.range_mg[1]:g}",
        )
    console.print(table)
    console.print(
        f"[bold]Total ≈ [green]{result.dose_mg:g} mg diazepam[/green] a day[/] "
        f"(range across sources {result.range_mg[0]:g}–{result.range_mg[1]:g} mg)",
        highlight=False,
    )
    console.print(f"[yellow]{result.disclaimer}[/]")
