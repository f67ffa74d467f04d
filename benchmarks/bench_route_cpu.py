"""Server CPU per request of the read routes, measured without load: what each answer costs.

The closed-loop goal of ``bench_load.py`` (50 clients, p99 <= 100 ms on two cores shared with
the load generator) needs about 2 ms of server CPU per request. This benchmark says where a
route stands, independently of what else the machine runs (CPU time, not wall time), on the
clinic ``bench_load`` builds (``--patients`` patients with a year of journal, on SQLite):

- ``asgi``: the app in this process, each request sent straight to its ASGI callable on
  uvloop (every middleware, the session check, the database; no HTTP parsing, no socket),
  requests one after another, each patient in turn: ``time.process_time`` per request (the
  thread pool's CPU included), the least of four batches;
- ``server``: the real server (``benzotaper serve``, one worker: uvicorn, httptools, uvloop)
  asked by one client over a kept-alive connection: the server process's CPU (``/proc``) per
  request, the least of four batches, so uvicorn's own share is the difference between the
  two;
- ``server50`` (``--clients``): the same server with 50 kept-alive connections in a closed
  loop (each sends its next request as soon as the last is answered, as ``bench_load``'s
  users do) from a minimal client (raw sockets, prebuilt requests): the server's CPU per
  request under concurrency, ``client``, that client's own CPU per request (``bench_load``
  prints its httpx client's: the load generator shares the machine's cores with the server),
  and ``p50 ms`` / ``p99 ms``, those requests' times (wall times: they depend on what else
  the machine runs);
- ``--profile ROUTE``: cProfile of ``asgi`` for one route, the thread pool's work run inline so
  that it shows in the profile (the hop itself is then missing from it).

Routes: Today, My plan, Journal, status (``/api/status``) and preview (the builder's preview of
a form seen before), as ``bench_load.py`` names them.

    .venv/bin/python benchmarks/bench_route_cpu.py [--requests 400] [--mode asgi,server]

Last line: ``route_cpu_worst_ms=<asgi worst> worst=<route>``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import http.client
import os
import pstats
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop

from bench_load import PREVIEW_FORM, CpuMeter, seed_clinic, start_server

#: Each figure is the least CPU per request of this many batches (the batch least disturbed by
#: whatever else the machine runs; the server's figure counts clock ticks of 10 ms).
BATCHES = 4
ROUTES = {
    "Today": ("GET", "/today"),
    "My plan": ("GET", "/my-plan"),
    "Journal": ("GET", "/journal"),
    "status": ("GET", "/api/status"),
    "preview": ("POST", "/plan/preview"),
}


@dataclass(frozen=True)
class Caller:
    """A signed-in patient: their session cookie and CSRF token."""

    cookie: str
    csrf: str


def callers(url: str, sessions: list[tuple[str, int]]) -> list[Caller]:
    from benzotaper.storage import Database
    from benzotaper.web.accounts import SESSION_COOKIE, load_identity
    from benzotaper.web.security import CSRF_COOKIE, new_token

    db = Database(url)
    out = []
    with db.read_rows() as connection:
        for token, _ in sessions:
            identity = load_identity(connection, token)
            assert identity is not None
            # a browser that has been here keeps the anonymous CSRF cookie it was given
            anon = f"{CSRF_COOKIE}={new_token()}"
            out.append(Caller(f"{SESSION_COOKIE}={token}; {anon}", identity.csrf_token))
    db.dispose()
    return out


def request_parts(route: str, caller: Caller) -> tuple[str, str, list[tuple[bytes, bytes]], bytes]:
    """Method, path, headers (as a browser sends them: htmx's for the preview) and body."""
    method, path = ROUTES[route]
    headers = [
        (b"host", b"127.0.0.1"),
        (b"user-agent", b"bench"),
        (b"accept", b"text/html,application/json"),
        (b"accept-language", b"en-GB,en;q=0.9"),
        (b"cookie", caller.cookie.encode()),
    ]
    body = b""
    if method == "POST":
        body = urllib.parse.urlencode(PREVIEW_FORM).encode()
        headers += [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
            (b"hx-request", b"true"),
            (b"x-csrf-token", caller.csrf.encode()),
        ]
    return method, path, headers, body


# ----------------------------------------------------------------------------- in-process


async def asgi_call(app: Any, state: dict[str, Any], route: str, caller: Caller) -> int:
    """One request straight to the ASGI app (a scope as uvicorn makes it); its status."""
    method, path, headers, body = request_parts(route, caller)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "state": state.copy(),
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


@contextmanager
def inline_thread_pool() -> Iterator[None]:
    """Run the thread pool's work in the calling thread (for a profile that sees it)."""
    import anyio.to_thread

    original = anyio.to_thread.run_sync

    async def inline(func: Callable[..., Any], *args: Any, **_: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]
    try:
        yield
    finally:
        anyio.to_thread.run_sync = original


async def in_process(
    url: str, people: list[Caller], routes: list[str], n: int, profile: str | None
) -> dict[str, float]:
    from benzotaper.web import WebSettings, create_app

    settings = WebSettings(database_url=url, push_reminders=False, migrate_on_start=False)
    app = create_app(settings)
    out: dict[str, float] = {}
    async with app.router.lifespan_context(app) as lifespan_state:
        state = dict(lifespan_state or {})

        async def batch(route: str, count: int) -> None:
            for i in range(count):
                status = await asgi_call(app, state, route, people[i % len(people)])
                if status != 200:
                    raise SystemExit(f"{route}: answered {status}")

        for route in routes:
            await batch(route, 2 * len(people))  # every person's answer made once
            runs = []
            for _ in range(BATCHES):
                c0 = time.process_time()
                await batch(route, n // BATCHES)
                runs.append((time.process_time() - c0) * 1000 / (n // BATCHES))
            out[route] = min(runs)
        if profile:
            await profiled(batch, profile, n)
    return out


async def profiled(batch: Callable[[str, int], Awaitable[None]], route: str, n: int) -> None:
    profiler = cProfile.Profile()
    with inline_thread_pool():
        await batch(route, n // 4)
        profiler.enable()
        await batch(route, n)
        profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    print(f"\n--- profile of {route}: {n} requests (thread pool inline) ---")
    stats.sort_stats("tottime").print_stats(35)
    stats.sort_stats("cumulative").print_stats(60)


# ----------------------------------------------------------------------------- real server


def over_http(base: str, meter: CpuMeter, people: list[Caller], route: str, n: int) -> float:
    """The server's CPU ms per request, one client on one kept-alive connection."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)

    def ask(caller: Caller) -> None:
        method, path, headers, body = request_parts(route, caller)
        named = {k.decode(): v.decode() for k, v in headers if k != b"host"}
        connection.request(method, path, body=body or None, headers=named)
        answer = connection.getresponse()
        answer.read()
        if answer.status != 200:
            raise SystemExit(f"{route}: answered {answer.status}")

    for i in range(2 * len(people)):
        ask(people[i % len(people)])
    runs = []
    for _ in range(BATCHES):
        cpu0 = meter.ms()
        for i in range(n // BATCHES):
            ask(people[i % len(people)])
        runs.append((meter.ms() - cpu0) / (n // BATCHES))
    connection.close()
    return min(runs)


def raw_request(route: str, caller: Caller) -> bytes:
    """The request as bytes on the wire (HTTP/1.1, kept alive)."""
    method, path, headers, body = request_parts(route, caller)
    lines = [f"{method} {path} HTTP/1.1".encode()] + [k + b": " + v for k, v in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def concurrently(
    base: str, meter: CpuMeter, people: list[Caller], route: str, n: int, clients: int
) -> tuple[float, float, list[float]]:
    """The server's CPU ms per request with ``clients`` connections each sending its next
    request as soon as the last is answered (a closed loop, as ``bench_load``'s), from a
    minimal client (raw sockets, one prebuilt request each); that client's own CPU ms per
    request; and the requests' times in ms (all batches), sorted."""
    host, port = base.removeprefix("http://").split(":")
    wire = [raw_request(route, people[i % len(people)]) for i in range(clients)]
    left = [0]
    times: list[float] = []

    async def client(request: bytes) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        while left[0] > 0:
            left[0] -= 1
            t0 = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise SystemExit(f"{route}: {head[:40]!r}")
            size = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(size)
            times.append((time.perf_counter() - t0) * 1000)
        writer.close()

    left[0] = 2 * clients  # every person's answer made once
    await asyncio.gather(*(client(r) for r in wire))
    times.clear()
    runs = []
    for _ in range(BATCHES):
        left[0] = n // BATCHES
        cpu0, mine0 = meter.ms(), time.process_time()
        await asyncio.gather(*(client(r) for r in wire))
        server, mine = meter.ms() - cpu0, (time.process_time() - mine0) * 1000
        runs.append((server / (n // BATCHES), mine / (n // BATCHES)))
    server, mine = min(runs)
    return server, mine, sorted(times)


def pct(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400, help="measured per route and mode")
    parser.add_argument("--mode", default="asgi,server", help="asgi, server or both")
    parser.add_argument("--only", default="", help="comma-separated route names")
    parser.add_argument("--profile", default=None, metavar="ROUTE")
    parser.add_argument(
        "--clients", type=int, default=50, help="server mode: also this many at once (0: not)"
    )
    args = parser.parse_args()
    routes = [r for r in ROUTES if not args.only or r in args.only.split(",")]
    modes = args.mode.split(",")
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'cpu.sqlite3'}"
    import benzotaper
    from benzotaper.storage import Database

    print(f"benzotaper from {Path(benzotaper.__file__).parent}")
    db = Database(url)
    db.upgrade()
    db.dispose()
    people = callers(url, seed_clinic(url, args.patients)["patient"])
    figures: dict[str, dict[str, float]] = {}
    if "asgi" in modes or args.profile:
        asgi_routes = routes if "asgi" in modes else []
        run = in_process(url, people, asgi_routes, args.requests, args.profile)
        figures["asgi"] = uvloop.run(run)
    if "server" in modes:
        proc, base = start_server(url, 1)
        try:
            meter = CpuMeter(proc.pid, url)
            n = args.requests
            figures["server"] = {r: over_http(base, meter, people, r, n) for r in routes}
            if args.clients:
                both = {
                    r: uvloop.run(concurrently(base, meter, people, r, n, args.clients))
                    for r in routes
                }
                figures[f"server{args.clients}"] = {r: f[0] for r, f in both.items()}
                figures["client"] = {r: f[1] for r, f in both.items()}
                for q in (0.5, 0.99):
                    figures[f"p{q * 100:g} ms"] = {r: pct(f[2], q) for r, f in both.items()}
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    load = os.getloadavg()
    print(f"\nmachine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f}")
    print(f"CPU ms per request ({args.requests} requests per route, {args.patients} patients)")
    print(f"{'route':10s}" + "".join(f" {m:>8s}" for m in figures))
    for route in routes:
        print(f"{route:10s}" + "".join(f" {f[route]:8.2f}" for f in figures.values() if f))
    asgi = figures.get("asgi") or figures.get("server") or {}
    if asgi:
        worst = max(asgi, key=lambda r: asgi[r])
        print(f"route_cpu_worst_ms={asgi[worst]:.2f} worst={worst!r}")


if __name__ == "__main__":
    main()
