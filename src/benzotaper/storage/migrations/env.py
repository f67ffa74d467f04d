"""Alembic environment: runs on the connection passed in by ``benzotaper.storage.migrate``.

Run from the command line too (``alembic -c alembic.ini revision --autogenerate -m ...`` in the
repository), where it connects to ``BENZOTAPER_DATABASE_URL`` or the default database.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import benzotaper.storage  # noqa: F401  (imports every table module)
from benzotaper.storage.base import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from benzotaper.storage.engine import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("benzotaper migrations run online only (they need a connection).")
run_migrations_online()
