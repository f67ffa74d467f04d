"""Tables for who may see what: web sessions, login attempts, shares with clinicians, audit log.

- ``web_sessions``: one row per signed-in browser. Only a SHA-256 of the cookie's random token
  is stored, with the session's CSRF token and its expiry.
- ``login_throttle``: one row per throttled key (an account, a client address, an account from
  one address, a trusted device, registrations from one address; stored as a SHA-256, never in
  clear): attempts in the current window and when the next attempt is allowed. Shared by every
  worker process; updated under a row lock, so concurrent attempts are counted exactly.
- ``idempotency_keys``: a signed-in person's retried write is answered from here, not done
  twice (``web.idempotency``): the key, a SHA-256 of the request, and the answer once done.
- ``trusted_devices``: a browser that has signed in to an account (only a SHA-256 of its cookie
  token): its owner is not slowed down by failed logins from elsewhere.
- ``care_shares``: a patient's invite code (stored hashed) and, once a clinician redeems it, the
  read access it grants; revoking sets ``revoked_at`` (rows are kept for the record).
- ``audit_log``: every time a clinician opens a patient's data or suggests a change. The rows
  about a patient go with the patient's account; a clinician's rows stay when the clinician's
  account is deleted (``actor_id`` set to NULL, ``actor_name`` keeps the name the patient saw).
- ``plan_suggestions``: a clinician's suggested plan change, for the patient to accept or not.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from benzotaper.storage.base import Base, utcnow


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class LoginThrottle(Base):
    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[dt.datetime] = mapped_column(index=True)
    next_at: Mapped[dt.datetime]


class TrustedDevice(Base):
    __tablename__ = "trusted_devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class CareShare(Base):
    __tablename__ = "care_shares"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    clinician_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_expires_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


#: The longest clinician name an audit row keeps (a display name's or an email's length).
ACTOR_NAME_MAX = 320


class AuditEvent(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    #: NULL once the clinician's account is deleted (the row stays for the patient).
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: The clinician's name as the patient saw it, kept when their account is deleted.
    actor_name: Mapped[str | None] = mapped_column(String(ACTOR_NAME_MAX))
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")


class PlanSuggestion(Base):
    __tablename__ = "plan_suggestions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    clinician_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(Text)
    request: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, Any] | None]
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[dt.datetime | None]
