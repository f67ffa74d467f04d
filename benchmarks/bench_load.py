"""Load benchmark: the real server (``benzotaper serve``) driven by wrk, a load generator in C.

Sets up a small clinic in the server's database: ``--patients`` patients (default 50), each with
a two-year plan started a year ago and a year of journal (two doses, a check-in and a sleep
diary a day, linked to the plan version; rows written in bulk, then each person's summary made
as the migration that introduced summaries makes it), all shared with one clinician. Every
simulated user is signed in as their own patient (user ``i`` is patient ``i``), so no answer is
shared between users. Then, route by route, after each user's request was sent once and
answered 2xx (a figure of error pages would flatter):

1. one client on one connection, for ``--single-seconds``: p50 and CPU (the per-page figures);
2. **closed loop** (the issue's literal goal): ``--clients`` connections (default 50), each
   its own signed-in user, each sending its next request as soon as the last is answered, no
   think time, for ``--seconds``;
3. **think time** (how people use pages; Locust's user model): the same connections, each
   waiting a random 1-2 s (``--think``) before each request, for ``--think-seconds``.

For each: p50/p95/p99 latency, requests/s and errors (no answer, a timeout, or an answer other
than 2xx), the server's CPU per request (user + system time of the server and its workers, and
of the PostgreSQL server when the database is PostgreSQL, divided by the requests answered)
and the load generator's own (wrk's CPU time per request: it runs on the same cores, so in the
closed loop it competes with the server; the Python httpx client used before spent 2.0-3.6 ms
per request, as much as the server, and the figures measured it as much as the server). The
load average before each route is printed with its figures. The CPU figure is what the
arithmetic needs: with C cores, a route costing c ms of CPU is served at most C*1000/c times a
second, and N closed-loop clients wait about N*c/C ms each (the goal "50 clients, p99 <= 100
ms" needs c <= 2 ms per request on one core, 4 ms on two).

wrk (https://github.com/wg/wrk) must be on the PATH: ``apt-get install wrk`` (Debian, Ubuntu)
or ``brew install wrk``; without it the benchmark says so and measures nothing. Each route's
requests are a generated Lua script (``LUA``): wrk thread ``i`` has one connection and sends
user ``i``'s path, cookies, CSRF header and body.

Run on SQLite with one worker (default) or PostgreSQL with two::

    .venv/bin/python benchmarks/bench_load.py
    .venv/bin/python benchmarks/bench_load.py --database-url postgresql+psycopg://... --workers 2

Last line: ``load_worst_p99_ms=<closed loop> think_worst_p99_ms=<think time> worst=<route>
errors=<n> requests=<n>``. Compare runs made at the same time on an otherwise idle machine, not
across days.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass
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


# ----------------------------------------------------------------------------- wrk

WRK_MISSING = (
    "bench_load drives the server with wrk, a load generator written in C whose own CPU per "
    "request is small beside the server's (the Python client it replaced spent 2.0-3.6 ms per "
    "request on the same cores as the server). Install it: `apt-get install wrk` (Debian, "
    "Ubuntu) or `brew install wrk` (macOS); nothing was measured."
)

#: wrk's script for one route and phase: connection ``i`` is a thread of its own (``-t`` equals
#: ``-c``), and thread ``i`` sends user ``i``'s request, made once in ``init``: their path, their
#: cookies, their CSRF header and the body. An answer other than 2xx counts as an error.
#: ``delay`` (think time) also delays each connection's first request: users arrive over it.
LUA = """\
-- written by benchmarks/bench_load.py: {route}
local users = {{
{users}
}}
local think = {think}
local made = 0
local threads = {{}}

function setup(thread)
  made = made + 1
  thread:set("me", made)
  table.insert(threads, thread)
end

