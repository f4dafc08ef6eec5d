"""crm push: the durable outbox of events owed to CRM endpoints

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'crm_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('endpoint', sa.String(length=64), nullable=False),
        sa.Column('event', sa.String(length=32), nullable=False),
        sa.Column('lead_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=8), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claimed_by', sa.String(length=64), nullable=True),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.Column('external_ref', sa.String(length=64), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('crm_deliveries', schema=None) as batch_op:
        batch_op.create_index(
            'ix_crm_deliveries_endpoint_lead', ['endpoint', 'lead_id', 'id'], unique=False
        )
        batch_op.create_index(
            'ix_crm_deliveries_status_due', ['status', 'next_attempt_at'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('crm_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_deliveries_status_due')
        batch_op.drop_index('ix_crm_deliveries_endpoint_lead')
    op.drop_table('crm_deliveries')
