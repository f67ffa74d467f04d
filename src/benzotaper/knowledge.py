"""Everything benzotaper knows, loaded once: the catalogue and every rules file, source-checked.

The core (planning, journal rules, pharmacokinetics) never opens a file: the edges (CLI, web
app) call ``default_knowledge()`` once and pass the resulting ``Knowledge`` in. Loading is
strict: a malformed file, an unknown field or a source key missing from ``references.toml``
stops it with the file and field named. Each file's ``version`` is kept, so every plan can say
which rules made it (``Summary.rule_versions``).
"""

from __future__ import annotations

import dataclasses
import pickle
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import BaseModel

from benzotaper.catalogue.catalogue import Catalogue
from benzotaper.catalogue.loader import DATA_DIR, default_catalogue, load_catalogue
from benzotaper.catalogue.models import Sourced
from benzotaper.errors import CatalogueError

if TYPE_CHECKING:
    from benzotaper.journal.adaptive import AdaptiveRules
    from benzotaper.journal.scales import ScaleBook
    from benzotaper.occupancy import OccupancyModel
    from benzotaper.pk.assumptions import PkAssumptions
    from benzotaper.planning.crossover_rules import CrossoverRules
    from benzotaper.planning.home_methods import HomeRules
    from benzotaper.planning.risk import RiskRules
    from benzotaper.planning.rules import PacingRules


class _Parts:
    """The rules parts, each kept as its own pickle until first asked for, and their versions.

    A command imports the modules of the parts it uses, no others: ``benzotaper plan`` never
    imports the journal's adaptive rules or its scales (reading a part's pickle imports its
    module). Parts loaded from the files are held as they are.
    """

    def __init__(self, parts: Mapping[str, Any], versions: Mapping[str, str]) -> None:
        self._parts = dict(parts)
        self.versions = dict(versions)
        self._lock = threading.Lock()  # a server's threads read a part once, the same object

    @classmethod
    def stored(cls, parts: Mapping[str, Any]) -> _Parts:
        """Parts as a snapshot keeps them: each pickled on its own."""
        packed = {n: pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL) for n, p in parts.items()}
        return cls(packed, {n: str(p.version) for n, p in parts.items()})

    def get(self, name: str) -> Any:
        with self._lock:
            part = self._parts[name]
            if isinstance(part, bytes):
                part = self._parts[name] = pickle.loads(part)
            return part

    def __reduce__(self) -> tuple[type[_Parts], tuple[dict[str, Any], dict[str, str]]]:
        return _Parts, (self._parts, self.versions)  # a lock is not pickled: a new one


@dataclass(frozen=True)
class Knowledge:
    """The catalogue and every rules file, validated and source-checked (immutable). Each
    rules part is read from the snapshot when first used (see ``_Parts``)."""

    catalogue: Catalogue
    _parts: _Parts = dataclasses.field(repr=False)

    @property
    def pacing(self) -> PacingRules:
        return cast("PacingRules", self._parts.get("pacing"))

    @property
    def risk(self) -> RiskRules:
        return cast("RiskRules", self._parts.get("risk"))

    @property
    def crossover(self) -> CrossoverRules:
        return cast("CrossoverRules", self._parts.get("crossover"))

    @property
    def adaptive(self) -> AdaptiveRules:
        return cast("AdaptiveRules", self._parts.get("adaptive"))

    @property
    def scales(self) -> ScaleBook:
        return cast("ScaleBook", self._parts.get("scales"))

    @property
    def pk(self) -> PkAssumptions:
        return cast("PkAssumptions", self._parts.get("pk"))

    @property
    def occupancy(self) -> OccupancyModel:
        return cast("OccupancyModel", self._parts.get("occupancy"))

    @property
    def home(self) -> HomeRules:
        return cast("HomeRules", self._parts.get("home"))

    def with_catalogue(self, catalogue: Catalogue) -> Knowledge:
        """The same rules with another catalogue, their sources checked against its references
        (for an edge or test given its own catalogue)."""
        if catalogue is self.catalogue:
            return self
        for name, relative in _FILES.items():
            _checked(getattr(self, name), relative, catalogue)
        return dataclasses.replace(self, catalogue=catalogue)

    def versions(self) -> dict[str, str]:
        """The version of each data file, stamped into every plan's summary (kept beside the
        parts: no part is read for it)."""
        named = {"pk": "pk_assumptions", "home": "home_methods"}
        rules = {named.get(n, n): v for n, v in self._parts.versions.items()}
        return {"catalogue": self.catalogue.version, **rules}


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
    cat = catalogue or load_catalogue(data_dir or DATA_DIR)
    parts = _load_rules(data_dir or DATA_DIR, cat)
    return Knowledge(cat, _Parts(parts, {n: p.version for n, p in parts.items()}))


def _load_rules(root: Path, cat: Catalogue) -> dict[str, Any]:
    from benzotaper.journal.adaptive import load_rules
    from benzotaper.journal.scales import load_scales
    from benzotaper.occupancy import load_occupancy_model
    from benzotaper.pk.assumptions import load_pk_assumptions
    from benzotaper.planning.crossover import load_crossover_rules
    from benzotaper.planning.home_methods import load_home_rules
    from benzotaper.planning.risk import load_risk_rules
    from benzotaper.planning.rules import load_pacing_rules

    loaders: dict[str, Callable[[Path], BaseModel]] = {
        "pacing": load_pacing_rules,
        "risk": load_risk_rules,
        "crossover": load_crossover_rules,
        "adaptive": load_rules,
        "scales": load_scales,
        "pk": load_pk_assumptions,
        "occupancy": load_occupancy_model,
        "home": load_home_rules,
    }
    return {
        name: _checked(loaders[name](root / relative), relative, cat)
        for name, relative in _FILES.items()
    }


@lru_cache(maxsize=1)
def default_knowledge() -> Knowledge:
    """The shipped knowledge, loaded and checked once per process (edges call this); the rules
    come from the validated snapshot of the same files when there is one (``benzotaper.snapshot``,
    keyed on every data file, the catalogue's included, so the rules were checked against it)."""
    from benzotaper.snapshot import snapshot

    catalogue = default_catalogue()

    def rules() -> _Parts:
        return _Parts.stored(_load_rules(DATA_DIR, catalogue))

    return Knowledge(catalogue, snapshot("rules", rules, _Parts))


def knowledge_for(catalogue: Catalogue) -> Knowledge:
    """The shipped rules with ``catalogue`` (itself when it is the shipped catalogue)."""
    return default_knowledge().with_catalogue(catalogue)
