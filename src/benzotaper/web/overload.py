"""Bounded work under overload: a request waits a short while for a slot, or is refused with 503.

Without a bound a burst queues every request in the thread pool and the server keeps working
off a backlog whose clients have long given up (45 s of silence after a 30 s burst was seen).
Here each worker process runs at most ``max_in_flight`` requests at once; a request that cannot
start within ``queue_timeout_s`` gets ``503 Service Unavailable`` with ``Retry-After`` at once,
so the server stays responsive and clients retry. Static files and the health of the process
are not affected (they are cheap and never wait for the database).

A waiting request listens to its connection: if its client goes away (a closed tab, a proxy's
timeout, a client that gave up) it leaves the queue and its work never runs, so a slot is not
spent on an answer nobody will read. A request that has started runs to its end: its work is
not interrupted half-way (a journal write is stored, or not at all), and an answer to a client
that has gone is dropped by the server.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Policy: requests served at once per worker (the thread pool has 40 threads; two cores).
DEFAULT_MAX_IN_FLIGHT = 16
#: Policy: how long a request may wait for a slot before it is refused with 503.
DEFAULT_QUEUE_TIMEOUT_S = 5.0
#: While it waits, a request's body is read ahead (to see past it to a disconnect) up to this
#: many bytes; beyond it the request waits without listening (uvicorn's own read-ahead limit).
LISTEN_BODY_LIMIT = 65_536
_BUSY = b"The server is busy. Please try again in a moment."


class BoundedConcurrency:
    """ASGI middleware: at most ``limit`` HTTP requests in flight; waiters time out with 503,
    and a waiter whose client disconnects is dropped without running."""

    def __init__(self, app: ASGIApp, limit: int, queue_timeout_s: float) -> None:
        self.app = app
        self.limit = limit
        self.queue_timeout_s = queue_timeout_s
        #: requests waiting for a slot now
        self.waiting = 0
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
        else:  # a timer, a task and a listener only for a request that waits
            listener = _Listener(receive)
            self.waiting += 1
            try:
                outcome = await self._wait(slots, listener)
            finally:
                self.waiting -= 1
            if outcome == "timeout":
                await _refuse(send)
                return
            if outcome == "gone":
                return
            receive = listener.replay
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()

    async def _wait(
        self, slots: asyncio.Semaphore, listener: _Listener
    ) -> Literal["granted", "timeout", "gone"]:
        """Wait for a slot, at most ``queue_timeout_s``, unless the client goes first; on
        ``granted`` the caller holds a slot."""
        acquire = asyncio.create_task(slots.acquire())
        gone = asyncio.create_task(listener.until_disconnect())
        try:
            await asyncio.wait(
                {acquire, gone}, timeout=self.queue_timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            gone.cancel()
            acquire.cancel()
            await asyncio.wait({acquire, gone})
        # the slot may have been granted while the wait ended; an error reading the connection
        # is not a disconnect (the app meets it in its own reads)
        holding = not acquire.cancelled()
        left = gone.done() and not gone.cancelled() and gone.exception() is None
        if holding and not left:
            return "granted"
        if holding:
            slots.release()
        return "gone" if left else "timeout"


class _Listener:
    """Reads a waiting request's messages, to see its client disconnect; what it read is
    replayed to the app, in order, when the request runs."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._read: deque[Message] = deque()

    async def until_disconnect(self) -> None:
        size = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                return
            self._read.append(message)
            size += len(message.get("body", b""))
            if size > LISTEN_BODY_LIMIT:  # a large body is not held in memory: stop listening
                await asyncio.Event().wait()  # (until cancelled)

    async def replay(self) -> Message:
        if self._read:
            return self._read.popleft()
        return await self._receive()


async def _refuse(send: Send) -> None:
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"retry-after", b"1"),
        (b"cache-control", b"no-store"),
    ]
    start: dict[str, Any] = {"type": "http.response.start", "status": 503, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": _BUSY})
