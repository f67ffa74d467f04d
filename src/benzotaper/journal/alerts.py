"""A person's alerts for their clinician, drawn from the journal's own status (pure: no I/O).

The journal library decides holds, danger signs, crisis messages, score bands and adherence;
this module only turns a ``Status`` into a short list of alerts, most urgent first. The journal
service stores them with each change (``services.summary``), so the clinician list sorts by
urgency without computing anyone's status.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

AlertSeverity = Literal["info", "caution", "danger"]
_ORDER = {"info": 0, "caution": 1, "danger": 2}
#: Policy: bands of GAD-7 / PHQ-9 that make an alert (the scales' own "moderate" and above).
ALERT_BANDS = {"moderate", "moderately severe", "severe"}


class Alert(BaseModel):
    code: str
    severity: AlertSeverity
    message: str
    day: dt.date | None = Field(default=None, description="The day the alert is about, if one")


def alerts_from_status(st: Any) -> list[Alert]:
    out: list[Alert] = []
    decision = st.decision
    if decision is not None and decision.kind == "urgent":
        out.append(Alert(code="danger_sign", severity="danger", message=decision.reason))
    for s in st.latest_scores.values():
        if s.crisis:
            day = st.latest_score_dates[s.scale]
            message = f"{s.short}: thoughts of self-harm reported (item {s.short} crisis)."
            out.append(Alert(code="crisis", severity="danger", message=message, day=day))
    if decision is not None and decision.kind == "return":
        out.append(Alert(code="severe_symptoms", severity="danger", message=decision.reason))
    if st.hold:
        out.append(Alert(code="hold", severity="caution", message=f"On hold: {st.hold_reason}"))
    elif st.pending_replan and decision is not None:
        out.append(Alert(code="rising_scores", severity="caution", message=decision.reason))
    for key, s in st.latest_scores.items():
        if s.band in ALERT_BANDS:
            day = st.latest_score_dates[key]
            out.append(
                Alert(
                    code="score",
                    severity="caution",
                    message=f"{s.short} {s.total}/{s.max_total} ({s.band})",
                    day=day,
                )
            )
    adh = st.adherence
    if adh is not None and adh.missed:
        out.append(
            Alert(
                code="missed_doses",
                severity="caution",
                message=f"{adh.missed} missed dose(s) in the {(adh.end - adh.start).days + 1} "
                "days up to this day",
                day=adh.end,
            )
        )
    if st.plan_version is None:
        out.append(Alert(code="no_plan", severity="info", message="No plan saved yet."))
    out.sort(key=lambda a: -_ORDER[a.severity])
    return out


def alert_level(alerts: list[Alert]) -> int:
    """The most urgent severity: 2 danger, 1 caution, 0 info, -1 no alert."""
    return max((_ORDER[a.severity] for a in alerts), default=-1)


def card_facts(st: Any) -> dict[str, Any]:
    """What a clinician's patient card shows besides the alerts (JSON-ready)."""
    return {
        "plan_version": st.plan_version,
        "daily_mg": st.daily_mg,
        "next_cut": st.next_cut.isoformat() if st.next_cut else None,
        "hold": st.hold,
        "hold_reason": st.hold_reason,
    }
