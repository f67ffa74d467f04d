"""The end of a taper: what to do when a drug's products cannot make the next small cut.

When the taper loop finds a drug *stuck* (no cut of at most 25% of the current dose, or 1 mg
diazepam-equivalent, and no stop from 1 mg or less), the :class:`Chooser` picks a tail route
and records why, from which step, and what it needs from the prescriber. The fallback is never a
silent stop: the drug keeps its dose and the plan ends with a "maintain and review" step.

Routes are data (``RouteChange``), never wording for one edge: each edge words the preference
change (e.g. ``{"tail_off": ["liquid"]}``) its own way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from benzotaper.catalogue import Catalogue, Drug
from benzotaper.errors import UnknownProductError
from benzotaper.planning import dispensing
from benzotaper.planning.holds import Draft
from benzotaper.planning.models import (
    PlanRequest,
    PlanWarning,
    Preferences,
    RouteChange,
    Step,
    TailRoute,
    WayForward,
)
from benzotaper.planning.notices import warn
from benzotaper.planning.realisers import Realiser, from_formulary
from benzotaper.planning.regimen import Slot
from benzotaper.planning.rules import PacingRules
from benzotaper.planning.taper import Resolution, TaperContext, drug_total


@dataclass
class RouteTaken:
    """A route as the loop took it; ``change`` gets its step and date once steps are dated."""

    change: RouteChange
    first_draft: Draft | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def own_products(
    drug: Drug, prefs: Preferences, peak_mg: float, routes: list[RouteTaken]
) -> Realiser:
    """The person's own products for ``drug``; a drug sold only as a liquid uses the liquid."""
    try:
        f = dispensing.formulary(
            drug, prefs.market, liquid=prefs.liquid, compounded=prefs.compounded
        )
    except UnknownProductError:
        if prefs.liquid or not any(p.form.is_liquid for p in drug.products_in(prefs.market)):
            raise
        f = dispensing.formulary(drug, prefs.market, liquid=True, compounded=prefs.compounded)
        sources = [p.source for p in drug.products_in(prefs.market) if p.form.is_liquid]
        routes.append(
            RouteTaken(
                _change(
                    "liquid",
                    drug,
                    f"{drug.name} is sold in this market only as an oral liquid, so the doses "
                    "are measured from it.",
                    "The oral liquid you already take.",
                    {},
                    sources,
                )
            )
        )
        return from_formulary(f, peak_mg, "liquid")
    return from_formulary(f, peak_mg)


def _change(
    route: TailRoute,
    drug: Drug,
    reason: str,
    prescription: str,
    preference: dict[str, Any],
    sources: Sequence[str],
    chosen: Literal["auto", "asked"] = "auto",
) -> RouteChange:
    return RouteChange.model_construct(
        route=route,
        drug=drug.id,
        step=0,
        start=dt.date.min,
        chosen=chosen,
        reason=reason,
        prescription=prescription,
        preference=preference,
        sources=list(dict.fromkeys(sources)),
    )


class Chooser:
    """The stuck handler the engine gives the taper loop: picks and records a tail route."""

    def __init__(
        self,
        catalogue: Catalogue,
        request: PlanRequest,
        routes: list[RouteTaken],
        rules: PacingRules,
    ) -> None:
        self.catalogue = catalogue
        self.request = request
        self.routes = routes
        self.rules = rules

    def __call__(self, drug: Drug, state: Mapping[Slot, float], ctx: TaperContext) -> Resolution:
        mg = drug_total(state, drug.id)
        de = mg * ctx.de_per_mg[drug.id]
        self.routes.append(
            RouteTaken(
                _change(
                    "maintain",
                    drug,
                    f"The products allowed cannot take {drug.name} below {mg:g} mg a day "
                    f"({de:.3g} mg diazepam-equivalent) by a cut of at most "
                    f"{ctx.single_cut_percent:g}% of the dose (or "
                    f"{self.rules.single_cut.small_mg_de.low:g} mg diazepam-equivalent), and "
                    f"stopping from there would be more than the "
                    f"{self.rules.jump_off.max_mg_de:g} mg diazepam-equivalent a taper stops "
                    "from.",
                    "Nothing new: keep the current prescription and review it together.",
                    {},
                    [
                        self.rules.maintain.goal_source,
                        self.rules.single_cut.percent.source,
                        self.rules.jump_off.mg_de.source,
                    ],
                )
            )
        )
        return Resolution(held=True)


def maintain_draft(
    state: Mapping[Slot, float],
    ctx: TaperContext,
    held: set[str],
    catalogue: Catalogue,
    rules: PacingRules,
) -> Draft:
    """The last step when some drug could go no lower: keep the dose and review it."""
    days = int(rules.maintain.review_days.low)
    names = ", ".join(catalogue.drugs[d].name for d in sorted(held))
    return Draft(
        dict(state),
        days,
        "maintain",
        f"Maintain at the lowest dose reached ({names}) and review with your prescriber within "
        f"{days} days. Do not stop it from this dose: that would be an abrupt stop.",
        dict(ctx.makers),
    )


def maintain_warning(held: set[str], catalogue: Catalogue, rules: PacingRules) -> PlanWarning:
    names = ", ".join(catalogue.drugs[d].name for d in sorted(held))
    return warn(
        "maintain-and-review",
        "caution",
        f"This plan does not reach zero: {names} cannot be cut in small enough steps with the "
        "products allowed, so the plan ends by maintaining the lowest dose reached and reviewing "
        "it with your prescriber. The 2025 joint guideline counts reducing to the point where the "
        "risks no longer outweigh the benefits as a goal, and a lower dose kept steady is safer "
        "than stopping abruptly. See the ways forward for what would let the taper reach zero.",
        rules.maintain.goal_source,
        rules.maintain.review_days.source,
    )


def place_routes(
    routes: Sequence[RouteTaken], drafts: Sequence[Draft], steps: Sequence[Step], offset: int
) -> None:
    """Give each route the index and date of its first step."""
    for taken in routes:
        change = taken.change
        index = _first_step(change, drafts)
        step = steps[offset + index] if offset + index < len(steps) else steps[-1]
        change.step = step.index
        change.start = step.start


def _first_step(change: RouteChange, drafts: Sequence[Draft]) -> int:
    if change.route == "maintain":
        return len(drafts) - 1
    for i, d in enumerate(drafts):
        maker = d.makers.get(change.drug)
        if maker is not None and maker.route == change.route:
            return i
    return 0


def ways_forward(
    routes: Sequence[RouteTaken], request: PlanRequest, catalogue: Catalogue
) -> list[WayForward]:
    """Changes to the request that would let a plan ending in maintain reach zero."""
    return []
