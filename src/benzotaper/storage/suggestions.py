"""A clinician's suggested plan changes to a patient (``plan_suggestions``): stored, and read
back with who made them. What a suggestion may hold is checked above (``web.suggestions``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from benzotaper.storage.access import PlanSuggestion
from benzotaper.storage.tables import User


class Made(NamedTuple):
    """A suggestion as the patient's pages list it."""

    id: int
    clinician_name: str
    clinician_email: str | None
    message: str
    created_at: dt.datetime
    status: str
    request: dict[str, Any] | None


#: A patient's suggestions with who made them, newest first (built once, as columns: read on
#: every look at the patient and on My plan).
_MADE_TO = (
    select(
        PlanSuggestion.id,
        User.display_name,
        User.email,
        PlanSuggestion.message,
        PlanSuggestion.created_at,
        PlanSuggestion.status,
        PlanSuggestion.request,
    )
    .join(User, User.id == PlanSuggestion.clinician_id)
    .where(PlanSuggestion.patient_id == bindparam("patient_id"))
    .order_by(PlanSuggestion.created_at.desc(), PlanSuggestion.id.desc())
)


def made_to(s: Session | Connection, patient_id: int) -> list[Made]:
    """The suggestions made to the patient, newest first (``s``: a session, or a read's
    connection: a kept My plan page is checked by them, ``web.kept_answers``)."""
    return [Made(*row) for row in s.execute(_MADE_TO, {"patient_id": patient_id})]


def add(
    s: Session, clinician_id: int, patient_id: int, message: str, request: dict[str, Any] | None
) -> int:
    """Store a suggestion; its id."""
    row = PlanSuggestion(
        patient_id=patient_id, clinician_id=clinician_id, message=message, request=request
    )
    s.add(row)
    s.flush()
    return row.id


def request_of(s: Session, patient_id: int, suggestion_id: int) -> dict[str, Any] | None:
    """The request suggested to this patient (None: no such suggestion for them, or it holds
    a message only)."""
    row = s.get(PlanSuggestion, suggestion_id)
    return row.request if row is not None and row.patient_id == patient_id else None
