"""entries_user_date: an index on (user_id, entry_date) for a person's entries of every kind by date

Revision ID: 0420_entries_user_date
Revises: 0410_summaries_backfilled
Create Date: 2026-12-01 02:45:00.000000

The Journal page and the clinician's patient view read a person's last two weeks of every
kind; ``ix_entries_user_kind_date`` serves only reads of one kind, so those read every entry
the person ever made (by ``ix_entries_user_id``) and sorted the days asked for: their cost grew
with the journal. Building the index reads the table once (on PostgreSQL, writes to it wait
meanwhile).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0420_entries_user_date"
down_revision: str | None = "0410_summaries_backfilled"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_entries_user_date", "entries", ["user_id", "entry_date"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_entries_user_date", table_name="entries")
