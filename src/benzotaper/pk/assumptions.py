"""The simulation's labelled assumptions (data/pk_assumptions.toml), read and checked strictly.

Published figures live in the catalogue; this file holds what no source gives as one number
(formation fractions, metabolite activity, fallbacks). Loading it is the only I/O in ``pk``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, model_validator

from benzotaper.catalogue.catalogue import Catalogue, iter_sourced
from benzotaper.catalogue.loader import DATA_DIR, read_toml, validate
from benzotaper.catalogue.models import Sourced, Strict
from benzotaper.errors import CatalogueError

SpeciesName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]

#: The precursor name that means "the drug itself" (or, for a prodrug, the dose in the gut).
PARENT = "parent"


class SpeciesAssumption(Strict):
    """An active metabolite: how active it is, and its half-lives when the catalogue lacks them."""

    relative_potency: Sourced
    half_life_h: Sourced | None = None
    half_life_elderly_h: Sourced | None = None
    aliases: list[str] = Field(default_factory=list)
    note: str | None = None


class Link(Strict):
    """``fraction`` of what leaves ``precursor`` becomes ``product``."""

    precursor: SpeciesName
    product: SpeciesName
    fraction: Sourced

    @model_validator(mode="after")
    def _fraction_at_most_one(self) -> Self:
        if self.fraction.high > 1:
            raise ValueError("a formation fraction cannot exceed 1")
        if self.precursor == self.product:
            raise ValueError("a species cannot be its own metabolite")
        return self


class DrugAssumption(Strict):
    links: list[Link] = Field(default_factory=list)
    tmax_h: Sourced | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _chain_is_ordered(self) -> Self:
        seen = {PARENT}
        for link in self.links:
            if link.precursor not in seen:
                raise ValueError(
                    f"link {link.precursor} -> {link.product}: the precursor must be 'parent' "
                    "or the product of an earlier link"
                )
            if link.product in seen:
                raise ValueError(f"species {link.product!r} appears twice in the chain")
            seen.add(link.product)
        return self


class PkAssumptions(Strict):
    version: str
    elderly_age: int = Field(ge=18, le=120)
    default_tmax_h: Sourced
    default_bioavailability: Sourced
    species: dict[SpeciesName, SpeciesAssumption] = Field(default_factory=dict)
    drugs: dict[str, DrugAssumption] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _species_known(self) -> Self:
        for drug_id, drug in self.drugs.items():
            for link in drug.links:
                if link.product not in self.species:
                    raise ValueError(
                        f"drugs.{drug_id}: species {link.product!r} is not described in [species]"
                    )
        return self

    def check_sources(self, catalogue: Catalogue) -> None:
        """Every number's source key must resolve, as for the catalogue itself."""
        for where, fact in iter_sourced(self):
            if fact.source not in catalogue.references:
                raise CatalogueError(
                    f"pk_assumptions.toml: {where}: source {fact.source!r} is not in "
                    "references.toml"
                )

    def for_drug(self, drug_id: str) -> DrugAssumption:
        return self.drugs.get(drug_id, DrugAssumption())


def load_pk_assumptions(path: Path | None = None) -> PkAssumptions:
    """Read and validate the assumptions file shipped in the package (or ``path``)."""
    where = path or DATA_DIR / "pk_assumptions.toml"
    return validate(PkAssumptions, read_toml(where), where.name)
