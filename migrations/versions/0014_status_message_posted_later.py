"""A bot's status message is remembered before it is posted, so its message id is empty until then.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("telegram_status_messages", "message_id", existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM telegram_status_messages WHERE message_id IS NULL")
    op.alter_column("telegram_status_messages", "message_id", existing_type=sa.BigInteger(), nullable=False)
