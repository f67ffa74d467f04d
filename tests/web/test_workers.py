"""Several worker processes share one database and nothing else: sessions, CSRF tokens and the
stored plan charts work whichever worker answers (``benzotaper serve --workers 2``)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import serving

PASSWORD = "correct horse battery staple"
#: Policy for the test: a slow, shared machine may need a while to start two workers.
STARTUP_SECONDS = 300


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[str]:
    env = {"BENZOTAPER_DATABASE_URL": f"sqlite:///{tmp_path / 'web.sqlite3'}"}
    args = [sys.executable, "-m", "benzotaper", "serve", "--host", "127.0.0.1", "--workers", "2"]
    with serving(args, env, tmp_path / "server.log", STARTUP_SECONDS) as base:
        yield base


def test_a_session_works_on_every_worker(two_workers: str) -> None:
    jar = httpx.Cookies()

    def fresh() -> httpx.Client:  # a new connection each time: either worker may answer
        return httpx.Client(base_url=two_workers, cookies=jar, timeout=60)

    with fresh() as c:
        token = c.get("/api/session").json()["csrf_token"]
        r = c.post(
            "/api/users",
            json={"email": "two@example.org", "password": PASSWORD, "role": "patient"},
            headers={"X-CSRF-Token": token},
        )
        assert r.status_code == 201, r.text
        jar.update(c.cookies)
    plan = {"regimen": [{"drug": "diazepam", "mg": 10, "time": "08:00"}]}
    for _ in range(6):
        with fresh() as c:
            token = c.get("/api/session").json()["csrf_token"]
            assert c.get("/api/session").json()["user"]["email"] == "two@example.org"
            r = c.post("/api/plans", json={"request": plan}, headers={"X-CSRF-Token": token})
            assert r.status_code == 201, r.text
    charts = set()
    for _ in range(4):
        with fresh() as c:
            page = c.get("/my-plan").text
            src = re.search(r'<img src="(/my-plan/chart\.svg)"', page)
            assert src is not None
            chart = c.get(src.group(1))
            assert chart.status_code == 200 and b"<svg" in chart.content
            charts.add(chart.content)
    assert len(charts) == 1  # drawn once, stored, the same bytes from every worker
