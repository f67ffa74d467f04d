"""No N+1: the number of SQL statements a page or API call runs does not grow with the journal.

Each route is requested with a short journal and again with a journal ten times longer (every
entry linked to the plan version, as the web app and ``take`` write them); the statement counts
must be equal. A query per entry (the old plan reload per linked entry) fails here at once.
Statements are counted as they reach the database (``tests/dbwire``, below the driver), so a
driver's executemany counts a statement per row and BEGIN and COMMIT count too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from benzotaper.journal.entries import CheckinEntry, DoseEntry, SleepEntry
from benzotaper.storage import Database
from tests.dbwire import wire
from tests.journal.rows import SeedStore

from .conftest import Visitor
from .test_journal import TODAY, plan_started

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py

PATIENT_ROUTES = (
    "/today",
    "/my-plan",
    "/journal",
    "/api/status",
    "/api/journal/entries",
    "/api/plans",
)


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    """The statements that reach the database (read below the driver, ``tests/dbwire``: BEGIN,
    COMMIT and a SQLite read's BEGIN sent to the driver directly included). Not counted, as
    they do not depend on the page: SQLite's read-only switch, sent when a pooled connection
    changes mode (which depends on what the connection the pool hands out served last), and
    its write-ahead log checkpoint, sent by a thread of its own every so many writes."""
    statements: list[str] = []
    with wire(db.engine) as seen:
        yield statements
    statements += seen.without(("PRAGMA query_only", "PRAGMA wal_checkpoint"))


def add_days(db: Database, user_id: int, first: int, last: int) -> None:
    """A dose, a check-in and a sleep diary for each day ``first``..``last`` days ago."""
    store = SeedStore(db)
    active = store.active_plan(user_id)
    assert active is not None
    for ago in range(first, last + 1):
        day = TODAY - dt.timedelta(days=ago)
        for entry in (
            DoseEntry(drug="diazepam", mg=9, time="08:00", planned_time="08:00", planned_mg=9),
            CheckinEntry(quick={"anxiety": 3}),
            SleepEntry(
                bed_time="23:00",
                sol_min=20,
                waso_min=10,
                final_wake_time="07:00",
                out_of_bed_time="07:10",
            ),
        ):
            store.add_entry(user_id, day, entry, plan_version_uid=active.uid)


def counts(visitor: Visitor, db: Database, routes: tuple[str, ...]) -> dict[str, int]:
    out = {}
    for route in routes:
        with counting(db) as statements:
            r = visitor.client.get(route)
        assert r.status_code == 200, (route, r.text[:300])
        out[route] = len(statements)
    return out


def test_patient_pages_run_the_same_queries_for_3_or_30_days(visitor: Visitor) -> None:
    db: Database = visitor.client.app.state.db  # type: ignore[attr-defined]
    user_id = visitor.signup("counted@example.org")
    assert visitor.api("POST", "/api/plans", json=plan_started(40)).status_code == 201
    add_days(db, user_id, 1, 3)
    short = counts(visitor, db, PATIENT_ROUTES)
    add_days(db, user_id, 4, 30)
    long = counts(visitor, db, PATIENT_ROUTES)
    assert long == short, f"statements per request grew with the journal: {short} -> {long}"
    assert max(long.values()) < 40, long


def _patients(db: Database, clinician_id: int, names: list[str], alert: bool = False) -> list[int]:
    """Patients sharing with the clinician, each with a plan (so each has a stored summary);
    with ``alert``, the first of them with a moderate GAD-7."""
    from benzotaper.knowledge import default_knowledge
    from benzotaper.services.journal import JournalService
    from benzotaper.web import sharing
    from tests.journal.factory import request, stub_plan

    journal = JournalService(db, default_knowledge())
    ids = []
    for name in names:
        pid = journal.create_user(email=f"{name.lower()}@example.org", display_name=name)
        journal.save_plan(pid, stub_plan(request(10, start=TODAY)), reason="first")
        with db.transaction() as s:
            sharing.redeem_invite(s, clinician_id, sharing.create_invite(s, pid))
        ids.append(pid)
    if alert:
        journal.record(ids[0], CheckinEntry(gad7=[2] * 7), day=TODAY)
    return ids


def test_the_clinician_list_pages_search_and_audit_only_the_page(visitor: Visitor) -> None:
    from sqlalchemy import func, select

    from benzotaper.storage.access import AuditEvent

    db: Database = visitor.client.app.state.db  # type: ignore[attr-defined]
    doc = visitor.signup("doc-counted@example.org", role="clinician")
    names = ["Zed", "Amy", "Bo"]
    ids = _patients(db, doc, names, alert=True)
    few = counts(visitor, db, ("/clinician", "/api/patients?per_page=2"))
    ids += _patients(db, doc, [f"Cy{n}" for n in range(6)])
    many = counts(visitor, db, ("/clinician", "/api/patients?per_page=2"))
    assert many == few, f"statements per list grew with the patients: {few} -> {many}"

    with db.read() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
    r = visitor.client.get("/api/patients?per_page=2")
    assert r.headers["X-Total-Count"] == "9"
    assert [p["name"] for p in r.json()] == ["Zed", "Amy"]  # the alert first, then by name
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before + 2
    found = visitor.client.get("/api/patients?q=AMY%40example&sort=name").json()
    assert [p["id"] for p in found] == [ids[1]]
    page = visitor.client.get("/clinician?page=2&sort=name").text
    assert "Page 2 of 1" not in page and "Cy5" in page
    # the patient's page, as their journal grows ten times
    route = (f"/clinician/patients/{ids[1]}",)
    add_days(db, ids[1], 1, 3)
    short = counts(visitor, db, route)
    add_days(db, ids[1], 4, 30)
    assert counts(visitor, db, route) == short


#: Statements per request on a person's pages once they were read since the last change, as they
#: reach the database, BEGIN and COMMIT included. Today, My plan, Journal and status answer
#: what they answered before (``web.kept_answers``), checked by the session lookup alone, which
#: reads the person's summary stamp with it (SQLite: in a read transaction; PostgreSQL: one
#: statement in autocommit; My plan adds the clinician's suggestions shown on it). The entries
#: and plans API: the session lookup, then the page's one read (the stamp, which also shows
#: that the person exists, and the entries asked for). (SQLite, PostgreSQL). Counted this way
#: at 16fd6c8: SQLite 6, 9, 8, 6, 7, 7; PostgreSQL 7, 11, 9, 7, 8, 8; before the kept answers:
#: SQLite 6, 9, 7, 6; PostgreSQL 4, 7, 5, 4 for the four pages.
REMEMBERED = {
    "/today": (3, 1),
    "/my-plan": (4, 2),
    "/journal": (3, 1),
    "/api/status": (3, 1),
    "/api/journal/entries": (7, 5),
    "/api/plans": (7, 5),
}


def test_patient_pages_read_a_handful_of_statements_once_remembered(visitor: Visitor) -> None:
    db: Database = visitor.client.app.state.db  # type: ignore[attr-defined]
    user_id = visitor.signup("handful@example.org")
    assert visitor.api("POST", "/api/plans", json=plan_started(40)).status_code == 201
    add_days(db, user_id, 1, 30)  # seeded: the summary is dropped, then made by the next change
    note = {"entry": {"kind": "note", "note": "slept badly"}}
    assert visitor.api("POST", "/api/journal/entries", json=note).status_code == 201
    first = counts(visitor, db, PATIENT_ROUTES)
    again = counts(visitor, db, PATIENT_ROUTES)
    backend = 0 if db.engine.dialect.name == "sqlite" else 1
    pinned = {route: n[backend] for route, n in REMEMBERED.items()}
    assert again == pinned, f"{first} then {again}"


#: The clinician's pages, once their patients' answers are remembered: the session lookup, then
#: one transaction (SQLite: a write, BEGIN IMMEDIATE) that checks the share or finds the page,
#: reads what is shown and writes the audit rows. The list: the page's ids, their rows, one
#: insert of the page's audit rows; the patient view: the share with the patient's row, their
#: stamp (read once for the plan, the status and the recent entries), the suggestions, the
#: audit row. (SQLite, PostgreSQL). At 16fd6c8: list 12 and 14, patient view 12 and 14 (two
#: transactions each, a pre-ping per transaction on PostgreSQL, the stamp read twice, and an
#: insert per audit row: the list's count then grew with the page's patients).
CLINICIAN_REMEMBERED = {"/clinician": (8, 6), "/clinician/patients/{id}": (9, 7)}


def test_the_clinician_pages_are_one_transaction_of_a_few_statements(visitor: Visitor) -> None:
    db: Database = visitor.client.app.state.db  # type: ignore[attr-defined]
    doc = visitor.signup("doc-few@example.org", role="clinician")
    ids = _patients(db, doc, ["Zed", "Amy", "Bo"], alert=True)
    routes = tuple(r.format(id=ids[0]) for r in CLINICIAN_REMEMBERED)  # checked in today
    counts(visitor, db, routes)
    again = counts(visitor, db, routes)
    backend = 0 if db.engine.dialect.name == "sqlite" else 1
    assert list(again.values()) == [n[backend] for n in CLINICIAN_REMEMBERED.values()], again
