"""The warnings a plan can carry: one place for their codes, severities, wording and sources."""

from __future__ import annotations

from typing import Any

from benzotaper.planning.equivalents import SHOWN_DECIMALS
from benzotaper.planning.models import PlanWarning, Severity


def dose_text(mg: float) -> str:
    """A dose taken or made, in a note or warning, as the plan's doses show it (``Dose.mg``):
    to 4 decimals, the finest a product makes (a quarter of a 0.25 mg tablet is 0.0625 mg;
    3 decimals said "0.062 mg"), without float noise or trailing zeros ("0.5 mg")."""
    return f"{round(mg, SHOWN_DECIMALS):g} mg"


def warn(
    code: str,
    severity: Severity,
    message: str,
    *sources: str,
    preference: dict[str, Any] | None = None,
) -> PlanWarning:
    return PlanWarning.trusted(  # typed arguments from the planner's own code
        code=code,
        severity=severity,
        message=message,
        sources=list(sources),
        preference=dict(preference or {}),  # its own copy, as validation would make
    )


def dedupe(warnings: list[PlanWarning]) -> list[PlanWarning]:
    """Keep the first of each (code, message), danger first, then caution, then info."""
    seen: set[tuple[str, str]] = set()
    out: list[PlanWarning] = []
    for w in warnings:
        key = (w.code, w.message)
        if key not in seen:
            seen.add(key)
            out.append(w)
    rank = {"danger": 0, "caution": 1, "info": 2}
    return sorted(out, key=lambda w: rank[w.severity])
