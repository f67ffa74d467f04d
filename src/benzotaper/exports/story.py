"""The taper story: a short, anonymised summary in the style of peer-support forum signatures.

People on tapering forums share a "signature": the drugs and doses over time, where they are
now, how far along, and their holds. This writes one from the plan, counting weeks from the
start instead of dates, and never including names, birth dates, hold reasons or anything
identifying. Given the saved plan versions and the journal, it tells what actually happened
(the doses in force before each re-plan, holds actually taken, doses logged today) and counts
progress from the very first start.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from benzotaper.catalogue import Catalogue
from benzotaper.errors import BenzotaperError
from benzotaper.exports._common import drug_name, fmt_mg, step_on
from benzotaper.exports.tables import JournalRow
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


@dataclass(frozen=True)
class Story:
    start: str
    signature: list[str]
    now: str | None
    holds: str
    plan: str
    ahead: str | None


class PlanVersionRow(Protocol):
    """What the story needs of a saved plan version (``storage.journal.PlanRecord`` fits)."""

    @property
    def plan(self) -> Plan: ...
    @property
    def effective_from(self) -> dt.date: ...


@dataclass(frozen=True)
class _Span:
    """Part of a step that was (or is) actually in force: from the plan version of the time."""

    start: dt.date
    end: dt.date
    step: Step

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _history(plan: Plan, versions: Sequence[PlanVersionRow] | None) -> list[tuple[dt.date, Plan]]:
    if not versions:
        return [(plan.summary.start, plan)]
    ordered = [(v.effective_from, v.plan) for v in versions]
    first_start, first = ordered[0]
    return [(min(first_start, first.summary.start), first), *ordered[1:]]


def _spans(history: list[tuple[dt.date, Plan]], today: dt.date) -> list[_Span]:
    """The steps in force day by day up to ``today``: each plan version from the day it took
    effect until the next one did (a re-plan replaces the rest of the earlier plan)."""
    out: list[_Span] = []
    for i, (since, version) in enumerate(history):
        until = history[i + 1][0] - dt.timedelta(days=1) if i + 1 < len(history) else today
        until = min(until, today)
        for step in version.steps:
            lo, hi = max(step.start, since), min(step.end, until)
            if lo <= hi:
                out.append(_Span(lo, hi, step))
    return out


def _runs(spans: Sequence[_Span]) -> list[tuple[Step, int, bool]]:
    """Merge consecutive spans with the same daily doses: (first step, days, any hold)."""
    runs: list[tuple[Step, int, bool]] = []
    for span in spans:
        hold = span.step.phase == "hold"
        if runs and runs[-1][0].daily_mg == span.step.daily_mg:
            first, days, held = runs[-1]
            runs[-1] = (first, days + span.days, held or hold)
        else:
            runs.append((span.step, span.days, hold))
    return runs


def _logged(journal: Iterable[JournalRow], today: dt.date, catalogue: Catalogue | None) -> str:
    """'lorazepam 0.9 mg' taken on ``today`` per the journal's dose entries ('' if none)."""
    totals: dict[str, float] = {}
    for row in journal:
        entry = row.entry
        if row.day == today and entry.kind == "dose" and entry.status in ("taken", "extra"):
            name = _typed_drug(entry.drug, catalogue)
            totals[name] = totals.get(name, 0) + entry.mg
    return " + ".join(f"{name} {fmt_mg(mg)} mg" for name, mg in totals.items())


def _typed_drug(text: str, catalogue: Catalogue | None) -> str:
    """A drug as typed in the journal, safe to share: the catalogue's name when it is one,
    else only its letters, digits, spaces and hyphens (no HTML or Markdown gets through)."""
    if catalogue is not None:
        try:
            return catalogue.drug(text).name.lower()
        except BenzotaperError:
            pass
    plain = re.sub(r"[^\w \-]+", "", text, flags=re.UNICODE).strip()[:40]
    return plain.lower() or "another drug"


