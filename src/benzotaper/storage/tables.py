"""The journal's tables. Rows a person entered are never updated or deleted, only superseded.

- ``users``: one row per person. The local CLI user has no email and no password.
  ``role`` is ``'patient'`` or ``'clinician'``; ``time_zone`` is an IANA name (default UTC).
  Every journal row references ``users.id``.
- ``profiles``: the person factors the planner uses (``PersonFactors`` JSON); a change appends a
  row, the latest row is the current profile.
- ``plan_versions``: each saved plan (the ``PlanRequest`` and the ``Plan`` JSON), numbered per
  user, linked to the version it replaced (``previous_id``) with the ``reason``. Exactly one per
  user is ``active`` (a partial unique index enforces it).
- ``entries``: every journal entry (dose, check-in, sleep diary, medicine, life event, note) as a
  validated JSON document of its ``kind``. An edit or a deletion appends a new row whose
  ``supersedes_id`` points at the row it replaces (unique: history stays a single line); the
  current entries are the rows nothing supersedes and that are not ``deleted`` tombstones.
  ``reason`` is why a revision was made (a correction, a retraction); empty for the original.

Other modules add tables by deriving from :class:`benzotaper.storage.base.Base` and importing
their module in ``benzotaper/storage/__init__.py`` (so Alembic sees them), then adding a migration
in ``storage/migrations/versions/`` whose ``down_revision`` is the current head.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from benzotaper.storage.base import Base, new_uid, utcnow

ROLES = ("patient", "clinician")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('patient', 'clinician')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="patient")
    display_name: Mapped[str] = mapped_column(String(200), default="")
    #: IANA time zone name (e.g. "America/New_York"): "today", reminders and .ics use it.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Profile(Base):
    __tablename__ = "profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    person: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PlanVersion(Base):
    __tablename__ = "plan_versions"
    __table_args__ = (
        UniqueConstraint("user_id", "version", name="uq_plan_versions_user_version"),
        Index(
            "uq_plan_versions_one_active",
            "user_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    version: Mapped[int]
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("plan_versions.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(16), default="user")
    effective_from: Mapped[dt.date] = mapped_column(Date)
    request: Mapped[dict[str, Any]]
    plan: Mapped[dict[str, Any]]
    decision: Mapped[dict[str, Any] | None]
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Entry(Base):
    __tablename__ = "entries"
    __table_args__ = (
        Index("ix_entries_user_kind_date", "user_id", "kind", "entry_date"),
        Index("ix_entries_user_date", "user_id", "entry_date"),  # every kind, by day
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    entry_date: Mapped[dt.date] = mapped_column(Date)
    data: Mapped[dict[str, Any]]
    plan_version_id: Mapped[int | None] = mapped_column(ForeignKey("plan_versions.id"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"), unique=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
