"""Dates in the reader's own order: "Mon, Dec 14, 2026" in the US, "Mon, 14 Dec 2026" in the UK.

The pages are in English, so the locale is an English one: the first English language the
browser asks for (``Accept-Language: en-GB``), else English in the region of its first language
(``fr-FR`` → ``en_FR``, day before month), else ``en``. Babel (CLDR data) does the formatting;
a formatted date is kept (a few KB per thousand), as a two-year plan's schedule formats dozens of
ranges per page and Babel takes about a millisecond for each.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_interval, format_skeleton, format_time

DEFAULT_LOCALE = "en"


@lru_cache(maxsize=256)
def _english_in(region: str) -> str | None:
    try:
        Locale.parse(f"en_{region}")
    except (UnknownLocaleError, ValueError):
        return None
    return f"en_{region}"


@lru_cache(maxsize=512)
def negotiate(accept_language: str) -> str:
    """The English locale that suits an ``Accept-Language`` header best."""
    tags = []
    for part in accept_language.split(",")[:12]:
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        if tag and tag != "*" and weight > 0:
            tags.append((weight, tag.replace("_", "-")))
    tags.sort(key=lambda t: -t[0])  # stable: equal weights keep the browser's order
    for _, tag in tags:
        lang, _, rest = tag.partition("-")
        region = rest.split("-")[-1].upper() if rest else ""
        if lang.lower() == "en":
            return (_english_in(region) if region.isalpha() else None) or DEFAULT_LOCALE
    for _, tag in tags:
        _, _, rest = tag.partition("-")
        region = rest.split("-")[-1].upper() if rest else ""
        if region.isalpha() and (found := _english_in(region)):
            return found
    return DEFAULT_LOCALE


@lru_cache(maxsize=4096)
def long_date(day: dt.date | None, locale: str = DEFAULT_LOCALE) -> str:
    """Weekday, day, month and year: "Mon, 14 Dec 2026" (en_GB)."""
    return "" if day is None else format_skeleton("yMMMEd", day, locale=locale)


@lru_cache(maxsize=4096)
def short_date(day: dt.date | None, locale: str = DEFAULT_LOCALE) -> str:
    """Weekday, day and month, for tables within one year: "Mon 14 Dec" (en_GB)."""
    return "" if day is None else format_skeleton("MMMEd", day, locale=locale)


@lru_cache(maxsize=4096)
def date_range(start: dt.date, end: dt.date, locale: str = DEFAULT_LOCALE) -> str:
    """A range as people write it: "Nov 30 – Dec 13, 2026" (en_US), one date when equal."""
    return format_interval(start, end, "yMMMd", locale=locale)


def date_time(moment: dt.datetime, locale: str = DEFAULT_LOCALE) -> str:
    """Date and time as the locale writes them: "Mon, Nov 30, 2026, 10:15 AM" (en_US),
    "Mon, 30 Nov 2026, 10:15" (en_GB). ``moment`` is already on the reader's clock."""
    wall = moment.replace(tzinfo=None)
    return f"{long_date(wall.date(), locale)}, {format_time(wall, 'short', locale=locale)}"
