"""What a clinician sees of a patient: a summary with alerts, built from the journal's status.

Alerts come from the journal library (holds, danger signs, rising scores, missed doses); this
module only arranges them for display and never decides anything clinical itself.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from benzotaper.storage import User


class Alert(BaseModel):
    code: str
    severity: str = Field(description="info, caution or danger")
    message: str


class PatientSummary(BaseModel):
    id: int
    name: str
    email: str
    alerts: list[Alert] = Field(default_factory=list)
    status: dict[str, Any] | None = None

    @property
    def alert_level(self) -> int:
        order = {"info": 0, "caution": 1, "danger": 2}
        return max((order.get(a.severity, 0) for a in self.alerts), default=-1)


def summarise_patient(session: Session, patient: User, detail: bool = False) -> PatientSummary:
    return PatientSummary(
        id=patient.id, name=patient.display_name or patient.email or "", email=patient.email or ""
    )
