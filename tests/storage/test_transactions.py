"""Reads never take SQLite's write lock; a read transaction cannot write (both databases)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from tests.locks import writer_holding_the_lock

from benzotaper.errors import StorageError
from benzotaper.storage import Database, User

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py


def test_a_read_does_not_wait_for_a_writer(db: Database) -> None:
    with db.transaction() as s:
        s.add(User(email="first@example.org"))
    with writer_holding_the_lock(db, "second@example.org"):
        started = time.monotonic()
        with db.read() as s:  # a write transaction here would wait up to the busy timeout
            emails = s.scalars(select(User.email)).all()
        assert time.monotonic() - started < 5
        assert emails == ["first@example.org"]  # the writer's row is not committed yet


def test_a_read_transaction_cannot_write(db: Database) -> None:
    # SQLite: StorageError (query_only); PostgreSQL: psycopg's read-only transaction error
    with pytest.raises(Exception) as info, db.read() as s:
        s.add(User(email="sneaky@example.org"))
    assert isinstance(info.value, StorageError) or "read-only" in str(info.value)
    with db.read() as s:
        assert s.scalars(select(User)).all() == []


def test_the_sqlite_file_is_private(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """It holds health data and password hashes: owner-only, its WAL files too."""
    import os
    import stat

    folder = tmp_path / "new-data-dir"
    db = Database(f"sqlite:///{folder / 'benzotaper.sqlite3'}")
    db.upgrade()
    with db.transaction() as s:
        s.add(User(email="private@example.org"))
    modes = {p.name: stat.S_IMODE(os.stat(p).st_mode) for p in folder.iterdir() if p.is_file()}
    db.dispose()
    assert modes["benzotaper.sqlite3"] == 0o600
    assert all(mode == 0o600 for mode in modes.values()), modes
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
