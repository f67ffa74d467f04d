"""Shared fixtures: the real shipped catalogue, and what the environment must provide."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from benzotaper.catalogue import Catalogue, default_catalogue
from benzotaper.storage import Database

#: scripts/test sets this: a missing PostgreSQL or browser then fails instead of skipping.
REQUIRE_ALL = os.environ.get("BENZOTAPER_TEST_REQUIRE_ALL") == "1"


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return default_catalogue()


# ----------------------------------------------------------------------------- databases

POSTGRES_URL = os.environ.get("BENZOTAPER_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind: a SQLite file per test, a PostgreSQL schema per test.

    Without ``BENZOTAPER_TEST_POSTGRES_URL`` the PostgreSQL case is skipped, or fails when
    ``BENZOTAPER_TEST_REQUIRE_ALL=1`` (scripts/test sets both).
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'journal.sqlite3'}"
        return
    if not POSTGRES_URL:
        if REQUIRE_ALL:
            pytest.fail("BENZOTAPER_TEST_POSTGRES_URL is not set but BENZOTAPER_TEST_REQUIRE_ALL=1")
        pytest.skip("BENZOTAPER_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database (SQLite and PostgreSQL), disposed after the test."""
    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()
