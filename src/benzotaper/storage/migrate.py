"""Run the Alembic migrations shipped inside the package, from code (no alembic.ini needed).

``upgrade(engine_or_url)`` brings any database to the newest schema; it is idempotent and is
what ``Database.upgrade()``, ``benzotaper migrate``, the CLI and the web app call on start.
``current_revision`` and ``head_revision`` say where a database stands.

Several processes may start at once (``uvicorn --workers 4``, gunicorn, a container set): the
migration runs in one transaction that first takes a lock, so one process migrates and the
others wait, then find the schema at head and do nothing. PostgreSQL: a transaction-scoped
advisory lock (``pg_advisory_xact_lock``); SQLite: the write lock (``BEGIN IMMEDIATE``).

Data derived by the new code for existing rows (each person's journal summary, added by 0400)
is made outside the schema's transaction: an upgrade from before 0410 stops at 0400, commits,
makes the summaries in batches of :data:`BACKFILL_BATCH` people (each batch its own transaction
under the same lock), then applies 0410 and the rest. A 10,000-patient clinic upgrades without
one giant transaction; the database reaches head only once the backfill is complete, so an
interrupted backfill resumes on the next start, and a process starting meanwhile joins it and
returns only when nobody is left (none serves the clinician list with summaries missing).
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

if TYPE_CHECKING:
    from benzotaper.journal.adaptive import AdaptiveRules
    from benzotaper.journal.scales import ScaleBook

MIGRATIONS_DIR = str(resources.files("benzotaper.storage") / "migrations")
#: The advisory lock key that serialises migrations on PostgreSQL (any fixed 64-bit number;
#: this one is "benzotap" in ASCII).
MIGRATION_LOCK_KEY = 0x62656E7A6F746170
#: Policy: people whose journal summary one backfill transaction computes (a few seconds).
BACKFILL_BATCH = 200
#: The migration adding the summaries, and the one applied once they are all made.
SUMMARIES, BACKFILLED = "0400_journal_summaries", "0410_summaries_backfilled"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    return config


def _engine(engine_or_url: Engine | str) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    from benzotaper.storage.engine import make_engine

    return make_engine(engine_or_url), True


def upgrade(engine_or_url: Engine | str, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` (default: the newest)."""
    engine, owned = _engine(engine_or_url)
    try:
        config = alembic_config()
        with engine.connect() as connection:
            _lock(connection)
            config.attributes["connection"] = connection
            if revision == "head" and _before_backfilled(connection, config):
                command.upgrade(config, SUMMARIES)
                connection.commit()
                backfill_summaries(connection)
                _lock(connection)
            command.upgrade(config, revision)
            connection.commit()
    finally:
        if owned:
            engine.dispose()


def _before_backfilled(connection: Connection, config: Config) -> bool:
    """Whether the database is older than :data:`BACKFILLED` (or new)."""
    current = MigrationContext.configure(connection).get_current_revision()
    script = ScriptDirectory.from_config(config)
    older = {r.revision for r in script.walk_revisions("base", SUMMARIES)}
    return current is None or current in older


def _lock(connection: Connection) -> None:
    """Begin the migration's transaction holding the migration lock (released at commit)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    else:  # SQLite: the transaction begins IMMEDIATE (storage.engine), i.e. with the write lock
        connection.execute(text("SELECT 1"))


def backfill_summaries(connection: Connection) -> int:
    """A journal summary for everyone with data and none yet, a batch per transaction, each
    under the migration lock (see the module's docstring); how many were made."""
    from sqlalchemy.orm import Session

    from benzotaper.services.summary import backfill

    made, after = 0, 0
    while True:
        _lock(connection)
        with Session(bind=connection) as session:
            done = backfill(session, _rules, after=after, limit=BACKFILL_BATCH)
        connection.commit()
        made += len(done)
        if len(done) < BACKFILL_BATCH:
            return made
        after = done[-1]


def _rules() -> tuple[AdaptiveRules, ScaleBook]:
    from benzotaper.knowledge import default_knowledge

    k = default_knowledge()
    return k.adaptive, k.scales


def current_revision(engine_or_url: Engine | str) -> str | None:
    """The revision the database is at (None: never migrated)."""
    engine, owned = _engine(engine_or_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if owned:
            engine.dispose()


def head_revision() -> str | None:
    """The newest revision shipped with this version of benzotaper."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
