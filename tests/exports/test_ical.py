"""Calendar reminders, expanded by recurring-ical-events, checked day by day against the plan."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import icalendar
import pytest
import recurring_ical_events

from benzotaper.catalogue import Catalogue
from benzotaper.errors import InputError
from benzotaper.exports import plan_ics
from benzotaper.exports._common import dose_times, pieces_text, step_on
from benzotaper.exports.ical import CHANGE_CATEGORY, DOSE_CATEGORY
from benzotaper.planning.models import Plan

NOW = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC)


def occurrences(data: bytes, plan: Plan, category: str) -> list[icalendar.Event]:
    cal = icalendar.Calendar.from_ical(data)
    start = plan.summary.start - dt.timedelta(days=1)
    end = plan.summary.end + dt.timedelta(days=2)
    return [
        e
        for e in recurring_ical_events.of(cal).between(start, end)
        if category in [str(c) for c in e.get("categories").cats]
    ]


@pytest.mark.parametrize("tz", ["Europe/London", "America/New_York", "Asia/Kolkata"])
def test_one_reminder_per_dose_time_with_that_days_dose(
    plan: Plan, full_catalogue: Catalogue, tz: str
) -> None:
    data = plan_ics(plan, tz=tz, catalogue=full_catalogue, now=NOW)
    events = occurrences(data, plan, DOSE_CATEGORY)
    assert len(events) == sum(step.days * len(dose_times(step)) for step in plan.steps)
    zone = zoneinfo.ZoneInfo(tz)
    seen: set[tuple[dt.date, str]] = set()
    for event in events:
        start = event["DTSTART"].dt
        assert start.tzinfo is not None
        local = start.astimezone(zone)
        day, hhmm = local.date(), f"{local:%H:%M}"
        seen.add((day, hhmm))
        step = step_on(plan, day)
        assert step is not None, day
        doses = dict(dose_times(step))[hhmm]  # KeyError: a reminder at a time with no dose
        title = str(event["SUMMARY"])
        for dose in doses:
            assert f"{dose.mg:g} mg" in title and pieces_text(dose) in title, (day, title)
        alarms = [c for c in event.subcomponents if c.name == "VALARM"]
        assert len(alarms) == 1 and str(alarms[0]["ACTION"]) == "DISPLAY"
        assert "prescriber" in str(event["DESCRIPTION"])
    assert len(seen) == len(events)  # no day and time twice


def test_local_clock_time_holds_across_daylight_saving(plan: Plan) -> None:
    events = occurrences(plan_ics(plan, tz="Europe/London", now=NOW), plan, DOSE_CATEGORY)
    london = zoneinfo.ZoneInfo("Europe/London")
    hours = {e["DTSTART"].dt.astimezone(london).strftime("%H:%M") for e in events}
    assert hours == {"08:00", "22:00"}
    offsets = {e["DTSTART"].dt.utcoffset() for e in events}
    assert offsets == {dt.timedelta(0), dt.timedelta(hours=1)}  # GMT and BST both occur


def test_vtimezone_included_and_tzid_used(plan: Plan) -> None:
    data = plan_ics(plan, tz="America/New_York", now=NOW)
    cal = icalendar.Calendar.from_ical(data)
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["America/New_York"]
    assert b"DTSTART;TZID=America/New_York:20261201T080000" in data


def test_utc_default_uses_z_times_and_no_vtimezone(plan: Plan) -> None:
    data = plan_ics(plan, now=NOW)
    assert b"DTSTART:20261201T080000Z" in data
    assert b"BEGIN:VTIMEZONE" not in data


def test_rfc5545_shape(plan: Plan) -> None:
    data = plan_ics(plan, tz="Europe/Berlin", now=NOW)
    lines = data.split(b"\r\n")
    assert data.endswith(b"\r\n") and lines[0] == b"BEGIN:VCALENDAR"
    assert all(len(line) <= 75 for line in lines), "content lines must be folded at 75 octets"
    cal = icalendar.Calendar.from_ical(data)
    assert str(cal["VERSION"]) == "2.0" and str(cal["PRODID"]).startswith("-//benzotaper")
    for event in cal.walk("VEVENT"):
        for prop in ("UID", "DTSTAMP", "DTSTART", "SUMMARY"):
            assert prop in event
    uids = [str(e["UID"]) for e in cal.walk("VEVENT")]
    assert len(uids) == len(set(uids))


def test_uids_are_stable_across_exports(plan: Plan) -> None:
    def uids(data: bytes) -> list[str]:
        return [str(e["UID"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")]

    first = plan_ics(plan, tz="Europe/London", now=NOW)
    later = plan_ics(plan, tz="Europe/London", now=NOW + dt.timedelta(days=3))
    assert first != later  # DTSTAMP moved on
    assert uids(first) == uids(later)
    other = plan.model_copy(deep=True)
    other.request.regimen[0].mg = 1.5
    assert set(uids(plan_ics(other, now=NOW))).isdisjoint(uids(first))


def test_changes_and_end_are_marked_on_their_days(handmade: Plan) -> None:
    plan = handmade
    events = occurrences(plan_ics(plan, now=NOW), plan, CHANGE_CATEGORY)
    days = {e["DTSTART"].dt: str(e["SUMMARY"]) for e in events}
    assert days[dt.date(2026, 12, 15)].startswith("Dose change today: Diazepam 18 mg a day")
    assert "-10.0%" in days[dt.date(2026, 12, 15)]
    assert "no more doses" in days[plan.steps[-1].start]
    # every change after the first step (the stop step is the end note instead), plus the end
    assert len(events) == len(plan.steps) - 1


def test_unknown_time_zone_is_a_clear_error(plan: Plan) -> None:
    with pytest.raises(InputError, match="Europe/London"):
        plan_ics(plan, tz="Europe/Londn")


def test_alarm_before_the_dose(plan: Plan) -> None:
    cal = icalendar.Calendar.from_ical(plan_ics(plan, alarm_minutes=15, now=NOW))
    alarm = cal.walk("VALARM")[0]
    assert alarm["TRIGGER"].dt == -dt.timedelta(minutes=15)
    with pytest.raises(InputError):
        plan_ics(plan, alarm_minutes=-5)
