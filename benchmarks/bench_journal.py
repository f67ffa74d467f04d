"""A year of journal on the embedded SQLite database: write, status, export and import.

Writes 365 days (two doses, one check-in, one sleep-diary night a day) into a fresh SQLite
file through the journal service, as the app writes them (each entry checked, linked to the
plan version, the adaptive rules reviewed), then times ``status`` on the last day cold (first
call in the process: the plan version read and parsed) and warm (median of runs), a full export
and an import.
Prints one line per figure and, as the last line, ``journal_status_cold_ms=<x>
journal_status_ms=<y>`` (target: <= 100 ms warm, so pages and `benzotaper status` feel instant
after a year of use).
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from benzotaper.errors import EntryError
from benzotaper.journal.entries import CheckinEntry, SleepEntry
from benzotaper.knowledge import default_knowledge
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import PlanRequest
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database
from benzotaper.storage.plancache import PARSED
from benzotaper.storage.transfer import export_journal, import_journal

START = dt.date(2026, 1, 1)
DAYS = 365


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    db = Database(f"sqlite:///{tmp / 'bench.sqlite3'}")
    db.upgrade()
    last = START + dt.timedelta(days=DAYS - 1)
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
    for i in range(DAYS):
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
    writes = DAYS * 4
    write_s = time.perf_counter() - t0
    print(
        f"writes={writes} in {write_s:.2f} s ({write_s / writes * 1000:.2f} ms each, one "
        "transaction each)"
    )

    PARSED.clear()  # cold: as in a worker that has not read this plan version yet
    t = time.perf_counter()
    journal.status(me, last)
    cold_ms = (time.perf_counter() - t) * 1000
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        journal.status(me, last)
        runs.append((time.perf_counter() - t) * 1000)
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
    print(f"journal_status_cold_ms={cold_ms:.0f} journal_status_ms={statistics.median(runs):.0f}")


if __name__ == "__main__":
    main()
