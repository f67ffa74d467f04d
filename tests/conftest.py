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
from benzotaper.knowledge import Knowledge, default_knowledge
from benzotaper.storage import Database

#: scripts/test sets this: a missing PostgreSQL or browser then fails instead of skipping.
REQUIRE_ALL = os.environ.get("BENZOTAPER_TEST_REQUIRE_ALL") == "1"

# pytest-xdist workers start with COLUMNS=80 in their environment, and Rich's consoles (made when
# benzotaper.cli is imported) would keep that width for good. Each CLI test sets its own width
# (tests/cli.py), so the consoles must read it per command.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)


# ----------------------------------------------------------------------------- order

#: The costliest test files (real browsers, servers, CLI subprocesses), costliest first, as
#: measured with --durations (2026-11-30). scripts/test runs them first: xdist's --dist loadfile
#: hands out whole files, and a long file handed out last keeps one worker busy while the other
#: idles. Only the order changes; a file not listed runs after these, in its usual order.
SLOW_FILES_FIRST = (
    "tests/test_cli_smoke.py",
    "tests/web/test_accessibility.py",
    "tests/web/test_deploy.py",
    "tests/web/test_browser.py",
    "tests/web/test_browser_journal.py",
    "tests/web/test_workers.py",
    "tests/web/test_reading_total.py",
    "tests/journal/test_durability.py",
    "tests/web/test_browser_measures.py",
    "tests/exports/test_pdf.py",
    "tests/web/test_exports_journal.py",
    "tests/web/test_limits.py",
    "tests/journal/test_cli.py",
    "tests/measures/test_invariants.py",
    "tests/web/test_today.py",
    "tests/exports/test_cli_export.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(rank)))


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return default_catalogue()


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    """The catalogue and every rules file, as the edges load them."""
    return default_knowledge()


# ----------------------------------------------------------------------------- databases

POSTGRES_URL = os.environ.get("BENZOTAPER_TEST_POSTGRES_URL")


def _postgres_or_skip() -> str:
    if not POSTGRES_URL:
        if REQUIRE_ALL:
            pytest.fail("BENZOTAPER_TEST_POSTGRES_URL is not set but BENZOTAPER_TEST_REQUIRE_ALL=1")
        pytest.skip("BENZOTAPER_TEST_POSTGRES_URL is not set")
    return POSTGRES_URL


class _Databases:
    """Creates empty databases of one kind; a SQLite file or a PostgreSQL schema each."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.schemas: list[str] = []
        self.admin: sa.Engine | None = None

    def new_url(self) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp_path / name}.sqlite3"
        base = _postgres_or_skip()
        if self.admin is None:
            self.admin = sa.create_engine(base)
        with self.admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
        self.schemas.append(name)
        url = make_url(base).update_query_dict({"options": f"-csearch_path={name}"})
        return url.render_as_string(hide_password=False)

    def close(self) -> None:
        if self.admin is not None:
            with self.admin.begin() as conn:
                for name in self.schemas:
                    conn.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')
            self.admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[_Databases]:
    """A factory of empty databases of each kind, all removed after the test.

    Without ``BENZOTAPER_TEST_POSTGRES_URL`` the PostgreSQL case is skipped, or fails when
    ``BENZOTAPER_TEST_REQUIRE_ALL=1`` (scripts/test sets both).
    """
    if request.param == "postgresql":
        _postgres_or_skip()
    factory = _Databases(request.param, tmp_path)
    yield factory
    factory.close()


@pytest.fixture
def database_url(databases: _Databases) -> str:
    """An empty database of each kind: a SQLite file per test, a PostgreSQL schema per test."""
    return databases.new_url()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database (SQLite and PostgreSQL), disposed after the test."""
    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()
