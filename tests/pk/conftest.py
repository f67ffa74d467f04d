"""A catalogue with the shipped drugs plus hand-made drugs whose kinetics make exact checks easy."""

from __future__ import annotations

import math

import pytest

from benzotaper.catalogue import Catalogue, Drug, default_catalogue
from benzotaper.pk import Context


def make_drug(drug_id: str, **pk: object) -> Drug:
    """A drug with the given pk fields (values as plain numbers, sourced to ashton2002)."""
    fields: dict[str, object] = {}
    for key, value in pk.items():
        fields[key] = value if isinstance(value, bool) else {"value": value, "source": "ashton2002"}
    return Drug.model_validate(
        {
            "id": drug_id,
            "name": drug_id.capitalize(),
            "class": "benzodiazepine",
            "uses": ["anxiolytic"],
            "max_daily_mg": {"value": 40, "source": "ashton2002"},
            "equivalents": [{"value": 5, "source": "ashton2002"}],  # 5 mg ≈ 10 mg diazepam
            "pk": fields,
        }
    )


#: parent-only, ordinary absorption
SIMPLE = make_drug("simplezepam", half_life_h=12.0, tmax_h=2.0, bioavailability=0.8)
#: tmax = 1/ke exactly, so ka = ke (the case where the Bateman formula divides by zero)
EQUAL = make_drug("equalzepam", half_life_h=10 * math.log(2), tmax_h=10.0)
#: older-adult half-life given
AGED = make_drug("agedzepam", half_life_h=20.0, half_life_elderly_h=40.0, tmax_h=1.0)
NOHALF = make_drug("nohalfzepam", tmax_h=1.0)


@pytest.fixture(scope="session")
def test_catalogue() -> Catalogue:
    real = default_catalogue()
    drugs = dict(real.drugs)
    for d in (SIMPLE, EQUAL, AGED, NOHALF):
        drugs[d.id] = d
    # chains described in pk_assumptions.toml, for drugs the shipped catalogue may not have yet
    drugs.setdefault("chlordiazepoxide", make_drug("chlordiazepoxide", half_life_h=17.5))
    drugs.setdefault("clorazepate", make_drug("clorazepate", prodrug=True))
    drugs.setdefault(
        "lorazepam", make_drug("lorazepam", half_life_h=12.0, tmax_h=2.0, bioavailability=0.9)
    )
    return Catalogue(
        version=real.version,
        default_source=real.default_source,
        default_source_reason=real.default_source_reason,
        drugs=drugs,
        references=real.references,
    )


@pytest.fixture(scope="session")
def ctx(test_catalogue: Catalogue) -> Context:
    return Context.default(test_catalogue)
