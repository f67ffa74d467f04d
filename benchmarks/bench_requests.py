"""What one request costs the server and the database, route by route, whatever the machine's load.

The clinic of ``bench_load`` (``--patients`` patients with a year of journal, shared with one
clinician; each user signed in as their own patient) in the server's database, and the app in
this process (Starlette's TestClient: every middleware, the session check, the database; no
network). Each route is asked ``--runs`` times in turn by the users, one request at a time,
after one warm-up round, and for each request:

- **CPU ms** of this process (``time.process_time``: the app, and the test client's own small
  share, the same for every route);
- **database CPU ms** (PostgreSQL): user + system time of the PostgreSQL server's processes
  (from /proc; the server must be on this machine), which the app's CPU does not include;
- **statements** and **round trips** that reached the database, read below the driver
  (``tests/dbwire``: SQLite's trace callback, libpq's protocol trace), BEGIN and COMMIT
  included; a round trip is a wait for the database's answer.

These figures do not depend on the machine's load the way latencies do (CPU time still grows
somewhat with it: caches are shared); compare runs made on the same machine::

    .venv/bin/python benchmarks/bench_requests.py [--database-url postgresql+psycopg://...]

Last line: ``requests_worst_cpu_ms=<x> worst=<route> statements=<n per route, in order>``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient

from bench_load import CLK_TCK, Route, _tree_cpu_ticks, routes, seed_clinic
from benzotaper.web import WebSettings, create_app
from benzotaper.web.accounts import SESSION_COOKIE

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.dbwire import wire


@dataclass
class Cost:
    cpu_ms: list[float] = field(default_factory=list)
    db_cpu_ms: float = 0.0
    statements: int = 0
    round_trips: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


def postmaster(url: str) -> int | None:
    """The PostgreSQL server's main process (the parent of a backend of ours), or None."""
    if not url.startswith("postgresql"):
        return None
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        backend = int(conn.execute(text("select pg_backend_pid()")).scalar_one())
        stat = Path(f"/proc/{backend}/stat").read_text()
    engine.dispose()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def client_for(app: object, token: str) -> tuple[TestClient, str]:
    client = TestClient(app)  # type: ignore[arg-type]
    client.cookies.set(SESSION_COOKIE, token)
    csrf: str = client.get("/api/session").json()["csrf_token"]
    return client, csrf


def ask(client: TestClient, csrf: str, route: Route, patient: int) -> None:
    headers = {"X-CSRF-Token": csrf} if route.method == "POST" else {}
    r = client.request(
        route.method,
        route.path.format(patient=patient),
        data=route.form,
        json=route.json,
        headers=headers,
    )
    if r.status_code >= 400:
        raise SystemExit(f"{route.name}: {r.status_code} {r.text[:300]}")


def measure(
    app: object,
    route: Route,
    users: list[tuple[TestClient, str, int]],
    runs: int,
    server: int | None,
) -> Cost:
    cost = Cost()
    db = app.state.db  # type: ignore[attr-defined]
    for client, csrf, patient in users:  # warm: each user's first request
        ask(client, csrf, route, patient)
    ticks0 = _tree_cpu_ticks(server) if server else 0
    with wire(db.engine) as seen:
        for i in range(runs):
            client, csrf, patient = users[i % len(users)]
            c0 = time.process_time()
            ask(client, csrf, route, patient)
            cost.cpu_ms.append((time.process_time() - c0) * 1000)
    if server:
        cost.db_cpu_ms = (_tree_cpu_ticks(server) - ticks0) * 1000 / CLK_TCK / runs
    cost.statements, cost.round_trips = len(seen.statements), seen.round_trips
    for statement in seen.statements:
        word = statement.split(None, 1)[0].upper() if statement.strip() else "?"
        cost.kinds[word] = cost.kinds.get(word, 0) + 1
    return cost


def print_statements(app: object, route: Route, user: tuple[TestClient, str, int]) -> None:
    """The statements of one more request of ``route`` (a prepared statement: by its name)."""
    with wire(app.state.db.engine) as seen:  # type: ignore[attr-defined]
        ask(user[0], user[1], route, user[2])
    for statement in seen.statements:
        print(f"    {' '.join(statement.split())[:150]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--patients", type=int, default=30)
    parser.add_argument("--runs", type=int, default=200, help="requests per route")
    parser.add_argument("--only", default="", help="comma-separated route names")
    parser.add_argument("--show", action="store_true", help="print each route's statements")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'requests.sqlite3'}"
    settings = WebSettings(database_url=url, push_reminders=False)
    app = create_app(settings)
    with TestClient(app):  # the app's start-up (migrations) before the clinic is written
        sessions = seed_clinic(url, args.patients)
    server = postmaster(url)
    signed = {
        who: [(*client_for(app, token), pid) for token, pid in tokens]
        for who, tokens in sessions.items()
    }
    wanted = set(args.only.split(",")) if args.only else None
    load = os.getloadavg()
    print(f"\nmachine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f}")
    print(f"database: {app.state.db.engine.dialect.name}; {args.runs} requests per route")
    print(
        f"{'route':15s} {'CPU p50':>8s} {'mean':>6s} {'db CPU':>7s} {'stmts':>6s} "
        f"{'trips':>6s}  statements by kind"
    )
    table = []
    for route in routes():
        if wanted is not None and route.name not in wanted:
            continue
        cost = measure(app, route, signed[route.who], args.runs, server)
        per = args.runs
        kinds = " ".join(f"{k}:{v / per:g}" for k, v in sorted(cost.kinds.items()))
        print(
            f"{route.name:15s} {statistics.median(cost.cpu_ms):8.2f} "
            f"{statistics.fmean(cost.cpu_ms):6.2f} {cost.db_cpu_ms:7.2f} "
            f"{cost.statements / per:6.2f} {cost.round_trips / per:6.2f}  {kinds}"
        )
        table.append((route, cost))
        if args.show:
            print_statements(app, route, signed[route.who][0])
    load = os.getloadavg()
    print("(per request; CPU: this process, ms; db CPU: the PostgreSQL server's, ms)")
    print(f"load average after: {load[0]:.2f} {load[1]:.2f}")
    worst = max(table, key=lambda t: statistics.fmean(t[1].cpu_ms))
    counts = ",".join(f"{t[1].statements / args.runs:g}" for t in table)
    print(
        f"requests_worst_cpu_ms={statistics.fmean(worst[1].cpu_ms):.2f} "
        f"worst={worst[0].name!r} statements={counts}"
    )


if __name__ == "__main__":
    main()
