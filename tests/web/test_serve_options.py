"""`benzotaper serve` hands uvicorn the fast HTTP layer and no per-request access log unless
asked (what the running servers of test_workers and the browser tests then use)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.cli import run_cli


def serve_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> dict[str, Any]:
    """The keyword arguments ``serve ARGS`` passes to uvicorn.run (nothing is started)."""
    seen: dict[str, Any] = {}
    # serve sets this for its workers (it migrates once itself); restored after the test
    monkeypatch.setenv("BENZOTAPER_MIGRATE_ON_START", "1")
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    env = {"BENZOTAPER_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}"}
    ran = run_cli("serve", *args, env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return seen


def test_serve_uses_httptools_and_leaves_the_access_log_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httptools  # noqa: F401  (a dependency: uvicorn would refuse http="httptools")

    options = serve_options(tmp_path, monkeypatch)
    assert options["http"] == "httptools"
    assert options["loop"] == "auto"  # uvloop where installed
    assert options["access_log"] is False
    assert serve_options(tmp_path, monkeypatch, "--access-log")["access_log"] is True


def test_no_route_runs_on_the_event_loop() -> None:
    """An ``async def`` route runs on the worker's event loop: its planning, rendering or
    database work (or an EHR call) holds up every other request of that worker meanwhile. Routes
    are plain ``def`` (FastAPI's thread pool); a posted form is read by ``deps.posted_form``."""
    from fastapi.routing import APIRoute

    from benzotaper.web.routes import ROUTERS

    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 100  # every router's routes are seen
    on_loop = [r.path for r in routes if inspect.iscoroutinefunction(r.endpoint)]
    assert on_loop == []
