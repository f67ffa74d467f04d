"""A plan version's JSON is read and parsed once per process: versions never change, so later
reads fetch only the version's small columns (a two-year plan is ~43 KB of JSON and ~10 ms to
validate, once per page otherwise)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest

from benzotaper.services.journal import JournalService
from benzotaper.storage import Database
from benzotaper.storage.plancache import PARSED
from tests.journal.factory import request, stub_plan
from tests.web.test_query_counts import counting

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py

PLAN_JSON = re.compile(r"plan_versions\.\"?plan\b")  # SQLite quotes "plan"


def json_reads(db: Database, read: Callable[[], object]) -> int:
    """How many statements ``read`` ran that fetch plan JSON."""
    with counting(db) as statements:
        read()
    return sum(1 for s in statements if PLAN_JSON.search(s))


def test_plan_json_is_read_once_then_cached(journal: JournalService, db: Database) -> None:
    me = journal.local_user()
    first = stub_plan(request(10, start=dt.date(2026, 1, 1)))
    second = stub_plan(request(8, start=dt.date(2026, 1, 1)))
    journal.save_plan(me, first, reason="first plan")
    saved = journal.save_plan(me, second, reason="slower")
    PARSED.clear()  # as in a worker that has not read these versions yet

    assert json_reads(db, lambda: journal.plan_versions(me)) == 1  # both versions, one query
    assert json_reads(db, lambda: journal.plan_versions(me)) == 0
    assert json_reads(db, lambda: journal.active_plan(me)) == 0
    active = journal.active_plan(me)
    assert active is not None and active.uid == saved.uid
    assert active.plan == second
    assert [v.plan for v in journal.plan_versions(me)] == [first, second]


def test_a_saved_version_is_cached_by_the_worker_that_saved_it(
    journal: JournalService, db: Database
) -> None:
    me = journal.local_user()
    journal.save_plan(me, stub_plan(request(10, start=dt.date(2026, 1, 1))), reason="first")
    assert json_reads(db, lambda: journal.active_plan(me)) == 0
