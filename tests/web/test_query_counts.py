"""No N+1: the number of SQL statements a page or API call runs does not grow with the journal.

Each route is requested with a short journal and again with a journal ten times longer (every
entry linked to the plan version, as the web app and ``take`` write them); the statement counts
must be equal. A query per entry (the old plan reload per linked entry) fails here at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from benzotaper.journal.entries import CheckinEntry, DoseEntry, SleepEntry
from benzotaper.storage import Database
from tests.journal.rows import SeedStore

from .conftest import Visitor
from .test_journal import TODAY, plan_started

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
