"""EHR fixtures: the real app (fresh database per test) that an EHR talks to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from benzotaper.web import WebSettings, create_app


@pytest.fixture
def app_client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(WebSettings(database_url=database_url))) as client:
        yield client


# ------------------------------------------------------------------ a clinic: benzotaper + EHR

import threading  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import uvicorn  # noqa: E402

from tests.ehr import fake_ehr  # noqa: E402
from tests.web.conftest import browser_type_launch_args  # noqa: E402, F401 (Debian chromium)


@dataclass
class Clinic:
    benzotaper: str
    ehr: str
    state: fake_ehr.State


def _clinic(tmp: Path, write: bool) -> Iterator[Clinic]:
    sock = fake_ehr.free_socket()
    bt = f"http://127.0.0.1:{sock.getsockname()[1]}"
    state = fake_ehr.State(resources=fake_ehr.fixed_patient())
    with fake_ehr.serve(fake_ehr.create_ehr(state, bt)) as ehr:
        state.base = ehr
        scope = fake_ehr.READ_SCOPES + (" " + fake_ehr.WRITE_SCOPE if write else "")
        state.clients["benzotaper"] = fake_ehr.Client("benzotaper", [f"{bt}/smart/callback"], scope)
        settings = WebSettings(
            database_url=f"sqlite:///{tmp / 'bt.sqlite3'}", cds_fhir_servers=f"{ehr}/fhir"
        )
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        for _ in range(600):
            if server.started:
                break
            threading.Event().wait(0.05)
        try:
            yield Clinic(bt, ehr, state)
        finally:
            server.should_exit = True
            thread.join(timeout=20)
            sock.close()


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Clinic]:
    """benzotaper (uvicorn) and the test EHR (Flask + Authlib), each on a free loopback port;
    the EHR grants benzotaper the scope to create MedicationRequests."""
    yield from _clinic(tmp_path, write=True)


@pytest.fixture
def read_only_clinic(tmp_path: Path) -> Iterator[Clinic]:
    """The same, but the EHR grants only read scopes."""
    yield from _clinic(tmp_path, write=False)
