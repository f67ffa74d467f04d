"""Typed shape of the drug catalogue; every number carries the key of the source it came from."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

SourceKey = Annotated[str, Field(min_length=2, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]


class Strict(BaseModel):
    """Base for data-file models: unknown fields are errors, objects are immutable.

    ``defer_build``: a model's validator is built when it first validates, not when its module
    is imported. The shipped data come from a validated snapshot (``benzotaper.snapshot``)
    without validation, so most of these sixty models (catalogue and rules) never validate in
    a command's process; building them all at import was a large share of its start-up.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Sourced(Strict):
    """A number or a range [low, high] as one source gives it.

    Data files write either ``value = x`` or ``low = a, high = b``; both end up as low/high.
    """

    low: float = Field(ge=0)
    high: float = Field(ge=0)
    source: SourceKey
    unverified: bool = False
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _value_to_range(cls, data: object) -> object:
        if isinstance(data, dict) and "value" in data:
            data = dict(data)
            if "low" in data or "high" in data:
                raise ValueError("give either 'value' or 'low'/'high', not both")
            value = data.pop("value")
            data["low"] = data["high"] = value
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) is greater than high ({self.high})")
        return self

    @property
    def is_range(self) -> bool:
        return self.low != self.high

    @property
    def mid(self) -> float:
        return (self.low + self.high) / 2

    def as_json(self) -> float | list[float]:
        return [self.low, self.high] if self.is_range else self.low


class DrugClass(StrEnum):
    BENZODIAZEPINE = "benzodiazepine"
    Z_DRUG = "z-drug"


class Use(StrEnum):
    ANXIOLYTIC = "anxiolytic"
    HYPNOTIC = "hypnotic"
    ANTICONVULSANT = "anticonvulsant"
    SEDATION = "sedation"


class Form(StrEnum):
    TABLET = "tablet"
    ODT = "orally_disintegrating_tablet"
    SUBLINGUAL_TABLET = "sublingual_tablet"
    CAPSULE = "capsule"
    ORAL_SOLUTION = "oral_solution"
    ORAL_SUSPENSION = "oral_suspension"
    ER_TABLET = "extended_release_tablet"
    ER_CAPSULE = "extended_release_capsule"
    COMPOUNDED_CAPSULE = "compounded_capsule"

    @property
    def is_liquid(self) -> bool:
        return self in (Form.ORAL_SOLUTION, Form.ORAL_SUSPENSION)

    @property
    def may_ever_split(self) -> bool:
        return self in (Form.TABLET, Form.ODT)


class Split(StrEnum):
    """How a solid product may be divided, as its labelling (scoring) allows."""

    NONE = "none"
    HALF = "half"
    QUARTER = "quarter"

    @property
    def pieces(self) -> int:
        return {Split.NONE: 1, Split.HALF: 2, Split.QUARTER: 4}[self]


Market = Literal["us", "uk"]
MARKETS: tuple[Market, ...] = ("us", "uk")


#: A SNOMED CT-style id (RxCUI or dm+d id): digits, no leading zero, at most 18.
_CODE = r"^[1-9][0-9]{0,17}$"


class ProductCode(Strict):
    """A product's concept in a national drug terminology, with where the code was read.

    US products carry their RxNorm clinical drug (SCD) RxCUI, UK products their dm+d VMP or
    AMP id; an EHR sends these codes, so they are how a MedicationRequest is matched to a
    product. ``display`` is the terminology's own name for the concept, as the source prints it.

    ``previous`` holds earlier ids of the same concept (dm+d's "VMP previous" id, kept when a
    VMP is given a new id): older records still carry them, so they are read, never sent.
    """

    code: Annotated[str, Field(pattern=_CODE)]
    display: str = Field(min_length=3)
    source: SourceKey
    unverified: bool = False
    note: str | None = None
    previous: tuple[Annotated[str, Field(pattern=_CODE)], ...] = ()

    @property
    def all_codes(self) -> tuple[str, ...]:
        """The current code first, then the earlier ones."""
        return (self.code, *self.previous)


