"""Engines and sessions: one :class:`Database` per URL, every write inside one transaction.

Use::

    db = Database()                  # BENZOTAPER_DATABASE_URL or the embedded SQLite default
    db.upgrade()                     # apply Alembic migrations (idempotent)
    with db.transaction() as session:
        session.add(thing)           # committed on leaving the block, rolled back on error
    with db.read() as session:       # reads only: never takes SQLite's write lock
        session.scalar(select(Thing))

SQLite connections get ``foreign_keys=ON``, WAL journalling and a busy timeout. A write
transaction starts with ``BEGIN IMMEDIATE``, so concurrent writers queue instead of failing with
"database is locked" halfway through; a read transaction starts with a plain (deferred) ``BEGIN``
under ``PRAGMA query_only``, so it never waits for, nor blocks, a writer (WAL) and cannot write.
On PostgreSQL a read transaction is ``READ ONLY``; the pool keeps a worker's connections
open and checks one only after it has been idle (``POSTGRES_*`` below). Take the write lock
only when writing: any work that can run outside it (hashing a password, making a plan)
belongs before or after it.
PostgreSQL URLs use psycopg 3 (``postgresql+psycopg://``).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from benzotaper.errors import StorageError
from benzotaper.settings import get_settings

#: Execution option marking a read-only transaction (see ``Database.read``).
READ_ONLY = "benzotaper_read_only"
#: How long a SQLite writer waits for another writer's lock before giving up (policy).
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: SQLite connections kept open for reuse (policy: a worker's requests in flight, 16 by default,
#: each hold at most one at a time). SQLAlchemy's default keeps 5 and closes the others it
#: opened when they are returned: under load most requests then opened a connection, set its
#: pragmas and read the schema again (360 new connections per 640 requests, 16 at a time).
SQLITE_POOL_SIZE = 20
#: SQLite: write transactions between two checkpoints made in the background (policy: at ~10
#: WAL pages per journal write, about 500 pages, half of SQLite's own automatic checkpoint).
CHECKPOINT_EVERY = 50
#: SQLite: WAL pages at which a committing writer checkpoints itself, as SQLite does by default
#: at 1,000 (policy): only when the background checkpoints fall behind.
SQLITE_AUTOCHECKPOINT_PAGES = 10_000
#: PostgreSQL connections kept open per worker (policy, as for SQLite: more than the requests a
#: worker serves at once). With SQLAlchemy's default of 5, a connection opened beyond them was
#: closed when returned: under load most requests paid for a new server process (its start,
#: authentication, and the statements it had prepared lost). Two workers keep up to 40 open,
#: within PostgreSQL's default ``max_connections`` of 100.
POSTGRES_POOL_SIZE = 20
#: A pooled PostgreSQL connection unused for longer than this is checked (one round trip)
#: before it is handed out, and replaced if the server has dropped it (a restart, an idle
#: timeout). One in steady use is not: checking every time cost a round trip per transaction.
POSTGRES_PING_AFTER_IDLE_S = 10.0


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: settings), with the SQLite pragmas applied per connection."""
    raw = url or get_settings().database_url
    try:
        parsed = make_url(raw)
    except ArgumentError:
        raise StorageError(f"Not a database URL: {raw!r}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database).expanduser())
        engine = create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=SQLITE_POOL_SIZE,
        )
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(parsed, pool_size=POSTGRES_POOL_SIZE)
        _ping_when_idle(engine)
        return engine
    raise StorageError(
        f"Unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql+psycopg://"
    )


