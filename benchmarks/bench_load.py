"""Load benchmark: the real server (``benzotaper serve``) driven by an asyncio httpx load generator.

Sets up a small clinic in the server's database: ``--patients`` patients (default 50), each with
a two-year plan started a year ago and a year of journal (two doses, a check-in and a sleep
diary a day, linked to the plan version; rows written in bulk, then each person's summary made
as the migration that introduced summaries makes it), all shared with one clinician. Every
simulated user is signed in as their own patient (user ``i`` is patient ``i``), so no answer is
shared between users. Then, route by route:

1. one client, sequential requests: p50/p99 (the per-page figures);
2. **closed loop** (the issue's literal goal): ``--clients`` users (default 50) each sending
   their next request as soon as the last is answered, no think time, for ``--seconds``;
3. **think time** (how people use pages; Locust's user model): the same number of users, each
   waiting a random 1-2 s (``--think``) between an answer and their next request, for
   ``--think-seconds``.

For each: p50/p95/p99 latency, requests/s and errors, the server's CPU per request (user +
system time of the server and its workers, and of the PostgreSQL backends when the database is
PostgreSQL, divided by the requests answered) and the load generator's own (this process's CPU
time per request: it runs on the same cores, so in the closed loop it competes with the
server). The CPU figure is what the arithmetic needs:
with C cores, a route costing c ms of CPU is served at most C*1000/c times a second, and N
closed-loop clients wait about N*c/C ms each (the goal "50 clients, p99 <= 100 ms" needs
c <= 2 ms per request on one core, 4 ms on two).

Run on SQLite with one worker (default) or PostgreSQL with two::

    .venv/bin/python benchmarks/bench_load.py
    .venv/bin/python benchmarks/bench_load.py --database-url postgresql+psycopg://... --workers 2

Last line: ``load_worst_p99_ms=<closed loop> think_worst_p99_ms=<think time> worst=<route>
errors=<n>``. The machine's load average is printed with the figures: compare runs made at the
same time, not across days.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import os
import random
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

TODAY = dt.date.today()
PLAN_START = TODAY - dt.timedelta(days=365)
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Route:
    name: str
    method: str
    path: str  # "{patient}": the user's own patient's id
    who: str  # patient or clinician
    form: dict[str, str] | None = None
    json: dict[str, object] | None = None


@dataclass
class Result:
    times_ms: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    cpu_ms: float = 0.0  # the server's (and database's) CPU over the run
    client_cpu_ms: float = 0.0  # the load generator's own CPU over the run (this process)
    #: the errors by HTTP status (0: no answer)
    statuses: Counter[int] = field(default_factory=Counter)

    def pct(self, q: float) -> float:
        ordered = sorted(self.times_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    @property
    def rate(self) -> float:
        return len(self.times_ms) / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_request(self) -> float:
        return self.cpu_ms / len(self.times_ms) if self.times_ms else 0.0

    @property
    def client_cpu_per_request(self) -> float:
        return self.client_cpu_ms / len(self.times_ms) if self.times_ms else 0.0


@dataclass
class User:
    """A signed-in person: their cookies, CSRF token and the patient they are or look at."""

    cookies: httpx.Cookies
    csrf: str
    patient: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(url: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "BENZOTAPER_DATABASE_URL": url, "BENZOTAPER_PUSH_REMINDERS": "0"}
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


# ----------------------------------------------------------------------------- CPU


def _tree_cpu_ticks(root: int) -> int:
    """User + system clock ticks of ``root`` and every process below it (from /proc)."""
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parent[int(entry)] = int(fields[1])
        ticks[int(entry)] = int(fields[11]) + int(fields[12])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo += [p for p, pp in parent.items() if pp == pid]
    return total


class CpuMeter:
    """CPU ms used by the server's processes, and by the PostgreSQL server's when the database
    is PostgreSQL (its postmaster: the parent of a backend of ours)."""

    def __init__(self, server_pid: int, url: str) -> None:
        self.roots = [server_pid]
        if url.startswith("postgresql"):
            from sqlalchemy import create_engine, text

            engine = create_engine(url)
            with engine.connect() as conn:
                backend = int(conn.execute(text("select pg_backend_pid()")).scalar_one())
                # read while connected: the backend process ends when the connection closes
                stat = Path(f"/proc/{backend}/stat").read_text()
            engine.dispose()
            self.roots.append(int(stat[stat.rindex(")") + 2 :].split()[1]))

    def ms(self) -> float:
        return sum(_tree_cpu_ticks(r) for r in self.roots) * 1000 / CLK_TCK


# ----------------------------------------------------------------------------- the clinic

DAY_ENTRIES = 4


def _year_rows(user_id: int, version_id: int) -> list[dict[str, object]]:
    from benzotaper.journal.entries import CheckinEntry, DoseEntry, JournalEntry, SleepEntry

    rows: list[dict[str, object]] = []
    for i in range(365):
        day = PLAN_START + dt.timedelta(days=i)
        entries: list[JournalEntry] = [
            DoseEntry(drug="diazepam", mg=5, time=t, planned_time=t, planned_mg=5)
            for t in ("08:00", "20:00")
        ]
        entries.append(CheckinEntry(quick={"anxiety": (i + user_id) % 4, "insomnia": 2}))
        entries.append(
            SleepEntry(
                bed_time="23:00",
                sol_min=20,
                waso_min=20,
                final_wake_time="07:00",
                out_of_bed_time="07:10",
            )
        )
        rows += [
            {
                "user_id": user_id,
                "kind": e.kind,
                "entry_date": day,
                "data": e.model_dump(mode="json"),
                "plan_version_id": version_id,
            }
            for e in entries
        ]
    return rows


def make_clinic(url: str, base: str, patients: int) -> tuple[list[User], list[User]]:
    """The patients (each signed in) and the clinician (signed in once per patient, looking at
    that patient), written straight into the server's database."""
    sessions = seed_clinic(url, patients)
    return signed_in(base, sessions["patient"]), signed_in(base, sessions["clinician"])


