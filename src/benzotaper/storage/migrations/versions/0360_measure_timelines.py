"""measure_timelines: each patient's dose timeline for the clinic measures (derived data)

Revision ID: 0360_measure_timelines
Revises: 0320_idempotency_keys
Create Date: 2026-11-30 10:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import benzotaper.storage.base

revision: str = "0360_measure_timelines"
down_revision: str | None = "0320_idempotency_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "measure_timelines",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("through_version_id", sa.Integer(), nullable=False),
        sa.Column("versions", sa.Integer(), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("catalogue_version", sa.String(length=64), nullable=False),
        sa.Column("zero_day", sa.Date(), nullable=True),
        sa.Column("runs", sa.LargeBinary(), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("computed_at", benzotaper.storage.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_measure_timelines_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_measure_timelines")),
    )


def downgrade() -> None:
    op.drop_table("measure_timelines")
