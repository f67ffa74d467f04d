"""CDS Hooks feedback: which cards the clinician accepted or overrode, stored for the clinic.

The EHR posts ``{"feedback": [{"card", "outcome", "acceptedSuggestions", "overrideReason",
"outcomeTimestamp"}]}`` to ``/cds-services/{id}/feedback``; each item becomes one row. Nothing
about the patient is stored: the card's uuid, the service, the outcome and the reason only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from benzotaper.storage.ehr import CdsFeedback


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class Suggestion(_Loose):
    id: str = Field(min_length=1, max_length=100)


class Coding(_Loose):
    code: str | None = Field(default=None, max_length=100)
    system: str | None = None
    display: str | None = None


class OverrideReason(_Loose):
    reason: Coding | None = None
    userComment: str | None = Field(default=None, max_length=2000)


class FeedbackItem(_Loose):
    card: str = Field(min_length=1, max_length=100)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[Suggestion] = Field(default_factory=list, max_length=20)
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: dt.datetime


class FeedbackRequest(_Loose):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100)


def record_feedback(session: Session, service_id: str, items: Sequence[FeedbackItem]) -> int:
    """Store each item; returns how many were stored."""
    for item in items:
        reason = item.overrideReason
        session.add(
            CdsFeedback(
                service_id=service_id,
                card_uuid=item.card,
                outcome=item.outcome,
                accepted_suggestions=[s.id for s in item.acceptedSuggestions],
                override_code=reason.reason.code if reason and reason.reason else None,
                override_comment=(reason.userComment or "") if reason else "",
                outcome_at=item.outcomeTimestamp,
            )
        )
    return len(items)


def outcomes(session: Session, service_id: str | None = None) -> list[Mapping[str, Any]]:
    """The stored outcomes, oldest first (for the clinic's measures)."""
    query = select(CdsFeedback).order_by(CdsFeedback.id)
    if service_id is not None:
        query = query.where(CdsFeedback.service_id == service_id)
    return [
        {"service": r.service_id, "card": r.card_uuid, "outcome": r.outcome,
         "override": r.override_code, "accepted": r.accepted_suggestions}
        for r in session.scalars(query)
    ]  # fmt: skip
