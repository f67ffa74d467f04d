"""A separate writer process for the durability tests (run as a script, not collected).

usage: writer.py URL USER_ID COUNT MODE
  MODE "commit": COUNT entries, one transaction each, then also save a plan version.
  MODE "hang":   COUNT committed entries, then one more inside an open transaction; waits.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

from benzotaper.journal.entries import NoteEntry
from benzotaper.storage import Database, Entry
from benzotaper.storage.journal import JournalStore


def main() -> None:
    url, user, count, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    db = Database(url)
    store = JournalStore(db)
    tag = f"{mode}-{time.monotonic_ns()}"
    for i in range(count):
        store.add_entry(user, dt.date(2026, 1, 1), NoteEntry(note=f"{tag} {i}"))
        print(f"committed {i}", flush=True)
    if mode == "commit":
        from tests.journal.factory import request, stub_plan

        store.save_plan(
            user, stub_plan(request(10)), reason=tag, effective_from=dt.date(2026, 1, 1)
        )
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
