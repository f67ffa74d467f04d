"""Export and import one person's whole journal as JSON, exactly.

The document holds the user (without any password hash), every profile, every plan version and
every entry revision (superseded and deleted ones too, with the reason given for each
correction or retraction), each with its public ``uid`` and timestamps, so
``export(import(doc)) == doc``. Import writes everything in one transaction: either the whole
journal arrives or nothing does. Version 1 documents (before revision reasons) still import.

What stays out, on purpose: the password hash, web sessions and login attempts (secrets and
security records, not journal content), and the web app's care shares, audit log and clinician
suggestions (records of other accounts' access to the journal; they point at clinician accounts
that do not exist in another database, so they cannot be restored there).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from benzotaper.errors import InputError, NotFoundError, StorageError
from benzotaper.journal.entries import ENTRY_ADAPTER
from benzotaper.limits import EMAIL_MAX, Name, Reason
from benzotaper.planning.models import PersonFactors, Plan, PlanRequest
from benzotaper.storage.engine import Database
from benzotaper.storage.tables import Entry, PlanVersion, Profile, User

FORMAT: Literal["benzotaper-journal"] = "benzotaper-journal"
FORMAT_VERSION: Literal[2] = 2


#: ``\u0000`` in JSON text, not preceded by an escaped backslash.
_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")
#: Row ids as the database stores them (a uuid is 36 characters).
Uid = Annotated[str, Field(min_length=1, max_length=36)]
#: What an INTEGER column holds (the same on SQLite and PostgreSQL).
Int32 = Annotated[int, Field(ge=0, le=2**31 - 1)]


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class UserDoc(_M):
    email: Annotated[str, Field(max_length=EMAIL_MAX)] | None
    role: Literal["patient", "clinician"]
    display_name: Name
    created_at: AwareDatetime


class ProfileDoc(_M):
    uid: Uid
    person: dict[str, Any]
    created_at: AwareDatetime


class PlanVersionDoc(_M):
    uid: Uid
    version: Int32
    previous_uid: Uid | None
    reason: Reason
    origin: Annotated[str, Field(max_length=16)]
    effective_from: dt.date
    active: bool
    request: dict[str, Any]
    plan: dict[str, Any]
    decision: dict[str, Any] | None
    created_at: AwareDatetime


class EntryDoc(_M):
    uid: Uid
    kind: Annotated[str, Field(max_length=32)]
    entry_date: dt.date
    data: dict[str, Any]
    plan_version_uid: Uid | None
    supersedes_uid: Uid | None
    deleted: bool
    reason: Reason = ""
    created_at: AwareDatetime


class JournalExport(_M):
    format: Literal["benzotaper-journal"] = FORMAT
    format_version: Literal[1, 2] = FORMAT_VERSION
    user: UserDoc
    profiles: list[ProfileDoc]
    plan_versions: list[PlanVersionDoc]
    entries: list[EntryDoc]


def export_journal(db: Database, user_id: int) -> JournalExport:
    """Everything stored for ``user_id``, in the order it was written."""
    with db.read() as s:
        return journal_export(s, user_id)


def journal_export(s: Session, user_id: int) -> JournalExport:
    """:func:`export_journal` inside the caller's transaction (an account deletion exports in
    the transaction that deletes, so the copy is exactly what was deleted)."""
    user = s.get(User, user_id)
    if user is None:
        raise NotFoundError(f"No user {user_id}")
    plans = s.scalars(
        select(PlanVersion).where(PlanVersion.user_id == user_id).order_by(PlanVersion.id)
    ).all()
    plan_uid = {p.id: p.uid for p in plans}
    entries = s.scalars(select(Entry).where(Entry.user_id == user_id).order_by(Entry.id)).all()
    entry_uid = {e.id: e.uid for e in entries}
    profiles = s.scalars(
        select(Profile).where(Profile.user_id == user_id).order_by(Profile.id)
    ).all()
    return JournalExport(
        user=UserDoc(
            email=user.email,
            role=user.role,
            display_name=user.display_name,
            created_at=user.created_at,
        ),
        profiles=[
            ProfileDoc(uid=p.uid, person=p.person, created_at=p.created_at) for p in profiles
        ],
        plan_versions=[
            PlanVersionDoc(
                uid=p.uid,
                version=p.version,
                previous_uid=plan_uid.get(p.previous_id) if p.previous_id else None,
                reason=p.reason,
                origin=p.origin,
                effective_from=p.effective_from,
                active=p.active,
                request=p.request,
                plan=p.plan,
                decision=p.decision,
                created_at=p.created_at,
            )
            for p in plans
        ],
        entries=[
            EntryDoc(
                uid=e.uid,
                kind=e.kind,
                entry_date=e.entry_date,
                data=e.data,
                plan_version_uid=plan_uid.get(e.plan_version_id) if e.plan_version_id else None,
                supersedes_uid=entry_uid.get(e.supersedes_id) if e.supersedes_id else None,
                deleted=e.deleted,
                reason=e.reason,
                created_at=e.created_at,
            )
            for e in entries
        ],
    )


def parse_export(text: str | bytes) -> JournalExport:
    """Validate an export document; every plan and entry must still be valid.

    UTF-8 only (a byte-order mark is fine); numbers, ids and texts must fit the database, and
    no text may hold a NUL character: each problem is an InputError that says where."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"Not a benzotaper journal export: the file is not UTF-8 text (byte {exc.start})."
            ) from None
    text = text.removeprefix("\ufeff")
    if "\x00" in text or _JSON_NUL.search(text):
        raise InputError("Not a valid benzotaper journal export: it holds a NUL character (\\0).")
    try:
        doc = JournalExport.model_validate_json(text)
        for p in doc.profiles:
            PersonFactors.model_validate(p.person)
        for v in doc.plan_versions:
            PlanRequest.model_validate(v.request)
            Plan.model_validate(v.plan)
        for e in doc.entries:
            if ENTRY_ADAPTER.validate_python(e.data).kind != e.kind:
                raise InputError(f"entry {e.uid}: kind {e.kind!r} does not match its data")
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise InputError(f"Not a valid benzotaper journal export: {loc}: {first['msg']}") from None
    return doc


