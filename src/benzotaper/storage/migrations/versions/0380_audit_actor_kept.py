"""audit rows outlive a deleted clinician: actor_id ON DELETE SET NULL, actor_name kept

Before this, deleting a clinician's account silently deleted the audit rows of every look they
took at their patients' journals (ON DELETE CASCADE). Now the row stays with the patient: the
link to the account is set to NULL and ``actor_name`` keeps the name the patient saw.

Revision ID: 0380_audit_actor_kept
Revises: 0360_measure_timelines
Create Date: 2026-11-30 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0380_audit_actor_kept"
down_revision: str | None = "0360_measure_timelines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_audit_log_actor_id_users"


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_name", sa.String(length=320), nullable=True))
        batch_op.alter_column("actor_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint(FK, type_="foreignkey")
        batch_op.create_foreign_key(FK, "users", ["actor_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    op.execute("DELETE FROM audit_log WHERE actor_id IS NULL")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_="foreignkey")
        batch_op.create_foreign_key(FK, "users", ["actor_id"], ["id"], ondelete="CASCADE")
        batch_op.alter_column("actor_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("actor_name")
