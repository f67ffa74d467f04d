"""Everything benzotaper knows, loaded once: the catalogue and every rules file, source-checked.

The core (planning, journal rules, pharmacokinetics) never opens a file: the edges (CLI, web
app) call ``default_knowledge()`` once and pass the resulting ``Knowledge`` in. Loading is
strict: a malformed file, an unknown field or a source key missing from ``references.toml``
stops it with the file and field named. Each file's ``version`` is kept, so every plan can say
which rules made it (``Summary.rule_versions``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from benzotaper.catalogue.catalogue import Catalogue
from benzotaper.catalogue.loader import DATA_DIR, default_catalogue, load_catalogue
from benzotaper.catalogue.models import Sourced
from benzotaper.errors import CatalogueError
from benzotaper.journal.adaptive import AdaptiveRules, load_rules
from benzotaper.journal.scales import ScaleBook, load_scales
from benzotaper.occupancy import OccupancyModel, load_occupancy_model
from benzotaper.pk.assumptions import PkAssumptions, load_pk_assumptions
from benzotaper.planning.crossover import CrossoverRules, load_crossover_rules
from benzotaper.planning.home_methods import HomeRules, load_home_rules
from benzotaper.planning.risk import RiskRules, load_risk_rules
from benzotaper.planning.rules import PacingRules, load_pacing_rules


@dataclass(frozen=True)
class Knowledge:
    """The catalogue and every rules file, validated and source-checked (immutable)."""

    catalogue: Catalogue
    pacing: PacingRules
    risk: RiskRules
    crossover: CrossoverRules
    adaptive: AdaptiveRules
    scales: ScaleBook
    pk: PkAssumptions
    occupancy: OccupancyModel
    home: HomeRules

    def with_catalogue(self, catalogue: Catalogue) -> Knowledge:
        """The same rules with another catalogue, their sources checked against its references
        (for an edge or test given its own catalogue)."""
        if catalogue is self.catalogue:
            return self
        for name, relative in _FILES.items():
            _checked(getattr(self, name), relative, catalogue)
        return dataclasses.replace(self, catalogue=catalogue)

    def versions(self) -> dict[str, str]:
        """The version of each data file, stamped into every plan's summary."""
        return {
            "catalogue": self.catalogue.version,
            "pacing": self.pacing.version,
            "risk": self.risk.version,
            "crossover": self.crossover.version,
            "adaptive": self.adaptive.version,
            "scales": self.scales.version,
            "pk_assumptions": self.pk.version,
            "occupancy": self.occupancy.version,
            "home_methods": self.home.version,
        }


def cited_sources(obj: object, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (dotted path, source key) a data model cites.

    Sourced numbers, fields named ``source`` or ``*_source`` and lists named ``sources`` or
    ``*_sources`` all count, so a new rules file is checked without code of its own.
    """
    if isinstance(obj, Sourced):
        yield path, obj.source
        return
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            where = f"{path}.{name}" if path else name
            if name == "source" or name.endswith("_source"):
                if isinstance(value, str):
                    yield where, value
            elif (name == "sources" or name.endswith("_sources")) and isinstance(value, list):
                yield from ((f"{where}[{i}]", k) for i, k in enumerate(value))
            else:
                yield from cited_sources(value, where)
    elif isinstance(obj, list | tuple):
        for i, item in enumerate(obj):
            yield from cited_sources(item, f"{path}[{i}]")
    elif isinstance(obj, Mapping):
        for key, item in obj.items():
            yield from cited_sources(item, f"{path}.{key}")


M = TypeVar("M", bound=BaseModel)

#: Each rules part of ``Knowledge`` and the file it is read from (under the data folder).
_FILES = {
    "pacing": "rules/pacing.toml",
    "risk": "rules/risk.toml",
    "crossover": "rules/crossover.toml",
    "adaptive": "rules/adaptive.toml",
    "scales": "scales.toml",
    "pk": "pk_assumptions.toml",
    "occupancy": "occupancy.toml",
    "home": "rules/home_methods.toml",
}


def _checked(model: M, relative: str, catalogue: Catalogue) -> M:
    for where, key in cited_sources(model):
        if key not in catalogue.references:
            raise CatalogueError(f"{relative}: {where}: source {key!r} is not in references.toml")
    return model


def load_knowledge(data_dir: Path | None = None, catalogue: Catalogue | None = None) -> Knowledge:
    """Read the catalogue and every rules file under ``data_dir`` and check every source.

    ``catalogue``, when given, is used instead of reading the drug files again.
    """
    root = data_dir or DATA_DIR
    cat = catalogue or load_catalogue(root)
    rules = root / "rules"
    return Knowledge(
        catalogue=cat,
        pacing=_checked(load_pacing_rules(rules / "pacing.toml"), "rules/pacing.toml", cat),
        risk=_checked(load_risk_rules(rules / "risk.toml"), "rules/risk.toml", cat),
        crossover=_checked(
            load_crossover_rules(rules / "crossover.toml"), "rules/crossover.toml", cat
        ),
        adaptive=_checked(load_rules(rules / "adaptive.toml"), "rules/adaptive.toml", cat),
        scales=_checked(load_scales(root / "scales.toml"), "scales.toml", cat),
        pk=_checked(load_pk_assumptions(root / "pk_assumptions.toml"), "pk_assumptions.toml", cat),
        occupancy=_checked(load_occupancy_model(root / "occupancy.toml"), "occupancy.toml", cat),
        home=_checked(load_home_rules(rules / "home_methods.toml"), "rules/home_methods.toml", cat),
    )


@lru_cache(maxsize=1)
def default_knowledge() -> Knowledge:
    """The shipped knowledge, loaded and checked once per process (edges call this); the rules
    come from the validated snapshot of the same files when there is one (``benzotaper.snapshot``,
    keyed on every data file, the catalogue's included, so the rules were checked against it)."""
    from benzotaper.snapshot import snapshot

    catalogue = default_catalogue()

    def rules() -> _Rules:
        loaded = load_knowledge(catalogue=catalogue)
        return _Rules({name: getattr(loaded, name) for name in _FILES})

    return Knowledge(catalogue=catalogue, **snapshot("rules", rules, _Rules))


class _Rules(dict[str, Any]):
    """The rules parts of the shipped ``Knowledge`` (what its snapshot holds)."""


def knowledge_for(catalogue: Catalogue) -> Knowledge:
    """The shipped rules with ``catalogue`` (itself when it is the shipped catalogue)."""
    return default_knowledge().with_catalogue(catalogue)
