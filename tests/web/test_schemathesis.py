"""Property-based tests of the whole JSON API from its OpenAPI schema: no server errors, every
status code and body as declared. Runs signed in as a patient (session cookie + CSRF header),
so the endpoints behind login are exercised too, not only their 401s.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from benzotaper.web import WebSettings, create_app

from .conftest import PASSWORD

#: Keeps the whole run under about two minutes on a 2-core machine.
MAX_EXAMPLES = 5
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


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

    def ensure(self) -> None:
        me = self.client.get("/api/session").json()
        if me["user"] is None:
            self.client.cookies.clear()
            self.login()


#: One app on one throwaway SQLite file for the whole module (the schema is read at import).
_DB = Path(tempfile.mkdtemp(prefix="benzotaper-fuzz-")) / "fuzz.sqlite3"
# A generous rate limit: the fuzzer's random logins must not lock out its own account.
APP = create_app(WebSettings(database_url=f"sqlite:///{_DB}", login_max_failures=1000))
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)


@pytest.fixture(scope="module")
def fuzz_session() -> Iterator[_Session]:
    with TestClient(APP) as client:  # runs the lifespan: migrations
        yield _Session(client)
    shutil.rmtree(_DB.parent, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case: schemathesis.Case, fuzz_session: _Session) -> None:
    session = fuzz_session
    session.ensure()
    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    case.call_and_validate(headers={"X-CSRF-Token": session.csrf, "Cookie": cookie}, checks=CHECKS)
