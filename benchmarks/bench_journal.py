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
from benzotaper.services import summary
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


if __name__ == "__main__":
    main()
