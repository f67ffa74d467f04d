"""summaries_backfilled: marks that every existing person has a journal summary (no schema change)

Revision ID: 0410_summaries_backfilled
Revises: 0400_journal_summaries
Create Date: 2026-11-30 19:20:00.000000

``storage.migrate.upgrade`` stops at 0400, commits, makes the summaries of existing people in
batches (a transaction each), and only then applies this revision. A database is therefore at
head only once the backfill is complete: a start that finds it at 0400 (an upgrade interrupted
mid-backfill, or another process still backfilling) runs the upgrade and resumes or joins it.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0410_summaries_backfilled"
down_revision: str | None = "0400_journal_summaries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing: the backfill before it is the work (see the module's docstring)."""


def downgrade() -> None:
    """Nothing to undo."""
