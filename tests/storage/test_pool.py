"""The connection pool: connections kept open for the next requests, checked only after being
idle, and what a request's transactions send (read below the driver: ``tests/dbwire``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.conftest import _Databases, _Templates
from tests.dbwire import wire

from benzotaper.errors import StorageError
from benzotaper.storage import Database, engine
from benzotaper.web.overload import DEFAULT_MAX_IN_FLIGHT

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py


@pytest.fixture
def postgres(tmp_path: Path, _templates: _Templates) -> Iterator[Database]:
    """A migrated PostgreSQL database only (what is checked exists on PostgreSQL alone)."""
    databases = _Databases("postgresql", tmp_path, _templates)
    database = Database(databases.new_url())
    yield database
    database.dispose()
    databases.close()


def test_a_worker_s_connections_stay_open(db: Database) -> None:
    """A worker serves 16 requests at once: the connections they used are kept for the next
    ones, not closed and opened again (SQLite: each new one sets its pragmas and reads the
    schema; PostgreSQL: a server process started and authenticated, its prepared statements
    lost)."""
    assert min(engine.SQLITE_POOL_SIZE, engine.POSTGRES_POOL_SIZE) > DEFAULT_MAX_IN_FLIGHT
    opened: list[int] = []
    sa.event.listen(db.engine, "connect", lambda *_: opened.append(1))
    together = threading.Barrier(DEFAULT_MAX_IN_FLIGHT)

    def reader() -> None:
        with db.read() as s:
            s.execute(sa.text("SELECT 1"))
            together.wait(timeout=30)  # every reader holds its connection at the same time

    for _ in range(2):
        threads = [threading.Thread(target=reader) for _ in range(DEFAULT_MAX_IN_FLIGHT)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(opened) == DEFAULT_MAX_IN_FLIGHT  # the second round opened none


def test_a_read_in_steady_use_sends_begin_its_statement_and_commit(db: Database) -> None:
    """No pre-ping (PostgreSQL: ``;``, one round trip) before a connection used a moment ago."""
    with db.read() as s:
        s.execute(sa.text("SELECT 1"))
    with wire(db.engine) as seen, db.read() as s:
        s.execute(sa.text("SELECT 1"))
    assert [" ".join(x.split()[:1]) for x in seen.statements] == ["BEGIN", "SELECT", "COMMIT"]


def test_the_session_lookup_is_one_statement_on_postgresql(postgres: Database) -> None:
    """``read_rows`` (the session check of every request): PostgreSQL runs its one statement
    in autocommit, one round trip, without BEGIN and COMMIT around it; the transactions after
    it are as before (the pool restores the connection's mode)."""
    with postgres.read_rows() as connection:
        connection.execute(sa.text("SELECT 1"))
    with wire(postgres.engine) as seen:
        with postgres.read_rows() as connection:
            connection.execute(sa.text("SELECT 2"))
        with postgres.read() as s:
            s.execute(sa.text("SELECT 3"))
    assert seen.statements[0] == "SELECT 2"
    assert seen.statements[1].startswith("BEGIN") and "READ ONLY" in seen.statements[1]
    assert seen.statements[2:] == ["SELECT 3", "COMMIT"]
    assert seen.round_trips == 4


def _backend(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(sa.text("SELECT pg_backend_pid()")) or 0)


def _drop(db: Database, pid: int) -> None:
    """End a server process of the pool, as a server restart or an idle timeout would."""
    admin = sa.create_engine(db.engine.url, poolclass=sa.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced(
    postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "POSTGRES_PING_AFTER_IDLE_S", 0.0)  # every connection is idle
    first = _backend(postgres)
    _drop(postgres, first)
    assert _backend(postgres) not in (0, first)  # checked, found dropped, replaced: no error


def test_a_connection_in_steady_use_is_not_checked(
    postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other side of the policy: a connection used within the idle time is handed out
    unchecked, so a drop in that window is the request's error (SQLAlchemy then replaces
    every connection of the pool)."""
    monkeypatch.setattr(engine, "POSTGRES_PING_AFTER_IDLE_S", 3600.0)
    _drop(postgres, _backend(postgres))
    with pytest.raises(StorageError, match="terminating connection"):
        _backend(postgres)
    assert _backend(postgres) > 0
