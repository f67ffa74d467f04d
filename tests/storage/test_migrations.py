"""Migrations from an empty database, on SQLite and PostgreSQL, match the declared tables."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from benzotaper.storage import Base, Database, current_revision, head_revision, upgrade
from benzotaper.storage.engine import shipped_head

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py


def test_upgrade_from_empty_reaches_head_and_matches_the_models(empty_database_url: str) -> None:
    database_url = empty_database_url
    assert current_revision(database_url) is None
    upgrade(database_url)
    assert current_revision(database_url) == head_revision()
    engine = Database(database_url).engine
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        tables = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert diff == []
    assert {"users", "profiles", "plan_versions", "entries", "alembic_version"} <= tables


def test_upgrade_is_idempotent(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)
    assert current_revision(database_url) == head_revision()


def test_at_head_knows_the_shipped_head_without_alembic(empty_database_url: str) -> None:
    """``Database.upgrade`` skips Alembic when the database is at the head read from the
    migration files (what every CLI journal command calls first)."""
    assert shipped_head() == head_revision()
    db = Database(empty_database_url)
    assert not db.at_head()  # never migrated: no alembic_version table
    db.upgrade()
    assert db.at_head()
    db.dispose()


def test_downgrade_to_base_and_back(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    db.upgrade()
    from alembic import command

    from benzotaper.storage.migrate import alembic_config

    config = alembic_config()
    with db.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
        conn.commit()
        assert "users" not in sa.inspect(conn).get_table_names()
    db.upgrade()
    assert current_revision(db.engine) == head_revision()
    db.dispose()
