"""What a clinician sees of a patient: alerts drawn from the journal's own status
(``journal.alerts``), with the plan's current dose and next cut."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from benzotaper.journal.alerts import Alert, alert_level, alerts_from_status
from benzotaper.services.journal import JournalService
from benzotaper.storage import User


class PatientSummary(BaseModel):
    id: int
    name: str
    email: str
    alerts: list[Alert] = Field(default_factory=list)
    plan_version: int | None = None
    daily_mg: dict[str, float] | None = None
    next_cut: dt.date | None = None
    hold: bool = False
    hold_reason: str | None = None

    @property
    def alert_level(self) -> int:
        return alert_level(self.alerts)


def summarise_patient(
    journal: JournalService, patient: User, on: dt.date | None = None
) -> PatientSummary:
    return summary_from_status(patient, journal.status(patient.id, on))


def summary_from_status(patient: User, st: Any) -> PatientSummary:
    return PatientSummary(
        id=patient.id,
        name=patient.display_name or patient.email or "",
        email=patient.email or "",
        alerts=alerts_from_status(st),
        plan_version=st.plan_version,
        daily_mg=st.daily_mg,
        next_cut=st.next_cut,
        hold=st.hold,
        hold_reason=st.hold_reason,
    )
