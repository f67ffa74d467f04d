"""journal_summaries: per person, what status and the clinician list read, kept with each change

Revision ID: 0400_journal_summaries
Revises: 0390_plan_renders
Create Date: 2026-11-30 16:00:00.000000

Existing people's summaries are not made here, inside the schema's one transaction, but after
it, in batches (``storage.migrate.backfill_summaries``, with the service's own code:
``services.summary.backfill``), so they are exactly what the next change would store.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from benzotaper.storage.base import JSONDocument, UTCDateTime

revision: str = "0400_journal_summaries"
down_revision: str | None = "0390_plan_renders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "journal_summaries",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("slots", JSONDocument, nullable=False),
        sa.Column("alert_level", sa.Integer(), nullable=False),
        sa.Column("alerts", JSONDocument, nullable=False),
        sa.Column("facts", JSONDocument, nullable=False),
        sa.Column("computed_on", sa.Date(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_journal_summaries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_journal_summaries")),
    )
    op.create_index(op.f("ix_journal_summaries_alert_level"), "journal_summaries", ["alert_level"])


def downgrade() -> None:
    op.drop_index(op.f("ix_journal_summaries_alert_level"), table_name="journal_summaries")
    op.drop_table("journal_summaries")
