"""Adaptive tapering: from the journal, decide whether to continue, hold, resume, suggest a
return to the previous dose, or send the person to urgent care.

Pure: :func:`decide` takes the plan, the check-ins, ``today``, the rules (``data/rules/
adaptive.toml``) and the scale definitions, and returns a :class:`Decision`. The rules follow
the guideline: watch for up to a week after each cut; with significant symptoms pause first
(hold the dose until symptoms are stable for a set number of days), then resume more slowly;
with severe symptoms suggest the previous dose and the prescriber; with a danger sign send the
person to urgent care and change nothing. :func:`held_request` and :func:`resumed_request` turn a
decision into the modified ``PlanRequest`` for a new plan version.

:func:`decide` runs named stages in order, the first that applies decides: :func:`urgent_stage`
(danger signs), then, on the evidence gathered by :func:`gather` (the cut judged, its baseline,
the findings since), :func:`severe_stage`, :func:`persisting_stage` (a hold that has not settled
the symptoms: propose a return), :func:`hold_stage` (in a hold: continue or resume),
:func:`start_stage` (a run of significant days starts a hold) and :func:`continue_stage`.

Symptoms are judged against the person's own baseline: the check-ins in the days before the cut
(for the plan's first cut, when nothing was recorded before it, those of its first day). Check-ins
before a cut are baseline, never evidence, so usual symptoms cannot start a hold; and a measure
whose baseline is already at a threshold counts only when it rises above the baseline.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from statistics import mean
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from benzotaper.catalogue.loader import DATA_DIR, read_toml, validate
from benzotaper.catalogue.models import Sourced, SourceKey, Strict
from benzotaper.journal.notices import Notice, notice
from benzotaper.journal.scales import ScaleBook, try_score
from benzotaper.journal.timeline import current_regimen, last_cut, next_cut, previous_step
from benzotaper.planning.models import DISCLAIMER, Hold, Plan, PlanRequest, Step

if TYPE_CHECKING:  # annotations only: the entry models are not needed to load the rules
    from benzotaper.journal.entries import CheckinEntry

#: ``lift``: a hold taken back because the check-ins that called for it were corrected or
#: retracted (the service decides that by replaying the hold's days).
DecisionKind = Literal["continue", "hold", "resume", "return", "urgent", "lift"]
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


class ReinstateRules(Strict):
    source: SourceKey
    persisting_hold_days: Sourced
    hold_days: Sourced


class AdaptiveRules(Strict):
    version: str
    watch_window_days: Sourced
    stable_days: Sourced
    policy: Policy
    thresholds: dict[str, Thresholds]
    resume: ResumeRules
    reinstate: ReinstateRules

    def sources(self) -> list[str]:
        keys = {self.watch_window_days.source, self.stable_days.source, self.resume.source}
        keys |= {self.reinstate.source, self.reinstate.persisting_hold_days.source}
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


class Finding(BaseModel):
    """One measure of one check-in over a threshold (or risen over the baseline)."""

    day: dt.date
    measure: str = Field(description="ciwa-b, bwsq, gad-7 or quick")
    name: str = Field(description="The scale's short name, or the quick symptom's key")
    value: float
    rule: Literal["significant", "severe", "rise"]
    threshold: float
    baseline: float | None = None


class Assessment(BaseModel):
    """One check-in judged against the thresholds and the pre-cut baseline."""

    day: dt.date
    level: Level
    findings: list[Finding] = Field(default_factory=list)
    danger: list[str] = Field(default_factory=list)
    crisis: bool = False

    @property
    def reasons(self) -> list[str]:
        from benzotaper.journal.wording import finding_text

        return [finding_text(f) for f in self.findings]


class Decision(BaseModel):
    """What the rules decided for ``on``, as data (``reason``, ``messages`` and ``evidence`` are
    the plain words of it, filled in by ``journal.wording``; edges may word it their own way)."""

    kind: DecisionKind
    on: dt.date
    hold: bool
    reason: str = ""
    replan: bool = Field(description="True: save a new plan version (hold, extend or resume)")
    next_cut_not_before: dt.date | None = None
    return_to_daily_mg: dict[str, float] | None = None
    return_because: Literal["severe", "persisting"] | None = Field(
        default=None,
        description="Why a return to the previous dose is proposed (kind 'return'): severe "
        "symptoms now, or significant symptoms a hold has not settled",
    )
    hold_since: dt.date | None = Field(default=None, description="First day of the hold")
    cut_day: dt.date | None = Field(default=None, description="The cut the symptoms follow")
    watch_until: dt.date | None = None
    last_symptom_day: dt.date | None = None
    stable_from: dt.date | None = Field(
        default=None, description="First calm check-in after the last significant one"
    )
    stable_days_needed: int | None = None
    checkins_recorded: int | None = None
    checkins_needed: int | None = None
    awaiting_checkins: bool = Field(
        default=False, description="Calm long enough, but too few check-ins to show it"
    )
    significant_days: int | None = None
    findings: list[Finding] = Field(default_factory=list)
    danger_day: dt.date | None = None
    danger_signs: list[str] = Field(default_factory=list)
    crisis: bool = False
    notices: list[Notice] = Field(default_factory=list)
    messages: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    rules_version: str = ""
    disclaimer: str = DISCLAIMER


# ----------------------------------------------------------------------------- assessing


def _values(entry: CheckinEntry, book: ScaleBook) -> dict[str, float]:
    """Every measure of a check-in: scale totals (``ciwa-b``) and quick ratings
    (``quick:anxiety``). A scale that cannot be scored (a malformed stored entry) is left out."""
    out: dict[str, float] = {}
    for scale, items in entry.scales().items():
        scored = try_score(book, scale, items)
        if scored is not None:
            out[scale] = scored.total
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


def _finding(
    key: str, value: float, th: Thresholds, base: dict[str, float], book: ScaleBook, day: dt.date
) -> Finding | None:
    """The strongest rule ``value`` meets. An absolute threshold counts only when the baseline
    is below it (usual symptoms at that level are not withdrawal); a rise always counts."""
    measure = "quick" if key.startswith("quick:") else key
    scale = book.scales.get(measure)  # type: ignore[call-overload]
    name = key.split(":", 1)[1] if measure == "quick" else (scale.short if scale else key)
    before = base.get(key)
    for rule, limit in (("severe", th.severe), ("significant", th.significant)):
        if limit is not None and value >= limit.low and (before is None or before < limit.low):
            return Finding(
                day=day,
                measure=measure,
                name=name,
                value=value,
                rule=rule,
                threshold=limit.low,
                baseline=before,
            )
    if th.rise is not None and before is not None and value - before >= th.rise.low:
        return Finding(
            day=day,
            measure=measure,
            name=name,
            value=value,
            rule="rise",
            threshold=th.rise.low,
            baseline=before,
        )
    return None


def assess(
    day: dt.date,
    entry: CheckinEntry,
    book: ScaleBook,
    rules: AdaptiveRules,
    base: dict[str, float],
) -> Assessment:
    findings: list[Finding] = []
    for key, value in _values(entry, book).items():
        th = rules.thresholds.get("quick" if key.startswith("quick:") else key)
        found = _finding(key, value, th, base, book, day) if th is not None else None
        if found is not None:
            findings.append(found)
    level: Level = "none"
    if any(f.rule == "severe" for f in findings):
        level = "severe"
    elif findings:
        level = "significant"
    crisis = False
    if entry.phq9 is not None:
        scored = try_score(book, "phq-9", entry.phq9)
        crisis = bool(scored and scored.crisis)
    return Assessment(
        day=day, level=level, findings=findings, danger=list(entry.danger_signs), crisis=crisis
    )


# ----------------------------------------------------------------------------- deciding


@dataclass(frozen=True)
class Evidence:
    """What the stages after the urgent one judge: the cut, its baseline and the findings."""

    plan: Plan
    today: dt.date
    rules: AdaptiveRules
    book: ScaleBook
    checkins: Sequence[tuple[dt.date, CheckinEntry]]
    hold_since: dt.date | None
    cut: Step | None
    flagged: list[Assessment]
    recent_start: dt.date
    watch_end: dt.date | None
    sources: list[str]

    @property
    def stable(self) -> int:
        return self.rules.stable

    def not_before(self, last_bad: dt.date) -> dt.date:
        """The first day a cut may come after symptoms on ``last_bad``."""
        return last_bad + dt.timedelta(days=self.stable + 1)

    def needs_replan(self, until: dt.date) -> bool:
        """A new plan version is needed unless the plan already waits until ``until``."""
        upcoming = next_cut(self.plan, self.today)
        return self.hold_since is None or (upcoming is not None and upcoming.start < until)

    def common(self) -> dict[str, Any]:
        return {
            "on": self.today,
            "rules_version": self.rules.version,
            "sources": self.sources,
            "cut_day": self.cut.start if self.cut else None,
            "watch_until": self.watch_end,
            "findings": [f for a in self.flagged for f in a.findings],
            "hold_since": self.hold_since,
        }


def urgent_stage(
    checkins: Sequence[tuple[dt.date, CheckinEntry]],
    today: dt.date,
    rules: AdaptiveRules,
    book: ScaleBook,
) -> Decision | None:
    """Danger signs or thoughts of self-harm: urgent care, never an automatic change."""
    lookback = today - dt.timedelta(days=int(rules.policy.danger_lookback_days.low) - 1)
    urgent = [assess(d, e, book, rules, {}) for d, e in checkins if d >= lookback]
    urgent = [a for a in urgent if a.danger or a.crisis]
    if not urgent:
        return None
    last = urgent[-1]
    crisis = any(a.crisis for a in urgent)
    notices = [notice("urgent_danger_sign", "danger", sources=[book.danger.source])]
    if crisis:
        notices.append(notice("crisis_support", "danger", sources=["kroenke2001"]))
    return Decision(
        kind="urgent",
        on=today,
        hold=True,
        replan=False,
        danger_day=last.day,
        danger_signs=list(last.danger),
        crisis=last.crisis,
        notices=notices,
        sources=[n.sources[0] for n in notices],
        rules_version=rules.version,
        evidence=[f"{a.day.isoformat()}: {', '.join(a.danger) or 'PHQ-9 item 9'}" for a in urgent],
    )


def _first_cut_baseline_day(plan: Plan, cut: Step, checkins: Sequence[tuple[dt.date, Any]]) -> bool:
    """The plan's first cut with nothing recorded before it: its first day is the baseline."""
    return cut.start == plan.summary.start and not any(d < cut.start for d, _ in checkins)


