"""Each segment's language (a file may change language); earlier segments take their transcript's.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("segments", sa.Column("language", sa.String(length=16), nullable=True))
    op.execute("UPDATE segments SET language = t.language FROM transcripts t WHERE t.id = segments.transcript_id")
    op.alter_column("segments", "language", nullable=False)


def downgrade() -> None:
    op.drop_column("segments", "language")
