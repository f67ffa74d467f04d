"""Clinic measures at clinic scale: one clinician, N shared patients with two years of plans.

Writes a clinic the way the app stores it (real plans from the planning engine, shifted in time,
with re-plans; person factors; journal doses around the day each taper reaches zero) into a
fresh SQLite file, or into PostgreSQL with ``--url``, or reads an existing clinic with
``--url URL --clinician ID --no-write`` (e.g. the clinic generator's). Then it times, per case:

- cold: the first report, which reads every plan version's JSON to build the timelines (the
  baseline: what every report would cost without the ``measure_timelines`` cache);
- warm: later reports (median of ``--runs``), split into the database reads and the pure core;
- the core alone on the same records (median), and the number of SQL statements per report.

It ends with the EXPLAIN of the journal query and ``measures_warm_ms=<x>`` (goal: 10,000
patients in <= 2000 ms). Run: ``.venv/bin/python benchmarks/bench_measures.py [--patients N]``.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text

from benzotaper.catalogue import default_catalogue
from benzotaper.errors import BenzotaperError
from benzotaper.knowledge import default_knowledge
from benzotaper.measures import Period, clinic_report, default_measure_book
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import PlanRequest
from benzotaper.storage import Database, Entry, PlanVersion, User, utcnow
from benzotaper.storage.access import CareShare
from benzotaper.storage.measures import clinic_measures, load_clinic, shared_patient_ids

PERIOD = Period(dt.date(2026, 1, 1), dt.date(2026, 11, 30))
FIRST = dt.date(2024, 12, 1)  # tapers start from here over two years
REGIMENS = [
    [("diazepam", 10, "08:00"), ("diazepam", 10, "20:00")],
    [("lorazepam", 1, "08:00"), ("lorazepam", 1, "22:00")],
    [("alprazolam", 0.5, "08:00"), ("alprazolam", 0.5, "20:00")],
    [("clonazepam", 0.5, "08:00"), ("clonazepam", 0.5, "22:00")],
    [("zolpidem", 10, "22:00")],
    [("temazepam", 20, "22:00"), ("diazepam", 5, "08:00")],
]
PACES = ["fast", "moderate", "slow"]


#: Re-plans that hold: a 3-week hold from the 8th week, saved as a new version that day.
HOLD_AFTER_DAYS, HOLD_DAYS = 56, 21


def templates() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Real saved-plan JSON (plan and request) from the planning engine, per case: the plan,
    and the same plan with a hold (a re-plan saved when symptoms called for one)."""
    knowledge = default_knowledge()
    out = []
    for regimen in REGIMENS:
        for pace in PACES:
            pair = []
            for holds in (
                [],
                [
                    {
                        "start": (FIRST + dt.timedelta(days=HOLD_AFTER_DAYS)).isoformat(),
                        "days": HOLD_DAYS,
                        "reason": "symptoms",
                    }
                ],
            ):
                request = PlanRequest.model_validate(
                    {
                        "regimen": [{"drug": d, "mg": mg, "time": t} for d, mg, t in regimen],
                        "preferences": {
                            "start": FIRST.isoformat(),
                            "pace": pace,
                            "liquid": True,
                            "compounded": True,
                            "holds": holds,
                        },
                    }
                )
                try:
                    plan = make_plan(request, knowledge, today=FIRST)
                except BenzotaperError:
                    break  # a regimen the products cannot taper at this pace: not a template
                pair.append(
                    {
                        "plan": plan.model_dump(mode="json"),
                        "request": request.model_dump(mode="json"),
                    }
                )
            if len(pair) == 2:
                out.append((pair[0], pair[1]))
    return out


def shifted(template: dict[str, Any], days: int, person: dict[str, Any]) -> dict[str, Any]:
    """The template moved ``days`` later (steps and summary), for another person."""
    t = copy.deepcopy(template)
    delta = dt.timedelta(days=days)

    def move(d: str) -> str:
        return (dt.date.fromisoformat(d) + delta).isoformat()

    for step in t["plan"]["steps"]:
        step["start"], step["end"] = move(step["start"]), move(step["end"])
    summary = t["plan"]["summary"]
    summary["start"], summary["end"] = move(summary["start"]), move(summary["end"])
    t["request"]["person"] = person
    t["request"]["preferences"]["start"] = summary["start"]
    return t


def zero_day(plan: dict[str, Any]) -> dt.date | None:
    for step in plan["steps"]:
        if step["diazepam_equivalent_mg"] <= 0:
            return dt.date.fromisoformat(step["start"])
    return None


