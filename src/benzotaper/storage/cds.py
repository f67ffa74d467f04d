"""The CDS Hooks feedback table: one row per card outcome an EHR reports (no patient data).

Written by :mod:`benzotaper.ehr.feedback`; migration ``0350_cds_feedback``.
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
