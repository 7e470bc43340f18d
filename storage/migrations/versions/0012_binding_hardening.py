"""binding hardening: wrong-code throttle, rebinds confirmed by the command centre, unbinding, revoked workers

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:10:00
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bind_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('at', storage.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_bind_failures_at'), 'bind_failures', ['at'], unique=False)
    op.create_table('bind_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('old_chat', sa.BigInteger(), nullable=True),
    sa.Column('requested_by', sa.BigInteger(), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decided_by', sa.BigInteger(), nullable=True),
    sa.Column('decided_at', storage.models.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('grid_workers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', storage.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('revoked_by', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('bindings', schema=None) as batch_op:
        batch_op.alter_column('chat_id', existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM bindings WHERE chat_id IS NULL")
    with op.batch_alter_table('bindings', schema=None) as batch_op:
        batch_op.alter_column('chat_id', existing_type=sa.BigInteger(), nullable=False)
    with op.batch_alter_table('grid_workers', schema=None) as batch_op:
        batch_op.drop_column('revoked_by')
        batch_op.drop_column('revoked_at')
    op.drop_table('bind_requests')
    op.drop_index(op.f('ix_bind_failures_at'), table_name='bind_failures')
    op.drop_table('bind_failures')
