"""The journal repository: users, profile, plan versions and entries, inside a caller's session.

:class:`JournalRepository` never opens or commits a transaction: the journal service
(``benzotaper.services.journal``) opens one per use-case and hands its session here, so a
check-in, its review and any new plan version are committed together or not at all.

Nothing a person entered is overwritten: a new plan version is appended (the old one stays,
linked by ``previous_uid``); an edit or deletion appends a revision that supersedes the old row.
Records come back as pydantic models with public ``uid`` identifiers, never ORM objects. Each
list is one query (the uids of linked rows are joined in, not fetched row by row), and a plan
version's JSON is read and parsed once per process (``storage.plancache``: versions never
change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from benzotaper.errors import ConflictError, NotFoundError, StorageError
from benzotaper.journal.adaptive import Decision, pinned
from benzotaper.journal.entries import JournalEntry, StoredEntry, read_entry
from benzotaper.planning.models import PersonFactors, Plan, PlanRequest
from benzotaper.storage.base import new_uid, utcnow
from benzotaper.storage.plancache import PARSED, Parsed
from benzotaper.storage.tables import Entry, PlanVersion, Profile, User

LOCAL_USER_NAME = "Local user"
# The aliases the queries join, made once (building a new alias per query costs milliseconds).
_PREVIOUS = aliased(PlanVersion, name="previous_version")
_LINKED = aliased(PlanVersion, name="linked_version")
_OLDER = aliased(Entry, name="older_entry")
_NEWER = aliased(Entry, name="newer_entry")
_USER = select(User.id).where(User.id == bindparam("id"))
_USER_LOCKED = _USER.with_for_update()
_INSERT_ENTRY = insert(Entry)
_PLAN_ID = select(PlanVersion.id).where(
    PlanVersion.uid == bindparam("uid"), PlanVersion.user_id == bindparam("user_id")
)


class VersionInfo(BaseModel):
    """A plan version without its plan and request (cheap to list)."""

    uid: str
    version: int
    previous_uid: str | None
    reason: str
    origin: str
    effective_from: dt.date
    active: bool
    created_at: dt.datetime
    decision: Decision | None


class PlanRecord(VersionInfo):
    request: PlanRequest
    plan: Plan


class EntryRecord(BaseModel):
    uid: str
    day: dt.date
    kind: str
    entry: StoredEntry
    plan_version_uid: str | None
    supersedes_uid: str | None
    deleted: bool
    reason: str = ""
    created_at: dt.datetime


def _decision(data: dict[str, Any] | None) -> Decision | None:
    """A stored decision, or None if this version cannot read it (reading is total)."""
    if not data:
        return None
    try:
        return Decision.model_validate(data)
    except ValueError:
        return None


class JournalRepository:
    """Every read and write of a person's journal, inside the session it is given."""

    def __init__(self, session: Session) -> None:
        self.s = session
        #: Row ids of the plan versions listed in this transaction, by (person, uid): an entry
        #: linked to one needs its id, and a write has just listed the person's versions.
        self._plan_ids: dict[tuple[int, str], int] = {}

    @property
    def _core(self) -> Connection:
        """The session's connection, for the repository's prebuilt Core statements: their rows
        are columns, never ORM objects, so the session's handling of a statement (its ORM
        compile step and autoflush, ~60 us each; a journal write runs seven) is skipped. The
        repository's own writes reach the database as they are made (an insert is executed,
        an ORM row flushed), so no pending change of its tables can be missed."""
        return self.s.connection()

    # ------------------------------------------------------------------ users

    def local_user(self) -> int:
        """The id of the single local (CLI) user: the first user without an email."""
        uid = self.s.scalar(select(User.id).where(User.email.is_(None)).order_by(User.id).limit(1))
        if uid is None:
            user = User(display_name=LOCAL_USER_NAME, role="patient")
            self.s.add(user)
            self.s.flush()
            uid = user.id
        return uid

    def create_user(
        self,
        *,
        email: str | None = None,
        display_name: str = "",
        role: str = "patient",
        password_hash: str | None = None,
    ) -> int:
        user = User(email=email, display_name=display_name, role=role, password_hash=password_hash)
        try:
            with self.s.begin_nested():
                self.s.add(user)
        except IntegrityError:
            raise StorageError(
                f"A user with email {email!r} exists, or role {role!r} is invalid"
            ) from None
        return user.id

    def lock_user(self, user_id: int) -> None:
        """Take the person's row lock: their journal writes run one after another (PostgreSQL;
        SQLite's write transactions are serial already). NotFoundError if no such user."""
        found = self._core.scalar(_USER_LOCKED, {"id": user_id})
        if found is None:
            raise NotFoundError(f"No user {user_id}")

    def require_user(self, user_id: int) -> None:
        if self._core.scalar(_USER, {"id": user_id}) is None:
            raise NotFoundError(f"No user {user_id}")

    # ---------------------------------------------------------------- profile

    def set_profile(self, user_id: int, person: PersonFactors) -> None:
        self.s.add(Profile(user_id=user_id, person=person.model_dump(mode="json")))

    def profile(self, user_id: int) -> PersonFactors | None:
        row = self.s.scalar(
            select(Profile).where(Profile.user_id == user_id).order_by(Profile.id.desc()).limit(1)
        )
        return PersonFactors.model_validate(row.person) if row else None

    # ------------------------------------------------------------------ plans

    def save_plan(
        self,
        user_id: int,
        plan: Plan,
        *,
        reason: str,
        effective_from: dt.date,
        origin: str = "user",
        decision: Decision | None = None,
    ) -> PlanRecord:
        """Append a plan version and make it the active one (the previous stays, linked).

        The stored request has its start date fixed, so it makes the same plan again later.
        Call with the person's row locked (:meth:`lock_user`) so version numbers cannot race.
        """
        prev = self.s.scalar(
            select(PlanVersion.id).where(
                PlanVersion.user_id == user_id, PlanVersion.active.is_(True)
            )
        )
        top = self.s.scalar(
            select(func.max(PlanVersion.version)).where(PlanVersion.user_id == user_id)
        )
        self.s.execute(
            update(PlanVersion)
            .where(PlanVersion.user_id == user_id, PlanVersion.active.is_(True))
            .values(active=False)
        )
        request = pinned(plan.request, plan)
        row = PlanVersion(
            user_id=user_id,
            version=(top or 0) + 1,
            previous_id=prev,
            reason=reason,
            origin=origin,
            effective_from=effective_from,
            request=request.model_dump(mode="json"),
            plan=plan.model_dump(mode="json"),
            decision=decision.model_dump(mode="json") if decision else None,
            active=True,
        )
        self.s.add(row)
        self.s.flush()
        PARSED.put(row.uid, (request, plan))
        return self._full("id", id=row.id)[0]

    def with_plan(self, info: VersionInfo) -> PlanRecord:
        """The version ``info`` lists, with its request and plan (parsed once per process)."""
        request, plan = self._parsed([info.uid])[info.uid]
        return PlanRecord(**dict(info), request=request, plan=plan)

    def active_plan(self, user_id: int) -> PlanRecord | None:
        rows = self._full("active", user_id=user_id)
        return rows[0] if rows else None

    def plan_versions(self, user_id: int) -> list[PlanRecord]:
        return self._full("user", user_id=user_id)

    def version_infos(self, user_id: int) -> list[VersionInfo]:
        """Every version's facts without its plan JSON, oldest first."""
        return self._plans("user", {"user_id": user_id}, full=False)

    def plan_version(self, user_id: int, uid: str) -> PlanRecord:
        rows = self._full("uid", user_id=user_id, uid=uid)
        if not rows:
            raise NotFoundError("No such plan version.")
        return rows[0]

    def _full(self, which: _Which, **params: Any) -> list[PlanRecord]:
        return [r for r in self._plans(which, params, full=True) if isinstance(r, PlanRecord)]

    def _plans(self, which: _Which, params: dict[str, Any], *, full: bool) -> list[VersionInfo]:
        rows = self._core.execute(_versions_query(which), params).all()
        parsed = self._parsed([row[0] for row in rows]) if full else {}
        out: list[VersionInfo] = []
        for row in rows:
            if "user_id" in params:
                self._plan_ids[(params["user_id"], row[0])] = row[9]
            facts: dict[str, Any] = {
                "uid": row[0],
                "version": row[1],
                "previous_uid": row[2],
                "reason": row[3],
                "origin": row[4],
                "effective_from": row[5],
                "active": row[6],
                "created_at": row[7],
                "decision": _decision(row[8]),
            }
            if full:
                request, plan = parsed[row[0]]
                out.append(PlanRecord(**facts, request=request, plan=plan))
            else:
                out.append(VersionInfo(**facts))
        return out

    def _parsed(self, uids: list[str]) -> dict[str, Parsed]:
        """Each version's (request, plan): from this process's cache, and only the versions
        not parsed here yet have their JSON read (one query) and validated."""
        found = {uid: hit for uid in uids if (hit := PARSED.get(uid)) is not None}
        missing = [uid for uid in uids if uid not in found]
        if missing:
            stmt = select(PlanVersion.uid, PlanVersion.request, PlanVersion.plan).where(
                PlanVersion.uid.in_(missing)
            )
            for uid, request, plan in self._core.execute(stmt):
                found[uid] = (PlanRequest.model_validate(request), Plan.model_validate(plan))
                PARSED.put(uid, found[uid])
        return found

    # ---------------------------------------------------------------- entries

    def add_entry(
        self,
        user_id: int,
        day: dt.date,
        entry: JournalEntry,
        *,
        plan_version_uid: str | None = None,
    ) -> EntryRecord:
        """Store a new entry; its record is what reading the row back gives (the stored
        document parsed, the uid and time the row was given), without reading it back."""
        data = entry.model_dump(mode="json")
        uid, created_at = new_uid(), utcnow()  # the column defaults, made here to be known
        row = {
            "uid": uid,
            "user_id": user_id,
            "kind": entry.kind,
            "entry_date": day,
            "data": data,
            "plan_version_id": self._plan_id(user_id, plan_version_uid),
            "supersedes_id": None,
            "deleted": False,
            "reason": "",
            "created_at": created_at,
        }
        self._core.execute(_INSERT_ENTRY, row)  # one statement: no unit of work for one row
        return _record((uid, day, entry.kind, data, plan_version_uid, None, False, "", created_at))

    def revise(
        self,
        user_id: int,
        uid: str,
        entry: JournalEntry | None,
        day: dt.date | None,
        *,
        reason: str,
    ) -> EntryRecord:
        """Append a revision of entry ``uid`` (``entry`` None: a retraction marker).

        ConflictError when ``uid`` is not the entry's newest revision (changed or retracted
        meanwhile) or is itself a retraction marker; nothing is written then.
        """
        old = self._entry_row(user_id, uid)
        newer = self.s.scalar(select(Entry).where(Entry.supersedes_id == old.id))
        if newer is not None and newer.deleted:
            raise ConflictError(f"Entry {old.uid[:8]} was retracted meanwhile.")
        if newer is not None:
            raise ConflictError(
                f"Entry {old.uid[:8]} was changed meanwhile (its newest revision is "
                f"{newer.uid[:8]}): reload it and make the change again."
            )
        if old.deleted:
            raise ConflictError(f"Entry {old.uid[:8]} is a retraction; it cannot be changed.")
        if entry is not None and entry.kind != old.kind:
            raise StorageError(f"Entry {uid} is a {old.kind}, not a {entry.kind}")
        row = Entry(
            user_id=user_id,
            kind=old.kind,
            entry_date=day or old.entry_date,
            data=entry.model_dump(mode="json") if entry is not None else old.data,
            plan_version_id=old.plan_version_id,
            supersedes_id=old.id,
            deleted=entry is None,
            reason=reason.strip(),
        )
        try:
            with self.s.begin_nested():
                self.s.add(row)
        except IntegrityError:
            raise ConflictError(f"Entry {old.uid[:8]} was changed meanwhile.") from None
        return self._one(row.id)

    def entries(
        self,
        user_id: int,
        *,
        kind: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        every_revision: bool = False,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[EntryRecord]:
        """Current entries (newest revision, not deleted), by date then time of entry; with
        ``every_revision``, superseded revisions and retraction markers too."""
        stmt, params = _entries_statement(
            user_id, kind, start, end, every_revision, newest_first, limit, documents=False
        )
        return self._read(stmt, params)

    def entries_after(
        self,
        user_id: int,
        *,
        kind: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        every_revision: bool = False,
        after: tuple[dt.date, int] | None = None,
        limit: int,
    ) -> list[tuple[EntryRecord, tuple[dt.date, int]]]:
        """Up to ``limit`` entries as :meth:`entries` orders them (date, then row id), those
        after the key ``after`` only, each with its own key (the keyset a page ends with: new
        writes get higher row ids, so a page never repeats or skips an entry written before)."""
        stmt = _entries_query(
            every_revision=every_revision,
            by_kind=kind is not None,
            from_start=start is not None,
            to_end=end is not None,
            newest_first=False,
            limited=True,
            with_id=True,
            keyset=after is not None,
        )
        params = {"user_id": user_id, "kind": kind, "start": start, "end": end, "limit": limit}
        if after is not None:
            params |= {"after_day": after[0], "after_id": after[1]}
        # each row: the record's columns (_records_select: entry_date second), then the row id
        return [(_record(r), (r.entry_date, r[-1])) for r in self._core.execute(stmt, params)]

    def documents(
        self,
        user_id: int,
        *,
        kind: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> Iterator[tuple[dt.date, StoredEntry]]:
        """The current entries of ``kind`` as :meth:`entries` finds them, each only as its day
        and document (what status reads: no uids joined in, no records built), each document
        read as it is reached (a caller after the first readable one reads no more)."""
        stmt, params = _entries_statement(
            user_id, kind, start, end, False, newest_first, limit, documents=True
        )
        for day, stored_kind, data in self._core.execute(stmt, params).all():
            yield day, read_entry(data, stored_kind)

    def entries_by_uid(self, user_id: int, uids: list[str]) -> list[EntryRecord]:
        """These revisions (exact uids), by date then time of entry."""
        if not uids:
            return []
        return self._read(_by_uid_query(), {"user_id": user_id, "uids": uids})

    def entry(self, user_id: int, uid: str) -> EntryRecord:
        """One revision by its uid (or a unique prefix of at least 4 characters)."""
        return self._one(self._entry_row(user_id, uid).id)

    def superseded_uids(self, user_id: int) -> set[str]:
        """The uids of every revision a newer revision (an edit or a retraction) replaced."""
        newer = _NEWER
        rows = self.s.scalars(
            select(Entry.uid)
            .join(newer, newer.supersedes_id == Entry.id)
            .where(Entry.user_id == user_id)
        ).all()
        return set(rows)

    def entry_history(self, user_id: int, uid: str) -> list[EntryRecord]:
        """Every revision of the entry ``uid`` belongs to, oldest first."""
        row = self._entry_row(user_id, uid)
        while row.supersedes_id is not None:
            row = self.s.get_one(Entry, row.supersedes_id)
        chain = [row.id]
        while True:
            nxt = self.s.scalar(select(Entry.id).where(Entry.supersedes_id == chain[-1]))
            if nxt is None:
                break
            chain.append(nxt)
        # each revision is appended after the one it replaces: id order is the chain's order
        return self._records([Entry.id.in_(chain)], (Entry.id,))

    def _entry_row(self, user_id: int, uid: str) -> Entry:
        row = self.s.scalar(select(Entry).where(Entry.uid == uid, Entry.user_id == user_id))
        if row is None:
            matches: Sequence[Entry] = []
            if len(uid) >= 4 and all(c in "0123456789abcdef-" for c in uid):
                matches = self.s.scalars(
                    select(Entry)
                    .where(Entry.user_id == user_id, Entry.uid.startswith(uid))
                    .limit(2)
                ).all()
            if len(matches) == 1:
                return matches[0]
            raise NotFoundError(f"No journal entry {uid!r}")
        return row

    def _plan_id(self, user_id: int, uid: str | None) -> int | None:
        if uid is None:
            return None
        pid = self._plan_ids.get((user_id, uid))
        if pid is None:
            pid = self._core.scalar(_PLAN_ID, {"uid": uid, "user_id": user_id})
        if pid is None:
            raise NotFoundError(f"No plan version {uid!r}")
        return pid

    def _one(self, entry_id: int) -> EntryRecord:
        return self._read(_by_id_query(), {"id": entry_id})[0]

    def _records(
        self, where: list[ColumnElement[bool]], order: tuple[Any, ...]
    ) -> list[EntryRecord]:
        return self._read(_records_select().where(*where).order_by(*order), {})

    def _read(self, stmt: Select[Any], params: dict[str, Any]) -> list[EntryRecord]:
        return [_record(r) for r in self._core.execute(stmt, params)]


def _record(r: Sequence[Any]) -> EntryRecord:
    """An entry's record from its columns in :func:`_records_select`'s order (uid, day, kind,
    document, plan version uid, superseded uid, deleted, reason, created at)."""
    entry = read_entry(r[3], r[2])
    return EntryRecord(
        uid=r[0],
        day=r[1],
        kind=entry.kind,  # "unreadable" for a document this version cannot read
        entry=entry,
        plan_version_uid=r[4],
        supersedes_uid=r[5],
        deleted=r[6],
        reason=r[7],
        created_at=r[8],
    )


# Statements built once, with bound parameters: building one and finding its compiled form again
# costs more than running it (2-3 ms for the entries query with its joins and subquery, against
# 1 ms to run a prebuilt one), and the journal's pages run several.


def _records_select() -> Select[Any]:
    """The columns of an :class:`EntryRecord`: the entry, and the uids of its plan version
    and of the revision it replaces."""
    plan, older = _LINKED, _OLDER
    return (
        select(
            Entry.uid,
            Entry.entry_date,
            Entry.kind,
            Entry.data,
            plan.uid,
            older.uid,
            Entry.deleted,
            Entry.reason,
            Entry.created_at,
        )
        .select_from(Entry)
        .outerjoin(plan, plan.id == Entry.plan_version_id)
        .outerjoin(older, older.id == Entry.supersedes_id)
    )


def _entries_statement(
    user_id: int,
    kind: str | None,
    start: dt.date | None,
    end: dt.date | None,
    every_revision: bool,
    newest_first: bool,
    limit: int | None,
    *,
    documents: bool,
) -> tuple[Select[Any], dict[str, Any]]:
    """The prebuilt entries statement for these options, and its parameters."""
    stmt = _entries_query(
        every_revision,
        kind is not None,
        start is not None,
        end is not None,
        newest_first,
        limit is not None,
        documents,
    )
    return stmt, {"user_id": user_id, "kind": kind, "start": start, "end": end, "limit": limit}


@cache
def _entries_query(
    every_revision: bool,
    by_kind: bool,
    from_start: bool,
    to_end: bool,
    newest_first: bool,
    limited: bool,
    documents: bool = False,
    *,
    with_id: bool = False,
    keyset: bool = False,
) -> Select[Any]:
    """``JournalRepository.entries`` for one combination of its options (parameters:
    ``user_id``, ``kind``, ``start``, ``end``, ``limit``); with ``documents``, only each
    entry's day, kind and document (``JournalRepository.documents``); ``with_id`` adds each
    entry's row id as the last column and ``keyset`` keeps only the entries after
    (``after_day``, ``after_id``) in that order (``JournalRepository.entries_after``)."""
    where: list[ColumnElement[bool]] = [Entry.user_id == bindparam("user_id")]
    if not every_revision:
        where.append(Entry.deleted.is_(False))
        where.append(~select(_NEWER.id).where(_NEWER.supersedes_id == Entry.id).exists())
    if by_kind:
        where.append(Entry.kind == bindparam("kind"))
    if from_start:
        where.append(Entry.entry_date >= bindparam("start"))
    if to_end:
        where.append(Entry.entry_date <= bindparam("end"))
    if keyset:
        after_day = bindparam("after_day", type_=Entry.entry_date.type)
        where.append(
            or_(
                Entry.entry_date > after_day,
                and_(Entry.entry_date == after_day, Entry.id > bindparam("after_id")),
            )
        )
    order = (
        (Entry.entry_date.desc(), Entry.id.desc()) if newest_first else (Entry.entry_date, Entry.id)
    )
    columns = select(Entry.entry_date, Entry.kind, Entry.data) if documents else _records_select()
    if with_id:
        columns = columns.add_columns(Entry.id)
    stmt = columns.where(*where).order_by(*order)
    return stmt.limit(bindparam("limit")) if limited else stmt


@cache
def _by_uid_query() -> Select[Any]:
    where = (
        Entry.user_id == bindparam("user_id"),
        Entry.uid.in_(bindparam("uids", expanding=True)),
    )
    return _records_select().where(*where).order_by(Entry.entry_date, Entry.id)


@cache
def _by_id_query() -> Select[Any]:
    return _records_select().where(Entry.id == bindparam("id"))


#: Which plan versions ``_versions_query`` selects: one by row id, a person's every version,
#: their active one, one of theirs by uid.
_Which = Literal["id", "user", "active", "uid"]


@cache
def _versions_query(which: _Which) -> Select[Any]:
    """A plan version's facts (without its plan JSON; its row id last), oldest first
    (parameters: ``id``, or ``user_id`` and ``uid``)."""
    prev = _PREVIOUS
    if which == "id":
        where = [PlanVersion.id == bindparam("id")]
    else:
        where = [PlanVersion.user_id == bindparam("user_id")]
    if which == "active":
        where.append(PlanVersion.active.is_(True))
    elif which == "uid":
        where.append(PlanVersion.uid == bindparam("uid"))
    return (
        select(
            PlanVersion.uid,
            PlanVersion.version,
            prev.uid,
            PlanVersion.reason,
            PlanVersion.origin,
            PlanVersion.effective_from,
            PlanVersion.active,
            PlanVersion.created_at,
            PlanVersion.decision,
            PlanVersion.id,
        )
        .select_from(PlanVersion)
        .outerjoin(prev, prev.id == PlanVersion.previous_id)
        .where(*where)
        .order_by(PlanVersion.version)
    )
