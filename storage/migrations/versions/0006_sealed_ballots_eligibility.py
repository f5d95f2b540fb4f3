"""budget: sealed ballots, who may vote, the round's key; since when a home is home

Rounds that exist already keep working as before: their codes stay hashed with the salt
("legacy"), members and codes may both vote, and every home counts from its creation.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 01:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sealedballot',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('sealed', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['budgetround.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table('sealedballot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sealedballot_round_id'), ['round_id'], unique=False)
    with op.batch_alter_table('budgetround', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('voters', sa.String(length=10), nullable=False, server_default='both')
        )
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))
    op.execute("UPDATE budgetround SET key_id = 'legacy'")
    with op.batch_alter_table('budgetround', schema=None) as batch_op:
        batch_op.alter_column('voters', server_default=None)
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('home_since', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE membership SET home_since = created_at WHERE is_home")


def downgrade() -> None:
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_column('home_since')
    with op.batch_alter_table('budgetround', schema=None) as batch_op:
        batch_op.drop_column('key_id')
        batch_op.drop_column('voters')
    with op.batch_alter_table('sealedballot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sealedballot_round_id'))
    op.drop_table('sealedballot')
