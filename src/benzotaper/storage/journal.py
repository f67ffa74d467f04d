"""The journal repository: users, profile, plan versions and entries, one transaction per call.

Use::

    store = JournalStore(Database())          # migrated database
    me = store.local_user()                   # the CLI's single local user (created once)
    v = store.save_plan(me, plan, reason="first plan", effective_from=today)
    store.add_entry(me, today, DoseEntry(drug="diazepam", mg=5, time="08:00"))

Nothing a person entered is overwritten: a new plan version is appended (the old one stays,
linked by ``previous_uid``); an edit or deletion appends a revision that supersedes the old row.
Records come back as pydantic models with public ``uid`` identifiers, never ORM objects.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, defer

from benzotaper.errors import NotFoundError, StorageError
from benzotaper.journal.adaptive import Decision, pinned
from benzotaper.journal.entries import ENTRY_ADAPTER, JournalEntry
from benzotaper.planning.models import PersonFactors, Plan, PlanRequest
from benzotaper.storage.base import new_uid
from benzotaper.storage.engine import Database
from benzotaper.storage.tables import Entry, PlanVersion, Profile, User

LOCAL_USER_NAME = "Local user"
_RETRIES = 5
#: Parsed plan versions kept per process (policy: enough for every active patient of a busy
#: worker). A version's request, plan and decision never change once saved, so a cache keyed by
#: its uid is correct in every worker process without any invalidation.
PLAN_CACHE_SIZE = 512


class _ParsedPlans:
    """A small thread-safe LRU of parsed (request, plan, decision) by plan-version uid."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[PlanRequest, Plan, Decision | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, uid: str) -> tuple[PlanRequest, Plan, Decision | None] | None:
        with self._lock:
            found = self._items.get(uid)
            if found is not None:
                self._items.move_to_end(uid)
            return found

    def put(self, uid: str, parsed: tuple[PlanRequest, Plan, Decision | None]) -> None:
        with self._lock:
            self._items[uid] = parsed
            self._items.move_to_end(uid)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_PARSED = _ParsedPlans(PLAN_CACHE_SIZE)
#: The plan columns: loaded only when a version is not parsed in this process yet.
_LAZY_PLAN = (defer(PlanVersion.request), defer(PlanVersion.plan), defer(PlanVersion.decision))


class PlanRecord(BaseModel):
    uid: str
    version: int
    previous_uid: str | None
    reason: str
    origin: str
    effective_from: dt.date
    active: bool
    created_at: dt.datetime
    request: PlanRequest
    plan: Plan
    decision: Decision | None


class EntryRecord(BaseModel):
    uid: str
    day: dt.date
    kind: str
    entry: JournalEntry
    plan_version_uid: str | None
    supersedes_uid: str | None
    deleted: bool
    reason: str = ""
    created_at: dt.datetime


