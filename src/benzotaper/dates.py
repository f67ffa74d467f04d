"""The date windows benzotaper accepts, in one place (project policy, not clinical figures).

Dates come from people (typed, picked in a form, sent to the API) and only make sense near
today. Three windows, each checked before anything is computed or stored:

- **The calendar window** (every date a request, a form or a stored record may carry):
  :data:`EARLIEST` to :data:`LATEST`. Outside it a date can only be a typing mistake (a start in
  1900 or 9999); it also keeps every date sum far from the calendar's end, so no date
  arithmetic can overflow (a plan starting 9999-12-30 used to crash).
- **A new plan's start**: from :data:`PLAN_START_PAST_DAYS` days before today to
  :data:`PLAN_START_FUTURE_DAYS` days after. A plan already in progress can be entered; a plan
  wholly in the past cannot ("100% of the way down" on the day it is made). Plans saved earlier
  (and re-planned by the journal's rules) keep their start.
- **A journal entry's day**: not after today (the journal records what happened), and not
  before the start of the person's first plan minus :data:`BACKFILL_DAYS` (or, with no plan,
  today minus that window): the days before a plan form the baseline its rules compare with.
"""

from __future__ import annotations

import datetime as dt

from benzotaper.errors import DateRangeError

#: Policy: the first and last day any date may be (outside: a typing mistake).
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2199, 12, 31)
#: Policy: how far before and after today a new plan may start. Two years back: tapers often
#: run one to two years, so a person well into a taper can still enter it (and a clinic's
#: measurement year, which begins up to a year before today, is covered); a year ahead.
PLAN_START_PAST_DAYS = 730
PLAN_START_FUTURE_DAYS = 365
#: Policy: how many days before the first plan's start (or today) entries may be back-filled.
BACKFILL_DAYS = 60


def in_calendar(day: dt.date, what: str = "date") -> dt.date:
    """``day`` if inside the calendar window, else a DateRangeError naming ``what``."""
    if not EARLIEST <= day <= LATEST:
        raise DateRangeError(
            f"The {what} {day.isoformat()} is outside the dates benzotaper accepts "
            f"({EARLIEST.isoformat()} to {LATEST.isoformat()}): check the year.",
            field=what,
        )
    return day


def check_plan_start(start: dt.date, today: dt.date, what: str = "start date") -> dt.date:
    """A new plan's start must lie within two years before ``today`` and a year after."""
    earliest = today - dt.timedelta(days=PLAN_START_PAST_DAYS)
    latest = today + dt.timedelta(days=PLAN_START_FUTURE_DAYS)
    if not earliest <= start <= latest:
        raise DateRangeError(
            f"The {what} {start.isoformat()} is more than "
            f"{'two years before' if start < earliest else 'a year after'} today: a new plan "
            "starts between "
            f"{earliest.isoformat()} and {latest.isoformat()}.",
            field=what,
        )
    return start


def entry_window(today: dt.date, first_plan_start: dt.date | None) -> tuple[dt.date, dt.date]:
    """The first and last day a journal entry may be dated."""
    anchor = min(first_plan_start, today) if first_plan_start is not None else today
    return max(EARLIEST, anchor - dt.timedelta(days=BACKFILL_DAYS)), today
