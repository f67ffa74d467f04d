"""Following a plan day by day: the status on a date, and applying adaptive decisions.

Thin glue between the journal repository and the pure core (timeline, scales, sleep,
adherence, adaptive rules). :func:`status` only reads. :func:`review` decides for a day and,
when the decision asks for it, saves a new plan version made by the planner with the modified
request (a hold, a longer hold, or a slower resumption), with the reason. It never changes a
plan after a danger sign and never raises a dose.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pydantic import BaseModel, Field

from benzotaper.errors import BenzotaperError
from benzotaper.journal.adaptive import (
    AdaptiveRules,
    Decision,
    decide,
    held_request,
    resumed_request,
)
from benzotaper.journal.adherence import AdherenceSummary, summarise
from benzotaper.journal.entries import CheckinEntry, DoseEntry, SleepEntry
from benzotaper.journal.scales import ScaleBook, ScaleScore, score
from benzotaper.journal.sleep import SleepMetrics, sleep_metrics
from benzotaper.journal.timeline import next_cut, step_on
from benzotaper.planning.models import DISCLAIMER, Dose, Plan, PlanRequest
from benzotaper.storage.journal import JournalStore, PlanRecord

#: Makes a plan from a request (the planning engine's make_plan, with catalogue and today bound).
Planner = Callable[[PlanRequest, dt.date], Plan]

#: Days of doses the status's adherence summary covers (policy).
ADHERENCE_DAYS = 14


class LatestQuick(BaseModel):
    day: dt.date
    ratings: dict[str, int]


class LatestSleep(BaseModel):
    day: dt.date
    metrics: SleepMetrics


class Status(BaseModel):
    on: dt.date
    plan_version: int | None
    plan_uid: str | None
    current_step: int | None
    phase: str | None
    daily_mg: dict[str, float] | None
    doses: list[Dose] = Field(default_factory=list)
    next_cut: dt.date | None
    next_cut_daily_mg: dict[str, float] | None
    hold: bool
    hold_reason: str | None
    decision: Decision | None
    pending_replan: bool
    latest_scores: dict[str, ScaleScore]
    latest_score_dates: dict[str, dt.date]
    latest_quick: LatestQuick | None
    latest_sleep: LatestSleep | None
    adherence: AdherenceSummary | None
    messages: list[str]
    disclaimer: str = DISCLAIMER


def hold_since(store: JournalStore, user_id: int) -> dt.date | None:
    """The day the current adaptive hold began (None: the active plan is not holding)."""
    versions = {v.uid: v for v in store.plan_versions(user_id)}
    active = next((v for v in versions.values() if v.active), None)
    start: dt.date | None = None
    v = active
    while v is not None and v.decision is not None and v.decision.kind in ("hold", "return"):
        start = v.decision.on
        v = versions.get(v.previous_uid) if v.previous_uid else None
    return start


def checkins(store: JournalStore, user_id: int, end: dt.date) -> list[tuple[dt.date, CheckinEntry]]:
    out = []
    for r in store.entries(user_id, kind="checkin", end=end):
        assert isinstance(r.entry, CheckinEntry)
        out.append((r.day, r.entry))
    return out


def evaluate(
    store: JournalStore,
    user_id: int,
    day: dt.date,
    rules: AdaptiveRules,
    book: ScaleBook,
    rows: list[tuple[dt.date, CheckinEntry]] | None = None,
) -> tuple[PlanRecord, Decision] | None:
    """The active plan and the decision for ``day``; ``rows``: the check-ins up to ``day``
    when the caller has them already (read once per status, not twice)."""
    active = store.active_plan(user_id)
    if active is None:
        return None
    if rows is None:
        rows = checkins(store, user_id, day)
    decision = decide(active.plan, rows, day, rules, book, hold_since(store, user_id))
    return active, decision


def review(
    store: JournalStore,
    user_id: int,
    day: dt.date,
    planner: Planner,
    rules: AdaptiveRules,
    book: ScaleBook,
) -> tuple[Decision | None, PlanRecord | None]:
    """Decide for ``day``; save a new plan version when the decision asks for one.

    If the planner refuses the modified request, nothing changes and the decision says so.
    """
    found = evaluate(store, user_id, day, rules, book)
    if found is None:
        return None, None
    active, decision = found
    if not decision.replan or decision.kind == "urgent":
        return decision, None
    if decision.kind == "resume":
        request = resumed_request(active.request, active.plan, day, rules)
    else:
        request = held_request(active.request, active.plan, decision)
    try:
        plan = planner(request, day)
    except BenzotaperError as exc:
        # e.g. a hold inside a crossover: keep everything as it is and say so
        note = (
            f"The plan could not be adjusted automatically ({exc.message}). Keep to your current "
            "dose and ask your prescriber how to adjust the plan."
        )
        return decision.model_copy(update={"messages": [*decision.messages, note]}), None
    record = store.save_plan(
        user_id,
        plan,
        reason=decision.reason,
        origin="adaptive",
        effective_from=day,
        decision=decision,
    )
    return decision, record


def status(
    store: JournalStore, user_id: int, on: dt.date, rules: AdaptiveRules, book: ScaleBook
) -> Status:
    """Where the person stands on ``on`` (read only)."""
    rows = checkins(store, user_id, on)
    found = evaluate(store, user_id, on, rules, book, rows)
    latest: dict[str, ScaleScore] = {}
    latest_dates: dict[str, dt.date] = {}
    latest_quick: LatestQuick | None = None
    for day, entry in rows:
        for scale, items in entry.scales().items():
            latest[scale] = score(book, scale, items)
            latest_dates[scale] = day
        if entry.quick:
            latest_quick = LatestQuick(day=day, ratings=entry.quick)
    # a PHQ-9 item 9 above zero always shows the crisis information, plan or no plan
    crisis = [s.crisis_message for s in latest.values() if s.crisis and s.crisis_message]
    sleep_rows = store.entries(user_id, kind="sleep", end=on)
    latest_sleep = None
    if sleep_rows:
        last = sleep_rows[-1]
        assert isinstance(last.entry, SleepEntry)
        latest_sleep = LatestSleep(day=last.day, metrics=sleep_metrics(last.entry))
    if found is None:
        return Status(
            on=on,
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
            latest_scores=latest,
            latest_score_dates=latest_dates,
            latest_quick=latest_quick,
            latest_sleep=latest_sleep,
            adherence=None,
            messages=[*crisis, "No saved plan: make one with `benzotaper plan ... --save`."],
        )
    active, decision = found
    plan = active.plan
    step = step_on(plan, on)
    cut = next_cut(plan, on)
    next_day = cut.start if cut else None
    if decision.hold and decision.next_cut_not_before and next_day:
        next_day = max(next_day, decision.next_cut_not_before)
    messages = [*decision.messages, *crisis]
    doses = [
        (r.day, r.entry)
        for r in store.entries(
            user_id, kind="dose", start=on - dt.timedelta(days=ADHERENCE_DAYS - 1), end=on
        )
    ]
    adh_start = max(plan.summary.start, on - dt.timedelta(days=ADHERENCE_DAYS - 1))
    adherence = (
        summarise(plan, [(d, e) for d, e in doses if isinstance(e, DoseEntry)], adh_start, on)
        if adh_start <= on
        else None
    )
    return Status(
        on=on,
        plan_version=active.version,
        plan_uid=active.uid,
        current_step=step.index if step else None,
        phase=step.phase if step else None,
        daily_mg=dict(step.daily_mg) if step else None,
        doses=[d for d in step.doses if d.mg > 0] if step else [],
        next_cut=next_day,
        next_cut_daily_mg=dict(cut.daily_mg) if cut else None,
        hold=decision.hold,
        hold_reason=decision.reason if decision.hold else None,
        decision=decision,
        pending_replan=decision.replan and decision.kind != "urgent",
        latest_scores=latest,
        latest_score_dates=latest_dates,
        latest_quick=latest_quick,
        latest_sleep=latest_sleep,
        adherence=adherence,
        messages=list(dict.fromkeys(messages)),
    )
