"""The stored summary (``services.summary``) equals a recomputation from the whole journal after
any sequence of records, corrections and retractions; status read through it is the status
computed from every check-in (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benzotaper.errors import BenzotaperError
from benzotaper.journal.entries import (
    CheckinEntry,
    DoseEntry,
    MedicineEntry,
    NoteEntry,
    SleepEntry,
)
from benzotaper.journal.status import compute_status
from benzotaper.services import summary
from benzotaper.services.journal import JournalService
from benzotaper.services.review import checkins
from benzotaper.storage import Database, summaries
from benzotaper.storage.journal import JournalRepository
from tests.journal.conftest import Clock
from tests.journal.factory import request, stub_plan
from tests.journal.test_adaptive import ciwa

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py

START = dt.date(2026, 1, 1)
TODAY = dt.date(2026, 1, 24)

_checkin = st.builds(
    lambda total, gad, phq, quick: CheckinEntry(
        ciwa_b=ciwa(total).ciwa_b if total is not None else None,
        gad7=[gad] * 7 if gad is not None else None,
        phq9=phq,
        quick={"anxiety": quick} if quick is not None else {},
    ),
    st.one_of(st.none(), st.integers(0, 60)),
    st.one_of(st.none(), st.integers(0, 3)),
    st.one_of(st.none(), st.lists(st.integers(0, 3), min_size=9, max_size=9)),
    st.one_of(st.none(), st.integers(0, 10)),
).filter(lambda e: not e.is_empty())
_day = st.integers(0, (TODAY - START).days).map(lambda n: START + dt.timedelta(days=n))
_SLEEP = SleepEntry(bed_time="23:00", sol_min=20, final_wake_time="07:00", out_of_bed_time="07:10")
_other = st.sampled_from(
    [
        DoseEntry(drug="diazepam", mg=10, time="08:00"),
        DoseEntry(drug="diazepam", mg=0, status="missed"),
        _SLEEP,
        NoteEntry(note="walked"),
    ]
)
_op = st.one_of(
    st.tuples(st.just("record"), _day, _checkin),
    st.tuples(st.just("dose"), _day, _other),
    st.tuples(st.just("correct"), _day, _checkin),
    st.tuples(st.just("move"), _day, st.just(None)),
    st.tuples(st.just("retract"), st.integers(0, 30), st.just(None)),
)


def _apply(journal: JournalService, me: int, ops: list[tuple[str, Any, Any]]) -> None:
    """The changes, with today's status read after each (so a change whose status is derived
    from the one before it, a dose, a night or a note, derives it)."""
    uids: list[str] = []  # check-ins
    others: list[str] = []  # doses, nights, notes
    for kind, arg, entry in ops:
        try:
            if kind == "record":
                uids.append(journal.record(me, entry, day=arg).entry.uid)
            elif kind == "dose":
                others.append(journal.record(me, entry, day=arg, confirm=True).entry.uid)
            elif uids and kind == "correct":
                uids.append(journal.correct(me, uids.pop(0), entry, day=arg).entry.uid)
            elif others and kind == "move":  # to another day
                others.append(
                    journal.correct(me, others.pop(0), {}, day=arg, confirm=True).entry.uid
                )
            elif uids + others and kind == "retract":
                pool = (uids, others)[arg % 2] or uids or others
                journal.retract(me, pool.pop(arg % len(pool)), reason="test")
        except BenzotaperError:
            pass  # a refused change leaves nothing behind; the summary must agree
        journal.today(me, TODAY)  # remembered until the next change (checked at the end)


def _check(journal: JournalService, me: int) -> None:
    with journal.db.read() as s:
        repo = JournalRepository(s)
        row = summaries.load(s, me)
        assert row is not None
        assert summaries.slots_of(row) == summary.full_slots(s, me, journal.book)
        fast = summary.status_inputs(repo, me, TODAY, journal.rules)
        every = checkins(repo, me, None, TODAY)
        assert len(fast.checkins) <= len(every)
        full = dataclasses.replace(fast, checkins=every)
        want = compute_status(full, journal.rules, journal.book)
        assert compute_status(fast, journal.rules, journal.book) == want
        assert (row.alerts, row.facts, row.alert_level) == summary.card(want)
        assert row.computed_on == TODAY
    # what the process remembers answers as a fresh read does
    assert journal.status(me, TODAY) == want
    assert journal.today(me, TODAY).status == want


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(_op, min_size=1, max_size=10))
def test_stored_summary_equals_recomputation(
    journal: JournalService, clock: Clock, ops: list[tuple[str, Any, Any]]
) -> None:
    clock.at(TODAY)
    me = journal.create_user()
    journal.save_plan(me, stub_plan(request(10, start=START)), reason="first plan")
    _apply(journal, me, ops)
    _check(journal, me)


def test_a_remembered_status_moves_with_every_change(journal: JournalService, clock: Clock) -> None:
    """Status and Today are remembered per person, day and change: a new plan version (no new
    entry) is a change too, and an answer is not read again until one."""
    clock.at(TODAY)
    me = journal.create_user()
    journal.save_plan(me, stub_plan(request(10, start=START)), reason="first plan")
    first = journal.status(me)
    assert journal.status(me) is first and first.plan_version == 1
    assert journal.today(me) is journal.today(me)
    journal.save_plan(me, stub_plan(request(8, start=START)), reason="second plan")
    assert journal.status(me).plan_version == journal.today(me).status.plan_version == 2
    journal.record(me, CheckinEntry(gad7=[2] * 7), day=TODAY)
    assert journal.today(me).status.latest_score_dates == {"gad-7": TODAY}


def test_recent_entries_are_remembered_until_a_change(
    journal: JournalService, clock: Clock
) -> None:
    """The Journal page's and the patient view's two weeks: read again after each record,
    correction or retraction, also one made through another worker (its own engine)."""
    clock.at(TODAY)
    me = journal.create_user()
    journal.save_plan(me, stub_plan(request(10, start=START)), reason="first plan")
    first = journal.record(me, CheckinEntry(gad7=[2] * 7), day=TODAY).entry
    week = (TODAY - dt.timedelta(days=6), TODAY)
    seen = journal.recent_entries(me, *week)
    assert journal.recent_entries(me, *week) is seen and [r.uid for r in seen] == [first.uid]
    url = journal.db.engine.url.render_as_string(hide_password=False)
    other = JournalService(Database(url), journal.knowledge, now=journal.now)
    try:
        second = other.record(me, CheckinEntry(gad7=[1] * 7), day=TODAY).entry
        assert [r.uid for r in journal.recent_entries(me, *week)] == [first.uid, second.uid]
        fixed = other.correct(me, second.uid, {"gad7": [3] * 7}, reason="typo").entry
        assert [r.uid for r in journal.recent_entries(me, *week)] == [first.uid, fixed.uid]
        other.retract(me, first.uid, reason="twice")
        assert [r.uid for r in journal.recent_entries(me, *week)] == [fixed.uid]
        assert journal.recent_entries(me, *week) == journal.entries(me, start=week[0], end=TODAY)
    finally:
        other.db.dispose()


def test_a_status_derived_after_a_dose_night_or_note_is_the_computed_one(
    journal: JournalService, clock: Clock
) -> None:
    """Each change below derives the status from the one remembered before it (read after
    every change); each equals the status computed afresh from the journal."""
    clock.at(TODAY)
    me = journal.create_user()
    journal.save_plan(me, stub_plan(request(10, start=START)), reason="first plan")
    day = [TODAY - dt.timedelta(days=n) for n in range(6)]
    taken = DoseEntry(drug="diazepam", mg=10, time="08:00")
    missed = DoseEntry(drug="diazepam", mg=0, status="missed")
    uid: dict[str, str] = {}
    steps: list[Any] = [
        lambda: uid.setdefault("a", journal.record(me, taken, day=day[0], confirm=True).entry.uid),
        lambda: uid.setdefault("b", journal.record(me, taken, day=day[1], confirm=True).entry.uid),
        lambda: journal.correct(me, uid["b"], {}, day=day[3], reason="wrong day", confirm=True),
        lambda: journal.record(me, missed, day=day[0], confirm=True),
        lambda: journal.correct(me, uid["a"], {"mg": 5}, reason="half", confirm=True),
        lambda: uid.setdefault("n", journal.record(me, _SLEEP, day=day[0]).entry.uid),
        lambda: journal.record(me, _SLEEP.model_copy(update={"sol_min": 50}), day=day[2]),
        lambda: journal.correct(me, uid["n"], {}, day=day[5], reason="last week's"),
        lambda: journal.record(me, NoteEntry(note="walked"), day=day[0]),
        lambda: journal.record(me, MedicineEntry(name="melatonin"), day=day[1]),
        # doses whose day the write read already: its questions (no confirm), ``take``
        lambda: journal.record(me, missed, day=day[5]),
        lambda: journal.take(me, day=day[4]),
        lambda: journal.take(me, day=day[4], status="missed"),
        lambda: journal.take(me, day=day[4], status="extra", mg=2, drug="diazepam", confirm=True),
    ]
    for step in steps:
        journal.status(me)  # remembered: the next change derives from it
        step()
        with journal.db.read() as s:
            fresh = summary.status_of(JournalRepository(s), me, TODAY, journal.rules, journal.book)
        assert journal.status(me) == fresh
    assert fresh.latest_sleep is not None and fresh.latest_sleep.day == day[2]
    assert fresh.adherence is not None
    assert (fresh.adherence.taken, fresh.adherence.missed) == (3, 3)


def test_a_write_derives_status_only_from_the_journal_as_it_stands(
    journal: JournalService, clock: Clock
) -> None:
    """A dose, night or note derives the status after it from the one remembered before it
    (``summary.status_after``) and its review reuses the check-ins the last review read, never
    what this worker remembers of an older stamp: here another worker (its own engine and, as
    another process, its own memory) wrote a dose, a night and a check-in meanwhile."""
    clock.at(TODAY)
    me = journal.create_user()
    journal.save_plan(me, stub_plan(request(10, start=START)), reason="first plan")
    journal.record(me, DoseEntry(drug="diazepam", mg=10, time="08:00"), day=TODAY, confirm=True)
    assert journal.status(me).adherence is not None  # remembered by this worker
    mine = list(summary._KEPT._items.items())
    url = journal.db.engine.url.render_as_string(hide_password=False)
    other = JournalService(Database(url), journal.knowledge, now=journal.now)
    try:
        dose = DoseEntry(drug="diazepam", mg=10, time="20:00")
        other.record(me, dose, day=TODAY - dt.timedelta(days=1), confirm=True)
        other.record(me, _SLEEP, day=TODAY)
        other.record(me, CheckinEntry(gad7=[2] * 7), day=TODAY)
    finally:
        other.db.dispose()
    summary._KEPT.clear()  # what this worker remembers: its own answers only
    for key, value in mine:
        summary._KEPT.put(key, value)
    journal.record(me, NoteEntry(note="walked"), day=TODAY)
    derived = journal.status(me)
    summary._KEPT.clear()
    with journal.db.read() as s:
        fresh = summary.status_of(JournalRepository(s), me, TODAY, journal.rules, journal.book)
    assert derived == fresh
    assert derived.latest_sleep is not None and derived.latest_sleep.day == TODAY
    assert derived.adherence is not None and derived.adherence.taken == 2
    assert derived.latest_score_dates == {"gad-7": TODAY}


def test_status_reads_a_bounded_window(journal: JournalService, clock: Clock) -> None:
    """Old check-ins are not read again: only the slots' rows and the decision's days."""
    clock.at(TODAY)
    me = journal.create_user()
    journal.save_plan(me, stub_plan(request(10, start=START)), reason="first plan")
    for n in range(20):
        journal.record(me, ciwa(4), day=START + dt.timedelta(days=n))
    journal.record(me, CheckinEntry(gad7=[1] * 7), day=START)
    with journal.db.read() as s:
        fast = summary.status_inputs(JournalRepository(s), me, TODAY, journal.rules)
    assert len(fast.checkins) < 21
    assert journal.status(me).latest_score_dates == {
        "ciwa-b": START + dt.timedelta(19),
        "gad-7": START,
    }
    # a day before the newest slot reads the whole journal: the answer as of that day
    assert journal.status(me, on=START).latest_score_dates == {"ciwa-b": START, "gad-7": START}


def test_the_migration_backfills_existing_patients_in_batches(
    journal: JournalService, clock: Clock, monkeypatch: Any
) -> None:
    """The summaries are made after the schema's transaction, a batch of people per transaction
    (a big clinic upgrades without one giant transaction); people without data get none."""
    from alembic import command
    from sqlalchemy import event

    from benzotaper.storage import migrate

    clock.at(TODAY)
    people = [journal.create_user() for _ in range(5)]
    for me in people[:4]:
        journal.save_plan(me, stub_plan(request(10, start=START)), reason="first plan")
    journal.record(people[0], CheckinEntry(gad7=[2] * 7, quick={"anxiety": 3}), day=START)
    with journal.db.read() as s:
        kept = summary.full_slots(s, people[0], journal.book)
    config = migrate.alembic_config()
    with journal.db.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0390_plan_renders")
        conn.commit()
    commits: list[int] = []
    event.listen(journal.db.engine, "commit", lambda _conn: commits.append(1))
    monkeypatch.setattr(migrate, "BACKFILL_BATCH", 3)
    journal.db.upgrade()
    # up to 0400; 3 + 1 of the 4 people with a plan; then 0410, the head
    assert len(commits) == 4 and journal.db.at_head()
    with journal.db.read() as s:
        row = summaries.load(s, people[0])
        assert row is not None and summaries.slots_of(row) == kept
        assert row.computed_on is not None and row.alerts  # gad-7 10/21: moderate
        assert [summaries.load(s, p) is not None for p in people] == [True] * 4 + [False]
    with journal.db.engine.connect() as conn:  # interrupted after the first batch: resumes
        config.attributes["connection"] = conn
        command.downgrade(config, migrate.SUMMARIES)
        conn.execute(
            summaries.JournalSummary.__table__.delete().where(
                summaries.JournalSummary.user_id == people[3]
            )
        )
        conn.commit()
    journal.db.upgrade()
    with journal.db.read() as s:
        assert summaries.load(s, people[3]) is not None
