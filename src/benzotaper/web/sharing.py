"""Sharing with clinicians: invite codes, the read access they grant, and the audit log.

A patient makes a one-time code (valid for a week) and gives it to their clinician; redeeming it
grants read access until the patient revokes it. Every check is made server-side (the share and
audit queries themselves are `storage.care`, below the service layer): a
clinician without an active share gets NotFoundError, exactly as if the patient did not exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from benzotaper.errors import InputError, NotFoundError
from benzotaper.storage import User, utcnow
from benzotaper.storage.access import AuditEvent, CareShare
from benzotaper.storage.care import active_share, audit

#: Policy: how long an unused invite code stays valid.
CODE_DAYS = 7
#: Unambiguous letters and digits (no 0/O, 1/I/L); 12 characters ≈ 60 bits.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


class ShareError(InputError):
    code = "share"


def _hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@dataclass(frozen=True)
class ShareView:
    id: int
    status: str  # pending, active, expired, revoked
    clinician: str | None
    created_at: dt.datetime
    accepted_at: dt.datetime | None
    code_expires_at: dt.datetime


def create_invite(session: Session, patient_id: int) -> str:
    """A fresh code for this patient; only its hash is stored, so show it now."""
    code = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
    session.add(
        CareShare(
            patient_id=patient_id,
            code_hash=_hash(code),
            code_expires_at=utcnow() + dt.timedelta(days=CODE_DAYS),
        )
    )
    session.flush()
    return format_code(code)


def redeem_invite(session: Session, clinician_id: int, code: str) -> User:
    """Link the clinician to the patient who made ``code``; the patient is returned."""
    share = session.scalar(select(CareShare).where(CareShare.code_hash == _hash(code)))
    now = utcnow()
    if (
        share is None
        or share.revoked_at is not None
        or share.clinician_id is not None
        or share.code_expires_at < now
    ):
        raise ShareError(
            "That code is not valid. Codes work once and for "
            f"{CODE_DAYS} days; ask your patient for a new one."
        )
    if share.patient_id == clinician_id:
        raise ShareError("You cannot share your own journal with yourself.")
    existing = active_share(session, clinician_id, share.patient_id)
    share.clinician_id = clinician_id
    share.accepted_at = now
    if existing is not None:  # one active link per pair: the new one replaces the old
        existing.revoked_at = now
    patient = session.get(User, share.patient_id)
    assert patient is not None
    audit(session, clinician_id, patient.id, "share.redeem")
    return patient


def patients_of(session: Session, clinician_id: int) -> list[User]:
    """Patients who currently share with this clinician, by name."""
    rows = session.scalars(
        select(User)
        .join(CareShare, CareShare.patient_id == User.id)
        .where(CareShare.clinician_id == clinician_id, CareShare.revoked_at.is_(None))
        .order_by(User.display_name, User.email)
    )
    return list(rows)


def shares_of(session: Session, patient_id: int) -> list[ShareView]:
    now = utcnow()
    out = []
    rows = session.execute(
        select(CareShare, User)
        .outerjoin(User, User.id == CareShare.clinician_id)
        .where(CareShare.patient_id == patient_id)
        .order_by(CareShare.created_at.desc(), CareShare.id.desc())
    ).all()
    for share, clinician in rows:
        if share.revoked_at is not None:
            status = "revoked"
        elif share.clinician_id is not None:
            status = "active"
        elif share.code_expires_at < now:
            status = "expired"
        else:
            status = "pending"
        out.append(
            ShareView(
                id=share.id,
                status=status,
                clinician=(clinician.display_name or clinician.email) if clinician else None,
                created_at=share.created_at,
                accepted_at=share.accepted_at,
                code_expires_at=share.code_expires_at,
            )
        )
    return out


def revoke(session: Session, patient_id: int, share_id: int) -> None:
    """End a share (or cancel an unused code). Another patient's share id is NotFound."""
    share = session.get(CareShare, share_id)
    if share is None or share.patient_id != patient_id:
        raise NotFoundError("No such share.")
    if share.revoked_at is None:
        share.revoked_at = utcnow()


#: What each audited action means, in the words the patient reads on the Account page.
ACTION_WORDS = {
    "view.list": "saw you in their patient list (with your alerts)",
    "view.list.api": "saw you in their patient list (with your alerts), through the API",
    "view.patient": "opened your plan and journal",
    "view.patient.api": "read your summary and alerts through the API",
    "view.status.api": "read your status through the API",
    "view.journal.api": "read your journal through the API",
    "view.plan.api": "read your plan through the API",
    "suggest.plan": "suggested a change to your plan",
    "plan.reinstate": "returned you to an earlier dose (a new plan version)",
    "plan.reinstate.api": "returned you to an earlier dose (a new plan version), through the API",
    "share.redeem": "started seeing your plan and journal (used your code)",
}


@dataclass(frozen=True)
class Looker:
    """Who took a look, as the patient's audit trail names them."""

    display_name: str
    email: str


def audit_trail(
    session: Session, patient_id: int, limit: int = 100
) -> list[tuple[AuditEvent, Looker]]:
    """Who (which clinician) looked at this patient's data, newest first; a clinician whose
    account has been deleted since is named as the patient saw them then."""
    rows = session.execute(
        select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.patient_id == patient_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return [(e, _looker(e, u)) for e, u in rows]


def _looker(event: AuditEvent, user: User | None) -> Looker:
    if user is not None:
        return Looker(user.display_name, user.email or "")
    name = event.actor_name or "A clinician"
    return Looker(f"{name}, whose account has since been deleted", "")
