"""The first check on every request, before anything parses it: size and the NUL character.

- A body larger than ``max_body`` bytes is refused with 413 before it is read into memory
  (by its Content-Length, or while it streams in when it has none).
- A NUL character (``\\0``) anywhere a person's text can arrive (the path, the query, a form,
  a JSON string as ``\\u0000``) is refused with 422: PostgreSQL cannot store it, no person
  types it, and refusing it here means no route can stumble on it.

The request models bound every field too (``benzotaper.limits``); this is the edge's own guard,
so a route that forgets a bound still cannot be flooded. Pure ASGI, so nothing is buffered twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: ``\u0000`` in JSON text, not preceded by an escaped backslash (``\\u0000`` is literal text).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_URL_NUL = re.compile(rb"%00|\x00")
NUL_MESSAGE = "Text cannot contain the NUL character (\\0)."


def answers_json(path: str) -> bool:
    """Whether requests to ``path`` are answered in JSON (the API, CDS Hooks, the health
    check), errors included; every other path is a page and is answered in HTML."""
    return path.startswith(("/api/", "/cds-services")) or path == "/healthz"


class _TooLarge(Exception):
    pass


def has_nul(body: bytes, content_type: str) -> bool:
    """Whether ``body`` (of ``content_type``) carries a NUL character in any of its values."""
    if b"\x00" in body:
        return True
    if content_type.startswith("application/x-www-form-urlencoded"):
        return _URL_NUL.search(body) is not None
    if "json" in content_type:
        return _JSON_NUL.search(body) is not None
    return False


class RequestGuard:
    """ASGI middleware: 413 for bodies over ``max_body`` bytes, 422 for a NUL character."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        target = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
        if _URL_NUL.search(target):
            await self._refuse(scope, send, 422, NUL_MESSAGE)
            return
        length = headers.get("content-length", b"")
        if length.isdigit() and int(length) > self.max_body:
            await self._refuse(scope, send, 413, self._size_message())
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive, self.max_body)
        except _TooLarge:
            await self._refuse(scope, send, 413, self._size_message())
            return
        content_type = headers.get("content-type", b"").decode("latin-1").lower()
        if has_nul(body, content_type):
            await self._refuse(scope, send, 422, NUL_MESSAGE)
            return
        await self.app(scope, replay_body(body, receive), send)

    def _size_message(self) -> str:
        return f"The request is too large: at most {self.max_body // 1024} KiB can be sent at once."

    async def _refuse(self, scope: Scope, send: Send, status: int, message: str) -> None:
        path: str = scope.get("path", "")
        if answers_json(path):
            kind = "body_too_large" if status == 413 else "nul_character"
            detail: Any = (
                message if status == 413 else [{"loc": ["body"], "msg": message, "type": kind}]
            )
            body = json.dumps({"detail": detail}).encode()
            media = b"application/json"
        else:
            title = "Too large" if status == 413 else "Please check what you entered"
            body = (
                f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}'
                f"</title></head><body><h1>{title}</h1><p>{message}</p>"
                '<p><a href="/">Go to the home page</a></p></body></html>'
            ).encode()
            media = b"text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", media),
                    (b"content-length", str(len(body)).encode()),
                    # a body not read is not wanted: the connection cannot be reused
                    *([(b"connection", b"close")] if status == 413 else []),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive, limit: int | None = None) -> bytes:
    """The whole request body (raises _TooLarge past ``limit`` bytes)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` once, then whatever the client sends next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
