"""Journal fixtures: the journal service on a real database (SQLite and PostgreSQL) with a
clock the test moves, and the CLI's clock set to the same time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from benzotaper.catalogue import Catalogue
from benzotaper.planning.models import Plan, PlanRequest
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database
from tests.journal.factory import stub_plan


class Clock:
    """A "now" the test sets: ``clock.at(day)`` moves it to 09:00 on ``day``."""

    def __init__(self, day: dt.date = dt.date(2026, 1, 17)) -> None:
        self.now = dt.datetime.combine(day, dt.time(9, 0))

    def __call__(self) -> dt.datetime:
        return self.now

    def at(self, day: dt.date, hour: int = 9, minute: int = 0) -> Clock:
        self.now = dt.datetime.combine(day, dt.time(hour, minute))
        return self


def stub_planner(req: PlanRequest, today: dt.date) -> Plan:
    return stub_plan(req, today)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The test's clock; the CLI (run in-process) reads it too."""
    c = Clock()
    monkeypatch.setattr("benzotaper.cli.journal.clock", c)
    return c


@pytest.fixture
def journal(db: Database, catalogue: Catalogue, clock: Clock) -> Iterator[JournalService]:
    """The journal service with the hand-made planner of ``tests.journal.factory``."""
    yield JournalService(db, catalogue, planner=stub_planner, now=clock)
