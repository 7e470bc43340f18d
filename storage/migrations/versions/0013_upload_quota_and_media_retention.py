"""uploads for the hourly quota, photos by hash and cases' media purge time (retention)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import storage.models

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'uploads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('at', storage.models.UTCDateTime(), nullable=False),
        sa.Column('bytes', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_uploads_user_at', 'uploads', ['user_id', 'at'], unique=False)
    op.create_index('ix_photos_sha256', 'photos', ['sha256'], unique=False)
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('media_purged_at', storage.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('media_purged_at')
    op.drop_index('ix_photos_sha256', table_name='photos')
    op.drop_index('ix_uploads_user_at', table_name='uploads')
    op.drop_table('uploads')
