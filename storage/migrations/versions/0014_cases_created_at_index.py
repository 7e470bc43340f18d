"""cases: an index on created_at, so a report reads its period's cases without scanning them all

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 09:05:00
"""
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_cases_created_at', 'cases', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cases_created_at', table_name='cases')
