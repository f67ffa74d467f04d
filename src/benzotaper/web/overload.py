"""Bounded work under overload: a request waits a short while for a slot, or is refused with 503.

Without a bound a burst queues every request in the thread pool and the server keeps working
off a backlog whose clients have long given up (45 s of silence after a 30 s burst was seen).
Here each worker process runs at most ``max_in_flight`` requests at once; a request that cannot
start within ``queue_timeout_s`` gets ``503 Service Unavailable`` with ``Retry-After`` at once,
so the server stays responsive and clients retry. Static files and the health of the process
are not affected (they are cheap and never wait for the database).
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

#: Policy: requests served at once per worker (the thread pool has 40 threads; two cores).
DEFAULT_MAX_IN_FLIGHT = 16
#: Policy: how long a request may wait for a slot before it is refused with 503.
DEFAULT_QUEUE_TIMEOUT_S = 5.0
_BUSY = b"The server is busy. Please try again in a moment."


class BoundedConcurrency:
    """ASGI middleware: at most ``limit`` HTTP requests in flight; waiters time out with 503."""

    def __init__(self, app: ASGIApp, limit: int, queue_timeout_s: float) -> None:
        self.app = app
        self.limit = limit
        self.queue_timeout_s = queue_timeout_s
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith("/static/"):
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # made in the server's event loop
            self._slots = asyncio.Semaphore(self.limit)
        slots = self._slots
        if not slots.locked():  # a free slot (and nobody waiting): taken at once
            await slots.acquire()
        else:  # a timer and a task only for a request that waits
            try:
                await asyncio.wait_for(slots.acquire(), self.queue_timeout_s)
            except TimeoutError:
                await _refuse(send)
                return
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()


async def _refuse(send: Send) -> None:
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"retry-after", b"1"),
        (b"cache-control", b"no-store"),
    ]
    start: dict[str, Any] = {"type": "http.response.start", "status": 503, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": _BUSY})
