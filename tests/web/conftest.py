"""Web fixtures: the real app on a fresh database (a SQLite file or a PostgreSQL database)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from benzotaper.web import WebSettings, create_app

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
    import os

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
