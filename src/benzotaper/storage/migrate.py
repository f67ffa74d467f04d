"""Run the Alembic migrations shipped inside the package, from code (no alembic.ini needed).

``upgrade(engine_or_url)`` brings any database to the newest schema; it is idempotent and is
what ``Database.upgrade()``, the CLI and the web app call on start. ``current_revision`` and
``head_revision`` say where a database stands.
"""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = str(resources.files("benzotaper.storage") / "migrations")


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
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
    finally:
        if owned:
            engine.dispose()


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
