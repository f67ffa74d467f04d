"""Load benchmark: the real server (``benzotaper serve``) driven by an asyncio httpx load generator.

Sets up one patient with a two-year plan started a year ago and a year of journal (two doses, a
check-in and a sleep diary a day, each entry linked to the plan version, written through the
journal store as the app writes them), shared with a clinician. Then, per route:

1. one client, sequential requests: p50/p99 at the server (issue 14's per-page figures);
2. ``--clients`` concurrent clients (default 50) for ``--seconds`` each: p50/p95/p99, requests/s
   and errors (issue 17's goals: p99 <= 100 ms, 0 errors).

Run on SQLite with one worker (default) or PostgreSQL with two::

    .venv/bin/python benchmarks/bench_load.py
    .venv/bin/python benchmarks/bench_load.py --database-url postgresql+psycopg://... --workers 2

Last line: ``load_worst_p99_ms=<x> worst="<route>" errors=<n>``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PASSWORD = "correct horse battery staple"
TODAY = dt.date.today()
PLAN_START = TODAY - dt.timedelta(days=365)


@dataclass
class Route:
    name: str
    method: str
    path: str
    who: str  # patient or clinician
    form: dict[str, str] | None = None
    json: dict[str, object] | None = None


@dataclass
class Result:
    times_ms: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    #: the errors by HTTP status (0: no answer)
    statuses: Counter[int] = field(default_factory=Counter)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(url: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "BENZOTAPER_DATABASE_URL": url, "BENZOTAPER_LOGIN_MAX_FAILURES": "1000"}
    args = ["serve", "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "benzotaper", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + "/", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def signup(client: httpx.Client, email: str, role: str) -> int:
    csrf = client.get("/api/session").json()["csrf_token"]
    r = client.post(
        "/api/users",
        json={"email": email, "password": PASSWORD, "role": role, "display_name": email[:12]},
        headers={"X-CSRF-Token": csrf},
    )
    r.raise_for_status()
    user_id: int = r.json()["user"]["id"]
    return user_id


def csrf(client: httpx.Client) -> str:
    token: str = client.get("/api/session").json()["csrf_token"]
    return token


def setup(base: str, url: str) -> tuple[httpx.Client, httpx.Client, int]:
    """A patient with a 2-year plan and a year of journal, shared with a clinician."""
    from benzotaper.journal.entries import CheckinEntry, DoseEntry, SleepEntry
    from benzotaper.storage import Database
    from benzotaper.storage.journal import JournalRepository

    patient = httpx.Client(base_url=base, timeout=60)
    clinician = httpx.Client(base_url=base, timeout=60)
    tag = os.urandom(4).hex()
    patient_id = signup(patient, f"pat-{tag}@example.org", "patient")
    signup(clinician, f"doc-{tag}@example.org", "clinician")
    request = {
        "regimen": [
            {"drug": "diazepam", "mg": 10, "time": "08:00"},
            {"drug": "diazepam", "mg": 10, "time": "20:00"},
        ],
        "person": {"age": 50, "years_on_drug": 5},
        "preferences": {"pace": "slow", "start": PLAN_START.isoformat()},
    }
    r = patient.post(
        "/api/plans", json={"request": request}, headers={"X-CSRF-Token": csrf(patient)}
    )
    r.raise_for_status()
    db = Database(url)
    with db.read() as s:
        active = JournalRepository(s).active_plan(patient_id)
    assert active is not None
    print(
        f"plan: {active.plan.summary.start} to {active.plan.summary.end}, "
        f"{len(active.plan.steps)} steps"
    )
    t0 = time.perf_counter()
    for i in range(365):
        day = PLAN_START + dt.timedelta(days=i)
        entries = [
            DoseEntry(drug="diazepam", mg=5, time=t, planned_time=t, planned_mg=5)
            for t in ("08:00", "20:00")
        ]
        entries.append(CheckinEntry(quick={"anxiety": i % 4, "insomnia": 2}))
        entries.append(
            SleepEntry(
                bed_time="23:00",
                sol_min=20,
                waso_min=20,
                final_wake_time="07:00",
                out_of_bed_time="07:10",
            )
        )
        for e in entries:
            with db.transaction() as s:
                JournalRepository(s).add_entry(patient_id, day, e, plan_version_uid=active.uid)
    print(f"journal: 1460 entries written in {time.perf_counter() - t0:.1f} s")
    code = patient.post("/api/shares", headers={"X-CSRF-Token": csrf(patient)}).json()["code"]
    clinician.post(
        "/api/patients", json={"code": code}, headers={"X-CSRF-Token": csrf(clinician)}
    ).raise_for_status()
    db.dispose()
    return patient, clinician, patient_id


#: The builder form both load benchmarks preview (bench_pages imports it).
PREVIEW_FORM = {
    "drug_0": "diazepam",
    "dose_0": "10 mg",
    "time_0": "08:00",
    "drug_1": "diazepam",
    "dose_1": "10 mg",
    "time_1": "20:00",
    "age": "50",
    "years_on_drug": "5",
    "pace": "slow",
}


def routes(patient_id: int) -> list[Route]:
    preview = PREVIEW_FORM
    dose = {
        "kind": "dose",
        "drug": "diazepam",
        "mg": 5,
        "time": "08:00",
        "planned_time": "08:00",
        "planned_mg": 5,
    }
    return [
        Route("Today", "GET", "/today", "patient"),
        Route("My plan", "GET", "/my-plan", "patient"),
        Route("Journal", "GET", "/journal", "patient"),
        Route("status", "GET", "/api/status", "patient"),
        Route("preview", "POST", "/plan/preview", "patient", form=preview),
        Route(
            "journal write",
            "POST",
            "/api/journal/entries",
            "patient",
            json={"entry": dose, "confirm": True},  # 5 mg may differ from the day's step
        ),
        Route("clinician list", "GET", "/clinician", "clinician"),
        Route("patient view", "GET", f"/clinician/patients/{patient_id}", "clinician"),
    ]


async def one(client: httpx.AsyncClient, route: Route, token: str) -> tuple[float, int]:
    """The request's time in ms and its HTTP status (0: no answer)."""
    headers = {"X-CSRF-Token": token} if route.method == "POST" else {}
    t0 = time.perf_counter()
    try:
        r = await client.request(
            route.method, route.path, data=route.form, json=route.json, headers=headers
        )
        status = r.status_code
    except httpx.HTTPError:
        status = 0
    return (time.perf_counter() - t0) * 1000, status


