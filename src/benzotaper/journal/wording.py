"""Plain words for the journal's data: decisions, findings and notices.

The core decides in data (``Decision``, ``Finding``, ``Notice``); this module says it in plain
language with no option names, markup or source keys, so the pages and the API can show it as
it is. The CLI uses the same words and adds its option names where a notice asks for an action
(``cli.journal_words``). Dates are ISO (``2026-01-15``); the pages format them their own way
from the decision's fields when they need to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from benzotaper.journal.notices import Notice

if TYPE_CHECKING:
    from benzotaper.journal.adaptive import Decision, Finding
    from benzotaper.journal.scales import ScaleBook


def _mg(daily: dict[str, float] | None) -> str:
    return ", ".join(f"{drug} {mg:g} mg" for drug, mg in (daily or {}).items())


def _day(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def finding_text(f: Finding) -> str:
    if f.rule == "rise":
        return (
            f"{f.name} {f.value:g} is {f.value - (f.baseline or 0):g} above the pre-cut baseline "
            f"{f.baseline or 0:.3g} (rise threshold {f.threshold:g})"
        )
    return f"{f.name} {f.value:g} ≥ {f.threshold:g} ({f.rule} threshold)"


def _last_findings(d: Decision, day: Any) -> str:
    return "; ".join(finding_text(f) for f in d.findings if f.day == day)


def _hold_progress(d: Decision) -> str:
    """Where a continuing hold stands, with one date only (the next cut is the status's)."""
    if d.awaiting_checkins:
        since = f"symptoms stable since {_day(d.stable_from)}, but " if d.stable_from else ""
        return (
            f"{since}only {d.checkins_recorded} check-ins in the last {d.stable_days_needed} "
            f"days ({d.checkins_needed} needed)"
        )
    if d.last_symptom_day is not None and d.last_symptom_day >= d.on:
        return (
            f"symptoms were still significant on {_day(d.last_symptom_day)}; the next cut waits "
            f"until they have been stable for {d.stable_days_needed} days"
        )
    if d.stable_from is not None:
        return (
            f"symptoms stable since {_day(d.stable_from)}; the next cut waits until they have "
            f"been stable for {d.stable_days_needed} days"
        )
    since = f" since the symptoms on {_day(d.last_symptom_day)}" if d.last_symptom_day else ""
    return (
        f"no check-in recorded{since}; the next cut waits until symptoms have been stable for "
        f"{d.stable_days_needed} days"
    )


def decision_reason(d: Decision, book: ScaleBook) -> str:
    from benzotaper.journal.scales import danger_label

    stable = d.stable_days_needed
    if d.kind == "urgent":
        signs = [danger_label(book, k) for k in d.danger_signs]
        if d.crisis:
            signs.append("thoughts of being better off dead or of self-harm (PHQ-9 item 9)")
        return (
            f"Danger sign reported on {_day(d.danger_day)}: {'; '.join(signs)}. "
            "The plan is not changed automatically."
        )
    if d.kind == "return" and d.return_because == "persisting":
        return (
            f"Significant withdrawal symptoms on {_day(d.last_symptom_day)} "
            f"({_last_findings(d, d.last_symptom_day)}), although the dose has been held since "
            f"{_day(d.hold_since)}. Holding the current dose; a return to the previous dose is "
            "proposed for you and your prescriber to decide."
        )
    if d.kind == "return":
        return (
            f"Severe withdrawal symptoms on {_day(d.last_symptom_day)}: "
            f"{_last_findings(d, d.last_symptom_day)}. Holding the current dose; the next cut "
            f"waits until symptoms have been stable for {stable} days."
        )
    if d.kind == "hold" and d.hold_since is None:
        after = f" after the cut on {_day(d.cut_day)}" if d.cut_day else ""
        return (
            f"Significant withdrawal symptoms{after} ({d.significant_days} days: "
            f"{_last_findings(d, d.last_symptom_day)}). Holding the current dose; the next cut "
            f"waits until symptoms have been stable for {stable} days."
        )
    if d.kind == "hold":
        return f"Hold continues since {_day(d.hold_since)}: {_hold_progress(d)}."
    if d.kind == "resume":
        calm = d.stable_from or d.hold_since
        return (
            f"Symptoms stable since {_day(calm)}: resuming with smaller cuts or longer intervals."
        )
    if d.kind == "lift":
        return (
            "Hold lifted: without the check-ins that were corrected or retracted, nothing calls "
            "for it. The plan continues as it was before the hold."
        )
    if d.cut_day is None:
        return (
            "No cut has taken effect yet: your check-ins now show your usual symptoms, the "
            "baseline later check-ins are compared with."
        )
    if d.watch_until is not None and d.on <= d.watch_until:
        return (
            f"Watching for symptoms after the cut on {_day(d.cut_day)} until "
            f"{_day(d.watch_until)}; none significant so far."
        )
    return "No significant symptoms recorded: continue as planned."


def worded(d: Decision, book: ScaleBook) -> Decision:
    """``d`` with its plain words filled in: ``reason``, ``messages`` and ``evidence``."""
    evidence = d.evidence or [
        f"{_day(day)}: {_last_findings(d, day)}" for day in dict.fromkeys(f.day for f in d.findings)
    ]
    return d.model_copy(
        update={
            "reason": decision_reason(d, book),
            "messages": [notice_text(n, book) for n in d.notices],
            "evidence": evidence,
        }
    )


def _dose_words(n: Notice) -> str:
    v = n.values
    texts: dict[str, Callable[[], str]] = {
        "dose_differs_from_plan": lambda: (
            f"You recorded {v['mg']:g} mg of {v['drug']}; the plan has {v['planned_mg']:g} mg"
            f" at {v['time']}. Record {v['mg']:g} mg?"
        ),
        "dose_not_in_plan": lambda: (
            f"{v['drug']} is not in your plan for this day. Record {v['mg']:g} mg as taken?"
        ),
        "dose_above_label_max": lambda: (
            f"This makes {v['day_total_mg']:g} mg of {v['drug']} on this day, above the labelled "
            f"maximum of {v['max_daily_mg']:g} mg a day. Record it? Tell your prescriber."
        ),
        "dose_already_recorded": lambda: (
            f"The {v['time']} dose of {v['drug']} is already recorded as {v['status']}. "
            "Record another?"
        ),
        "dose_implausible": lambda: (
            f"{v['mg']:g} mg of {v['drug']} is far above any plausible dose (labelled maximum "
            f"{v['max_daily_mg']:g} mg a day): check the amount and the unit."
        ),
        "dose_no_target": lambda: (
            f"No planned dose is left to record on {_day(v['day'])}: give the amount and the "
            "drug, or record it as an extra dose."
        ),
        "dose_no_drug": lambda: "Say which drug: there is no planned dose to take it from.",
        "dose_not_planned_at": lambda: f"No dose is planned at {v['time']} on {_day(v['day'])}.",
        "missed_and_extra": lambda: "A dose is either missed or extra, not both.",
        "dose_unknown_drug": lambda: (
            f"Unknown drug {v['name']!r}."
            + (f" Did you mean: {', '.join(v['suggestions'])}?" if v.get("suggestions") else "")
        ),
    }
    return texts[n.kind]()


def _entry_words(n: Notice) -> str:
    v = n.values
    texts: dict[str, Callable[[], str]] = {
        "date_in_future": lambda: (
            f"{_day(v['day'])} is in the future: the journal records what has happened "
            f"(today is {_day(v['today'])})."
        ),
        "date_before_window": lambda: (
            f"{_day(v['day'])} is too far back: entries can go back to {_day(v['earliest'])}"
            + (
                f" ({v['window_days']} days before your plan started)"
                if v.get("plan_start")
                else f" ({v['window_days']} days before today)"
            )
            + "."
        ),
        "date_out_of_range": lambda: str(v["message"]),
        "text_too_long": lambda: (
            f"This text is {v['length']} characters long; at most {v['limit']} are kept."
        ),
        "invalid_value": lambda: str(v["message"]),
        "sleep_no_time_in_bed": lambda: (
            "The time in bed must be more than nothing and less than 24 hours: check the times."
        ),
        "sleep_woke_before_sleep": lambda: (
            "The final awakening must come after the time you tried to sleep: check the times."
        ),
        "sleep_latency_exceeds_night": lambda: (
            f"Falling asleep ({v['sol_min']} min) and lying awake ({v['waso_min']} min) add up "
            f"to more than the {v['night_min']} minutes between trying to sleep and waking up "
            "for the day: check the minutes and the times."
        ),
        "checkin_empty": lambda: "Rate at least one symptom, or fill in a questionnaire.",
    }
    return texts[n.kind]()


def notice_text(n: Notice, book: ScaleBook | None = None) -> str:
    """Plain words for any notice (refusals, questions, decision messages)."""
    if n.kind in ("urgent_danger_sign", "crisis_support"):
        from benzotaper.journal.scales import default_scales

        danger = (book or default_scales()).danger
        return danger.message if n.kind == "urgent_danger_sign" else danger.crisis_message
    if n.kind == "consider_previous_dose":
        back = _mg(n.values.get("daily_mg"))
        why = (
            f"Symptoms have not settled during a hold of {n.values.get('hold_days')} days or more."
            if n.values.get("because") == "persisting"
            else "Symptoms are severe."
        )
        return (
            f"{why} Consider going back to your previous dose"
            + (f" ({back} a day)" if back else "")
            + " and contact your prescriber now. benzotaper does not raise doses on its own: "
            "a return is made only when you or your prescriber ask for it."
        )
    if n.kind == "replan_refused":
        return (
            f"The plan could not be adjusted automatically ({n.values['message']}). Keep to "
            "your current dose and ask your prescriber how to adjust the plan."
        )
    if n.kind == "no_plan":
        return "No saved plan yet: make one and save it to follow it here."
    if n.kind.startswith("dose_") or n.kind == "missed_and_extra":
        return _dose_words(n)
    return _entry_words(n)
