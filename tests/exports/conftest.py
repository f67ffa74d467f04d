"""Export test fixtures: a hand-made realistic plan, and a catalogue that names its drugs."""

from __future__ import annotations

import dataclasses

import pytest
from plan_fixture import build_plan

from benzotaper.catalogue import Catalogue, Drug
from benzotaper.planning.models import Plan


@pytest.fixture
def plan() -> Plan:
    return build_plan()


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
