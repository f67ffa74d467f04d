"""Slowing down password guessing (and registration floods) without locking anyone out.

Every login attempt first *claims* a slot in each of its buckets, in one short write
transaction, before the password is checked; the claim reads each bucket's row under a row lock
(PostgreSQL ``SELECT ... FOR UPDATE``; SQLite's write lock), so concurrent attempts are counted
exactly, whatever the number of workers. A bucket allows ``allowance`` attempts freely; after
that each attempt must wait, doubling each time (1 s, 2 s, 4 s, ... up to the window), instead
of a hard lock. A bucket's count is forgotten after a quiet window.

Buckets (software policy; see README "Running for a clinic"):

- from a **trusted device** (a browser that signed in to this account before; ``bt_device``
  cookie): only that device's own bucket. Nobody else's failures slow the owner down, even
  behind the same proxy address.
- otherwise: the **account** (all clients together), the **account from this address**, and
  the **address** (all accounts, ``CLIENT_FACTOR`` times the allowance). Someone who knows an
  email can slow down logins to it from new devices, but never lock the owner out.
- **registrations** from one address: ``REGISTRATIONS`` per hour, then the same backoff.

A correct password clears the account's buckets and gives back the address's slot. Keys are
stored as SHA-256 digests: the table never holds an email address or an IP address in clear.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from benzotaper.errors import InputError
from benzotaper.storage import utcnow
from benzotaper.storage.access import LoginThrottle

#: Policy: an address gets this many times the per-account allowance (many people share one).
CLIENT_FACTOR = 5
#: Policy: accounts one address may create per hour before registration slows down.
REGISTRATIONS = 10
REGISTRATION_WINDOW = dt.timedelta(hours=1)
#: Policy: the first wait after the allowance is spent; it doubles with each attempt.
FIRST_WAIT_S = 1.0
#: ``next_at`` of a bucket that makes nobody wait: long past, whatever any worker's clock says.
NOT_WAITING = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class RateLimitedError(InputError):
    """Too many attempts lately: try again after ``retry_after_s`` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Bucket:
    """One thing attempts are counted against (``kind`` and its value) and its allowance."""

    kind: str
    value: str
    allowance: int
    window: dt.timedelta

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.kind}\x1f{self.value}".encode()).hexdigest()


def login_buckets(
    account: str, client: str, device: str | None, max_failures: int, window: dt.timedelta
) -> list[Bucket]:
    """The buckets a login attempt counts against (``device``: a trusted device's id)."""
    if device is not None:
        return [Bucket("device", f"{device}\x1f{account}", max_failures, window)]
    return [
        Bucket("account", account, max_failures, window),
        Bucket("pair", f"{account}\x1f{client}", max_failures, window),
        Bucket("client", client, max_failures * CLIENT_FACTOR, window),
    ]


def registration_bucket(client: str) -> Bucket:
    return Bucket("register", client, REGISTRATIONS, REGISTRATION_WINDOW)


def wait_after(attempts: int, bucket: Bucket) -> dt.timedelta:
    """How long the next attempt waits after ``attempts`` in the window (0 within allowance)."""
    if attempts < bucket.allowance:
        return dt.timedelta(0)
    seconds = FIRST_WAIT_S * 2.0 ** min(attempts - bucket.allowance, 40)
    return min(dt.timedelta(seconds=seconds), bucket.window)


def claim(session: Session, buckets: Iterable[Bucket], what: str) -> None:
    """Count one attempt in every bucket, or raise RateLimitedError (nothing counted).

    Call inside a write transaction of its own and commit it before the slow work (hashing):
    the row locks are held only for these few statements.
    """
    ordered = sorted(buckets, key=lambda b: b.key)  # one lock order: no deadlock between workers
    _ensure_rows(session, [b.key for b in ordered], utcnow())
    rows = {
        r.key: r
        for r in session.scalars(
            select(LoginThrottle)
            .where(LoginThrottle.key.in_([b.key for b in ordered]))
            .order_by(LoginThrottle.key)
            .with_for_update()
        )
    }
    # The time is read once the rows are locked: an attempt that waited for the lock is not
    # judged by a clock older than the attempt that went before it.
    now = utcnow()
    waits = [rows[b.key].next_at - now for b in ordered if rows[b.key].next_at > now]
    if waits:
        wait = max(waits)
        seconds = max(1, int(wait.total_seconds() + 0.999))
        raise RateLimitedError(
            f"Too many {what} lately. Please wait {_words(seconds)} and try again.", seconds
        )
    for bucket in ordered:
        row = rows[bucket.key]
        stale = row.last_at < now - bucket.window
        row.attempts = 1 if stale else row.attempts + 1
        row.last_at = now
        wait = wait_after(row.attempts, bucket)
        row.next_at = now + wait if wait else NOT_WAITING


def succeeded(session: Session, buckets: Iterable[Bucket]) -> None:
    """A correct password: clear the account's buckets, give the address's slot back."""
    now = utcnow()
    for bucket in buckets:
        row = session.get(LoginThrottle, bucket.key, with_for_update=True)
        if row is None:
            continue
        if bucket.kind == "client":
            row.attempts = max(0, row.attempts - 1)
            wait = wait_after(row.attempts, bucket)
            row.next_at = now + wait if wait else NOT_WAITING
        else:
            session.delete(row)
    # Housekeeping: rows quiet for a day are of no use to anybody.
    session.execute(delete(LoginThrottle).where(LoginThrottle.last_at < now - dt.timedelta(days=1)))


def _ensure_rows(session: Session, keys: list[str], now: dt.datetime) -> None:
    values = [{"key": k, "attempts": 0, "last_at": now, "next_at": NOT_WAITING} for k in keys]
    if session.get_bind().dialect.name == "postgresql":
        pg = pg_insert(LoginThrottle).values(values)
        session.execute(pg.on_conflict_do_nothing(index_elements=["key"]))
    else:
        lite = sqlite_insert(LoginThrottle).values(values)
        session.execute(lite.on_conflict_do_nothing(index_elements=["key"]))


def _words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{(seconds + 59) // 60} minutes"
