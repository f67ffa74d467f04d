"""`benzotaper serve` hands uvicorn the fast HTTP layer and no per-request access log unless
asked (what the running servers of test_workers and the browser tests then use)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.cli import run_cli


def serve_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> dict[str, Any]:
    """The keyword arguments ``serve ARGS`` passes to uvicorn.run (nothing is started)."""
    seen: dict[str, Any] = {}
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
