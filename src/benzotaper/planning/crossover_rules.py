"""Crossover rules (data/rules/crossover.toml) as typed, sourced models, loaded strictly.

Every clinical number carries a source key; values the data file marks POLICY are software
decisions. ``planning.crossover`` applies them.
"""

# No "from __future__ import annotations": see benzotaper.planning.models.
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, Self

from pydantic import field_validator, model_validator

from benzotaper.catalogue import Sourced
from benzotaper.catalogue.catalogue import iter_sourced
from benzotaper.catalogue.loader import DATA_DIR, read_toml, validate
from benzotaper.catalogue.models import SourceKey, Strict
from benzotaper.errors import CatalogueError

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class TargetRule(Strict):
    source: SourceKey
    unverified: bool = False
    note: str | None = None


class CrossoverRules(Strict):
    version: str
    targets: dict[str, TargetRule]
    step_days: Sourced
    use_step_days: int
    review_days: Sourced
    stabilise_days: Sourced
    use_stabilise_days: int
    order: Literal["night-first"]
    order_source: SourceKey
    night_wraps_before: str
    max_portion_mg_de: Sourced
    de_tolerance_mg: float
    de_tolerance_fraction: float
    spread_caution_ratio: Sourced
    older_adult_age: Sourced
    high_dose_mg_de: Sourced
    older_adult_sources: list[SourceKey]
    liver_sources: list[SourceKey]
    evidence_source: SourceKey
    monitoring_sources: list[SourceKey]
    multi_drug: Literal["consolidate"]
    multi_drug_source: SourceKey

    @field_validator("night_wraps_before")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not _HHMM.match(v):
            raise ValueError(f"must be HH:MM, not {v!r}")
        return v

    @model_validator(mode="after")
    def _within_sources(self) -> Self:
        if not self.step_days.low <= self.use_step_days <= self.step_days.high:
            raise ValueError(f"use_step_days {self.use_step_days} is outside the sourced range")
        if not self.targets:
            raise ValueError("targets: at least one target drug is needed")
        return self

    def source_keys(self) -> set[str]:
        keys = {fact.source for _, fact in iter_sourced(self)}
        keys.update(t.source for t in self.targets.values())
        keys.update(self.older_adult_sources + self.liver_sources + self.monitoring_sources)
        keys.update({self.order_source, self.evidence_source, self.multi_drug_source})
        return keys


def load_crossover_rules(
    path: Path | None = None, references: Mapping[str, object] | None = None
) -> CrossoverRules:
    """Read and validate the crossover rules; with ``references``, every source must resolve."""
    file = path or DATA_DIR / "rules" / "crossover.toml"
    rules = validate(CrossoverRules, read_toml(file), f"rules/{file.name}")
    if references is not None:
        for key in sorted(rules.source_keys()):
            if key not in references:
                raise CatalogueError(f"rules/{file.name}: source {key!r} is not in references.toml")
    return rules


def default_crossover_rules() -> CrossoverRules:
    """The shipped rules, from the one cached ``Knowledge`` (for tests and scripts)."""
    from benzotaper.knowledge import default_knowledge

    return default_knowledge().crossover
