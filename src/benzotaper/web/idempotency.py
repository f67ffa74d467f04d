"""A retried write is stored once: ``Idempotency-Key`` on API writes, a form token on pages.

An answer can be lost after the write committed (a dropped connection, a phone going into a
tunnel); the client then retries and, without this, the entry is stored twice. A signed-in
person's unsafe request (POST, PUT, PATCH, DELETE) that carries an ``Idempotency-Key`` header
(API) or a ``form_token`` field (every page form has a fresh one) is recorded with its answer:

- the first request with a key runs, and its answer (status, body, a few headers; never a
  cookie) is kept for ``KEEP``;
- the same key again, with the same method, path and body, gets the kept answer (with
  ``Idempotent-Replayed: true``) and nothing runs again;
- the same key while the first is still running gets 409; with a different request, 422;
- an answer that means nothing was done (401, 403, 409, 429, 5xx) is not kept: the retry runs
  again.

Keys are scoped per person (two people may use the same key) and expire after ``KEEP``. If the
server itself dies between the write and keeping the answer, the key stays "running": a retry
gets 409 and is told to check whether the first attempt was saved, never a silent duplicate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import anyio.to_thread
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from benzotaper.storage import Database, utcnow
from benzotaper.storage.access import IdempotencyKey, WebSession
from benzotaper.web.guard import ASGIApp, Message, Receive, Scope, Send, read_body, replay_body

HEADER = b"idempotency-key"
FORM_FIELD = "form_token"
#: Policy: how long a key and its answer are kept.
KEEP = dt.timedelta(hours=24)
#: Policy: the longest answer kept (larger ones are sent but not kept: the retry runs again).
MAX_KEPT_BYTES = 256 * 1024
_KEY_RE = re.compile(r"^[\x21-\x7e]{8,200}$")
_KEPT_HEADERS = {b"content-type", b"location", b"content-disposition", b"retry-after"}
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Posts that only compute (nothing is stored): answered afresh every time.
COMPUTE_ONLY = frozenset(
    {
        "/api/plan",
        "/api/compare",
        "/api/simulate",
        "/api/convert",
        "/plan/new",
        "/plan/preview",
        "/plan/compare",
        "/convert",
    }
)
#: Posts that carry a password: never keyed, so no digest of a password is ever stored (a
#: retried password change is refused as "not your current password", which says so).
SECRET_BODIES = frozenset(
    {"/account/password", "/account/delete", "/api/account/password", "/api/account/delete"}
)
#: Answers that mean nothing was done (not signed in, forbidden or a bad CSRF token, busy,
#: throttled): a retry with the same key runs again.
_NOT_KEPT = frozenset({401, 403, 409, 429})


def _user_id(db: Database, scope: Scope) -> int | None:
    from benzotaper.web.accounts import SESSION_COOKIE, token_hash

    cookies = _cookies(scope)
    token = cookies.get(SESSION_COOKIE)
    if not token or not 20 <= len(token) <= 100:
        return None
    with db.read() as s:
        row = s.scalar(
            select(WebSession.user_id).where(
                WebSession.token_hash == token_hash(token), WebSession.expires_at > utcnow()
            )
        )
    return row


def _cookies(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                out.setdefault(k, v)
    return out


def _key_of(scope: Scope, body: bytes) -> tuple[str | None, bool]:
    """The request's key, and whether it came from a page form (not the API header)."""
    for name, value in scope.get("headers", []):
        if name == HEADER:
            return str(value.decode("latin-1")), False
    headers = {k: v for k, v in scope.get("headers", [])}
    if headers.get(b"content-type", b"").startswith(b"application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("utf-8", "replace")).get(FORM_FIELD)
        return (values[0], True) if values else (None, True)
    return None, False


class Idempotency:
    """ASGI middleware keeping answers to keyed writes (see the module docstring)."""

    def __init__(self, app: ASGIApp, db: Callable[[], Database]) -> None:
        self.app = app
        self.db = db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") not in _UNSAFE
            or scope.get("path") in COMPUTE_ONLY
            or scope.get("path") in SECRET_BODIES
        ):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        replay = replay_body(body, receive)
        key, from_form = _key_of(scope, body)
        if key is None:
            await self.app(scope, replay, send)
            return
        if not _KEY_RE.match(key):
            await _answer(send, 422, "The Idempotency-Key must be 8-200 printable characters.")
            return
        db = self.db()
        user_id = await anyio.to_thread.run_sync(_user_id, db, scope)
        if user_id is None:  # keys are per person; anonymous writes store nothing anyway
            await self.app(scope, replay, send)
            return
        digest = _digest(scope, body)
        kept = await anyio.to_thread.run_sync(_begin, db, user_id, key, scope, digest)
        if kept is not None and from_form and kept.request_hash != digest:
            # the same page form sent again with other values (htmx re-posts a form as it is
            # edited): a new request, answered afresh and not kept
            await self.app(scope, replay, send)
            return
        if kept is not None:
            await _send_kept(send, kept, digest)
            return
        await self._run(db, user_id, key, scope, replay, send)

    async def _run(
        self, db: Database, user_id: int, key: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        size = 0

        async def capture(message: Message) -> None:
            nonlocal status, headers, size
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k.lower(), v) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                size += len(chunk)
                if size <= MAX_KEPT_BYTES:
                    chunks.append(chunk)
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            body = b"".join(chunks)
            keep = size <= MAX_KEPT_BYTES and status not in _NOT_KEPT and status < 500
            await anyio.to_thread.run_sync(_finish, db, user_id, key, status, headers, body, keep)


