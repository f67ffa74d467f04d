"""Pacing rules (data/rules/pacing.toml) as typed, sourced models.

Every clinical number here comes from the data file with its source key; where a guideline gives
a range, the model keeps the range and says which end the planner uses, so outputs can show both.
"""

# No "from __future__ import annotations": see benzotaper.planning.models.
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, model_validator

from benzotaper.catalogue.loader import DATA_DIR, read_toml, validate
from benzotaper.catalogue.models import Market, Sourced, SourceKey, Strict
from benzotaper.errors import CatalogueError

End = Literal["low", "high"]
DoseTimeRule = Literal["daytime-first", "night-first", "largest-first", "across"]
MultiDrugPolicy = Literal["sequential", "proportional"]
PaceName = Literal["slow", "moderate", "fast"]


def pick(fact: Sourced, end: End) -> float:
    return fact.low if end == "low" else fact.high


def describe(fact: Sourced, used: float) -> dict[str, Any]:
    """A range and the value taken from it, for plan summaries (provenance shown to people)."""
    out: dict[str, Any] = {"used": used, "source": fact.source}
    if fact.is_range:
        out["range"] = [fact.low, fact.high]
    if fact.unverified:
        out["unverified"] = True
    return out


class MaxRate(Strict):
    percent: Sourced
    per_days: Sourced

    @property
    def fraction_per_day(self) -> float:
        return self.percent.low / 100 / self.per_days.low


class PaceRule(Strict):
    description: str
    percent: Sourced
    use_percent: float = Field(gt=0, le=50)
    every_days: Sourced
    use_every_days: int = Field(ge=1, le=120)
    occupancy_points: Sourced

    @model_validator(mode="after")
    def _used_within_range(self) -> Self:
        if not self.percent.low <= self.use_percent <= self.percent.high:
            raise ValueError(f"use_percent {self.use_percent} is outside the sourced range")
        if not self.every_days.low <= self.use_every_days <= self.every_days.high:
            raise ValueError(f"use_every_days {self.use_every_days} is outside the sourced range")
        return self


class Band(Strict):
    down_to_mg: float = Field(ge=0)
    step_mg: Sourced


class AshtonBands(Strict):
    total_weeks_from_40mg: Sourced
    total_weeks_from_20mg: Sourced
    every_days: Sourced
    pace_uses: dict[PaceName, End]
    pace_every_days: dict[PaceName, int]
    bands: list[Band] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        floors = [b.down_to_mg for b in self.bands]
        if floors != sorted(floors, reverse=True) or floors[-1] != 0:
            raise ValueError("bands must run from the highest floor down to 0")
        for pace, days in self.pace_every_days.items():
            if not self.every_days.low <= days <= self.every_days.high:
                raise ValueError(f"pace_every_days.{pace} = {days} is outside the sourced range")
        return self

    def band_for(self, mg_de: float) -> Band:
        for band in self.bands:
            if mg_de > band.down_to_mg + 1e-9:
                return band
        return self.bands[-1]


class JumpOff(Strict):
    mg_de: Sourced
    use_with_tablets: End
    use_with_liquid: End
    also_source: SourceKey

    def limit(self, liquid: bool) -> float:
        return pick(self.mg_de, self.use_with_liquid if liquid else self.use_with_tablets)

    @property
    def max_mg_de(self) -> float:
        """The absolute limit (policy): no plan stops a drug from more than this."""
        return self.mg_de.high


class FinalSection(Strict):
    start_fraction_of_start: Sourced
    max_percent: Sourced


class SingleCut(Strict):
    """No single reduction above ``percent`` of the current dose unless it is ``small_mg_de``
    or less (hard invariant; see pacing.toml)."""

    percent: Sourced
    small_mg_de: Sourced

    def limit_mg_de(self, current_de: float, percent: float | None = None) -> float:
        """The largest cut (mg DE) allowed from ``current_de`` in one step."""
        return self.limiter(percent)(current_de)

    def limiter(self, percent: float | None = None) -> Callable[[float], float]:
        """``limit_mg_de`` with its figures read once (the taper loop asks on every step)."""
        pct = self.percent.low if percent is None else max(percent, self.percent.low)
        small = self.small_mg_de.low

        def limit(current_de: float) -> float:
            return max(current_de * pct / 100, small)

        return limit


class Maintain(Strict):
    review_days: Sourced
    goal_source: SourceKey


