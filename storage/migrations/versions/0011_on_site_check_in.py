"""cases: the first verified on-site check-in (who, when, how far)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('on_site_at', storage.models.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('on_site_by', sa.String(length=160), nullable=True))
        batch.add_column(sa.Column('on_site_m', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('on_site_m')
        batch.drop_column('on_site_by')
        batch.drop_column('on_site_at')
