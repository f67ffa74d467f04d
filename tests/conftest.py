"""Shared fixtures: the real shipped catalogue, and what the environment must provide.

Which database a test runs on (the backend policy). A test that takes a database (``db``,
``database_url``, ``databases``, ``empty_database_url`` or a fixture built on them, such as the
web app's ``visitor``) runs on SQLite. Marked ``@pytest.mark.both_backends`` (a test, or a whole
module with ``pytestmark``), it runs on a real PostgreSQL server too. Mark a test when the
backend can change what it checks: storage, the journal service and its transactions,
migrations, concurrency and locking, several workers or app instances on one database, SQL that
differs per dialect (upserts, JSON paths, the clinician list, the clinic measures, sharing), query
counts, stored types (JSON, bytes, text limits, NUL), deletes that cascade. Pages and API checks
above the service (rendering, validation, headers, wording) run on SQLite only: what they read
and write goes through the same service calls that the marked tests run on both.
"""

from __future__ import annotations

import gc
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings
from sqlalchemy.engine import make_url

from benzotaper.catalogue import Catalogue, default_catalogue
from benzotaper.cli import GC_THRESHOLD
from benzotaper.knowledge import Knowledge, default_knowledge
from benzotaper.storage import Database

#: scripts/test sets this: a missing PostgreSQL or browser then fails instead of skipping.
REQUIRE_ALL = os.environ.get("BENZOTAPER_TEST_REQUIRE_ALL") == "1"

# Property tests draw the same examples on every run by default, so a run's verdict can be
# reproduced and CI's does not depend on luck. HYPOTHESIS_PROFILE=explore draws new random
# examples (and remembers failures in .hypothesis/): run it to look for new counterexamples, and
# turn each one found into an explicit regression test.
settings.register_profile("repeatable", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# pytest-xdist workers start with COLUMNS=80 in their environment, and Rich's consoles (made when
# benzotaper.cli is imported) would keep that width for good. Each CLI test sets its own width
# (tests/cli.py), so the consoles must read it per command.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)
# Each test app would prepare all its routes at start (~0.3 s); tests use a few routes each.
os.environ.setdefault("BENZOTAPER_PREPARE_ROUTES", "false")


# ----------------------------------------------------------------------------- the collector


def pytest_collection_finish(session: pytest.Session) -> None:
    """A test process is a long batch job: once the tests are collected, what has been imported
    and collected so far (hundreds of thousands of objects, alive until the process exits) is
    frozen, and the cyclic collector's first threshold is the CLI's (``GC_THRESHOLD``; Python's
    default is 700). Measured with ``gc.callbacks`` (thread CPU, -n 0): test_today,
    journal/test_service and planning/test_invariants spent 3.1 s of their 28.9 s collecting,
    1.2 s with this. Cycles are still collected (after 50,000 new objects rather than 700): a
    warning raised when a cycle is freed may surface a few tests later, or at the end of the
    session, where pytest collects again; it still fails the run (filterwarnings = error)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


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
    "tests/web/test_schemathesis.py",
    "tests/journal/test_durability.py",
    "tests/web/test_browser_measures.py",
    "tests/exports/test_pdf.py",
    "tests/web/test_exports_journal.py",
    "tests/web/test_limits.py",
    "tests/journal/test_cli.py",
    "tests/measures/test_invariants.py",
    "tests/web/test_today.py",
    "tests/exports/test_cli_export.py",
    # handed out last by collection order, they kept one worker busy 13 s after the other had
    # finished (full run of 2026-12-01 03:32: 21.7 s and 11.4 s, the two last-finishing files)
    "tests/web/test_throttle.py",
    "tests/web/test_sharing.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        # schemathesis 4 under pytest 9 gives every API operation's item the node id of its test
        # function (`test_schemathesis.py::test_api_on_sqlite`). xdist, which hands out tests
        # by node id, then ran ONE operation of the ~50. The operation goes into the id (pytest
        # 9 keeps a node's id in ``_id``, a NodeId; an item's parameters are its ``params``).
        if "[" in item.name and "[" not in item.nodeid.rpartition("::")[2]:
            item._id = item._id.with_params(item.name.partition("[")[2].removesuffix("]"))
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


class _Templates:
    """One database of each kind migrated by Alembic once per test process, for cheap copies.

    Running the migrations takes ~0.2 s on SQLite and ~1 s on PostgreSQL; a copy of a migrated
    database takes a few milliseconds (a file copy) or ~0.1 s (``CREATE DATABASE … TEMPLATE``).
    The migrations themselves are still tested from an empty database (tests/storage).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sqlite: Path | None = None
        self.postgres: str | None = None  # the template database's name
        self.admin: sa.Engine | None = None
        self.copy_clause: str | None = None

    def sqlite_file(self) -> Path:
        if self.sqlite is None:
            path = self.folder / "template.sqlite3"
            database = Database(f"sqlite:///{path}")
            database.upgrade()
            database.dispose()  # the last connection checkpoints the WAL into the file
            self.sqlite = path
        return self.sqlite

    def admin_engine(self) -> sa.Engine:
        """An AUTOCOMMIT connection to the server's own test database (CREATE/DROP DATABASE)."""
        if self.admin is None:
            self.admin = sa.create_engine(_postgres_or_skip(), isolation_level="AUTOCOMMIT")
        return self.admin

    def postgres_template(self) -> str:
        if self.postgres is None:
            name = f"tpl_{uuid.uuid4().hex[:16]}"
            with self.admin_engine().connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            database = Database(_postgres_url(name))
            database.upgrade()
            database.dispose()  # a template must have no connections while it is copied
            self.postgres = name
        return self.postgres

    def copy_of_template(self) -> str:
        """The CREATE DATABASE clause that copies the template. FILE_COPY (PostgreSQL 15+)
        copies the small template's files: ~50 ms of server CPU a copy, against ~65-105 ms for
        the default WAL_LOG, which writes every block through the WAL (measured 2026-11-30)."""
        if self.copy_clause is None:
            template = self.postgres_template()
            with self.admin_engine().connect() as conn:
                version = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one())
            strategy = " STRATEGY FILE_COPY" if version >= 150000 else ""
            self.copy_clause = f' TEMPLATE "{template}"{strategy}'
        return self.copy_clause

    def close(self) -> None:
        if self.admin is not None:
            if self.postgres is not None:
                with self.admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.postgres}" WITH (FORCE)')
            self.admin.dispose()


