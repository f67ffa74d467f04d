"""How the command line words what the planner returns as data: flags for preference changes,
weekly patterns, tail routes and ways forward (the web words the same data in plain words)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benzotaper.planning.models import Dose, Plan, Preferences, Step

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def flags(preference: Mapping[str, Any], current: Preferences | None = None) -> str:
    """The options that make the change ``preference`` describes, e.g. '--no-tail liquid'."""
    out: list[str] = []
    for key, value in preference.items():
        if key == "liquid" and value:
            out.append("--liquid")
        elif key == "compounded" and value:
            out.append("--compounded")
        elif key == "crossover" and value:
            out.append(f"--crossover {value}")
        elif key == "override" and value:
            out.append("--override-reason and --override-max-percent")
        elif key == "tail" and value != "auto":
            out.append(f"--tail {value}")
        elif key == "tail_off":
            out += _tail_off_flags(list(value), current)
    return " ".join(out)


def _tail_off_flags(wanted: list[str], current: Preferences | None) -> list[str]:
    """Switching routes off adds --no-tail; a way forward that drops one says so."""
    had = set(current.tail_off) if current is not None else set()
    if current is None or set(wanted) >= had:
        return [f"--no-tail {r}" for r in wanted if r not in had]
    return [f"without --no-tail {r}" for r in sorted(had - set(wanted))]


def weekdays(step: Step, dose: Dose) -> str:
    """The days of the week a patterned dose is taken, e.g. 'Mon, Wed, Fri' ('' = every day)."""
    return ", ".join(_DAYS[d] for d in step.weekdays(dose))


def dose_text(step: Step, dose: Dose) -> str:
    days = weekdays(step, dose)
    if not days:
        return f"{dose.mg:g} mg"
    return f"{dose.mg:g} mg on {len(dose.on_days or [])} of 7 nights ({days})"


def route_lines(plan: Plan) -> list[str]:
    """One line per tail route (its reason is among the warnings), and the ways forward of a
    plan that ends in maintain."""
    prefs = plan.request.preferences
    out: list[str] = []
    for r in plan.routes:
        how = "asked for" if r.chosen == "asked" else "chosen automatically"
        off = f" Switch it off with {flags(r.preference, prefs)}." if r.preference else ""
        out.append(
            f"{r.route} for {r.drug} ({how}) from step {r.step}, {r.start.isoformat()}.{off}"
        )
    for w in plan.ways_forward:
        out.append(f"Way forward: {flags(w.preference, prefs)} ({w.kind}): {w.reason}")
    return out
