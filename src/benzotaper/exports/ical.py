"""Calendar reminders (iCalendar, RFC 5545) for every dose-time of the plan.

Each step × clock time is one daily recurring event (``RRULE:FREQ=DAILY;COUNT=days``) whose
title says what to take, with an alarm. Times are local to the person's IANA time zone and a
VTIMEZONE is included, so 08:00 stays 08:00 across daylight-saving changes. UIDs derive from the
plan's request, so importing a re-export updates the same events instead of duplicating them.
A day-long note marks each change of dose and the end of the plan.
"""

from __future__ import annotations

import datetime as dt
import difflib
import zoneinfo

from icalendar import Alarm, Calendar, Event

from benzotaper.catalogue import Catalogue
from benzotaper.errors import InputError
from benzotaper.exports._common import (
    SAFETY_MESSAGE,
    daily_text,
    dose_times,
    emergency_text,
    fmt_percent,
    pieces_text,
    plan_id,
)
from benzotaper.exports._common import drug_name as _name
from benzotaper.exports._common import fmt_mg as _mg
from benzotaper.planning.models import Dose, Plan, Step

PRODID = "-//benzotaper//taper reminders//EN"
#: Software policy: how long a dose reminder occupies in the calendar.
EVENT_MINUTES = 10
DOSE_CATEGORY = "Medication"
CHANGE_CATEGORY = "Taper change"


def time_zone(name: str) -> zoneinfo.ZoneInfo:
    """An IANA time zone, or an InputError naming close matches."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(zoneinfo.available_timezones()), n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise InputError(
            f"Unknown time zone {name!r}: give an IANA name such as 'Europe/London' or "
            f"'America/New_York'.{hint}"
        ) from None


def reminder_title(doses: list[Dose], catalogue: Catalogue | None = None) -> str:
    """'Take Diazepam 8 mg: 1 × 5 mg tablet + 1½ × 2 mg tablet' (drugs joined by ' · ')."""
    parts = []
    for d in doses:
        pieces = pieces_text(d)
        parts.append(
            f"{_name(d.drug, catalogue)} {_mg(d.mg)} mg" + (f": {pieces}" if pieces else "")
        )
    return "Take " + " · ".join(parts)


def _description(plan: Plan, step: Step, catalogue: Catalogue | None) -> str:
    lines = [
        f"Step {step.index + 1} of {len(plan.steps)} ({step.phase}), "
        f"{step.start.isoformat()} to {step.end.isoformat()}: {daily_text(step, catalogue)}.",
    ]
    if step.note:
        lines.append(step.note)
    lines += ["", SAFETY_MESSAGE, plan.disclaimer, "", emergency_text()]
    return "\n".join(lines)


def _alarm(text: str, minutes_before: int) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", text)
    alarm.add("trigger", dt.timedelta(minutes=-minutes_before))
    return alarm


def _day_note(uid: str, day: dt.date, summary: str, description: str, stamp: dt.datetime) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + dt.timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    event.add("categories", [CHANGE_CATEGORY])
    event.add("transp", "TRANSPARENT")
    return event


def plan_ics(
    plan: Plan,
    *,
    tz: str = "UTC",
    catalogue: Catalogue | None = None,
    alarm_minutes: int = 0,
    now: dt.datetime | None = None,
) -> bytes:
    """The plan's reminders as an .ics file (bytes, UTF-8, CRLF line ends)."""
    zone = time_zone(tz)
    if not 0 <= alarm_minutes <= 24 * 60:
        raise InputError(f"The alarm must be 0 to 1440 minutes before a dose, not {alarm_minutes}.")
    stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    pid = plan_id(plan)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "Taper reminders")
    cal.add("x-wr-timezone", tz)

    for step in plan.steps:
        if step.index > 0 and step.phase != "stop":
            change = (
                f" ({fmt_percent(step.change_percent)})" if step.change_percent is not None else ""
            )
            cal.add_component(
                _day_note(
                    f"{pid}-s{step.index}-change@benzotaper",
                    step.start,
                    f"Dose change today: {daily_text(step, catalogue)}{change}",
                    _description(plan, step, catalogue),
                    stamp,
                )
            )
        if step.phase == "stop" or not dose_times(step):
            cal.add_component(
                _day_note(
                    f"{pid}-s{step.index}-end@benzotaper",
                    step.start,
                    "Taper plan complete: no more doses. Review with your prescriber.",
                    _description(plan, step, catalogue),
                    stamp,
                )
            )
            continue
        for time, doses in dose_times(step):
            hour, minute = (int(x) for x in time.split(":"))
            title = reminder_title(doses, catalogue)
            event = Event()
            event.add("uid", f"{pid}-s{step.index}-{hour:02d}{minute:02d}@benzotaper")
            event.add("dtstamp", stamp)
            event.add("dtstart", dt.datetime.combine(step.start, dt.time(hour, minute), zone))
            event.add("duration", dt.timedelta(minutes=EVENT_MINUTES))
            if step.days > 1:
                event.add("rrule", {"freq": "daily", "count": step.days})
            event.add("summary", title)
            event.add("description", _description(plan, step, catalogue))
            event.add("categories", [DOSE_CATEGORY])
            event.add("transp", "TRANSPARENT")
            event.add_component(_alarm(title, alarm_minutes))
            cal.add_component(event)

    last = plan.summary.end + dt.timedelta(days=2)
    cal.add_missing_timezones(first_date=plan.summary.start - dt.timedelta(days=1), last_date=last)
    return bytes(cal.to_ical())
