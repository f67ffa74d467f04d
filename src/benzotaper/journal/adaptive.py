"""Adaptive tapering: from the journal, decide whether to continue, hold, resume, suggest a
return to the previous dose, or send the person to urgent care.

Pure: :func:`decide` takes the plan, the check-ins, ``today``, the rules (``data/rules/
adaptive.toml``) and the scale definitions, and returns a :class:`Decision`. The rules follow
the guideline: watch for up to a week after each cut; with significant symptoms pause first
(hold the dose until symptoms are stable for a set number of days), then resume more slowly;
with severe symptoms suggest the previous dose and the prescriber; with a danger sign send the
person to urgent care and change nothing. :func:`held_request` and :func:`resumed_request` turn a
decision into the modified ``PlanRequest`` for a new plan version.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path
from statistics import mean
from typing import Literal

from pydantic import BaseModel, Field

from benzotaper.catalogue.loader import DATA_DIR, read_toml, validate
from benzotaper.catalogue.models import Sourced, SourceKey, Strict
from benzotaper.journal.entries import CheckinEntry
from benzotaper.journal.scales import ScaleBook, score
from benzotaper.journal.timeline import current_regimen, last_cut, next_cut, previous_step
from benzotaper.planning.models import DISCLAIMER, Hold, Plan, PlanRequest

DecisionKind = Literal["continue", "hold", "resume", "return", "urgent"]
Level = Literal["none", "significant", "severe"]
MEASURES = ("ciwa-b", "bwsq", "gad-7", "quick")
_PACES = ("fast", "moderate", "slow")


class Thresholds(Strict):
    significant: Sourced | None = None
    severe: Sourced | None = None
    rise: Sourced | None = None


class Policy(Strict):
    baseline_days: Sourced
    recent_days: Sourced
    significant_run: Sourced
    min_checkins_to_resume: Sourced
    danger_lookback_days: Sourced


class ResumeRules(Strict):
    source: SourceKey
    percent_factor: Sourced
    min_percent: Sourced
    interval_factor: Sourced
    max_every_days: Sourced


class AdaptiveRules(Strict):
    version: str
    watch_window_days: Sourced
    stable_days: Sourced
    policy: Policy
    thresholds: dict[str, Thresholds]
    resume: ResumeRules

    def sources(self) -> list[str]:
        keys = {self.watch_window_days.source, self.stable_days.source, self.resume.source}
        for t in self.thresholds.values():
            keys |= {s.source for s in (t.significant, t.severe, t.rise) if s is not None}
        return sorted(keys)

    @property
    def stable(self) -> int:
        """Days of stable symptoms before resuming: the lower bound of the sourced range."""
        return int(self.stable_days.low)


def load_rules(path: Path | None = None) -> AdaptiveRules:
    where = path or DATA_DIR / "rules" / "adaptive.toml"
    rules = validate(AdaptiveRules, read_toml(where), f"rules/{where.name}")
    unknown = set(rules.thresholds) - set(MEASURES)
    if unknown:
        from benzotaper.errors import CatalogueError

        raise CatalogueError(f"rules/{where.name}: unknown measures {sorted(unknown)}")
    return rules


def default_rules() -> AdaptiveRules:
    """The shipped rules, from the one cached ``Knowledge`` (loaded and source-checked once)."""
    from benzotaper.knowledge import default_knowledge

    return default_knowledge().adaptive


class Assessment(BaseModel):
    """One check-in judged against the thresholds and the pre-cut baseline."""

    day: dt.date
    level: Level
    reasons: list[str]
    danger: list[str] = Field(default_factory=list)
    crisis: bool = False


class Decision(BaseModel):
    kind: DecisionKind
    on: dt.date
    hold: bool
    reason: str
    replan: bool = Field(description="True: save a new plan version (hold, extend or resume)")
    next_cut_not_before: dt.date | None = None
    return_to_daily_mg: dict[str, float] | None = None
    messages: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    rules_version: str = ""
    disclaimer: str = DISCLAIMER


# ----------------------------------------------------------------------------- assessing


def _values(entry: CheckinEntry, book: ScaleBook) -> dict[str, float]:
    out: dict[str, float] = {}
    for scale, items in entry.scales().items():
        out[scale] = score(book, scale, items).total
    for key, value in entry.quick.items():
        out[f"quick:{key}"] = value
    return out


def baseline(
    checkins: Sequence[tuple[dt.date, CheckinEntry]], book: ScaleBook, start: dt.date, end: dt.date
) -> dict[str, float]:
    """Mean value of each measure over check-ins dated ``start``..``end``."""
    acc: dict[str, list[float]] = {}
    for day, entry in checkins:
        if start <= day <= end:
            for k, v in _values(entry, book).items():
                acc.setdefault(k, []).append(v)
    return {k: mean(v) for k, v in acc.items()}


def assess(
    day: dt.date,
    entry: CheckinEntry,
    book: ScaleBook,
    rules: AdaptiveRules,
    base: dict[str, float],
) -> Assessment:
    level: Level = "none"
    reasons: list[str] = []

    def raise_to(new: Level, why: str) -> None:
        nonlocal level
        reasons.append(why)
        if new == "severe" or (new == "significant" and level == "none"):
            level = new

    for key, value in _values(entry, book).items():
        measure = "quick" if key.startswith("quick:") else key
        th = rules.thresholds.get(measure)
        if th is None:
            continue
        name = key.split(":", 1)[1] if measure == "quick" else book.scales[measure].short  # type: ignore[index]
        if th.severe is not None and value >= th.severe.low:
            raise_to("severe", f"{name} {value:g} ≥ {th.severe.low:g} (severe threshold)")
        elif th.significant is not None and value >= th.significant.low:
            raise_to(
                "significant", f"{name} {value:g} ≥ {th.significant.low:g} (significant threshold)"
            )
        elif th.rise is not None and key in base and value - base[key] >= th.rise.low:
            raise_to(
                "significant",
                f"{name} {value:g} is {value - base[key]:g} above the pre-cut baseline "
                f"{base[key]:.3g} (rise threshold {th.rise.low:g})",
            )
    crisis = False
    if entry.phq9 is not None:
        crisis = score(book, "phq-9", entry.phq9).crisis
    return Assessment(
        day=day, level=level, reasons=reasons, danger=list(entry.danger_signs), crisis=crisis
    )


# ----------------------------------------------------------------------------- deciding


def decide(
    plan: Plan,
    checkins: Sequence[tuple[dt.date, CheckinEntry]],
    today: dt.date,
    rules: AdaptiveRules,
    book: ScaleBook,
    hold_since: dt.date | None = None,
) -> Decision:
    """The decision for ``today``. ``hold_since``: the day an adaptive hold began (None: none).

    Check-ins dated after ``today`` are ignored, so any past day can be replayed.
    """
    checkins = sorted(((d, e) for d, e in checkins if d <= today), key=lambda p: p[0])
    pol = rules.policy
    common = {"on": today, "rules_version": rules.version}

    # 1. Danger signs or thoughts of self-harm: urgent care, never an automatic change.
    lookback = today - dt.timedelta(days=int(pol.danger_lookback_days.low) - 1)
    urgent = [assess(d, e, book, rules, {}) for d, e in checkins if d >= lookback]
    urgent = [a for a in urgent if a.danger or a.crisis]
    if urgent:
        a = urgent[-1]
        signs = [book.danger.signs[book.danger.keys.index(k)].label for k in a.danger]
        if a.crisis:
            signs.append("thoughts of being better off dead or of self-harm (PHQ-9 item 9)")
        messages = [book.danger.message]
        sources = [book.danger.source]
        if any(x.crisis for x in urgent):
            messages.append(book.danger.crisis_message)
            sources.append("kroenke2001")
        return Decision(
            kind="urgent",
            hold=True,
            replan=False,
            reason=f"Danger sign reported on {a.day.isoformat()}: {'; '.join(signs)}. "
            "The plan is not changed automatically.",
            messages=messages,
            evidence=[
                f"{x.day.isoformat()}: {', '.join(x.danger) or 'PHQ-9 item 9'}" for x in urgent
            ],
            sources=sources,
            **common,
        )

    # 2. The cut that symptoms are judged against, and its baseline.
    cut = last_cut(plan, hold_since or today)
    base: dict[str, float] = {}
    if cut is not None:
        b_end = cut.start - dt.timedelta(days=1)
        base = baseline(
            checkins, book, b_end - dt.timedelta(days=int(pol.baseline_days.low) - 1), b_end
        )
    recent_start = today - dt.timedelta(days=int(pol.recent_days.low) - 1)
    watch_end = cut.start + dt.timedelta(days=int(rules.watch_window_days.low) - 1) if cut else None
    if hold_since is not None:
        window_start = min(hold_since, cut.start) if cut else hold_since
    elif cut is not None and watch_end is not None and today <= watch_end:
        window_start = min(cut.start, recent_start)
    else:
        window_start = recent_start
    assessed = [assess(d, e, book, rules, base) for d, e in checkins if d >= window_start]
    flagged = [a for a in assessed if a.level != "none"]
    evidence = [f"{a.day.isoformat()}: {'; '.join(a.reasons)}" for a in flagged]
    sources = sorted({*rules.sources(), *(s.source for s in book.scales.values())})
    stable = rules.stable
    upcoming = next_cut(plan, today)

    def not_before(last_bad: dt.date) -> dt.date:
        return last_bad + dt.timedelta(days=stable + 1)

    def needs_replan(until: dt.date) -> bool:
        return hold_since is None or (upcoming is not None and upcoming.start < until)

    # 3. Severe symptoms now: suggest the previous dose and the prescriber; hold meanwhile.
    severe = [a for a in flagged if a.level == "severe" and a.day >= recent_start]
    if severe:
        until = not_before(flagged[-1].day)
        back = previous_step(plan, cut) if cut else None
        messages = [
            "Symptoms are severe. Consider going back to your previous dose"
            + (f" ({_mg(back.daily_mg)} a day)" if back else "")
            + " and contact your prescriber now. benzotaper does not raise doses on its own."
        ]
        return Decision(
            kind="return",
            hold=True,
            replan=needs_replan(until),
            reason=f"Severe withdrawal symptoms on {severe[-1].day.isoformat()}: "
            f"{'; '.join(severe[-1].reasons)}. Holding the current dose; the next cut waits "
            f"until symptoms have been stable for {stable} days.",
            next_cut_not_before=until,
            return_to_daily_mg=dict(back.daily_mg) if back else None,
            messages=messages,
            evidence=evidence,
            sources=sources,
            **common,
        )

    # 4. In a hold: resume once symptoms have been stable for `stable` days.
    if hold_since is not None:
        calm_from = flagged[-1].day + dt.timedelta(days=1) if flagged else hold_since
        until = calm_from + dt.timedelta(days=stable)  # the first day after `stable` calm days
        period_start = today - dt.timedelta(days=stable)
        recorded = len({d for d, _ in checkins if max(calm_from, period_start) <= d <= today})
        needed = int(pol.min_checkins_to_resume.low)
        if today >= until and recorded >= needed:
            return Decision(
                kind="resume",
                hold=False,
                replan=True,
                reason=f"Symptoms stable for {(today - calm_from).days} days since "
                f"{calm_from.isoformat()}: resuming with smaller cuts or longer intervals.",
                evidence=evidence,
                sources=sources,
                **common,
            )
        if today >= until:
            why = f"only {recorded} check-ins in the last {stable} days ({needed} needed)"
            until = today + dt.timedelta(days=1)
        else:
            why = (
                f"symptoms stable since {calm_from.isoformat()}; the next cut can come on "
                f"{until.isoformat()} at the earliest, after {stable} stable days"
            )
        return Decision(
            kind="hold",
            hold=True,
            replan=needs_replan(until),
            reason=f"Hold continues since {hold_since.isoformat()}: {why}.",
            next_cut_not_before=until,
            evidence=evidence,
            sources=sources,
            **common,
        )

    # 5. Significant symptoms (a run of them): start a hold.
    run = int(pol.significant_run.low)
    if len(flagged) >= run:
        until = not_before(flagged[-1].day)
        since = f" after the cut on {cut.start.isoformat()}" if cut else ""
        return Decision(
            kind="hold",
            hold=True,
            replan=True,
            reason=f"Significant withdrawal symptoms{since} ({len(flagged)} check-ins: "
            f"{'; '.join(flagged[-1].reasons)}). Holding the current dose; the next cut waits "
            f"until symptoms have been stable for {stable} days.",
            next_cut_not_before=until,
            evidence=evidence,
            sources=sources,
            **common,
        )

    reason = "No significant symptoms recorded: continue as planned."
    if cut is not None and watch_end is not None and today <= watch_end:
        reason = (
            f"Watching for symptoms after the cut on {cut.start.isoformat()} "
            f"until {watch_end.isoformat()}; none significant so far."
        )
    return Decision(
        kind="continue",
        hold=False,
        replan=False,
        reason=reason,
        evidence=evidence,
        sources=sources,
        **common,
    )


def _mg(daily: dict[str, float]) -> str:
    return ", ".join(f"{drug} {mg:g} mg" for drug, mg in daily.items())


# ----------------------------------------------------------------------------- re-planning


def pinned(request: PlanRequest, plan: Plan) -> PlanRequest:
    """The request with its start date fixed, so making it again gives the same dates."""
    if request.preferences.start is not None:
        return request
    prefs = request.preferences.model_copy(update={"start": plan.summary.start})
    return request.model_copy(update={"preferences": prefs})


def held_request(request: PlanRequest, plan: Plan, decision: Decision) -> PlanRequest:
    """The plan's request with a hold from ``decision.on`` until ``next_cut_not_before``.

    An adaptive hold already covering that day is extended instead of adding another.
    """
    if decision.next_cut_not_before is None:
        raise ValueError("a hold decision needs next_cut_not_before")
    request = pinned(request, plan)
    today = decision.on
    days = max(1, (decision.next_cut_not_before - today).days)
    holds = list(request.preferences.holds)
    for i, h in enumerate(holds):
        if h.start <= today < h.start + dt.timedelta(days=h.days):
            new_days = max(h.days, (decision.next_cut_not_before - h.start).days)
            holds[i] = h.model_copy(update={"days": new_days, "reason": decision.reason})
            break
    else:
        holds.append(Hold(start=today, days=days, reason=decision.reason))
    prefs = request.preferences.model_copy(update={"holds": holds})
    return request.model_copy(update={"preferences": prefs})


def resumed_request(
    request: PlanRequest, plan: Plan, day: dt.date, rules: AdaptiveRules
) -> PlanRequest:
    """Start again from the dose in force on ``day``, more slowly: smaller cuts (percent ×
    factor, not below the minimum), else longer intervals, and a slower pace."""
    r = rules.resume
    prefs = request.preferences
    update: dict[str, object] = {"start": day, "holds": []}
    if prefs.percent is not None:
        update["percent"] = max(r.min_percent.low, round(prefs.percent * r.percent_factor.low, 2))
    elif prefs.every_days is not None:
        every = math.ceil(prefs.every_days * r.interval_factor.low)
        update["every_days"] = min(max(every, prefs.every_days + 1), 120)
    else:
        update["every_days"] = int(r.max_every_days.low)
    if prefs.pace is not None and prefs.pace != "slow":
        update["pace"] = _PACES[_PACES.index(prefs.pace) + 1]
    regimen = current_regimen(plan, day) or list(request.regimen)
    return request.model_copy(
        update={"regimen": regimen, "preferences": prefs.model_copy(update=update)}
    )