def seed_clinic(url: str, patients: int) -> dict[str, list[tuple[str, int]]]:
    """The clinic, written straight into the database: each patient's session token (with their
    id), and the clinician's (one session per patient, with the patient it looks at)."""
    from sqlalchemy import delete, insert, select

    from benzotaper.knowledge import default_knowledge
    from benzotaper.planning.engine import make_plan
    from benzotaper.planning.models import PlanRequest
    from benzotaper.services import summary
    from benzotaper.services.journal import JournalService
    from benzotaper.storage import Database
    from benzotaper.storage.summaries import JournalSummary
    from benzotaper.storage.tables import Entry, PlanVersion
    from benzotaper.storage.tables import User as UserRow
    from benzotaper.web import sharing
    from benzotaper.web.accounts import start_session

    knowledge = default_knowledge()
    db = Database(url)
    journal = JournalService(db, knowledge)
    request = PlanRequest.model_validate(
        {
            "regimen": [
                {"drug": "diazepam", "mg": 10, "time": "08:00"},
                {"drug": "diazepam", "mg": 10, "time": "20:00"},
            ],
            "person": {"age": 50, "years_on_drug": 5},
            "preferences": {"pace": "slow", "start": PLAN_START.isoformat()},
        }
    )
    plan = make_plan(request, knowledge, today=PLAN_START)
    print(f"plan: {plan.summary.start} to {plan.summary.end}, {len(plan.steps)} steps")
    tag = os.urandom(4).hex()
    t0 = time.perf_counter()
    doctor = journal.create_user(email=f"doc-{tag}@example.org", role="clinician")
    ids = []
    for n in range(patients):
        pid = journal.create_user(email=f"pat{n}-{tag}@example.org", display_name=f"Pat {n}")
        saved = journal.save_plan(pid, plan, reason="bench")
        with db.transaction() as s:
            version = s.scalar(select(PlanVersion.id).where(PlanVersion.uid == saved.uid))
            assert version is not None
            s.execute(insert(Entry), _year_rows(pid, version))
            s.execute(delete(JournalSummary).where(JournalSummary.user_id == pid))
            sharing.redeem_invite(s, doctor, sharing.create_invite(s, pid))
        ids.append(pid)
    with db.transaction() as s:  # each person's summary, as the migration makes it
        summary.backfill(s, lambda: (knowledge.adaptive, knowledge.scales))
    sessions: dict[str, list[tuple[str, int]]] = {"patient": [], "clinician": []}
    with db.transaction() as s:
        for pid in ids:
            patient = s.get_one(UserRow, pid)
            sessions["patient"].append((start_session(s, patient, 1), pid))
            sessions["clinician"].append((start_session(s, s.get_one(UserRow, doctor), 1), pid))
    db.dispose()
    print(
        f"clinic: {patients} patients x {365 * DAY_ENTRIES} entries, shared with one clinician, "
        f"made in {time.perf_counter() - t0:.1f} s"
    )
    return sessions


