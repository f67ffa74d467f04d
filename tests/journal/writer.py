"""A separate writer process for the durability tests (run as a script, not collected).

usage: writer.py URL USER_ID COUNT MODE [VARIANT]
  MODE "commit": COUNT entries, one transaction each, then also save a plan version (VARIANT
                 makes the plans of two writers differ, so each is a new version).
  MODE "hang":   COUNT committed entries, then one more inside an open transaction; waits.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

from benzotaper.catalogue import default_catalogue
from benzotaper.journal.entries import NoteEntry
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database, Entry


def main() -> None:
    url, user, count, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    variant = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    db = Database(url)
    journal = JournalService(db, default_catalogue(), now=lambda: dt.datetime(2026, 1, 2, 9))
    tag = f"{mode}-{time.monotonic_ns()}"
    for i in range(count):
        journal.record(user, NoteEntry(note=f"{tag} {i}"), day=dt.date(2026, 1, 1))
        print(f"committed {i}", flush=True)
    if mode == "commit":
        from tests.journal.factory import request, stub_plan

        journal.save_plan(user, stub_plan(request(10, percent=10 + variant)), reason=tag)
        print("done", flush=True)
        return
    with db.transaction() as s:
        s.add(
            Entry(
                user_id=user,
                kind="note",
                entry_date=dt.date(2026, 1, 1),
                data=NoteEntry(note="uncommitted").model_dump(mode="json"),
            )
        )
        s.flush()
        print("in-transaction", flush=True)
        time.sleep(600)


if __name__ == "__main__":
    main()
