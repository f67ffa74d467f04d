"""The server's CPU for one journal write, split by layer, with its SQL statements.

Sets up, in one process, patients with a two-year plan started a year ago and a year of
journal (as ``bench_load`` does: rows in bulk, then each person's summary), builds the real app
(every middleware, the session lookup, the database) and sends ``POST /api/journal/entries``
straight to it as ASGI calls (no network, no HTTP client: what is measured is the server's own
work). The writes go round the patients (``--patients``), each a dose as ``bench_load``'s
"journal write" sends it, or another kind with ``--kind``.

Printed, per write (load-independent figures first):

- SQL statements and transactions (write and read) the server runs;
- CPU ms (``time.process_time``, every thread of the process) in all, and inclusive per layer
  (each middleware, the router and the route): what a layer costs is its figure minus the next
  one's;
- with ``--profile``: the route's work under cProfile (the thread pool hop made inline so the
  profiler sees it), the functions with most cumulative time.

    .venv/bin/python benchmarks/bench_write.py [--writes 400] [--kind dose] [--profile]

Last line: ``write_cpu_ms=<x> write_statements=<n> write_transactions=<t>``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import json
import os
import pstats
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from bench_load import routes, seed_clinic
from benzotaper.storage import Database
from benzotaper.storage.access import WebSession
from benzotaper.web import WebSettings, create_app
from benzotaper.web.accounts import SESSION_COOKIE

Message = MutableMapping[str, Any]
ASGI = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]

#: What bench_load's "journal write" sends.
LOAD_WRITE = next(r.json for r in routes() if r.name == "journal write") or {}
ENTRIES: dict[str, dict[str, Any]] = {
    "dose": LOAD_WRITE["entry"],
    "checkin": {"kind": "checkin", "quick": {"anxiety": 2, "insomnia": 2}},
    "note": {"kind": "note", "text": "a walk in the park"},
    "sleep": {
        "kind": "sleep",
        "bed_time": "23:00",
        "sol_min": 20,
        "waso_min": 20,
        "final_wake_time": "07:00",
        "out_of_bed_time": "07:10",
    },
}


def make_patients(url: str, patients: int) -> list[tuple[str, str]]:
    """``patients`` signed-in patients with a plan and a year of journal (``bench_load``'s
    clinic): each one's session cookie and CSRF token."""
    Database(url).upgrade()
    tokens = seed_clinic(url, patients)["patient"]
    db = Database(url)
    with db.read() as s:
        signed = [
            (token, s.scalars(select(WebSession.csrf_token).where(WebSession.user_id == pid)).one())
            for token, pid in tokens
        ]
    db.dispose()
    return signed


