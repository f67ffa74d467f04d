"""Care access queries: whether a clinician may see a patient, and the audit rows of what they did.

Below the service layer, so that a use-case done on a patient's behalf (a prescriber's
reinstatement) checks the share and writes its audit row in the same transaction as the change
itself; the web's sharing module (invite codes, revocation) builds on these.
"""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from benzotaper.errors import NotFoundError
from benzotaper.storage.access import AuditEvent, CareShare
from benzotaper.storage.base import utcnow
from benzotaper.storage.tables import User


def active_share(session: Session, clinician_id: int, patient_id: int) -> CareShare | None:
    return session.scalar(
        select(CareShare).where(
            CareShare.clinician_id == clinician_id,
            CareShare.patient_id == patient_id,
            CareShare.revoked_at.is_(None),
        )
    )


def patient_for_clinician(session: Session, clinician_id: int, patient_id: int) -> User:
    """The patient, if they share with this clinician; NotFoundError otherwise (no hint why)."""
    if active_share(session, clinician_id, patient_id) is None:
        raise NotFoundError("No such patient.")
    patient = session.get(User, patient_id)
    if patient is None:
        raise NotFoundError("No such patient.")
    return patient


def audit(
    session: Session, actor_id: int, patient_id: int | None, action: str, detail: str = ""
) -> None:
    session.add(AuditEvent(actor_id=actor_id, patient_id=patient_id, action=action, detail=detail))


def audit_each(session: Session, actor_id: int, patient_ids: list[int], action: str) -> None:
    """One audit row per patient, in one statement (a page of the clinician list)."""
    if patient_ids:
        rows = [
            {"actor_id": actor_id, "patient_id": p, "action": action, "detail": "", "at": utcnow()}
            for p in patient_ids
        ]
        session.execute(insert(AuditEvent), rows)
