"""Dates that arrive as text are ISO 8601 (YYYY-MM-DD) only.

pydantic's lax mode would read a number such as 0 as a Unix timestamp (1970-01-01) and some
other strings loosely; a date a person or a client sends must be written out, or be refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BeforeValidator


def iso_date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("give the date as text in the form YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date in the form YYYY-MM-DD") from None


ISODate = Annotated[dt.date, BeforeValidator(iso_date)]
