"""Taper strategies: how big the next cut should be, before products and guardrails have a say.

A strategy only *asks* for a cut (a fraction of the current dose of the drug being tapered) and a
step length. The stepper then finds the cut real products allow, and the guardrails cap the rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from benzotaper.errors import RegimenError
from benzotaper.occupancy import OccupancyModel
from benzotaper.planning.models import Preferences, Strategy
from benzotaper.planning.rules import PaceName, PaceRule, PacingRules, describe, pick


class Ask(NamedTuple):
    """The cut a strategy asks for: a fraction of the current dose, then hold for ``every_days``
    (a named tuple: asked for on every step of every plan)."""

    fraction: float
    every_days: int


class StrategyRule(Protocol):
    name: Strategy
    every_days: int

    def ask(self, current_mg: float, start_mg: float, de_per_mg: float, final: bool) -> Ask: ...

    def parameters(self) -> dict[str, Any]: ...


@dataclass
class Percent:
    """Cut a fixed percentage of the *current* dose every N days (2025 guideline, NICE CKS)."""

    percent: float
    every_days: int
    final_max_percent: float
    provenance: dict[str, Any] = field(default_factory=dict)
    name: Strategy = "percent"

    def ask(self, current_mg: float, start_mg: float, de_per_mg: float, final: bool) -> Ask:
        pct = min(self.percent, self.final_max_percent) if final else self.percent
        return Ask(pct / 100, self.every_days)

    def parameters(self) -> dict[str, Any]:
        return {"percent": self.percent, "every_days": self.every_days, **self.provenance}


@dataclass
class Micro:
    """Micro-tapering: a small cut of the *current* dose every ``every_days`` day(s), so that the
    cuts falling in any 14 days compound to at most ``percent_per_14_days`` (community practice
    for the method, the guideline's pace; pacing.toml [micro])."""

    percent_per_14_days: float
    every_days: int
    provenance: dict[str, Any] = field(default_factory=dict)
    name: Strategy = "percent"

    @property
    def cuts_per_14_days(self) -> int:
        """The most cut days any 14 days can hold with steps of at least ``every_days`` days."""
        return math.ceil(14 / self.every_days)

    @property
    def fraction(self) -> float:
        """One cut: the n-th root of the 14 days' allowance (n cuts compound to the percent)."""
        keep = 1 - min(self.percent_per_14_days, 100.0) / 100
        return float(1 - keep ** (1 / self.cuts_per_14_days))

    def ask(self, current_mg: float, start_mg: float, de_per_mg: float, final: bool) -> Ask:
        return Ask(self.fraction, self.every_days)

    def parameters(self) -> dict[str, Any]:
        return {
            "percent": round(self.fraction * 100, 4),
            "every_days": self.every_days,
            "micro": {
                "percent_per_14_days": self.percent_per_14_days,
                "every_days": self.every_days,
                "percent_per_cut": round(self.fraction * 100, 4),
                "kind": "community practice (micro-tapering), at the guideline's pace",
            },
            **self.provenance,
        }


@dataclass
class Linear:
    """Cut a fixed amount (mg of the drug tapered) every N days; halved in the final section."""

    step_mg: float | None
    percent_of_start: float
    every_days: int
    provenance: dict[str, Any] = field(default_factory=dict)
    name: Strategy = "linear"

    def ask(self, current_mg: float, start_mg: float, de_per_mg: float, final: bool) -> Ask:
        step = self.step_mg if self.step_mg is not None else start_mg * self.percent_of_start / 100
        if final:
            step /= 2
        return Ask(min(1.0, step / current_mg), self.every_days)

    def parameters(self) -> dict[str, Any]:
        out: dict[str, Any] = {"every_days": self.every_days, **self.provenance}
        if self.step_mg is not None:
            out["step_mg"] = self.step_mg
        else:
            out["step_percent_of_starting_dose"] = self.percent_of_start
        return out


@dataclass
class AshtonBands:
    """NICE CKS's adaptation of the Ashton Manual: mg steps that shrink by dose band (diazepam)."""

    rules: PacingRules
    pace: PaceName
    every_days: int
    name: Strategy = "ashton-bands"

    def ask(self, current_mg: float, start_mg: float, de_per_mg: float, final: bool) -> Ask:
        bands = self.rules.ashton_bands
        de = current_mg * de_per_mg
        band = bands.band_for(de)
        step_de = pick(band.step_mg, bands.pace_uses[self.pace])
        if de - step_de < band.down_to_mg:  # "until reaching 20 mg": do not overshoot the floor
            step_de = max(de - band.down_to_mg, 0.0) or step_de
        return Ask(min(1.0, step_de / de), self.every_days)

    def parameters(self) -> dict[str, Any]:
        bands = self.rules.ashton_bands
        end = bands.pace_uses[self.pace]
        return {
            "every_days": self.every_days,
            "band_end_used": end,
            "bands": [
                {
                    "down_to_mg_de": b.down_to_mg,
                    "step_mg_de": describe(b.step_mg, pick(b.step_mg, end)),
                }
                for b in bands.bands
            ],
            "every_days_range": describe(bands.every_days, self.every_days),
        }


@dataclass
class Hyperbolic:
    """Equal decrements of estimated receptor occupancy, so the mg cuts shrink as the dose falls.

    The pace sets the number of steps: as many as the percent strategy at that pace needs to go
    from the starting dose to the jump-off dose. Those steps share the occupancy drop equally
    (each at most the pace's occupancy points, after Horowitz & Taylor). No cut exceeds the pace's
    percentage of the current dose, so at high doses it matches the percent strategy and near the
    end the cuts become smaller. The occupancy model is a labelled assumption.
    """

    model: OccupancyModel
    percent: float
    points_cap: float
    every_days: int
    jump_off_de: float
    provenance: dict[str, Any] = field(default_factory=dict)
    name: Strategy = "hyperbolic"
    _decrements: dict[float, float] = field(default_factory=dict)

    def decrement(self, start_de: float) -> float:
        key = round(start_de, 6)
        if key not in self._decrements:
            end = min(self.jump_off_de, start_de)
            steps = 1
            if start_de > end > 0:
                steps = max(
                    1, math.ceil(math.log(end / start_de) / math.log(1 - self.percent / 100))
                )
            drop = (self.model.occupancy(start_de) - self.model.occupancy(end)) / steps
            self._decrements[key] = min(drop, self.points_cap)
        return self._decrements[key]

    def ask(self, current_mg: float, start_mg: float, de_per_mg: float, final: bool) -> Ask:
        if start_mg * de_per_mg <= self.jump_off_de:
            # No occupancy to share out before the jump-off dose (a drug tapered with others
            # from a dose this small): the pace's percentage, its cap. The decrement here is 0,
            # and its float noise (about 1e-17) made a 100% cut "need" 1e17 days.
            return Ask(self.percent / 100, self.every_days)
        de = current_mg * de_per_mg
        occ = self.model.occupancy(de)
        target = self.model.dose_for(max(occ - self.decrement(start_mg * de_per_mg), 0.0))
        fraction = (de - target) / de if de > 0 else 1.0
        return Ask(min(fraction, self.percent / 100), self.every_days)

    def parameters(self) -> dict[str, Any]:
        m = self.model
        return {
            "every_days": self.every_days,
            "steps_matched_to_percent": self.percent,
            "occupancy_decrement_points": {
                str(k): round(v, 3) for k, v in sorted(self._decrements.items())
            },
            "occupancy_points_cap": self.points_cap,
            "occupancy_model": {
                "assumption": m.assumption,
                "label": m.label,
                "emax_percent": describe(m.emax_percent, m.emax_percent.mid),
                "ed50_mg": describe(m.ed50_mg, m.ed50_mg.mid),
                "hill": describe(m.hill, m.hill.mid),
            },
            **self.provenance,
        }


def build_strategy(
    prefs: Preferences,
    pace: PaceName,
    rules: PacingRules,
    occupancy: OccupancyModel,
    jump_off_de: float,
    start_de: float = 0.0,
) -> StrategyRule:
    """The strategy object for a request, with every value's provenance for the summary.

    ``start_de`` (the DE the taper starts from) sets how often micro-tapering cuts."""
    pace_rule: PaceRule = rules.paces[pace]
    percent = prefs.percent if prefs.percent is not None else pace_rule.use_percent
    every = prefs.every_days if prefs.every_days is not None else pace_rule.use_every_days
    provenance: dict[str, Any] = {
        "percent_source": "you" if prefs.percent is not None else f"pace {pace}",
        "every_days_source": "you" if prefs.every_days is not None else f"pace {pace}",
    }
    if prefs.percent is None:
        provenance["percent_range"] = describe(pace_rule.percent, percent)
    if prefs.every_days is None:
        provenance["every_days_range"] = describe(pace_rule.every_days, every)
    final_max = rules.final_section.max_percent.low
    name = prefs.strategy
    if prefs.micro:
        return _micro(prefs, pace_rule, rules, provenance, start_de, jump_off_de)
    if name in ("percent", "custom"):  # custom: percent continues a schedule that ends early
        return Percent(percent, every, final_max, provenance)
    if name == "linear":
        return Linear(prefs.step_mg, percent, every, provenance)
    if name == "ashton-bands":
        days = prefs.every_days or rules.ashton_bands.pace_every_days[pace]
        return AshtonBands(rules, pace, days)
    if name == "hyperbolic":
        model = occupancy
        if prefs.occupancy_ed50_mg is not None or prefs.occupancy_hill is not None:
            model = model.with_overrides(prefs.occupancy_ed50_mg, prefs.occupancy_hill)
        points = pace_rule.occupancy_points.low
        provenance["occupancy_points_cap"] = describe(pace_rule.occupancy_points, points)
        return Hyperbolic(model, percent, points, every, jump_off_de, provenance)
    raise RegimenError(f"Unknown strategy {name!r}.")


def _micro(
    prefs: Preferences,
    pace_rule: PaceRule,
    rules: PacingRules,
    provenance: dict[str, Any],
    start_de: float,
    jump_off_de: float,
) -> Micro:
    """Micro-tapering: the percent per 14 days (asked, else the pace's, scaled to 14 days) and
    the days between cuts (asked, else the first option that keeps the plan bounded)."""
    if prefs.strategy != "percent":
        raise RegimenError(
            "Micro-tapering cuts a share of the current dose, so it works with the percent "
            f"strategy only, not {prefs.strategy}."
        )
    if prefs.percent is not None:
        per_14 = prefs.percent
    else:
        per_14 = pace_rule.use_percent * 14 / pace_rule.use_every_days
        provenance["percent_range"] = describe(pace_rule.percent, pace_rule.use_percent)
    provenance.pop("every_days_range", None)  # the pace's 14-28 days do not apply
    micro = rules.micro
    every = prefs.every_days or micro.every_days(per_14 / 100, start_de, jump_off_de)
    if prefs.every_days is None:
        provenance["every_days_source"] = "micro policy"
        provenance["every_days_rule"] = describe(micro.max_steps, micro.max_steps.low)
    provenance["sources"] = [micro.source, micro.pace_source]
    return Micro(per_14, every, provenance)
