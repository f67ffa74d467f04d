"""Web Push dose reminders: the server's VAPID key, browsers' subscriptions, and sending the
reminders that are due, each at the dose's time on the person's own clock.

pywebpush encrypts each message for the browser (RFC 8291, aes128gcm) and signs the request
with the server's VAPID key (RFC 8292); the push service (the browser vendor's) delivers it to
the service worker, which shows the notification. Reminders are claimed in the database before
they are sent (``push_reminders`` is unique per person, day and dose time), so several worker
processes, or a restart, never send one twice.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from benzotaper.errors import InputError
from benzotaper.storage import Database, User
from benzotaper.storage.push import PushKey, PushReminder, PushSubscription
from benzotaper.web import clock

log = logging.getLogger(__name__)
#: Policy: a dose reminder is sent from its time until this many minutes after (a server that
#: was down longer does not send stale reminders).
SEND_WINDOW_MINUTES = 30
#: Policy: how often the scheduler looks for due reminders.
CHECK_EVERY_SECONDS = 60
#: Policy: a reminder the push service cannot deliver within this time is dropped.
TTL_SECONDS = 30 * 60
_KEY_ID = 1


@dataclass(frozen=True)
class Keys:
    private_pem: str
    public_key: str  # base64url, uncompressed P-256 point: the browser's applicationServerKey


def _public_of(vapid: Any) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def keys(db: Database, configured_pem: str | None = None) -> Keys:
    """The VAPID key pair: from the settings if given, else the database's (made on first use)."""
    from py_vapid import Vapid

    if configured_pem:
        vapid = Vapid.from_pem(configured_pem.encode())
        return Keys(configured_pem, _public_of(vapid))
    with db.read() as s:
        row = s.get(PushKey, _KEY_ID)
        if row is not None:
            return Keys(row.private_pem, row.public_key)
    vapid = Vapid()
    vapid.generate_keys()
    pem = vapid.private_pem().decode()
    try:
        with db.transaction() as s:
            s.add(PushKey(id=_KEY_ID, private_pem=pem, public_key=_public_of(vapid)))
    except IntegrityError:  # another worker made it first: use theirs
        pass
    with db.read() as s:
        row = s.get_one(PushKey, _KEY_ID)
        return Keys(row.private_pem, row.public_key)


def subscribe(db: Database, user_id: int, subscription: dict[str, Any]) -> None:
    """Keep a browser's subscription (``PushSubscription.toJSON()``) for ``user_id``."""
    endpoint = str(subscription.get("endpoint") or "")
    raw_keys = subscription.get("keys")
    sub_keys: dict[str, Any] = raw_keys if isinstance(raw_keys, dict) else {}
    p256dh, auth = str(sub_keys.get("p256dh") or ""), str(sub_keys.get("auth") or "")
    if not endpoint.startswith(("https://", "http://")) or len(endpoint) > 1000:
        raise InputError("This browser gave no usable push address.")
    if not (20 <= len(p256dh) <= 200 and 8 <= len(auth) <= 100):
        raise InputError("This browser gave no usable push keys.")
    with db.transaction() as s:
        s.execute(delete(PushSubscription).where(PushSubscription.endpoint == endpoint))
        s.add(PushSubscription(user_id=user_id, endpoint=endpoint, p256dh=p256dh, auth=auth))


