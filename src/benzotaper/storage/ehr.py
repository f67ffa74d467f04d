"""Tables of the EHR edges (migration ``0350_ehr``).

- ``cds_feedback``: one row per CDS Hooks card outcome an EHR reports (no patient data);
  written by :mod:`benzotaper.ehr.feedback`.
- ``smart_launches``: one row per SMART App Launch, found by the hash of a random key kept in
  an HttpOnly cookie: the OAuth ``state`` and PKCE verifier until the EHR answers, then the
  access token, its scope, the patient in context and the FHIR base, until it expires.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from benzotaper.storage.base import Base, JSONDocument, UTCDateTime, utcnow


class CdsFeedback(Base):
    __tablename__ = "cds_feedback"
    __table_args__ = (
        CheckConstraint("outcome IN ('accepted', 'overridden')", name="outcome"),
        Index("ix_cds_feedback_service_received", "service_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[str] = mapped_column(String(100))
    card_uuid: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(16))
    accepted_suggestions: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    override_code: Mapped[str | None] = mapped_column(String(100))
    override_comment: Mapped[str] = mapped_column(Text, default="")
    outcome_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SmartLaunch(Base):
    __tablename__ = "smart_launches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(200))
    iss: Mapped[str] = mapped_column(String(2000))
    token_endpoint: Mapped[str] = mapped_column(String(2000))
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    access_token: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text, default="")
    patient_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
