"""Web fixtures: the real app on a fresh database (a SQLite file or a PostgreSQL database)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import itertools
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi.testclient import TestClient

from benzotaper.web import WebSettings, create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

PASSWORD = "correct horse battery staple"


def csrf_of(html: str) -> str:
    """The CSRF token a page carries in its <meta> tag."""
    match = re.search(r'<meta name="csrf-token" content="([^"]*)"', html)
    assert match, "page has no csrf-token meta tag"
    return match.group(1)


class Visitor:
    """A TestClient with the CSRF token of its current session at hand."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    @property
    def csrf(self) -> str:
        token: str = self.client.get("/api/session").json()["csrf_token"]
        return token

    def form(self, url: str, data: dict[str, str], **kw: Any) -> httpx.Response:
        return self.client.post(url, data={**data, "csrf_token": self.csrf}, **kw)

    def api(self, method: str, url: str, **kw: Any) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf}
        return self.client.request(method, url, headers=headers, **kw)

    def signup(self, email: str, role: str = "patient", name: str = "") -> int:
        r = self.api(
            "POST",
            "/api/users",
            json={"email": email, "password": PASSWORD, "role": role, "display_name": name},
        )
        assert r.status_code == 201, r.text
        user_id: int = r.json()["user"]["id"]
        return user_id


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, with the smallest cost parameters, so the suite stays fast."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from benzotaper.web import security

    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    monkeypatch.setattr(security, "_hasher", cheap)


class Clock:
    """The login throttle's clock, moved by hand: its waits are real-time rules, tested exactly
    (and never run out while a slow machine works through a test)."""

    def __init__(self) -> None:
        from benzotaper.storage import utcnow

        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def throttle_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    from benzotaper.web import throttle

    clock = Clock()
    monkeypatch.setattr(throttle, "utcnow", clock)
    return clock


@pytest.fixture
def settings(database_url: str) -> WebSettings:
    return WebSettings(database_url=database_url, login_max_failures=3)


@pytest.fixture
def app_client(settings: WebSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def make_visitor(settings: WebSettings) -> Iterator[Callable[[], Visitor]]:
    """A factory of independent visitors (separate cookie jars) on the same app and database."""
    app = create_app(settings)
    clients: list[TestClient] = []

    def make() -> Visitor:
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return Visitor(client)

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def visitor(make_visitor: Callable[[], Visitor]) -> Visitor:
    return make_visitor()


# ----------------------------------------------------------------------------- browser tests

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's chromium, never a downloaded browser; missing: skip (fail under scripts/test)."""
    from ..conftest import REQUIRE_ALL

    if not os.path.exists(CHROMIUM):
        if REQUIRE_ALL:
            pytest.fail(f"{CHROMIUM} is missing but BENZOTAPER_TEST_REQUIRE_ALL=1")
        pytest.skip(f"{CHROMIUM} is not installed")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


# ----------------------------------------------------------------------------- a served app

_clients = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(
    args: list[str], env: dict[str, str], log: Path, startup_s: float = 120
) -> Iterator[str]:
    """A real server process (``args`` and ``--port``) on a free port; yields its base URL once
    /healthz answers, and stops it afterwards. ``startup_s``: policy for a slow, shared machine."""
    port = _free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*args, "--port", str(port)],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + startup_s
            while True:
                assert proc.poll() is None, log.read_text()
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``benzotaper serve`` in a subprocess on 127.0.0.1 with a throwaway SQLite database: one
    per test process, shared by the browser tests (each uses accounts of its own). What needs a
    fresh process (several workers, migrating at start, a proxy) has its own server
    (test_workers, test_deploy).

    It runs as behind a clinic's reverse proxy (``--proxy-headers``, trusting 127.0.0.1): each
    browser context made by :func:`new_context` says it is another client address, so the
    per-address throttles (e.g. registrations an hour) count each test as a visitor of its own.
    """
    tmp = tmp_path_factory.mktemp("server")
    env = {"BENZOTAPER_DATABASE_URL": f"sqlite:///{tmp / 'web.sqlite3'}"}
    args = [sys.executable, "-m", "benzotaper", "serve", "--host", "127.0.0.1"]
    args += ["--proxy-headers", "--forwarded-allow-ips", "127.0.0.1"]
    with serving(args, env, tmp / "server.log") as base:
        yield base


def as_new_client() -> dict[str, str]:
    """Headers that make the next requests come from a client address not used before (the
    shared server trusts X-Forwarded-For from 127.0.0.1)."""
    address = ipaddress.IPv4Address("10.0.0.0") + next(_clients)
    return {"X-Forwarded-For": str(address)}


def new_context(browser: Browser, **options: Any) -> BrowserContext:
    """A browser context (its own cookies, storage, service workers) seen by the shared server
    as another client."""
    return browser.new_context(extra_http_headers=as_new_client(), **options)
