"""Pages of the journal: the keyset cursor a listing hands on, and the bounds a page keeps.

A journal grows for as long as a taper lasts (10,000 entries is two years of a busy diary), so no
listing answers all of it at once: each answers one page of at most ``limit`` entries (see
:mod:`benzotaper.limits`) in the journal's order (date, then order of writing) and names the next
page by a cursor, the key of the page's last entry. A cursor is a position, not an offset:
entries written meanwhile never shift a page, so following the cursors lists every entry that
existed when the first page was read exactly once.

Pure: no database, no clock. The service reads the pages; the edges word them (the API as an
RFC 8288 ``Link: <...>; rel="next"`` header, the CLI as ``--after CURSOR``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from benzotaper.errors import InputError
from benzotaper.limits import ENTRIES_PAGE_MAX

T = TypeVar("T")

#: How a cursor looks: the last entry's date and its position in the journal ("2026-03-01.1234").
CURSOR_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\.[0-9]{1,18}$"
_CURSOR = re.compile(CURSOR_PATTERN)

Key = tuple[dt.date, int]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and the cursor of the next one (None: this is the last page)."""

    items: Sequence[T]
    next_cursor: str | None


@dataclass(frozen=True)
class Newest(Generic[T]):
    """The newest entries up to a bound, oldest first, and the day of the newest one the bound
    left out (None: nothing was left out). Asking again with the range ending on that day
    gives the earlier ones (that day's entries carried already come again, unchanged)."""

    items: Sequence[T]
    left_out_from: dt.date | None


def cursor_of(key: Key) -> str:
    """The cursor that resumes after the entry with this key."""
    day, position = key
    return f"{day.isoformat()}.{position}"


def key_of(cursor: str) -> Key:
    """The key a cursor names; InputError (422 / exit 2) for anything a listing did not hand
    out."""
    if _CURSOR.fullmatch(cursor):
        day_text, _, position = cursor.partition(".")
        try:
            return dt.date.fromisoformat(day_text), int(position)
        except ValueError:
            pass
    raise InputError(
        f"{cursor[:40]!r} is not a page cursor: use the cursor the previous page named for "
        "the next one, or leave it out for the first page."
    )


def check_limit(limit: int) -> int:
    """``limit`` when a page may hold that many entries; InputError (422 / exit 2) otherwise."""
    if not 1 <= limit <= ENTRIES_PAGE_MAX:
        raise InputError(
            f"limit must be from 1 to {ENTRIES_PAGE_MAX} entries a page, not {limit}: the "
            "next page's cursor gives the entries after it."
        )
    return limit


def page_of(rows: Sequence[tuple[T, Key]], limit: int) -> Page[T]:
    """A page from up to ``limit + 1`` rows read in order (the extra row only shows that there
    is a next page)."""
    shown = rows[:limit]
    more = len(rows) > limit
    return Page([item for item, _ in shown], cursor_of(shown[-1][1]) if more else None)