def gather(
    plan: Plan,
    checkins: Sequence[tuple[dt.date, CheckinEntry]],
    today: dt.date,
    rules: AdaptiveRules,
    book: ScaleBook,
    hold_since: dt.date | None,
) -> Evidence:
    """The cut judged, its baseline, and the check-ins since it that go over a threshold."""
    pol = rules.policy
    cut = last_cut(plan, hold_since or today)
    recent_start = today - dt.timedelta(days=int(pol.recent_days.low) - 1)
    watch_end = cut.start + dt.timedelta(days=int(rules.watch_window_days.low) - 1) if cut else None
    flagged: list[Assessment] = []
    if cut is not None:
        b_end = cut.start - dt.timedelta(days=1)
        first_day = _first_cut_baseline_day(plan, cut, checkins)
        if first_day:
            b_end = cut.start
        base = baseline(
            checkins, book, b_end - dt.timedelta(days=int(pol.baseline_days.low) - 1), b_end
        )
        if hold_since is not None:
            window_start = min(hold_since, cut.start)
        elif watch_end is not None and today <= watch_end:
            window_start = cut.start
        else:
            window_start = max(recent_start, cut.start)
        if first_day:
            window_start = max(window_start, cut.start + dt.timedelta(days=1))
        assessed = [assess(d, e, book, rules, base) for d, e in checkins if d >= window_start]
        flagged = [a for a in assessed if a.level != "none"]
    sources = sorted({*rules.sources(), *(s.source for s in book.scales.values())})
    return Evidence(
        plan,
        today,
        rules,
        book,
        checkins,
        hold_since,
        cut,
        flagged,
        recent_start,
        watch_end,
        sources,
    )


