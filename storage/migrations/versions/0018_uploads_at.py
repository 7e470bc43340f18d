"""uploads: an index on at, so dropping the rows older than two hours (on every upload) reads only them

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 12:20:00
"""
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_uploads_at', 'uploads', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_uploads_at', table_name='uploads')