def signed_in(base: str, sessions: list[tuple[str, int]]) -> list[User]:
    from benzotaper.web.accounts import SESSION_COOKIE

    users = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for token, pid in sessions:
            cookies = httpx.Cookies()
            cookies.set(SESSION_COOKIE, token, domain="127.0.0.1")
            client.cookies = cookies
            csrf: str = client.get("/api/session").json()["csrf_token"]
            users.append(User(cookies=cookies, csrf=csrf, patient=pid))
    return users


# ----------------------------------------------------------------------------- routes

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


def routes() -> list[Route]:
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
        Route("preview", "POST", "/plan/preview", "patient", form=PREVIEW_FORM),
        Route(
            "journal write",
            "POST",
            "/api/journal/entries",
            "patient",
            json={"entry": dose, "confirm": True},  # 5 mg may differ from the day's step
        ),
        Route("clinician list", "GET", "/clinician", "clinician"),
        Route("patient view", "GET", "/clinician/patients/{patient}", "clinician"),
    ]


async def one(client: httpx.AsyncClient, route: Route, user: User) -> tuple[float, int]:
    """The request's time in ms and its HTTP status (0: no answer)."""
    headers = {"X-CSRF-Token": user.csrf} if route.method == "POST" else {}
    path = route.path.format(patient=user.patient)
    t0 = time.perf_counter()
    try:
        r = await client.request(
            route.method, path, data=route.form, json=route.json, headers=headers
        )
        status = r.status_code
    except httpx.HTTPError:
        status = 0
    return (time.perf_counter() - t0) * 1000, status


async def drive(
    base: str,
    users: list[User],
    route: Route,
    seconds: float | None,
    requests: int | None,
    think: tuple[float, float] | None,
    meter: CpuMeter,
) -> Result:
    """Each user sends ``route`` over their own connection until ``seconds`` have passed (or
    ``requests`` were sent in all); with ``think``, waiting a random time between an answer and
    their next request."""
    result = Result()
    clients = [httpx.AsyncClient(base_url=base, cookies=u.cookies, timeout=120) for u in users]
    rng = random.Random(17)
    try:
        cpu0, start, client0 = meter.ms(), time.perf_counter(), time.process_time()
        deadline = start + (seconds or 1e9)
        left = [requests or 10**9]

        async def user_loop(client: httpx.AsyncClient, user: User) -> None:
            if think:  # users arrive over the first think time, not all at once
                await asyncio.sleep(rng.uniform(0, think[1]))
            while time.perf_counter() < deadline and left[0] > 0:
                left[0] -= 1
                ms, status = await one(client, route, user)
                result.times_ms.append(ms)
                if not 0 < status < 400:
                    result.errors += 1
                    result.statuses[status] += 1
                if think:
                    await asyncio.sleep(rng.uniform(*think))

        await asyncio.gather(*(user_loop(c, u) for c, u in zip(clients, users, strict=True)))
        result.seconds = time.perf_counter() - start
        result.cpu_ms = meter.ms() - cpu0
        result.client_cpu_ms = (time.process_time() - client0) * 1000
    finally:
        for c in clients:
            await c.aclose()
    return result


