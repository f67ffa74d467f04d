"""Real processes against real databases: a writer killed mid-transaction loses no committed
entry, and two writers at once both succeed."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from benzotaper.catalogue import default_catalogue
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py

WRITER = Path(__file__).with_name("writer.py")


def _journal(db: Database) -> JournalService:
    return JournalService(db, default_catalogue(), now=lambda: dt.datetime(2026, 1, 2, 9))


def _spawn(url: str, user: int, count: int, mode: str, variant: int = 0) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    return subprocess.Popen(
        [sys.executable, str(WRITER), url, str(user), str(count), mode, str(variant)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_writer_killed_mid_transaction_loses_no_committed_entry(
    db: Database, database_url: str
) -> None:
    me = _journal(db).local_user()
    proc = _spawn(database_url, me, 20, "hang")
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line.strip())
        if line.strip() == "in-transaction":
            break
    assert lines[-1] == "in-transaction", proc.stderr.read() if proc.stderr else ""
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)  # waits, and closes its pipes
    assert proc.returncode == -signal.SIGKILL

    fresh = Database(database_url)  # a new connection, as after a crash
    notes = [e.entry.note for e in _journal(fresh).entries(me)]
    assert len(notes) == 20 and all(n.startswith("hang-") for n in notes)
    assert "uncommitted" not in notes
    if fresh.engine.url.get_backend_name() == "sqlite":
        with fresh.engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    # and the journal still takes writes
    from benzotaper.journal.entries import NoteEntry

    _journal(fresh).record(me, NoteEntry(note="after the crash"))
    assert len(_journal(fresh).entries(me)) == 21
    fresh.dispose()


def test_two_concurrent_writer_processes_both_succeed(db: Database, database_url: str) -> None:
    store = _journal(db)
    me = store.local_user()
    procs = [_spawn(database_url, me, 40, "commit", variant) for variant in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.strip().endswith("done")
    assert len(store.entries(me)) == 80
    versions = store.plan_versions(me)
    assert sorted(v.version for v in versions) == [1, 2]
    assert [v.active for v in versions].count(True) == 1
