"""replicas: handled updates, outbox claims, bot-wide send counters, service state

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('handled_updates',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', storage.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('update_id')
    )
    op.create_index('ix_handled_updates_at', 'handled_updates', ['at'], unique=False)
    op.create_table('sent_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('at', storage.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_sent_messages_at', 'sent_messages', ['at'], unique=False)
    op.create_index('ix_sent_messages_chat_at', 'sent_messages', ['chat_id', 'at'], unique=False)
    op.create_table('service_state',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('at', storage.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_until', storage.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('claimed_until')
    op.drop_table('service_state')
    op.drop_index('ix_sent_messages_chat_at', table_name='sent_messages')
    op.drop_index('ix_sent_messages_at', table_name='sent_messages')
    op.drop_table('sent_messages')
    op.drop_index('ix_handled_updates_at', table_name='handled_updates')
    op.drop_table('handled_updates')