def build_story(
    plan: Plan,
    today: dt.date,
    catalogue: Catalogue | None = None,
    *,
    versions: Sequence[PlanVersionRow] | None = None,
    journal: Iterable[JournalRow] | None = None,
) -> Story:
    """The story of ``plan`` (the active plan). With ``versions`` (the saved plan versions,
    oldest first) it tells what actually happened: the doses each version had in force until
    the next took over, the holds actually taken, and progress since the very first start.
    With ``journal`` it adds the doses logged today."""
    history = _history(plan, versions)
    origin = history[0][1]
    begin = history[0][0]
    totals: dict[str, float] = {}
    for a in origin.request.regimen:
        totals[a.drug] = totals.get(a.drug, 0) + a.mg
    start_de = origin.summary.starting_diazepam_equivalent_mg
    start = " + ".join(
        f"{drug_name(d, catalogue).lower()} {fmt_mg(mg)} mg/day" for d, mg in totals.items()
    )
    start += f" (≈ {fmt_mg(start_de)} mg diazepam equivalent)"

    def week(day: dt.date) -> int:
        return (day - begin).days // 7 + 1

    spans = _spans(history, today)
    signature = [
        f"{_daily(step, catalogue)} ({max(1, round(days / 7))} wk{' hold' if held else ''})"
        for step, days, held in _runs(spans)
    ]

    current = step_on(plan, today)
    now = None
    if current is not None:
        done = _percent(start_de, current.diazepam_equivalent_mg)
        now = (
            f"week {week(today)} of {week(plan.summary.end)} "
            f"(step {current.index + 1} of {len(plan.steps)}"
            f"{', holding' if current.phase == 'hold' else ''}): "
            f"{_daily(current, catalogue)}/day, {done:.0f}% done by diazepam equivalent"
        )
        logged = _logged(journal, today, catalogue) if journal is not None else ""
        if logged:
            now += f"; logged today: {logged}"
    elif today > plan.summary.end:
        now = "taper complete, 100% done"
    hold_runs = _hold_runs(spans)
    holds = f"{len(hold_runs)} so far ({sum(hold_runs)} days)" if hold_runs else "none so far"
    s = plan.summary
    pace = f", {s.pace} pace" if s.pace else ""
    weeks = round(((s.end - begin).days + 1) / 7, 1) if versions else s.weeks
    plan_line = f"{s.strategy} taper{pace}, about {weeks:g} weeks in {s.steps} steps"
    future = [st for st in plan.steps if st.start > today]
    ahead = None
    if future:
        later = [_Span(st.start, st.end, st) for st in future]
        ahead = " → ".join(fmt_mg(st.diazepam_equivalent_mg) for st, _, _ in _runs(later))
        ahead += " mg DE/day"
    return Story(start, signature, now, holds, plan_line, ahead)


def _percent(start_de: float, now_de: float) -> float:
    """How far along by diazepam equivalent, from the very first start (0 to 100)."""
    if start_de <= 0:
        return 100.0
    return max(0.0, min(100.0, 100.0 * (start_de - now_de) / start_de))


def _hold_runs(spans: Sequence[_Span]) -> list[int]:
    """Days of each hold actually in force (consecutive hold days count as one hold)."""
    runs: list[int] = []
    last: dt.date | None = None
    for span in spans:
        if span.step.phase != "hold":
            last = None
            continue
        if last is not None and span.start == last + dt.timedelta(days=1):
            runs[-1] += span.days
        else:
            runs.append(span.days)
        last = span.end
    return runs


def _story_lines(st: Story, *, markdown: bool) -> list[str]:
    """One layout for both renderings: Markdown bolds the labels, plain text uses ASCII arrows."""

    def field(label: str, value: str) -> str:
        return f"- **{label}:** {value}" if markdown else f"{label}: {value}"

    arrow = " → " if markdown else " > "
    lines = ["**My taper**", ""] if markdown else ["My taper"]
    lines.append(field("Started on", st.start))
    lines.append(field("So far", arrow.join(st.signature) if st.signature else "not started"))
    if st.now:
        lines.append(field("Now", st.now))
    lines.append(field("Holds", st.holds))
    lines.append(field("Plan", st.plan))
    if st.ahead:
        lines.append(field("Ahead", st.ahead.replace(" → ", arrow)))
    lines += ["", f"_{FOOTER}_", ""] if markdown else [FOOTER, ""]
    return lines


def story_markdown(
    plan: Plan,
    *,
    today: dt.date,
    catalogue: Catalogue | None = None,
    versions: Sequence[PlanVersionRow] | None = None,
    journal: Iterable[JournalRow] | None = None,
) -> str:
    """The story as Markdown; ``versions`` and ``journal`` as for :func:`build_story`."""
    st = build_story(plan, today, catalogue, versions=versions, journal=journal)
    return "\n".join(_story_lines(st, markdown=True))


def story_text(
    plan: Plan,
    *,
    today: dt.date,
    catalogue: Catalogue | None = None,
    versions: Sequence[PlanVersionRow] | None = None,
    journal: Iterable[JournalRow] | None = None,
) -> str:
    """The story as plain text; ``versions`` and ``journal`` as for :func:`build_story`."""
    st = build_story(plan, today, catalogue, versions=versions, journal=journal)
    return "\n".join(_story_lines(st, markdown=False))
