"""Where a person stands on a day, computed from stored state (pure: no I/O).

:func:`compute_status` takes a :class:`StatusInputs` (the active plan, the day the current hold
began, the check-ins, the latest sleep diary night and the dose entries of the adherence window)
and returns a :class:`Status`. The journal service loads the inputs; a faster loader (cached or
incremental) may fill them from less data as long as it keeps what each field says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, Field

from benzotaper.journal.adaptive import AdaptiveRules, Decision, decide
from benzotaper.journal.adherence import AdherenceSummary, summarise
from benzotaper.journal.entries import CheckinEntry, DoseEntry, SleepEntry
from benzotaper.journal.notices import Notice, notice
from benzotaper.journal.scales import ScaleBook, ScaleScore, try_score
from benzotaper.journal.sleep import SleepMetrics, sleep_metrics
from benzotaper.journal.timeline import next_cut, step_on
from benzotaper.journal.wording import notice_text
from benzotaper.planning.models import DISCLAIMER, Dose, Plan

#: Days of doses the status's adherence summary covers (policy).
ADHERENCE_DAYS = 14


class ActivePlan(Protocol):
    """What status needs of the active plan version (``storage.journal.PlanRecord`` fits)."""

    @property
    def uid(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def plan(self) -> Plan: ...


class LatestQuick(BaseModel):
    day: dt.date
    ratings: dict[str, int]


class LatestSleep(BaseModel):
    day: dt.date
    metrics: SleepMetrics | None = Field(
        description="None when the night's times do not add up (recorded by an older version)"
    )


class Status(BaseModel):
    on: dt.date
    plan_version: int | None
    plan_uid: str | None
    current_step: int | None
    phase: str | None
    daily_mg: dict[str, float] | None
    doses: list[Dose] = Field(default_factory=list)
    next_cut: dt.date | None = Field(
        description="The one next-cut date: the plan's, or later while a hold waits"
    )
    next_cut_daily_mg: dict[str, float] | None
    hold: bool
    hold_reason: str | None
    hold_since: dt.date | None = None
    decision: Decision | None
    pending_replan: bool
    latest_scores: dict[str, ScaleScore]
    latest_score_dates: dict[str, dt.date]
    latest_quick: LatestQuick | None
    latest_sleep: LatestSleep | None
    adherence: AdherenceSummary | None
    notices: list[Notice] = Field(default_factory=list)
    messages: list[str] = Field(description="The notices in plain words")
    disclaimer: str = DISCLAIMER


@dataclass(frozen=True)
class StatusInputs:
    """What status reads. ``checkins``: every check-in up to ``on`` that the decision reads
    (from ``adaptive.checkins_needed_from``) and, for the latest scores, at least the newest one
    with each scale and with quick ratings; ``doses``: the adherence window's dose entries."""

    on: dt.date
    active: ActivePlan | None
    hold_since: dt.date | None
    checkins: Sequence[tuple[dt.date, CheckinEntry]]
    latest_sleep: tuple[dt.date, SleepEntry] | None
    doses: Sequence[tuple[dt.date, DoseEntry]]


def adherence_start(plan: Plan, on: dt.date) -> dt.date:
    return max(plan.summary.start, on - dt.timedelta(days=ADHERENCE_DAYS - 1))


def _latest(
    checkins: Sequence[tuple[dt.date, CheckinEntry]], on: dt.date, book: ScaleBook
) -> tuple[dict[str, ScaleScore], dict[str, dt.date], LatestQuick | None]:
    scores: dict[str, ScaleScore] = {}
    dates: dict[str, dt.date] = {}
    quick: LatestQuick | None = None
    for day, entry in sorted(checkins, key=lambda p: p[0]):
        if day > on:
            continue
        for scale, items in entry.scales().items():
            scored = try_score(book, scale, items)
            if scored is not None:
                scores[scale], dates[scale] = scored, day
        if entry.quick:
            quick = LatestQuick(day=day, ratings=entry.quick)
    return scores, dates, quick


def latest_sleep(night: tuple[dt.date, SleepEntry] | None) -> LatestSleep | None:
    """The status's latest night, from the newest readable sleep-diary entry up to its day."""
    if night is None:
        return None
    day, entry = night
    return LatestSleep(day=day, metrics=sleep_metrics(entry))


def compute_status(inputs: StatusInputs, rules: AdaptiveRules, book: ScaleBook) -> Status:
    """Where the person stands on ``inputs.on``."""
    on = inputs.on
    scores, dates, quick = _latest(inputs.checkins, on, book)
    # a PHQ-9 item 9 above zero always shows the crisis information, plan or no plan
    crisis = [notice("crisis_support", "danger")] if any(s.crisis for s in scores.values()) else []
    common = {
        "on": on,
        "latest_scores": scores,
        "latest_score_dates": dates,
        "latest_quick": quick,
        "latest_sleep": latest_sleep(inputs.latest_sleep),
    }
    if inputs.active is None:
        notices = [*crisis, notice("no_plan")]
        return Status(
            plan_version=None,
            plan_uid=None,
            current_step=None,
            phase=None,
            daily_mg=None,
            next_cut=None,
            next_cut_daily_mg=None,
            hold=False,
            hold_reason=None,
            decision=None,
            pending_replan=False,
            adherence=None,
            notices=notices,
            messages=[notice_text(n, book) for n in notices],
            **common,
        )
    plan = inputs.active.plan
    decision = decide(plan, inputs.checkins, on, rules, book, inputs.hold_since)
    return _with_plan(inputs, plan, decision, crisis, book, common)


def _with_plan(
    inputs: StatusInputs,
    plan: Plan,
    decision: Decision,
    crisis: list[Notice],
    book: ScaleBook,
    common: dict[str, object],
) -> Status:
    assert inputs.active is not None
    on = inputs.on
    step = step_on(plan, on)
    cut = next_cut(plan, on)
    next_day = cut.start if cut else None
    if decision.hold and decision.next_cut_not_before and next_day:
        next_day = max(next_day, decision.next_cut_not_before)
    notices = list({n.kind: n for n in [*decision.notices, *crisis]}.values())
    start = adherence_start(plan, on)
    doses = [(d, e) for d, e in inputs.doses if start <= d <= on]
    adherence = summarise(plan, doses, start, on) if start <= on else None
    return Status(
        plan_version=inputs.active.version,
        plan_uid=inputs.active.uid,
        current_step=step.index if step else None,
        phase=step.phase if step else None,
        daily_mg=dict(step.daily_mg) if step else None,
        doses=[d for d in step.doses if d.mg > 0] if step else [],
        next_cut=next_day,
        next_cut_daily_mg=dict(cut.daily_mg) if cut else None,
        hold=decision.hold,
        hold_reason=decision.reason if decision.hold else None,
        hold_since=inputs.hold_since if decision.hold else None,
        decision=decision,
        pending_replan=decision.replan and decision.kind != "urgent",
        adherence=adherence,
        notices=notices,
        messages=[notice_text(n, book) for n in notices],
        **common,
    )
