"""Bounded work: beyond the requests a worker serves at once, a waiter gets 503 and Retry-After."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from benzotaper.web import WebSettings, create_app
from benzotaper.web.overload import BoundedConcurrency


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