def write_clinic(db: Database, n: int, seed: int = 7) -> int:
    """A clinician (returned id) sharing with ``n`` patients; plans, re-plans and doses."""
    rnd = random.Random(seed)
    tpl = templates()
    users: list[dict[str, Any]] = [{"id": 1, "email": "dr@bench", "role": "clinician"}]
    shares, versions, entries = [], [], []
    now = utcnow()
    for i in range(n):
        uid = i + 2
        users.append({"id": uid, "email": f"p{uid}@bench", "role": "patient"})
        shares.append(
            {
                "patient_id": uid,
                "clinician_id": 1,
                "code_hash": f"{uid:064d}",
                "code_expires_at": now,
                "accepted_at": now,
            }
        )
        person = {
            "age": rnd.randint(40, 90),
            "falls": rnd.random() < 0.3,
            "dementia": rnd.random() < 0.1,
            "opioids": rnd.random() < 0.15,
            "seizures": rnd.random() < 0.05,
        }
        start = rnd.randint(0, 640)
        plain, held = rnd.choice(tpl)
        chosen = [(start, shifted(plain, start, person))]
        if rnd.random() < 0.2:  # symptoms: the same plan with a hold, saved when it began
            chosen.append((start + HOLD_AFTER_DAYS, shifted(held, start, person)))
        elif rnd.random() < 0.3:  # a re-plan from a later day (slower, or a return)
            later = start + rnd.randint(30, 150)
            chosen.append((later, shifted(rnd.choice(tpl)[0], later, person)))
        for k, (offset, t) in enumerate(chosen):
            versions.append(
                {
                    "user_id": uid,
                    "version": k + 1,
                    "effective_from": FIRST + dt.timedelta(days=offset),
                    "request": t["request"],
                    "plan": t["plan"],
                    "active": k + 1 == len(chosen),
                    "reason": "bench",
                    "origin": "user",
                    "created_at": now,
                }
            )
        zero = zero_day(chosen[-1][1]["plan"])
        if zero is not None and zero <= PERIOD.end:
            drug = chosen[-1][1]["request"]["regimen"][0]["drug"]
            days = [zero - dt.timedelta(days=d) for d in range(1, 31)]
            if rnd.random() < 0.1:
                days += [zero + dt.timedelta(days=d) for d in (20, 40, 90)]
            for day in days:
                data = {"kind": "dose", "status": "taken", "drug": drug, "mg": 0.5, "note": ""}
                entries.append({"user_id": uid, "kind": "dose", "entry_date": day, "data": data})
    with db.transaction() as s:
        for table, rows in (
            (User, users),
            (CareShare, shares),
            (PlanVersion, versions),
            (Entry, entries),
        ):
            for j in range(0, len(rows), 2000):
                s.execute(insert(table), rows[j : j + 2000])
    return 1


@dataclass
class Timing:
    wall_ms: float
    cpu_ms: float  # this process only: on a loaded, shared machine the fairer figure

    def __str__(self) -> str:
        return f"{self.wall_ms:.0f} ms wall, {self.cpu_ms:.0f} ms CPU"


def timed(fn: Callable[[], Any], runs: int) -> tuple[Timing, Any]:
    """Median wall and CPU time of ``runs`` calls, and the last result."""
    out, walls, cpus = None, [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        walls.append((time.perf_counter() - t0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    return Timing(statistics.median(walls), statistics.median(cpus)), out


def peak_mib(fn: Callable[[], Any]) -> float:
    """Peak memory allocated by one call of ``fn`` (Python objects and numpy arrays), MiB.
    A separate call: tracing slows the work, so it is never inside a timed run."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def count_statements(db: Database) -> list[str]:
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "SET ")):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    return seen


def explain(db: Database, clinician: int) -> str:
    """The database's plan for the journal query (the one that touches the biggest table)."""
    from sqlalchemy.dialects import postgresql, sqlite

    from benzotaper.storage import measures as sm

    with db.transaction() as s:
        captured: list[Any] = []
        original = s.execute

        def capture(stmt: Any, *a: Any, **k: Any) -> Any:
            captured.append(stmt)
            return original(stmt, *a, **k)

        s.execute = capture  # type: ignore[method-assign]
        sm._logged_after_zero(s, shared_patient_ids(clinician))
        s.execute = original  # type: ignore[method-assign]
        dialect = (
            postgresql.dialect() if db.engine.dialect.name == "postgresql" else sqlite.dialect()
        )
        sql = str(captured[-1].compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        prefix = (
            "EXPLAIN ANALYZE " if db.engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
        )
        rows = s.execute(text(prefix + sql)).all()
    return "\n".join(" | ".join(str(c) for c in row) for row in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--clinician", type=int, help="with --no-write: whose clinic to report")
    ap.add_argument("--no-write", action="store_true", help="read an existing clinic")
    args = ap.parse_args()
    url = args.url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'clinic.sqlite3'}"
    db = Database(url)
    db.upgrade()
    cat = default_catalogue()
    book = default_measure_book()
    if args.no_write:
        clinician = args.clinician
    else:
        t0 = time.perf_counter()
        clinician = write_clinic(db, args.patients)
        took = time.perf_counter() - t0
        print(f"wrote {args.patients} patients in {took:.1f} s ({db.engine.dialect.name})")
    cold, _ = timed(lambda: clinic_measures(db, cat, clinician, PERIOD, book), 1)
    print(f"cold report (reads every plan version, fills the cache): {cold}")
    seen = count_statements(db)
    warm, report = timed(lambda: clinic_measures(db, cat, clinician, PERIOD, book), args.runs)
    statements = len(seen) // args.runs
    with db.transaction() as s:
        read, data = timed(lambda: load_clinic(s, shared_patient_ids(clinician)), args.runs)
    core, _ = timed(lambda: clinic_report(data, PERIOD, book), args.runs)
    print(f"warm report: {warm} (median of {args.runs}), {statements} SQL statements")
    print(f"  database reads: {read}")
    print(f"  pure core: {core} for {len(data)} timelines, {sum(map(len, data.runs))} runs")
    print(f"  cold / warm (wall): {cold.wall_ms / warm.wall_ms:.1f}x")
    peak = peak_mib(lambda: clinic_measures(db, cat, clinician, PERIOD, book))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  memory: warm report peak {peak:.1f} MiB allocated (tracemalloc)")
    print(f"  process max RSS {rss:.0f} MiB (includes the generator unless --no-write)")
    print(f"patients {report.patients}, with a plan {report.patients_with_plan}")
    for m in report.measures:
        p = m.primary()
        print(f"  {m.id:15} {p.numerator:>6} / {p.denominator:<6} score {p.score}")
    print(explain(db, clinician))
    db.dispose()
    print(f"measures_warm_ms={warm.wall_ms:.0f}")


if __name__ == "__main__":
    main()
