"""What every export says the same way: dose wording, the safety message, today's step, the cut.

The exports are adapters: they only read a finished :class:`~benzotaper.planning.Plan`. Keeping
the wording here means the PDF, calendar, CSV and story never disagree about a dose.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from benzotaper.catalogue import Catalogue
from benzotaper.planning.models import Dose, Plan, Step

#: Said on every output a person acts on (alongside ``plan.disclaimer``).
SAFETY_MESSAGE = (
    "Agree this schedule, and every change to it, with your prescriber before you follow it. "
    "Never stop a benzodiazepine or Z-drug abruptly. If symptoms become hard to bear, talk to "
    "your prescriber: a hold or a slower pace is always an option."
)

#: Urgent-care signs, as the 2025 guideline's patient guide and the FDA boxed warning list them.
EMERGENCY_SIGNS: tuple[str, ...] = (
    "a seizure (fit)",
    "confusion or delirium",
    "hallucinations or losing touch with reality",
    "thoughts of suicide or self-harm",
    "very slow breathing or extreme drowsiness, especially with opioids or alcohol",
)
EMERGENCY_SOURCES: tuple[str, ...] = ("asam2025-patient-guide", "asam2025", "fda2020-boxed-warning")
EMERGENCY_ACTION = "Get urgent medical help now (US 911 / 988; UK 999 / 111)."


def emergency_text() -> str:
    return "If you have " + "; ".join(EMERGENCY_SIGNS) + ": " + EMERGENCY_ACTION


def fmt_mg(mg: float) -> str:
    """'2', '0.5', '1.25': no float noise, no trailing zeros."""
    return f"{round(mg, 4):g}"


def fmt_percent(p: float) -> str:
    return f"{p:+.1f}%".replace("+-", "-")


def drug_name(drug: str, catalogue: Catalogue | None = None) -> str:
    """The display name of a catalogue id ('lorazepam' -> 'Lorazepam')."""
    if catalogue is not None and drug in catalogue.drugs:
        return catalogue.drugs[drug].name
    return drug[:1].upper() + drug[1:]


def pieces_text(dose: Dose) -> str:
    """'1 × 5 mg tablet + ½ × 2 mg tablet' (what to pick up), or '' when not worked out."""
    return " + ".join(p.text for p in dose.make_up)


def dose_text(dose: Dose, catalogue: Catalogue | None = None) -> str:
    """'Diazepam 6 mg (1 × 5 mg tablet + ½ × 2 mg tablet)'."""
    pieces = pieces_text(dose)
    base = f"{drug_name(dose.drug, catalogue)} {fmt_mg(dose.mg)} mg"
    return f"{base} ({pieces})" if pieces else base


def take_text(dose: Dose, catalogue: Catalogue | None = None) -> str:
    """'Diazepam 6 mg: 1 × 5 mg tablet + ½ × 2 mg tablet' (for a table cell or reminder)."""
    pieces = pieces_text(dose) or "as prescribed"
    return f"{drug_name(dose.drug, catalogue)} {fmt_mg(dose.mg)} mg: {pieces}"


def daily_text(step: Step, catalogue: Catalogue | None) -> str:
    """'diazepam 18 mg a day' (several drugs joined with '+')."""
    parts = [
        f"{drug_name(d, catalogue)} {fmt_mg(mg)} mg"
        for d, mg in step.daily_mg.items()
        if mg > 0 or len(step.daily_mg) == 1
    ]
    return " + ".join(parts) + " a day"


def taken(step: Step) -> list[Dose]:
    """Doses actually taken in a step (zero-mg placeholders are not reminders)."""
    return [d for d in step.doses if d.mg > 0]


def dose_times(step: Step) -> list[tuple[str, list[Dose]]]:
    """The step's doses grouped by clock time, in time order."""
    times: dict[str, list[Dose]] = {}
    for dose in sorted(taken(step), key=lambda d: (d.time, d.drug)):
        times.setdefault(dose.time, []).append(dose)
    return list(times.items())


def drugs_in(plan: Plan) -> list[str]:
    """Every drug the plan uses, in order of first appearance (request regimen first)."""
    seen: dict[str, None] = {}
    for step in plan.steps:
        for dose in step.doses:
            seen.setdefault(dose.drug, None)
        for drug in step.daily_mg:
            seen.setdefault(drug, None)
    return list(seen)


def step_on(plan: Plan, day: dt.date) -> Step | None:
    """The step in force on ``day`` (None before the start or after the end)."""
    return next((s for s in plan.steps if s.start <= day <= s.end), None)


def is_cut(step: Step) -> bool:
    return step.change_percent is not None and step.change_percent < 0


def next_cut(plan: Plan, today: dt.date) -> Step | None:
    """The first dose reduction that starts after ``today``."""
    return next((s for s in plan.steps if s.start > today and is_cut(s)), None)


def percent_done(plan: Plan, step: Step) -> float:
    """How far along the taper a step is, by diazepam equivalent (0 at the start, 100 at zero)."""
    start = plan.summary.starting_diazepam_equivalent_mg
    if start <= 0:
        return 100.0
    return max(0.0, min(100.0, 100.0 * (start - step.diazepam_equivalent_mg) / start))


def plan_id(plan: Plan) -> str:
    """Stable across re-exports of the same plan, so calendars update rather than duplicate."""
    digest = hashlib.sha256()
    digest.update(plan.request.model_dump_json().encode())
    digest.update(plan.summary.start.isoformat().encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class WeekSegment:
    """The part of one calendar week that one step covers (a step can change mid-week)."""

    week: int  # 1-based week of the plan
    step: Step
    days: tuple[dt.date, ...]


def week_segments(plan: Plan) -> list[WeekSegment]:
    """Week-by-week pieces of the plan, for a schedule a person can tick off."""
    if not plan.steps:
        return []
    start = plan.summary.start
    out: list[WeekSegment] = []
    for step in plan.steps:
        day = step.start
        while day <= step.end:
            week = (day - start).days // 7 + 1
            week_end = start + dt.timedelta(days=week * 7 - 1)
            last = min(week_end, step.end)
            days = tuple(day + dt.timedelta(days=i) for i in range((last - day).days + 1))
            out.append(WeekSegment(week, step, days))
            day = last + dt.timedelta(days=1)
    return out


def sources_of(plan: Plan) -> list[str]:
    """Every source key the plan cites (equivalence source, warnings, risk flags, safety text)."""
    keys: dict[str, None] = {plan.summary.equivalence_source: None}
    for warning in (*plan.warnings, *plan.risk.flags):
        for key in warning.sources:
            keys.setdefault(key, None)
    for key in EMERGENCY_SOURCES:
        keys.setdefault(key, None)
    return list(keys)


def citations(keys: Iterable[str], catalogue: Catalogue | None) -> list[tuple[str, str]]:
    """(key, full citation) pairs; keys the catalogue does not know are shown as they are."""
    out: list[tuple[str, str]] = []
    for key in keys:
        ref = catalogue.references.get(key) if catalogue is not None else None
        out.append((key, ref.citation() if ref else key))
    return out


def regimen_text(doses: Sequence[tuple[str, float, str]], catalogue: Catalogue | None) -> str:
    """'Lorazepam 1 mg at 08:00, Lorazepam 1 mg at 22:00'."""
    return ", ".join(f"{drug_name(d, catalogue)} {fmt_mg(mg)} mg at {t}" for d, mg, t in doses)