def severe_stage(ev: Evidence) -> Decision | None:
    """Severe symptoms now: suggest the previous dose and the prescriber; hold meanwhile."""
    severe = [a for a in ev.flagged if a.level == "severe" and a.day >= ev.recent_start]
    if not severe:
        return None
    return _proposed_return(ev, severe[-1].day, "severe")


def _proposed_return(
    ev: Evidence, last_bad: dt.date, because: Literal["severe", "persisting"]
) -> Decision:
    """Hold, and PROPOSE a return to the dose before the cut (never made here: the person or
    the prescriber asks for it, see ``services.journal.JournalService.reinstate``)."""
    until = ev.not_before(last_bad)
    back = previous_step(ev.plan, ev.cut) if ev.cut else None
    back_mg = dict(back.daily_mg) if back else None
    days = int(ev.rules.reinstate.persisting_hold_days.low)
    return Decision(
        kind="return",
        hold=True,
        replan=ev.needs_replan(until),
        next_cut_not_before=until,
        return_to_daily_mg=back_mg,
        return_because=because,
        last_symptom_day=last_bad,
        stable_days_needed=ev.stable,
        notices=[
            notice(
                "consider_previous_dose",
                "danger" if because == "severe" else "caution",
                sources=[ev.rules.reinstate.source],
                daily_mg=back_mg,
                because=because,
                hold_days=days,
            )
        ],
        **ev.common(),
    )


