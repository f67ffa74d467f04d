"""The clinic measures' derived table (see :mod:`benzotaper.storage.measures` for its use).

``measure_timelines``: one row per patient with a saved plan: ``runs``, the dose in force day
by day from every plan version (packed :data:`~benzotaper.measures.timeline.RUN_DTYPE` rows, read
back without parsing), ``payload`` (JSON: the benzodiazepine dose the first plan started from and
the person factors of each version) and ``zero_day``, the first day at zero.

Derived data, recomputed when a patient has a plan version it has not seen, or when
``schema_version`` or ``catalogue_version`` differ from the running code's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from benzotaper.storage.base import Base, utcnow


class MeasureTimeline(Base):
    """A patient's dose timeline for the clinic measures (derived from ``plan_versions``)."""

    __tablename__ = "measure_timelines"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    through_version_id: Mapped[int]
    versions: Mapped[int]
    schema_version: Mapped[int]
    catalogue_version: Mapped[str] = mapped_column(String(64))
    zero_day: Mapped[dt.date | None] = mapped_column(Date)
    runs: Mapped[bytes] = mapped_column(LargeBinary)
    payload: Mapped[dict[str, Any]]
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
