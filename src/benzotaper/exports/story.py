"""The taper story: a short, anonymised summary in the style of peer-support forum signatures.

People on tapering forums share a "signature": the drugs and doses over time, where they are
now, how far along, and their holds. This writes one from the plan, counting weeks from the
start instead of dates, and never including names, birth dates or anything identifying.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from benzotaper.catalogue import Catalogue
from benzotaper.exports._common import drug_name, fmt_mg, percent_done, step_on
from benzotaper.planning.models import Plan, Step

FOOTER = (
    "Not medical advice: agree any taper, and every change, with your own prescriber. "
    "Made with benzotaper."
)


def _daily(step: Step, catalogue: Catalogue | None) -> str:
    parts = [
        f"{drug_name(d, catalogue).lower()} {fmt_mg(mg)} mg"
        for d, mg in step.daily_mg.items()
        if mg > 0
    ]
    return " + ".join(parts) or "0 mg"


def _week(plan: Plan, day: dt.date) -> int:
    return (day - plan.summary.start).days // 7 + 1


@dataclass(frozen=True)
class Story:
    start: str
    signature: list[str]
    now: str | None
    holds: str
    plan: str
    ahead: str | None


def _runs(steps: list[Step]) -> list[tuple[Step, int]]:
    """Merge consecutive steps with the same daily doses (a hold repeats the dose)."""
    runs: list[tuple[Step, int]] = []
    for step in steps:
        if runs and runs[-1][0].daily_mg == step.daily_mg:
            first, days = runs[-1]
            runs[-1] = (first, days + step.days)
        else:
            runs.append((step, step.days))
    return runs


def build_story(plan: Plan, today: dt.date, catalogue: Catalogue | None = None) -> Story:
    regimen = plan.request.regimen
    totals: dict[str, float] = {}
    for a in regimen:
        totals[a.drug] = totals.get(a.drug, 0) + a.mg
    start = " + ".join(
        f"{drug_name(d, catalogue).lower()} {fmt_mg(mg)} mg/day" for d, mg in totals.items()
    )
    start += f" (≈ {fmt_mg(plan.summary.starting_diazepam_equivalent_mg)} mg diazepam equivalent)"

    current = step_on(plan, today)
    done = [s for s in plan.steps if s.start <= today]
    signature: list[str] = []
    for step, days in _runs(done):
        weeks = max(1, round(days / 7))
        hold = (
            " hold"
            if any(
                s.phase == "hold"
                for s in done
                if s.start >= step.start and s.start < step.start + dt.timedelta(days=days)
            )
            else ""
        )
        signature.append(f"{_daily(step, catalogue)} ({weeks} wk{hold})")

    now = None
    if current is not None:
        now = (
            f"week {_week(plan, today)} of {_week(plan, plan.summary.end)}: "
            f"{_daily(current, catalogue)}/day, {percent_done(plan, current):.0f}% done"
        )
    elif today > plan.summary.end:
        now = "taper complete, 100% done"
    hold_steps = [s for s in plan.steps if s.phase == "hold" and s.start <= today]
    hold_days = sum(s.days for s in hold_steps)
    holds = f"{len(hold_steps)} so far ({hold_days} days)" if hold_steps else "none so far"
    s = plan.summary
    pace = f", {s.pace} pace" if s.pace else ""
    plan_line = f"{s.strategy} taper{pace}, about {s.weeks:g} weeks in {s.steps} steps"
    future = [st for st in plan.steps if st.start > today]
    ahead = None
    if future:
        ahead = (
            " → ".join(fmt_mg(st.diazepam_equivalent_mg) for st, _ in _runs(future)) + " mg DE/day"
        )
    return Story(start, signature, now, holds, plan_line, ahead)


def story_markdown(plan: Plan, *, today: dt.date, catalogue: Catalogue | None = None) -> str:
    st = build_story(plan, today, catalogue)
    lines = ["**My taper**", "", f"- **Started on:** {st.start}"]
    lines.append("- **So far:** " + (" → ".join(st.signature) if st.signature else "not started"))
    if st.now:
        lines.append(f"- **Now:** {st.now}")
    lines.append(f"- **Holds:** {st.holds}")
    lines.append(f"- **Plan:** {st.plan}")
    if st.ahead:
        lines.append(f"- **Ahead:** {st.ahead}")
    lines += ["", f"_{FOOTER}_", ""]
    return "\n".join(lines)


def story_text(plan: Plan, *, today: dt.date, catalogue: Catalogue | None = None) -> str:
    st = build_story(plan, today, catalogue)
    lines = ["My taper", f"Started on: {st.start}"]
    lines.append("So far: " + (" > ".join(st.signature) if st.signature else "not started"))
    if st.now:
        lines.append(f"Now: {st.now}")
    lines.append(f"Holds: {st.holds}")
    lines.append(f"Plan: {st.plan}")
    if st.ahead:
        lines.append(f"Ahead: {st.ahead.replace(' → ', ' > ')}")
    lines += [FOOTER, ""]
    return "\n".join(lines)
