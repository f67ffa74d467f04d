"""Renderings of a saved plan version, made once and kept: a version never changes once saved.

- ``plan_renders``: one row per plan version and kind of rendering (e.g. ``chart-phone.svg``),
  written the first time any worker process needs it and read by every later request. Rows are
  derived data: deleting them all only costs the time to draw them again.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from benzotaper.storage.base import Base, utcnow


class PlanRender(Base):
    __tablename__ = "plan_renders"

    plan_version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
