"""What a patient sees first: the dose to take now, its pieces, and what comes next.

Built from the journal's status and the day's dose entries, on the person's own clock. The
journal decides holds and next cuts; this module only chooses which dose is "now" and shapes
what the Today page (and its offline copy) shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from benzotaper.storage import Database
from benzotaper.web import tracking

if TYPE_CHECKING:
    from benzotaper.planning.models import Dose
    from benzotaper.storage.journal import EntryRecord
    from benzotaper.storage.tracking import Status

#: Policy: a tap on "I took it" can be undone from the page for this long (afterwards the
#: journal's own edit and retract forms, with a reason, are the way).
UNDO_SECONDS = 120
#: Policy: the page offers its "Undo" button this long after a tap (the server allows longer).
UNDO_SHOWN_SECONDS = 10
UNDO_REASON = "Undone straight after tapping 'I took it'."


@dataclass(frozen=True)
class DoseState:
    """One planned dose of the day, and what the journal says about it."""

    dose: Dose
    taken_at: str | None = None
    missed: bool = False
    entry_uid: str | None = None

    @property
    def done(self) -> bool:
        return self.taken_at is not None or self.missed


@dataclass
class TodayView:
    day: dt.date
    status: Status
    doses: list[DoseState] = field(default_factory=list)
    now_index: int | None = None
    end: dt.date | None = None
    has_plan: bool = False

    @property
    def now(self) -> DoseState | None:
        return None if self.now_index is None else self.doses[self.now_index]

    @property
    def others(self) -> list[DoseState]:
        return [d for i, d in enumerate(self.doses) if i != self.now_index]


def _mark(dose: Dose, logged: list[EntryRecord]) -> DoseState:
    for rec in logged:
        e: Any = rec.entry
        if e.drug == dose.drug and e.planned_time == dose.time:
            if e.status == "taken":
                return DoseState(dose, taken_at=e.time or dose.time, entry_uid=rec.uid)
            if e.status == "missed":
                return DoseState(dose, missed=True, entry_uid=rec.uid)
    return DoseState(dose)


def day_doses(db: Database, user_id: int, plan: Any, day: dt.date) -> list[DoseState]:
    """The day's planned doses (none of 0 mg), each marked from the journal's dose entries."""
    from benzotaper.journal.timeline import planned_doses

    logged = [r for r in tracking.store(db).entries(user_id, kind="dose", start=day, end=day)]
    return [_mark(d, logged) for d in planned_doses(plan, day)]


def choose_now(doses: list[DoseState]) -> int | None:
    """The dose to offer first: the earliest one not yet taken or missed (a dose due earlier
    today comes before a later one, so a late morning dose is never skipped), else none."""
    return next((i for i, d in enumerate(doses) if not d.done), None)


def today_view(db: Database, user_id: int, now: dt.datetime) -> TodayView:
    """Everything the Today page shows for ``user_id`` at the local time ``now``."""
    day = now.date()
    status = tracking.status(db, user_id, day)
    active = tracking.store(db).active_plan(user_id)
    view = TodayView(day=day, status=status)
    if active is None:
        return view
    view.has_plan = True
    view.end = active.plan.summary.end
    view.doses = day_doses(db, user_id, active.plan, day)
    view.now_index = choose_now(view.doses)
    return view


def undo_allowed(created_at: dt.datetime, now: dt.datetime) -> bool:
    return dt.timedelta(0) <= now - created_at <= dt.timedelta(seconds=UNDO_SECONDS)