def _private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (0600; its folder 0700 when new): it
    holds health data and password hashes. SQLite gives its -wal and -shm files the same mode."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = bool(connection.get_execution_options().get(READ_ONLY))
        # the mode stays with the connection: set only when it changes (a statement saved on
        # most transactions: a pooled connection mostly serves reads after reads)
        kept = connection.connection.info
        if kept.get("query_only") is not read_only:
            connection.exec_driver_sql(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")
            kept["query_only"] = read_only
        if read_only:
            # A deferred BEGIN takes no lock and cannot fail: sent to the driver directly,
            # without the statement machinery (a read transaction opens on every request)
            connection.connection.dbapi_connection.execute("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


class _Checkpointer:
    """Copies SQLite's write-ahead log back into the database file in a thread of its own,
    every :data:`CHECKPOINT_EVERY` write transactions.

    SQLite checkpoints in the writer whose commit takes the log past 1,000 pages: that commit
    then copies ~330 pages into the database file and waits for the disk (45-75 ms measured
    with strace on the development machine, once every ~100 journal writes), while the
    process's other writers queue behind it for the writer lock. A ``PASSIVE`` checkpoint made
    here lets writers go on meanwhile. Durability is unchanged: a commit is on disk in the log
    (``synchronous=FULL``) before it returns; the checkpoint only moves committed pages."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.commits = 0
        self.done = 0  # checkpoints made (tests wait for them)
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pending = self._stopped = False

    def committed(self) -> None:
        """Count a write transaction; every CHECKPOINT_EVERY-th wakes the thread."""
        self.commits += 1
        if self.commits % CHECKPOINT_EVERY:
            return
        with self._wake:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(
                    target=self._run, name="sqlite-checkpoint", daemon=True
                )
                self._thread.start()
            self._pending = True
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._pending or self._stopped)
                if self._stopped:
                    return
                self._pending = False
            self.checkpoint()

    def checkpoint(self) -> None:
        """One PASSIVE checkpoint (it never waits for a writer nor blocks one). A failure is
        left to SQLite's own automatic checkpoint: nothing is lost, the log only grows."""
        try:
            raw = self.engine.raw_connection()
        except DBAPIError:
            return
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()  # type: ignore[union-attr]
        except Exception:  # housekeeping: the next checkpoint (or SQLite's own) tries again
            return
        finally:
            raw.close()
        self.done += 1

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join()


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, for connections that have been idle a while only: a
    connection the server dropped is found and replaced before use (the pool's documented
    way: a ``DisconnectionError`` raised at checkout), without a round trip per transaction
    for the connections in steady use."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < POSTGRES_PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"A pooled connection was dropped: {exc}") from exc


@contextmanager
def _refused() -> Iterator[None]:
    """A database's refusal (locked, unreachable, read-only) as the project's StorageError."""
    try:
        yield
    except OperationalError as exc:
        raise StorageError(f"The database refused the request: {exc.orig}") from exc


class Database:
    """An engine and its session factory; the one object adapters hold on to."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None) -> None:
        self.engine = engine if engine is not None else make_engine(url)
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)
        options: dict[str, Any] = {READ_ONLY: True}
        if self.engine.dialect.name == "postgresql":
            options["postgresql_readonly"] = True
        self._read_engine = self.engine.execution_options(**options)
        self.read_sessions: sessionmaker[Session] = sessionmaker(
            self._read_engine, expire_on_commit=False
        )
        # PostgreSQL: a one-statement lookup needs no transaction of its own (the statement is
        # its own snapshot); psycopg would send BEGIN and COMMIT, two round trips, around it.
        self._lookup_engine = (
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.engine.dialect.name == "postgresql"
            else self._read_engine
        )
        #: Whether a read is a call into this process (SQLite: no network, and a read never
        #: waits for a writer), cheap enough to make on the event loop itself.
        self.local = self.engine.dialect.name == "sqlite"
        # SQLite: a process's writers queue on a lock, handed over as soon as it is free.
        # SQLite's own busy handler polls with sleeps of up to 100 ms, so writers of one
        # process queued behind each other waited far longer than the lock was held (5 users
        # writing at once: p99 2.8 s). Writers in other processes still meet the busy handler.
        self._writers: AbstractContextManager[Any] = (
            threading.RLock() if self.engine.dialect.name == "sqlite" else nullcontext()
        )
        #: SQLite: checkpoints made outside the writer lock (None: PostgreSQL, or in memory).
        self.checkpointer = (
            _Checkpointer(self.engine)
            if self.engine.dialect.name == "sqlite"
            and self.engine.url.database not in (None, "", ":memory:")
            else None
        )

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: commit on success, roll back on any error."""
        with _refused(), self._writers, self.sessions.begin() as session:
            yield session
        if self.checkpointer is not None:  # committed, and the writer lock is free again
            self.checkpointer.committed()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session inside one read-only transaction (it cannot write; on SQLite it takes no
        lock, so readers never queue behind a writer)."""
        with _refused(), self.read_sessions.begin() as session:
            yield session

    @contextmanager
    def read_rows(self) -> Iterator[Connection]:
        """A Core connection for one lookup statement, as :meth:`read` but without an ORM
        session: for a lookup of a few columns made on every request (the session check), where
        the session's own bookkeeping cost more than the query. SQLite: inside one read-only
        transaction; PostgreSQL: in autocommit, the statement its own transaction (no BEGIN and
        COMMIT sent around it), so a caller that reads twice may see two moments."""
        with _refused(), self._lookup_engine.begin() as connection:
            yield connection

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema up to ``revision`` with the shipped Alembic migrations.

        A database already at the shipped head is left as it is without loading Alembic (one
        query): every CLI command that opens the journal calls this first."""
        if revision == "head" and self.at_head():
            return
        from benzotaper.storage.migrate import upgrade

        upgrade(self.engine, revision)

    def at_head(self) -> bool:
        """Whether the database's recorded revision is the newest one shipped (False when it
        cannot tell: then ``upgrade`` runs Alembic, which decides)."""
        head = shipped_head()
        if head is None:
            return False
        try:
            with self.engine.connect() as connection:
                found = connection.execute(text("SELECT version_num FROM alembic_version"))
                return list(found.scalars()) == [head]
        except DBAPIError:  # no alembic_version table yet: never migrated
            return False

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()


_REVISION = re.compile(r'^revision(?:: [^=\n]+)? = "([^"]+)"$', re.MULTILINE)
_DOWN = re.compile(r'^down_revision(?:: [^=\n]+)? = (?:None|"([^"]+)")$', re.MULTILINE)


@lru_cache(maxsize=1)
def shipped_head() -> str | None:
    """The newest migration shipped, read from the migration files' ``revision`` and
    ``down_revision`` lines without importing Alembic; None unless every file has exactly one
    of each plain line and they form one head (Alembic itself then decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (Path(__file__).parent / "migrations" / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        mine, down = _REVISION.findall(source), _DOWN.findall(source)
        if len(mine) != 1 or len(down) != 1:
            return None
        revisions.add(mine[0])
        parents.add(down[0])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None
