"""plan_renders: charts (and other renderings) of a plan version, drawn once and kept

Revision ID: 0390_plan_renders
Revises: 0380_audit_actor_kept
Create Date: 2026-11-28 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from benzotaper.storage.base import UTCDateTime

revision: str = "0390_plan_renders"
down_revision: str | None = "0380_audit_actor_kept"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_renders",
        sa.Column("plan_version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_version_id"],
            ["plan_versions.id"],
            name=op.f("fk_plan_renders_plan_version_id_plan_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_version_id", "kind", name=op.f("pk_plan_renders")),
    )


def downgrade() -> None:
    op.drop_table("plan_renders")