def _digest(scope: Scope, body: bytes) -> str:
    h = hashlib.sha256()
    for part in (scope.get("method", ""), scope.get("path", ""), scope.get("query_string", b"")):
        h.update(part if isinstance(part, bytes) else str(part).encode())
        h.update(b"\x1f")
    if FORM_FIELD.encode() in body:  # the token itself is not part of what was asked
        pairs = [p for p in body.split(b"&") if not p.startswith(FORM_FIELD.encode() + b"=")]
        pairs = [p for p in pairs if not p.startswith(b"csrf_token=")]
        body = b"&".join(sorted(pairs))
    h.update(body)
    return h.hexdigest()


def _begin(
    db: Database, user_id: int, key: str, scope: Scope, digest: str
) -> IdempotencyKey | None:
    """Record the key as running (None: go ahead), or return the row already there."""
    now = utcnow()
    try:
        with db.transaction() as s:
            s.execute(
                delete(IdempotencyKey).where(
                    IdempotencyKey.user_id == user_id, IdempotencyKey.created_at < now - KEEP
                )
            )
            s.add(
                IdempotencyKey(
                    user_id=user_id,
                    key=key,
                    request_hash=digest,
                    path=str(scope.get("path", ""))[:500],
                    created_at=now,
                )
            )
        return None
    except IntegrityError:
        with db.read() as s:
            row = s.scalar(
                select(IdempotencyKey).where(
                    IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
                )
            )
        if row is None:  # kept answer expired and removed meanwhile: run it again
            return _begin(db, user_id, key, scope, digest)
        return row


def _finish(
    db: Database,
    user_id: int,
    key: str,
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    keep: bool,
) -> None:
    where = (IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    with db.transaction() as s:
        if not keep:
            s.execute(delete(IdempotencyKey).where(*where))
            return
        kept = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers if k in _KEPT_HEADERS}
        s.execute(
            update(IdempotencyKey)
            .where(*where)
            .values(status=status, headers=kept, body=body, finished_at=utcnow())
        )


async def _send_kept(send: Send, row: IdempotencyKey, digest: str) -> None:
    if row.request_hash != digest:
        await _answer(
            send,
            422,
            "This Idempotency-Key was already used for a different request: use a new key "
            "for a new request.",
        )
        return
    if row.status is None:
        await _answer(
            send,
            409,
            "A request with this Idempotency-Key is still being handled, or was interrupted. "
            "Check whether it was saved before sending it again with a new key.",
        )
        return
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (row.headers or {}).items()]
    body = row.body or b""
    headers += [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]
    await send({"type": "http.response.start", "status": row.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _answer(send: Send, status: int, message: str) -> None:
    detail: Any = (
        [{"loc": ["header", "Idempotency-Key"], "msg": message, "type": "idempotency_key"}]
        if status == 422
        else message
    )
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
