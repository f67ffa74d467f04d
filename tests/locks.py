"""A writer holding the database's write lock while a test checks that reads do not wait."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from benzotaper.storage import Database, User


@contextmanager
def writer_holding_the_lock(db: Database, email: str = "writer@example.org") -> Iterator[None]:
    """Inside: another thread has written a row (not committed) and holds the lock."""
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with db.transaction() as s:
            s.add(User(email=email))
            s.flush()
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(10)
        yield
    finally:
        release.set()
        thread.join()
