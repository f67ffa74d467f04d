"""Engine settings that protect entries: SQLite pragmas, foreign keys, transactions, settings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from benzotaper.errors import StorageError
from benzotaper.settings import default_database_url, get_settings
from benzotaper.storage import Database, Entry, User

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py


def test_sqlite_uses_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'sub' / 'j.sqlite3'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    assert (tmp_path / "sub" / "j.sqlite3").exists()
    db.dispose()


def test_database_url_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'env.sqlite3'}"
    monkeypatch.setenv("BENZOTAPER_DATABASE_URL", url)
    assert get_settings().database_url == url
    assert Database().url == url
    monkeypatch.delenv("BENZOTAPER_DATABASE_URL")
    assert get_settings().database_url == default_database_url()
    assert default_database_url().endswith("benzotaper.sqlite3")


@pytest.mark.parametrize("url", ["not a url", "mysql://x@y/z"])
def test_bad_urls_are_refused_clearly(url: str) -> None:
    with pytest.raises(StorageError):
        Database(url)


def test_users_round_trip_and_email_is_unique(db: Database) -> None:
    with db.transaction() as s:
        s.add_all(
            [
                User(display_name="Local user"),
                User(display_name="Also local"),  # several users without email are allowed
                User(email="dr@example.org", role="clinician", password_hash="x"),
            ]
        )
    with db.transaction() as s:
        users = s.scalars(sa.select(User).order_by(User.id)).all()
        assert [u.role for u in users] == ["patient", "patient", "clinician"]
        assert users[0].email is None
        assert users[0].created_at.tzinfo is dt.UTC
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(User(email="dr@example.org"))
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(User(role="admin"))


def test_foreign_keys_are_enforced_and_a_failed_transaction_leaves_nothing(db: Database) -> None:
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(User(display_name="kept?"))
        s.flush()
        s.add(Entry(user_id=9999, kind="note", entry_date=dt.date(2026, 1, 1), data={}))
    with db.transaction() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_only_one_active_plan_version_per_user(db: Database) -> None:
    from benzotaper.storage import PlanVersion

    with db.transaction() as s:
        user = User()
        s.add(user)
        s.flush()
        uid = user.id

    def version(n: int, active: bool) -> PlanVersion:
        return PlanVersion(
            user_id=uid,
            version=n,
            effective_from=dt.date(2026, 1, 1),
            request={},
            plan={},
            active=active,
        )

    with db.transaction() as s:
        s.add_all([version(1, True), version(2, False)])
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(version(3, True))


def _wal_checkpoint(db: Database) -> tuple[int, int, int]:
    """SQLite's own answer to a PASSIVE checkpoint: busy, frames in the log, frames copied."""
    raw = db.engine.raw_connection()
    try:
        row = raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()  # type: ignore[union-attr]
    finally:
        raw.close()
    return int(row[0]), int(row[1]), int(row[2])


def test_sqlite_checkpoints_in_the_background_not_in_a_writer(tmp_path: Path) -> None:
    """A writer whose commit took SQLite's log past its automatic checkpoint copied the log
    into the database with the writer lock held (45-75 ms, every ~100 journal writes): here a
    thread checkpoints every CHECKPOINT_EVERY writes, and writers only past a far larger log."""
    import time

    from benzotaper.storage.engine import CHECKPOINT_EVERY, SQLITE_AUTOCHECKPOINT_PAGES

    db = Database(f"sqlite:///{tmp_path / 'checkpoint.sqlite3'}")
    db.upgrade()
    raw = db.engine.raw_connection()
    pages = raw.driver_connection.execute("PRAGMA wal_autocheckpoint").fetchone()  # type: ignore[union-attr]
    raw.close()
    assert pages[0] == SQLITE_AUTOCHECKPOINT_PAGES > 1000
    assert db.checkpointer is not None

    def write(n: int) -> None:
        for i in range(n):
            with db.transaction() as s:
                s.add(User(display_name=f"person {i}", role="patient"))

    write(CHECKPOINT_EVERY - 1)
    time.sleep(0.2)
    assert db.checkpointer.done == 0
    write(1)
    deadline = time.monotonic() + 10
    while db.checkpointer.done < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert db.checkpointer.done == 1
    write(1)  # the first write after a complete checkpoint starts the log again
    busy, frames, copied = _wal_checkpoint(db)
    # the log holds that one write's pages, not the CHECKPOINT_EVERY writes' before it
    assert busy == 0 and 0 < frames <= 5 and copied == frames
    with db.read() as s:
        assert s.scalar(sa.select(sa.func.count(User.id))) == CHECKPOINT_EVERY + 1
    db.dispose()
