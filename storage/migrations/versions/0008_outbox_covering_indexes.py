"""outbox: a covering index for the delivery pass, an index for the next retry

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 08:40:00
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_outbox_pending', table_name='outbox')
    op.create_index('ix_outbox_queue', 'outbox', ['status', 'id', 'chat_id', 'not_before'], unique=False)
    op.create_index('ix_outbox_retry', 'outbox', ['status', 'not_before'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_outbox_retry', table_name='outbox')
    op.drop_index('ix_outbox_queue', table_name='outbox')
    op.create_index('ix_outbox_pending', 'outbox', ['status', 'id'], unique=False)
