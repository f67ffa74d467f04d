"""Export test fixtures: a hand-made plan with every kind of dose, and a plan from make_plan.

``plan`` runs a test on both (generic properties); ``handmade`` is for tests that check the
hand-made plan's known details (its crossover, its hold, its exact wording).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from plan_fixture import build_plan

from benzotaper.catalogue import Catalogue, Drug
from benzotaper.knowledge import default_knowledge
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import Administration, Hold, Plan, PlanRequest, Preferences

REAL_REQUEST = PlanRequest(
    regimen=[
        Administration(drug="lorazepam", mg=1, time="08:00"),
        Administration(drug="lorazepam", mg=1, time="22:00"),
    ],
    preferences=Preferences(
        liquid=True,
        start=dt.date(2026, 12, 1),
        holds=[Hold(start=dt.date(2027, 3, 1), days=14, reason="exams")],
    ),
)


@pytest.fixture(scope="session")
def real_plan(catalogue: Catalogue) -> Plan:
    """What the planner makes for lorazepam 1 mg twice a day, liquid allowed, with one hold."""
    return make_plan(REAL_REQUEST, default_knowledge(), today=dt.date(2026, 11, 26))


@pytest.fixture
def handmade() -> Plan:
    return build_plan()


@pytest.fixture(params=["handmade", "make_plan"])
def plan(request: pytest.FixtureRequest, real_plan: Plan) -> Plan:
    return build_plan() if request.param == "handmade" else real_plan.model_copy(deep=True)


@pytest.fixture(scope="session")
def full_catalogue(catalogue: Catalogue) -> Catalogue:
    """The shipped catalogue, plus lorazepam (Ashton: 1 mg ≈ 10 mg diazepam) if not yet in it."""
    if "lorazepam" in catalogue.drugs:
        return catalogue
    lorazepam = Drug.model_validate(
        {
            "id": "lorazepam",
            "name": "Lorazepam",
            "class": "benzodiazepine",
            "brands": {"us": ["Ativan"]},
            "uses": ["anxiolytic"],
            "max_daily_mg": {"value": 10, "source": "ashton2002"},
            "equivalents": [{"value": 1, "source": "ashton2002"}],
        }
    )
    return dataclasses.replace(
        catalogue, drugs={**catalogue.drugs, "lorazepam": lorazepam}, _names={}
    )