def unsubscribe(db: Database, user_id: int, endpoint: str | None = None) -> int:
    """Forget one browser's subscription (or all of the person's); returns how many."""
    stmt = delete(PushSubscription).where(PushSubscription.user_id == user_id)
    if endpoint is not None:
        stmt = stmt.where(PushSubscription.endpoint == endpoint)
    with db.transaction() as s:
        return int(s.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def subscription_count(db: Database, user_id: int) -> int:
    with db.read() as s:
        rows = s.scalars(select(PushSubscription.id).where(PushSubscription.user_id == user_id))
        return len(list(rows))


def send(db: Database, user_id: int, message: dict[str, str], key: Keys, contact: str) -> int:
    """Send ``message`` (title, body, url, tag) to each of the person's browsers; returns how
    many push services accepted it. A subscription the service says is gone is removed."""
    from py_vapid import Vapid
    from pywebpush import WebPushException, webpush

    with db.read() as s:
        subs = [
            (x.endpoint, x.p256dh, x.auth)
            for x in s.scalars(select(PushSubscription).where(PushSubscription.user_id == user_id))
        ]
    vapid = Vapid.from_pem(key.private_pem.encode())
    sent = 0
    for endpoint, p256dh, auth in subs:
        info = {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}
        try:
            webpush(
                info,
                json.dumps(message),
                vapid_private_key=vapid,
                vapid_claims={"sub": contact},
                ttl=TTL_SECONDS,
                timeout=10,
            )
            sent += 1
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in (404, 410):
                unsubscribe(db, user_id, endpoint)
            log.warning("push to one browser failed (%s)", status)
    return sent


@dataclass(frozen=True)
class Due:
    user_id: int
    day: dt.date
    time: str
    message: dict[str, str]


def due_reminders(db: Database, now: dt.datetime) -> list[Due]:
    """Dose reminders due at ``now`` (aware): each subscribed patient's planned doses whose time
    has come on their own clock, within the window, not yet recorded in the journal."""
    from benzotaper.services.journal import JournalService
    from benzotaper.web.deps import get_knowledge
    from benzotaper.web.today import day_doses

    with db.read() as s:
        people = s.execute(
            select(User.id, User.time_zone)
            .join(PushSubscription, PushSubscription.user_id == User.id)
            .where(User.role == "patient")
            .distinct()
        ).all()
    out: list[Due] = []
    journal = JournalService(db, get_knowledge())
    for user_id, tz in people:
        local = clock.now_in(tz, now)
        for state in day_doses(journal, user_id, local.date()):
            hour, minute = (int(x) for x in state.dose.time.split(":"))
            due = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
            late = (local - due).total_seconds() / 60
            if state.done or not 0 <= late <= SEND_WINDOW_MINUTES:
                continue
            out.append(Due(user_id, local.date(), state.dose.time, reminder(state.dose)))
    return out


def reminder(dose: Any) -> dict[str, str]:
    """The notification's words: the time and the pieces to take. No drug name: a lock screen
    is seen by others, and the pieces are what the person needs."""
    pieces = " + ".join(p.text for p in dose.make_up) if dose.make_up else f"{dose.mg:g} mg"
    return {
        "title": f"{dose.time} dose",
        "body": f"Time for your {dose.time} dose: {pieces}. Tap to record it.",
        "url": "/today",
        "tag": f"dose-{dose.time}",
    }


def claim(db: Database, due: Due) -> bool:
    """Record that this reminder is being sent; False when someone already did."""
    try:
        with db.transaction() as s:
            s.add(PushReminder(user_id=due.user_id, local_day=due.day, dose_time=due.time))
    except IntegrityError:
        return False
    return True


def send_due(db: Database, now: dt.datetime, key: Keys, contact: str) -> int:
    """Send every reminder due at ``now``; returns how many browsers were reached."""
    reached = 0
    for due in due_reminders(db, now):
        if claim(db, due):
            reached += send(db, due.user_id, due.message, key, contact)
    return reached


async def scheduler(db: Database, configured_pem: str | None, contact: str) -> None:
    """Every minute, send the reminders that are due (runs in each worker; claims keep each
    reminder single)."""
    import asyncio

    while True:
        await asyncio.sleep(CHECK_EVERY_SECONDS)
        try:
            key = await asyncio.to_thread(keys, db, configured_pem)
            now = dt.datetime.now(dt.UTC)
            await asyncio.to_thread(send_due, db, now, key, contact)
        except Exception:  # the scheduler must outlive one bad round (logged, retried)
            log.exception("sending due push reminders failed")
