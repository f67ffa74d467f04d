"""Several worker processes share one database and nothing else: sessions, CSRF tokens and the
stored plan charts work whichever worker answers (``benzotaper serve --workers 2``)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

PASSWORD = "correct horse battery staple"
#: Policy for the test: a slow, shared machine may need a while to start two workers.
STARTUP_SECONDS = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "BENZOTAPER_DATABASE_URL": f"sqlite:///{tmp_path / 'web.sqlite3'}"}
    log = (tmp_path / "server.log").open("w")
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "benzotaper", *args], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"server did not start:\n{(tmp_path / 'server.log').read_text()}")
        time.sleep(0.5)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


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
