"""What really reaches the database: every statement the driver sends, BEGIN and COMMIT included.

SQLAlchemy's ``before_cursor_execute`` event misses what the driver sends on its own: psycopg's
implicit ``BEGIN``, ``COMMIT`` and ``ROLLBACK``, the pool's pre-ping, and on SQLite the read
transactions' ``BEGIN`` (sent to the driver directly, ``storage.engine``). So the counting is
done below the driver, where nothing can be skipped:

- SQLite: ``sqlite3``'s trace callback, called for every statement SQLite runs;
- PostgreSQL: libpq's own protocol trace (``PQtrace``): each simple ``Query`` and each extended
  protocol ``Execute`` is a statement, each ``ReadyForQuery`` the end of a round trip.

Use::

    with wire(db.engine) as seen:
        client.get("/today")
    len(seen.statements), seen.round_trips

Each connection the pool hands out inside the block is traced from its checkout; a connection
already checked out before the block is not seen (a request starts and ends inside it).
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event


@dataclass
class Seen:
    """The statements sent, in order, and (PostgreSQL) the round trips they took."""

    statements: list[str] = field(default_factory=list)
    round_trips: int = 0

    def without(self, prefixes: tuple[str, ...]) -> list[str]:
        """The statements but those starting with one of ``prefixes``."""
        return [s for s in self.statements if not s.startswith(prefixes)]


class _SqliteTracer:
    def __init__(self, seen: Seen) -> None:
        self.seen, self.traced = seen, list[Any]()

    def checkout(self, dbapi_connection: Any) -> None:
        if dbapi_connection not in self.traced:
            dbapi_connection.set_trace_callback(self.seen.statements.append)
            self.traced.append(dbapi_connection)

    def finish(self) -> None:
        for connection in self.traced:
            connection.set_trace_callback(None)
        # every statement run is also counted as its own round trip (no network)
        self.seen.round_trips = len(self.seen.statements)


class _PostgresTracer:
    """libpq writes its trace to a C stream of its own (``fdopen`` of a descriptor): each
    connection gets a duplicate of one temporary file's descriptor, opened for appending, and
    the trace is read once every connection has stopped tracing (which flushes it)."""

    def __init__(self, seen: Seen) -> None:
        self.seen, self.traced = seen, list[Any]()
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by finish)
        self.prepared: dict[str, str] = {}  # prepared statement name -> its SQL
        self.lock = threading.Lock()

    def checkout(self, dbapi_connection: Any) -> None:
        from psycopg import pq

        with self.lock:
            if dbapi_connection in self.traced:
                return
            pgconn = dbapi_connection.pgconn
            descriptor = os.dup(self.file.fileno())
            os.set_blocking(descriptor, True)
            pgconn.trace(descriptor)
            pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
            self.traced.append(dbapi_connection)
            # the statements the connection prepared before (psycopg's own cache; private)
            for key, name in dbapi_connection._prepared._names.items():
                self.prepared[name.decode()] = bytes(key[0]).decode()

    def finish(self) -> None:
        for connection in self.traced:
            if not connection.closed:
                connection.pgconn.untrace()  # flushes libpq's stream
        with self.file:
            self.file.seek(0)
            trace = self.file.read().decode("utf-8", "replace")
        parsed = self.prepared
        bound = ""
        for found in _MESSAGE.finditer(trace):
            direction, message, rest = found["direction"], found["message"], found["rest"]
            if direction == "B":
                self.seen.round_trips += message == "ReadyForQuery"
            elif message == "Query":
                self.seen.statements.append(rest.strip()[1:-1])
            elif message == "Parse" and (parse := _PARSE.match(rest)):
                parsed[parse["name"]] = parse["sql"]
            elif message == "Bind" and (bind := _BIND.match(rest)):
                bound = parsed.get(bind["name"], f"(prepared {bind['name']})")
            elif message == "Execute":
                self.seen.statements.append(bound)


#: One message of libpq's trace: from the client (F) or the server (B), its length, its type and
#: its fields (SQL may span lines: a message ends where the next begins).
_MESSAGE = re.compile(
    r"^(?P<direction>[FB])\t\d+\t(?P<message>\w+)(?P<rest>.*?)(?=^[FB]\t\d+\t\w|\Z)",
    re.MULTILINE | re.DOTALL,
)
#: libpq's trace of a Parse (statement name, SQL, parameter types) and of a Bind (portal name,
#: statement name, ...); names never hold quotes.
_PARSE = re.compile(r'^\t "(?P<name>[^"]*)" "(?P<sql>.*)" \d+( \S+)*\s*$', re.DOTALL)
_BIND = re.compile(r'^\t "[^"]*" "(?P<name>[^"]*)"')


@contextmanager
def wire(engine: Engine) -> Iterator[Seen]:
    """Trace what the connections checked out of ``engine``'s pool send, until the block ends."""
    seen = Seen()
    sqlite = engine.dialect.name == "sqlite"
    tracer = _SqliteTracer(seen) if sqlite else _PostgresTracer(seen)

    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        tracer.checkout(dbapi_connection)

    event.listen(engine, "checkout", on_checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", on_checkout)
        tracer.finish()
