"""What an export of a saved plan reads of the journal: only what its format shows, bounded.

A journal grows for as long as the taper lasts; an export must not. So each format reads only
what it uses (the CLI and the web app both call :func:`saved_history`):

- the PDFs, the calendar and the step CSV show the plan: no journal at all;
- the taper story tells the doses logged today: that day's dose entries;
- the FHIR Bundles carry check-ins: the newest ``EXPORT_CHECKINS_MAX`` in the date range asked
  for, and the day of the newest one left out, which the edges name (HTTP headers, a line on
  the CLI's stderr) with the range that gives the earlier ones;
- the journal CSV (CLI) is written as it is read, ``EXPORT_CHUNK`` entries at a time
  (:meth:`JournalService.iter_entries`): constant memory, every entry.

Why a bound and not pages for FHIR: a clinic's EHR imports a file as one self-contained Bundle
(``collection``); a Bundle paged with ``link`` ``next`` is a FHIR server's search answer
(``searchset``), which an import of a downloaded file does not follow. A Bundle of the newest
year of check-ins imports in one go; earlier years are further files, by date range, whose
resources keep their identifiers (deterministic ``urn:uuid``), so a day exported twice imports
as the same resources.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from benzotaper.services.journal import JournalService

#: What of the journal a format shows: none, the check-ins (FHIR), today's doses (the story).
JournalPart = Literal["none", "checkins", "today"]


@dataclass(frozen=True)
class History:
    """A person's saved plan versions (oldest first), the journal entries the export shows
    (oldest first), their time zone, and the day of the newest check-in the bound left out
    (None: none was)."""

    versions: Sequence[Any] = ()
    journal: Sequence[Any] = ()
    time_zone: str = "UTC"
    left_out_from: dt.date | None = None


def saved_history(
    journal: JournalService,
    user_id: int,
    part: JournalPart,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    today: dt.date | None = None,
) -> History:
    """The plan versions, time zone and the ``part`` of the journal of ``user_id`` that an
    export shows (``start``/``end``: the check-ins' date range; ``today``: the story's day,
    default today where the person lives)."""
    from benzotaper.storage import User

    with journal.db.read() as s:  # the account's time zone (not journal data)
        tz = s.get_one(User, user_id).time_zone
    versions = journal.plan_versions(user_id)
    if part == "checkins":
        newest = journal.checkins_for_export(user_id, start=start, end=end)
        return History(versions, newest.items, tz, newest.left_out_from)
    if part == "today":
        day = today if today is not None else dt.datetime.now(ZoneInfo(tz)).date()
        return History(versions, journal.entries(user_id, kind="dose", start=day, end=day), tz)
    return History(versions, (), tz)


def left_out_message(left_out_from: dt.date, *, end_option: str) -> str:
    """What the edges say when the bound left check-ins out: how to get them."""
    from benzotaper.limits import EXPORT_CHECKINS_MAX

    return (
        f"This FHIR Bundle carries the newest {EXPORT_CHECKINS_MAX} check-ins of the range; "
        f"earlier ones (from {left_out_from.isoformat()} back) are left out: export them with "
        f"{end_option}={left_out_from.isoformat()}."
    )
