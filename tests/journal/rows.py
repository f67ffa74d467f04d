"""Seeding a journal in tests straight through the repository: no checks and no review.

For tests that need rows the journal service would question or refuse today (odd entries an
older version stored, doses far from the plan, a hold saved by hand). Production code writes
only through ``benzotaper.services.journal.JournalService``. Seeded rows drop the person's stored
summary (``storage.summaries``), so status reads the whole journal for them, as before any
summary existed; the next change through the service makes it again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import delete

from benzotaper.journal.adaptive import Decision
from benzotaper.journal.entries import JournalEntry
from benzotaper.planning.models import Plan
from benzotaper.storage import Database
from benzotaper.storage.journal import EntryRecord, JournalRepository, PlanRecord
from benzotaper.storage.summaries import JournalSummary

T = TypeVar("T")


class SeedStore:
    """The repository's calls, each in its own transaction (the old ``JournalStore`` shape)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _do(self, call: Callable[[JournalRepository], T], user_id: int | None = None) -> T:
        with self.db.transaction() as s:
            done = call(JournalRepository(s))
            if user_id is not None:
                s.execute(delete(JournalSummary).where(JournalSummary.user_id == user_id))
            return done

    def local_user(self) -> int:
        return self._do(lambda r: r.local_user())

    def create_user(self, **kw: Any) -> int:
        return self._do(lambda r: r.create_user(**kw))

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
        return self._do(
            lambda r: r.save_plan(
                user_id,
                plan,
                reason=reason,
                effective_from=effective_from,
                origin=origin,
                decision=decision,
            ),
            user_id,
        )

    def add_entry(
        self, user_id: int, day: dt.date, entry: JournalEntry, plan_version_uid: str | None = None
    ) -> EntryRecord:
        return self._do(
            lambda r: r.add_entry(user_id, day, entry, plan_version_uid=plan_version_uid), user_id
        )

    def add_raw(self, user_id: int, day: dt.date, kind: str, data: dict[str, Any]) -> None:
        """A stored document exactly as given (e.g. one an older version wrote)."""
        from benzotaper.storage.tables import Entry

        with self.db.transaction() as s:
            s.add(Entry(user_id=user_id, kind=kind, entry_date=day, data=data))
            s.execute(delete(JournalSummary).where(JournalSummary.user_id == user_id))

    def edit_entry(
        self, user_id: int, uid: str, entry: JournalEntry, *, reason: str = ""
    ) -> EntryRecord:
        return self._do(lambda r: r.revise(user_id, uid, entry, None, reason=reason), user_id)

    def delete_entry(self, user_id: int, uid: str, *, reason: str = "") -> EntryRecord:
        return self._do(lambda r: r.revise(user_id, uid, None, None, reason=reason), user_id)

    def entries(self, user_id: int, **kw: Any) -> list[EntryRecord]:
        return self._do(lambda r: r.entries(user_id, **kw))

    def plan_versions(self, user_id: int) -> list[PlanRecord]:
        return self._do(lambda r: r.plan_versions(user_id))

    def active_plan(self, user_id: int) -> PlanRecord | None:
        return self._do(lambda r: r.active_plan(user_id))