def persisting_stage(ev: Evidence) -> Decision | None:
    """In a hold of at least ``reinstate.persisting_hold_days`` days, significant symptoms in
    the recent days that were never stable meanwhile (no gap of ``stable`` days without them):
    a pause has not settled them, so a return to the previous dose is proposed (the
    guideline's rarer response, after a pause). New symptoms after a calm spell are a new
    hold's business, not a return's."""
    if ev.hold_since is None or not ev.flagged:
        return None
    held = (ev.today - ev.hold_since).days + 1
    bad = sorted({a.day for a in ev.flagged if a.day >= ev.hold_since})
    if held < int(ev.rules.reinstate.persisting_hold_days.low) or not bad:
        return None
    if bad[-1] < ev.recent_start:
        return None
    if any((b - a).days > ev.stable for a, b in pairwise([ev.hold_since, *bad])):
        return None
    return _proposed_return(ev, bad[-1], "persisting")


def hold_stage(ev: Evidence) -> Decision | None:
    """In a hold: resume once symptoms have been stable for ``stable`` days, with enough
    check-ins to show it; otherwise the hold continues (and may need a longer one)."""
    if ev.hold_since is None:
        return None
    last_bad = ev.flagged[-1].day if ev.flagged else None
    calm_from = last_bad + dt.timedelta(days=1) if last_bad else ev.hold_since
    stable_from = next((d for d, _ in ev.checkins if d >= calm_from), None)
    until = calm_from + dt.timedelta(days=ev.stable)  # the first day after `stable` calm days
    period_start = max(calm_from, ev.today - dt.timedelta(days=ev.stable))
    recorded = len({d for d, _ in ev.checkins if period_start <= d <= ev.today})
    needed = int(ev.rules.policy.min_checkins_to_resume.low)
    facts = {
        "last_symptom_day": last_bad,
        "stable_from": stable_from if stable_from and stable_from <= ev.today else None,
        "stable_days_needed": ev.stable,
        "checkins_recorded": recorded,
        "checkins_needed": needed,
    }
    if ev.today >= until and recorded >= needed:
        return Decision(kind="resume", hold=False, replan=True, **facts, **ev.common())
    awaiting = ev.today >= until
    if awaiting:
        until = ev.today + dt.timedelta(days=1)
    return Decision(
        kind="hold",
        hold=True,
        replan=ev.needs_replan(until),
        next_cut_not_before=until,
        awaiting_checkins=awaiting,
        **facts,
        **ev.common(),
    )


