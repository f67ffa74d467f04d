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
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from benzotaper.errors import NotFoundError, StorageError
from benzotaper.journal.adaptive import Decision, pinned
from benzotaper.journal.entries import ENTRY_ADAPTER, JournalEntry
from benzotaper.planning.models import PersonFactors, Plan, PlanRequest
from benzotaper.storage.engine import Database
from benzotaper.storage.tables import Entry, PlanVersion, Profile, User

LOCAL_USER_NAME = "Local user"
_RETRIES = 5


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
        for _ in range(_RETRIES):
            try:
                with self.db.transaction() as s:
                    self._user(s, user_id)
                    prev = s.scalar(
                        select(PlanVersion).where(
                            PlanVersion.user_id == user_id, PlanVersion.active.is_(True)
                        )
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
                        user_id=user_id,
                        version=(top or 0) + 1,
                        previous_id=prev.id if prev else None,
                        reason=reason,
                        origin=origin,
                        effective_from=effective_from,
                        request=pinned(plan.request, plan).model_dump(mode="json"),
                        plan=plan.model_dump(mode="json"),
                        decision=decision.model_dump(mode="json") if decision else None,
                        active=True,
                    )
                    s.add(row)
                    s.flush()
                    return self._plan_record(s, row)
            except IntegrityError:
                continue  # another writer took this version number: read again and retry
        raise StorageError("Could not save the plan: the journal is busy, try again")

    def active_plan(self, user_id: int) -> PlanRecord | None:
        with self.db.read() as s:
            row = s.scalar(
                select(PlanVersion).where(
                    PlanVersion.user_id == user_id, PlanVersion.active.is_(True)
                )
            )
            return self._plan_record(s, row) if row else None

    def plan_versions(self, user_id: int) -> list[PlanRecord]:
        with self.db.read() as s:
            rows = s.scalars(
                select(PlanVersion)
                .where(PlanVersion.user_id == user_id)
                .order_by(PlanVersion.version)
            ).all()
            return [self._plan_record(s, r) for r in rows]

    def _plan_record(self, s: Session, row: PlanVersion) -> PlanRecord:
        prev_uid = s.get_one(PlanVersion, row.previous_id).uid if row.previous_id else None
        return PlanRecord(
            uid=row.uid,
            version=row.version,
            previous_uid=prev_uid,
            reason=row.reason,
            origin=row.origin,
            effective_from=row.effective_from,
            active=row.active,
            created_at=row.created_at,
            request=PlanRequest.model_validate(row.request),
            plan=Plan.model_validate(row.plan),
            decision=Decision.model_validate(row.decision) if row.decision else None,
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
        q = select(Entry).where(Entry.user_id == user_id)
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
            rows = s.scalars(q.order_by(Entry.entry_date, Entry.id)).all()
            return [self._entry_record(s, r) for r in rows]

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

    def _entry_record(self, s: Session, row: Entry) -> EntryRecord:
        def uid_of(table: Any, id_: int | None) -> str | None:
            return str(s.get_one(table, id_).uid) if id_ is not None else None

        return EntryRecord(
            uid=row.uid,
            day=row.entry_date,
            kind=row.kind,
            entry=ENTRY_ADAPTER.validate_python(row.data),
            plan_version_uid=uid_of(PlanVersion, row.plan_version_id),
            supersedes_uid=uid_of(Entry, row.supersedes_id),
            deleted=row.deleted,
            reason=row.reason,
            created_at=row.created_at,
        )
