"""The no-abrupt-stop guardrail: refuse a plan whose last dose before stopping is too large.

When the products allowed cannot make small doses (UK lorazepam: 1 mg unscored tablets only),
the taper loop can end by stopping from a substantial dose, e.g. 1 mg lorazepam (10 mg
diazepam-equivalent) out of 20 mg. That is abrupt cessation, which is never proposed.

Rule: for every drug, the diazepam-equivalent of its last non-zero daily dose (the amount the stop
removes at once) must not exceed the guideline's maximum single reduction, 25% (pacing rules
``max_rate.percent``, the 2025 joint guideline's "not more than 25% every 2 weeks"), of the
plan's *starting* diazepam-equivalent dose (or the jump-off dose, if that is larger: stopping from
the jump-off dose is the guideline's end, e.g. from diazepam 1 mg after starting on 2 mg).
Smaller overshoots of the jump-off dose keep the danger warning instead (e.g. US clonazepam
ending at 0.125 mg). The threshold is not changed by a pace override: stopping abruptly is never
an option.

The refusal lists only the ways forward that really work for this regimen: each candidate
(``--crossover diazepam``, ``--liquid``, ``--compounded``, the other market's products) is tried
by planning again with it, and kept only if that plan passes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benzotaper.catalogue import DIAZEPAM, Catalogue
from benzotaper.errors import AbruptStopError, BenzotaperError
from benzotaper.planning.models import PlanRequest, Step

#: Rounding allowance (mg DE) when comparing with the threshold.
_EPS = 1e-6


@dataclass(frozen=True)
class AbruptStop:
    """A drug that the plan would stop from too large a dose."""

    drug: str
    last_mg: float
    last_de: float
    start_de: float
    limit_de: float
    max_percent: float


def find_abrupt_stop(
    steps: Sequence[Step],
    start_de: float,
    de_per_mg: Mapping[str, float],
    max_percent: float,
    jump_off_de: float,
) -> AbruptStop | None:
    """The first drug whose last non-zero daily dose is above ``max_percent`` of ``start_de``.

    A last dose within the jump-off dose (``jump_off_de``) is always a proper end, however small
    the starting dose.
    """
    limit = max(start_de * max_percent / 100, jump_off_de)
    last: dict[str, float] = {}
    for step in steps:
        if step.phase == "crossover":  # a drug switched to another is replaced, not stopped
            continue
        for drug, mg in step.daily_mg.items():
            if mg > 0:
                last[drug] = mg
    for drug, mg in last.items():
        de = mg * de_per_mg[drug]
        if de > limit + _EPS:
            return AbruptStop(drug, mg, de, start_de, limit, max_percent)
    return None


def _candidates(request: PlanRequest, catalogue: Catalogue) -> list[tuple[str, dict[str, Any]]]:
    """(what to add on the command line, preference changes) worth trying for this request."""
    prefs = request.preferences
    drugs = [catalogue.drug(a.drug) for a in request.regimen]
    out: list[tuple[str, dict[str, Any]]] = []
    if prefs.crossover is None and any(d.id != DIAZEPAM for d in drugs):
        text = (
            "--crossover diazepam: switch to diazepam first, whose scored tablets allow "
            "small steps (NICE CKS advises switching for lorazepam and for drugs whose "
            "preparations make small cuts hard, such as alprazolam; nice-cks-bzd-withdrawal)"
        )
        if request.person.liver_impairment:
            text += (
                " - but with liver impairment diazepam can accumulate, so only with specialist "
                "advice (sps-equivalents)"
            )
        out.append((text, {"crossover": DIAZEPAM}))
    if not prefs.liquid and any(
        p.form.is_liquid for d in drugs for p in d.products_in(prefs.market)
    ):
        out.append(
            (
                f"--liquid: an oral solution is sold in the {prefs.market.upper()} market and can "
                "be measured in small amounts",
                {"liquid": True},
            )
        )
    if not prefs.compounded:
        out.append(
            (
                "--compounded: a pharmacy can make capsules of smaller strengths",
                {"compounded": True},
            )
        )
    other = "uk" if prefs.market == "us" else "us"
    if all(d.products_in(other) for d in drugs):  # type: ignore[arg-type]
        out.append(
            (
                f"--market {other}: the products sold in the {other.upper()} market",
                {"market": other},
            )
        )
    return out


def ways_forward(
    request: PlanRequest,
    catalogue: Catalogue,
    plan: Callable[[PlanRequest], object],
) -> list[str]:
    """The candidates for which ``plan`` (make_plan without explanations) succeeds."""
    found: list[str] = []
    for text, update in _candidates(request, catalogue):
        prefs = request.preferences.model_copy(update=update)
        try:
            plan(request.model_copy(update={"preferences": prefs}))
        except BenzotaperError:
            continue
        found.append(text)
    return found


def short_reason(stop: AbruptStop, drug_name: str) -> str:
    """One line for tables (compare): what the refused plan would have done."""
    return (
        f"would stop {drug_name} from {stop.last_mg:g} mg a day "
        f"({stop.last_de:.3g} mg diazepam-equivalent) at once"
    )


def refusal(stop: AbruptStop, drug_name: str, options: Sequence[str] | None) -> AbruptStopError:
    """The error for ``stop``; ``options`` None means they were not computed (inner call)."""
    message = (
        f"This plan would stop {drug_name} from {stop.last_mg:g} mg a day "
        f"({stop.last_de:.3g} mg diazepam-equivalent) in one go, because the products allowed "
        f"cannot make smaller doses. That is {stop.last_de / stop.start_de * 100:.0f}% of the "
        f"starting {stop.start_de:.3g} mg diazepam-equivalent, more than the "
        f"{stop.max_percent:g}% the guideline allows as a single reduction, so it would amount "
        "to stopping abruptly, which benzotaper never proposes."
    )
    if options is None:
        pass
    elif options:
        message += " Ways forward to discuss with your prescriber: " + "; ".join(options) + "."
    else:
        message += (
            " None of --crossover diazepam, --liquid, --compounded or the other market's "
            "products gets around this here: ask your prescriber or pharmacist about other "
            "products."
        )
    return AbruptStopError(message, stop=stop, options=list(options or []))
