"""The journal's reads by day find their rows through an index, whatever the journal's size."""

from __future__ import annotations

import datetime as dt

from benzotaper.storage import Database
from benzotaper.storage.journal import _entries_statement


def test_a_persons_entries_of_every_kind_by_day_use_the_user_date_index(sqlite_url: str) -> None:
    """The Journal page's and the patient view's read (two weeks, every kind): before the
    index it read every entry the person ever made and sorted the days asked for."""
    db = Database(sqlite_url)
    day = dt.date(2026, 12, 1)
    stmt, params = _entries_statement(
        1, None, day - dt.timedelta(days=13), day, False, False, None, documents=False
    )
    compiled = stmt.compile(db.engine)
    values = compiled.construct_params(params)
    args = tuple(values[name] for name in compiled.positiontup or ())
    with db.engine.connect() as conn:
        found = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", args)
        plan = " ".join(str(r) for r in found)
    db.dispose()
    assert "USING INDEX ix_entries_user_date (user_id=? AND entry_date>? AND entry_date<?)" in plan
