"""deadlines: a call's deadline names its call in a column (call_id) instead of in its kind ('answer:17')

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 04:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deadlines') as batch:
        batch.add_column(sa.Column('call_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_deadlines_call_id_calls', 'calls', ['call_id'], ['id'])
        batch.create_index('ix_deadlines_call_id', ['call_id'], unique=False)
    # 'answer:17' → ('answer', 17); 'checkin:17' → ('checkin', 17): substr and CAST read the same in both
    for kind, prefix in (('answer', 'answer:'), ('checkin', 'checkin:')):
        op.execute(sa.text(
            f"UPDATE deadlines SET call_id = CAST(substr(kind, {len(prefix) + 1}) AS INTEGER), kind = '{kind}' "
            f"WHERE kind LIKE '{prefix}%'"))


def downgrade() -> None:
    op.execute(sa.text("UPDATE deadlines SET kind = kind || ':' || CAST(call_id AS VARCHAR) "
                       "WHERE call_id IS NOT NULL"))
    with op.batch_alter_table('deadlines') as batch:
        batch.drop_index('ix_deadlines_call_id')
        batch.drop_constraint('fk_deadlines_call_id_calls', type_='foreignkey')
        batch.drop_column('call_id')
