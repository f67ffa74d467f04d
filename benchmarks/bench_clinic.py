"""A clinic's data at scale: a bulk generator, the key queries' plans, and status vs journal size.

1. Generates a clinic (default on a fresh SQLite file; ``--database-url`` for PostgreSQL):
   ``--patients`` patients, each with a saved plan started ``--days`` ago and a daily journal
   since then (two doses and a check-in a day, every entry linked to the plan version, as the
   app writes them), all shared with one clinician. Rows go in with bulk inserts (thousands per
   statement), not one transaction per entry.
2. Prints ``EXPLAIN`` (``EXPLAIN ANALYZE`` on PostgreSQL) of the key queries: a patient's
   entries of one kind in a date range, the clinician's patient list, the active plan.
3. Times the clinician list (a page of 25 from the stored summaries: by urgency, a search, a
   later page by name) cold and warm, with its query plan.
4. Asks the pages through the real app in-process (Starlette's TestClient: every middleware,
   the session, the database; no network), signed in as the clinician (the list, a later page,
   a search, a patient's view) and as a patient (Today, My plan, Journal, status): p50/p99 ms
   (goals: the list <= 200 ms, a patient's pages <= 100 ms).
5. Times ``status`` for one patient as their journal grows (100 → ``--max-entries`` entries):
   computed from the stored summary cold (no plan version parsed) and warm, each with the
   process's remembered answers forgotten first (a remembered status is a look-up whatever the
   journal's size, so it cannot show growth), and the remembered answer beside them; then the
   same patients' pages (Today, My plan, Journal, status) through the app, as they are first
   read after a journal change (the answers a change makes stale forgotten) and when read
   again: p50 wall and CPU ms. Flat or logarithmic is the goal.

Last line: ``clinic_generate_s=<x> clinician_list_ms=<slowest warm case> (n=<patients>)
pages_worst_p99_ms=<z> status_warm_ms_at_max=<y> status_growth=<warm at max / warm at 100>
page_cpu_ms_at_max=<slowest page's CPU after a change, largest journal> page_growth=<that /
the same at the smallest journal>``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text, update

from benzotaper.journal.adaptive import pinned
from benzotaper.journal.entries import CheckinEntry, DoseEntry
from benzotaper.knowledge import default_knowledge
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import PlanRequest
from benzotaper.services import summary
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database, Entry, PlanVersion, User
from benzotaper.storage.access import CareShare
from benzotaper.storage.base import new_uid, utcnow
from benzotaper.storage.plancache import PARSED

TODAY = dt.date.today()
#: The status-growth patients' plan started this many days ago (mid-taper).
PLAN_DAYS = 90
CHUNK = 5000


def plan_json(days: int) -> tuple[dict[str, Any], dict[str, Any]]:
    start = TODAY - dt.timedelta(days=days)
    request = PlanRequest.model_validate(
        {
            "regimen": [
                {"drug": "diazepam", "mg": 10, "time": "08:00"},
                {"drug": "diazepam", "mg": 10, "time": "20:00"},
            ],
            "preferences": {"pace": "slow", "start": start.isoformat()},
        }
    )
    plan = make_plan(request, default_knowledge(), today=start)
    return pinned(plan.request, plan).model_dump(mode="json"), plan.model_dump(mode="json")


def day_rows(user_id: int, plan_id: int, first: dt.date, days: int) -> list[dict[str, Any]]:
    """Two doses and a check-in a day."""
    dose = {
        t: DoseEntry(drug="diazepam", mg=5, time=t, planned_time=t, planned_mg=5).model_dump(
            mode="json"
        )
        for t in ("08:00", "20:00")
    }
    rows = []
    for i in range(days):
        day = first + dt.timedelta(days=i)
        base = {
            "user_id": user_id,
            "entry_date": day,
            "plan_version_id": plan_id,
            "deleted": False,
            "reason": "",
            "created_at": utcnow(),
        }
        for t in ("08:00", "20:00"):
            rows.append({**base, "uid": new_uid(), "kind": "dose", "data": dose[t]})
        checkin = CheckinEntry(quick={"anxiety": i % 5, "insomnia": (i * 7) % 4})
        rows.append(
            {**base, "uid": new_uid(), "kind": "checkin", "data": checkin.model_dump(mode="json")}
        )
    return rows


def backfill(db: Database) -> float:
    """The stored summaries of every generated patient, made as an upgrade makes them for
    existing patients (in batches, a transaction each): the generator writes rows in bulk, not
    through the journal service; seconds taken."""
    from benzotaper.storage.migrate import backfill_summaries

    t0 = time.perf_counter()
    with db.engine.connect() as conn:
        backfill_summaries(conn)
    return time.perf_counter() - t0


def copy_summaries(db: Database, ids: list[int]) -> None:
    """The stored summaries of generated patients ``ids`` without computing each one's status
    (the CI size: an upgrade computes ~30-100 ms a patient): the first one's is made as an
    upgrade makes it, and its card (alerts, facts, level) copied to the others, whose plan and
    journal are the same as theirs day for day; each gets its own slots, found from its own
    check-ins as :func:`services.summary.full_slots` finds them (every generated check-in has
    quick ratings and no scale: it fills ``first`` (the oldest) and ``quick`` (the newest)).
    The smoke test checks a copied row against one the service makes."""
    from benzotaper.services.summary import FIRST, QUICK
    from benzotaper.services.summary import backfill as make
    from benzotaper.storage.summaries import JournalSummary

    k = default_knowledge()
    with db.transaction() as s:
        make(s, lambda: (k.adaptive, k.scales), after=ids[0] - 1, limit=1)
        model = s.get_one(JournalSummary, ids[0])
        card = {
            "alerts": model.alerts,
            "facts": model.facts,
            "alert_level": model.alert_level,
            "computed_on": model.computed_on,
        }
        found = s.execute(
            select(Entry.user_id, Entry.id, Entry.uid, Entry.entry_date)
            .where(Entry.user_id.in_(ids[1:]), Entry.kind == "checkin")
            .order_by(Entry.user_id, Entry.entry_date, Entry.id)
        )
        slots: dict[int, dict[str, Any]] = {}
        for user_id, row_id, uid, day in found:
            slot = {"uid": uid, "id": row_id, "day": day.isoformat()}
            slots.setdefault(user_id, {FIRST: slot})[QUICK] = slot
        rows = [
            {"user_id": u, "revision": 1, "slots": slots[u], **card, "updated_at": utcnow()}
            for u in ids[1:]
        ]
        for i in range(0, len(rows), CHUNK):
            s.execute(insert(JournalSummary), rows[i : i + CHUNK])


def bulk(db: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        with db.transaction() as s:
            s.execute(insert(table), rows[i : i + CHUNK])


def generate(db: Database, patients: int, days: int) -> tuple[int, int]:
    """The clinician's id and the first patient's id."""
    request, plan = plan_json(days)
    with db.transaction() as s:
        doc = User(
            email=f"clinician-{new_uid()[:8]}@example.org",
            role="clinician",
            display_name="Dr Bench",
        )
        s.add(doc)
        s.flush()
        clinician = doc.id
        first_id = None
        users = []
        for n in range(patients):
            u = User(
                email=f"p{n}-{new_uid()[:8]}@example.org",
                role="patient",
                display_name=f"Patient {n:05d}",
            )
            users.append(u)
        s.add_all(users)
        s.flush()
        ids = [u.id for u in users]
        first_id = ids[0]
    start = TODAY - dt.timedelta(days=days)
    bulk(
        db,
        PlanVersion,
        [
            {
                "uid": new_uid(),
                "user_id": uid,
                "version": 1,
                "previous_id": None,
                "reason": "bench",
                "origin": "user",
                "effective_from": start,
                "request": request if uid == first_id else {},
                "plan": plan if uid == first_id else {},
                "decision": None,
                "active": True,
                "created_at": utcnow(),
            }
            for uid in ids
        ],
    )
    copy_plan(db, first_id, ids)
    with db.transaction() as s:
        plan_ids = dict(s.execute(select(PlanVersion.user_id, PlanVersion.id)).all())
    far = utcnow() + dt.timedelta(days=3650)
    bulk(
        db,
        CareShare,
        [
            {
                "patient_id": uid,
                "clinician_id": clinician,
                "code_hash": new_uid().replace("-", ""),
                "code_expires_at": far,
                "created_at": utcnow(),
                "accepted_at": utcnow(),
            }
            for uid in ids
        ],
    )
    rows: list[dict[str, Any]] = []
    for uid in ids:  # a transaction per CHUNK rows, not per patient
        rows += day_rows(uid, plan_ids[uid], start, days)
        if len(rows) >= CHUNK:
            bulk(db, Entry, rows)
            rows = []
    bulk(db, Entry, rows)
    return clinician, first_id


def copy_plan(db: Database, first_id: int, ids: list[int]) -> None:
    """Every patient's plan version gets the first one's documents, copied by the database
    (encoding a 40 KB plan as JSON in Python for each of them was most of the generator's time)."""
    template = select(PlanVersion).where(PlanVersion.user_id == first_id).subquery()
    for i in range(0, len(ids), CHUNK):
        with db.transaction() as s:
            s.execute(
                update(PlanVersion)
                .where(PlanVersion.user_id.in_(ids[i : i + CHUNK]), PlanVersion.user_id != first_id)
                .values(
                    request=select(template.c.request).scalar_subquery(),
                    plan=select(template.c.plan).scalar_subquery(),
                )
            )


def explain(db: Database, patient: int, clinician: int) -> None:
    pg = db.engine.dialect.name == "postgresql"
    prefix = "EXPLAIN ANALYZE " if pg else "EXPLAIN QUERY PLAN "
    since = (TODAY - dt.timedelta(days=14)).isoformat()
    queries = {
        "a patient's doses, last 14 days": (
            "SELECT * FROM entries WHERE user_id = :p AND kind = 'dose' AND entry_date >= :d"
        ),
        "a patient's active plan": (
            "SELECT id, uid FROM plan_versions WHERE user_id = :p AND active"
        ),
        "the clinician's patients": (
            "SELECT users.id, users.display_name FROM users JOIN care_shares ON "
            "care_shares.patient_id = users.id WHERE care_shares.clinician_id = :c AND "
            "care_shares.revoked_at IS NULL ORDER BY users.display_name LIMIT 25"
        ),
    }
    with db.engine.connect() as conn:
        for name, sql in queries.items():
            print(f"-- {name}")
            for row in conn.execute(text(prefix + sql), {"p": patient, "c": clinician, "d": since}):
                print("   ", " | ".join(str(c) for c in row))


def status_growth(db: Database, sizes: list[int]) -> list[tuple[int, float, float, int]]:
    """Status for one patient with each journal size: entries, computed cold and warm (median
    of 5) in ms, and the patient's id.

    Every patient has the same plan (started ``PLAN_DAYS`` ago) and the same three entries a
    day; only the length of the history before it grows (100,000 entries: 91 years of it), so
    the figures show what the size of the journal alone costs. Each computed run starts with
    the remembered answers forgotten: the summary backfill (like every journal change) leaves
    the status remembered under the person's stamp, and timing that look-up measured nothing
    of the journal. The remembered figure is printed beside them."""
    journal = JournalService(db, default_knowledge().catalogue)
    request, plan = plan_json(PLAN_DAYS)
    out = []
    for size in sizes:
        days = max(1, size // 3)
        with db.transaction() as s:
            u = User(email=f"grow-{new_uid()[:8]}@example.org", role="patient")
            s.add(u)
            s.flush()
            uid = u.id
            pv = PlanVersion(
                user_id=uid,
                version=1,
                reason="bench",
                origin="user",
                effective_from=TODAY - dt.timedelta(days=PLAN_DAYS),
                request=request,
                plan=plan,
                active=True,
            )
            s.add(pv)
            s.flush()
            pid = pv.id
        bulk(db, Entry, day_rows(uid, pid, TODAY - dt.timedelta(days=days), days))
        backfill(db)
        PARSED.clear()
        cold = status_ms(journal, uid, remembered=False)
        warm = statistics.median(status_ms(journal, uid, remembered=False) for _ in range(5))
        kept = statistics.median(status_ms(journal, uid, remembered=True) for _ in range(5))
        out.append((days * 3, cold, warm, uid))
        full = whole_journal_ms(db, journal, uid)
        print(
            f"status with {days * 3:7d} entries: computed cold {cold:8.1f} ms, warm {warm:8.1f} ms"
            f"  (remembered {kept:5.2f} ms; from the whole journal, as before the stored "
            f"summary: {full:8.1f} ms)"
        )
    return out


def status_ms(journal: JournalService, uid: int, *, remembered: bool) -> float:
    """One ``status`` call in ms; unless ``remembered``, computed (remembered answers forgotten)."""
    if not remembered:
        summary._KEPT.clear()
    t0 = time.perf_counter()
    journal.status(uid, on=TODAY)
    return (time.perf_counter() - t0) * 1000


def whole_journal_ms(db: Database, journal: JournalService, uid: int) -> float:
    """Warm status without the person's stored summary (every check-in read): the reference."""
    from sqlalchemy import delete

    from benzotaper.storage.summaries import JournalSummary

    with db.transaction() as s:
        s.execute(delete(JournalSummary).where(JournalSummary.user_id == uid))
    ms = statistics.median(status_ms(journal, uid, remembered=False) for _ in range(3))
    backfill(db)
    return ms


def clinician_list(db: Database, clinician: int) -> tuple[float, float, int]:
    """The clinician list's server work: the first page sorted by urgency, a search, a later
    page, each cold (no plan version parsed in this process yet) then warm (median of 5), in
    ms, and the total the list counts; with the page query's plan."""
    from benzotaper.storage.patient_list import page_query
    from benzotaper.web.patient_list import list_page

    journal = JournalService(db, default_knowledge())
    PARSED.clear()
    t0 = time.perf_counter()
    first = list_page(journal, clinician)
    cold = (time.perf_counter() - t0) * 1000
    cases = {
        "first page, by urgency": {},
        "search 'patient 0042'": {"q": "patient 0042"},
        "page 200, by name": {"page": 200, "sort": "name"},
    }
    warm = 0.0
    for name, kw in cases.items():
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            list_page(journal, clinician, **kw)  # type: ignore[arg-type]
            times.append((time.perf_counter() - t0) * 1000)
        ms = statistics.median(times)
        warm = max(warm, ms)
        print(f"clinician list, {name:24s}: warm {ms:7.1f} ms")
    print(f"clinician list of {first.total} patients: first page cold {cold:7.1f} ms")
    sql = page_query(clinician, "", "urgency", 0, 25).compile(
        db.engine, compile_kwargs={"literal_binds": True}
    )
    pg = db.engine.dialect.name == "postgresql"
    with db.engine.connect() as conn:
        print("-- the clinician list's page query")
        prefix = "EXPLAIN ANALYZE " if pg else "EXPLAIN QUERY PLAN "
        for row in conn.execute(text(prefix + str(sql))):
            print("   ", " | ".join(str(c) for c in row))
    return cold, warm, first.total


def app_for(db: Database) -> Any:
    """The web app on ``db`` (push reminders off: nothing runs beside the requests)."""
    from benzotaper.web import WebSettings, create_app

    url = db.engine.url.render_as_string(hide_password=False)
    return create_app(WebSettings(database_url=url, push_reminders=False))


def session_of(db: Database, user_id: int) -> str:
    """A signed-in session's cookie value for ``user_id``."""
    from benzotaper.web.accounts import start_session

    with db.transaction() as s:
        return start_session(s, s.get_one(User, user_id), 1)


def pages(db: Database, clinician: int, patient: int, runs: int = 15) -> float:
    """p50/p99 ms of each page through the real app (see the module's docstring); the worst p99."""
    import os

    from fastapi.testclient import TestClient

    from benzotaper.web.accounts import SESSION_COOKIE

    who = {u: session_of(db, u) for u in (clinician, patient)}
    asks = {
        "clinician list": (clinician, "/clinician"),
        "list, page 200 by name": (clinician, "/clinician?page=200&sort=name"),
        "list, search": (clinician, "/clinician?q=patient+0042"),
        "patient view": (clinician, f"/clinician/patients/{patient}"),
        **{name: (patient, path) for name, path in PATIENT_PAGES.items()},
    }
    load = os.getloadavg()
    print(f"pages (load average {load[0]:.2f} {load[1]:.2f}):")
    worst = 0.0
    with TestClient(app_for(db)) as client:
        for name, (user, path) in asks.items():
            client.cookies.set(SESSION_COOKIE, who[user])
            cold, _ = page_ms(client, path)
            times = sorted(page_ms(client, path)[0] for _ in range(runs))
            p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
            worst = max(worst, p99)
            print(
                f"  {name:24s} cold {cold:7.1f} ms  p50 {statistics.median(times):7.1f} ms  "
                f"p99 {p99:7.1f} ms"
            )
    return worst


#: A patient's pages, as ``pages`` and ``page_growth`` ask for them.
PATIENT_PAGES = {
    "Today": "/today",
    "My plan": "/my-plan",
    "Journal": "/journal",
    "status": "/api/status",
}


def page_ms(client: Any, path: str, *, after_change: bool = False) -> tuple[float, float]:
    """Wall and CPU ms of one GET of ``path`` (the server runs in this process, so its CPU is
    counted; it is 200 or the benchmark stops). ``after_change``: first forget the answers a
    journal change makes stale (remembered status, Today and plan page, recent entries and
    their rendered lists), as the first read after a change finds them; what a plan version
    keeps (parsed, rendered) stays, as it never changes once saved."""
    if after_change:
        from benzotaper.web import kept_answers, templating

        summary._KEPT.clear()
        summary.RECENT.clear()
        templating._ENTRY_LISTS.clear()
        kept_answers.forget()  # the pages' whole answers (web.kept_answers)
    t0, c0 = time.perf_counter(), time.process_time()
    r = client.get(path)
    wall, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
    if r.status_code != 200:
        raise SystemExit(f"{path} answered {r.status_code}")
    return wall, cpu


def page_growth(db: Database, patients: list[tuple[int, int]], runs: int = 5) -> list[float]:
    """Each patient's pages (``PATIENT_PAGES``) after a change and again (p50 of ``runs``),
    printed one line per journal size; per patient, the slowest page's CPU ms after a change.
    ``patients``: (entries, user id), as ``status_growth`` made them."""
    import os

    from fastapi.testclient import TestClient

    from benzotaper.web.accounts import SESSION_COOKIE

    load = os.getloadavg()
    print(
        f"pages by journal size, p50 of {runs}: after a change / read again, wall ms (CPU ms) "
        f"(load average {load[0]:.2f} {load[1]:.2f}):"
    )
    out = []
    with TestClient(app_for(db)) as client:
        for entries, uid in patients:
            client.cookies.set(SESSION_COOKIE, session_of(db, uid))
            cells, slowest = [], 0.0
            for name, path in PATIENT_PAGES.items():
                page_ms(client, path)  # the plan version read, parsed and rendered once
                changed = [page_ms(client, path, after_change=True) for _ in range(runs)]
                again = [page_ms(client, path) for _ in range(runs)]
                wall, cpu = (statistics.median(x) for x in zip(*changed, strict=True))
                kept, kept_cpu = (statistics.median(x) for x in zip(*again, strict=True))
                slowest = max(slowest, cpu)
                cells.append(f"{name} {wall:.1f} ({cpu:.1f}) / {kept:.1f} ({kept_cpu:.1f})")
            out.append(slowest)
            print(f"  {entries:7d} entries: " + ", ".join(cells))
    return out


def existing(db: Database, clinician: int) -> int:
    """The first patient of a clinic written before (``--clinician``)."""
    with db.read() as s:
        first = s.scalar(
            select(CareShare.patient_id)
            .where(CareShare.clinician_id == clinician)
            .order_by(CareShare.patient_id)
            .limit(1)
        )
    if first is None:
        raise SystemExit(f"clinician {clinician} has no patients here")
    return first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--max-entries", type=int, default=10_000, help="0: no status growth")
    parser.add_argument("--clinician", type=int, help="measure this clinic, written before")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'clinic.sqlite3'}"
    db = Database(url)
    db.upgrade()
    gen_s = 0.0
    if args.clinician:
        clinician, patient = args.clinician, existing(db, args.clinician)
    else:
        t0 = time.perf_counter()
        clinician, patient = generate(db, args.patients, args.days)
        gen_s = time.perf_counter() - t0
        rows = args.patients * args.days * 3
        print(
            f"generated {args.patients} patients, {rows} entries in {gen_s:.1f} s "
            f"({rows / gen_s:.0f} rows/s) on {db.engine.dialect.name}"
        )
        summary_s = backfill(db)
        print(f"stored summaries of {args.patients} patients in {summary_s:.1f} s")
    explain(db, patient, clinician)
    _, list_ms, listed = clinician_list(db, clinician)
    pages_ms = pages(db, clinician, patient)
    sizes = [s for s in (100, 1_000, 10_000, 100_000) if s <= args.max_entries]
    growth = status_growth(db, sizes) if sizes else [(0, 0.0, 0.0, 0)]
    paged = page_growth(db, [(g[0], g[3]) for g in growth]) if sizes else [0.0]
    print(
        f"clinic_generate_s={gen_s:.1f} clinician_list_ms={list_ms:.0f} (n={listed}) "
        f"pages_worst_p99_ms={pages_ms:.0f} "
        f"status_warm_ms_at_max={growth[-1][2]:.1f} "
        f"status_growth={growth[-1][2] / (growth[0][2] or 1):.1f} "
        f"page_cpu_ms_at_max={paged[-1]:.1f} page_growth={paged[-1] / (paged[0] or 1):.1f}"
    )
    db.dispose()


if __name__ == "__main__":
    main()
