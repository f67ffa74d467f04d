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
        elif key in _HOME_FLAGS:
            out.append(_HOME_FLAGS[key] if value else f"without {_HOME_FLAGS[key]}")
    return " ".join(out)


_HOME_FLAGS = {"home_liquid": "--home-liquid", "scale": "--scale"}


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
        way = flags(r.preference, prefs)
        off = f" Switch it off with {way}." if way else ""
        if way.startswith("without "):  # an opt-in (home methods): leave the option out
            off = f" Switch it off: plan {way}."
        out.append(
            f"{r.route} for {r.drug} ({how}) from step {r.step}, {r.start.isoformat()}.{off}"
        )
    for w in plan.ways_forward:
        out.append(f"Way forward: {flags(w.preference, prefs)} ({w.kind}): {w.reason}")
    return out


_BASIS = {
    "dispersed-tablets": "measured for dispersed tablets not made to disperse",
    "scale-readability": "one readability step of the scale on the portion weighed",
}


def home_lines(plan: Plan) -> list[str]:
    """For a plan with doses made at home: the caution and what the accuracy band rests on,
    then the range each home dose taken may fall in (a share of the intended dose; the recipe
    is in the dose's pieces)."""
    out: list[str] = []
    bases: dict[str, set[str]] = {}
    for s in plan.steps:
        for d in s.doses:
            for p in d.make_up:
                if p.home is not None:
                    a = p.home.accuracy
                    bases.setdefault(a.basis, set()).update(a.sources)
                    out.append(
                        f"step {s.index}, {d.time}: {p.home.mg:.4g} mg made at home; the dose "
                        f"taken may be {a.low_percent:g}%-{a.high_percent:g}% of it"
                    )
    if out:
        why = "; ".join(f"{_BASIS[b]} ({', '.join(sorted(k))})" for b, k in bases.items())
        out.insert(
            0,
            "These are not licensed methods: use them only with your prescriber's agreement, "
            f"and make each dose fresh. Accuracy bands: {why}.",
        )
    return out
