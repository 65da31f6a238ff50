"""Batches of recordings uploaded together.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_batches_user_id"), "batches", ["user_id"], unique=False)
    op.add_column("recordings", sa.Column("batch_id", sa.Uuid(), nullable=True))
    op.create_index(op.f("ix_recordings_batch_id"), "recordings", ["batch_id"], unique=False)
    op.create_foreign_key(
        "recordings_batch_id_fkey", "recordings", "batches", ["batch_id"], ["id"], ondelete="SET NULL"
    )


def downgrade() -> None:
    op.drop_constraint("recordings_batch_id_fkey", "recordings", type_="foreignkey")
    op.drop_index(op.f("ix_recordings_batch_id"), table_name="recordings")
    op.drop_column("recordings", "batch_id")
    op.drop_index(op.f("ix_batches_user_id"), table_name="batches")
    op.drop_table("batches")
