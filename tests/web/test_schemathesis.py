"""Property-based tests of the whole JSON API from its OpenAPI schema: no server errors, every
status code and body as declared, on SQLite and on PostgreSQL. Runs signed in as a patient
(session cookie + CSRF header), so the endpoints behind login are exercised too.

Beyond what the schema allows, hooks put in the values that broke the server before: extreme
numbers (0.0001, 1e9, negative zero) in every number of a body or query, and NUL characters in
its text. The answer to those must be a clear 4xx, never a 500.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import make_url

from benzotaper.web import WebSettings, create_app

from ..conftest import REQUIRE_ALL
from .conftest import PASSWORD

#: Fuzzed cases per API operation: ~50 operations on both databases cost ~27 CPU-s in all.
MAX_EXAMPLES = 4
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: The values the audit found breaking planning and storage (and pydantic's lax corners).
EXTREMES = (0.0001, 1e9, -0.0)


def _mutate(value: Any, mode: str | float) -> Any:
    """``value`` with every number set to ``mode`` (a number) or a NUL put in every text."""
    if isinstance(value, dict):
        return {k: _mutate(v, mode) for k, v in value.items()}
    if isinstance(value, list):
        return [_mutate(v, mode) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and not isinstance(mode, str):
        return type(value)(mode) if isinstance(value, float) or mode == int(mode) else mode
    if isinstance(value, str) and mode == "nul":
        return value[:1] + "\x00" + value[1:]
    return value


def _extremes(value: Any) -> st.SearchStrategy[Any]:
    """As generated (half the time), or with extreme numbers, or with NUL characters."""
    modes: list[str | float] = ["as-is", "as-is", "as-is", *EXTREMES, "nul"]
    return st.sampled_from(modes).map(lambda m: value if m == "as-is" else _mutate(value, m))


class _Session:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.login()

    def login(self) -> None:
        csrf = self.client.get("/api/session").json()["csrf_token"]
        body = {"email": "fuzz@example.org", "password": PASSWORD}
        r = self.client.post("/api/session", json=body, headers={"X-CSRF-Token": csrf})
        if r.status_code != 200:
            r = self.client.post(
                "/api/users", json={**body, "role": "patient"}, headers={"X-CSRF-Token": csrf}
            )
        assert r.status_code in (200, 201), r.text
        self.csrf = r.json()["csrf_token"]
        self.cookies = {"bt_session": self.client.cookies["bt_session"]}
        if "bt_device" in self.client.cookies:  # this browser is the account's own: the
            self.cookies["bt_device"] = self.client.cookies["bt_device"]  # fuzzer's failures

    def ensure(self) -> None:  # do not slow its own logins
        me = self.client.get("/api/session").json()
        if me["user"] is None:
            self.client.cookies.clear()
            self.login()


def _postgres_url() -> str | None:
    """A fresh schema on the test server (dropped at the end), or None without one."""
    base = os.environ.get("BENZOTAPER_TEST_POSTGRES_URL")
    if not base:
        return None
    name = f"fuzz_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    engine.dispose()
    return (
        make_url(base)
        .update_query_dict({"options": f"-csearch_path={name}"})
        .render_as_string(hide_password=False)
    )


def _app(url: str) -> FastAPI:
    # A generous throttle: the fuzzer's random logins must not slow its own account down.
    app = create_app(WebSettings(database_url=url, login_max_failures=1000))
    app.openapi()  # built once here: loading it below has a 10 s timeout on a busy machine
    return app


#: One app per database for the whole module (the schema is read at import).
_DIR = Path(tempfile.mkdtemp(prefix="benzotaper-fuzz-"))
_PG = _postgres_url()
APPS = {"sqlite": _app(f"sqlite:///{_DIR / 'fuzz.sqlite3'}")}
if _PG is not None:
    APPS["postgresql"] = _app(_PG)
SCHEMAS = {
    kind: schemathesis.openapi.from_asgi("/api/openapi.json", app) for kind, app in APPS.items()
}
for _schema in SCHEMAS.values():
    # Examples and fuzzing (with the extremes below), not schemathesis' coverage phase: that one
    # builds every boundary case of every operation while the tests are collected, in each xdist
    # worker (~6 CPU-s each), then takes ~2 s per operation (~105 CPU-s per database). Fuzzing
    # with the hooks found the two refusals that were not JSON (CDS Hooks, NUL) as well.
    _schema.config.phases.coverage.enabled = False
    _schema.hook("flatmap_body")(lambda ctx, body: _extremes(body))
    _schema.hook("flatmap_query")(lambda ctx, query: _extremes(query))
sqlite_schema = SCHEMAS["sqlite"]
postgres_schema = SCHEMAS.get("postgresql", sqlite_schema)


def _session(kind: str) -> Iterator[_Session]:
    if kind not in APPS:
        if REQUIRE_ALL:
            pytest.fail("BENZOTAPER_TEST_POSTGRES_URL is not set but BENZOTAPER_TEST_REQUIRE_ALL=1")
        pytest.skip("BENZOTAPER_TEST_POSTGRES_URL is not set")
    with TestClient(APPS[kind]) as client:  # runs the lifespan: migrations
        yield _Session(client)


@pytest.fixture(scope="module")
def sqlite_session() -> Iterator[_Session]:
    yield from _session("sqlite")
    shutil.rmtree(_DIR, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_session() -> Iterator[_Session]:
    yield from _session("postgresql")
    if _PG is not None:
        engine = sa.create_engine(os.environ["BENZOTAPER_TEST_POSTGRES_URL"])
        name = make_url(_PG).query["options"].split("=", 1)[1]  # type: ignore[union-attr]
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')
        engine.dispose()


def _call(case: schemathesis.Case, session: _Session) -> None:
    session.ensure()
    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    case.call_and_validate(headers={"X-CSRF-Token": session.csrf, "Cookie": cookie}, checks=CHECKS)


FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@sqlite_schema.parametrize()
@FUZZ
def test_api_on_sqlite(case: schemathesis.Case, sqlite_session: _Session) -> None:
    _call(case, sqlite_session)


@postgres_schema.parametrize()
@FUZZ
def test_api_on_postgresql(case: schemathesis.Case, postgres_session: _Session) -> None:
    _call(case, postgres_session)
