"""messages: when a sweeper took a send over; an index on bot_status for the stall sweep

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('send_started_at', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index('ix_messages_bot_status', ['bot_status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_bot_status')
        batch_op.drop_column('send_started_at')
