"""The measure definitions (``data/measures.toml``), loaded strictly.

Each measure carries the references that define it, what benzotaper adapts and what it cannot
see; every number (ages, thresholds, day counts) is a :class:`Sourced` value. The loader checks
that every source key resolves to ``references.toml`` (through the catalogue) and that the rates
a measure needs are there, so a typo stops at start-up instead of producing a silent wrong rate.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from benzotaper.catalogue import Catalogue, Sourced
from benzotaper.catalogue.loader import DATA_DIR, read_toml, validate
from benzotaper.catalogue.models import SourceKey, Strict
from benzotaper.errors import CatalogueError

#: The measures the core computes, and the rate ids each must define (in this order).
RATE_IDS: dict[str, tuple[str, ...]] = {
    "dbo": ("dbo-10", "dbo-20", "dbo-25", "dbo-50"),
    "dae": ("dae-z", "dae-bzd", "dae-total"),
    "dde": ("dde-falls", "dde-dementia"),
    "cob": ("cob",),
    "completion": ("completion", "completion-maintain"),
    "time-to-zero": ("time-to-zero",),
    "holds": ("holds",),
    "reinstatements": ("reinstatements",),
    "still-off": ("still-off-6m", "still-off-12m"),
}


class RateDef(Strict):
    id: str
    label: str
    source: SourceKey | None = None
    threshold: Sourced | None = None
    checkpoint: int | None = Field(default=None, ge=0)
    primary: bool = False
    computable: bool = True

    @property
    def source_key(self) -> str:
        """The reference for this rate: its own, else its threshold's."""
        if self.source is not None:
            return self.source
        if self.threshold is not None:
            return self.threshold.source
        raise CatalogueError(f"measures.toml: rate {self.id!r} has no source")


class MeasureDef(Strict):
    id: str
    title: str
    steward: str
    kind: Literal["published", "project"]
    scoring: Literal["proportion", "ratio", "continuous"]
    improvement: Literal["increase", "decrease"]
    sources: list[SourceKey] = Field(min_length=1)
    definition: str
    adaptation: str
    cannot_see: list[str] = Field(default_factory=list)
    min_age: Sourced | None = None
    opioid_days: Sourced | None = None
    overlap_days: Sourced | None = None
    rates: list[RateDef] = Field(min_length=1)

    def rate(self, rate_id: str) -> RateDef:
        for r in self.rates:
            if r.id == rate_id:
                return r
        raise KeyError(rate_id)


class MeasurePolicy(Strict):
    supply_days: Sourced
    dbo_end_window_days: Sourced
    still_off_days: list[Sourced] = Field(min_length=2, max_length=2)


class MeasureBook(Strict):
    version: str
    policy: MeasurePolicy
    measures: list[MeasureDef]

    def measure(self, measure_id: str) -> MeasureDef:
        for m in self.measures:
            if m.id == measure_id:
                return m
        raise KeyError(measure_id)

    def source_keys(self) -> set[str]:
        keys = {s.source for s in (self.policy.supply_days, self.policy.dbo_end_window_days)}
        keys |= {s.source for s in self.policy.still_off_days}
        for m in self.measures:
            keys |= set(m.sources)
            keys |= {s.source for s in (m.min_age, m.opioid_days, m.overlap_days) if s}
            keys |= {r.source_key for r in m.rates}
        return keys


def load_measure_book(catalogue: Catalogue, path: Path | None = None) -> MeasureBook:
    """Read and check ``measures.toml``; every source must be in ``catalogue.references``."""
    where = path or DATA_DIR / "measures.toml"
    book = validate(MeasureBook, read_toml(where), where.name)
    found = {m.id: tuple(r.id for r in m.rates) for m in book.measures}
    if found != RATE_IDS:
        raise CatalogueError(f"{where.name}: measures and rates must be exactly {RATE_IDS}")
    for m in book.measures:
        if sum(r.primary for r in m.rates) != 1:
            raise CatalogueError(f"{where.name}: measure {m.id!r} needs exactly one primary rate")
    unknown = sorted(book.source_keys() - set(catalogue.references))
    if unknown:
        raise CatalogueError(f"{where.name}: sources not in references.toml: {unknown}")
    return book


@lru_cache(maxsize=1)
def default_measure_book() -> MeasureBook:
    from benzotaper.catalogue import default_catalogue

    return load_measure_book(default_catalogue())
