"""No N+1: the number of SQL statements a page or API call runs does not grow with the journal.

Each route is requested with a short journal and again with a journal ten times longer (every
entry linked to the plan version, as the web app and ``take`` write them); the statement counts
must be equal. A query per entry (the old plan reload per linked entry) fails here at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from benzotaper.journal.entries import CheckinEntry, DoseEntry, SleepEntry
from benzotaper.storage import Database
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
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        # SQLite's read-only switch is sent when a pooled connection changes mode: it depends on
        # which connection the pool hands out, not on the page, so it is not counted
        if not statement.startswith("PRAGMA query_only"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


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


#: Statements per request on a person's pages once they were read since the last change: Today,
#: My plan, Journal and status answer what they answered before (``web.kept_answers``), checked
#: by the session lookup, which reads the person's summary stamp with it (My plan adds the
#: clinician's suggestions shown on it); the entries and plans API: the session lookup, then
#: the stamp (which also shows that the person exists) and the entries asked for.
#: (SQLite, PostgreSQL): SQLite's read transactions send their BEGIN to the driver directly (not
#: counted), a write's BEGIN IMMEDIATE is counted; before, Today ran 14 on SQLite and My plan 24,
#: then 2 and 3 with the service's answers remembered but the page made again.
REMEMBERED = {
    "/today": (1, 1),
    "/my-plan": (2, 2),
    "/journal": (1, 1),
    "/api/status": (1, 1),
    "/api/journal/entries": (3, 3),
    "/api/plans": (3, 3),
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