async def call(app: ASGI, path: str, body: bytes, token: str, csrf: str) -> tuple[int, bytes]:
    """One POST through ``app`` as a server would send it: its status and body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"cookie", f"{SESSION_COOKIE}={token}".encode()),
            (b"x-csrf-token", csrf.encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


class Timed:
    """A layer of the app, its inclusive CPU added up under its name."""

    def __init__(self, inner: ASGI, name: str, totals: Counter[str]) -> None:
        self.inner, self.name, self.totals = inner, name, totals

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        t0 = time.process_time()
        try:
            await self.inner(scope, receive, send)
        finally:
            self.totals[self.name] += time.process_time() - t0


def timed_layers(app: Any, totals: Counter[str]) -> list[str]:
    """Put a :class:`Timed` around each layer below the outermost middleware; their names,
    outermost first."""
    names = []
    layer = app.middleware_stack
    while hasattr(layer, "app"):
        inner = layer.app
        name = type(inner).__name__
        names.append(name)
        layer.app = Timed(inner, name, totals)
        layer = inner
    return names


class Counts:
    """SQL statements and transactions run on an engine."""

    def __init__(self, db: Database) -> None:
        self.statements = 0
        self.writes = 0
        self.reads = 0
        self.texts: Counter[str] = Counter()
        event.listen(db.engine, "before_cursor_execute", self._statement)
        event.listen(db.engine, "begin", self._begin)

    def _statement(self, _c: Any, _cur: Any, sql: str, *_: Any) -> None:
        self.statements += 1
        self.texts[" ".join(sql.split())[:110]] += 1

    def _begin(self, connection: Any) -> None:
        from benzotaper.storage.engine import READ_ONLY

        if connection.get_execution_options().get(READ_ONLY):
            self.reads += 1
        else:
            self.writes += 1


async def run(args: argparse.Namespace) -> None:
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'write.sqlite3'}"
    signed = make_patients(url, args.patients)
    app = create_app(WebSettings(database_url=url, push_reminders=False))
    body = json.dumps({"entry": ENTRIES[args.kind], "confirm": True}).encode()
    path = "/api/journal/entries"
    async with app.router.lifespan_context(app):
        app.middleware_stack = app.build_middleware_stack()
        cold: list[float] = []
        for i in range(args.patients):  # each patient's first write: nothing remembered yet
            token, csrf = signed[i]
            t0 = time.process_time()
            status, answer = await call(app, path, body, token, csrf)
            cold.append((time.process_time() - t0) * 1000)
            assert status == 201, answer[:300]
        counts = Counts(app.state.db)
        totals: Counter[str] = Counter()
        names = timed_layers(app, totals)
        cpu: list[float] = []
        size = 0
        for i in range(args.writes):
            token, csrf = signed[i % args.patients]
            t0 = time.process_time()
            status, answer = await call(app, path, body, token, csrf)
            cpu.append((time.process_time() - t0) * 1000)
            assert status == 201, answer[:300]
            size = len(answer)
        n = args.writes
        print(f"\n{n} writes of a {args.kind} ({len(body)} bytes in, {size} bytes out)")
        print(f"SQL per write: {counts.statements / n:.1f} statements")
        print(f"transactions per write: {counts.writes / n:.1f} write, {counts.reads / n:.1f} read")
        for sql, times in counts.texts.most_common():
            print(f"  {times / n:5.2f} x {sql}")
        print(
            f"CPU ms per write: median {statistics.median(cpu):.2f}, mean "
            f"{statistics.fmean(cpu):.2f}, p99 {sorted(cpu)[int(0.99 * len(cpu))]:.2f}"
        )
        print(
            f"a patient's first write in the process (no status remembered): median "
            f"{statistics.median(cold[1:] or cold):.2f} ms"
        )
        print("inclusive CPU ms per write, by layer (outermost first):")
        for name in names:
            print(f"  {totals[name] * 1000 / n:6.2f}  {name}")
        if args.profile:
            await profile(app, path, body, signed, args)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f}")
    print(
        f"write_cpu_ms={statistics.median(cpu):.2f} "
        f"write_statements={counts.statements / n:.1f} "
        f"write_transactions={(counts.writes + counts.reads) / n:.1f}"
    )


async def profile(
    app: ASGI, path: str, body: bytes, signed: list[tuple[str, str]], args: argparse.Namespace
) -> None:
    import anyio.to_thread

    async def inline(func: Callable[..., Any], *a: Any, **_: Any) -> Any:
        return func(*a)

    original = anyio.to_thread.run_sync
    anyio.to_thread.run_sync = inline  # type: ignore[assignment]
    profiler = cProfile.Profile(time.process_time)
    try:
        profiler.enable()
        for i in range(args.writes):
            token, csrf = signed[i % args.patients]
            await call(app, path, body, token, csrf)
        profiler.disable()
    finally:
        anyio.to_thread.run_sync = original  # type: ignore[assignment]
    if args.dump:
        profiler.dump_stats(args.dump)
    stats = pstats.Stats(profiler)
    stats.sort_stats(args.sort).print_stats(args.top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=400)
    parser.add_argument("--patients", type=int, default=10)
    parser.add_argument("--kind", choices=sorted(ENTRIES), default="dose")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--dump", default="", help="cProfile stats file to write")
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--sort", default="cumulative", help="cProfile order (e.g. tottime)")
    args = parser.parse_args()
    t0 = dt.datetime.now()
    asyncio.run(run(args))
    print(f"(ran {dt.datetime.now() - t0})")


if __name__ == "__main__":
    main()
