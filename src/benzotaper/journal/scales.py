"""Scoring of withdrawal and mood scales, from the scale definitions in ``data/scales.toml``.

Pure: :func:`score` takes the definitions as an argument. Bands are reported only where the
source establishes them; otherwise the result says the cut-off is not established. A PHQ-9
item 9 above zero always raises crisis information, whatever the total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from benzotaper.catalogue.loader import DATA_DIR, read_toml, validate
from benzotaper.catalogue.models import SourceKey, Strict
from benzotaper.errors import CatalogueError, InputError

ScaleId = Literal["ciwa-b", "bwsq", "gad-7", "phq-9"]
SCALE_IDS: tuple[ScaleId, ...] = ("ciwa-b", "bwsq", "gad-7", "phq-9")


class Band(Strict):
    low: int
    high: int
    label: str
    source: SourceKey
    unverified: bool = False


class ScaleDef(Strict):
    name: str
    short: str
    source: SourceKey
    item_count: int = Field(ge=1)
    item_min: int
    item_max: int
    item_scoring_unverified: bool = False
    total_note: str | None = None
    wording: Literal["published", "labels"]
    wording_note: str
    #: Why the published item wording is not shown (licence, or not verifiable), and where the
    #: scale is published (URLs the page links to).
    wording_reason: str | None = None
    published_at: list[str] = Field(default_factory=list)
    items: list[str] = Field(default_factory=list)
    #: Published answer labels, lowest score first (only where checked; else numbers only).
    answer_labels: list[str] = Field(default_factory=list)
    bands_established: bool
    bands_note: str
    bands: list[Band] = Field(default_factory=list)
    quoted_bands: list[Band] = Field(default_factory=list)
    crisis_item: int | None = None
    crisis_source: SourceKey | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ScaleDef:
        if self.items and len(self.items) != self.item_count:
            raise ValueError(f"{len(self.items)} item texts for {self.item_count} items")
        answers = self.item_max - self.item_min + 1
        if self.answer_labels and len(self.answer_labels) != answers:
            raise ValueError(f"{len(self.answer_labels)} answer labels for {answers} answers")
        if self.wording == "labels" and not (self.wording_reason and self.published_at):
            raise ValueError("a scale shown without its wording says why and where it is published")
        if self.bands_established and not self.bands:
            raise ValueError("bands_established needs bands")
        if not self.bands_established and self.bands:
            raise ValueError("bands given but not established: use quoted_bands")
        return self

    @property
    def max_total(self) -> int:
        return self.item_count * self.item_max

    @property
    def item_labels(self) -> list[str]:
        return self.items or [f"Item {i}" for i in range(1, self.item_count + 1)]


class Symptom(Strict):
    key: str
    label: str


class QuickDef(Strict):
    source: SourceKey
    item_min: int
    item_max: int
    note: str
    symptoms: list[Symptom]

    @property
    def keys(self) -> list[str]:
        return [s.key for s in self.symptoms]


class DangerDef(Strict):
    source: SourceKey
    message: str
    signs: list[Symptom]
    crisis_message: str

    @property
    def keys(self) -> list[str]:
        return [s.key for s in self.signs]


class ScaleBook(Strict):
    """Every scale definition, as shipped in ``data/scales.toml``."""

    version: str
    scales: dict[ScaleId, ScaleDef]
    quick: QuickDef
    danger: DangerDef


class ScaleScore(BaseModel):
    """A scored check-in: total, band (or why there is none), crisis flag and sources."""

    scale: str
    short: str
    items: list[int]
    total: int
    max_total: int
    band: str | None
    band_established: bool
    band_note: str
    total_note: str | None = None
    crisis: bool = False
    crisis_message: str | None = None
    sources: list[str]


def load_scales(path: Path | None = None) -> ScaleBook:
    """Read and validate the scale definitions (an adapter step; the scoring itself is pure)."""
    where = path or DATA_DIR / "scales.toml"
    book = validate(ScaleBook, read_toml(where), where.name)
    missing = set(SCALE_IDS) - set(book.scales)
    if missing:
        raise CatalogueError(f"{where.name}: scales missing: {', '.join(sorted(missing))}")
    return book


def default_scales() -> ScaleBook:
    """The shipped scales, from the one cached ``Knowledge`` (loaded and source-checked once)."""
    from benzotaper.knowledge import default_knowledge

    return default_knowledge().scales


def parse_items(text: str) -> list[int]:
    """``"0,1,2, 3"`` → ``[0, 1, 2, 3]``; anything else is a clear InputError."""
    parts = [p.strip() for p in text.replace(";", ",").split(",")]
    try:
        return [int(p) for p in parts if p != ""]
    except ValueError:
        raise InputError(
            f"Item scores must be whole numbers separated by commas, not {text!r}"
        ) from None


def score(book: ScaleBook, scale: str, items: Sequence[int]) -> ScaleScore:
    """Score one completed scale; item count and ranges are checked, never guessed."""
    if scale not in book.scales:
        raise InputError(f"Unknown scale {scale!r}; known: {', '.join(book.scales)}")
    d = book.scales[scale]
    if len(items) != d.item_count:
        raise InputError(f"{d.short} needs {d.item_count} item scores, got {len(items)}")
    for i, v in enumerate(items, start=1):
        if not d.item_min <= v <= d.item_max:
            raise InputError(f"{d.short} item {i}: {v} is outside {d.item_min}-{d.item_max}")
    total = sum(items)
    sources = [d.source]
    if d.bands_established:
        band = next(b for b in d.bands if b.low <= total <= b.high)
        label: str | None = band.label
        note = d.bands_note
    else:
        label = None
        note = d.bands_note
    crisis = False
    message = None
    if d.crisis_item is not None and items[d.crisis_item - 1] > 0:
        crisis = True
        message = book.danger.crisis_message
        if d.crisis_source and d.crisis_source not in sources:
            sources.append(d.crisis_source)
    return ScaleScore(
        scale=scale,
        short=d.short,
        items=list(items),
        total=total,
        max_total=d.max_total,
        band=label,
        band_established=d.bands_established,
        band_note=note,
        total_note=d.total_note,
        crisis=crisis,
        crisis_message=message,
        sources=sources,
    )


def check_quick(book: ScaleBook, ratings: Mapping[str, int]) -> dict[str, int]:
    """Validate quick check-in ratings (known symptom keys, 0-10)."""
    q = book.quick
    out: dict[str, int] = {}
    for key, value in ratings.items():
        if key not in q.keys:
            raise InputError(f"Unknown symptom {key!r}; known: {', '.join(q.keys)}")
        if not q.item_min <= value <= q.item_max:
            raise InputError(f"{key}: {value} is outside {q.item_min}-{q.item_max}")
        out[key] = int(value)
    return out


def parse_quick(text: str) -> dict[str, int]:
    """``"anxiety=5, insomnia=7"`` → ``{"anxiety": 5, "insomnia": 7}``."""
    out: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise InputError(f"Write quick ratings as name=score, not {part!r}")
        try:
            out[key.strip().lower().replace("-", "_")] = int(value)
        except ValueError:
            raise InputError(f"{key.strip()}: {value.strip()!r} is not a whole number") from None
    return out


def parse_danger(book: ScaleBook, text: str) -> list[str]:
    """``"seizure, confusion"`` → ``["seizure", "confusion"]``; unknown signs are an InputError."""
    signs = [s.strip().lower().replace("-", "_") for s in text.split(",") if s.strip()]
    unknown = [s for s in signs if s not in book.danger.keys]
    if unknown:
        raise InputError(
            f"Unknown danger sign {unknown[0]!r}; known: {', '.join(book.danger.keys)}"
        )
    return signs