def _postgres_url(database: str) -> str:
    url = make_url(_postgres_or_skip()).set(database=database)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    templates = _Templates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.close()


class _Databases:
    """Creates databases of one kind: a SQLite file or a PostgreSQL database each.

    ``new_url()`` is migrated to the newest revision (a copy of the template);
    ``new_url(empty=True)`` has no tables, for tests of the migrations and ``benzotaper migrate``.
    """

    def __init__(self, kind: str, tmp_path: Path, templates: _Templates) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.templates = templates
        self.created: list[str] = []

    def new_url(self, *, empty: bool = False) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        if self.kind == "sqlite":
            path = self.tmp_path / f"{name}.sqlite3"
            if not empty:
                shutil.copyfile(self.templates.sqlite_file(), path)
                path.chmod(0o600)  # as storage.engine creates it: health data, owner only
            return f"sqlite:///{path}"
        template = "" if empty else self.templates.copy_of_template()
        with self.templates.admin_engine().connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{template}')
        self.created.append(name)
        return _postgres_url(name)

    def close(self) -> None:
        if self.created:
            with self.templates.admin_engine().connect() as conn:
                for name in self.created:
                    # FORCE: a connection a test left open must not keep its database alive
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


#: The backends of the policy above: every database test runs on the first, marked ones on both.
BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise every test that takes a database over the backends of the policy above."""
    if "databases" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_backends") is not None
        metafunc.parametrize("databases", BACKENDS if both else BACKENDS[:1], indirect=True)


@pytest.fixture
def databases(
    request: pytest.FixtureRequest, tmp_path: Path, _templates: _Templates
) -> Iterator[_Databases]:
    """A factory of databases of the test's kind (the backend policy above), all removed after
    the test.

    Without ``BENZOTAPER_TEST_POSTGRES_URL`` the PostgreSQL case is skipped, or fails when
    ``BENZOTAPER_TEST_REQUIRE_ALL=1`` (scripts/test sets both).
    """
    if request.param == "postgresql":
        _postgres_or_skip()
    factory = _Databases(request.param, tmp_path, _templates)
    yield factory
    factory.close()


@pytest.fixture
def database_url(databases: _Databases) -> str:
    """A migrated database of each kind with no rows: a SQLite file or a PostgreSQL database."""
    return databases.new_url()


@pytest.fixture
def sqlite_url(tmp_path: Path, _templates: _Templates) -> str:
    """A migrated SQLite database only, for tests whose storage paths run on both elsewhere."""
    return _Databases("sqlite", tmp_path, _templates).new_url()


@pytest.fixture
def empty_database_url(databases: _Databases) -> str:
    """A database of each kind without any table (never migrated)."""
    return databases.new_url(empty=True)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database (SQLite and PostgreSQL), disposed after the test."""
    database = Database(database_url)
    yield database
    database.dispose()
