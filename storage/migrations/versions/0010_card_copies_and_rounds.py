"""cards: copies of one card (one row per message) and the round each was posted in

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-03 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None


def _cards(unique: sa.UniqueConstraint, with_round: bool) -> sa.Table:
    """The table as it stands, for SQLite's copy-and-move (its unique constraint had no name)."""
    columns = [sa.Column('id', sa.Integer(), primary_key=True),
               sa.Column('case_id', sa.Integer(), sa.ForeignKey('cases.id'), nullable=False),
               sa.Column('kind', sa.String(length=16), nullable=False),
               sa.Column('chat_id', sa.BigInteger(), nullable=False),
               sa.Column('message_id', sa.BigInteger(), nullable=False),
               sa.Column('caption', sa.Boolean(), nullable=False)]
    if with_round:
        columns.append(sa.Column('round', sa.Integer(), server_default='0', nullable=False))
    return sa.Table('cards', sa.MetaData(), *columns, unique, sa.Index('ix_cards_case_id', 'case_id'))


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    old_name = 'uq_cards_case_kind_chat'  # SQLite: the name given to copy_from's table below
    if postgres:  # the server's own name (0001 gave none) or, after a downgrade, the one it made
        old_name = next(c['name'] for c in sa.inspect(op.get_bind()).get_unique_constraints('cards')
                        if c['column_names'] == ['case_id', 'kind', 'chat_id'])
    old = _cards(sa.UniqueConstraint('case_id', 'kind', 'chat_id', name=old_name), with_round=False)
    with op.batch_alter_table('cards', copy_from=old) as batch_op:
        batch_op.drop_constraint(old_name, type_='unique')
        batch_op.add_column(sa.Column('round', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_unique_constraint('uq_cards_chat_message', ['chat_id', 'message_id'])
    # Until now a card posted again (a reopened case) replaced the old row: each row is its case's current round.
    op.execute("UPDATE cards SET round = (SELECT reopen_count FROM cases WHERE cases.id = cards.case_id)")


def downgrade() -> None:
    new = _cards(sa.UniqueConstraint('chat_id', 'message_id', name='uq_cards_chat_message'), with_round=True)
    # keep the newest copy of each card: the old constraint allows one per case, kind and chat
    op.execute("DELETE FROM cards WHERE id NOT IN (SELECT MAX(id) FROM cards GROUP BY case_id, kind, chat_id)")
    with op.batch_alter_table('cards', copy_from=new) as batch_op:
        batch_op.drop_constraint('uq_cards_chat_message', type_='unique')
        batch_op.drop_column('round')
        batch_op.create_unique_constraint('uq_cards_case_kind_chat', ['case_id', 'kind', 'chat_id'])
