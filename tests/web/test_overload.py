"""Bounded work: beyond the requests a worker serves at once, a waiter gets 503 and Retry-After."""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from benzotaper.web import WebSettings, create_app
from benzotaper.web.overload import BoundedConcurrency

from .live import served, until


def test_a_request_that_cannot_start_in_time_is_refused_not_queued() -> None:
    release = asyncio.Event()

    async def slow(_request: Request) -> PlainTextResponse:
        await release.wait()
        return PlainTextResponse("done")

    inner = Starlette(routes=[Route("/slow", slow)])
    app = BoundedConcurrency(inner, limit=1, queue_timeout_s=0.05)

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            first = asyncio.create_task(client.get("/slow"))
            await asyncio.sleep(0)  # the first request takes the only slot
            for _ in range(100):
                if app._slots is not None and app._slots.locked():
                    break
                await asyncio.sleep(0.001)
            refused = await client.get("/slow")
            release.set()
            served = await first
            again = await client.get("/slow")
            return served, refused, again

    # a thread of its own: another test in this worker may have left an event loop running here
    with ThreadPoolExecutor(1) as pool:
        served, refused, again = pool.submit(asyncio.run, scenario()).result(timeout=60)
    assert served.status_code == 200 and again.status_code == 200
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert "busy" in refused.text


def test_the_app_is_bounded_by_its_settings() -> None:
    app = create_app(WebSettings(database_url="sqlite://", max_in_flight=3, queue_timeout_s=2))
    bounded = [m for m in app.user_middleware if m.cls is BoundedConcurrency]
    assert len(bounded) == 1 and bounded[0].kwargs == {"limit": 3, "queue_timeout_s": 2}


def one_slot_app() -> tuple[BoundedConcurrency, threading.Event, list[str]]:
    """One slot; ``/slow`` holds it until the event is set; ``/work`` records that it ran
    (with ``?who=``) and answers the size of the body it read."""
    release = threading.Event()
    ran: list[str] = []

    async def slow(_request: Request) -> PlainTextResponse:
        await asyncio.to_thread(release.wait, 60)
        return PlainTextResponse("slow")

    async def work(request: Request) -> PlainTextResponse:
        ran.append(request.query_params["who"])
        return PlainTextResponse(str(len(await request.body())))

    routes = [Route("/slow", slow), Route("/work", work, methods=["GET", "POST"])]
    return BoundedConcurrency(Starlette(routes=routes), limit=1, queue_timeout_s=60), release, ran


def ask(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_a_waiting_request_whose_client_has_gone_never_runs() -> None:
    app, release, ran = one_slot_app()
    with served(app) as port, ThreadPoolExecutor(1) as pool:
        holder = pool.submit(ask, port, "GET", "/slow")
        assert until(lambda: app._slots is not None and app._slots.locked())
        with socket.create_connection(("127.0.0.1", port)) as leaver:
            leaver.sendall(b"GET /work?who=gone HTTP/1.1\r\nHost: t\r\n\r\n")
            assert until(lambda: app.waiting == 1)
        assert until(lambda: app.waiting == 0)  # it left the queue (it could wait 60 s)
        release.set()
        assert holder.result(timeout=60) == (200, b"slow")
        assert ask(port, "GET", "/work?who=stayed")[0] == 200
    assert ran == ["stayed"]  # the slot went from /slow to the client still there


@pytest.mark.parametrize("size", [10, 200_000])  # read ahead while waiting; too large to
def test_a_waiting_request_gets_its_body_when_it_runs(size: int) -> None:
    app, release, ran = one_slot_app()
    with served(app) as port, ThreadPoolExecutor(2) as pool:
        holder = pool.submit(ask, port, "GET", "/slow")
        assert until(lambda: app._slots is not None and app._slots.locked())
        waiter = pool.submit(ask, port, "POST", "/work?who=waiter", b"x" * size)
        assert until(lambda: app.waiting == 1)
        time.sleep(0.2)  # its body arrives while it waits
        release.set()
        assert holder.result(timeout=60) == (200, b"slow")
        assert waiter.result(timeout=60) == (200, str(size).encode())
    assert ran == ["waiter"]