class NightsRoute(Strict):
    source: SourceKey
    trials_source: SourceKey
    uses: list[str] = Field(min_length=1)
    night_from: str
    night_until: str

    def at_night(self, time: str) -> bool:
        """Whether an HH:MM dose-time is a night dose (the window wraps past midnight)."""
        return time >= self.night_from or time < self.night_until


class SourcedRoute(Strict):
    source: SourceKey
    also_source: SourceKey | None = None
    liver_source: SourceKey | None = None


class CompoundedSuspension(Strict):
    drug: str
    market: Market
    mg_per_ml: Sourced
    name: str
    bud_days: Sourced


class CompoundedRoute(Strict):
    capsule_bud_days: Sourced
    suspension_bud_days: Sourced
    suspensions: list[CompoundedSuspension] = Field(default_factory=list)

    def suspension(self, drug: str, market: str) -> CompoundedSuspension | None:
        return next((s for s in self.suspensions if s.drug == drug and s.market == market), None)


class TailRules(Strict):
    order: list[Literal["nights", "liquid", "diazepam", "compounded"]] = Field(min_length=1)
    nights: NightsRoute
    liquid: SourcedRoute
    diazepam: SourcedRoute
    compounded: CompoundedRoute


class MicroRule(Strict):
    """Micro-tapering (community practice; see pacing.toml [micro])."""

    source: SourceKey
    pace_source: SourceKey
    #: tail routes that measure small amounts, tried in this order (home methods may add theirs)
    routes: list[str] = Field(min_length=1)
    every_days_options: list[int] = Field(min_length=1)
    max_steps: Sourced

    def every_days(self, fraction_per_14_days: float, start_de: float, end_de: float) -> int:
        """Days between cuts: the first option whose plan stays within ``max_steps`` steps
        (estimated from the number of days the pace needs from ``start_de`` to ``end_de``)."""
        days = 14.0
        if start_de > end_de > 0 and 0 < fraction_per_14_days < 1:
            days = 14 * math.log(start_de / end_de) / -math.log(1 - fraction_per_14_days)
        options = sorted(self.every_days_options)
        return next((k for k in options if days / k <= self.max_steps.low), options[-1])


class Watch(Strict):
    days: Sourced


class DoseTime(Strict):
    default: DoseTimeRule
    source: SourceKey
    short_acting: DoseTimeRule
    short_acting_max_half_life_h: Sourced
    short_acting_sources: list[SourceKey] = Field(min_length=1)


class MultiDrug(Strict):
    default: MultiDrugPolicy
    crossover_source: SourceKey


class PacingRules(Strict):
    version: str
    max_rate: MaxRate
    paces: dict[PaceName, PaceRule]
    ashton_bands: AshtonBands
    jump_off: JumpOff
    final_section: FinalSection
    single_cut: SingleCut
    maintain: Maintain
    tail: TailRules
    micro: MicroRule
    watch: Watch
    dose_time: DoseTime
    multi_drug: MultiDrug

    @model_validator(mode="after")
    def _all_paces(self) -> Self:
        missing = {"slow", "moderate", "fast"} - set(self.paces)
        if missing:
            raise ValueError(f"paces missing: {', '.join(sorted(missing))}")
        return self

    def source_keys(self) -> set[str]:
        """Every source key the rules cite, for the provenance check against references."""
        keys: set[str] = set()
        _collect(self, keys)
        return keys


def _collect(obj: object, keys: set[str]) -> None:
    if isinstance(obj, Sourced):
        keys.add(obj.source)
        return
    if isinstance(obj, Strict):
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if name.endswith("source") and isinstance(value, str):
                keys.add(value)
            else:
                _collect(value, keys)
    elif isinstance(obj, list):
        for item in obj:
            _collect(item, keys)
    elif isinstance(obj, Mapping):
        for item in obj.values():
            _collect(item, keys)


def load_pacing_rules(
    path: Path | None = None, references: Mapping[str, object] | None = None
) -> PacingRules:
    """Read and validate the pacing rules; with ``references``, every source must resolve."""
    file = path or DATA_DIR / "rules" / "pacing.toml"
    rules = validate(PacingRules, read_toml(file), f"rules/{file.name}")
    if references is not None:
        for key in sorted(rules.source_keys()):
            if key not in references:
                raise CatalogueError(f"rules/{file.name}: source {key!r} is not in references.toml")
    return rules


def default_pacing_rules() -> PacingRules:
    """The shipped rules, from the one cached ``Knowledge`` (for tests and scripts)."""
    from benzotaper.knowledge import default_knowledge

    return default_knowledge().pacing
