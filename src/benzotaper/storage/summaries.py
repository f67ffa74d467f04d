"""A stored summary per person of what status and the clinician list read, kept up to date by
the journal service in the same transaction as every change (``services.summary``).

- ``journal_summaries``: one row per person. ``slots``: for each scale (``ciwa-b``, ...),
  ``quick`` (quick ratings) and ``first`` (the oldest check-in), the current check-in that fills
  it, as ``{"uid", "id", "day"}``; ``alerts`` / ``alert_level`` / ``facts``: the clinician
  list's card of the person (alerts, dose, next cut, hold) as of ``computed_on`` (the person's
  "today" when it was computed); ``revision`` counts the changes, so a refresh made from an
  older read never overwrites a newer change.
  Rows are derived data: a missing row only means status reads the whole journal once more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Date, ForeignKey, Integer, bindparam, select, update
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from benzotaper.storage.base import Base, JSONDocument, utcnow
from benzotaper.storage.tables import Entry


class JournalSummary(Base):
    __tablename__ = "journal_summaries"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, default=0)
    slots: Mapped[dict[str, Any]]
    alert_level: Mapped[int] = mapped_column(Integer, default=-1, index=True)
    alerts: Mapped[list[Any]] = mapped_column(JSONDocument)
    facts: Mapped[dict[str, Any]]
    computed_on: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Slot(BaseModel):
    """The check-in row that fills a slot: ordered like the journal, by day then row id."""

    uid: str
    id: int
    day: dt.date

    @property
    def key(self) -> tuple[dt.date, int]:
        return (self.day, self.id)


def load(s: Session, user_id: int) -> JournalSummary | None:
    """The person's row; kept by the session once read (a change reads it several times, and
    the session alone holds its rows weakly: each read would query again). The kept row is
    handed out again without asking the session (``Session.get`` costs ~0.1 ms even when it
    finds the row in its identity map; a journal write reads the row five times)."""
    kept: dict[int, JournalSummary] = s.info.setdefault("summaries", {})
    row = kept.get(user_id)
    if row is not None and row in s:
        return row
    row = s.get(JournalSummary, user_id)
    if row is not None:
        kept[user_id] = row
    return row


def stamp(s: Session | Connection, user_id: int) -> tuple[int, dt.datetime] | None:
    """Where the person's journal and plans stand: the summary's revision and time of change
    (every change through the journal service moves both; a summary made again after it was
    dropped starts at revision 1 with a new time). None without a summary. ``s``: a session,
    or a read's connection (the ORM's handling of a statement costs more than this read)."""
    row = s.execute(_STAMP, {"user_id": user_id}).first()
    return None if row is None else (row[0], row[1])


_STAMP = select(JournalSummary.revision, JournalSummary.updated_at).where(
    JournalSummary.user_id == bindparam("user_id")
)


def slots_of(row: JournalSummary) -> dict[str, Slot]:
    return {k: Slot.model_validate(v) for k, v in row.slots.items()}


def dump_slots(slots: dict[str, Slot]) -> dict[str, Any]:
    return {k: v.model_dump(mode="json") for k, v in sorted(slots.items())}


_NEWER = aliased(Entry, name="summary_newer")


def current_checkins(
    s: Session, user_id: int, *, ids: list[int] | None = None
) -> Iterator[tuple[int, str, dt.date, dict[str, Any]]]:
    """The current check-in rows (newest revision, not retracted): id, uid, day, document;
    by day then row id (the journal's order). ``ids``: only these rows, if current."""
    newer = _NEWER
    stmt = select(Entry.id, Entry.uid, Entry.entry_date, Entry.data).where(
        Entry.user_id == user_id,
        Entry.kind == "checkin",
        Entry.deleted.is_(False),
        ~select(newer.id).where(newer.supersedes_id == Entry.id).exists(),
    )
    if ids is not None:
        stmt = stmt.where(Entry.id.in_(ids))
    for row in s.execute(stmt.order_by(Entry.entry_date, Entry.id)):
        yield row[0], row[1], row[2], row[3]


def row_id(s: Session, uid: str) -> int:
    found = s.scalar(select(Entry.id).where(Entry.uid == uid))
    assert found is not None
    return found


def save(s: Session, user_id: int, slots: dict[str, Slot]) -> JournalSummary:
    """Store the person's slots after a change (call with their row lock held); a new row has
    no alerts until they are computed."""
    row = load(s, user_id)
    if row is None:
        row = JournalSummary(
            user_id=user_id,
            revision=1,
            slots=dump_slots(slots),
            alert_level=-1,
            alerts=[],
            facts={},
            computed_on=None,
        )
        s.add(row)
        s.flush()
        return row
    row.revision += 1
    row.slots = dump_slots(slots)
    return row


def touch(s: Session, user_id: int) -> bool:
    """Count a change that leaves the slots as they are (a new plan version). False: no row."""
    row = load(s, user_id)
    if row is None:
        return False
    row.revision += 1
    return True


def refresh_alerts(
    s: Session,
    user_id: int,
    revision: int,
    card: tuple[list[Any], dict[str, Any], int],
    on: dt.date,
) -> bool:
    """Store a card (alerts, facts, level) recomputed for a later day, unless a change came
    meanwhile (``revision`` is the one it was computed from). True when stored."""
    alerts, facts, level = card
    done = s.execute(
        update(JournalSummary)
        .where(JournalSummary.user_id == user_id, JournalSummary.revision == revision)
        .values(alerts=alerts, facts=facts, alert_level=level, computed_on=on)
    )
    return bool(getattr(done, "rowcount", 0))
