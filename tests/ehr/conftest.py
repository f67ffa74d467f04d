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
