"""Kept answers: a read page's whole answer kept per process, checked by one read per request.

Today, My plan, Journal and ``/api/status`` (without a query) and the builder's preview are
asked again and again with nothing changed in between. Their service answers are remembered
already (``services.summary.remembered``), yet each request still paid for routing, the
dependencies, a hop to the thread pool, two more read transactions and the template: 2-5 ms
of CPU, when 50 people using the app without pause need about 2 ms per request on one worker.

This middleware keeps the complete answer (status, headers, body) the normal path gave, under a
key naming everything that answer depends on, and checks the key on every request with one
read of the database, the session check itself (``accounts.load_session``):

- the signed-in person as their session row says now (id, e-mail, role, name, time zone and
  the session's CSRF token, which pages carry): an expired or revoked session finds nobody,
  and the request takes the normal path, which refuses it;
- where their journal and plans stand (the summary's revision and time of change, moved by
  every change through the journal service, in any worker process): a change is seen at once;
- their day (the pages' "today"; the server's date for the preview, as the builder reads it);
- what the request says that the page reads, as the route reads it (the first header of a
  name): ``Accept-Language`` (dates in the reader's locale) and the posted form with its
  ``Content-Type`` (the preview); and for My plan the clinician suggestions shown on it (read
  in the same transaction). Nothing else of the request is read by these routes
  (``HX-Request`` included: tests compare the answers with and without it).

A request with a query string, a ``flash`` cookie (a page may show and clear it), no session or
a session without a summary takes the normal path, as does a preview whose ``X-CSRF-Token``
header is not the session's (the normal path refuses it). Only a 200 answer that sets no cookie
is kept. Forms' one-time tokens (``form_token``, ``web.idempotency``) are made afresh for every
answer, as the normal path makes them. The middleware sits inside the others (overload, guard,
security headers), so a kept answer passes them like any other.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import cookie_parser

from benzotaper.lru import LRU
from benzotaper.storage import Database
from benzotaper.web.accounts import SESSION_COOKIE, Identity, Stamp, load_session
from benzotaper.web.clock import today_for
from benzotaper.web.deps import SESSION_READ, session_token
from benzotaper.web.flash import COOKIE as FLASH_COOKIE
from benzotaper.web.guard import ASGIApp, Message, Receive, Scope, Send, read_body, replay_body
from benzotaper.web.security import CSRF_HEADER, new_token

#: Policy: answers kept per worker process (a page is 10-60 KiB: at most ~15 MB).
KEPT = 256
#: Policy: the largest answer kept (a larger one is sent, and made again next time).
MAX_KEPT_BYTES = 256 * 1024
#: A form's one-time token as ``templating.form_token`` writes it (``security.new_token``).
_FORM_TOKEN = re.compile(rb'(?<=name="form_token" value=")[A-Za-z0-9_-]{43}(?=")')
_CSRF_HEADER = CSRF_HEADER.lower().encode()


def _person_day(identity: Identity) -> dt.date:
    return today_for(identity)


def _server_day(_identity: Identity) -> dt.date:
    from benzotaper.web.routes.builder import today

    return today()


def _suggestions(connection: Connection, identity: Identity) -> Hashable:
    from benzotaper.storage.suggestions import made_to

    return repr(made_to(connection, identity.id))


@dataclass(frozen=True)
class Kind:
    """What a route's answer depends on beyond the person and the request's headers."""

    #: the person's day as the route reads it
    day: Callable[[Identity], dt.date]
    #: whether it reads the journal or plans (then keyed by the summary stamp; without a
    #: summary, the journal is read afresh each time and nothing is kept)
    journal: bool = True
    #: anything else it reads, read in the same transaction as the session
    extra: Callable[[Connection, Identity], Hashable] | None = None


#: The routes whose answers are kept: (method, path) -> what they depend on.
ROUTES: dict[tuple[str, str], Kind] = {
    ("GET", "/today"): Kind(_person_day),
    ("GET", "/my-plan"): Kind(_person_day, extra=_suggestions),
    ("GET", "/journal"): Kind(_person_day),
    ("GET", "/api/status"): Kind(_person_day),
    ("POST", "/plan/preview"): Kind(_server_day, journal=False),
}


@dataclass(frozen=True)
class Answer:
    """A kept answer: status, headers and the body split where forms' one-time tokens go."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    parts: tuple[bytes, ...]

    @classmethod
    def of(cls, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Answer:
        return cls(status, tuple(headers), tuple(_FORM_TOKEN.split(body)))

    def body(self) -> bytes:
        """The body with a fresh one-time token in each form (the same length as before)."""
        chunks = [self.parts[0]]
        for part in self.parts[1:]:
            chunks += [new_token().encode(), part]
        return b"".join(chunks)

    async def send(self, send: Send) -> None:
        start = {"type": "http.response.start", "status": self.status, "headers": [*self.headers]}
        await send(start)
        await send({"type": "http.response.body", "body": self.body()})


@dataclass(frozen=True)
class _Read:
    """What the request's one read found: the person, their stamp and the route's extra."""

    identity: Identity
    stamp: Stamp | None
    extra: Hashable


def _read(db: Database, token: str, kind: Kind) -> tuple[_Read | None, Any]:
    """The session (as ``deps.session_of`` finds it) and the route's extra, in one read
    transaction; and the session's read as ``deps.current_identity`` takes it over."""
    with db.read_rows() as connection:
        found = load_session(connection, token)
        if found is None:
            return None, None
        identity, stamp = found
        extra = kind.extra(connection, identity) if kind.extra is not None else None
    return _Read(identity, stamp, extra), found


#: The request headers a kept route reads (Starlette's ``request.headers.get`` and
#: ``request.cookies``: the first of each name), and ``X-CSRF-Token`` for a preview's check.
_READ_HEADERS = (b"cookie", b"accept-language", b"content-type", _CSRF_HEADER)


def _request_headers(scope: Scope) -> dict[bytes, bytes]:
    """The first value of each header in :data:`_READ_HEADERS` (b"" when absent), as the
    routes read them."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _READ_HEADERS and name not in found:
            found[name] = value
    return found


#: Every app's kept answers in this process (for :func:`forget`).
_STORES: weakref.WeakSet[KeptAnswers] = weakref.WeakSet()


def forget() -> None:
    """Forget every kept answer in this process (benchmarks measure the first read after a
    change with it: a change moves the stamp, so its answers would be made anew anyway)."""
    for store in list(_STORES):
        store.kept.clear()


class KeptAnswers:
    """ASGI middleware keeping the answers of :data:`ROUTES` (see the module docstring)."""

    def __init__(self, app: ASGIApp, db: Callable[[], Database]) -> None:
        self.app = app
        self.db = db
        self.kept: LRU[tuple[Any, ...], Answer] = LRU(KEPT)
        _STORES.add(self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = ROUTES.get((scope["method"], scope["path"])) if scope["type"] == "http" else None
        if kind is None or scope.get("query_string"):
            await self.app(scope, receive, send)
            return
        headers = _request_headers(scope)
        cookies = cookie_parser(headers.get(b"cookie", b"").decode("latin-1"))
        token = session_token(cookies.get(SESSION_COOKIE))
        if token is None or FLASH_COOKIE in cookies:
            await self.app(scope, receive, send)
            return
        body = b""
        if scope["method"] == "POST":
            body = await read_body(receive)
            receive = replay_body(body, receive)
        db = self.db()
        if db.local:  # as deps.read_session: a local read is cheaper than the hop
            read, found = _read(db, token, kind)
        else:
            read, found = await run_in_threadpool(_read, db, token, kind)
        scope.setdefault("state", {})[SESSION_READ] = (token, found)
        asked = (headers.get(b"accept-language"), headers.get(b"content-type"), body)
        key = self._key(scope, kind, read, asked)
        post = scope["method"] == "POST"
        if key is None or (post and not self._csrf_sent(read, headers.get(_CSRF_HEADER, b""))):
            await self.app(scope, receive, send)
            return
        kept = self.kept.get(key)
        if kept is not None:
            await kept.send(send)
            return
        await self._keep(key, scope, receive, send)

    @staticmethod
    def _key(
        scope: Scope, kind: Kind, read: _Read | None, asked: tuple[bytes | None, ...]
    ) -> tuple[Any, ...] | None:
        """The answer's key, or None when it cannot be kept (nobody signed in, no summary)."""
        if read is None or (kind.journal and read.stamp is None):
            return None
        stamp = read.stamp if kind.journal else None
        day = kind.day(read.identity)
        return (scope["method"], scope["path"], read.identity, stamp, day, read.extra, *asked)

    @staticmethod
    def _csrf_sent(read: _Read | None, sent: bytes) -> bool:
        """Whether a post carries the session's CSRF token in its header (as htmx sends it);
        any other post takes the normal path, which checks the form field or refuses."""
        expected = read.identity.csrf_token.encode() if read is not None else b""
        return bool(sent) and hmac.compare_digest(sent, expected)

    async def _keep(self, key: tuple[Any, ...], scope: Scope, receive: Receive, send: Send) -> None:
        """The normal path's answer, sent as it comes and kept if it can be."""
        status = 0
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        whole = True

        async def capture(message: Message) -> None:
            nonlocal status, headers, whole
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                whole = not message.get("more_body", False)
            await send(message)

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        cookie = any(name.lower() == b"set-cookie" for name, _ in headers)
        if status == 200 and whole and not cookie and len(body) <= MAX_KEPT_BYTES:
            self.kept.put(key, Answer.of(status, headers, body))
