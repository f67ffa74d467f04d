"""Persistent storage: SQLAlchemy 2 tables, Alembic migrations and the journal repository.

Public API (adapters such as the CLI and the web app use only these):

- :class:`Database` (``storage.engine``): ``Database(url=None)`` opens ``BENZOTAPER_DATABASE_URL``
  or the embedded SQLite default; ``db.upgrade()`` migrates; ``with db.transaction() as s:`` is the
  one way to write (commit on success, rollback on error).
- :func:`upgrade` (``storage.migrate``): migrate an engine or URL to the newest schema.
- :class:`Base` (``storage.base``): derive new tables from it; import the module below.
- Access tables (``storage.access``): web sessions, login attempts, care shares, audit log,
  plan suggestions (the web app's).
- Renders (``storage.renders``): charts of a plan version, drawn once and kept.
- Summaries (``storage.summaries``): per person, what status and the clinician list read,
  kept by the journal service with every change.
- Care (``storage.care``): whether a clinician may see a patient, and the audit log of each look;
  ``storage.patient_list`` (a page of a clinician's patients), ``storage.suggestions`` (their
  suggested plan changes).
- Push tables (``storage.push``): VAPID key, browsers' push subscriptions, reminders sent.
- EHR edges (``storage.ehr``): CDS Hooks card outcomes, SMART launches.
- Tables (``storage.tables``): :class:`User`, :class:`Profile`, :class:`PlanVersion`,
  :class:`Entry`.
- The journal (``storage.journal.JournalRepository``): profile, plan versions and entries with
  their history, inside the transaction the journal service (``benzotaper.services.journal``)
  opens; ``storage.transfer`` (exact JSON export and import).
"""

from typing import TYPE_CHECKING, Any

from benzotaper.storage import access, ehr, measure_tables, push, renders, summaries, tables
from benzotaper.storage.base import Base, utcnow
from benzotaper.storage.engine import Database, make_engine
from benzotaper.storage.tables import Entry, PlanVersion, Profile, User

if TYPE_CHECKING:
    from benzotaper.storage.migrate import current_revision, head_revision, upgrade


def __getattr__(name: str) -> Any:
    """The migration helpers, imported on first use: Alembic is only needed to migrate."""
    if name in ("current_revision", "head_revision", "upgrade"):
        from benzotaper.storage import migrate

        return getattr(migrate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Base",
    "Database",
    "Entry",
    "PlanVersion",
    "Profile",
    "User",
    "access",
    "current_revision",
    "ehr",
    "head_revision",
    "make_engine",
    "measure_tables",
    "push",
    "renders",
    "summaries",
    "tables",
    "upgrade",
    "utcnow",
]
