"""Settings defined once (name, default, help), read from ``BENZOTAPER_*`` environment variables.

Every adapter (CLI, web, storage) calls :func:`get_settings` instead of reading the environment
itself, so the names and defaults live in one place and the README can list them.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "benzotaper"


def default_data_dir() -> Path:
    """The user's data directory (e.g. ``~/.local/share/benzotaper`` on Linux)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_database_url() -> str:
    """The embedded SQLite database in the user's data directory."""
    return f"sqlite:///{default_data_dir() / 'benzotaper.sqlite3'}"


class Settings(BaseSettings):
    """Configuration from the environment; add new settings here, with a description."""

    model_config = SettingsConfigDict(env_prefix="BENZOTAPER_", extra="ignore")

    database_url: str = Field(
        default_factory=default_database_url,
        description=(
            "SQLAlchemy URL of the journal database. Default: SQLite in the user's data "
            "directory. PostgreSQL: postgresql+psycopg://user:password@host:5432/dbname"
        ),
    )


def get_settings() -> Settings:
    """Fresh settings from the current environment (cheap; not cached so tests can change it)."""
    return Settings()