def start_stage(ev: Evidence) -> Decision | None:
    """Significant symptoms on enough different days (not one bad day): start a hold."""
    days = sorted({a.day for a in ev.flagged})
    if len(days) < int(ev.rules.policy.significant_run.low):
        return None
    until = ev.not_before(days[-1])
    return Decision(
        kind="hold",
        hold=True,
        replan=True,
        next_cut_not_before=until,
        last_symptom_day=days[-1],
        significant_days=len(days),
        stable_days_needed=ev.stable,
        **ev.common(),
    )


def continue_stage(ev: Evidence) -> Decision:
    return Decision(kind="continue", hold=False, replan=False, **ev.common())


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
    from benzotaper.journal.wording import worded

    checkins = sorted(((d, e) for d, e in checkins if d <= today), key=lambda p: p[0])
    urgent = urgent_stage(checkins, today, rules, book)
    if urgent is not None:
        return worded(urgent, book)
    ev = gather(plan, checkins, today, rules, book, hold_since)
    for stage in (severe_stage, persisting_stage, hold_stage, start_stage):
        decision = stage(ev)
        if decision is not None:
            return worded(decision, book)
    return worded(continue_stage(ev), book)


def checkins_needed_from(
    plan: Plan, today: dt.date, rules: AdaptiveRules, hold_since: dt.date | None
) -> dt.date:
    """The earliest check-in :func:`decide` can read for ``today`` (so a caller may load only
    the check-ins from this day on): the danger look-back, the recent days, the hold, the cut
    judged and the baseline before it."""
    pol = rules.policy
    days = [
        today - dt.timedelta(days=int(pol.danger_lookback_days.low) - 1),
        today - dt.timedelta(days=int(pol.recent_days.low) - 1),
    ]
    if hold_since is not None:
        days.append(hold_since)
    cut = last_cut(plan, hold_since or today)
    if cut is not None:
        days.append(cut.start - dt.timedelta(days=int(pol.baseline_days.low)))
    return min(days)


def checkin_ranges(
    plan: Plan, today: dt.date, rules: AdaptiveRules, hold_since: dt.date | None
) -> list[tuple[dt.date, dt.date]]:
    """The days (inclusive ranges, oldest first) of the check-ins :func:`decide` reads for
    ``today``, besides whether anything was recorded before the cut: the cut's baseline and
    the days from the earliest of the danger look-back, the recent days, the hold and (in its
    watch window or a hold) the cut. Narrower than :func:`checkins_needed_from` once a cut lies
    far back (a long step, a finished taper)."""
    pol = rules.policy
    recent = min(
        today - dt.timedelta(days=int(pol.danger_lookback_days.low) - 1),
        today - dt.timedelta(days=int(pol.recent_days.low) - 1),
        *([hold_since] if hold_since is not None else []),
    )
    cut = last_cut(plan, hold_since or today)
    if cut is None:
        return [(recent, today)]
    watch_end = cut.start + dt.timedelta(days=int(rules.watch_window_days.low) - 1)
    if hold_since is not None or today <= watch_end:
        recent = min(recent, cut.start)
    base = cut.start - dt.timedelta(days=int(pol.baseline_days.low))
    if cut.start >= recent - dt.timedelta(days=1):
        return [(min(base, recent), today)]
    return [(base, cut.start), (recent, today)]


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
    regimen, nightly = current_regimen(plan, day)
    if not regimen:
        regimen, nightly = list(request.regimen), prefs.nightly_mg
    update: dict[str, object] = {
        "start": day,
        "holds": [],
        "reinstate": None,
        "nightly_mg": nightly,  # a weekly pattern goes on from its nights, not every night
    }
    if prefs.percent is not None:
        update["percent"] = max(r.min_percent.low, round(prefs.percent * r.percent_factor.low, 2))
    elif prefs.every_days is not None:
        every = math.ceil(prefs.every_days * r.interval_factor.low)
        update["every_days"] = min(max(every, prefs.every_days + 1), 120)
    else:
        update["every_days"] = int(r.max_every_days.low)
    if prefs.pace is not None and prefs.pace != "slow":
        update["pace"] = _PACES[_PACES.index(prefs.pace) + 1]
    return request.model_copy(
        update={"regimen": regimen, "preferences": prefs.model_copy(update=update)}
    )