class JournalStore:
    """Every read and write of a person's journal; each method is one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ users

    def local_user(self) -> int:
        """The id of the single local (CLI) user: the first user without an email."""
        with self.db.transaction() as s:
            uid = s.scalar(select(User.id).where(User.email.is_(None)).order_by(User.id).limit(1))
            if uid is None:
                user = User(display_name=LOCAL_USER_NAME, role="patient")
                s.add(user)
                s.flush()
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
        try:
            with self.db.transaction() as s:
                user = User(
                    email=email, display_name=display_name, role=role, password_hash=password_hash
                )
                s.add(user)
                s.flush()
                return user.id
        except IntegrityError:
            raise StorageError(
                f"A user with email {email!r} exists, or role {role!r} is invalid"
            ) from None

    def _user(self, s: Session, user_id: int) -> User:
        user = s.get(User, user_id)
        if user is None:
            raise NotFoundError(f"No user {user_id}")
        return user

    # ---------------------------------------------------------------- profile

    def set_profile(self, user_id: int, person: PersonFactors) -> None:
        with self.db.transaction() as s:
            self._user(s, user_id)
            s.add(Profile(user_id=user_id, person=person.model_dump(mode="json")))

    def profile(self, user_id: int) -> PersonFactors | None:
        with self.db.read() as s:
            row = s.scalar(
                select(Profile).where(Profile.user_id == user_id).order_by(Profile.id.desc())
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
        """
        request = pinned(plan.request, plan)
        for _ in range(_RETRIES):
            try:
                with self.db.transaction() as s:
                    self._user(s, user_id)
                    prev = s.scalar(
                        select(PlanVersion)
                        .options(*_LAZY_PLAN)
                        .where(PlanVersion.user_id == user_id, PlanVersion.active.is_(True))
                    )
                    top = s.scalar(
                        select(func.max(PlanVersion.version)).where(PlanVersion.user_id == user_id)
                    )
                    s.execute(
                        update(PlanVersion)
                        .where(PlanVersion.user_id == user_id, PlanVersion.active.is_(True))
                        .values(active=False)
                    )
                    row = PlanVersion(
                        uid=new_uid(),
                        user_id=user_id,
                        version=(top or 0) + 1,
                        previous_id=prev.id if prev else None,
                        reason=reason,
                        origin=origin,
                        effective_from=effective_from,
                        request=request.model_dump(mode="json"),
                        plan=plan.model_dump(mode="json"),
                        decision=decision.model_dump(mode="json") if decision else None,
                        active=True,
                    )
                    s.add(row)
                    s.flush()
                    _PARSED.put(row.uid, (request, plan, decision))
                    return self._plan_record(s, row, prev.uid if prev else None)
            except IntegrityError:
                continue  # another writer took this version number: read again and retry
        raise StorageError("Could not save the plan: the journal is busy, try again")

    def active_plan(self, user_id: int) -> PlanRecord | None:
        with self.db.read() as s:
            row = s.scalar(
                select(PlanVersion)
                .options(*_LAZY_PLAN)
                .where(PlanVersion.user_id == user_id, PlanVersion.active.is_(True))
            )
            return self._plan_record(s, row) if row else None

    def plan_versions(self, user_id: int) -> list[PlanRecord]:
        with self.db.read() as s:
            rows = s.scalars(
                select(PlanVersion)
                .options(*_LAZY_PLAN)
                .where(PlanVersion.user_id == user_id)
                .order_by(PlanVersion.version)
            ).all()
            uids = {r.id: r.uid for r in rows}
            return [self._plan_record(s, r, uids.get(r.previous_id or 0)) for r in rows]

    def _plan_record(self, s: Session, row: PlanVersion, prev_uid: str | None = None) -> PlanRecord:
        """The record of ``row``; its plan JSON is read and parsed once per process."""
        if row.previous_id and prev_uid is None:
            prev_uid = s.scalar(select(PlanVersion.uid).where(PlanVersion.id == row.previous_id))
        parsed = _PARSED.get(row.uid)
        if parsed is None:
            parsed = (
                PlanRequest.model_validate(row.request),
                Plan.model_validate(row.plan),
                Decision.model_validate(row.decision) if row.decision else None,
            )
            _PARSED.put(row.uid, parsed)
        request, plan, decision = parsed
        return PlanRecord(
            uid=row.uid,
            version=row.version,
            previous_uid=prev_uid,
            reason=row.reason,
            origin=row.origin,
            effective_from=row.effective_from,
            active=row.active,
            created_at=row.created_at,
            request=request,
            plan=plan,
            decision=decision,
        )

    # ---------------------------------------------------------------- entries

    def add_entry(
        self,
        user_id: int,
        day: dt.date,
        entry: JournalEntry,
        *,
        plan_version_uid: str | None = None,
    ) -> EntryRecord:
        with self.db.transaction() as s:
            self._user(s, user_id)
            row = Entry(
                user_id=user_id,
                kind=entry.kind,
                entry_date=day,
                data=entry.model_dump(mode="json"),
                plan_version_id=self._plan_id(s, user_id, plan_version_uid),
            )
            s.add(row)
            s.flush()
            return self._entry_record(s, row)

    def edit_entry(
        self,
        user_id: int,
        uid: str,
        entry: JournalEntry,
        *,
        day: dt.date | None = None,
        reason: str = "",
    ) -> EntryRecord:
        """Append a revision of entry ``uid`` (with why); the old text stays in the history."""
        return self._revise(user_id, uid, entry, day, deleted=False, reason=reason)

    def delete_entry(self, user_id: int, uid: str, *, reason: str = "") -> EntryRecord:
        """Append a deletion (retraction) marker with why; the entry leaves the journal but
        stays in its history."""
        return self._revise(user_id, uid, None, None, deleted=True, reason=reason)

    def _revise(
        self,
        user_id: int,
        uid: str,
        entry: JournalEntry | None,
        day: dt.date | None,
        *,
        deleted: bool,
        reason: str,
    ) -> EntryRecord:
        try:
            with self.db.transaction() as s:
                old = self._entry_row(s, user_id, uid)
                newer = s.scalar(select(Entry).where(Entry.supersedes_id == old.id))
                if newer is not None and newer.deleted:
                    raise StorageError(f"Entry {old.uid} was deleted (retracted)")
                if newer is not None:
                    raise StorageError(
                        f"Entry {old.uid} was already changed; edit its newest revision {newer.uid}"
                    )
                if old.deleted:
                    raise StorageError(f"Entry {old.uid} is deleted (a retraction marker)")
                if entry is not None and entry.kind != old.kind:
                    raise StorageError(f"Entry {uid} is a {old.kind}, not a {entry.kind}")
                row = Entry(
                    user_id=user_id,
                    kind=old.kind,
                    entry_date=day or old.entry_date,
                    data=entry.model_dump(mode="json") if entry is not None else old.data,
                    plan_version_id=old.plan_version_id,
                    supersedes_id=old.id,
                    deleted=deleted,
                    reason=reason.strip(),
                )
                s.add(row)
                s.flush()
                return self._entry_record(s, row)
        except IntegrityError:
            raise StorageError(f"Entry {uid} was changed by someone else meanwhile") from None

    def entries(
        self,
        user_id: int,
        *,
        kind: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        every_revision: bool = False,
    ) -> list[EntryRecord]:
        """Current entries (newest revision, not deleted), by date then time of entry; with
        ``every_revision``, superseded revisions and retraction markers too."""
        newer = aliased(Entry)
        q = self._select_with_uids().where(Entry.user_id == user_id)
        if not every_revision:
            q = q.where(Entry.deleted.is_(False)).where(
                ~select(newer.id).where(newer.supersedes_id == Entry.id).exists()
            )
        if kind is not None:
            q = q.where(Entry.kind == kind)
        if start is not None:
            q = q.where(Entry.entry_date >= start)
        if end is not None:
            q = q.where(Entry.entry_date <= end)
        with self.db.read() as s:
            rows = s.execute(q.order_by(Entry.entry_date, Entry.id)).all()
            return [_record(row, row.plan_uid, row.older_uid) for row in rows]

    def entry(self, user_id: int, uid: str) -> EntryRecord:
        """One revision by its uid (or a unique prefix of at least 4 characters)."""
        with self.db.read() as s:
            return self._entry_record(s, self._entry_row(s, user_id, uid))

    def superseded_uids(self, user_id: int) -> set[str]:
        """The uids of every revision a newer revision (an edit or a retraction) replaced."""
        newer = aliased(Entry)
        with self.db.read() as s:
            rows = s.scalars(
                select(Entry.uid)
                .join(newer, newer.supersedes_id == Entry.id)
                .where(Entry.user_id == user_id)
            ).all()
            return set(rows)

    def entry_history(self, user_id: int, uid: str) -> list[EntryRecord]:
        """Every revision of the entry ``uid`` belongs to, oldest first."""
        with self.db.read() as s:
            row = self._entry_row(s, user_id, uid)
            while row.supersedes_id is not None:
                row = s.get_one(Entry, row.supersedes_id)
            chain = [row]
            while True:
                nxt = s.scalar(select(Entry).where(Entry.supersedes_id == chain[-1].id))
                if nxt is None:
                    break
                chain.append(nxt)
            return [self._entry_record(s, r) for r in chain]

    def _entry_row(self, s: Session, user_id: int, uid: str) -> Entry:
        row = s.scalar(select(Entry).where(Entry.uid == uid, Entry.user_id == user_id))
        if row is None:
            matches = s.scalars(
                select(Entry).where(Entry.user_id == user_id, Entry.uid.startswith(uid))
            ).all()
            if len(matches) == 1 and len(uid) >= 4:
                return matches[0]
            raise NotFoundError(f"No journal entry {uid!r}")
        return row

    def _plan_id(self, s: Session, user_id: int, uid: str | None) -> int | None:
        if uid is None:
            return None
        pid = s.scalar(
            select(PlanVersion.id).where(PlanVersion.uid == uid, PlanVersion.user_id == user_id)
        )
        if pid is None:
            raise NotFoundError(f"No plan version {uid!r}")
        return pid

    @staticmethod
    def _select_with_uids() -> Select[Any]:
        """Entry columns (plain rows: no ORM objects to build) with the plan-version uid and
        the superseded entry's uid, by outer joins in the same query (never a query, let alone
        a plan load, per entry)."""
        older = aliased(Entry)
        return (
            select(
                Entry.uid,
                Entry.entry_date,
                Entry.kind,
                Entry.data,
                Entry.deleted,
                Entry.reason,
                Entry.created_at,
                PlanVersion.uid.label("plan_uid"),
                older.uid.label("older_uid"),
            )
            .outerjoin(PlanVersion, PlanVersion.id == Entry.plan_version_id)
            .outerjoin(older, older.id == Entry.supersedes_id)
        )

    def _entry_record(self, s: Session, row: Entry) -> EntryRecord:
        """The record of one entry row (two small uid look-ups, no plan load)."""
        plan_uid = older_uid = None
        if row.plan_version_id is not None:
            pid = row.plan_version_id
            plan_uid = s.scalar(select(PlanVersion.uid).where(PlanVersion.id == pid))
        if row.supersedes_id is not None:
            older_uid = s.scalar(select(Entry.uid).where(Entry.id == row.supersedes_id))
        return _record(row, plan_uid, older_uid)


def _record(row: Any, plan_uid: str | None, older_uid: str | None) -> EntryRecord:
    """The record of an entry (an ORM row or a plain row with the same column names)."""
    return EntryRecord(
        uid=row.uid,
        day=row.entry_date,
        kind=row.kind,
        entry=ENTRY_ADAPTER.validate_python(row.data),
        plan_version_uid=plan_uid,
        supersedes_uid=older_uid,
        deleted=row.deleted,
        reason=row.reason,
        created_at=row.created_at,
    )
