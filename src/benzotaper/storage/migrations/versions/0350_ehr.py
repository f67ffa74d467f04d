"""EHR edges: cds_feedback (CDS Hooks card outcomes) and smart_launches (SMART App Launch)

Revision ID: 0350_ehr
Revises: 0200
Create Date: 2026-11-30 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from benzotaper.storage.base import JSONDocument, UTCDateTime

revision: str = "0350_ehr"
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
    op.create_table(
        "smart_launches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=100), nullable=False),
        sa.Column("code_verifier", sa.String(length=200), nullable=False),
        sa.Column("iss", sa.String(length=2000), nullable=False),
        sa.Column("token_endpoint", sa.String(length=2000), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_smart_launches"),
        sa.UniqueConstraint("key_hash", name="uq_smart_launches_key_hash"),
    )


def downgrade() -> None:
    op.drop_table("smart_launches")
    op.drop_index("ix_cds_feedback_service_received", table_name="cds_feedback")
    op.drop_table("cds_feedback")