def import_journal(db: Database, doc: JournalExport, user_id: int | None = None) -> int:
    """Write ``doc`` into an empty journal: the user ``user_id`` (which must have no entries or
    plans yet) or a new user. Returns the user id. All or nothing."""
    try:
        with db.transaction() as s:
            if user_id is None:
                user = User(
                    email=doc.user.email,
                    role=doc.user.role,
                    display_name=doc.user.display_name,
                    created_at=doc.user.created_at,
                )
                s.add(user)
                s.flush()
            else:
                found = s.get(User, user_id)
                if found is None:
                    raise NotFoundError(f"No user {user_id}")
                user = found
                for table in (Entry, PlanVersion, Profile):
                    if s.scalar(select(table.id).where(table.user_id == user_id).limit(1)):
                        raise StorageError(
                            "This journal already has data; import only into an empty journal"
                        )
                user.display_name = doc.user.display_name
                user.created_at = doc.user.created_at
            for p in doc.profiles:
                s.add(Profile(uid=p.uid, user_id=user.id, person=p.person, created_at=p.created_at))
            plan_ids: dict[str, int] = {}
            for v in doc.plan_versions:
                row = PlanVersion(
                    uid=v.uid,
                    user_id=user.id,
                    version=v.version,
                    previous_id=plan_ids[v.previous_uid] if v.previous_uid else None,
                    reason=v.reason,
                    origin=v.origin,
                    effective_from=v.effective_from,
                    active=v.active,
                    request=v.request,
                    plan=v.plan,
                    decision=v.decision,
                    created_at=v.created_at,
                )
                s.add(row)
                s.flush()
                plan_ids[v.uid] = row.id
            entry_ids: dict[str, int] = {}
            for e in doc.entries:
                erow = Entry(
                    uid=e.uid,
                    user_id=user.id,
                    kind=e.kind,
                    entry_date=e.entry_date,
                    data=e.data,
                    plan_version_id=plan_ids[e.plan_version_uid] if e.plan_version_uid else None,
                    supersedes_id=entry_ids[e.supersedes_uid] if e.supersedes_uid else None,
                    deleted=e.deleted,
                    reason=e.reason,
                    created_at=e.created_at,
                )
                s.add(erow)
                s.flush()
                entry_ids[e.uid] = erow.id
            return user.id
    except KeyError as exc:
        raise InputError(f"The export refers to {exc.args[0]!r} before defining it") from None
    except IntegrityError:
        raise StorageError(
            "The export's records (or its email) already exist in this database"
        ) from None
    except DBAPIError as exc:  # a value the database cannot hold: say so, no traceback
        raise InputError(
            f"The export holds a value the database cannot store: {exc.orig}"
        ) from None
