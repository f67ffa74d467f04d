"""cds_feedback: the outcome of each CDS Hooks card (accepted or overridden) an EHR reports

Revision ID: 0350_cds_feedback
Revises: 0200
Create Date: 2026-11-30 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from benzotaper.storage.base import JSONDocument, UTCDateTime

revision: str = "0350_cds_feedback"
down_revision: str | None = "0200"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cds_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.String(length=100), nullable=False),
        sa.Column("card_uuid", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("accepted_suggestions", JSONDocument, nullable=False),
        sa.Column("override_code", sa.String(length=100), nullable=True),
        sa.Column("override_comment", sa.Text(), nullable=False),
        sa.Column("outcome_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("outcome IN ('accepted', 'overridden')", name="ck_cds_feedback_outcome"),
        sa.PrimaryKeyConstraint("id", name="pk_cds_feedback"),
    )
    op.create_index(
        "ix_cds_feedback_service_received", "cds_feedback", ["service_id", "received_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_cds_feedback_service_received", table_name="cds_feedback")
    op.drop_table("cds_feedback")
