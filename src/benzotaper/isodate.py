"""Dates that arrive as text are ISO 8601 (YYYY-MM-DD) only, and inside the calendar window.

pydantic's lax mode would read a number such as 0 as a Unix timestamp (1970-01-01) and some
other strings loosely; a date a person or a client sends must be written out, or be refused.
Dates outside :data:`benzotaper.dates.EARLIEST`..:data:`~benzotaper.dates.LATEST` are refused
too (a year typed wrong), so no date sum downstream can overflow.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BeforeValidator

from benzotaper.dates import EARLIEST, LATEST


def iso_date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        day = value
    elif not isinstance(value, str):
        raise ValueError("give the date as text in the form YYYY-MM-DD")
    else:
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a date in the form YYYY-MM-DD") from None
    if not EARLIEST <= day <= LATEST:
        raise ValueError(
            f"{day.isoformat()} is outside the dates benzotaper accepts "
            f"({EARLIEST.isoformat()} to {LATEST.isoformat()}): check the year"
        )
    return day


ISODate = Annotated[dt.date, BeforeValidator(iso_date)]