function init(args)
  local user = users[(me - 1) % #users + 1]
  wrk.method = {method}
  wrk.path = user.path
  wrk.body = user.body
  for name, value in pairs(user.headers) do
    wrk.headers[name] = value
  end
  not_2xx = 0
  math.randomseed(me)
end

if think then
  function delay()
    return math.random(think[1], think[2])
  end
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    not_2xx = not_2xx + 1
  end
end

function done(summary, latency, requests)
  local not_2xx = 0
  for _, thread in ipairs(threads) do
    not_2xx = not_2xx + thread:get("not_2xx")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH_LOAD %d %d %d %d %d %d %d %d %d %d %d\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, not_2xx,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""
_FIELDS = ("requests", "duration_us", "connect", "read", "write", "timeout", "not_2xx")


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit(WRK_MISSING)
    return found


def lua_string(text: str) -> str:
    """``text`` as a Lua string literal (the requests are printable ASCII)."""
    if not (text.isascii() and text.isprintable()):
        raise ValueError(f"not printable ASCII: {text[:40]!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def request_parts(route: Route, user: User) -> tuple[str, dict[str, str], str]:
    """The path, headers and body ``user`` sends for ``route`` (as a browser would: their
    cookies; for a POST their CSRF token and the form or JSON body)."""
    headers = {"Cookie": "; ".join(f"{c.name}={c.value}" for c in user.cookies.jar)}
    body = ""
    if route.method == "POST":
        headers["X-CSRF-Token"] = user.csrf
        if route.form is not None:
            body, kind = urllib.parse.urlencode(route.form), "application/x-www-form-urlencoded"
        else:
            body, kind = json.dumps(route.json), "application/json"
        headers["Content-Type"] = kind
    return route.path.format(patient=user.patient), headers, body


def lua_script(route: Route, users: list[User], think: tuple[float, float] | None) -> str:
    rows = []
    for user in users:
        path, headers, body = request_parts(route, user)
        named = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
        rows.append(
            f"  {{path = {lua_string(path)}, body = {lua_string(body) if body else 'nil'}, "
            f"headers = {{{named}}}}},"
        )
    pause = f"{{{round(think[0] * 1000)}, {round(think[1] * 1000)}}}" if think else "nil"
    return LUA.format(
        route=route.name, users="\n".join(rows), think=pause, method=lua_string(route.method)
    )


@dataclass
class Result:
    """One wrk run: its counts, latency percentiles (ms) and the CPU spent on each side."""

    requests: int
    seconds: float
    p50: float
    p95: float
    p99: float
    worst: float
    errors: Counter[str]
    cpu_ms: float  # the server's (and database's) CPU over the run
    client_cpu_ms: float  # wrk's own CPU over the run

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_request(self) -> float:
        return self.cpu_ms / self.requests if self.requests else 0.0

    @property
    def client_cpu_per_request(self) -> float:
        return self.client_cpu_ms / self.requests if self.requests else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def _children_cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def run_wrk(
    base: str,
    route: Route,
    users: list[User],
    seconds: int,
    think: tuple[float, float] | None,
    meter: CpuMeter,
) -> Result:
    """``len(users)`` connections, each its own user, for ``seconds``: in a closed loop (each
    sends its next request as soon as the last is answered) or, with ``think``, waiting a
    random time between an answer and the next request."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(route, users, think))
    n = str(len(users))
    command = [wrk_binary(), "-t", n, "-c", n, "-d", f"{seconds}s", "--timeout", "60s"]
    try:
        cpu0, client0 = meter.ms(), _children_cpu_ms()
        done = subprocess.run(
            [*command, "-s", script.name, base], capture_output=True, text=True, check=True
        )
        cpu, client = meter.ms() - cpu0, _children_cpu_ms() - client0
    finally:
        os.unlink(script.name)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_LOAD ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no figures:\n{done.stdout}\n{done.stderr}")
    figures = [int(float(x)) for x in line.split()[1:]]
    counts = dict(zip(_FIELDS, figures, strict=False))
    p50, p95, p99, worst = (us / 1000 for us in figures[len(_FIELDS) :])
    errors = Counter({k: counts[k] for k in _FIELDS[2:] if counts[k]})
    return Result(
        counts["requests"], counts["duration_us"] / 1e6, p50, p95, p99, worst, errors, cpu, client
    )


# ----------------------------------------------------------------------------- the run


def warm(base: str, route: Route, users: list[User]) -> None:
    """Each user's request once, checked: the figures are of answers, not of error pages (and
    each answer is then made once, as for people who have been here before)."""
    with httpx.Client(base_url=base, timeout=120) as client:
        for user in users:
            path, headers, body = request_parts(route, user)
            r = client.request(route.method, path, headers=headers, content=body or None)
            if not r.is_success:
                raise SystemExit(f"{route.name}: {r.status_code} {r.text[:300]}")


@dataclass
class Row:
    route: Route
    load: float  # the machine's 1-minute load average before the route's runs
    single: Result | None
    closed: Result
    paced: Result | None

    def results(self) -> list[Result]:
        return [r for r in (self.single, self.closed, self.paced) if r is not None]


def run_route(
    base: str, route: Route, users: list[User], args: argparse.Namespace, meter: CpuMeter
) -> Row:
    load = os.getloadavg()[0]
    warm(base, route, users)
    single = None
    if args.single_seconds > 0:
        single = run_wrk(base, route, users[:1], args.single_seconds, None, meter)
    closed = run_wrk(base, route, users, args.seconds, None, meter)
    paced = None
    if args.think_seconds > 0:
        think = (args.think[0], args.think[1])
        paced = run_wrk(base, route, users, args.think_seconds, think, meter)
    return Row(route, load, single, closed, paced)


def print_table(table: list[Row], args: argparse.Namespace) -> None:
    load = os.getloadavg()
    version = subprocess.run([wrk_binary(), "--version"], capture_output=True, text=True)
    print(f"\nmachine: {os.cpu_count()} cores, load average now {load[0]:.2f} {load[1]:.2f}")
    print(f"load generator: {(version.stdout or version.stderr).splitlines()[0]}")
    print(
        f"workers: {args.workers}; {args.clients} connections, each its own signed-in user; "
        f"think time {args.think[0]:g}-{args.think[1]:g} s"
    )
    head = f"{'p50':>6s} {'p95':>6s} {'p99':>6s} {'req/s':>6s} {'CPU':>5s} {'cli':>5s} {'err':>3s}"
    print(f"{'':15s} {'':5s} | 1 client    | closed loop (no think time)            | think time")
    print(f"{'route':15s} {'load':>5s} | {'p50':>5s} {'CPU':>5s} | {head} | {head}")
    for row in table:
        one = row.single
        cells = [f"{one.p50:5.1f} {one.cpu_per_request:5.2f}" if one else f"{'-':11s}"]
        for r in (row.closed, row.paced):
            cells.append(
                f"{r.p50:6.1f} {r.p95:6.1f} {r.p99:6.1f} {r.rate:6.0f} "
                f"{r.cpu_per_request:5.2f} {r.client_cpu_per_request:5.2f} {r.error_count:3d}"
                if r
                else "-"
            )
        errors = sum((r.errors for r in row.results()), Counter[str]())
        tail = f"  {dict(errors)}" if errors else ""
        print(f"{row.route.name:15s} {row.load:5.2f} | " + " | ".join(cells) + tail)
    print(
        "(ms; load: the 1-minute load average before the route's runs; CPU: the server's CPU ms "
        "per request, the database server's included; cli: wrk's own, on the same cores)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=50, help="connections, one user each")
    parser.add_argument("--patients", type=int, default=None, help="default: --clients")
    # wrk runs whole seconds
    parser.add_argument("--seconds", type=int, default=8, help="closed loop, per route")
    parser.add_argument("--think-seconds", type=int, default=12, help="per route; 0: none")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 2.0), metavar=("MIN", "MAX"))
    parser.add_argument("--single-seconds", type=int, default=3, help="one client; 0: none")
    parser.add_argument("--only", default="", help="comma-separated route names")
    args = parser.parse_args()
    wrk_binary()  # before anything is built
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'load.sqlite3'}"
    proc, base = start_server(url, args.workers)
    try:
        patients, clinician = make_clinic(url, base, args.patients or args.clients)
        users = {
            "patient": [patients[i % len(patients)] for i in range(args.clients)],
            "clinician": [clinician[i % len(clinician)] for i in range(args.clients)],
        }
        meter = CpuMeter(proc.pid, url)
        wanted = set(args.only.split(",")) if args.only else None
        table = [
            run_route(base, route, users[route.who], args, meter)
            for route in routes()
            if wanted is None or route.name in wanted
        ]
        print_table(table, args)
        worst = max(table, key=lambda row: row.closed.p99)
        results = [r for row in table for r in row.results()]
        think_p99 = max((row.paced.p99 for row in table if row.paced), default=0.0)
        print(
            f"load_worst_p99_ms={worst.closed.p99:.0f} think_worst_p99_ms={think_p99:.0f} "
            f"worst={worst.route.name!r} errors={sum(r.error_count for r in results)} "
            f"requests={sum(r.requests for r in results)}"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