def run_route(
    base: str, route: Route, users: list[User], args: argparse.Namespace, meter: CpuMeter
) -> tuple[Result, Result, Result]:
    single = asyncio.run(drive(base, users[:1], route, None, args.single, None, meter))
    closed = asyncio.run(drive(base, users, route, args.seconds, None, None, meter))
    think = (args.think[0], args.think[1])
    paced = asyncio.run(drive(base, users, route, args.think_seconds, None, think, meter))
    return single, closed, paced


def print_table(
    table: list[tuple[Route, Result, Result, Result]], args: argparse.Namespace
) -> None:
    load = os.getloadavg()
    print(f"\nmachine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f}")
    print(
        f"workers: {args.workers}; {args.clients} users, each signed in as their own patient; "
        f"think time {args.think[0]:g}-{args.think[1]:g} s"
    )
    head = f"{'p50':>6s} {'p95':>6s} {'p99':>6s} {'req/s':>6s} {'CPU':>5s} {'cli':>5s} {'err':>3s}"
    print(f"{'':15s} | 1 client      | closed loop (no think time)            | think time")
    print(f"{'route':15s} | {'p50':>5s} {'CPU':>5s}   | {head} | {head}")
    for route, single, closed, paced in table:
        cells = [f"{statistics.median(single.times_ms):5.0f} {single.cpu_per_request:5.1f}  "]
        for r in (closed, paced):
            cells.append(
                f"{r.pct(0.5):6.0f} {r.pct(0.95):6.0f} {r.pct(0.99):6.0f} {r.rate:6.1f} "
                f"{r.cpu_per_request:5.1f} {r.client_cpu_per_request:5.1f} {r.errors:3d}"
            )
        errors = single.statuses + closed.statuses + paced.statuses
        print(f"{route.name:15s} | " + " | ".join(cells) + (f"  {dict(errors)}" if errors else ""))
    print(
        "(ms; CPU: the server's CPU ms per request, database server included; cli: the load "
        "generator's own, on the same cores)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=50, help="simulated users")
    parser.add_argument("--patients", type=int, default=None, help="default: --clients")
    parser.add_argument("--seconds", type=float, default=8.0, help="closed loop, per route")
    parser.add_argument("--think-seconds", type=float, default=12.0, help="per route")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 2.0), metavar=("MIN", "MAX"))
    parser.add_argument("--single", type=int, default=20, help="sequential requests per route")
    parser.add_argument("--only", default="", help="comma-separated route names")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'load.sqlite3'}"
    proc, base = start_server(url, args.workers)
    try:
        patients, clinician = make_clinic(url, base, args.patients or args.clients)
        users = {
            "patient": [patients[i % len(patients)] for i in range(args.clients)],
            "clinician": [clinician[i % len(clinician)] for i in range(args.clients)],
        }
        meter = CpuMeter(proc.pid, url)
        # The load generator's own full garbage collections walked the clinic it had just
        # made (plans, the knowledge): one took 399 ms in the middle of a closed-loop run,
        # added to the time of every request in flight. What is made so far is kept, frozen.
        gc.collect()
        gc.freeze()
        table = []
        wanted = set(args.only.split(",")) if args.only else None
        for route in routes():
            if wanted is None or route.name in wanted:
                table.append((route, *run_route(base, route, users[route.who], args, meter)))
        print_table(table, args)
        worst = max(table, key=lambda t: t[2].pct(0.99))
        errors = sum(t[1].errors + t[2].errors + t[3].errors for t in table)
        print(
            f"load_worst_p99_ms={worst[2].pct(0.99):.0f} "
            f"think_worst_p99_ms={max(t[3].pct(0.99) for t in table):.0f} "
            f"worst={worst[0].name!r} errors={errors}"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
