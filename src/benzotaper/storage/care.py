"""Care access queries: whether a clinician may see a patient, and the audit rows of what they did.

Below the service layer, so that a use-case done on a patient's behalf (a prescriber's
reinstatement) checks the share and writes its audit row in the same transaction as the change
itself; the web's sharing module (invite codes, revocation) builds on these.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Insert, Integer, String, Table, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from benzotaper.errors import NotFoundError
from benzotaper.storage.access import AuditEvent, CareShare
from benzotaper.storage.base import utcnow
from benzotaper.storage.tables import User

#: The share between ``clinician_id`` and ``patient_id`` while it is not revoked.
_ACTIVE = (
    CareShare.clinician_id == bindparam("clinician_id"),
    CareShare.patient_id == bindparam("patient_id"),
    CareShare.revoked_at.is_(None),
)
_SHARE = select(CareShare).where(*_ACTIVE)
#: The patient of an active share (built once: every look at a patient checks it).
_SHARED = select(User).join(CareShare, CareShare.patient_id == User.id).where(*_ACTIVE).limit(1)


def active_share(session: Session, clinician_id: int, patient_id: int) -> CareShare | None:
    return session.scalar(_SHARE, {"clinician_id": clinician_id, "patient_id": patient_id})


def patient_for_clinician(session: Session, clinician_id: int, patient_id: int) -> User:
    """The patient, if they share with this clinician; NotFoundError otherwise (no hint why)."""
    patient = session.scalar(_SHARED, {"clinician_id": clinician_id, "patient_id": patient_id})
    if patient is None:
        raise NotFoundError("No such patient.")
    return patient


@dataclass
class Look:
    """A clinician's look at a shared patient under way: the patient, and the audit row's
    detail (which the work done may fill in, e.g. the plan version it made)."""

    patient: User
    detail: str = ""


@contextmanager
def looking(session: Session, clinician_id: int, patient_id: int, action: str) -> Iterator[Look]:
    """A look at a patient's data, checked and audited in ``session``'s transaction: without an
    active share, NotFoundError and no audit row (as if the patient did not exist); with one,
    the audit row the patient sees (``action``, ``look.detail``) is written when the block ends
    without an error, so a look is audited exactly when it was made, together with what it
    changed. The one way every clinician's look goes (pages, API, a prescriber's change)."""
    look = Look(patient_for_clinician(session, clinician_id, patient_id))
    yield look
    audit(session, clinician_id, look.patient.id, action, look.detail)


def audit(
    session: Session, actor_id: int, patient_id: int | None, action: str, detail: str = ""
) -> None:
    """One audit row, inserted at once (a plain insert: nothing of it is read back)."""
    row = {"actor_id": actor_id, "patient_id": patient_id, "action": action, "detail": detail}
    session.execute(_AUDIT_ROW, row | {"at": utcnow()})


def audit_each(
    session: Session,
    actor_id: int,
    patient_ids: Sequence[int],
    action: str,
    detail: str = "",
) -> None:
    """One audit row per patient, in one statement (a page of the clinician list): the ids go
    as one value, unnested by the database, not as the driver's executemany (psycopg: a
    statement per row) nor as an ``INSERT ... VALUES`` of the rows (a new statement to compile
    for every call: 6 ms for a page of 25)."""
    if not patient_ids:
        return
    postgres = session.get_bind().dialect.name == "postgresql"
    ids: Any = list(patient_ids) if postgres else json.dumps(list(patient_ids))
    values = {"actor_id": actor_id, "action": action, "detail": detail, "at": utcnow()}
    session.execute(_AUDIT_ROWS[postgres], values | {"ids": ids})


def _audit_rows(postgres: bool) -> Insert:
    """The insert of one actor's audit rows, a row per id of ``:ids`` (PostgreSQL: an integer
    array; SQLite: a JSON array, read with ``json_each``)."""
    shared = [bindparam(name, type_=_AUDIT_LOG.c[name].type) for name in _BY_ACTOR]
    if postgres:  # a set-returning function: a row per element
        rows = select(*shared, func.unnest(bindparam("ids", type_=ARRAY(Integer))))
    else:
        each = func.json_each(bindparam("ids", type_=String)).table_valued("value")
        rows = select(*shared, each.c.value).select_from(each)
    return insert(_AUDIT_LOG).from_select([*_BY_ACTOR, "patient_id"], rows)


_AUDIT_LOG = cast(Table, AuditEvent.__table__)
_AUDIT_ROW = insert(_AUDIT_LOG)
_BY_ACTOR = ("actor_id", "action", "detail", "at")
_AUDIT_ROWS = {postgres: _audit_rows(postgres) for postgres in (False, True)}
