"""Running for a clinic, tested with real servers: several workers on a fresh PostgreSQL
database, `benzotaper migrate`, and a reverse proxy (trusted and spoofed X-Forwarded-For)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from benzotaper.storage import head_revision

from .conftest import serving

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py

PASSWORD = "correct horse battery staple"


class Client:
    """An httpx client that keeps its cookies and sends the CSRF header (close it after use)."""

    def __init__(self, base: str, headers: dict[str, str] | None = None) -> None:
        self.http = httpx.Client(base_url=base, headers=headers or {}, timeout=60)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def post(self, path: str, json: dict[str, str]) -> httpx.Response:
        csrf = self.http.get("/api/session").json()["csrf_token"]
        return self.http.post(path, json=json, headers={"X-CSRF-Token": csrf})


def test_two_workers_start_on_a_fresh_postgresql_database(
    databases,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """The audit: every worker migrated at once (UniqueViolation on alembic_version)."""
    if databases.kind != "postgresql":
        pytest.skip("the race needs PostgreSQL (SQLite serialises on its write lock)")
    url = databases.new_url(empty=True)
    log = tmp_path / "uvicorn.log"
    cmd = [sys.executable, "-m", "uvicorn", "benzotaper.web.asgi:app", "--workers", "2"]
    with serving(cmd, {"BENZOTAPER_DATABASE_URL": url}, log) as base:
        with Client(base) as first:
            first.post(
                "/api/users", {"email": "two@example.org", "password": PASSWORD, "role": "patient"}
            )
        # wrong passwords from many connections at once, spread over both workers: the
        # throttle counts them exactly (default allowance 5, then a wait)
        results: list[int] = []
        clients = [Client(base) for _ in range(10)]
        barrier = threading.Barrier(len(clients))

        def attempt(c: Client) -> None:
            csrf = c.http.get("/api/session").json()["csrf_token"]
            barrier.wait()
            body = {"email": "two@example.org", "password": "wrong password"}
            r = c.http.post("/api/session", json=body, headers={"X-CSRF-Token": csrf})
            results.append(r.status_code)

        threads = [threading.Thread(target=attempt, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for c in clients:
            c.http.close()
    text = log.read_text()
    assert "Traceback" not in text and "UniqueViolation" not in text, text
    assert text.count("Application startup complete") == 2, text
    assert sorted(results) == [422] * 5 + [429] * 5
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert versions == [(head_revision(),)]


def test_migrate_command_then_workers_without_migrating(empty_database_url: str) -> None:
    from typer.testing import CliRunner

    from benzotaper.cli import app

    env = {"BENZOTAPER_DATABASE_URL": empty_database_url}
    first = CliRunner().invoke(app, ["migrate"], env=env)
    assert first.exit_code == 0 and "Migrated from an empty database" in first.output
    again = CliRunner().invoke(app, ["migrate"], env=env)
    assert again.exit_code == 0 and "up to date" in again.output


def _throttled(base: str, forwarded_for: str, email: str) -> int:
    # no X-Forwarded-Proto here: with "https" the session cookie is Secure and httpx, talking
    # plain http to the test server, would not send it back (403 from the CSRF check)
    with Client(base, {"X-Forwarded-For": forwarded_for}) as c:
        return c.post("/api/session", {"email": email, "password": "wrong password"}).status_code


@pytest.mark.parametrize("trusted", [True, False])
def test_behind_a_proxy_the_client_address_is_the_forwarded_one_only_from_the_proxy(
    tmp_path: Path, trusted: bool
) -> None:
    """With the proxy trusted, each forwarded client has its own address bucket; when the
    sender is not a trusted proxy, X-Forwarded-For is ignored (it cannot be spoofed)."""
    env = {
        "BENZOTAPER_DATABASE_URL": f"sqlite:///{tmp_path / 'proxy.sqlite3'}",
        "BENZOTAPER_LOGIN_MAX_FAILURES": "1",  # an address may fail 5 times (CLIENT_FACTOR)
    }
    allow = "127.0.0.1" if trusted else "192.0.2.1"
    cmd = [sys.executable, "-m", "benzotaper", "serve", "--proxy-headers"]
    cmd += ["--forwarded-allow-ips", allow]
    with serving(cmd, env, tmp_path / "serve.log") as base:
        for i in range(5):
            assert _throttled(base, "203.0.113.7", f"guess{i}@example.org") == 422
        assert _throttled(base, "203.0.113.7", "guess9@example.org") == 429
        other = _throttled(base, "198.51.100.4", "someone@example.org")
        https = httpx.get(f"{base}/", headers={"X-Forwarded-Proto": "https"})
    if trusted:
        assert other == 422  # another client behind the proxy is not slowed
        assert "secure" in https.headers["set-cookie"].lower()
        assert "strict-transport-security" in https.headers
    else:
        assert other == 429  # spoofed addresses all count as the sender's own
        assert "secure" not in https.headers["set-cookie"].lower()
