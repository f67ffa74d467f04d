"""The load benchmark's load generator: wrk, driven by the script bench_load writes, sends each
connection its own user's request (path, cookies, CSRF header, body) and counts an answer other
than 2xx as an error. Against a small app on a real server (the benchmark itself checks each
user's request against the real app before wrk runs, and stops at the first that fails)."""

from __future__ import annotations

import shutil
from collections import Counter

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.benches import load_bench

from ..conftest import REQUIRE_ALL
from .live import served


def test_wrk_sends_each_connection_its_own_users_request() -> None:
    if shutil.which("wrk") is None:
        if REQUIRE_ALL:
            pytest.fail("wrk is missing but BENZOTAPER_TEST_REQUIRE_ALL=1 (apt-get install wrk)")
        pytest.skip("wrk is not installed (apt-get install wrk)")
    bench = load_bench("bench_load")
    seen: Counter[tuple[str, str, str, str]] = Counter()

    async def write(request: Request) -> PlainTextResponse:
        cookie = request.cookies.get("bt_session", "")
        csrf = request.headers.get("x-csrf-token", "")
        seen[request.url.path, cookie, csrf, (await request.body()).decode()] += 1
        ok = request.headers["content-type"] == "application/json" and csrf == f"csrf-{cookie}"
        return PlainTextResponse("ok", status_code=200 if ok and cookie != "s3" else 500)

    app = Starlette(routes=[Route("/write/{patient}", write, methods=["POST"])])
    route = bench.Route("write", "POST", "/write/{patient}", "patient", json={"mg": 5})
    users = []
    for n in (1, 2, 3):  # user 3 is answered 500
        cookies = httpx.Cookies()
        cookies.set("bt_session", f"s{n}", domain="127.0.0.1")
        users.append(bench.User(cookies=cookies, csrf=f"csrf-s{n}", patient=n))
    with served(app) as port:
        meter = bench.CpuMeter(bench.os.getpid(), "sqlite://")
        result = bench.run_wrk(f"http://127.0.0.1:{port}", route, users, 1, None, meter)
    body = '{"mg": 5}'
    assert set(seen) == {(f"/write/{n}", f"s{n}", f"csrf-s{n}", body) for n in (1, 2, 3)}
    # a request in flight when wrk stops reached the app but is not counted
    assert result.requests > 3 and 0 <= seen.total() - result.requests <= len(users)
    refused = seen["/write/3", "s3", "csrf-s3", body]
    assert set(result.errors) == {"not_2xx"} and refused - 1 <= result.errors["not_2xx"] <= refused
    assert result.client_cpu_ms > 0
