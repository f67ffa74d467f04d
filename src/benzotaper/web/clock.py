"""Each person's own clock: their IANA time zone decides "today", reminders and calendar files.

A patient in New York doses at 08:00 New York time, whatever the server's clock says. The web
layer reads the clock here and hands plain dates and times to the library (the core never reads
a clock).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_TZ = "UTC"
#: Region prefixes of the zones offered in forms (IANA's canonical "Area/City" names).
_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


class HasTimeZone(Protocol):
    @property
    def time_zone(self) -> str: ...


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """The zones a person can choose: every Area/City zone, sorted, and UTC last."""
    names = sorted(z for z in available_timezones() if z.split("/", 1)[0] in _AREAS and "/" in z)
    return (*names, DEFAULT_TZ)


def valid_zone(name: str) -> bool:
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone(name: str | None) -> ZoneInfo:
    """The zone by name; an unknown or empty name reads as UTC (never a crash on a page)."""
    return ZoneInfo(name) if name and valid_zone(name) else ZoneInfo(DEFAULT_TZ)


def now_in(tz: str | None, at: dt.datetime | None = None) -> dt.datetime:
    """Now (or ``at``, an aware datetime) on the wall clock of ``tz``."""
    return (at or dt.datetime.now(dt.UTC)).astimezone(zone(tz))


def today_in(tz: str | None, at: dt.datetime | None = None) -> dt.date:
    return now_in(tz, at).date()


def today_for(person: HasTimeZone | None) -> dt.date:
    """The signed-in person's date (the server's UTC date for nobody)."""
    return today_in(person.time_zone if person is not None else None)


def now_for(person: HasTimeZone | None) -> dt.datetime:
    return now_in(person.time_zone if person is not None else None)
