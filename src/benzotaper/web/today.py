"""What a patient sees first: the dose to take now, its pieces, and what comes next.

Built from the journal service's ``today`` (the day's planned doses, each matched to what was
recorded by the journal's one dose matcher, and the day's status), on the person's own clock.
The journal decides holds and next cuts; this module only chooses which dose is "now" and
shapes what the Today page (and its offline copy) shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benzotaper.journal.status import Status
    from benzotaper.planning.models import Dose
    from benzotaper.services.journal import JournalService, TodayDose

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


def dose_state(d: TodayDose) -> DoseState:
    """A planned dose and what the journal's dose matcher found recorded for it."""
    if d.status == "taken":
        taken_at = (d.recorded.time if d.recorded else None) or d.dose.time
        return DoseState(d.dose, taken_at=taken_at, entry_uid=d.entry_uid)
    if d.status == "missed":
        return DoseState(d.dose, missed=True, entry_uid=d.entry_uid)
    return DoseState(d.dose)


def day_doses(journal: JournalService, user_id: int, day: dt.date) -> list[DoseState]:
    """The day's planned doses (none of 0 mg), each marked from the journal's dose entries."""
    return [dose_state(d) for d in journal.today(user_id, day).doses]


def choose_now(doses: list[DoseState]) -> int | None:
    """The dose to offer first: the earliest one not yet taken or missed (a dose due earlier
    today comes before a later one, so a late morning dose is never skipped), else none."""
    return next((i for i, d in enumerate(doses) if not d.done), None)


def today_view(journal: JournalService, user_id: int) -> TodayView:
    """Everything the Today page shows for ``user_id`` on the journal's today."""
    t = journal.today(user_id)
    view = TodayView(day=t.day, status=t.status)
    if t.status.plan_version is None:
        return view
    view.has_plan = True
    view.end = t.plan_end
    view.doses = [dose_state(d) for d in t.doses]
    view.now_index = choose_now(view.doses)
    return view


def undo_allowed(created_at: dt.datetime, now: dt.datetime) -> bool:
    return dt.timedelta(0) <= now - created_at <= dt.timedelta(seconds=UNDO_SECONDS)
