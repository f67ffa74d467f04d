"""The taper for a patient read from the EHR, made by the planner like every other edge's.

The planner decides everything (pace from the risk rules, products, guardrails); a plan it
refuses (e.g. one that could only end by stopping abruptly) comes back as the refusal's words
so the card can say why no draft is attached, instead of attaching something unsafe.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from benzotaper.catalogue import Catalogue, Market
from benzotaper.ehr.record import PatientRecord
from benzotaper.errors import BenzotaperError
from benzotaper.planning.models import Plan, PlanRequest, Preferences

#: What to try when the plain tablet taper is refused, in order, with how the card says it:
#: the ways forward the planner's stop guard names (a measured liquid, switching to diazepam).
ROUTES: tuple[tuple[dict[str, object], str], ...] = (
    ({}, ""),
    ({"liquid": True}, "using the oral solution for the smallest doses"),
    ({"crossover": "diazepam"}, "switching to diazepam first"),
)


@dataclass(frozen=True)
class Taper:
    plan: Plan | None
    refusal: str | None = None
    route: str = ""


def request_for(
    record: PatientRecord, market: Market, start: dt.date, **options: object
) -> PlanRequest:
    return PlanRequest(
        regimen=record.reading.regimen,
        person=record.person(),
        preferences=Preferences.model_validate({"market": market, "start": start, **options}),
    )


def taper_for(
    record: PatientRecord, catalogue: Catalogue, today: dt.date, market: Market = "us"
) -> Taper:
    """The default plan (the risk rules pick the pace) starting tomorrow; when the planner
    refuses it, the routes it names as ways forward, in order; else why there is none."""
    from benzotaper.knowledge import knowledge_for
    from benzotaper.planning.engine import make_plan

    if not record.reading.regimen:
        return Taper(None, "No current benzodiazepine or Z-drug dose could be read.")
    first_refusal = ""
    for options, route in ROUTES:
        request = request_for(record, market, today + dt.timedelta(days=1), **options)
        try:
            return Taper(make_plan(request, knowledge_for(catalogue), today=today), route=route)
        except BenzotaperError as exc:
            first_refusal = first_refusal or str(exc)
    return Taper(None, first_refusal)