class Product(Strict):
    """One product on sale in one market."""

    market: Market
    form: Form
    strength_mg: float | None = Field(default=None, gt=0)
    mg_per_ml: float | None = Field(default=None, gt=0)
    split: Split = Split.NONE
    name: str | None = None
    source: SourceKey
    unverified: bool = False
    note: str | None = None
    rxnorm: ProductCode | None = None
    dmd: ProductCode | None = None

    @model_validator(mode="after")
    def _coded_in_its_market(self) -> Self:
        if self.rxnorm is not None and self.market != "us":
            raise ValueError("an RxNorm code belongs to a US product (market = 'us')")
        if self.dmd is not None and self.market != "uk":
            raise ValueError("a dm+d code belongs to a UK product (market = 'uk')")
        return self

    @property
    def code(self) -> ProductCode | None:
        """The product's code in its market's terminology (RxNorm or dm+d), if known."""
        return self.rxnorm if self.market == "us" else self.dmd

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.form.is_liquid:
            if self.mg_per_ml is None or self.strength_mg is not None:
                raise ValueError(f"form {self.form.value!r} needs mg_per_ml and no strength_mg")
            if self.split is not Split.NONE:
                raise ValueError("a liquid cannot be split")
        else:
            if self.strength_mg is None or self.mg_per_ml is not None:
                raise ValueError(f"form {self.form.value!r} needs strength_mg and no mg_per_ml")
            if self.split is not Split.NONE and not self.form.may_ever_split:
                raise ValueError(
                    f"form {self.form.value!r} must never be split (split = {self.split.value!r})"
                )
        return self

    @property
    def label(self) -> str:
        form = self.form.value.replace("_", " ")
        if self.mg_per_ml is not None:
            return f"{_num(self.mg_per_ml)} mg/mL {form}"
        return f"{_num(self.strength_mg or 0)} mg {form}"


class Metabolite(Strict):
    name: str
    active: bool = True
    half_life_h: Sourced
    note: str | None = None


class Pharmacokinetics(Strict):
    """Oral, adult values; any may be missing where nothing is published."""

    bioavailability: Sourced | None = None
    tmax_h: Sourced | None = None
    half_life_h: Sourced | None = None
    half_life_elderly_h: Sourced | None = None
    volume_l_per_kg: Sourced | None = None
    prodrug: bool = False
    note: str | None = None


class Equivalent(Sourced):
    """mg of this drug taken as equal to 10 mg oral diazepam, per one source."""


class Drug(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]
    name: str
    drug_class: DrugClass = Field(alias="class")
    brands: dict[Market | Literal["other"], list[str]] = Field(default_factory=dict)
    aliases: list[str] = Field(default_factory=list)
    uses: list[Use]
    half_life_h: Sourced | None = None
    metabolites: list[Metabolite] = Field(default_factory=list)
    # made without validating: a validated instance here would build Pharmacokinetics'
    # deferred validator when this module is imported (the same value: every field's default)
    pk: Pharmacokinetics = Pharmacokinetics.model_construct()
    max_daily_mg: Sourced
    equivalents: list[Equivalent] = Field(min_length=1)
    products: list[Product] = Field(default_factory=list)
    note: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _unique_sources(self) -> Self:
        keys = [e.source for e in self.equivalents]
        if len(keys) != len(set(keys)):
            raise ValueError("an equivalence source is listed twice")
        return self

    def equivalent(self, source: str) -> Equivalent | None:
        return next((e for e in self.equivalents if e.source == source), None)

    def products_in(self, market: Market) -> list[Product]:
        return [p for p in self.products if p.market == market]

    @property
    def all_brands(self) -> list[str]:
        return [b for names in self.brands.values() for b in names]


class Reference(Strict):
    """A full citation; ``key`` is what data files write as ``source``."""

    key: SourceKey
    authors: str
    title: str
    year: int = Field(ge=1900, le=2100)
    publisher: str | None = None
    doi: str | None = None
    pmid: str | None = None
    url: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _locatable(self) -> Self:
        if not (self.doi or self.pmid or self.url):
            raise ValueError(f"reference {self.key!r} needs a doi, pmid or url")
        return self

    def citation(self) -> str:
        if self.doi:
            where = f"doi:{self.doi}"
        elif self.pmid:
            where = f"PMID {self.pmid}"
        else:
            where = self.url or ""
        return f"{self.authors.rstrip('.')}. {self.title}. {self.year}. {where}"


def _num(x: float) -> str:
    return f"{x:g}"
