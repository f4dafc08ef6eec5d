"""outbox lease and buttons on messages, outcome on conversations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('buttons', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_messages_claimed_until'), ['claimed_until'], unique=False)
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=16), nullable=True))
    # Sends queued before leases existed and never sent: due to the sweeper at once.
    op.execute(
        "UPDATE messages SET claimed_until = created_at "
        "WHERE direction = 'out' AND status = 'queued' AND provider_id IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('outcome')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_claimed_until'))
        batch_op.drop_column('buttons')
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
