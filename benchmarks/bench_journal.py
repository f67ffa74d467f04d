"""A year of journal on the embedded SQLite database: write, status, export and import.

Writes 365 days (two doses, one check-in, one sleep-diary night a day) into a fresh SQLite
file through the journal service, as the app writes them (each entry checked, linked to the
plan version, the adaptive rules reviewed), then times ``status`` on the last day computed
cold (the plan version read and parsed afresh) and warm (median of runs), each with the
process's remembered answers forgotten first, and the remembered answer (what a read after a
write costs: every write leaves the new status remembered, so timing only that would measure a
look-up, never the journal), a full export and an import.
Prints one line per figure and, as the last line, ``journal_status_cold_ms=<x>
journal_status_ms=<y>`` (computed; target: <= 100 ms warm, so pages and `benzotaper status`
feel instant after a year of use).

``--exports N``: instead, every listing and export whose size grew with the journal, on one
patient with ``N`` entries (two doses and a check-in a day, linked to the plan version, as
``bench_clinic`` generates them), asked through the real app in-process (the patient's and the
clinician's API listings, the My plan downloads, the account's data export) and as the CLI
makes the journal CSV: wall and CPU ms, bytes and the peak memory Python allocated while
answering (tracemalloc, a second run: it slows what it watches). The first page of a listing
is what a client that never follows ``Link`` gets; "all pages" follows them to the end.
Last line: ``exports_worst_cpu_ms=<x> exports_worst_peak_mib=<y> (n=<entries>)``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from benzotaper.errors import EntryError
from benzotaper.journal.entries import CheckinEntry, SleepEntry
from benzotaper.knowledge import default_knowledge
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import PlanRequest
from benzotaper.services import summary
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database
from benzotaper.storage.plancache import PARSED
from benzotaper.storage.transfer import export_journal, import_journal

START = dt.date(2026, 1, 1)
DAYS = 365


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exports", type=int, metavar="N", help="exports at N entries")
    args = parser.parse_args()
    if args.exports:
        export_figures(args.exports)
        return
    tmp = Path(tempfile.mkdtemp())
    db = Database(f"sqlite:///{tmp / 'bench.sqlite3'}")
    db.upgrade()
    journal, me, last = write_journal(db, DAYS)
    cold_ms, warm_ms, kept_ms = status_figures(journal, me, last)
    t = time.perf_counter()
    doc = export_journal(db, me)
    export_ms = (time.perf_counter() - t) * 1000
    other = Database(f"sqlite:///{tmp / 'import.sqlite3'}")
    other.upgrade()
    t = time.perf_counter()
    import_journal(other, doc)
    import_ms = (time.perf_counter() - t) * 1000
    print(f"export_ms={export_ms:.0f} ({len(doc.entries)} entries)")
    print(f"import_ms={import_ms:.0f}")
    print(f"status_remembered_ms={kept_ms:.2f} (a look-up: the answer a write left)")
    print(f"journal_status_cold_ms={cold_ms:.0f} journal_status_ms={warm_ms:.0f}")


def write_journal(db: Database, days: int) -> tuple[JournalService, int, dt.date]:
    """``days`` of journal written through the service as the app writes it: the service, the
    person and the last day."""
    last = START + dt.timedelta(days=days - 1)
    journal = JournalService(
        db, default_knowledge(), now=lambda: dt.datetime.combine(last, dt.time(22))
    )
    me = journal.local_user()
    request = PlanRequest.model_validate(
        {
            "regimen": [
                {"drug": "diazepam", "mg": 10, "time": "08:00"},
                {"drug": "diazepam", "mg": 10, "time": "20:00"},
            ],
            "preferences": {"start": START.isoformat(), "pace": "slow"},
        }
    )
    plan = make_plan(request, default_knowledge(), today=START)
    journal.save_plan(me, plan, reason="bench")

    t0 = time.perf_counter()
    for i in range(days):
        day = START + dt.timedelta(days=i)
        for t in ("08:00", "20:00"):
            try:
                journal.take(me, planned_time=t, day=day, time=t)
            except EntryError:  # no dose planned at that time any more
                journal.take(me, status="extra", drug="diazepam", mg=1, day=day, confirm=True)
        journal.record(
            me, CheckinEntry(ciwa_b=[i % 3] * 22, quick={"anxiety": i % 6, "insomnia": 3}), day=day
        )
        journal.record(
            me,
            SleepEntry(
                bed_time="23:00",
                sol_min=20,
                waso_min=30,
                final_wake_time="06:30",
                out_of_bed_time="07:00",
            ),
            day=day,
        )
    writes = days * 4
    write_s = time.perf_counter() - t0
    print(
        f"writes={writes} in {write_s:.2f} s ({write_s / writes * 1000:.2f} ms each, one "
        "transaction each)"
    )
    return journal, me, last


def status_figures(journal: JournalService, me: int, last: dt.date) -> tuple[float, float, float]:
    """``status`` on ``last`` in ms: computed cold (no plan version parsed yet, as in a worker
    that has not read it), computed warm (median of 5) and remembered (median of 5)."""
    PARSED.clear()
    cold = status_ms(journal, me, last, remembered=False)
    warm = statistics.median(status_ms(journal, me, last, remembered=False) for _ in range(5))
    kept = statistics.median(status_ms(journal, me, last, remembered=True) for _ in range(5))
    return cold, warm, kept


def status_ms(journal: JournalService, me: int, last: dt.date, *, remembered: bool) -> float:
    """One ``status`` call in ms; unless ``remembered``, computed (remembered answers forgotten)."""
    if not remembered:
        summary._KEPT.clear()
    t = time.perf_counter()
    journal.status(me, last)
    return (time.perf_counter() - t) * 1000


# ----------------------------------------------------------------------------- --exports N

#: What grew with the journal: (who asks, path); "all pages" follows the Link headers.
EXPORT_ASKS = {
    "API entries, first page": ("patient", "/api/journal/entries"),
    "API entries, all pages": ("patient", "/api/journal/entries"),
    "clinician entries, first page": ("clinician", "/api/patients/{patient}/entries"),
    "FHIR R4B (plan + check-ins)": ("patient", "/my-plan/export/fhir"),
    "FHIR R4 US Core": ("patient", "/my-plan/export/fhir-r4"),
    "clinician FHIR R5": ("clinician", "/clinician/patients/{patient}/export/fhir-r5"),
    "patient PDF": ("patient", "/my-plan/export/pdf"),
    "prescriber PDF": ("patient", "/my-plan/export/prescriber-pdf"),
    "story": ("patient", "/my-plan/export/story"),
    "calendar": ("patient", "/my-plan/export/ics"),
    "account data (JSON)": ("patient", "/api/account/export"),
}


def export_figures(entries: int) -> None:
    """Each of ``EXPORT_ASKS`` and the CLI's journal CSV on a patient with ``entries`` entries:
    wall and CPU ms, then the wall ms of asking again (a PDF is kept), bytes and peak MiB (see
    the module's docstring)."""
    import os

    from fastapi.testclient import TestClient

    from bench_clinic import app_for, generate, session_of
    from benzotaper.web.accounts import SESSION_COOKIE

    tmp = Path(tempfile.mkdtemp())
    db = Database(f"sqlite:///{tmp / 'exports.sqlite3'}")
    db.upgrade()
    days = -(-entries // 3)
    t = time.perf_counter()
    clinician, patient = generate(db, 1, days)
    print(f"generated {days * 3} entries ({days} days) in {time.perf_counter() - t:.1f} s")
    who = {"patient": session_of(db, patient), "clinician": session_of(db, clinician)}
    load = os.getloadavg()
    print(f"exports at {days * 3} entries (load average {load[0]:.2f} {load[1]:.2f}):")
    worst_cpu = worst_peak = 0.0
    with TestClient(app_for(db)) as client:
        for name, (role, path) in EXPORT_ASKS.items():
            client.cookies.set(SESSION_COOKIE, who[role])
            url = path.format(patient=patient)
            every = name.endswith("all pages")
            cpu, peak = _report(name, partial(_get, client, url, every=every))
            worst_cpu, worst_peak = max(worst_cpu, cpu), max(worst_peak, peak)
    journal = JournalService(db, default_knowledge())
    cpu, peak = _report("CLI journal CSV", partial(_journal_csv, journal, patient))
    worst_cpu, worst_peak = max(worst_cpu, cpu), max(worst_peak, peak)
    print(
        f"exports_worst_cpu_ms={worst_cpu:.0f} exports_worst_peak_mib={worst_peak:.1f} "
        f"(n={days * 3})"
    )


def _get(client: Any, url: str, *, every: bool) -> int:
    """Bytes of the answer to ``url`` (with ``every``: of every page, following ``Link``)."""
    size = 0
    while True:
        r = client.get(url)
        if r.status_code != 200:
            raise SystemExit(f"{url} answered {r.status_code}: {r.text[:200]}")
        size += len(r.content)
        nxt = r.links.get("next")
        if not every or nxt is None:
            return size
        url = nxt["url"]


def _journal_csv(journal: JournalService, user_id: int) -> int:
    """Characters of the journal CSV, made as the CLI makes it (streamed when the service can
    read in pages; the whole journal read first before pages existed)."""
    from benzotaper import exports

    if hasattr(journal, "iter_entries"):
        chunks = exports.journal_csv_chunks(journal.iter_entries(user_id))
        return sum(len(c) for c in chunks)
    return len(exports.journal_csv(journal.entries(user_id)))


def _report(name: str, make: Callable[[], int]) -> tuple[float, float]:
    """Run ``make`` (returns bytes made) timed with nothing kept, then again under tracemalloc
    (nothing kept), then once more timed as it comes (a kept PDF, where kept); print a line;
    (CPU ms, peak MiB)."""
    import tracemalloc

    _forget()
    t0, c0 = time.perf_counter(), time.process_time()
    size = make()
    wall, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
    _forget()
    tracemalloc.start()
    make()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    t0 = time.perf_counter()
    make()
    again = (time.perf_counter() - t0) * 1000
    print(
        f"  {name:30s} wall {wall:7.0f} ms  cpu {cpu:7.0f} ms  again {again:7.0f} ms  "
        f"{size:>11,} bytes  peak {peak:6.1f} MiB"
    )
    return cpu, peak


def _forget() -> None:
    """Forget every answer the app keeps (pages' answers; PDFs, where the app keeps them)."""
    import gc

    from benzotaper.web import kept_answers
    from benzotaper.web.routes import myplan

    kept_answers.forget()
    kept = getattr(myplan, "KEPT_PDFS", None)
    if kept is not None:
        kept.clear()
    gc.collect()


if __name__ == "__main__":
    main()
