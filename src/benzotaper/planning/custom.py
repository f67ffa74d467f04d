"""The ``custom`` strategy: a schedule the person (or prescriber) wrote, held to the same rules.

Each row says "from DATE, DRUG at DAILY_MG a day". Doses are made from real products by the same
stepper (daytime-first by default); a schedule that raises a dose, exceeds the maximum rate
without a recorded override, or stops from more than the jump-off dose is refused with every
problem listed. A schedule that ends above zero is continued with the percent strategy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from benzotaper.errors import GuardrailError, RegimenError
from benzotaper.planning.holds import Draft
from benzotaper.planning.models import CustomStep
from benzotaper.planning.notices import dose_text
from benzotaper.planning.regimen import Slot
from benzotaper.planning.stepping import EPS, cut, cut_order
from benzotaper.planning.taper import (
    TaperContext,
    de_total,
    drug_total,
    rated_days,
    snap_regimen,
    stopped_first,
)


def custom_drafts(
    start: dt.date,
    state: Mapping[Slot, float],
    rows: Sequence[CustomStep],
    ctx: TaperContext,
    resolve_drug: Mapping[str, str],
    taken: Mapping[Slot, float] | None = None,
) -> tuple[list[Draft], dict[Slot, float], list[str]]:
    """Drafts for the user's rows, the doses they end on, and notes on rounding.

    ``resolve_drug`` maps each name the rows use to a catalogue id in the regimen. Every row is
    checked before anything is refused, so the person sees all the problems of their schedule at
    once (a ``ScheduleError`` lists them) rather than one per attempt. ``taken``: the doses
    taken now, when ``state`` is what the products make of them (the engine's); every cut,
    the one to those doses included, is measured from the doses taken.
    """
    by_date = _schedule_by_date(start, rows, resolve_drug)
    dates = sorted(by_date)
    drafts: list[Draft] = []
    problems: list[str] = _unmade_problems(start, state, ctx)
    notes: list[str] = []
    current = snap_regimen(state, ctx)
    prev_de = de_total(state if taken is None else taken, ctx.de_per_mg)
    # a small dose no product makes, which the engine stops in the first step (as a generated
    # plan's first step says); the first row says so when the schedule starts at once
    stopped = stopped_first(state, taken, ctx)
    override_helps = False  # a cut too large or too fast, which a recorded override may allow
    if dates[0] > start:
        days = (dates[0] - start).days
        made_de = de_total(current, ctx.de_per_mg)
        note = "Your current dose until the schedule starts."
        if made_de < prev_de - EPS:
            note = (
                "The doses taken now as the products allowed make them (the nearest smaller "
                "dose; a small dose no product makes stops here), until the schedule starts."
            )
            paced = _pace_problems(start, prev_de, made_de, days, ctx)
            problems += paced
            override_helps = bool(paced)
            prev_de = made_de
        drafts.append(Draft(current, days, "hold", note, dict(ctx.makers)))
    for i, day in enumerate(dates):
        new = _row_doses(day, by_date[day], current, ctx, problems, notes)
        last = i == len(dates) - 1
        new_de = de_total(new, ctx.de_per_mg)
        if new_de <= EPS:
            problems += _stop_problems(day, prev_de, last, ctx)
            break
        said = stopped if not drafts else None
        if last:  # no date ends it: as long as the pace needs (the next cut is the planner's)
            days, why = _last_row_days(day, prev_de, new_de, new, ctx)
            said = " ".join(filter(None, [said, why])) or None
        else:
            days = (dates[i + 1] - day).days
        paced = _pace_problems(day, prev_de, new_de, days, ctx)
        problems += paced
        override_helps = override_helps or bool(paced)
        drafts.append(Draft(new, days, "taper", said, dict(ctx.makers)))
        current, prev_de = new, new_de
    if problems:
        raise ScheduleError(problems, override_helps=override_helps)
    return drafts, current, notes


def _last_row_days(
    day: dt.date, prev_de: float, new_de: float, doses: Mapping[Slot, float], ctx: TaperContext
) -> tuple[int, str | None]:
    """Days the schedule's last row lasts, which the person did not give (no next date): the
    strategy's interval, or longer when the row's cut needs more to keep within the maximum
    rate (as a step the planner makes would); a note says so. The row's own cut is the
    person's; the next one, or the stop, is the planner's."""
    weekly = any(ctx.makers[s.drug].weekly for s, mg in doses.items() if mg > EPS)
    days = rated_days(ctx.strategy.every_days, prev_de, new_de, weekly, ctx)
    if days <= ctx.strategy.every_days:
        return days, None
    return days, (
        f"The schedule's last row ({day.isoformat()}) has no end date: it lasts {days} days, so "
        f"that its cut stays within the maximum of {ctx.max_fraction_per_14_days * 100:g}% "
        "per 14 days."
    )


def _unmade_problems(start: dt.date, state: Mapping[Slot, float], ctx: TaperContext) -> list[str]:
    """Doses the engine kept as taken (no product makes them, too large to stop from): a
    schedule shows every dose as pieces to take, so it cannot start from them."""
    made = snap_regimen(state, ctx)
    names = {d.id: d.name for d in ctx.drugs}
    return [
        f"{start.isoformat()}: {names[s.drug]} {dose_text(mg)} at {s.time} cannot be made from the "
        "products allowed, and is more than a drug is stopped from at once: allow an oral "
        "liquid or compounding, or choose a strategy that finds a way to make it."
        for s, mg in state.items()
        if made[s] < mg - EPS
    ]


def _schedule_by_date(
    start: dt.date, rows: Sequence[CustomStep], resolve_drug: Mapping[str, str]
) -> dict[dt.date, dict[str, float]]:
    """The rows as date → drug id → mg a day; a schedule that cannot be read is refused here
    (unknown drug, a drug twice on one date, a start before the plan's)."""
    if not rows:
        raise RegimenError("The custom strategy needs a schedule: dates and daily doses.")
    by_date: dict[dt.date, dict[str, float]] = {}
    for row in rows:
        drug = resolve_drug.get(row.drug)
        if drug is None:
            raise RegimenError(
                f"The schedule names {row.drug!r}, which is not in the regimen being tapered."
            )
        on_day = by_date.setdefault(row.start, {})
        if drug in on_day:
            raise RegimenError(f"The schedule gives {row.drug} twice on {row.start.isoformat()}.")
        on_day[drug] = row.daily_mg
    first = min(by_date)
    if first < start:
        raise RegimenError(
            f"The schedule starts on {first.isoformat()}, before the plan ({start.isoformat()})."
        )
    return by_date


def _row_doses(
    day: dt.date,
    targets: Mapping[str, float],
    current: Mapping[Slot, float],
    ctx: TaperContext,
    problems: list[str],
    notes: list[str],
) -> dict[Slot, float]:
    """The doses of one row, cut by the same stepper as every strategy (so they can be made from
    real products); a raised dose is a problem, a target that cannot be made exactly a note."""
    new = dict(current)
    for drug, target in targets.items():
        have = drug_total(current, drug)
        if target > have + EPS:
            problems.append(
                f"{day.isoformat()}: {drug} goes up from {have:g} to {target:g} mg a day "
                "(a taper never raises the dose)."
            )
            continue
        times = {s.time: mg for s, mg in current.items() if s.drug == drug}
        got = (
            cut(times, target, cut_order(times, ctx.rule_for(drug)), ctx.grid(drug))
            if target < have - EPS
            else times
        )
        for t, mg in got.items():
            new[Slot(drug, t)] = mg
        made = sum(got.values())
        if abs(made - target) > EPS:
            notes.append(
                f"{day.isoformat()}: {drug} {target:g} mg a day cannot be made exactly from "
                f"the products allowed; {made:g} mg is used."
            )
    return new


def _stop_problems(day: dt.date, prev_de: float, last: bool, ctx: TaperContext) -> list[str]:
    """A stop must come from a dose small enough to stop from, and end the schedule."""
    problems = []
    if prev_de > ctx.stop_limit() + EPS:
        problems.append(
            f"{day.isoformat()}: stops from {prev_de:.3g} mg diazepam-equivalent; the "
            f"last dose before stopping must be at most {ctx.stop_limit():g} mg "
            "(never stop abruptly)."
        )
    if not last:
        problems.append(f"{day.isoformat()}: the schedule goes on after stopping.")
    return problems


def _pace_problems(
    day: dt.date, prev_de: float, new_de: float, days: int, ctx: TaperContext
) -> list[str]:
    """A cut larger than one step may make, or faster than the maximum rate over 14 days (the
    rate a recorded override may raise)."""
    if not (prev_de > 0 and new_de < prev_de - EPS):
        return []
    problems = []
    if prev_de - new_de > ctx.cut_limit(prev_de) + EPS:
        problems.append(
            f"{day.isoformat()}: cuts {(prev_de - new_de) / prev_de * 100:.3g}% of the "
            f"dose in one step ({prev_de - new_de:.3g} mg diazepam-equivalent), more than "
            f"{ctx.single_cut_percent:g}% of the current dose and more than "
            f"{ctx.rules.single_cut.small_mg_de.low:g} mg."
        )
    rate = (prev_de - new_de) / prev_de * 14 / days
    if rate > ctx.max_fraction_per_14_days + 1e-9:
        problems.append(
            f"{day.isoformat()}: cuts {(prev_de - new_de) / prev_de * 100:.3g}% and holds "
            f"it {days} days, {rate * 100:.3g}% per 14 days, above the maximum of "
            f"{ctx.max_fraction_per_14_days * 100:g}%."
        )
    return problems


class ScheduleError(GuardrailError):
    """A custom schedule that breaks safety rules: every problem listed, as data too.

    ``preference`` is the change that would let a faster schedule through (a recorded override),
    when that is what stands in the way; each edge words it.
    """

    def __init__(self, problems: list[str], *, override_helps: bool) -> None:
        hint = (
            "Change the schedule (smaller or later cuts), or, if your prescriber agrees to go "
            "faster, record an override with its reason and the new maximum percent."
            if override_helps
            else "Change the schedule and try again."
        )
        super().__init__(
            "The schedule breaks safety rules:\n- " + "\n- ".join(problems) + "\n" + hint
        )
        self.problems = list(problems)
        self.preference: dict[str, object] = {"override": True} if override_helps else {}
