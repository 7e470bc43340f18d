"""cases: the intake channel (Open311 API) and the channel's own ticket number; outbox: an index
for the callback worker's rows

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 08:50:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('cases', sa.Column('channel', sa.String(length=32), nullable=True))
    op.add_column('cases', sa.Column('external_id', sa.String(length=64), nullable=True))
    op.create_index('ux_cases_channel_external', 'cases', ['channel', 'external_id'], unique=True)
    op.create_index('ix_outbox_chat_pending', 'outbox', ['chat_id', 'status', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_outbox_chat_pending', table_name='outbox')
    op.drop_index('ux_cases_channel_external', table_name='cases')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('external_id')
        batch.drop_column('channel')