async def drive(
    base: str,
    cookies: httpx.Cookies,
    token: str,
    route: Route,
    clients: int,
    seconds: float | None,
    requests: int | None,
) -> Result:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    result = Result()
    async with httpx.AsyncClient(
        base_url=base, cookies=cookies, timeout=120, limits=limits
    ) as client:
        start = time.perf_counter()
        deadline = start + (seconds or 1e9)
        left = [requests or 10**9]

        async def worker() -> None:
            while time.perf_counter() < deadline and left[0] > 0:
                left[0] -= 1
                ms, status = await one(client, route, token)
                result.times_ms.append(ms)
                if not 0 < status < 400:
                    result.errors += 1
                    result.statuses[status] += 1

        await asyncio.gather(*(worker() for _ in range(clients)))
        result.seconds = time.perf_counter() - start
    return result


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--single", type=int, default=30, help="sequential requests per page")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'load.sqlite3'}"
    proc, base = start_server(url, args.workers)
    try:
        patient, clinician, patient_id = setup(base, url)
        who = {
            "patient": (patient.cookies, csrf(patient)),
            "clinician": (clinician.cookies, csrf(clinician)),
        }
        table = []
        for route in routes(patient_id):
            cookies, token = who[route.who]
            if (
                route.method == "GET"
                and patient.get(route.path).status_code == 404
                and (route.who == "patient")
            ):
                print(f"{route.name}: {route.path} is not served here, skipped")
                continue
            single = asyncio.run(drive(base, cookies, token, route, 1, None, args.single))
            loaded = asyncio.run(
                drive(base, cookies, token, route, args.clients, args.seconds, None)
            )
            table.append((route, single, loaded))
        load = os.getloadavg()
        print(f"\nmachine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f}")
        print(
            f"{'route':15s} | 1 client: {'p50':>7s} {'p99':>7s} | {args.clients} clients: "
            f"{'p50':>7s} {'p95':>7s} {'p99':>7s} {'req/s':>7s} {'errors':>6s}"
        )
        for route, single, loaded in table:
            print(
                f"{route.name:15s} | {'':10s}{statistics.median(single.times_ms):6.0f}ms "
                f"{pct(single.times_ms, 0.99):6.0f}ms | {'':12s}"
                f"{statistics.median(loaded.times_ms):6.0f}ms {pct(loaded.times_ms, 0.95):6.0f}ms "
                f"{pct(loaded.times_ms, 0.99):6.0f}ms "
                f"{len(loaded.times_ms) / loaded.seconds:7.1f} {loaded.errors:6d}"
                + (f"  {dict(loaded.statuses + single.statuses)}" if loaded.errors else "")
            )
        worst = max(table, key=lambda t: pct(t[2].times_ms, 0.99))
        errors = sum(t[2].errors + t[1].errors for t in table)
        print(
            f"load_worst_p99_ms={pct(worst[2].times_ms, 0.99):.0f} worst={worst[0].name!r} "
            f"errors={errors}"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
